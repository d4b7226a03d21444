/* cqboot/cq.h — the sample cross-quantilogram, partial CQ and portmanteau
 * statistics (cross-quantilogram.md §1-§3).
 *
 * Direction: y (x1, the predicted series) at t against x (x2, the predictor)
 * at t-k. Controls z_j are taken at t - lag_j, where lag_j < 0 means "the
 * same lag k as the predictor" (R's only choice, the default). The rows used
 * are t = r0+1..T (1-based) with r0 = max(k, lag_j), N = T - r0.
 *
 * Everything is computed from integer hit counts (§1.4): the epilogues in
 * cqboot/gram.h are shared by the CPU and CUDA backends, with a fixed
 * operation order, so equal counts give equal bits.
 */
#ifndef CQBOOT_CQ_H
#define CQBOOT_CQ_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"
#include "cqboot/gram.h"
#include "cqboot/quantile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqb_control {
    const double *z; /* T values */
    double alpha;    /* the control's own quantile level */
    int lag;         /* < 0: the predictor's lag k (R); else a fixed lag */
} cqb_control;

typedef struct cqb_cq_input {
    const double *y; /* predicted series, T values */
    const double *x; /* predictor, T values */
    size_t T;
    const cqb_control *ctl;
    size_t nctl;     /* 0 for the plain CQ; at most CQB_MAX_VARS - 2 */
    cqb_qconv conv;
} cqb_cq_input;

typedef struct cqb_cq_point {
    double rho;         /* plain CQ */
    double rho_partial; /* partial CQ (NaN without controls or if singular) */
    size_t n;           /* rows summed, N = T - r0 */
    size_t n1, n2, n12; /* hits of y, of x, joint */
    double q1, q2;      /* the quantiles used for y and x */
} cqb_cq_point;

/*! cqb_cq_r0() : the first row offset r0 = max(k, control lags) for lag k. */
size_t cqb_cq_r0(const cqb_cq_input *in, size_t k);

/* Sorted copies of the full columns, made once and shared by many calls of
 * cqb_cq_compute_prep() (the full-sample conventions need them). */
typedef struct cqb_cq_prep {
    double *sorted[CQB_MAX_VARS]; /* y, x, controls; NULL when unused */
} cqb_cq_prep;

cqb_status cqb_cq_prep_init(const cqb_cq_input *in, cqb_cq_prep *prep, cqb_error *err);
void cqb_cq_prep_free(cqb_cq_prep *prep);
cqb_status cqb_cq_compute_prep(const cqb_cq_input *in, const cqb_cq_prep *prep, double ay,
                             double ax, size_t k, cqb_cq_point *out, cqb_error *err);

/*! cqb_cq_compute() : rho_hat(k) (and the partial CQ when in->nctl > 0) for the
 *  levels (ay, ax). Returns CQB_EUSAGE if N = T - r0 < 2 and CQB_EDATA if
 *  the sample Gram matrix of the hits is singular. */
cqb_status cqb_cq_compute(const cqb_cq_input *in, double ay, double ax, size_t k,
                        cqb_cq_point *out, cqb_error *err);

/*! cqb_q_stats() : cumulative Box-Pierce and Ljung-Box statistics over
 *  rho[0..P-1] = rho_hat(1..P) with the original length T:
 *  Q_BP(p) = T sum_{k<=p} rho_k^2, Q_LB(p) = T(T+2) sum rho_k^2/(T-k). */
void cqb_q_stats(const double *rho, size_t P, size_t T, double *q_bp, double *q_lb);

#ifdef __cplusplus
}
#endif
#endif
