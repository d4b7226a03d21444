/* test_wlmc.c — the wavelet multiple correlation family beyond the R
 * oracles (those are in test_wavelet.c): the corrected mode against
 * independent straightforward implementations and hand-checked cases, the
 * DEFINED behaviours where R fails, the uniform fast path against the
 * direct sums, workspace reuse, and bad inputs (status and message). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/wavelet.h"
#include "cqboot/wlmc.h"
#include "cqboot/wmc.h"
#include "testdata.h"

/* ------------------------------------------------------------------------- */
/* Data                                                                       */
/* ------------------------------------------------------------------------- */

static double *load_ex3(size_t *n)
{
    size_t nd, nj, nx;
    double *dem = td_load_column("wlmc/exchange.csv", "DEM.USD", &nd);
    double *jpy = td_load_column("wlmc/exchange.csv", "JPY.USD", &nj);
    double *xr = td_load_column("wlmc/xrand.csv", "xrand1", &nx);
    const size_t N = 347;
    double *x = malloc(3 * N * sizeof *x);
    cr_assert_not_null(x);
    td_logdiff(dem, nd, x);
    td_logdiff(jpy, nj, x + N);
    memcpy(x + 2 * N, xr, N * sizeof *x);
    free(dem);
    free(jpy);
    free(xr);
    *n = N;
    return x;
}

static double *prep(const double *x, size_t n, size_t d, cqb_wavelet wf, int J, cqb_boundary b,
                    cqb_wmc_mode mode, int align, cqb_wlevels *in)
{
    size_t len = cqb_wlevels_length(n, b, mode);
    double *coef = malloc(((size_t)J + 1) * d * len * sizeof *coef);
    cr_assert_not_null(coef);
    cqb_error err = {0};
    cqb_status st = cqb_wlevels_prepare(x, n, n, d, wf, J, b, mode, align, coef, in, NULL, &err);
    cr_assert_eq(st, CQB_OK, "prepare: %s", err.msg);
    return coef;
}

/* ------------------------------------------------------------------------- */
/* Independent reference computations (plain loops over all t)               */
/* ------------------------------------------------------------------------- */

static double kern(cqb_window w, double M, double z)
{
    z = fabs(z);
    double r = z / M;
    switch (w) {
    case CQB_WINDOW_UNIFORM: return z <= M ? 1.0 : 0.0;
    case CQB_WINDOW_CLEVELAND: return z <= M ? pow(1.0 - r * r * r, 3) : 0.0;
    case CQB_WINDOW_EPANECHNIKOV: return z <= M ? 1.0 - r * r : 0.0;
    case CQB_WINDOW_BARTLETT: return z <= M ? 1.0 - r : 0.0;
    case CQB_WINDOW_WENDLAND: return z <= M ? pow(1.0 - r, 4) * (1.0 + 4.0 * r) : 0.0;
    case CQB_WINDOW_GAUSSIAN: return exp(-r * r);
    }
    return NAN;
}

/* 3x3 (or 2x2) inverse diagonal by cofactors */
static void inv_diag_small(double R[3][3], size_t d, double *pi)
{
    if (d == 2) {
        double det = R[0][0] * R[1][1] - R[0][1] * R[1][0];
        pi[0] = R[1][1] / det;
        pi[1] = R[0][0] / det;
        return;
    }
    double det = R[0][0] * (R[1][1] * R[2][2] - R[1][2] * R[2][1]) -
                 R[0][1] * (R[1][0] * R[2][2] - R[1][2] * R[2][0]) +
                 R[0][2] * (R[1][0] * R[2][1] - R[1][1] * R[2][0]);
    pi[0] = (R[1][1] * R[2][2] - R[1][2] * R[2][1]) / det;
    pi[1] = (R[0][0] * R[2][2] - R[0][2] * R[2][0]) / det;
    pi[2] = (R[0][0] * R[1][1] - R[0][1] * R[1][0]) / det;
}

/* multiple correlation of the uncentred moment matrix S (d = 2 or 3);
 * dep 1-based (fixed when ymaxr > 0); signed for d = 2 */
static double ref_mulcor(double S[3][3], size_t d, int ymaxr, int *dep)
{
    double R[3][3], pi[3];
    for (size_t k = 0; k < d; ++k)
        for (size_t l = 0; l < d; ++l) R[k][l] = S[k][l] / (sqrt(S[k][k]) * sqrt(S[l][l]));
    inv_diag_small(R, d, pi);
    size_t k = 0;
    if (ymaxr > 0)
        k = (size_t)ymaxr - 1;
    else if (d == 3)
        for (size_t m = 1; m < d; ++m)
            if (pi[m] > pi[k]) k = m;
    *dep = (int)k + 1;
    double phi = sqrt(1.0 - 1.0 / pi[k]);
    if (d == 2) phi = R[0][1] < 0 ? -phi : phi;
    return phi;
}

static double level_val(const cqb_wlevels *in, int i, size_t k, long t)
{
    if (t < 0 || (size_t)t >= in->n) return NAN;
    return in->x[((size_t)i * in->d + k) * in->n + (size_t)t];
}

static int row_ok(const cqb_wlevels *in, int i, long t)
{
    for (size_t k = 0; k < in->d; ++k)
        if (isnan(level_val(in, i, k, t))) return 0;
    return 1;
}

/* corrected-mode WLMC / WLMCC lag at (level i, time s, lag L), d <= 3:
 * rows t (complete at t and t + L) weighted by v(|t-s|) = u^pw; y = series
 * k at t + L in slot k. Returns phi; *V, *V2 the weight sums and *A the sum
 * of v over all t; *dep per the argmax when k < 0. */
static double ref_corrected(const cqb_wlevels *in, int i, long s, long L, int k, cqb_window w,
                            double M, int pw, double *V, double *V2, double *A, int *dep)
{
    const size_t d = in->d;
    double S[3][3] = {{0}};
    *V = *V2 = *A = 0.0;
    for (long t = 0; t < (long)in->n; ++t) {
        double v = pow(kern(w, M, (double)(t - s)), pw);
        *A += v;
        if (!row_ok(in, i, t) || !row_ok(in, i, t + L)) continue;
        double row[3];
        for (size_t m = 0; m < d; ++m) row[m] = level_val(in, i, m, (int)m == k ? t + L : t);
        for (size_t a = 0; a < d; ++a)
            for (size_t b = 0; b < d; ++b) S[a][b] += v * row[a] * row[b];
        *V += v;
        *V2 += v * v;
    }
    return ref_mulcor(S, d, k >= 0 ? k + 1 : 0, dep);
}

/* ------------------------------------------------------------------------- */
/* Corrected mode                                                             */
/* ------------------------------------------------------------------------- */

