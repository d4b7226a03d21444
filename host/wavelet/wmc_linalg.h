/* wmc_linalg.h — the small dense linear algebra of the wavelet multiple
 * correlation, written once for the library (host/wavelet/wmc_math.c) and
 * for the CUDA kernels (device/wavelet_kern.h), so that both run the same
 * operations in the same order and give the same doubles: the rank of a
 * correlation matrix by LINPACK dqrdc2's Householder QR with limited
 * pivoting (R's qr()), diag(A^-1) by Cholesky or by LU with partial
 * pivoting (R's solve()), and the multiple correlation of a moment matrix.
 * Header-only: static inline functions on the host, __device__ functions
 * under nvcc. Not installed; not part of the public API. Index type: size_t
 * on the host (any number of series), int on the device (at most 16 series,
 * and 32-bit indexing is cheaper there); the index type does not enter the
 * arithmetic. */
#ifndef CQBOOT_WMC_LINALG_H
#define CQBOOT_WMC_LINALG_H

#include <math.h>
#include <stddef.h>

#if defined(__CUDACC__)
#define CQBW_LAFN static __device__ __forceinline__
typedef int cqbw_ix;
#else
#define CQBW_LAFN static inline
typedef size_t cqbw_ix;
#endif

/* R's qr() (LINPACK dqrdc2) tolerance, and its square for moment matrices. */
#define CQBW_QR_TOL 1e-7
#define CQBW_QR_TOL2 1e-14
/* Relative tolerance of the d = 2 tie rule (wavelets.md §3.3). */
#define CQBW_TIE_TOL 1e-12

/* Outcome of cqbw_la_mulcor(). */
enum { CQBW_MC_OK = 0, CQBW_MC_NAN = 1, CQBW_MC_RANK = 2 };

CQBW_LAFN double cqbw_la_col_norm(const double *v, cqbw_ix m)
{
    /* plain 2-norm: the matrices seen here are correlation matrices
     * (|r| <= 1), so no scaling against overflow is needed */
    double s = 0.0;
    for (cqbw_ix i = 0; i < m; ++i) s += v[i] * v[i];
    return sqrt(s);
}

/* Rank of the d x d matrix A (row-major) by Householder QR with dqrdc2's
 * limited column pivoting (a column is negligible when its residual norm is
 * below tol times its original norm). work: d*d + 3*d doubles. */
CQBW_LAFN cqbw_ix cqbw_la_qr_rank(const double *A, cqbw_ix d, double tol, double *work)
{
    /* X column-major: column j at X + j*d */
    double *X = work;
    double *qraux = X + d * d; /* current residual norms */
    double *orig = qraux + d;  /* norms at the last exact recomputation */
    double *ref = orig + d;    /* original norms (1 when zero): the tol reference */
    for (cqbw_ix i = 0; i < d; ++i)
        for (cqbw_ix j = 0; j < d; ++j) X[j * d + i] = A[i * d + j];
    for (cqbw_ix j = 0; j < d; ++j) {
        qraux[j] = cqbw_la_col_norm(X + j * d, d);
        orig[j] = qraux[j];
        ref[j] = qraux[j] == 0.0 ? 1.0 : qraux[j];
    }
    cqbw_ix k = d; /* columns at positions >= k have been moved as negligible */
    for (cqbw_ix l = 0; l < d; ++l) {
        while (l < k && qraux[l] < ref[l] * tol) {
            /* move column l to the end, shifting l+1..d-1 left */
            double cq = qraux[l], co = orig[l], cr = ref[l];
            for (cqbw_ix i = 0; i < d; ++i) {
                double tmp = X[l * d + i];
                for (cqbw_ix j = l; j + 1 < d; ++j) X[j * d + i] = X[(j + 1) * d + i];
                X[(d - 1) * d + i] = tmp;
            }
            for (cqbw_ix j = l; j + 1 < d; ++j) {
                qraux[j] = qraux[j + 1];
                orig[j] = orig[j + 1];
                ref[j] = ref[j + 1];
            }
            qraux[d - 1] = cq;
            orig[d - 1] = co;
            ref[d - 1] = cr;
            --k;
        }
        if (l + 1 == d) break;
        double *xl = X + l * d;
        double nrmxl = cqbw_la_col_norm(xl + l, d - l);
        if (nrmxl == 0.0) continue;
        if (xl[l] != 0.0) nrmxl = copysign(nrmxl, xl[l]);
        const double rn = 1.0 / nrmxl; /* LINPACK scales by the reciprocal */
        for (cqbw_ix i = l; i < d; ++i) xl[i] *= rn;
        xl[l] += 1.0;
        for (cqbw_ix j = l + 1; j < d; ++j) {
            double *xj = X + j * d;
            double t = 0.0;
            for (cqbw_ix i = l; i < d; ++i) t -= xl[i] * xj[i];
            t /= xl[l];
            for (cqbw_ix i = l; i < d; ++i) xj[i] += t * xl[i];
            if (qraux[j] == 0.0) continue;
            double tt = fabs(xj[l]) / qraux[j];
            tt = 1.0 - tt * tt;
            if (tt < 0.0) tt = 0.0;
            if (fabs(tt) < 1e-6) {
                qraux[j] = cqbw_la_col_norm(xj + l + 1, d - l - 1);
                orig[j] = qraux[j];
            } else {
                qraux[j] *= sqrt(tt);
            }
        }
    }
    return k;
}

