/* cqboot/plot_module.h — the figures as a loadable module.
 *
 * cairo brings about twenty shared libraries (fontconfig, freetype, pixman,
 * X11, ...) whose loading costs every process start more than a small
 * analysis takes. The `cqboot` executable therefore links the library
 * without the figures and, when it first draws, loads libcqboot_plot.so,
 * which exports one symbol, cqb_plot_module(): a table of the figure entry
 * points of cqboot/plot.h. The table starts with its ABI number and size, so
 * a module from another build is refused rather than misused.
 *
 * Programs that link libcqboot.a (the whole library) call cqboot/plot.h
 * directly and never need this header.
 */
#ifndef CQBOOT_PLOT_MODULE_H
#define CQBOOT_PLOT_MODULE_H

#include <stddef.h>

#include "cqboot/plot.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CQB_PLOT_MODULE_ABI 1
#define CQB_PLOT_MODULE_FILE "libcqboot_plot.so"
#define CQB_PLOT_MODULE_SYMBOL "cqb_plot_module"

typedef struct cqb_plot_module_table {
    int abi;     /* CQB_PLOT_MODULE_ABI */
    size_t size; /* sizeof(cqb_plot_module_table) */
    void (*fig_opts_default)(cqb_fig_opts *o);
    cqb_status (*heatmap)(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_heat *h,
                          cqb_error *err);
    cqb_status (*series_band)(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_band *b,
                              cqb_error *err);
    cqb_status (*lines)(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_lines *l,
                        cqb_error *err);
    cqb_status (*timemap)(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_timemap *m,
                          cqb_error *err);
    cqb_status (*intervals)(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_intervals *p,
                            cqb_error *err);
} cqb_plot_module_table;

/*! cqb_plot_module() : the table of this build's figure entry points (the
 *  one exported symbol of libcqboot_plot.so). */
const cqb_plot_module_table *cqb_plot_module(void);

#ifdef __cplusplus
}
#endif
#endif
