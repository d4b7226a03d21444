/* qreg.c — exact linear quantile regression by a Barrodale-Roberts style
 * simplex (see qreg.h for the method, the vertex returned and how it may
 * differ from R quantreg's "br").
 *
 * Notation. p coefficients; the basis is p "slots", each either an
 * observation row (its residual is held at zero) or, during phase 1, a free
 * coefficient constraint b_c = 0 (a "unit" slot). A is the p x p matrix of
 * the slot rows, b solves A b = rhs (y_i for observation slots, 0 for unit
 * slots). Column j of A^{-1}, d_j, is the edge that releases slot j: moving
 * b -> b + t s d_j (s = +-1, t >= 0) keeps every other slot at zero and
 * moves slot j's residual to -t s.
 *
 * Every non-basis row carries a sign sgn_i: the sign of its residual, or,
 * for a degenerate row (residual zero, not in the basis), the side of zero
 * it is counted on: in LP terms which of u_i, v_i is basic at value 0. With
 * psi(+) = tau, psi(-) = tau - 1 and g = sum_{i not in basis} psi(sgn_i) x_i,
 * the reduced cost of edge (j, s) is
 *     D(j,s) = -s g.d_j + [slot j is a row] (s > 0 ? 1 - tau : tau)
 * and the basis is optimal (a dual certificate) when every D >= -tol. Along
 * a descent edge the objective is convex piecewise linear in t with slope
 * D(j,s) at first; a row's kink t_i = r_i / a_i (a_i = s x_i.d_j), or t = 0
 * for a degenerate row the edge moves against its sign, raises the slope by
 * |a_i|. The step stops at the first kink (in the order t, then row) where
 * the slope becomes >= 0; that row enters slot j, the kinks before it flip
 * their sign. Steps of length zero (degenerate pivots) leave the objective
 * unchanged; after QR_BLAND_AFTER of them in a row the edge is chosen by
 * Bland's smallest-row rule (the classical anti-cycling safeguard), and an
 * iteration cap turns any remaining cycle into CQB_EINTERNAL.
 *
 * Layout and cost: the sample is stored by column (regressor c of row i at
 * X[c * nmax + i]) so that the per-step passes over the rows (fitted values,
 * edge products a_i) are plain vectorisable column loops; a step costs four
 * passes over the n rows plus an expected-linear weighted selection among
 * the kinks. Column loops keep R's order of the fitted value,
 * ((b_0 + b_1 x_1) + b_2 x_2) + ..., element by element.
 */
#include "cqboot/qreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Tolerances (relative; documented in qreg.h):
 * QR_ZTOL  a non-basis residual is degenerate (treated as exactly zero) when
 *          |r_i| <= QR_ZTOL * (max_i |y_i| + sum_c |b_c| max_i |x_ic|), about
 *          1e5 roundings of the largest term a residual is made of;
 * QR_ATOL  a row is parallel to an edge (no kink) when
 *          |x_i.d| <= QR_ATOL * ||x_i||_1 * ||d||_inf (its entering would
 *          make the basis numerically singular);
 * QR_DTOL  a reduced cost D counts as zero when
 *          |D| <= QR_DTOL * (1 + sum_i ||x_i||_1 * ||d||_inf), a bound on
 *          sum_i |a_i| (rounding of D is about 1e-16 of that). */
#define QR_ZTOL 1e-11
#define QR_ATOL 1e-13
#define QR_DTOL 1e-13

/* After this many consecutive zero-length (degenerate) steps the edge choice
 * switches from steepest to Bland's smallest-row rule until a step moves. */
#define QR_BLAND_AFTER 32

typedef struct kink {
    double t;   /* position on the edge */
    double w;   /* slope increase |a_i| */
    uint32_t i; /* row */
} kink;

