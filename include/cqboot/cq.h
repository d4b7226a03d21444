/* cqboot/cq.h — the sample cross-quantilogram, partial CQ and portmanteau
 * statistics (cross-quantilogram.md §1-§3).
 *
 * Direction: y (x1, the predicted series) at t against x (x2, the predictor)
 * at t-k. Controls z_j are taken at t - lag_j, where lag_j < 0 means "the
 * same lag k as the predictor" (R's only choice, the default). The rows used
 * are t = r0+1..T (1-based) with r0 = max(k, lag_j), N = T - r0.
 *
 * Everything is computed from integer hit counts (§1.4): the epilogues below
 * are shared by the CPU and CUDA backends, with a fixed operation order, so
 * equal counts give equal bits.
 */
#ifndef CQBOOT_CQ_H
#define CQBOOT_CQ_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"
#include "cqboot/hd.h"
#include "cqboot/quantile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most variables (y, x and controls) in one partial CQ. */
#define CQB_MAX_VARS 10

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

/* ---- Count epilogues (shared with the device code) ---------------------- */

/*! cqb_gram_entry() : sum over N rows of (h_i - a_i)(h_j - a_j) from counts:
 *  n_ij - a_j n_i - a_i n_j + N a_i a_j (n_ii = n_i gives the diagonal). */
CQB_HD double cqb_gram_entry(double N, double ni, double nj, double nij, double ai, double aj)
{
    double s = nij - aj * ni;
    s = s - ai * nj;
    return s + (N * ai) * aj;
}

/*! cqb_cq_from_counts() : S12 / sqrt(S11 S22) from N, n1, n2, n12. */
CQB_HD double cqb_cq_from_counts(double N, double n1, double n2, double n12, double a1, double a2)
{
    double s12 = cqb_gram_entry(N, n1, n2, n12, a1, a2);
    double s11 = cqb_gram_entry(N, n1, n1, n1, a1, a1);
    double s22 = cqb_gram_entry(N, n2, n2, n2, a2, a2);
    return s12 / sqrt(s11 * s22);
}

/*! cqb_partial_from_gram() : -P12 / sqrt(P11 P22) with P = G^{-1}, G the
 *  l x l Gram matrix (row-major, l <= CQB_MAX_VARS; variables 0 and 1 are y
 *  and x). NaN when G is singular: a zero pivot, or reciprocal 1-norm
 *  condition number below DBL_EPSILON (the tolerance of R's solve()). */
CQB_HD double cqb_partial_from_gram(const double *G, int l)
{
    double a[CQB_MAX_VARS][CQB_MAX_VARS], inv[CQB_MAX_VARS][CQB_MAX_VARS];
    double gnorm = 0.0;
    for (int i = 0; i < l; ++i) {
        for (int j = 0; j < l; ++j) {
            a[i][j] = G[i * l + j];
            inv[i][j] = (i == j) ? 1.0 : 0.0;
        }
    }
    for (int j = 0; j < l; ++j) {
        double cs = 0.0;
        for (int i = 0; i < l; ++i) cs += fabs(a[i][j]);
        if (cs > gnorm) gnorm = cs;
    }
    /* Gauss-Jordan with partial pivoting. */
    for (int c = 0; c < l; ++c) {
        int piv = c;
        double best = fabs(a[c][c]);
        for (int r = c + 1; r < l; ++r)
            if (fabs(a[r][c]) > best) { best = fabs(a[r][c]); piv = r; }
        if (!(best > 0.0)) return NAN;
        if (piv != c) {
            for (int j = 0; j < l; ++j) {
                double t = a[c][j]; a[c][j] = a[piv][j]; a[piv][j] = t;
                t = inv[c][j]; inv[c][j] = inv[piv][j]; inv[piv][j] = t;
            }
        }
        double d = a[c][c];
        for (int j = 0; j < l; ++j) { a[c][j] /= d; inv[c][j] /= d; }
        for (int r = 0; r < l; ++r) {
            if (r == c) continue;
            double f = a[r][c];
            if (f == 0.0) continue;
            for (int j = 0; j < l; ++j) {
                a[r][j] -= f * a[c][j];
                inv[r][j] -= f * inv[c][j];
            }
        }
    }
    double inorm = 0.0;
    for (int j = 0; j < l; ++j) {
        double cs = 0.0;
        for (int i = 0; i < l; ++i) cs += fabs(inv[i][j]);
        if (cs > inorm) inorm = cs;
    }
    /* 2.220446049250313e-16 = DBL_EPSILON, spelled out for the device. */
    if (!(gnorm * inorm * 2.220446049250313e-16 < 1.0)) return NAN;
    double p11 = inv[0][0], p22 = inv[1][1], p12 = inv[0][1];
    double den = p11 * p22;
    if (!(den > 0.0)) return NAN;
    return -p12 / sqrt(den);
}

#ifdef __cplusplus
}
#endif
#endif
