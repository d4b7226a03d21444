/* cqboot/gram.h — hit-count epilogues: Gram entries, the CQ and the partial
 * CQ from integer counts (cross-quantilogram.md §1.4).
 *
 * These sit below both the sample statistics (cq.c) and the resampling engine
 * (boot/sbplan.c, device/sbkern.h): the same inline code turns counts into
 * doubles everywhere, with a fixed operation order, so equal counts give equal
 * bits on the CPU and on a CUDA device (CQB_HD).
 */
#ifndef CQBOOT_GRAM_H
#define CQBOOT_GRAM_H

#include <math.h>

#include "cqboot/hd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most variables (y, x and controls) in one partial CQ. */
#define CQB_MAX_VARS 10

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
