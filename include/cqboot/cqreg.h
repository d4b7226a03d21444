/* cqboot/cqreg.h — the conditional-quantile cross-quantilogram (R
 * quantilogram's qreg.hit / crossqreg / crossqreg.max, HLOW §3) and its
 * stationary-bootstrap inference with both regressions re-estimated on every
 * resample (cross-quantilogram.md §3.2, §4.2-§4.3; HLOW §3.1.1).
 *
 * Model. Equation 1 (the predicted series): y1_t on (1, X1_t) at level a1;
 * equation 2 (the predictor): y2_t on (1, X2_t) at level a2; both over the
 * same T rows, already aligned by the caller (R's DATA1 = [y1, X1], DATA2 =
 * [y2, X2]; regressors are typically lags, e.g. X1_t = y1_{t-1}). Each
 * equation is fitted by quantile regression with an intercept (qreg.h,
 * rq(y ~ X, tau) method "br"), residual u_t = y_t - fitted_t, hit
 * h_t = 1[u_t "<=" 0] - a (tie rule below).
 *
 * Point statistic (R crossqreg, crossqreg.max): both fits on all T rows,
 * then for lag k >= 0 the CQ of R's corr.lag over rows t = k+1..T (1-based):
 *     rho(k) = S12 / sqrt(S11 S22), S12 = sum h1_t h2_{t-k}, ...
 * from integer counts (cqb_cq_from_counts in cq.h, N = T - k). Lags are
 * given explicitly: R's crossqreg.max(..., K) returns lags 1..K+1 (its bug
 * B3); pass lags 1..K+1 to reproduce it.
 *
 * Tie rule. In exact arithmetic a "br" fit has (at least) p = m+1 zero
 * residuals (the vertex rows); in floating point they come out as 0 or
 * +-1e-17 relative, so R's `u <= 0` counts them by chance. Rules:
 *   CQB_CQREG_TIE_EPS (DEFAULT): a residual is "on the quantile", hence a
 *     hit, when its row is a vertex row of the fit or |u| <= eps * scale,
 *     scale = max(1, max_t (|y_t| + sum_{c=0..m} |b_c x_tc|)) over the fitted
 *     rows (x_t0 = 1; qreg info.scale: the size of the terms each residual
 *     is computed from), eps = tie_eps (default 1e-10; rounding errors are
 *     ~1e-16 * scale, genuine residuals of real data are far larger). Hit
 *     iff u <= eps * scale or vertex row: exact arithmetic's u <= 0, unless
 *     a genuine residual lies within eps * scale of zero.
 *   CQB_CQREG_TIE_EXACT: R's literal rule, hit iff the floating-point
 *     residual u <= 0 (fragile: depends on the last bits of beta).
 * On R's documented example (cross-quantilogram.md §6.2 O5) the EPS rule
 * reproduces R (hit counts 551 and 1102, all five values at 1e-16): both
 * fits are unique, with exactly 2 zero residuals each (n_neg = 549 and
 * 1100). Here the tau = 0.1 vertex residuals come out as 0 and 0, the
 * tau = 0.2 ones as 0 and +3.6e-15 (y is a price level, scale 123), so
 * EXACT gives 551 and 1101 and misses R by 2e-4; R got 1102, i.e. its
 * second vertex residual rounded to <= 0 (the spec's "2 and 1 exact zeros":
 * the missing zero was a tiny negative, counted anyway).
 *
 * Bootstrap (replaces R's crossqreg.sb, which resamples equation 1 for both
 * equations, bug B1). For each lag k and replicate b: the N = T - k
 * lag-aligned rows, row t pairing equation-1 row k+t with equation-2 row t
 * (0-based t = 0..N-1), are resampled jointly with the stationary bootstrap
 * (cqb_sb_indices, restart probability gamma, circular over the N rows);
 * both regressions are re-fitted on the resample (equation 1 on its
 * resampled rows, equation 2 on its), their hits taken under the same tie
 * rule, and rho*_b is the CQ of the two hit columns over all N resampled
 * rows (no further lagging), as in R's *.sb functions. The re-fits start
 * from the full-sample coefficients (cqb_qreg_fit_start): same optimum,
 * fewer simplex steps. With
 * d_b = rho*_b - rho_hat(k):
 *     band = (Q7(d; (1-level)/2), Q7(d; (1+level)/2))   R's vecCV
 *     CI   = rho_hat + band                             HLOW §3.1.1
 *     p    = #{|d_b| >= |rho_hat|} / B_valid            (ENGINE ADDITION)
 *     p_et = min(1, 2 min(#{d_b <= rho_hat}, #{d_b >= rho_hat}) / B_valid)
 * as cq_boot.h does for the unconditional CQ. A replicate whose resample
 * makes a design rank-deficient (e.g. a regressor constant over the drawn
 * rows) gives NaN, is excluded and counted (boot_valid), as singular PCQ
 * replicates are in cq_boot.
 *
 * Streams and reproducibility: replicate b of lag k uses Philox subsequence
 * b + 2^32 * cqb_sb_tag(CQB_CQREG_FAMILY, k, cell) (family 4, see philox.h's
 * layout), so results are a pure function of (data, levels, seed, gamma, b,
 * k, cell): identical for any thread count. Replicates run in parallel
 * (OpenMP, one qreg workspace per thread). CPU only.
 */