Test(corrected, wmc_sample_sizes_C1)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    double *coef = prep(x, n, 3, CQB_WAVELET_D4, 5, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 0,
                        &in);
    double v0[6], v1[6], l1[6], u1[6], n0[6], n1[6], p1[6];
    int d0[6], d1[6];
    cqb_wmc_out o0 = {v0, NULL, NULL, d0, NULL, n0}, o1 = {v1, l1, u1, d1, p1, n1};
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    cr_assert_eq(cqb_wmc(&in, &opt, NULL, &o0, NULL), CQB_OK);
    opt.mode = CQB_WMC_CORRECTED;
    cr_assert_eq(cqb_wmc(&in, &opt, NULL, &o1, NULL), CQB_OK);
    /* compat: trunc(347 / 2^i), smooth 2^(J+1) */
    const double want0[6] = {173, 86, 43, 21, 10, 5};
    /* corrected: floor(M_i / 2^i), M_i = 347 - n_i (d4: 3, 9, 21, 45, 93), smooth 2^J */
    const double want1[6] = {172, 84, 40, 18, 7, 7};
    const double q = 1.959963984540054;
    for (int i = 0; i < 6; ++i) {
        cr_assert_eq(n0[i], want0[i]);
        cr_assert_eq(n1[i], want1[i]);
        cr_assert_eq(v0[i], v1[i]); /* the estimate itself is unchanged */
        cr_assert_eq(d0[i], d1[i]);
        double z = atanh(v1[i]), h = q / sqrt(want1[i] - 3.0);
        cr_assert_float_eq(l1[i], fmax(tanh(z - h), 0.0), 1e-15);
        cr_assert_float_eq(u1[i], tanh(z + h), 1e-15);
        cr_assert(p1[i] >= 0.0 && p1[i] <= 1.0);
    }
    free(coef);
    free(x);
}

Test(corrected, wmcc_lags_uncentred_C2)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    double *coef = prep(x, n, 3, CQB_WAVELET_D4, 3, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 0,
                        &in);
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.mode = CQB_WMC_CORRECTED;
    opt.lag_max = 3;
    double val[4 * 7], ns[4 * 7], wv[4];
    int dep[4], wd[4];
    cqb_wmc_out out = {val, NULL, NULL, dep, NULL, ns};
    cr_assert_eq(cqb_wmcc(&in, &opt, NULL, &out, NULL), CQB_OK);
    cqb_wmc_out ow = {wv, NULL, NULL, wd, NULL, NULL};
    cr_assert_eq(cqb_wmc(&in, &opt, NULL, &ow, NULL), CQB_OK);
    for (int i = 0; i <= 3; ++i) {
        cr_assert_eq(val[i * 7 + 3], wv[i]); /* lag 0 is WMC */
        cr_assert_eq(dep[i], wd[i]);
        for (long L = -3; L <= 3; ++L) {
            double V, V2, A;
            int dd;
            double ref = ref_corrected(&in, i, 0, L, dep[i] - 1, CQB_WINDOW_UNIFORM,
                                       (double)n, 1, &V, &V2, &A, &dd);
            cr_assert_float_eq(val[i * 7 + (size_t)(L + 3)], ref, 1e-13, "level %d lag %ld", i,
                               L);
            int e = i < 3 ? i + 1 : 3;
            cr_assert_eq(ns[i * 7 + (size_t)(L + 3)], floor(V / ldexp(1.0, e)));
        }
    }
    free(coef);
    free(x);
}

Test(corrected, wlmc_all_windows_against_reference_C4_C5_C6)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    const int J = 4;
    double *coef = prep(x, n, 3, CQB_WAVELET_LA8, J, CQB_BOUNDARY_PERIODIC, CQB_WMC_CORRECTED,
                        1, &in);
    const size_t N = ((size_t)J + 1) * n;
    double *val = malloc(5 * N * sizeof *val);
    int *dep = malloc(N * sizeof *dep);
    cr_assert(val && dep);
    double *lo = val + N, *up = val + 2 * N, *pv = val + 3 * N, *ns = val + 4 * N;
    const cqb_window wins[] = {CQB_WINDOW_UNIFORM,  CQB_WINDOW_CLEVELAND, CQB_WINDOW_EPANECHNIKOV,
                               CQB_WINDOW_BARTLETT, CQB_WINDOW_WENDLAND,  CQB_WINDOW_GAUSSIAN};
    const double Ms[] = {7.5, 20.0};
    const double q = 1.959963984540054;
    for (size_t wi = 0; wi < 6; ++wi)
        for (size_t mi = 0; mi < 2; ++mi)
            for (int pw = 1; pw <= 2; ++pw) {
                cqb_wmc_opts opt;
                cqb_wmc_opts_default(&opt);
                opt.mode = CQB_WMC_CORRECTED;
                opt.window = wins[wi];
                opt.M = Ms[mi];
                opt.weight_power = pw;
                cqb_wmc_out out = {val, lo, up, dep, pv, ns};
                cqb_error err = {0};
                cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &out, &err), CQB_OK, "%s", err.msg);
                size_t nmasked = 0;
                for (int i = 0; i <= J; ++i)
                    for (long s = 0; s < (long)n; s += 3) {
                        size_t e = (size_t)i * n + (size_t)s;
                        double V, V2, A;
                        int dd;
                        double ref = ref_corrected(&in, i, s, 0, -1, wins[wi], Ms[mi], pw, &V,
                                                   &V2, &A, &dd);
                        if (V < 0.5 * A) { /* C6 */
                            cr_assert(isnan(val[e]) && isnan(lo[e]) && isnan(up[e]) &&
                                          dep[e] == 0,
                                      "window %d M %g level %d s %ld: not masked", (int)wins[wi],
                                      Ms[mi], i, s);
                            ++nmasked;
                            continue;
                        }
                        double neff = V * V / V2; /* C5 */
                        cr_assert_float_eq(ns[e], neff, 1e-12 * neff);
                        cr_assert_float_eq(val[e], ref, 1e-12, "window %d M %g pw %d level %d s %ld",
                                           (int)wins[wi], Ms[mi], pw, i, s);
                        cr_assert_eq(dep[e], dd);
                        if (neff > 3.0) {
                            double z = atanh(ref), h = q / sqrt(neff - 3.0);
                            cr_assert_float_eq(lo[e], fmax(tanh(z - h), 0.0), 1e-12);
                            cr_assert_float_eq(up[e], tanh(z + h), 1e-12);
                        } else {
                            cr_assert(isnan(lo[e]) || neff == 3.0);
                        }
                    }
                cr_assert_gt(nmasked, 0); /* la8 J = 4: NA blocks of 7..105 */
            }
    free(val);
    free(dep);
    free(coef);
    free(x);
}

/* A hand-checked case: d = 2, one level pair built by hand, Bartlett M = 2
 * (u = 1, 1/2, 0), rows 0..2 missing. */