/* diag(A^-1) by LU with partial pivoting (as R's solve()); A row-major
 * d x d; work: d*d + d doubles; perm: d indices. Returns 0, or -1 on an
 * exactly zero pivot (singular). */
CQBW_LAFN int cqbw_la_inv_diag(const double *A, cqbw_ix d, double *diag, double *work, cqbw_ix *perm)
{
    double *U = work;
    double *b = work + d * d;
    for (cqbw_ix i = 0; i < d * d; ++i) U[i] = A[i];
    for (cqbw_ix j = 0; j < d; ++j) {
        cqbw_ix p = j;
        double best = fabs(U[j * d + j]);
        for (cqbw_ix i = j + 1; i < d; ++i)
            if (fabs(U[i * d + j]) > best) {
                best = fabs(U[i * d + j]);
                p = i;
            }
        perm[j] = p;
        if (U[p * d + j] == 0.0) return -1;
        if (p != j)
            for (cqbw_ix c = 0; c < d; ++c) {
                double tmp = U[j * d + c];
                U[j * d + c] = U[p * d + c];
                U[p * d + c] = tmp;
            }
        double piv_inv = 1.0 / U[j * d + j];
        for (cqbw_ix i = j + 1; i < d; ++i) U[i * d + j] *= piv_inv;
        for (cqbw_ix i = j + 1; i < d; ++i) {
            double lij = U[i * d + j];
            if (lij == 0.0) continue;
            for (cqbw_ix c = j + 1; c < d; ++c) U[i * d + c] -= lij * U[j * d + c];
        }
    }
    for (cqbw_ix j = 0; j < d; ++j) U[j * d + j] = 1.0 / U[j * d + j]; /* reciprocals */
    for (cqbw_ix c = 0; c < d; ++c) {
        for (cqbw_ix i = 0; i < d; ++i) b[i] = (i == c) ? 1.0 : 0.0;
        for (cqbw_ix j = 0; j < d; ++j) {
            cqbw_ix p = perm[j];
            if (p != j) {
                double tmp = b[j];
                b[j] = b[p];
                b[p] = tmp;
            }
        }
        for (cqbw_ix k = 0; k < d; ++k)
            if (b[k] != 0.0)
                for (cqbw_ix i = k + 1; i < d; ++i) b[i] -= b[k] * U[i * d + k];
        for (cqbw_ix k = d; k-- > 0;) {
            if (b[k] != 0.0) {
                b[k] *= U[k * d + k];
                for (cqbw_ix i = 0; i < k; ++i) b[i] -= b[k] * U[i * d + k];
            }
        }
        diag[c] = b[c];
    }
    return 0;
}

/* diag(A^-1) of a symmetric positive definite A (row-major d x d) by
 * Cholesky, A = L L', diag(A^-1)_k = sum_m (L^-1)_mk^2. work: d*d. Returns
 * 0, or -1 when a pivot is not positive (not numerically SPD). */
CQBW_LAFN int cqbw_la_inv_diag_spd(const double *A, cqbw_ix d, double *diag, double *work)
{
    double *L = work; /* lower triangle, row-major; later overwritten by L^-1 */
    for (cqbw_ix j = 0; j < d; ++j) {
        double s = A[j * d + j];
        for (cqbw_ix k = 0; k < j; ++k) s -= L[j * d + k] * L[j * d + k];
        if (!(s > 0.0)) return -1;
        double ljj = sqrt(s);
        L[j * d + j] = ljj;
        double r = 1.0 / ljj;
        for (cqbw_ix i = j + 1; i < d; ++i) {
            double t = A[i * d + j];
            for (cqbw_ix k = 0; k < j; ++k) t -= L[i * d + k] * L[j * d + k];
            L[i * d + j] = t * r;
        }
    }
    /* column c of L^-1, z = L^-1 e_c (z_i = 0 for i < c), by forward
     * substitution; z_i (i > c) is kept in the unused upper triangle of row
     * c; diag(A^-1)_c = sum_i z_i^2 */
    for (cqbw_ix c = 0; c < d; ++c) {
        double zc = 1.0 / L[c * d + c];
        double acc = zc * zc;
        for (cqbw_ix i = c + 1; i < d; ++i) {
            double t = -L[i * d + c] * zc;
            for (cqbw_ix k = c + 1; k < i; ++k) t -= L[i * d + k] * L[c * d + k];
            double zi = t / L[i * d + i];
            L[c * d + i] = zi;
            acc += zi * zi;
        }
        diag[c] = acc;
    }
    return 0;
}

