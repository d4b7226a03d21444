/* cqboot/cq_boot.h — cross-quantilogram analysis with stationary-bootstrap
 * inference over a grid of quantile levels and lags
 * (cross-quantilogram.md §4).
 *
 * Per (alpha_y, alpha_x, lag) cell: rho_hat (and the partial CQ with
 * controls), the null band of R's crossq.sb / crossq.partial.sb (type-7
 * percentiles of rho* - rho_hat, where rho* re-estimates every quantile on a
 * resample of the N lag-aligned rows), the CI rho_hat + band (HLOW §3.1.1)
 * and the two-sided bootstrap p-value #{|rho* - rho_hat| >= |rho_hat|} / B.
 * Per (alpha_y, alpha_x, p): the Box-Pierce and Ljung-Box statistics over
 * lags 1..p and their critical values and p-values from one resample of the
 * (T-P) x (P+1) lag-stacked matrix shared by all lags (R's Qstat.sb).
 * With controls, bands, p-values and Q tests are those of the partial CQ.
 *
 * Replicate b of every resample is a pure function of (seed, b, stream), so
 * results do not depend on threads, backend or chunking.
 */
#ifndef CQBOOT_CQ_BOOT_H
#define CQBOOT_CQ_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/backend.h"
#include "cqboot/cq.h"
#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqb_boot_opts {
    uint64_t seed;
    size_t B;          /* replicates, >= 1 */
    double gamma;      /* block restart probability in (0,1]; <= 0: automatic */
    int gamma_floor1;  /* automatic gamma: floor b.star at 1 (deviation from R) */
    double level;      /* confidence level of bands and tests, default 0.95 */
    int share_grid;    /* 1: one resample per lag shared by the whole quantile
                          grid (default); 0: an independent resample per cell */
    size_t mem_limit;  /* bytes of stored replicate values before the exact
                          two-pass selection is used (0 = 256 MiB) */
    size_t chunk;      /* replicates per backend call (0 = automatic) */
    const cqb_backend *backend;
    void (*progress)(double fraction, void *user); /* may be NULL */
    void *progress_user;
    volatile int *cancel; /* set nonzero to stop; may be NULL */
    int gridwide;      /* grid-wide tests (needs share_grid and qtests): the
                          sup-Q test over the quantile grid, Romano-Wolf,
                          Holm and Benjamini-Hochberg adjusted p-values */
    /* The calibrated test of no directional predictability (cqboot/nullboot.h,
     * docs/calibrated.md): p_null from a null-imposing resample. Plain CQ
     * only (with controls the fields stay NaN). */
    int null_test;     /* 1: compute p_null (default 0 in the library; the CLI sets 1) */
    int null_scheme;   /* cqb_null_scheme: 0 = exact-count SB, 1 = rotation (default) */
    size_t rot_margin; /* rotation margin m (default 10) */
    int null_partial;  /* with controls: 1 = the partial CQ's calibrated test by
                          residual rotation (docs/calibrated.md §7); 0 = none */
} cqb_boot_opts;

/*! cqb_boot_opts_default() : seed 1, B 1000, automatic gamma, level 0.95,
 *  shared grid, NULL backend (the CPU). */
void cqb_boot_opts_default(cqb_boot_opts *o);

typedef struct cqb_cq_spec {
    cqb_cq_input in;
    const double *alpha_y; size_t ny; /* ascending, distinct, in (0,1) */
    const double *alpha_x; size_t nx;
    const size_t *lags; size_t nlags; /* ascending, distinct, >= 0 */
    int qtests;                       /* Q tests over p = 1..max(lags) */
} cqb_cq_spec;