Test(corrected, hand_checked_bartlett)
{
    const size_t n = 10;
    double x[2 * 2 * 10];
    const double a[10] = {NAN, NAN, NAN, 1.0, -2.0, 0.5, 3.0, -1.0, 2.0, 1.5};
    const double b[10] = {NAN, NAN, NAN, 2.0, -1.0, 1.0, 2.0, 0.5, -1.0, 1.0};
    for (int lev = 0; lev < 2; ++lev) {
        memcpy(x + (size_t)(lev * 2 + 0) * n, a, sizeof a);
        memcpy(x + (size_t)(lev * 2 + 1) * n, b, sizeof b);
    }
    cqb_wlevels in = {n, 2, 1, x};
    double val[20], lo[20], up[20], ns[20];
    int dep[20];
    cqb_wmc_out out = {val, lo, up, dep, NULL, ns};
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.window = CQB_WINDOW_BARTLETT;
    opt.M = 2.0;
    opt.mode = CQB_WMC_CORRECTED;
    cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &out, NULL), CQB_OK);
    /* s = 5: rows 4, 5, 6 with v = 1/2, 1, 1/2:
     *   Sab = .5*(-2)(-1) + .5*1 + .5*3*2 = 1 + .5 + 3 = 4.5
     *   Saa = .5*4 + .25 + .5*9 = 6.75, Sbb = .5*1 + 1 + .5*4 = 3.5 */
    cr_assert_float_eq(val[5], 4.5 / sqrt(6.75 * 3.5), 1e-15);
    cr_assert_float_eq(ns[5], 4.0 / 1.5, 1e-15); /* Kish (sum v)^2 / sum v^2 < 3: no CI */
    cr_assert(isnan(lo[5]) && isnan(up[5]));
    cr_assert_eq(dep[5], 1);
    /* s = 3: valid mass (1 + 1/2) / 2 = 0.75 >= 0.5; rows 3, 4 */
    double Sab = 1.0 * 2.0 + 0.5 * 2.0, Saa = 1.0 + 0.5 * 4.0, Sbb = 4.0 + 0.5 * 1.0;
    cr_assert_float_eq(val[3], Sab / sqrt(Saa * Sbb), 1e-15);
    /* s = 2: valid mass 0.5 / 2 = 0.25 < 0.5: masked */
    cr_assert(isnan(val[2]) && dep[2] == 0);
    cr_assert(isnan(val[0]) && isnan(val[1]));
    /* compat at s = 2: one row with weight u^2 = 1/4 -> rank 1: val 1, dep NA,
     * Nhat = (sum_all u)^2 / sum_valid u^2 = 2^2 / (1/4) = 16 -> CI (1, 1) */
    opt.mode = CQB_WMC_COMPAT;
    cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &out, NULL), CQB_OK);
    cr_assert_eq(val[2], 1.0);
    cr_assert_eq(dep[2], 0);
    cr_assert_float_eq(ns[2], 16.0, 1e-15);
    cr_assert_eq(lo[2], 1.0);
    cr_assert_eq(up[2], 1.0);
    /* compat s = 5: weights enter squared: 1/4, 1, 1/4 */
    double cab = .25 * 2.0 + 0.5 + .25 * 6.0, caa = .25 * 4.0 + .25 + .25 * 9.0,
           cbb = .25 * 1.0 + 1.0 + .25 * 4.0;
    cr_assert_float_eq(val[5], cab / sqrt(caa * cbb), 1e-15);
    cr_assert_float_eq(ns[5], 4.0 / 1.5, 1e-15); /* interior: Nhat = Kish of u */
    /* s = 1, 0: the window holds no valid row -> NaN rule in both modes */
    cr_assert(isnan(val[1]) && isnan(val[0]));
}

Test(corrected, wlmcc_lags_C7)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    const int J = 3, lm = 2;
    double *coef = prep(x, n, 3, CQB_WAVELET_D4, J, CQB_BOUNDARY_PERIODIC, CQB_WMC_CORRECTED, 1,
                        &in);
    const size_t nc = 2 * lm + 1, N = ((size_t)J + 1) * n * nc;
    double *val = malloc(2 * N * sizeof *val), *wl = malloc(((size_t)J + 1) * n * sizeof *wl);
    int *dep = malloc(((size_t)J + 1) * n * sizeof *dep);
    cr_assert(val && wl && dep);
    double *ns = val + N;
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.mode = CQB_WMC_CORRECTED;
    opt.M = 12;
    opt.lag_max = lm;
    cqb_wmc_out out = {val, NULL, NULL, dep, NULL, ns};
    cr_assert_eq(cqb_wlmcc(&in, &opt, NULL, &out, NULL), CQB_OK);
    cqb_wmc_out ow = {wl, NULL, NULL, NULL, NULL, NULL};
    cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &ow, NULL), CQB_OK);
    for (int i = 0; i <= J; ++i)
        for (long s = 0; s < (long)n; s += 5) {
            size_t row = (size_t)i * n + (size_t)s;
            double v0 = val[row * nc + lm];
            cr_assert((isnan(v0) && isnan(wl[row])) || v0 == wl[row]);
            for (long L = -lm; L <= lm; ++L) {
                double got = val[row * nc + (size_t)(L + lm)];
                if (dep[row] == 0) {
                    if (L != 0) cr_assert(isnan(got));
                    continue;
                }
                double V, V2, A;
                int dd;
                double ref = ref_corrected(&in, i, s, L, dep[row] - 1, CQB_WINDOW_GAUSSIAN, 12.0,
                                           1, &V, &V2, &A, &dd);
                if (V < 0.5 * A) {
                    cr_assert(isnan(got));
                    continue;
                }
                cr_assert_float_eq(got, ref, 1e-12, "level %d s %ld lag %ld", i, s, L);
                cr_assert_float_eq(ns[row * nc + (size_t)(L + lm)], V * V / V2, 1e-10);
            }
        }
    free(val);
    free(wl);
    free(dep);
    free(coef);
    free(x);
}

