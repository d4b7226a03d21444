/* wmc_internal.h — private helpers shared by wmc.c and wlmc.c: small dense
 * linear algebra with R's rank rules, the multiple correlation of a moment
 * matrix, regression from centred moments, and the few distribution
 * functions the statistics need (normal and t quantiles, t and F tails).
 * Not installed; not part of the public API. */
#ifndef CQBOOT_WMC_INTERNAL_H
#define CQBOOT_WMC_INTERNAL_H

#include <stddef.h>

#include "cqboot/wmc.h"
#include "wmc_linalg.h" /* CQBW_QR_TOL, CQBW_TIE_TOL, CQBW_MC_*; the kernels below */

/* Scratch doubles needed by cqbw_mulcor() for d variables. */
size_t cqbw_mulcor_work(size_t d);

/* Multiple correlation from a symmetric d x d moment matrix S (row-major,
 * full): r_kl = S_kl / sqrt(S_kk S_ll); NaN rule (some r is NaN) -> NAN;
 * rank rule (dqrdc2-style QR of R, tol 1e-7, rank < d) -> RANK with
 * *phi = 1, *dep = 0; otherwise Pi = diag(R^-1) by Cholesky (LU with
 * partial pivoting, as R's solve(), when R is not numerically positive
 * definite), k* = argmax (first index; d = 2: lowest index within relative
 * CQBW_TIE_TOL) or ymaxr (1-based, 0 = argmax), phi = sqrt(1 - 1/Pi_k*)
 * (clamped at 0), times sign(r_12) for d = 2. *dep is 1-based. */
int cqbw_mulcor(const double *S, size_t d, int ymaxr, double *phi, int *dep, double *work);

/* Rank of the d x d matrix A (row-major) by Householder QR with LINPACK
 * dqrdc2's limited column pivoting (column negligible when its residual
 * norm < tol * its original norm). work: d*d + 3*d doubles. */
size_t cqbw_qr_rank(const double *A, size_t d, double tol, double *work);

/* Regression of y on (1, X) from centred cross-products.
 * G is (q+1) x (q+1) row-major: the centred cross-product matrix of the q
 * regressors followed by the response (last row/column). raw_diag[j] is the
 * uncentred sum of squares of regressor j (the reference of lm's rank
 * tolerance). On return: r2 (centred R^2), rss, beta[q] (NaN for an aliased
 * regressor), cinv_diag[q] = diag of C_XX^-1 (NaN when aliased), and
 * xbar_quad = xbar' C_XX^-1 xbar for the given means xbar[q] (xbar may be
 * NULL). Returns the number of aliased regressors, or -1 when the response
 * has no centred variation (tss <= 0). work: 2*(q+1)^2 + (q+1) doubles. */
int cqbw_regress(const double *G, const double *raw_diag, const double *xbar, size_t q,
                 double *r2, double *rss, double *beta, double *cinv_diag,
                 double *xbar_quad, double *work);
size_t cqbw_regress_work(size_t q);

/* Moments for cqbw_regress() of series k (the response) on the other d - 1
 * series of base (d series of n values, series j at base + j*n), q = d - 1,
 * m = q + 1. cqbw_moments_add_row() adds time t (response value yv) to the
 * raw sums: sx[q] (regressors), *sy, and the lower triangle and last row of
 * G (m x m). cqbw_moments_centre() turns the raw sums of nn rows into the
 * centred cross-products cqbw_regress() takes (G symmetric), with raw[a] the
 * regressors' uncentred sums of squares. Shared by wmc.c and wlmc.c so that
 * every statistic sums in the same order. */
void cqbw_moments_add_row(double *G, double *sx, double *sy, size_t m, const double *base, size_t n, size_t d,
                          size_t k, size_t t, double yv);
void cqbw_moments_centre(double *G, double *sx, double sy, double *raw, size_t q, double nn);

/* Distribution functions (FP64, written from the definitions). */
double cqbw_qnorm(double p);                 /* standard normal quantile */
double cqbw_pt2(double t, double df);        /* 2 P(T_df > |t|) */
double cqbw_qt(double p, double df);         /* t quantile */
double cqbw_pf_upper(double f, double d1, double d2); /* P(F_{d1,d2} > f) */