#ifndef CQBOOT_CQREG_H
#define CQBOOT_CQREG_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"
#include "cqboot/qreg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Philox tag family of the conditional-quantile CQ bootstrap. Taken: 0 band,
 * 1 Q test, 2 wavelet (philox.h), 3 simulated data (dgp.h), 7
 * self-normalised simulation (selfnorm.h). */
#define CQB_CQREG_FAMILY 4u

#define CQB_CQREG_TIE_EPS_DEFAULT 1e-10

typedef enum cqb_cqreg_tie {
    CQB_CQREG_TIE_EPS = 0,  /* DEFAULT: vertex row or u <= eps * scale */
    CQB_CQREG_TIE_EXACT = 1 /* R's literal u <= 0 */
} cqb_cqreg_tie;

/*! cqb_cqreg_tie_parse() : "eps" or "exact"; 0 on success, -1 otherwise. */
int cqb_cqreg_tie_parse(const char *s, cqb_cqreg_tie *out);
/*! cqb_cqreg_tie_name() : the option spelling of a rule. */
const char *cqb_cqreg_tie_name(cqb_cqreg_tie t);

/* One equation: response and m >= 1 regressor columns (T values each; the
 * intercept is added). */
typedef struct cqb_cqreg_eq {
    const double *y;
    const double *const *x;
    size_t m;
} cqb_cqreg_eq;

typedef struct cqb_cqreg_input {
    cqb_cqreg_eq eq1;    /* predicted series (at t) */
    cqb_cqreg_eq eq2;    /* predictor series (at t - k) */
    size_t T;            /* rows of both equations */
    cqb_cqreg_tie tie;
    double tie_eps;      /* EPS rule; <= 0: CQB_CQREG_TIE_EPS_DEFAULT */
} cqb_cqreg_input;

/* Summary of one full-sample fit. */
typedef struct cqb_cqreg_fit {
    double beta[CQB_QREG_MAX_P]; /* intercept first */
    size_t p;                    /* m + 1 */
    size_t nhit;                 /* hits over the T rows */
    size_t nzero;                /* rows on the quantile: vertex rows plus
                                    |u| <= eps*scale (EPS) or u == 0 (EXACT) */
    int nonunique;               /* 1: the minimiser is not unique (qreg.h) */
    double objective;
    size_t iterations;
} cqb_cqreg_fit;

