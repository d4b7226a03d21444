/* wmc_math.c — small dense linear algebra with R's rank rules (the kernels
 * themselves are in wmc_linalg.h, shared with the CUDA code) and the
 * distribution functions used by the wavelet multiple correlation code.
 * Written from the definitions (see wmc_internal.h); FP64 throughout, no
 * state, thread-safe. */
#include "wmc_internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define CQBW_PI 3.14159265358979323846

/* ------------------------------------------------------------------------- */
/* Rank, diag(A^-1) and the multiple correlation: wmc_linalg.h                 */
/* ------------------------------------------------------------------------- */

size_t cqbw_qr_rank(const double *A, size_t d, double tol, double *work)
{
    return cqbw_la_qr_rank(A, d, tol, work);
}

/* The LU fallback's d pivot indices: on the stack for the usual few series,
 * else in the d extra doubles of work that cqbw_mulcor_work() adds (a size_t
 * is no larger than a double, and the storage is the caller's allocation). */
#define CQBW_MC_STACK_PERM 64

size_t cqbw_mulcor_work(size_t d)
{
    /* R (d*d) + diag (d) + max(QR: d*d + 3d, LU: d*d + d) + pivots beyond the stack */
    return 2 * d * d + 5 * d + (d > CQBW_MC_STACK_PERM ? d : 0);
}

int cqbw_mulcor(const double *S, size_t d, int ymaxr, double *phi, int *dep, double *work)
{
    size_t stack_perm[CQBW_MC_STACK_PERM];
    size_t *perm = d <= CQBW_MC_STACK_PERM ? stack_perm : (size_t *)(void *)(work + 2 * d * d + 5 * d);
    return cqbw_la_mulcor(S, d, ymaxr, phi, dep, work, perm);
}

/* ------------------------------------------------------------------------- */
/* Moments of a regression of one series on the others                        */
/* ------------------------------------------------------------------------- */

void cqbw_moments_add_row(double *G, double *sx, double *sy, size_t m, const double *base, size_t n, size_t d,
                          size_t k, size_t t, double yv)
{
    const size_t q = m - 1;
    *sy += yv;
    G[q * m + q] += yv * yv;
    size_t a = 0;
    for (size_t kk = 0; kk < d; ++kk) {
        if (kk == k) continue;
        double xa = base[kk * n + t];
        sx[a] += xa;
        G[a * m + q] += xa * yv;
        size_t b = 0;
        for (size_t ll = 0; ll <= kk; ++ll) {
            if (ll == k) continue;
            G[a * m + b] += xa * base[ll * n + t];
            ++b;
        }
        ++a;
    }
}

void cqbw_moments_centre(double *G, double *sx, double sy, double *raw, size_t q, double nn)
{
    const size_t m = q + 1;
    for (size_t a = 0; a < q; ++a) {
        raw[a] = G[a * m + a];
        for (size_t b = 0; b <= a; ++b) {
            double c = G[a * m + b] - sx[a] * sx[b] / nn;
            G[a * m + b] = c;
            G[b * m + a] = c;
        }
        double c = G[a * m + q] - sx[a] * sy / nn;
        G[a * m + q] = c;
        G[q * m + a] = c;
    }
    G[q * m + q] -= sy * sy / nn;
}

/* ------------------------------------------------------------------------- */
/* Regression from centred cross-products (Cholesky with lm's rank rule)      */
/* ------------------------------------------------------------------------- */

size_t cqbw_regress_work(size_t q)
{
    size_t m = q + 1;
    return 2 * m * m + m;
}