Test(corrected, wlmr_weighted_least_squares_C8)
{
    /* d = 2: y = dependent (series 1), x = series 2; WLS closed form */
    size_t n;
    double *x3 = load_ex3(&n);
    cqb_wlevels in;
    const int J = 2;
    double *coef = prep(x3, n, 2, CQB_WAVELET_D4, J, CQB_BOUNDARY_PERIODIC, CQB_WMC_CORRECTED, 1,
                        &in);
    const size_t R = ((size_t)J + 1) * n;
    double *est = malloc(6 * R * 3 * sizeof *est);
    int *dep = malloc(R * sizeof *dep);
    cr_assert(est && dep);
    double *se = est + 3 * R, *tst = est + 6 * R, *pv = est + 9 * R, *lw = est + 12 * R,
           *uw = est + 15 * R;
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.mode = CQB_WMC_CORRECTED;
    opt.window = CQB_WINDOW_EPANECHNIKOV;
    opt.M = 25;
    cqb_wmc_out out = {NULL, NULL, NULL, dep, NULL, NULL};
    cqb_wreg_out reg = {est, se, lw, uw, tst, pv, NULL};
    cr_assert_eq(cqb_wlmr(&in, &opt, NULL, &out, &reg, NULL), CQB_OK);
    size_t checked = 0;
    for (int i = 0; i <= J; ++i)
        for (long s = 0; s < (long)n; s += 7) {
            size_t row = (size_t)i * n + (size_t)s;
            if (dep[row] == 0) {
                cr_assert(isnan(est[row * 3]));
                continue;
            }
            size_t ky = (size_t)dep[row] - 1, kx = 1 - ky;
            double V = 0, V2 = 0, sx = 0, sy = 0;
            for (long t = 0; t < (long)n; ++t) {
                if (!row_ok(&in, i, t)) continue;
                double v = kern(CQB_WINDOW_EPANECHNIKOV, 25.0, (double)(t - s));
                V += v;
                V2 += v * v;
                sx += v * level_val(&in, i, kx, t);
                sy += v * level_val(&in, i, ky, t);
            }
            double mx = sx / V, my = sy / V, cxx = 0, cxy = 0;
            for (long t = 0; t < (long)n; ++t) {
                if (!row_ok(&in, i, t)) continue;
                double v = kern(CQB_WINDOW_EPANECHNIKOV, 25.0, (double)(t - s));
                double dx = level_val(&in, i, kx, t) - mx, dy = level_val(&in, i, ky, t) - my;
                cxx += v * dx * dx;
                cxy += v * dx * dy;
            }
            double beta = cxy / cxx, b0 = my - beta * mx, rss = 0;
            for (long t = 0; t < (long)n; ++t) {
                if (!row_ok(&in, i, t)) continue;
                double v = kern(CQB_WINDOW_EPANECHNIKOV, 25.0, (double)(t - s));
                double r = level_val(&in, i, ky, t) - b0 - beta * level_val(&in, i, kx, t);
                rss += v * r * r;
            }
            double neff = V * V / V2, df = neff - 2.0;
            double seb = sqrt(rss / df / cxx), se0 = sqrt(rss / df * (1.0 / V + mx * mx / cxx));
            cr_assert_float_eq(est[row * 3 + 1 + kx], beta, 1e-12 * fabs(beta));
            cr_assert_float_eq(est[row * 3], b0, 1e-9 * fabs(b0) + 1e-15);
            cr_assert_float_eq(se[row * 3 + 1 + kx], seb, 1e-11 * seb);
            cr_assert_float_eq(se[row * 3], se0, 1e-11 * se0);
            cr_assert_float_eq(tst[row * 3 + 1 + kx], beta / seb, 1e-10 * fabs(beta / seb));
            cr_assert_eq(est[row * 3 + 1 + ky], -1.0);
            cr_assert_eq(se[row * 3 + 1 + ky], 0.0);
            cr_assert(isinf(tst[row * 3 + 1 + ky]));
            cr_assert_eq(pv[row * 3 + 1 + ky], 0.0);
            /* CI half-width / SE is the same t quantile for both coefficients */
            double q1 = (uw[row * 3 + 1 + kx] - est[row * 3 + 1 + kx]) / se[row * 3 + 1 + kx];
            double q0 = (uw[row * 3] - est[row * 3]) / se[row * 3];
            cr_assert_float_eq(q1, q0, 1e-9);
            cr_assert(q1 > 1.959963984540054); /* t with n_eff - 2 df, wider than normal */
            ++checked;
        }
    cr_assert_gt(checked, 50);
    free(est);
    free(dep);
    free(coef);
    free(x3);
}

Test(corrected, wmr_ci_residual_df_C3)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    double *coef = prep(x, n, 3, CQB_WAVELET_D4, 5, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 0,
                        &in);
    double est[2][24], se[2][24], up[2][24];
    for (int m = 0; m < 2; ++m) {
        cqb_wmc_opts opt;
        cqb_wmc_opts_default(&opt);
        opt.mode = m ? CQB_WMC_CORRECTED : CQB_WMC_COMPAT;
        cqb_wreg_out reg = {est[m], se[m], NULL, up[m], NULL, NULL, NULL};
        cr_assert_eq(cqb_wmr(&in, &opt, NULL, NULL, &reg, NULL), CQB_OK);
    }
    double prev = 0;
    for (int i = 0; i < 6; ++i) {
        cr_assert_eq(est[0][i * 4], est[1][i * 4]);
        double q0 = (up[0][i * 4] - est[0][i * 4]) / se[0][i * 4];
        double q1 = (up[1][i * 4] - est[1][i * 4]) / se[1][i * 4];
        cr_assert_float_eq(q0, 1.96688, 2e-5); /* qt(0.975, 347 - 3) for every level */
        cr_assert_gt(q1, q0);                 /* qt(0.975, n_c - 3), n_c = 347 - n_i */
        cr_assert_geq(q1, prev - 1e-12, "level %d: %.17g < %.17g", i, q1, prev); /* fewer rows */
        prev = q1;
    }
    free(coef);
    free(x);
}

Test(corrected, reflection_trimmed_C9)
{
    size_t n;
    double *x = load_ex3(&n);
    for (int align = 0; align <= 1; ++align) {
        cqb_wlevels a, b;
        double *ca = prep(x, n, 3, CQB_WAVELET_LA8, 4, CQB_BOUNDARY_REFLECTION, CQB_WMC_COMPAT,
                          align, &a);
        double *cb = prep(x, n, 3, CQB_WAVELET_LA8, 4, CQB_BOUNDARY_REFLECTION,
                          CQB_WMC_CORRECTED, align, &b);
        cr_assert_eq(a.n, 2 * n);
        cr_assert_eq(b.n, n);
        for (int i = 0; i <= 4; ++i)
            for (size_t k = 0; k < 3; ++k)
                cr_assert(memcmp(cb + ((size_t)i * 3 + k) * n, ca + ((size_t)i * 3 + k) * 2 * n,
                                 n * sizeof *cb) == 0);
        free(ca);
        free(cb);
    }
    free(x);
}

/* compat Gaussian far from any valid row: R sums over all t, so a time
 * 50 samples inside an NA block still gets a value from weights ~1e-260;
 * the truncated sums must extend to the nearest valid rows */
