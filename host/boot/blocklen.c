/* blocklen.c — Politis & White (2004) / Patton, Politis & White (2009)
 * automatic block length, computed as R's np::b.star(round = FALSE)
 * (cross-quantilogram.md §7.1, §7.2), and gamma for the *.opt variants (§4.6).
 *
 * Written from the specification. Numerical details follow R so that the
 * results agree with np to ~1e-12:
 *  - the mean is accumulated in long double and divided in long double
 *    (R colMeans), then rounded to double before demeaning (R sweep);
 *  - autocovariances R(k) = sum_{i<n-k} e[i+k] e[i] / n with a double
 *    accumulator (R's C acf); the same values serve both the correlation
 *    call (rho(k) = R(k) / (se*se), se = sqrt(R(0)), clamped to [-1, 1]) and
 *    np's separate ccf(type = "covariance") call, which computes identical
 *    numbers for x against itself;
 *  - the window sums G_hat and g_hat(0) are accumulated in long double (R sum).
 */
#include "cqboot/blocklen.h"

#include <math.h>
#include <stdlib.h>

/* qnorm(0.975) as printed by R with 17 significant digits. */
#define CQB_BSTAR_C_DEFAULT 1.959963984540054

void cqb_bstar_opts_default(cqb_bstar_opts *o)
{
    if (o == NULL)
        return;
    o->c = 0.0;
    o->kn = 0;
    o->mmax = 0;
}

/* Flat-top lag window of Politis & Romano (1995): 1 on |s| < 1/2, linear
 * down to 0 at |s| = 1, 0 beyond (both branches give 1 at |s| = 1/2). */
static double flat_top(double s)
{
    double a = fabs(s);
    if (a < 0.5)
        return 1.0;
    if (a <= 1.0)
        return 2.0 * (1.0 - a);
    return 0.0;
}