int cqbw_regress(const double *G, const double *raw_diag, const double *xbar, size_t q,
                 double *r2, double *rss, double *beta, double *cinv_diag, double *xbar_quad,
                 double *work)
{
    const size_t m = q + 1;
    double *L = work;          /* m x m lower, row-major */
    double *Li = L + m * m;    /* q x q inverse of L_XX */
    double *alias = Li + m * m; /* m flags */
    int naliased = 0;
    memset(L, 0, m * m * sizeof *L);
    memset(Li, 0, m * m * sizeof *Li);
    for (size_t j = 0; j < m; ++j) {
        alias[j] = 0.0;
        double dj = G[j * m + j];
        for (size_t k = 0; k < j; ++k)
            if (alias[k] == 0.0) dj -= L[j * m + k] * L[j * m + k];
        if (j < q) {
            double refv = raw_diag ? raw_diag[j] : G[j * m + j];
            if (!(dj > CQBW_QR_TOL2 * refv) || !(dj > 0.0)) {
                alias[j] = 1.0;
                ++naliased;
                continue;
            }
            double ljj = sqrt(dj);
            L[j * m + j] = ljj;
            for (size_t i = j + 1; i < m; ++i) {
                double s = G[i * m + j];
                for (size_t k = 0; k < j; ++k)
                    if (alias[k] == 0.0) s -= L[i * m + k] * L[j * m + k];
                L[i * m + j] = s / ljj;
            }
        } else {
            double tss = G[q * m + q];
            if (!(tss > 0.0)) return -1;
            if (dj < 0.0) dj = 0.0;
            if (rss) *rss = dj;
            if (r2) *r2 = 1.0 - dj / tss;
        }
    }
    /* beta = L_XX^-T L_yX */
    if (beta) {
        for (size_t j = q; j-- > 0;) {
            if (alias[j] != 0.0) {
                beta[j] = NAN;
                continue;
            }
            double s = L[q * m + j];
            for (size_t i = j + 1; i < q; ++i)
                if (alias[i] == 0.0) s -= L[i * m + j] * beta[i];
            beta[j] = s / L[j * m + j];
        }
    }
    if (cinv_diag || xbar_quad) {
        /* Li = L_XX^-1 over the non-aliased regressors */
        for (size_t c = 0; c < q; ++c) {
            if (alias[c] != 0.0) continue;
            Li[c * m + c] = 1.0 / L[c * m + c];
            for (size_t i = c + 1; i < q; ++i) {
                if (alias[i] != 0.0) continue;
                double s = 0.0;
                for (size_t k = c; k < i; ++k)
                    if (alias[k] == 0.0) s -= L[i * m + k] * Li[k * m + c];
                Li[i * m + c] = s / L[i * m + i];
            }
        }
        if (cinv_diag)
            for (size_t j = 0; j < q; ++j) {
                if (alias[j] != 0.0) {
                    cinv_diag[j] = NAN;
                    continue;
                }
                double s = 0.0;
                for (size_t i = j; i < q; ++i) s += Li[i * m + j] * Li[i * m + j];
                cinv_diag[j] = s;
            }
        if (xbar_quad) {
            double s = 0.0;
            if (xbar)
                for (size_t i = 0; i < q; ++i) {
                    if (alias[i] != 0.0) continue;
                    double v = 0.0;
                    for (size_t k = 0; k <= i; ++k)
                        if (alias[k] == 0.0) v += Li[i * m + k] * xbar[k];
                    s += v * v;
                }
            *xbar_quad = s;
        }
    }
    return naliased;
}

/* ------------------------------------------------------------------------- */
/* Distribution functions                                                     */
/* ------------------------------------------------------------------------- */

/* lgamma(x) - [(x - 1/2) log x - x + log(2 pi)/2] for x >= 10 (Stirling). */
static double stirling_omega(double x)
{
    double r = 1.0 / x, r2 = r * r;
    return r * (1.0 / 12.0 -
                r2 * (1.0 / 360.0 -
                      r2 * (1.0 / 1260.0 -
                            r2 * (1.0 / 1680.0 -
                                  r2 * (1.0 / 1188.0 - r2 * (691.0 / 360360.0 - r2 / 156.0))))));
}

/* lgamma(a) - lgamma(a + b), accurate for large a. */
static double lgamma_ratio(double a, double b)
{
    if (a >= 10.0)
        return -(a - 0.5) * log1p(b / a) - b * log(a + b) + b + (stirling_omega(a) -
                                                                 stirling_omega(a + b));
    return lgamma(a) - lgamma(a + b);
}

static double lbeta(double a, double b)
{
    double lo = a < b ? a : b, hi = a < b ? b : a;
    if (hi >= 10.0) return lgamma(lo) + lgamma_ratio(hi, lo);
    return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* Continued fraction for I_x(a, b) (valid for x < (a+1)/(a+b+2)); y = 1-x. */
static double ibeta_cf(double a, double b, double x, double y)
{
    const double tiny = 1e-300;
    double lnx = x < 0.5 ? log(x) : log1p(-y);
    double lny = y < 0.5 ? log(y) : log1p(-x);
    double front = exp(a * lnx + b * lny - lbeta(a, b)) / a;
    if (front == 0.0) return 0.0;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, dd = 1.0 - qab * x / qap;
    if (fabs(dd) < tiny) dd = tiny;
    dd = 1.0 / dd;
    double h = dd;
    for (int m = 1; m <= 100000; ++m) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        dd = 1.0 + aa * dd;
        if (fabs(dd) < tiny) dd = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        dd = 1.0 / dd;
        h *= dd * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        dd = 1.0 + aa * dd;
        if (fabs(dd) < tiny) dd = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        dd = 1.0 / dd;
        double del = dd * c;
        h *= del;
        if (fabs(del - 1.0) <= 1e-16) break;
    }
    return front * h;
}

/* Regularised incomplete beta I_x(a, b) with y = 1 - x given separately. */
static double ibeta(double a, double b, double x, double y)
{
    if (isnan(x) || isnan(y) || !(a > 0.0) || !(b > 0.0)) return NAN;
    if (x <= 0.0) return 0.0;
    if (y <= 0.0) return 1.0;
    if (x > (a + 1.0) / (a + b + 2.0)) return 1.0 - ibeta_cf(b, a, y, x);
    return ibeta_cf(a, b, x, y);
}