Test(compat, gaussian_far_from_valid_rows)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    const int J = 4;
    /* d = 2 (DEM, JPY): with d = 3 almost every time that far away is rank
     * deficient (one or two effective rows) */
    const size_t d = 2;
    double *coef = prep(x, n, d, CQB_WAVELET_LA8, J, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 1,
                        &in);
    const size_t N = ((size_t)J + 1) * n;
    double *val = malloc(2 * N * sizeof *val);
    int *dep = malloc(N * sizeof *dep);
    cr_assert(val && dep);
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.M = 3.0;
    cqb_wmc_out out = {val, NULL, NULL, dep, NULL, val + N};
    cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &out, NULL), CQB_OK);
    size_t far = 0, nrank = 0, nnan = 0, farok = 0;
    for (int i = 0; i <= J; ++i)
        for (long s = 0; s < (long)n; ++s) {
            double S[3][3] = {{0}}, A = 0, B = 0;
            long nearest = (long)n;
            for (long t = 0; t < (long)n; ++t) {
                double u = kern(CQB_WINDOW_GAUSSIAN, 3.0, (double)(t - s));
                A += u;
                if (!row_ok(&in, i, t)) continue;
                if (labs(t - s) < nearest) nearest = labs(t - s);
                B += u * u;
                for (size_t a = 0; a < d; ++a)
                    for (size_t b = 0; b < d; ++b)
                        S[a][b] += u * u * level_val(&in, i, a, t) * level_val(&in, i, b, t);
            }
            int dd;
            double ref = ref_mulcor(S, d, 0, &dd);
            size_t e = (size_t)i * n + (size_t)s;
            /* beyond ~13 M the squared weights (< 1e-280 relative) reach the
             * subnormal range, where neither R nor any reordering of the sums
             * is reproducible: only NA consistency is checked there */
            if (nearest > 36) {
                cr_assert(!isnan(val[e]) || !(S[0][0] > 0.0) || !(S[1][1] > 0.0));
                continue;
            }
            if (isnan(val[e])) { /* NaN rule: all weights on valid rows underflow, as in R */
                cr_assert(!(S[0][0] > 0.0) || !(S[1][1] > 0.0),
                          "level %d s %ld: NA with nonzero moments", i, s);
                cr_assert_gt(nearest, 50);
                ++nnan;
            } else if (dep[e] == 0) { /* rank rule (tol 1e-7 on R: 1 - phi^2 below ~1e-7) */
                cr_assert_eq(val[e], 1.0);
                cr_assert_gt(fabs(ref), 1.0 - 1e-6, "level %d s %ld: rank rule at %.17g", i, s,
                             ref);
                ++nrank;
            } else {
                cr_assert_float_eq(val[e], ref, 1e-11, "level %d s %ld (%ld from valid rows)", i,
                                   s, nearest);
                cr_assert_eq(dep[e], dd, "level %d s %ld", i, s);
                farok += nearest > 14; /* beyond ceil(6.3 M / sqrt 2) = 14 */
            }
            double nh = A * A / B;
            if (B > 0.0 && isfinite(nh)) cr_assert_float_eq(val[N + e], nh, 1e-10 * nh);
            far += nearest > 20;
        }
    cr_assert_gt(far, 30, "%zu times 21..36 from valid rows", far);
    cr_assert_gt(farok, 20, "%zu values beyond the base radius", farok);
    free(val);
    free(dep);
    free(coef);
    free(x);
}

/* ------------------------------------------------------------------------- */
/* F-test p-value (engine addition): closed forms                            */
/* ------------------------------------------------------------------------- */

Test(pvalue, closed_forms)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    double *coef = prep(x, n, 3, CQB_WAVELET_D4, 3, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 0,
                        &in);
    double val[4], pv[4], ns[4];
    cqb_wmc_out out = {val, NULL, NULL, NULL, pv, ns};
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    /* d = 3 and n_1 = trunc(10 / 2) = 5: F(2, 2) upper tail = 1 / (1 + F) = 1 - phi^2 */
    opt.nobs = 10;
    cr_assert_eq(cqb_wmc(&in, &opt, NULL, &out, NULL), CQB_OK);
    cr_assert_eq(ns[0], 5.0);
    cr_assert_float_eq(pv[0], 1.0 - val[0] * val[0], 1e-14);
    /* d = 2 and n_1 = 4: F(1, 2) upper tail = 1 - sqrt(F / (2 + F)) = 1 - |phi| */
    in.d = 2;
    double *c2 = prep(x, n, 2, CQB_WAVELET_D4, 3, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 0, &in);
    opt.nobs = 8;
    cr_assert_eq(cqb_wmc(&in, &opt, NULL, &out, NULL), CQB_OK);
    cr_assert_eq(ns[0], 4.0);
    cr_assert_float_eq(pv[0], 1.0 - fabs(val[0]), 1e-14);
    /* large n: p-values tiny but positive, monotone in phi */
    opt.nobs = 0;
    cr_assert_eq(cqb_wmc(&in, &opt, NULL, &out, NULL), CQB_OK);
    for (int i = 0; i < 4; ++i) cr_assert(pv[i] > 0.0 && pv[i] < 0.05, "p %g", pv[i]);
    free(c2);
    free(coef);
    free(x);
}

/* ------------------------------------------------------------------------- */
/* DEFINED behaviours                                                         */
/* ------------------------------------------------------------------------- */

Test(defined, singular_global_matrix)
{
    /* series 3 = series 1 + series 2 exactly: R is singular at every level */
    const size_t n = 64;
    double x[2 * 3 * 64];
    for (int lev = 0; lev < 2; ++lev)
        for (size_t t = 0; t < n; ++t) {
            double a = sin(0.3 * (double)t + lev), b = cos(1.7 * (double)t * (lev + 1));
            x[(size_t)(lev * 3 + 0) * n + t] = t < 3 ? NAN : a;
            x[(size_t)(lev * 3 + 1) * n + t] = t < 3 ? NAN : b;
            x[(size_t)(lev * 3 + 2) * n + t] = t < 3 ? NAN : a + b;
        }
    cqb_wlevels in = {n, 3, 1, x};
    double val[2], lo[2], up[2];
    int dep[2];
    cqb_wmc_out out = {val, lo, up, dep, NULL, NULL};
    cr_assert_eq(cqb_wmc(&in, NULL, NULL, &out, NULL), CQB_OK);
    for (int i = 0; i < 2; ++i) {
        cr_assert_eq(val[i], 1.0);
        cr_assert_eq(dep[i], 0);
        cr_assert_eq(lo[i], 1.0);
        cr_assert_eq(up[i], 1.0);
    }
    double est[8];
    cqb_wreg_out reg = {est, NULL, NULL, NULL, NULL, NULL, NULL};
    cr_assert_eq(cqb_wmr(&in, NULL, NULL, &out, &reg, NULL), CQB_OK);
    for (int c = 0; c < 8; ++c) cr_assert(isnan(est[c]));
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.lag_max = 2;
    double cv[10];
    cqb_wmc_out oc = {cv, NULL, NULL, NULL, NULL, NULL};
    cr_assert_eq(cqb_wmcc(&in, &opt, NULL, &oc, NULL), CQB_OK);
    for (int i = 0; i < 2; ++i)
        for (int c = 0; c < 5; ++c) cr_assert(c == 2 ? cv[i * 5 + c] == 1.0 : isnan(cv[i * 5 + c]));
}