int cqb_bstar(const double *x, size_t n, const cqb_bstar_opts *opts,
              double *b_sb, double *b_cb)
{
    if (x == NULL)
        return (int)CQB_EUSAGE;
    if (n < 3)
        return (int)CQB_EDATA;

    int constant = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return (int)CQB_EDATA;
        if (x[i] != x[0])
            constant = 0;
    }
    if (constant)
        return (int)CQB_EDATA;

    const double dn = (double)n;
    int kn = (opts != NULL && opts->kn > 0) ? opts->kn : 0;
    if (kn == 0) {
        kn = (int)ceil(log10(dn));
        if (kn < 5)
            kn = 5;
    }
    int mmax = (opts != NULL && opts->mmax > 0) ? opts->mmax : 0;
    if (mmax == 0)
        mmax = (int)ceil(sqrt(dn)) + kn;
    const double c = (opts != NULL && opts->c > 0.0) ? opts->c : CQB_BSTAR_C_DEFAULT;
    const double bmax = ceil(fmin(3.0 * sqrt(dn), dn / 3.0));

    /* Lags 1..mmax must exist (R's acf would silently truncate them and
     * np's run search would then fail on NA). */
    if (mmax < 1 || (size_t)mmax >= n) /* (mmax < 1 only by overflow; it also tells the
                                          * compiler that acov[0] is set below) */
        return (int)CQB_EDATA;

    double *e = malloc(n * sizeof *e);
    double *acov = malloc(((size_t)mmax + 1) * sizeof *acov);
    double *rho = malloc(((size_t)mmax + 1) * sizeof *rho);
    if (e == NULL || acov == NULL || rho == NULL) {
        free(e);
        free(acov);
        free(rho);
        return (int)CQB_ENOMEM;
    }

    /* Demean with the full-sample mean (R colMeans: long double sum and
     * division, stored as double). */
    long double lsum = 0.0L;
    for (size_t i = 0; i < n; i++)
        lsum += x[i];
    lsum /= (long double)n;
    const double mean = (double)lsum;
    for (size_t i = 0; i < n; i++)
        e[i] = x[i] - mean;

    /* Autocovariances, divisor n (R acf). */
    for (int lag = 0; lag <= mmax; lag++) {
        double s = 0.0;
        size_t L = (size_t)lag;
        for (size_t i = 0; i + L < n; i++)
            s += e[i + L] * e[i];
        acov[lag] = s / dn;
    }
    if (!(acov[0] > 0.0)) {
        free(e);
        free(acov);
        free(rho);
        return (int)CQB_EDATA;
    }

    /* Autocorrelations as R acf(type = "correlation"). */
    const double se = sqrt(acov[0]);
    rho[0] = 1.0;
    for (int lag = 1; lag <= mmax; lag++) {
        double a = acov[lag] / (se * se);
        rho[lag] = (a > 1.0) ? 1.0 : ((a < -1.0) ? -1.0 : a);
    }

    /* Bandwidth: first j in 1..mmax-kn+1 whose run rho(j..j+kn-1) is
     * entirely insignificant; otherwise the largest significant lag, or 1. */
    const double crit = c * sqrt(log10(dn) / dn);
    int mhat = 0;
    for (int j = 1; j + kn - 1 <= mmax && mhat == 0; j++) {
        int all_small = 1;
        for (int l = j; l < j + kn; l++) {
            if (!(fabs(rho[l]) < crit)) {
                all_small = 0;
                break;
            }
        }
        if (all_small)
            mhat = j;
    }
    if (mhat == 0) {
        for (int l = mmax; l >= 1; l--) {
            if (fabs(rho[l]) > crit) {
                mhat = l;
                break;
            }
        }
        if (mhat == 0)
            mhat = 1;
    }
    const int M = (2 * mhat < mmax) ? 2 * mhat : mmax;

    /* Flat-top weighted sums over k = -M..M, in R's order and association:
     * G_hat = sum((lam(k/M) * |k|) * R(k)), g0 = sum(lam(k/M) * R(k)). */
    long double lg = 0.0L, lg0 = 0.0L;
    for (int k = -M; k <= M; k++) {
        const double lam = flat_top((double)k / (double)M);
        const double rk = acov[k < 0 ? -k : k];
        lg += (lam * fabs((double)k)) * rk;
        lg0 += lam * rk;
    }
    free(e);
    free(acov);
    free(rho);

    const double G = (double)lg;
    const double g0 = (double)lg0;
    const double d_cb = 4.0 / 3.0 * (g0 * g0);
    const double d_sb = 2.0 * (g0 * g0);
    const double n13 = pow(dn, 1.0 / 3.0);
    double sb = pow((2.0 * (G * G)) / d_sb, 1.0 / 3.0) * n13;
    double cb = pow((2.0 * (G * G)) / d_cb, 1.0 / 3.0) * n13;
    if (isnan(sb) || isnan(cb))
        return (int)CQB_EDATA; /* G_hat = g_hat(0) = 0: undefined (R gives NaN) */
    if (sb > bmax)
        sb = bmax;
    if (cb > bmax)
        cb = bmax;
    if (b_sb != NULL)
        *b_sb = sb;
    if (b_cb != NULL)
        *b_cb = cb;
    return (int)CQB_OK;
}

static double inv_b(double b, int floor1)
{
    if (floor1 && b < 1.0)
        b = 1.0;
    if (b == 0.0)
        return INFINITY;
    return 1.0 / b;
}

double cqb_gamma_from_bstar(const double *b_sb, size_t k, int floor1)
{
    if (b_sb == NULL || k == 0)
        return 1.0;
    /* mean() as R computes it: long double sum, then one refinement pass
     * when the first estimate is finite. */
    long double s = 0.0L;
    for (size_t i = 0; i < k; i++)
        s += inv_b(b_sb[i], floor1);
    s /= (long double)k;
    if (isfinite((double)s)) {
        long double t = 0.0L;
        for (size_t i = 0; i < k; i++)
            t += inv_b(b_sb[i], floor1) - s;
        s += t / (long double)k;
    }
    const double g = (double)s;
    if (isnan(g))
        return g;
    return (g < 1.0) ? g : 1.0;
}