struct cqb_qreg_workspace {
    size_t nmax, mmax;
    double *X;          /* mmax columns of nmax regressor values */
    double *y;          /* responses in sample order */
    double *r;          /* residuals (0 for basis and degenerate rows) */
    double *a;          /* fitted values, then edge products x_i.d */
    double *psi;        /* psi(sgn_i) of non-basis rows, 0 for basis rows */
    double *xn;         /* ||x_i||_1 with the intercept */
    kink *k;            /* kinks of the current edge */
    signed char *sgn;   /* sign of each non-basis row (+1/-1); for a
                           degenerate row, the side of zero it is counted on */
    unsigned char *inb; /* row is in the basis */
};

cqb_status cqb_qreg_workspace_alloc(size_t nmax, size_t m, cqb_qreg_workspace **out, cqb_error *err)
{
    *out = NULL;
    if (m < 1 || m > CQB_QREG_MAX_P - 1)
        return cqb_error_set(err, CQB_EUSAGE, "quantile regression: %zu regressors (need 1..%d)", m,
                             CQB_QREG_MAX_P - 1);
    if (nmax < 1 || nmax > (size_t)UINT32_MAX)
        return cqb_error_set(err, CQB_EUSAGE, "quantile regression: %zu rows is out of range", nmax);
    cqb_qreg_workspace *w = calloc(1, sizeof *w);
    if (!w) return cqb_error_set(err, CQB_ENOMEM, "out of memory for a quantile-regression workspace");
    w->nmax = nmax;
    w->mmax = m;
    w->X = malloc(nmax * m * sizeof *w->X);
    w->y = malloc(nmax * sizeof *w->y);
    w->r = malloc(nmax * sizeof *w->r);
    w->a = malloc(nmax * sizeof *w->a);
    w->psi = malloc(nmax * sizeof *w->psi);
    w->xn = malloc(nmax * sizeof *w->xn);
    w->k = malloc(nmax * sizeof *w->k);
    w->sgn = malloc(nmax);
    w->inb = malloc(nmax);
    if (!w->X || !w->y || !w->r || !w->a || !w->psi || !w->xn || !w->k || !w->sgn || !w->inb) {
        cqb_qreg_workspace_free(w);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory for a quantile-regression workspace of %zu rows",
                             nmax);
    }
    *out = w;
    return CQB_OK;
}

void cqb_qreg_workspace_free(cqb_qreg_workspace *w)
{
    if (!w) return;
    free(w->X);
    free(w->y);
    free(w->r);
    free(w->a);
    free(w->psi);
    free(w->xn);
    free(w->k);
    free(w->sgn);
    free(w->inb);
    free(w);
}

/* ------------------------------------------------------- small dense LU -- */

/* In-place LU with partial pivoting of the p x p row-major matrix a;
 * returns -1 on an exactly zero pivot. */
static int lu_factor(double *a, int p, int *piv)
{
    for (int c = 0; c < p; ++c) {
        int best = c;
        double bv = fabs(a[c * p + c]);
        for (int r = c + 1; r < p; ++r)
            if (fabs(a[r * p + c]) > bv) { bv = fabs(a[r * p + c]); best = r; }
        piv[c] = best;
        if (!(bv > 0.0)) return -1;
        if (best != c)
            for (int k = 0; k < p; ++k) {
                double t = a[c * p + k]; a[c * p + k] = a[best * p + k]; a[best * p + k] = t;
            }
        const double d = a[c * p + c];
        for (int r = c + 1; r < p; ++r) {
            double f = a[r * p + c] / d;
            a[r * p + c] = f;
            if (f != 0.0)
                for (int k = c + 1; k < p; ++k) a[r * p + k] -= f * a[c * p + k];
        }
    }
    return 0;
}

/* Solves A v = rhs in place from lu_factor's output. lu_factor swaps whole
 * rows (multipliers included, as LAPACK), so every interchange is applied
 * to v before the forward substitution. */
static void lu_solve(const double *lu, int p, const int *piv, double *v)
{
    for (int c = 0; c < p; ++c)
        if (piv[c] != c) { double t = v[c]; v[c] = v[piv[c]]; v[piv[c]] = t; }
    for (int c = 0; c < p; ++c)
        for (int r = c + 1; r < p; ++r) v[r] -= lu[r * p + c] * v[c];
    for (int c = p - 1; c >= 0; --c) {
        double s = v[c];
        for (int k = c + 1; k < p; ++k) s -= lu[c * p + k] * v[k];
        v[c] = s / lu[c * p + c];
    }
}

