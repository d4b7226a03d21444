/* cqboot/plot_cq.h — figures of cross-quantilogram results (cqboot/cq_boot.h)
 * on top of the generic figures of cqboot/plot.h, like R quantilogram's
 * crossq.heatmap and crossq.plot and a plot of the portmanteau tests.
 *
 * Texts: o may be NULL (900 x 700); every NULL text of o is filled with a
 * default that names the statistic, levels and units ("" leaves it out).
 *
 * Marks follow the band the result holds: the bands (and Q tests) of a
 * result with controls are those of the partial CQ, so with controls the
 * plain CQ is drawn without marks and the partial CQ with them; without
 * controls there is no partial CQ (partial = 1 is CQB_EUSAGE).
 * A cell is marked when its statistic lies outside [band_lo, band_hi]
 * (the test of rho = 0 the band implies); a Q test when Q > its critical value.
 */
#ifndef CQBOOT_PLOT_CQ_H
#define CQBOOT_PLOT_CQ_H

#include <stddef.h>

#include "cqboot/cq_boot.h"
#include "cqboot/error.h"
#include "cqboot/plot.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! cqb_plot_cq_heatmap() : heat map of rho (partial = 0) or the partial CQ
 *  over alpha_y (rows, ascending upwards) x alpha_x (columns) at one lag,
 *  diverging colours centred at zero, cells outside the null band marked;
 *  writes path_noext.png/.svg. CQB_EUSAGE when lag is not in r. */
cqb_status cqb_plot_cq_heatmap(const char *path_noext, const cqb_fig_opts *o,
                               const cqb_cq_result *r, size_t lag, int partial, cqb_error *err);

/*! cqb_plot_cq_lags() : rho (or the partial CQ) of one (alpha_y, alpha_x)
 *  against the lag as bars over the null band as a shaded ribbon, with the
 *  CI as whiskers when ci; writes path_noext.png/.svg. */
cqb_status cqb_plot_cq_lags(const char *path_noext, const cqb_fig_opts *o, const cqb_cq_result *r,
                            double alpha_y, double alpha_x, int partial, int ci, cqb_error *err);

/*! cqb_plot_qtests() : Box-Pierce (ljung_box = 0) or Ljung-Box statistics of
 *  one (alpha_y, alpha_x) against p with their bootstrap critical values,
 *  rejections ringed; writes path_noext.png/.svg. CQB_EUSAGE without Q tests. */
cqb_status cqb_plot_qtests(const char *path_noext, const cqb_fig_opts *o, const cqb_cq_result *r,
                           double alpha_y, double alpha_x, int ljung_box, cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