Test(defined, haar_local_no_shift)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    double *coef = prep(x, n, 3, CQB_WAVELET_HAAR, 3, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 1,
                        &in);
    /* d1 of haar is not shifted (nu = 0): one NA at t = 0, none at the end */
    cr_assert(isnan(coef[0]));
    cr_assert(!isnan(coef[1]) && !isnan(coef[n - 1]));
    double *val = malloc(4 * n * sizeof *val);
    cr_assert_not_null(val);
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.M = 20;
    cqb_wmc_out out = {val, NULL, NULL, NULL, NULL, NULL};
    cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &out, NULL), CQB_OK);
    for (size_t e = 0; e < 4 * n; ++e) cr_assert(isfinite(val[e]));
    free(val);
    free(coef);
    free(x);
}

Test(defined, d2_dependent_variable_is_first)
{
    size_t n, n2;
    double *x1 = td_load_column("wlmc/xrand.csv", "xrand1", &n);
    double *x2 = td_load_column("wlmc/xrand.csv", "xrand2", &n2);
    double *x = malloc(2 * n * sizeof *x);
    cr_assert_not_null(x);
    memcpy(x, x1, n * sizeof *x);
    memcpy(x + n, x2, n * sizeof *x);
    free(x1);
    free(x2);
    cqb_wlevels in;
    double *coef = prep(x, n, 2, CQB_WAVELET_LA8, 3, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 1,
                        &in);
    double *val = malloc(4 * n * sizeof *val);
    int *dep = malloc(4 * n * sizeof *dep);
    cr_assert(val && dep);
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.M = 15;
    cqb_wmc_out out = {val, NULL, NULL, dep, NULL, NULL};
    cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &out, NULL), CQB_OK);
    size_t neg = 0;
    for (size_t e = 0; e < 4 * n; ++e) {
        cr_assert_eq(dep[e], 1);
        neg += val[e] < 0;
    }
    cr_assert_gt(neg, 0); /* signed for d = 2 */
    free(val);
    free(dep);
    free(coef);
    free(x);
}

Test(defined, wlmcc_lags_na_where_lag0_fails)
{
    /* uniform window on ex3: the window over the s5 NA block is empty (NaN
     * rule), where R raises "variable lengths differ" */
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    const int J = 5, lm = 2;
    const size_t nc = 5;
    double *coef = prep(x, n, 3, CQB_WAVELET_D4, J, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 1,
                        &in);
    double *val = malloc(((size_t)J + 1) * n * nc * sizeof *val);
    int *dep = malloc(((size_t)J + 1) * n * sizeof *dep);
    cr_assert(val && dep);
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.M = 30;
    opt.window = CQB_WINDOW_UNIFORM;
    opt.lag_max = lm;
    cqb_wmc_out out = {val, NULL, NULL, dep, NULL, NULL};
    cr_assert_eq(cqb_wlmcc(&in, &opt, NULL, &out, NULL), CQB_OK);
    size_t nna = 0, nrank = 0;
    for (size_t row = 0; row < ((size_t)J + 1) * n; ++row) {
        double v0 = val[row * nc + lm];
        if (dep[row] != 0) continue;
        if (isnan(v0))
            ++nna;
        else {
            cr_assert_eq(v0, 1.0); /* rank rule */
            ++nrank;
        }
        for (size_t c = 0; c < nc; ++c)
            if (c != (size_t)lm) cr_assert(isnan(val[row * nc + c]));
    }
    cr_assert_gt(nna, 0);
    free(val);
    free(dep);
    free(coef);
    free(x);
}

/* ------------------------------------------------------------------------- */
/* Fast path, workspace reuse                                                 */
/* ------------------------------------------------------------------------- */

/* A window that holds one valid row has a rank-1 correlation matrix: R's
 * qr() rank rule gives val 1 and YmaxR NA. With these values (wavemulcor's
 * example where it was found: la16, level 3, the phase-shifted row 53 of
 * EPU_US, GPRC_CHN, GPRT at s = 24, Epanechnikov M = 30) Cholesky fails and
 * LU "inverts" the matrix with diagonal (0, 2.3e15, -2.3e15), whose small
 * sum once passed for a proof of full rank: val 1 - 2e-16 and YmaxR 2. */
Test(defined, one_valid_row_is_rank_deficient)
{
    enum { N = 64, D = 3 };
    static const double row[D] = {-0.086272727173123523, -0.16849416321936214, -0.17167134931707886};
    double *x = malloc(2 * D * N * sizeof *x);
    for (size_t k = 0; k < D; ++k)
        for (size_t t = 0; t < N; ++t) {
            x[(0 * D + k) * N + t] = t == 52 ? row[k] : NAN;                 /* d1: one valid row */
            x[(1 * D + k) * N + t] = sin(0.3 * (double)t * (double)(k + 1)); /* s1: all valid */
        }
    cqb_wlevels in = {N, D, 1, x};
    cqb_wmc_opts o;
    cqb_wmc_opts_default(&o);
    o.window = CQB_WINDOW_EPANECHNIKOV;
    o.M = 30;
    double val[2 * N];
    int dep[2 * N];
    cqb_wmc_out out = {val, NULL, NULL, dep, NULL, NULL};
    cqb_error err;
    cr_assert_eq(cqb_wlmc(&in, &o, NULL, &out, &err), CQB_OK, "%s", err.msg);
    size_t seen = 0;
    for (size_t s = 0; s < N; ++s) {
        if (isnan(val[s])) continue; /* the row is outside the window: the NaN rule */
        ++seen;
        cr_expect_eq(val[s], 1.0, "s = %zu: val %.17g", s, val[s]);
        cr_expect_eq(dep[s], 0, "s = %zu: dep %d", s, dep[s]);
    }
    cr_assert_eq(seen, 41, "times whose window holds row 52: s = 23 .. 63");
    free(x);
}

/* WLMCC compat, two series: a lag whose weighted regressor is zero on every
 * complete row (near the end of the valid rows, the window's rows have no
 * partner tau rows later) has no centred correlation to sign phi with: R's
 * cor() gives NA there (found by scripts/peer_sweep.R), not 0. */
Test(defined, wlmcc_two_series_lag_without_regressor_is_na)
{
    enum { N = 64, D = 2 };
    double *x = malloc(2 * D * N * sizeof *x);
    for (size_t k = 0; k < D; ++k)
        for (size_t t = 0; t < N; ++t) {
            double v = sin(0.7 * (double)t * (double)(k + 1)) + 0.1 * (double)k;
            x[(0 * D + k) * N + t] = t < 50 ? v : NAN; /* d1: rows 0..49 */
            x[(1 * D + k) * N + t] = v;
        }
    cqb_wlevels in = {N, D, 1, x};
    cqb_wmc_opts o;
    cqb_wmc_opts_default(&o);
    o.window = CQB_WINDOW_BARTLETT;
    o.M = 3;
    o.lag_max = 3;
    o.ymaxr = 1;
    enum { K = 7 };
    double *val = malloc(2 * N * K * sizeof *val), *lo = malloc(2 * N * K * sizeof *lo);
    cqb_wmc_out out = {val, lo, NULL, NULL, NULL, NULL};
    cqb_error err;
    cr_assert_eq(cqb_wlmcc(&in, &o, NULL, &out, &err), CQB_OK, "%s", err.msg);
    /* s = 49: x~ is nonzero at t = 47..49 only, and y at t + 3 is missing
     * there; lag +3 has no regressor, lag +1 does */
    const size_t row = 49;
    cr_assert(!isnan(val[row * K + 3]), "lag 0");
    cr_assert(isnan(val[row * K + 3 + 3]) && isnan(lo[row * K + 3 + 3]), "lag +3: %g", val[row * K + 6]);
    cr_assert(!isnan(val[row * K + 3 + 1]), "lag +1");
    free(val);
    free(lo);
    free(x);
}