/* Fisher-z interval for phi with sample size nsz and normal quantile q:
 * lo/up = tanh(atanh(phi) -/+ q / sqrt(nsz - 3)) (NaN when nsz < 3), the
 * lower bound truncated at 0 when trunc0 (NaN stays NaN); pval = the F test
 * of H0: rho = 0 with (d-1, nsz-d) degrees of freedom (engine addition).
 * Any output pointer may be NULL. */
void cqbw_fisher_ci(double phi, double nsz, double q, int trunc0, size_t d, double *lo,
                    double *up, double *pval);

/* Rank of |t| in decreasing order, ties getting the first match (R's
 * match(abs(t), sort(abs(t), decreasing = TRUE))); 0 for NaN. */
void cqbw_rank_abs(const double *t, size_t m, int *rank);

/* The workspace (opaque in the public header). Arrays are sized for
 * coefficient length <= n_cap and <= d_cap series. */
struct cqb_wmc_workspace {
    size_t n_cap, d_cap;
    unsigned char *mask; /* n: complete-row flags of the current level */
    size_t *reach;       /* n: per-time window half-width (local) */
    size_t *lagcnt;      /* 2n: complete rows per lag (local cross statistics) */
    int *dep;            /* n: lag-0 dependent variable of the current level */
    unsigned char *st;   /* n: lag-0 outcome (CQBW_MC_*) or 255 = masked */
    double *prod;        /* (P+1) * 3n: q-major pair products + indicator, each
                            series zero-padded by the window half-width */
    double *sacc;        /* (P+2) * n: window sums per column and time */
    double *pre;         /* (P+1) * n: block prefix sums (uniform fast path) */
    double *suf;         /* (P+1) * n: block suffix sums (uniform fast path) */
    double *v2;          /* n: v(z)^2 */
    double *u;           /* n: kernel u(z) */
    double *v;           /* n: weights v(z) = u(z)^weight_power */
    double *uh;          /* n: vector scaling u(z)^(weight_power/2) (compat lags) */
    double *ucum;        /* n: cumulative sums of u */
    double *vcum;        /* n: cumulative sums of v */
    double *phi;         /* n: lag-0 phi of the current level */
    double *nsz;         /* n: lag-0 CI sample size of the current level */
    double *asum;        /* n: sum over all t of u(|t-s|) */
    double *acc;         /* P + 2 accumulators */
    double *S;           /* d*d moment matrix */
    double *G;           /* (d+1)^2 centred cross-products */
    double *vec;         /* 8*(d+1) small vectors */
    double *mc_work;     /* cqbw_mulcor_work(d) */
    double *rg_work;     /* cqbw_regress_work(d) */
};

/* Allocates a workspace for the call when ws is NULL (*own set), checks the
 * capacity otherwise. */
cqb_status cqbw_ws_get(cqb_wmc_workspace *ws, size_t n, size_t d, cqb_wmc_workspace **use,
                       cqb_wmc_workspace **own, cqb_error *err);

/* Validates the input and options common to all statistics; fills *md with
 * the mode and writes messages prefixed by `who`. */
cqb_status cqbw_check_common(const char *who, const cqb_wlevels *in, const cqb_wmc_opts *o,
                             cqb_error *err);

/* Checks every level: at least one complete row and nonzero energy of every
 * series over the complete rows (CQB_EDATA otherwise). Uses ws->mask. */
cqb_status cqbw_check_levels(const char *who, const cqb_wlevels *in, cqb_wmc_workspace *ws,
                             cqb_error *err);

/* Complete-row mask of level i into mask[0..n-1]; returns the count. */
size_t cqbw_level_mask(const cqb_wlevels *in, int i, unsigned char *mask);

/* "d3" or "s5" for level index i (0-based) of a J-level transform. */
const char *cqbw_level_name(int i, int J, char *buf, size_t cap);

/* Options with NULL replaced by the defaults. */
void cqbw_opts_or_default(const cqb_wmc_opts *o, cqb_wmc_opts *out);

/* Fills regression row `row` (d+1 columns) with NaN (rank 0). */
void cqbw_reg_row_na(const cqb_wreg_out *reg, size_t row, size_t d);

/* Writes regression row `row` from est/se[d+1] ([b0, var1..vard]); the
 * dependent slot k+1 gets -1, 0, +Inf, 0 (and CI -1, -1); t tests use df
 * and the CIs est -/+ qci * se. tmp: d+1 doubles. */
void cqbw_reg_row_write(const cqb_wreg_out *reg, size_t row, size_t d, size_t k,
                        const double *est, const double *se, double df, double qci,
                        double *tmp);

#endif
