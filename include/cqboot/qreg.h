/* cqboot/qreg.h — linear quantile regression with an intercept, solved
 * exactly by a simplex method in the Barrodale-Roberts style
 * (cross-quantilogram.md §3.2; R quantreg::rq(y ~ X, tau), method "br").
 *
 * Problem: minimise over b (p = m + 1 coefficients, intercept first)
 *     sum_i rho_tau(y_i - b_0 - b_1 x_i1 - ... - b_m x_im),
 *     rho_tau(u) = u (tau - 1[u < 0]).
 *
 * Algorithm (Barrodale & Roberts 1973/1974, Koenker & d'Orey 1987, in the
 * "basic observations" form of Koenker 2005 §6.2). A vertex is a set h of p
 * rows with X_h nonsingular and b = X_h^{-1} y_h: those p residuals are zero.
 * Start: b = 0 with the p "free" coefficient constraints b_c = 0 as the
 * basis (BR's start: all residuals in the LP basis). Phase 1 replaces each
 * free constraint by an observation, phase 2 exchanges observations while a
 * reduced cost is negative. Every step moves along one edge to the minimum
 * of the (convex, piecewise linear) objective on that ray, a weighted median
 * of the kinks r_i / a_i (BR's passage through several vertices in one
 * step). Degenerate vertices (more than p zero residuals, common with
 * rounded, tied or bootstrap-repeated data) are handled as in the LP
 * simplex: each zero residual outside the basis keeps the side of zero it
 * is counted on, which makes the reduced costs a valid optimality
 * certificate; zero-length steps may occur there, and after a run of them
 * the edge choice switches to Bland's rule (anti-cycling). The basis matrix
 * is refactorised (LU, partial pivoting) and b, the residuals and the
 * gradient are recomputed from the data at every step, so no tableau
 * rounding accumulates. Cost per step O(n p + p^3): four passes over the
 * rows and an expected-linear selection; steps per fit are few (4 to 11 on
 * the package data, n = 5505, p = 3; up to ~40 for p = 6, n = 10,000),
 * because one step crosses many vertices. Heavily tied designs (a few
 * levels per regressor and integer responses, a third of the rows on the
 * fitted hyperplane) make most steps degenerate: hundreds to a few
 * thousand steps (0.1-0.8 s at n = 10,000, p = 6), still exact.
 *
 * Tolerances (qreg.c): a non-basis residual is treated as zero when
 * |r| <= 1e-11 (max|y| + sum_c |b_c| max|x_c|); a reduced cost counts as
 * zero within 1e-13 (1 + sum_i ||x_i||_1 ||d||_inf).
 *
 * Stopping rule and non-unique solutions: the vertex is optimal when all 2p
 * reduced costs are >= -tol. When an edge leaving the final vertex has zero
 * slope (within tol) the minimiser is not unique (an edge of optimal
 * solutions; typically when n tau is an integer); info.nonunique says so.
 * The returned vertex is the first optimal vertex this path reaches: the
 * steepest (most negative reduced cost) edge is taken, ties to the lowest
 * basis slot, and a line search stops at the first kink where the slope
 * becomes >= 0 (kinks ordered by position, then row). rq's "br" follows its
 * own path (tableau pivots and tie-breaks), so in non-unique cases it may
 * return another optimal vertex (same objective, different b and zero
 * rows); rq then warns "Solution may be nonunique". On unique problems both
 * return the same vertex.

 * Floating point: the p basis residuals are zero in exact arithmetic; the
 * residuals this library returns are computed as y_i - fitted_i with
 * fitted_i = ((b_0 + b_1 x_i1) + b_2 x_i2) + ... (R's X %*% b order), so
 * basis rows come out as 0 or about +-1e-17 relative. info.basis names the
 * basis rows exactly; callers that classify residuals (cqreg.h) use it.
 *
 * Workspaces (GSL style): one cqb_qreg_workspace per thread, allocated for
 * the largest n and m, reused across fits; fits do not allocate.
 */
#ifndef CQBOOT_QREG_H
#define CQBOOT_QREG_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most coefficients (intercept + regressors) in one regression. */
#define CQB_QREG_MAX_P 16