/* --------------------------------------------------- weighted selection -- */

static int kink_less(const kink *u, const kink *v)
{
    return u->t < v->t || (u->t == v->t && u->i < v->i);
}

static void kink_swap(kink *k, size_t u, size_t v)
{
    kink t = k[u];
    k[u] = k[v];
    k[v] = t;
}

/* The position (in the reordered array) of the first kink, in the order
 * (t, row), at which the running sum of weights reaches need (need <= 0:
 * the first kink); -1 when the total weight stays below need. Quickselect,
 * expected O(nk); on return the kinks before the returned position are
 * exactly those that precede it in the order. */
static long kink_select(kink *k, size_t nk, double need)
{
    const double need0 = need;
    size_t lo = 0, hi = nk;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        /* median of three into `last` */
        if (kink_less(&k[mid], &k[lo])) kink_swap(k, mid, lo);
        if (kink_less(&k[last], &k[lo])) kink_swap(k, last, lo);
        if (kink_less(&k[mid], &k[last])) kink_swap(k, mid, last);
        const kink pv = k[last];
        size_t st = lo;
        double wl = 0.0;
        for (size_t q = lo; q < last; ++q) {
            if (kink_less(&k[q], &pv)) {
                wl += k[q].w;
                kink_swap(k, q, st);
                ++st;
            }
        }
        kink_swap(k, st, last);
        if (st > lo && wl >= need) {
            hi = st;
        } else if (wl + k[st].w >= need) {
            return (long)st;
        } else {
            need -= wl + k[st].w;
            lo = st + 1;
        }
    }
    /* Only rounding gets here: the running sum equals need at the kink
     * just before lo (== hi) to within rounding, one partial sum saying
     * "reached" and another "not yet"; that kink is the answer (all kinks
     * before it precede it). With hi never lowered, the total weight missed
     * need: an unbounded edge, unless by rounding only. */
    if (lo > 0 && (hi < nk || need <= 1e-12 * need0)) return (long)lo - 1;
    return -1;
}

/* ------------------------------------------------------------------ fit -- */

static double rho_tau(double u, double tau) { return u < 0.0 ? (tau - 1.0) * u : tau * u; }

double cqb_qreg_objective(const double *y, const double *const *xcols, size_t m, const uint32_t *rows,
                          size_t n, double tau, const double *b)
{
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const size_t r = rows ? rows[i] : i;
        double fit = b[0];
        for (size_t c = 0; c < m; ++c) fit += b[c + 1] * xcols[c][r];
        s += rho_tau(y[r] - fit, tau);
    }
    return s;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* out[i] = v[0] + v[1] x_i1 + ... + v[m] x_im over n rows, in that order. */
static void lincomb(const cqb_qreg_workspace *w, size_t n, size_t m, const double *v, double *out)
{
    const double v0 = v[0];
    for (size_t i = 0; i < n; ++i) out[i] = v0;
    for (size_t c = 0; c < m; ++c) {
        const double vc = v[c + 1];
        const double *xc = w->X + c * w->nmax;
        for (size_t i = 0; i < n; ++i) out[i] += vc * xc[i];
    }
}

/* sum_i u_i v_i with four interleaved partial sums (a fixed order). */
static double dot4(const double *u, const double *v, size_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += u[i] * v[i];
        s1 += u[i + 1] * v[i + 1];
        s2 += u[i + 2] * v[i + 2];
        s3 += u[i + 3] * v[i + 3];
    }
    for (; i < n; ++i) s0 += u[i] * v[i];
    return (s0 + s1) + (s2 + s3);
}

static double sum4(const double *u, size_t n)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += u[i];
        s1 += u[i + 1];
        s2 += u[i + 2];
        s3 += u[i + 3];
    }
    for (; i < n; ++i) s0 += u[i];
    return (s0 + s1) + (s2 + s3);
}

