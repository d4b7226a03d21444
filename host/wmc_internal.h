/* wmc_internal.h — private helpers shared by wmc.c and wlmc.c: small dense
 * linear algebra with R's rank rules, the multiple correlation of a moment
 * matrix, regression from centred moments, and the few distribution
 * functions the statistics need (normal and t quantiles, t and F tails).
 * Not installed; not part of the public API. */
#ifndef CQBOOT_WMC_INTERNAL_H
#define CQBOOT_WMC_INTERNAL_H

#include <stddef.h>

#include "cqboot/wmc.h"

/* R's qr() (LINPACK dqrdc2) tolerance, and its square for moment matrices. */
#define CQBW_QR_TOL 1e-7
#define CQBW_QR_TOL2 1e-14
/* Relative tolerance of the d = 2 tie rule (wavelets.md §3.3). */
#define CQBW_TIE_TOL 1e-12

/* Outcome of cqbw_mulcor(). */
enum { CQBW_MC_OK = 0, CQBW_MC_NAN = 1, CQBW_MC_RANK = 2 };

/* Scratch doubles needed by cqbw_mulcor() for d variables. */
size_t cqbw_mulcor_work(size_t d);

/* Multiple correlation from a symmetric d x d moment matrix S (row-major,
 * full): r_kl = S_kl / sqrt(S_kk S_ll); NaN rule (some r is NaN) -> NAN;
 * rank rule (dqrdc2-style QR of R, tol 1e-7, rank < d) -> RANK with
 * *phi = 1, *dep = 0; otherwise Pi = diag(R^-1) by LU with partial
 * pivoting, k* = argmax (first index; d = 2: lowest index within relative
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

#endif