typedef struct cqb_qreg_workspace cqb_qreg_workspace;

/*! cqb_qreg_workspace_alloc() : scratch for fits of up to nmax rows and up to
 *  m regressors (1 <= m <= CQB_QREG_MAX_P - 1). Returns CQB_EUSAGE for bad
 *  sizes, CQB_ENOMEM when out of memory (nothing is left allocated). */
cqb_status cqb_qreg_workspace_alloc(size_t nmax, size_t m, cqb_qreg_workspace **out, cqb_error *err);

/*! cqb_qreg_workspace_free() : frees w; NULL is a no-op. */
void cqb_qreg_workspace_free(cqb_qreg_workspace *w);

typedef struct cqb_qreg_info {
    size_t p;                      /* coefficients, m + 1 */
    double objective;              /* sum rho_tau(u_i), basis u_i = 0 */
    size_t iterations;             /* simplex steps, phase 1 + phase 2 */
    size_t basis[CQB_QREG_MAX_P];  /* the p vertex rows (0-based sample rows), ascending */
    size_t nneg;                   /* rows with u_i < 0 that are neither basis nor degenerate */
    size_t ndegen;                 /* non-basis rows the solver treats as zero residuals */
    int nonunique;                 /* 1: the minimiser is not unique (see above) */
    double scale;                  /* max(1, max_i (|y_i| + sum_{c=0..m} |b_c x_ic|)),
                                      x_i0 = 1: bounds the terms of every residual */
} cqb_qreg_info;

/*! cqb_qreg_fit() : quantile regression of y on (1, x_1, ..., x_m) at level
 *  tau in (0,1), over n sample rows. Sample row i is input row rows[i]
 *  (rows may repeat: a bootstrap resample) or row i when rows is NULL; y and
 *  the m columns xcols[c] are indexed by input rows. Writes the p = m + 1
 *  coefficients to beta (intercept first); if resid is not NULL, the n
 *  residuals u_i = y_i - fitted_i in sample order (see above); if info is
 *  not NULL, the fit summary.
 *  Errors: CQB_EUSAGE for m == 0, m or n beyond the workspace, tau outside
 *  (0,1) or n < p; CQB_EDATA for a non-finite value or a rank-deficient
 *  design (columns of (1, X) linearly dependent over the sample rows, e.g.
 *  a constant regressor); CQB_EINTERNAL if the simplex fails to converge
 *  (not expected). On error beta, resid and info are unspecified. */
cqb_status cqb_qreg_fit(cqb_qreg_workspace *w, const double *y, const double *const *xcols, size_t m,
                        const uint32_t *rows, size_t n, double tau, double *beta, double *resid,
                        cqb_qreg_info *info, cqb_error *err);

/*! cqb_qreg_fit_start() : cqb_qreg_fit started from the vertex of the p
 *  linearly independent sample rows closest to the hyperplane of `start`
 *  (p coefficients, e.g. the full-sample fit when fitting a bootstrap
 *  resample) instead of from b = 0; falls back to b = 0 when there are not
 *  p such rows among the 8p closest. The optimum reached is the same when
 *  the solution is unique (faster: typically a few steps instead of p plus
 *  about ten); with a non-unique solution it may be another optimal vertex.
 *  Same errors as cqb_qreg_fit, plus CQB_EUSAGE for non-finite start. */
cqb_status cqb_qreg_fit_start(cqb_qreg_workspace *w, const double *y, const double *const *xcols, size_t m,
                              const uint32_t *rows, size_t n, double tau, const double *start, double *beta,
                              double *resid, cqb_qreg_info *info, cqb_error *err);

/*! cqb_qreg_objective() : sum_i rho_tau(y_i - fitted_i) for coefficients b
 *  (intercept first) over sample rows as in cqb_qreg_fit (for tests and
 *  diagnostics; plain left-to-right summation). */
double cqb_qreg_objective(const double *y, const double *const *xcols, size_t m, const uint32_t *rows,
                          size_t n, double tau, const double *b);

#ifdef __cplusplus
}
#endif
#endif