/* Statistics of one lag. */
typedef struct cqb_cqreg_cell {
    size_t lag, n;          /* n = T - lag rows */
    double rho;             /* rho_hat(lag) */
    size_t n1, n2, n12;     /* hits of eq. 1 (rows lag+1..T), eq. 2 (rows 1..T-lag), joint */
    /* bootstrap (NaN / 0 from cqb_cqreg_compute) */
    double band_lo, band_hi;
    double ci_lo, ci_hi;
    double p_value, p_value_et;
    size_t boot_valid;      /* replicates with both fits defined */
    size_t boot_nonunique;  /* replicates where a fit was not unique (informational) */
    double gamma;           /* restart probability used */
} cqb_cqreg_cell;

typedef struct cqb_cqreg_boot_opts {
    uint64_t seed;
    size_t B;            /* replicates, >= 1 */
    double gamma;        /* restart probability in (0,1]; <= 0: automatic per
                            lag, R's *.opt rule (cqb_auto_gamma) on the two
                            lag-aligned responses y1_t, y2_{t-k} */
    int gamma_floor1;    /* automatic gamma: floor b.star at 1 */
    double level;        /* of the band and CI, in (0,1) */
    uint32_t cell;       /* stream cell, 0..CQB_TAG_MAX_CELL: calls with the same
                            (seed, lag, cell) share resamples (use 0 across a
                            quantile grid, i+1 for independent cells) */
    int threads;         /* OpenMP threads, 0 = default */
    void (*progress)(double fraction, void *user); /* may be NULL; called
                            from the calling thread */
    void *progress_user;
    volatile int *cancel; /* set nonzero to stop (CQB_EUSAGE "interrupted") */
} cqb_cqreg_boot_opts;

/*! cqb_cqreg_boot_opts_default() : seed 1, B 1000, automatic gamma, level
 *  0.95, cell 0, default threads. */
void cqb_cqreg_boot_opts_default(cqb_cqreg_boot_opts *o);

/*! cqb_cqreg_hits() : R qreg.hit: fits both equations on all T rows at
 *  levels a1 (equation 1, alpha_y) and a2 (equation 2, alpha_x), as R's
 *  vecA = c(a1, a2), and writes the hit indicators (1 = hit) to hit1 and hit2
 *  (T bytes each; either may be NULL) and the fit summaries to f1, f2
 *  (either may be NULL).
 *  Errors: CQB_EUSAGE (levels outside (0,1), no regressor, more than
 *  CQB_QREG_MAX_P - 1 regressors, T below the coefficients), CQB_EDATA
 *  (non-finite value, rank-deficient design), CQB_ENOMEM. */
cqb_status cqb_cqreg_hits(const cqb_cqreg_input *in, double a1, double a2, unsigned char *hit1,
                          unsigned char *hit2, cqb_cqreg_fit *f1, cqb_cqreg_fit *f2, cqb_error *err);

/*! cqb_cqreg_compute() : R crossqreg for each of the nlags lags (any order,
 *  each 0 <= k <= T-2): cells[i] gets lag lags[i]'s point statistic; the
 *  bootstrap fields are NaN/0. f1, f2 as in cqb_cqreg_hits (may be NULL). */
cqb_status cqb_cqreg_compute(const cqb_cqreg_input *in, double a1, double a2, const size_t *lags,
                             size_t nlags, cqb_cqreg_cell *cells, cqb_cqreg_fit *f1, cqb_cqreg_fit *f2,
                             cqb_error *err);

/*! cqb_cqreg_boot() : cqb_cqreg_compute plus the bootstrap of every lag
 *  (see above). Each lag needs T - k >= max(p1, p2) rows and
 *  k <= CQB_TAG_MAX_LAG. Errors as cqb_cqreg_compute, plus CQB_EUSAGE for
 *  B, gamma, level or cell out of range or "interrupted", CQB_EDATA when the
 *  automatic gamma is undefined, CQB_EINTERNAL if a fit fails to converge. */
cqb_status cqb_cqreg_boot(const cqb_cqreg_input *in, double a1, double a2, const size_t *lags,
                          size_t nlags, const cqb_cqreg_boot_opts *opts, cqb_cqreg_cell *cells,
                          cqb_cqreg_fit *f1, cqb_cqreg_fit *f2, cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