/* Multiple correlation from a symmetric d x d moment matrix S (row-major,
 * full); the rules are those of cqbw_mulcor() in wmc_internal.h. work:
 * 2 d^2 + 5 d doubles; perm: d indices (the LU fallback's pivots). *dep is
 * the 1-based dependent variable, 0 unless CQBW_MC_OK. */
CQBW_LAFN int cqbw_la_mulcor(const double *S, cqbw_ix d, int ymaxr, double *phi, int *dep, double *work,
                             cqbw_ix *perm)
{
    double *R = work;
    double *pi = R + d * d;
    double *w2 = pi + d;
    *dep = 0;
    for (cqbw_ix k = 0; k < d; ++k) {
        double skk = S[k * d + k];
        if (!(skk > 0.0) || !isfinite(skk)) {
            *phi = NAN;
            return CQBW_MC_NAN;
        }
    }
    /* sqrt(S_kk) sqrt(S_ll) rather than sqrt(S_kk S_ll): the same value to
     * rounding, without underflow when the local weights are tiny (the
     * compat Gaussian far from valid rows) */
    for (cqbw_ix k = 0; k < d; ++k) pi[k] = sqrt(S[k * d + k]);
    for (cqbw_ix k = 0; k < d; ++k)
        for (cqbw_ix l = 0; l < d; ++l) {
            double r = (k == l) ? 1.0 : S[k * d + l] / (pi[k] * pi[l]);
            if (isnan(r)) {
                *phi = NAN;
                return CQBW_MC_NAN;
            }
            R[k * d + l] = r;
        }
    /* Rank rule (R's qr(R)$rank < d, LINPACK dqrdc2, tol 1e-7). The exact
     * dqrdc2 emulation runs only when R may be near-singular: for a positive
     * definite R any column's residual norm is >= lambda_min(R) >= 1 /
     * trace(R^-1), and a column's norm is <= sqrt(d), so sum(Pi) < 1e6 /
     * sqrt(d) proves rank d (a margin of 10 over the 1e-7 tolerance, far
     * above rounding). The proof needs R positive definite, which only a
     * successful Cholesky shows: after the LU fallback the diagonal of the
     * inverse of a numerically singular R can hold huge values of both
     * signs with a small sum (a window with one valid row: Pi = (0,
     * 2.3e15, -2.3e15)), so there the emulation always decides. */
    /* Cholesky first (R is a correlation matrix); LU with partial pivoting
     * (as R's solve()) when R is not numerically positive definite */
    const int spd = cqbw_la_inv_diag_spd(R, d, pi, w2) == 0;
    int singular = !spd && cqbw_la_inv_diag(R, d, pi, w2, perm) != 0;
    if (!singular) {
        double tr = 0.0;
        for (cqbw_ix k = 0; k < d; ++k) tr += pi[k];
        if (!spd || !(tr > 0.0) || !(tr * sqrt((double)d) < 1e6))
            singular = cqbw_la_qr_rank(R, d, CQBW_QR_TOL, w2) < d;
    }
    if (singular) {
        *phi = 1.0;
        return CQBW_MC_RANK;
    }
    cqbw_ix k;
    if (ymaxr >= 1 && (cqbw_ix)ymaxr <= d) {
        k = (cqbw_ix)ymaxr - 1;
    } else if (d == 2) {
        /* DEFINED: both diagonals equal 1/(1-r^2) mathematically */
        k = (pi[1] > pi[0] * (1.0 + CQBW_TIE_TOL)) ? 1 : 0;
    } else {
        k = 0;
        for (cqbw_ix m = 1; m < d; ++m)
            if (pi[m] > pi[k]) k = m;
    }
    double v = 1.0 - 1.0 / pi[k];
    if (!(v > 0.0)) v = 0.0; /* DEFINED: rounding below 0 (R: NaN) */
    double f = sqrt(v);
    if (d == 2) {
        double r12 = R[1];
        f = r12 > 0.0 ? f : (r12 < 0.0 ? -f : 0.0);
    }
    *phi = f;
    *dep = (int)k + 1;
    return CQBW_MC_OK;
}

#endif