/* The kinks of edge d (w->a gets the products a_i = x_i.d): rows out of the
 * basis whose residual the edge moves towards (and through) zero, at
 * t_i = r_i / a_i > 0, or at t = 0 for a degenerate row moved against its
 * sign; a_i must not be negligible. Branch-free compaction. */
static size_t collect_kinks(cqb_qreg_workspace *w, size_t n, size_t m, const double *d, double dmax)
{
    lincomb(w, n, m, d, w->a);
    const double atol = QR_ATOL * dmax;
    size_t nk = 0;
    kink *k = w->k;
    for (size_t i = 0; i < n; ++i) {
        const double ai = w->a[i];
        const int ok = !w->inb[i] & (fabs(ai) > atol * w->xn[i]) & ((double)w->sgn[i] * ai > 0.0);
        k[nk].w = ai;
        k[nk].i = (uint32_t)i;
        nk += (size_t)ok;
    }
    /* positions and weights of the kept rows (divisions only for those) */
    for (size_t q = 0; q < nk; ++q) {
        const double ai = k[q].w;
        k[q].t = w->r[k[q].i] / ai;
        k[q].w = fabs(ai);
    }
    return nk;
}

/* Picks as the starting vertex the p linearly independent rows closest to
 * the hyperplane of `start` (smallest |y_i - x_i.start|, ties to the lower
 * row, among the 8p closest; independence by modified Gram-Schmidt with a
 * relative threshold 1e-9). Returns 0 if there are not p such rows. */
static int warm_basis(cqb_qreg_workspace *w, size_t n, size_t m, const double *start, long *slot_obs)
{
    const size_t p = m + 1;
    size_t K = 8 * p;
    if (K > n) K = n;
    double ce[8 * CQB_QREG_MAX_P];
    size_t ci[8 * CQB_QREG_MAX_P], nc = 0;
    lincomb(w, n, m, start, w->a);
    for (size_t i = 0; i < n; ++i) {
        const double e = fabs(w->y[i] - w->a[i]);
        if (nc == K && !(e < ce[K - 1])) continue; /* ties keep the lower row */
        size_t q = nc < K ? nc++ : K - 1;
        while (q > 0 && e < ce[q - 1]) {
            ce[q] = ce[q - 1];
            ci[q] = ci[q - 1];
            --q;
        }
        ce[q] = e;
        ci[q] = i;
    }
    double Q[CQB_QREG_MAX_P][CQB_QREG_MAX_P];
    size_t got = 0;
    for (size_t q = 0; q < nc && got < p; ++q) {
        double v[CQB_QREG_MAX_P], nrm0 = 1.0;
        v[0] = 1.0;
        for (size_t c = 0; c < m; ++c) {
            v[c + 1] = w->X[c * w->nmax + ci[q]];
            nrm0 += v[c + 1] * v[c + 1];
        }
        for (size_t k = 0; k < got; ++k) {
            double dd = 0.0;
            for (size_t c = 0; c < p; ++c) dd += Q[k][c] * v[c];
            for (size_t c = 0; c < p; ++c) v[c] -= dd * Q[k][c];
        }
        double nrm = 0.0;
        for (size_t c = 0; c < p; ++c) nrm += v[c] * v[c];
        if (!(nrm > 1e-18 * nrm0)) continue;
        nrm = sqrt(nrm);
        for (size_t c = 0; c < p; ++c) Q[got][c] = v[c] / nrm;
        slot_obs[got++] = (long)ci[q];
    }
    return got == p;
}