typedef struct cqb_cq_cell {
    double alpha_y, alpha_x;
    size_t lag, n;          /* n = rows of the lag-aligned sample */
    double rho;             /* plain CQ */
    double rho_partial;     /* partial CQ (NaN without controls) */
    double band_lo, band_hi;/* null band of rho (partial with controls) */
    double ci_lo, ci_hi;    /* rho_hat + band */
    double p_value;         /* two-sided bootstrap p-value of rho = 0:
                               #{|rho* - rho_hat| >= |rho_hat|} / B (spec §4.3) */
    double p_value_et;      /* equal-tailed p-value, the test the band implies:
                               2 min(#{d <= rho_hat}, #{d >= rho_hat}) / B, d = rho* - rho_hat */
    size_t boot_valid;      /* finite replicates (singular PCQ ones excluded) */
    double gamma;           /* restart probability used */
    /* grid-wide (opts.gridwide; NaN otherwise). The family is every
     * (alpha_y, alpha_x, lag) cell with lag >= 1: */
    double p_rw;            /* Romano-Wolf step-down max-|t| adjusted p-value,
                               from the resample shared by all lags and cells */
    double p_holm, p_bh;    /* Holm and Benjamini-Hochberg adjustments of p_value */
    /* calibrated test (opts.null_test; NaN otherwise or with controls): */
    double p_null;          /* two-sided mid-p of rho = 0 from the null law of rho*:
                               (#{|rho*| > |rho_hat|} + (1 + #{|rho*| = |rho_hat|}) / 2) / (B0 + 1) */
    double p_null_cons;     /* conservative: (1 + #{|rho*| >= |rho_hat|}) / (B0 + 1) */
    size_t null_valid;      /* B0: null replicates (resamples or shifts) used */
    int sparse;             /* N min(a_y, 1-a_y) min(a_x, 1-a_x) < 5 */
    double p_null_holm, p_null_bh; /* Holm / BH of p_null (opts.gridwide) */
    double p_null_rw;       /* Romano-Wolf step-down on the null values (opts.gridwide) */
} cqb_cq_cell;

typedef struct cqb_cq_qtest {
    double alpha_y, alpha_x;
    size_t p;
    double q_bp, q_lb, cv_bp, cv_lb, p_bp, p_lb;
    size_t boot_valid;
    double gamma;
    /* calibrated (opts.null_test): critical values and mid-p values from the
     * null-imposing resample shared by all lags */
    double cv_null_bp, cv_null_lb, p_null_bp, p_null_lb;
    size_t null_valid;
} cqb_cq_qtest;

/* The sup-Q test over the quantile grid (HLOW §2): for each p, the largest
 * Q(p) over the (alpha_y, alpha_x) cells against the bootstrap distribution
 * of the largest Q*(p) over the same cells (one shared resample). */
typedef struct cqb_cq_supq {
    size_t p;
    double q_bp, q_lb;     /* max over cells */
    double cv_bp, cv_lb;   /* type-7 level-quantile of max over cells of Q* */
    double p_bp, p_lb;     /* #{max Q* >= max Q} / B_valid */
    size_t boot_valid;
    double p_null_bp, p_null_lb; /* mid-p of max Q against the null resample */
    size_t null_valid;
} cqb_cq_supq;

typedef struct cqb_cq_result {
    cqb_cq_cell *cells;   size_t ncells;   /* alpha_y outer, alpha_x, lag inner */
    cqb_cq_qtest *qtests; size_t nqtests;  /* alpha_y outer, alpha_x, p inner */
    cqb_cq_supq *supq;    size_t nsupq;    /* p = 1..P (opts.gridwide) */
    size_t rw_valid;      /* replicates used by Romano-Wolf (all members finite) */
    size_t singular;      /* replicates with a singular PCQ Gram matrix, all cells */
    double seconds_point, seconds_boot;
    size_t peak_selector_bytes;
    int two_pass;         /* 1 if any selection needed the two-pass mode */
} cqb_cq_result;

/*! cqb_cq_boot() : runs the whole analysis. Returns CQB_EUSAGE for invalid
 *  levels, lags, B, gamma or level; CQB_EDATA for a singular control setup in
 *  the sample; CQB_ENOMEM; CQB_EBACKEND; CQB_EUSAGE "interrupted" on cancel. */
cqb_status cqb_cq_boot(const cqb_cq_spec *spec, const cqb_boot_opts *opts, cqb_cq_result *res,
                       cqb_error *err);

/*! cqb_cq_null_check() : whether the calibrated test of cqb_cq_boot(spec,
 *  opts) can be set up (opts.null_test as if 1): builds and frees the plan
 *  cqb_cq_boot would build. CQB_OK, or the error cqb_cq_boot would return
 *  for it: CQB_EUSAGE when the rotation leaves no shift at some lag (N <=
 *  2 m rows after it) or a control stratum has fewer than 2 m + 1 rows,
 *  CQB_EDATA when the SB null has no block length. Lets a caller run
 *  without the test, where it cannot be had, instead of failing. */
cqb_status cqb_cq_null_check(const cqb_cq_spec *spec, const cqb_boot_opts *opts, cqb_error *err);
void cqb_cq_result_free(cqb_cq_result *res);

/*! cqb_auto_gamma() : R's *.opt rule on the columns of a lag-stacked matrix:
 *  min(1, mean(1 / b.star_SB)) (np defaults, round = FALSE). */
cqb_status cqb_auto_gamma(const double *const *cols, int ncol, size_t N, int floor1, double *gamma,
                          cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
