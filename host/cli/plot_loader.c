/* plot_loader.c — the figure functions of cqboot/plot.h for the executable,
 * forwarded to libcqboot_plot.so, loaded on first use (see
 * cqboot/plot_module.h for why the figures are a module).
 *
 * The module is looked for beside the executable (the build folder), then in
 * ../lib/cqboot/ and ../lib64/cqboot/ relative to it (an installed tree),
 * then by the dynamic loader's own search; CQB_PLOT_MODULE names a file
 * explicitly. A missing or mismatched module makes each figure fail with one
 * line saying so (CQB_EIO); nothing else of the program depends on it. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cqboot/output.h"
#include "cqboot/plot_module.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const cqb_plot_module_table *table;
static char why[512];

static void load(void)
{
    void *h = cli_module_open("CQB_PLOT_MODULE", CQB_PLOT_MODULE_FILE, why, sizeof why);
    if (!h) return;
    const cqb_plot_module_table *(*get)(void);
    *(void **)&get = dlsym(h, CQB_PLOT_MODULE_SYMBOL);
    const cqb_plot_module_table *t = get ? get() : NULL;
    if (!t || t->abi != CQB_PLOT_MODULE_ABI || t->size != sizeof *t) {
        snprintf(why, sizeof why, "%s is from another build of cqboot", CQB_PLOT_MODULE_FILE);
        return;
    }
    table = t;
}

static const cqb_plot_module_table *module(cqb_error *err)
{
    pthread_once(&once, load);
    if (!table && err)
        cqb_error_set(err, CQB_EIO, "figures need %s (cairo), which could not be loaded: %s",
                      CQB_PLOT_MODULE_FILE, why[0] ? why : "not found");
    return table;
}

/* The module carries its own copy of the library, whose registry of
 * protected inputs (cqboot/output.h) is empty: check the figure's two files
 * against the program's registry here, before the module writes them. */
static cqb_status guard(const char *path_noext, cqb_error *err)
{
    /* a study's figures take a while: stop between them when interrupted */
    if (cli_interrupted) return cqb_error_set(err, CQB_EUSAGE, "interrupted");
    if (!path_noext) return CQB_OK;
    static const char *const ext[] = {".png", ".svg"};
    for (int i = 0; i < 2; ++i) {
        char path[PATH_MAX + 8];
        snprintf(path, sizeof path, "%s%s", path_noext, ext[i]);
        const char *in = cqb_output_protected(path);
        if (in)
            return cqb_error_set(err, CQB_EUSAGE, "figure %s is the same file as the input %s (refusing to replace it)",
                                 path, in);
    }
    return CQB_OK;
}

void cqb_fig_opts_default(cqb_fig_opts *o)
{
    const cqb_plot_module_table *t = module(NULL);
    if (t) {
        t->fig_opts_default(o);
    } else {
        memset(o, 0, sizeof *o); /* the figure call then reports the module */
    }
}

cqb_status cqb_plot_heatmap(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_heat *h, cqb_error *err)
{
    if (guard(path_noext, err) != CQB_OK) return CQB_EUSAGE;
    const cqb_plot_module_table *t = module(err);
    return t ? t->heatmap(path_noext, o, h, err) : CQB_EIO;
}

cqb_status cqb_plot_series_band(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_band *b,
                                cqb_error *err)
{
    if (guard(path_noext, err) != CQB_OK) return CQB_EUSAGE;
    const cqb_plot_module_table *t = module(err);
    return t ? t->series_band(path_noext, o, b, err) : CQB_EIO;
}

cqb_status cqb_plot_lines(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_lines *l, cqb_error *err)
{
    if (guard(path_noext, err) != CQB_OK) return CQB_EUSAGE;
    const cqb_plot_module_table *t = module(err);
    return t ? t->lines(path_noext, o, l, err) : CQB_EIO;
}

cqb_status cqb_plot_timemap(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_timemap *m,
                            cqb_error *err)
{
    if (guard(path_noext, err) != CQB_OK) return CQB_EUSAGE;
    const cqb_plot_module_table *t = module(err);
    return t ? t->timemap(path_noext, o, m, err) : CQB_EIO;
}

cqb_status cqb_plot_intervals(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_intervals *p,
                              cqb_error *err)
{
    if (guard(path_noext, err) != CQB_OK) return CQB_EUSAGE;
    const cqb_plot_module_table *t = module(err);
    return t ? t->intervals(path_noext, o, p, err) : CQB_EIO;
}