Test(fastpath, uniform_prefix_sums_match_direct)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    const int J = 4;
    double *coef = prep(x, n, 3, CQB_WAVELET_LA8, J, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 1,
                        &in);
    const size_t N = ((size_t)J + 1) * n;
    double *a = malloc(8 * N * sizeof *a);
    int *da = malloc(2 * N * sizeof *da);
    cr_assert(a && da);
    const double Ms[] = {1.0, 3.5, 30.0, 100.0, 173.5, 347.0};
    for (int mode = 0; mode < 2; ++mode)
        for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; ++mi) {
            cqb_wmc_opts opt;
            cqb_wmc_opts_default(&opt);
            opt.mode = mode ? CQB_WMC_CORRECTED : CQB_WMC_COMPAT;
            opt.window = CQB_WINDOW_UNIFORM;
            opt.M = Ms[mi];
            cqb_wmc_out o1 = {a, a + N, a + 2 * N, da, NULL, a + 3 * N};
            cqb_wmc_out o2 = {a + 4 * N, a + 5 * N, a + 6 * N, da + N, NULL, a + 7 * N};
            cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &o1, NULL), CQB_OK);
            opt.fast = 1;
            cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &o2, NULL), CQB_OK);
            for (size_t e = 0; e < N; ++e) {
                for (int k = 0; k < 4; ++k) {
                    double u = a[(size_t)k * N + e], v = a[(size_t)(4 + k) * N + e];
                    cr_assert((isnan(u) && isnan(v)) || u == v ||
                                  fabs(u - v) <= 1e-13 * fmax(1.0, fabs(u)),
                              "M %g mode %d stat %d e %zu: %.17g vs %.17g", Ms[mi], mode, k, e, u,
                              v);
                }
                cr_assert_eq(da[e], da[N + e]);
            }
        }
    free(a);
    free(da);
    free(coef);
    free(x);
}

Test(workspace, reuse_is_bitwise_identical)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    const int J = 3;
    double *coef = prep(x, n, 3, CQB_WAVELET_D4, J, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 1,
                        &in);
    cqb_error err = {0};
    cqb_wmc_workspace *ws = cqb_wmc_workspace_alloc(n + 10, 4, &err);
    cr_assert_not_null(ws, "%s", err.msg);
    const size_t N = ((size_t)J + 1) * n * 3;
    double *a = malloc(2 * N * sizeof *a);
    cr_assert_not_null(a);
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    opt.M = 10;
    opt.lag_max = 1;
    cqb_wmc_out o1 = {a, NULL, NULL, NULL, NULL, NULL}, o2 = {a + N, NULL, NULL, NULL, NULL, NULL};
    cr_assert_eq(cqb_wlmcc(&in, &opt, NULL, &o1, NULL), CQB_OK);
    for (int rep = 0; rep < 3; ++rep) {
        opt.window = (cqb_window)rep; /* different windows in between */
        cr_assert_eq(cqb_wlmc(&in, &opt, ws, &o2, NULL), CQB_OK);
    }
    opt.window = CQB_WINDOW_GAUSSIAN;
    cr_assert_eq(cqb_wlmcc(&in, &opt, ws, &o2, NULL), CQB_OK);
    cr_assert(memcmp(a, a + N, N * sizeof *a) == 0);
    /* too small */
    cqb_wmc_workspace *small = cqb_wmc_workspace_alloc(n - 1, 3, &err);
    cr_assert_not_null(small);
    cr_assert_eq(cqb_wlmc(&in, &opt, small, &o2, &err), CQB_EUSAGE);
    cr_assert_not_null(strstr(err.msg, "workspace too small"), "%s", err.msg);
    cqb_wmc_workspace_free(small);
    cqb_wmc_workspace_free(ws);
    cr_assert_null(cqb_wmc_workspace_alloc(0, 3, &err));
    cr_assert_eq(err.status, CQB_EUSAGE);
    free(a);
    free(coef);
    free(x);
}

/* ------------------------------------------------------------------------- */
/* Bad inputs                                                                 */
/* ------------------------------------------------------------------------- */

static void expect(cqb_status got, const cqb_error *err, cqb_status want, const char *needle)
{
    cr_assert_eq(got, want, "status %d, want %d (%s)", (int)got, (int)want, err->msg);
    cr_assert_not_null(strstr(err->msg, needle), "message '%s' lacks '%s'", err->msg, needle);
}

Test(badinput, prepare)
{
    size_t n;
    double *x = load_ex3(&n);
    double *coef = malloc(10 * 3 * 2 * n * sizeof *coef);
    cr_assert_not_null(coef);
    cqb_error err = {0};
    cqb_wlevels in;
    /* fewer than 2 series */
    expect(cqb_wlevels_prepare(x, n, n, 1, CQB_WAVELET_D4, 3, CQB_BOUNDARY_PERIODIC,
                               CQB_WMC_COMPAT, 0, coef, &in, NULL, &err),
           &err, CQB_EUSAGE, "at least 2 series");
    /* J too large: 2^9 > 347 */
    expect(cqb_wlevels_prepare(x, n, n, 3, CQB_WAVELET_D4, 9, CQB_BOUNDARY_PERIODIC,
                               CQB_WMC_COMPAT, 0, coef, &in, NULL, &err),
           &err, CQB_EUSAGE, "J = 9 levels invalid");
    /* too short for the filter and J: la8, J = 6: (2^6 - 1) * 7 = 441 >= 347 */
    expect(cqb_wlevels_prepare(x, n, n, 3, CQB_WAVELET_LA8, 6, CQB_BOUNDARY_PERIODIC,
                               CQB_WMC_COMPAT, 0, coef, &in, NULL, &err),
           &err, CQB_EDATA, "too short for filter la8 with J = 6");
    /* reflection (2N = 694 > 441) accepts it in compat mode */
    cr_assert_eq(cqb_wlevels_prepare(x, n, n, 3, CQB_WAVELET_LA8, 6, CQB_BOUNDARY_REFLECTION,
                                     CQB_WMC_COMPAT, 0, coef, &in, NULL, &err),
                 CQB_OK, "%s", err.msg);
    /* constant series */
    double *xc = malloc(3 * n * sizeof *xc);
    cr_assert_not_null(xc);
    memcpy(xc, x, 3 * n * sizeof *xc);
    for (size_t t = 0; t < n; ++t) xc[n + t] = 2.5;
    expect(cqb_wlevels_prepare(xc, n, n, 3, CQB_WAVELET_D4, 3, CQB_BOUNDARY_PERIODIC,
                               CQB_WMC_COMPAT, 0, coef, &in, NULL, &err),
           &err, CQB_EDATA, "series 2 is constant");
    /* non-finite value */
    memcpy(xc, x, 3 * n * sizeof *xc);
    xc[2 * n + 10] = INFINITY;
    expect(cqb_wlevels_prepare(xc, n, n, 3, CQB_WAVELET_D4, 3, CQB_BOUNDARY_PERIODIC,
                               CQB_WMC_COMPAT, 0, coef, &in, NULL, &err),
           &err, CQB_EDATA, "series 3 has a non-finite value at position 11");
    free(xc);
    free(coef);
    free(x);
}

