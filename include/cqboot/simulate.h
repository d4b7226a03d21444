/* cqboot/simulate.h — Monte Carlo size and power of the cross-quantilogram
 * bootstrap tests (docs/simulation.md).
 *
 * Replication r (r = rep0 .. rep0 + reps - 1) draws (y, x) from a DGP
 * (cqboot/dgp.h) with the data streams of (seed, r), then runs the whole
 * bootstrap analysis cqb_cq_boot() on them with the bootstrap seed
 * cqb_sim_boot_seed(seed, r), on the CPU with one thread per replication.
 * Replications run in parallel (OpenMP); each one is a pure function of
 * (seed, r) and the settings, and the counts are integers, so results are
 * identical for any thread count; the mean and SD of rho_hat are summed in
 * replication order.
 *
 * Rejection rules, at sig = 1 - level:
 *   band  rho_hat outside the null band [band_lo, band_hi]  (R's rule)
 *   pval  the two-sided bootstrap p-value < sig (strict; the comparison
 *         absorbs the rounding of 1 - level, so p = 50/1000 does not reject
 *         at level 0.95)
 *   q_lb, q_bp  Q(p) > its bootstrap critical value, per p = 1..max lag
 *   null  the calibrated test: p_null < sig (null-imposing resample,
 *         mid-p; opts.null_test), null_cons: p_null_conservative < sig,
 *         q_lb_null: the Ljung-Box p_null < sig
 * Rates are rejections / valid replications (those where the statistic and
 * its critical values were finite), with Monte Carlo standard error
 * sqrt(rate (1 - rate) / valid).
 */
#ifndef CQBOOT_SIMULATE_H
#define CQBOOT_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/dgp.h"
#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqb_sim_spec {
    cqb_dgp dgp;
    size_t T;                         /* retained observations per series */
    const double *alpha_y; size_t ny; /* ascending, distinct, in (0,1) */
    const double *alpha_x; size_t nx;
    const size_t *lags; size_t nlags; /* ascending, distinct */
    int qtests;                       /* Q tests over p = 1..max(lags) */
} cqb_sim_spec;

typedef struct cqb_sim_opts {
    uint64_t seed;
    uint64_t reps;      /* R >= 1 */
    uint64_t rep0;      /* first replication id; rep0 + reps <= 2^32 */
    size_t B;           /* bootstrap replicates per replication */
    double gamma;       /* restart probability in (0,1]; <= 0: automatic per
                           replication (np::b.star rule, as cqb_cq_boot) */
    int gamma_floor1;
    double level;       /* default 0.95 */
    int threads;        /* 0: OpenMP default */
    void (*progress)(double fraction, void *user); /* called from one thread */
    void *progress_user;
    volatile int *cancel;
    int null_test;      /* count the calibrated test (default 1) */
    int null_scheme;    /* cqb_null_scheme (default CQB_NULL_SB) */
    size_t rot_margin;  /* rotation margin (default 10) */
    /* Scale-out (docs/scale-out.md): a replication's outcome is a record of
     * cqb_sim_record_len() doubles (its flags, rho_hat and gamma per cell,
     * its flags per Q test). record, when set, receives every replication's
     * record in replication order, from one thread, after it ran; replay,
     * when set, supplies every replication's record instead of running it
     * (one thread). The totals fold the records the same way in both cases,
     * so a study whose replications ran in several processes and are
     * replayed in order gives the single process's numbers, bit for bit.
     * A callback that fails stops the study with its error. NULL: off. */
    cqb_status (*record)(uint64_t rep, const double *rec, size_t len, void *user, cqb_error *err);
    cqb_status (*replay)(uint64_t rep, double *rec, size_t len, void *user, cqb_error *err);
    void *scale_user;
} cqb_sim_opts;

/*! cqb_sim_opts_default() : seed 1, 1000 replications from 0, B 1000,
 *  automatic gamma, level 0.95, OpenMP's thread count. */
void cqb_sim_opts_default(cqb_sim_opts *o);

typedef struct cqb_sim_cell {
    double alpha_y, alpha_x;
    size_t lag;
    uint64_t valid;
    uint64_t rej_band, rej_pval;
    double rate_band, se_band, rate_pval, se_pval;
    double rho_mean, rho_sd; /* over valid replications */
    double gamma_mean;       /* restart probability used, mean */
    uint64_t rej_null, rej_null_cons; /* calibrated test (opts.null_test) */
    double rate_null, se_null, rate_null_cons, se_null_cons;
    int sparse;              /* T min(a_y,1-a_y) min(a_x,1-a_x) < 5 (N = T - lag) */
} cqb_sim_cell;

typedef struct cqb_sim_qtest {
    double alpha_y, alpha_x;
    size_t p;
    uint64_t valid;
    uint64_t rej_lb, rej_bp;
    double rate_lb, se_lb, rate_bp, se_bp;
    uint64_t rej_null_lb;    /* Ljung-Box p_null < sig */
    double rate_null_lb, se_null_lb;
} cqb_sim_qtest;

typedef struct cqb_sim_result {
    cqb_sim_cell *cells;   size_t ncells;   /* alpha_y outer, alpha_x, lag inner */
    cqb_sim_qtest *qtests; size_t nqtests;  /* alpha_y outer, alpha_x, p inner */
    uint64_t reps, rep0;
    int threads;          /* threads used */
    double seconds;       /* wall time */
} cqb_sim_result;

/*! cqb_simulate() : runs the study. CQB_EUSAGE for invalid settings (the
 *  message names the CLI option), CQB_ENOMEM, CQB_EUSAGE "interrupted" on
 *  cancel, or a replication's own error prefixed with its id. */
cqb_status cqb_simulate(const cqb_sim_spec *spec, const cqb_sim_opts *opts, cqb_sim_result *res,
                        cqb_error *err);
void cqb_sim_result_free(cqb_sim_result *res);

/*! cqb_sim_record_len() : doubles per replication record (cqb_sim_opts
 *  record/replay) of a study: 3 per cell and 1 per Q test. */
size_t cqb_sim_record_len(const cqb_sim_spec *spec);

/*! cqb_sim_rate() : rate and standard error of k rejections in n. */
void cqb_sim_rate(uint64_t k, uint64_t n, double *rate, double *se);

#ifdef __cplusplus
}
#endif
#endif