double cqbw_pt2(double t, double df)
{
    if (isnan(t) || !(df > 0.0)) return NAN;
    if (isinf(t)) return 0.0;
    double t2 = t * t;
    if (t2 == 0.0) return 1.0;
    double den = df + t2;
    return ibeta(0.5 * df, 0.5, df / den, t2 / den);
}

double cqbw_pf_upper(double f, double d1, double d2)
{
    if (isnan(f) || !(d1 > 0.0) || !(d2 > 0.0)) return NAN;
    if (f <= 0.0) return 1.0;
    if (isinf(f)) return 0.0;
    double den = d2 + d1 * f;
    return ibeta(0.5 * d2, 0.5 * d1, d2 / den, d1 * f / den);
}

double cqbw_qnorm(double p)
{
    if (isnan(p) || p < 0.0 || p > 1.0) return NAN;
    if (p == 0.0) return -INFINITY;
    if (p == 1.0) return INFINITY;
    if (p == 0.5) return 0.0;
    double alpha = p < 0.5 ? p : 1.0 - p; /* upper-tail target, exact for p >= 0.5 */
    /* Abramowitz & Stegun 26.2.23 start (|error| < 4.5e-4), then Halley steps
     * on Q(z) = erfc(z / sqrt 2) / 2 = alpha. */
    double t = sqrt(-2.0 * log(alpha));
    double z = t - (2.515517 + t * (0.802853 + t * 0.010328)) /
                       (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308)));
    const double rt2 = sqrt(2.0), rt2pi = sqrt(2.0 * CQBW_PI);
    for (int it = 0; it < 20; ++it) {
        double e = 0.5 * erfc(z / rt2) - alpha;
        double u = e * rt2pi * exp(0.5 * z * z);
        double dz = u / (1.0 - 0.5 * z * u);
        z += dz;
        if (fabs(dz) <= 1e-16 * fabs(z)) break;
    }
    return p < 0.5 ? -z : z;
}

double cqbw_qt(double p, double df)
{
    if (isnan(p) || p < 0.0 || p > 1.0 || !(df > 0.0)) return NAN;
    if (p == 0.0) return -INFINITY;
    if (p == 1.0) return INFINITY;
    if (p == 0.5) return 0.0;
    double alpha = p < 0.5 ? p : 1.0 - p;
    double z = cqbw_qnorm(1.0 - alpha);
    double z2 = z * z;
    double t = z + z * (z2 + 1.0) / (4.0 * df) +
               z * (5.0 * z2 * z2 + 16.0 * z2 + 3.0) / (96.0 * df * df);
    if (!(t > 0.0) || !isfinite(t)) t = z;
    double half = 0.5 * df;
    double lconst = (half >= 10.0 ? -lgamma_ratio(half, 0.5) : lgamma(half + 0.5) - lgamma(half)) -
                    0.5 * log(df * CQBW_PI);
    for (int it = 0; it < 100; ++it) {
        double q = 0.5 * cqbw_pt2(t, df);
        double dens = exp(lconst - (half + 0.5) * log1p(t * t / df));
        if (!(dens > 0.0)) break;
        double dt = (q - alpha) / dens;
        double tn = t + dt;
        if (tn <= 0.0) tn = 0.5 * t;
        double change = fabs(tn - t);
        t = tn;
        if (change <= 4.0 * DBL_EPSILON * t) break;
    }
    return p < 0.5 ? -t : t;
}

void cqbw_fisher_ci(double phi, double nsz, double q, int trunc0, size_t d, double *lo,
                    double *up, double *pval)
{
    double z = atanh(phi);
    double s = q / sqrt(nsz - 3.0);
    if (lo) {
        double l = tanh(z - s);
        if (trunc0 && l < 0.0) l = 0.0;
        *lo = l;
    }
    if (up) *up = tanh(z + s);
    if (pval) {
        double df2 = nsz - (double)d;
        double r2 = phi * phi;
        if (isnan(phi) || isnan(nsz) || !(df2 > 0.0) || d < 2)
            *pval = NAN;
        else if (r2 >= 1.0)
            *pval = 0.0;
        else
            *pval = cqbw_pf_upper((r2 / (double)(d - 1)) / ((1.0 - r2) / df2), (double)(d - 1),
                                  df2);
    }
}

void cqbw_rank_abs(const double *t, size_t m, int *rank)
{
    for (size_t i = 0; i < m; ++i) {
        if (isnan(t[i])) {
            rank[i] = 0;
            continue;
        }
        double a = fabs(t[i]);
        int r = 1;
        for (size_t j = 0; j < m; ++j)
            if (!isnan(t[j]) && fabs(t[j]) > a) ++r;
        rank[i] = r;
    }
}