static cqb_status fit_core(cqb_qreg_workspace *w, const double *y, const double *const *xcols, size_t m,
                           const uint32_t *rows, size_t n, double tau, const double *start, double *beta,
                           double *resid, cqb_qreg_info *info, cqb_error *err)
{
    if (m < 1)
        return cqb_error_set(err, CQB_EUSAGE, "quantile regression: at least one regressor column is needed");
    if (m > w->mmax)
        return cqb_error_set(err, CQB_EUSAGE, "quantile regression: %zu regressors, workspace has room for %zu",
                             m, w->mmax);
    if (n > w->nmax)
        return cqb_error_set(err, CQB_EUSAGE, "quantile regression: %zu rows, workspace has room for %zu", n,
                             w->nmax);
    if (!(tau > 0.0 && tau < 1.0))
        return cqb_error_set(err, CQB_EUSAGE, "quantile regression: tau = %g is outside (0,1)", tau);
    const int p = (int)m + 1;
    if (n < (size_t)p)
        return cqb_error_set(err, CQB_EUSAGE, "quantile regression: %zu rows for %d coefficients", n, p);

    /* Gather the sample by column; row norms and column maxima. */
    double xmax[CQB_QREG_MAX_P], ymax = 0.0;
    xmax[0] = 1.0;
    for (size_t i = 0; i < n; ++i) {
        const size_t r = rows ? rows[i] : i;
        const double yi = y[r];
        if (!isfinite(yi))
            return cqb_error_set(err, CQB_EDATA, "quantile regression: non-finite response at row %zu", r + 1);
        w->y[i] = yi;
        ymax = fmax(ymax, fabs(yi));
        w->xn[i] = 1.0;
        w->sgn[i] = 1; /* a zero residual at the start counts as positive */
    }
    for (size_t c = 0; c < m; ++c) {
        const double *src = xcols[c];
        double *dst = w->X + c * w->nmax, mx = 0.0;
        for (size_t i = 0; i < n; ++i) {
            const size_t r = rows ? rows[i] : i;
            const double v = src[r];
            if (!isfinite(v))
                return cqb_error_set(err, CQB_EDATA, "quantile regression: non-finite regressor %zu at row %zu",
                                     c + 1, r + 1);
            dst[i] = v;
            w->xn[i] += fabs(v);
            mx = fmax(mx, fabs(v));
        }
        xmax[c + 1] = mx;
    }
    const double sumxn = sum4(w->xn, n);
    memset(w->inb, 0, n);

    long slot_obs[CQB_QREG_MAX_P];  /* row of slot j, or -1: unit slot */
    int slot_unit[CQB_QREG_MAX_P];  /* coefficient of a unit slot */
    for (int j = 0; j < p; ++j) {
        slot_obs[j] = -1;
        slot_unit[j] = j;
    }
    int nunit = p;
    if (start) {
        for (int c = 0; c < p; ++c)
            if (!isfinite(start[c]))
                return cqb_error_set(err, CQB_EUSAGE, "quantile regression: non-finite starting coefficients");
        if (warm_basis(w, n, m, start, slot_obs)) {
            nunit = 0;
            for (int j = 0; j < p; ++j) w->inb[slot_obs[j]] = 1;
        } else {
            for (int j = 0; j < p; ++j) slot_obs[j] = -1;
        }
    }
    double A[CQB_QREG_MAX_P * CQB_QREG_MAX_P], Dc[CQB_QREG_MAX_P * CQB_QREG_MAX_P];
    double b[CQB_QREG_MAX_P], g[CQB_QREG_MAX_P], Dp[CQB_QREG_MAX_P], Dm[CQB_QREG_MAX_P],
        tol[CQB_QREG_MAX_P], dmaxv[CQB_QREG_MAX_P];
    int piv[CQB_QREG_MAX_P];
    const size_t maxit = 1000 + 50 * (n + (size_t)p);
    size_t it = 0, nz = 0, streak = 0;
    int nonunique = 0;

    for (;; ++it) {
        if (it > maxit)
            return cqb_error_set(err, CQB_EINTERNAL, "quantile regression: no convergence in %zu steps", maxit);
        /* Factorise the basis; b and the edges d_j (columns of A^{-1}). */
        for (int j = 0; j < p; ++j) {
            if (slot_obs[j] >= 0) {
                const size_t i = (size_t)slot_obs[j];
                A[j * p] = 1.0;
                for (size_t c = 0; c < m; ++c) A[j * p + (int)c + 1] = w->X[c * w->nmax + i];
                b[j] = w->y[i];
            } else {
                for (int c = 0; c < p; ++c) A[j * p + c] = (c == slot_unit[j]) ? 1.0 : 0.0;
                b[j] = 0.0;
            }
        }
        if (lu_factor(A, p, piv) != 0)
            return cqb_error_set(err, CQB_EINTERNAL, "quantile regression: singular basis");
        lu_solve(A, p, piv, b);
        for (int j = 0; j < p; ++j) {
            double *dj = Dc + j * p;
            for (int c = 0; c < p; ++c) dj[c] = (c == j) ? 1.0 : 0.0;
            lu_solve(A, p, piv, dj);
            double mx = 0.0;
            for (int c = 0; c < p; ++c) mx = fmax(mx, fabs(dj[c]));
            dmaxv[j] = mx;
        }

        /* Residuals; degenerate rows keep their sign; psi of each row. */
        double zthr = ymax;
        for (int c = 0; c < p; ++c) zthr += fabs(b[c]) * xmax[c];
        zthr *= QR_ZTOL;
        lincomb(w, n, m, b, w->a);
        nz = 0;
        for (size_t i = 0; i < n; ++i) {
            /* branch-free: the signs are unpredictable */
            double ri = w->y[i] - w->a[i];
            const int deg = fabs(ri) <= zthr;
            const int basic = w->inb[i];
            const int zero = deg | basic;
            ri = zero ? 0.0 : ri;
            nz += (size_t)(deg & !basic);
            int sg = (ri > 0.0) - (ri < 0.0);
            sg += (sg == 0) * w->sgn[i];
            w->sgn[i] = (signed char)sg;
            w->r[i] = ri;
            w->psi[i] = basic ? 0.0 : tau - (double)(sg < 0);
        }
        /* Gradient g = sum over non-basis rows of psi_i x_i. */
        g[0] = sum4(w->psi, n);
        for (size_t c = 0; c < m; ++c) g[c + 1] = dot4(w->psi, w->X + c * w->nmax, n);

        /* Reduced costs of the 2p edges. */
        for (int j = 0; j < p; ++j) {
            const double *dj = Dc + j * p;
            double cj = 0.0;
            for (int c = 0; c < p; ++c) cj += g[c] * dj[c];
            const int obs = slot_obs[j] >= 0;
            Dp[j] = -cj + (obs ? 1.0 - tau : 0.0);
            Dm[j] = cj + (obs ? tau : 0.0);
            tol[j] = QR_DTOL * (1.0 + sumxn * dmaxv[j]);
        }

        /* Choose the edge: phase 1 releases a unit slot (the most negative
         * derivative), phase 2 the steepest descent edge, or after a run of
         * degenerate steps the descent edge of the smallest basis row. */
        int bj = -1;
        double bs = 1.0, bd = INFINITY;
        if (nunit > 0 || streak < QR_BLAND_AFTER) {
            for (int j = 0; j < p; ++j) {
                if (nunit > 0 && slot_obs[j] >= 0) continue;
                if (Dp[j] < bd) { bd = Dp[j]; bj = j; bs = 1.0; }
                if (Dm[j] < bd) { bd = Dm[j]; bj = j; bs = -1.0; }
            }
        } else {
            long brow = -1;
            for (int j = 0; j < p; ++j) {
                const double dj = Dp[j] < Dm[j] ? Dp[j] : Dm[j];
                if (dj < -tol[j] && (brow < 0 || slot_obs[j] < brow)) {
                    brow = slot_obs[j];
                    bj = j;
                    bd = dj;
                    bs = Dp[j] < Dm[j] ? 1.0 : -1.0;
                }
            }
            if (bj < 0) {
                bj = 0;
                bd = Dp[0] < Dm[0] ? Dp[0] : Dm[0];
            }
        }
        if (nunit == 0 && !(bd < -tol[bj])) {
            /* Optimal. An edge of zero true slope (counting the degenerate
             * rows it moves off zero) means the minimiser is not unique. */
            for (int j = 0; j < p && !nonunique; ++j) {
                for (int s = -1; s <= 1; s += 2) {
                    double d[CQB_QREG_MAX_P];
                    for (int c = 0; c < p; ++c) d[c] = s * Dc[j * p + c];
                    double slope = s > 0 ? Dp[j] : Dm[j];
                    if (slope > tol[j]) continue;
                    size_t nk = collect_kinks(w, n, m, d, dmaxv[j]);
                    for (size_t q = 0; q < nk; ++q)
                        if (w->k[q].t == 0.0) slope += w->k[q].w;
                    if (slope <= tol[j]) nonunique = 1;
                }
            }
            break;
        }
        double d[CQB_QREG_MAX_P];
        for (int c = 0; c < p; ++c) d[c] = bs * Dc[bj * p + c];
        long pos = -1;
        size_t nk = 0;
        for (int flip = 0; pos < 0 && flip < 2; ++flip) {
            double need = bd < 0.0 ? -bd : 0.0;
            if (flip) {
                /* phase 1 on a flat edge with no kink ahead: the other way */
                if (bd < -tol[bj]) break;
                for (int c = 0; c < p; ++c) d[c] = -d[c];
                bs = -bs;
                need = 0.0;
            }
            nk = collect_kinks(w, n, m, d, dmaxv[bj]);
            pos = kink_select(w->k, nk, need);
        }
        if (pos < 0) {
            if (bd < 0.0 && nk > 0)
                return cqb_error_set(err, CQB_EDATA,
                                     "quantile regression: the objective is unbounded along an edge "
                                     "(rank-deficient design?)");
            return cqb_error_set(err, CQB_EDATA,
                                 "quantile regression: rank-deficient design (the intercept and the "
                                 "%zu regressor column(s) are linearly dependent over the %zu rows)",
                                 m, n);
        }
        /* Kinks before the entering one were crossed: their sign flips. */
        for (long q = 0; q < pos; ++q) w->sgn[w->k[q].i] = (signed char)-w->sgn[w->k[q].i];
        streak = w->k[pos].t == 0.0 ? streak + 1 : 0;
        const long enter = (long)w->k[pos].i;
        if (slot_obs[bj] >= 0) {
            /* the released row's residual leaves zero as -s t */
            w->inb[slot_obs[bj]] = 0;
            w->sgn[slot_obs[bj]] = (signed char)(bs > 0 ? -1 : 1);
        } else {
            --nunit;
        }
        slot_obs[bj] = enter;
        w->inb[enter] = 1;
    }

    /* Output: residuals y - fitted in R's order, objective, scale. */
    for (int c = 0; c < p; ++c) beta[c] = b[c];
    lincomb(w, n, m, b, w->a);
    double scale = 1.0, obj = 0.0;
    size_t nneg = 0;
    for (size_t i = 0; i < n; ++i) {
        double mag = fabs(w->y[i]) + fabs(b[0]);
        for (size_t c = 0; c < m; ++c) mag += fabs(b[c + 1] * w->X[c * w->nmax + i]);
        if (mag > scale) scale = mag;
        if (resid) resid[i] = w->y[i] - w->a[i];
        obj += rho_tau(w->r[i], tau);
        nneg += w->r[i] < 0.0;
    }
    if (info) {
        memset(info, 0, sizeof *info);
        info->p = (size_t)p;
        info->objective = obj;
        info->iterations = it;
        for (int j = 0; j < p; ++j) info->basis[j] = (size_t)slot_obs[j];
        qsort(info->basis, (size_t)p, sizeof info->basis[0], cmp_size);
        info->nneg = nneg;
        info->ndegen = nz;
        info->nonunique = nonunique;
        info->scale = scale;
    }
    return CQB_OK;
}

cqb_status cqb_qreg_fit(cqb_qreg_workspace *w, const double *y, const double *const *xcols, size_t m,
                        const uint32_t *rows, size_t n, double tau, double *beta, double *resid,
                        cqb_qreg_info *info, cqb_error *err)
{
    return fit_core(w, y, xcols, m, rows, n, tau, NULL, beta, resid, info, err);
}

cqb_status cqb_qreg_fit_start(cqb_qreg_workspace *w, const double *y, const double *const *xcols, size_t m,
                              const uint32_t *rows, size_t n, double tau, const double *start, double *beta,
                              double *resid, cqb_qreg_info *info, cqb_error *err)
{
    return fit_core(w, y, xcols, m, rows, n, tau, start, beta, resid, info, err);
}