Test(badinput, statistics)
{
    size_t n;
    double *x = load_ex3(&n);
    cqb_wlevels in;
    double *coef = prep(x, n, 3, CQB_WAVELET_D4, 3, CQB_BOUNDARY_PERIODIC, CQB_WMC_COMPAT, 1,
                        &in);
    double *val = malloc(4 * n * sizeof *val);
    cr_assert_not_null(val);
    cqb_wmc_out out = {val, NULL, NULL, NULL, NULL, NULL};
    cqb_error err = {0};
    cqb_wmc_opts opt;
    cqb_wmc_opts_default(&opt);
    /* M required and 1 <= M <= n */
    expect(cqb_wlmc(&in, &opt, NULL, &out, &err), &err, CQB_EUSAGE, "window size M = 0");
    opt.M = 0.5;
    expect(cqb_wlmc(&in, &opt, NULL, &out, &err), &err, CQB_EUSAGE, "1 <= M <= n = 347");
    opt.M = 348;
    expect(cqb_wlmcc(&in, &opt, NULL, &out, &err), &err, CQB_EUSAGE, "M = 348");
    opt.M = NAN;
    expect(cqb_wlmr(&in, &opt, NULL, &out, NULL, &err), &err, CQB_EUSAGE, "window size");
    opt.M = 347; /* M = n is allowed */
    cr_assert_eq(cqb_wlmc(&in, &opt, NULL, &out, &err), CQB_OK, "%s", err.msg);
    opt.M = 10;
    opt.weight_power = 3;
    expect(cqb_wlmc(&in, &opt, NULL, &out, &err), &err, CQB_EUSAGE, "weight_power = 3");
    opt.weight_power = 0;
    opt.window = (cqb_window)17;
    expect(cqb_wlmc(&in, &opt, NULL, &out, &err), &err, CQB_EUSAGE, "invalid window");
    opt.window = CQB_WINDOW_GAUSSIAN;
    opt.p = 1.0;
    expect(cqb_wmc(&in, &opt, NULL, &out, &err), &err, CQB_EUSAGE, "p = 1 outside (0, 1)");
    opt.p = 0.975;
    opt.ymaxr = 4;
    expect(cqb_wmcc(&in, &opt, NULL, &out, &err), &err, CQB_EUSAGE, "ymaxr = 4 outside 1..3");
    opt.ymaxr = 0;
    /* fewer than 2 series */
    cqb_wlevels one = in;
    one.d = 1;
    expect(cqb_wmc(&one, &opt, NULL, &out, &err), &err, CQB_EUSAGE, "at least 2 series");
    expect(cqb_wmc(NULL, &opt, NULL, &out, &err), &err, CQB_EUSAGE, "NULL input");
    /* a series without energy at a level (constant series) */
    double *z = malloc(4 * 3 * n * sizeof *z);
    cr_assert_not_null(z);
    memcpy(z, coef, 4 * 3 * n * sizeof *z);
    for (size_t t = 0; t < n; ++t)
        if (!isnan(z[(2 * 3 + 1) * n + t])) z[(2 * 3 + 1) * n + t] = 0.0;
    cqb_wlevels zin = in;
    zin.x = z;
    expect(cqb_wmr(&zin, &opt, NULL, &out, NULL, &err), &err, CQB_EDATA,
           "series 2 has no variation at level d3");
    opt.M = 10;
    expect(cqb_wlmc(&zin, &opt, NULL, &out, &err), &err, CQB_EDATA, "no variation");
    /* a level with only missing values: too short for the filter and J */
    for (size_t k = 0; k < 3; ++k)
        for (size_t t = 0; t < n; ++t) z[(3 * 3 + k) * n + t] = NAN;
    memcpy(z + 2 * 3 * n, coef + 2 * 3 * n, 3 * n * sizeof *z);
    expect(cqb_wmc(&zin, &opt, NULL, &out, &err), &err, CQB_EDATA,
           "level s3 has no complete row");
    /* window names */
    cqb_window w = CQB_WINDOW_UNIFORM;
    expect(cqb_window_parse("hann", &w, &err), &err, CQB_EUSAGE, "wrong window type 'hann'");
    expect(cqb_window_parse("gau", &w, &err), &err, CQB_EUSAGE, "wrong window type");
    cr_assert_eq(w, CQB_WINDOW_UNIFORM);
    const char *ok[] = {"uniform", "Unif", "cleveland", "tricube", "epanechnikov", "parabolic",
                        "bartlett", "triangular", "wendland", "gaussian", "GAUSS"};
    const cqb_window okw[] = {CQB_WINDOW_UNIFORM,      CQB_WINDOW_UNIFORM,
                              CQB_WINDOW_CLEVELAND,    CQB_WINDOW_CLEVELAND,
                              CQB_WINDOW_EPANECHNIKOV, CQB_WINDOW_EPANECHNIKOV,
                              CQB_WINDOW_BARTLETT,     CQB_WINDOW_BARTLETT,
                              CQB_WINDOW_WENDLAND,     CQB_WINDOW_GAUSSIAN,
                              CQB_WINDOW_GAUSSIAN};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; ++i) {
        cr_assert_eq(cqb_window_parse(ok[i], &w, &err), CQB_OK, "%s", ok[i]);
        cr_assert_eq(w, okw[i], "%s", ok[i]);
    }
    cr_assert_str_eq(cqb_window_name(CQB_WINDOW_WENDLAND), "wendland");
    cr_assert_eq(cqb_window_kernel(CQB_WINDOW_WENDLAND, 10, 10), 0.0);
    cr_assert_eq(cqb_window_kernel(CQB_WINDOW_UNIFORM, 10, 10), 1.0);
    cr_assert_float_eq(cqb_window_kernel(CQB_WINDOW_GAUSSIAN, 2, 2), exp(-1.0), 1e-16);
    /* lags */
    opt.lag_max = -1;
    cr_assert_eq(cqb_wmc_lags(347, &opt), 9);
    opt.lag_max = 1000;
    cr_assert_eq(cqb_wmc_lags(347, &opt), 346);
    free(z);
    free(val);
    free(coef);
    free(x);
}
