/* Wavelet resampling significance (wnull.h) and the FFT behind the phase
 * surrogates: exactness, reproducibility, thread invariance, uniform
 * p-values under independence, power under a common component. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/fft.h"
#include "cqboot/philox.h"
#include "cqboot/wnull.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Standard normals from Philox words (Box-Muller), for test data. */
static void normals(uint64_t seed, uint64_t stream, double *z, size_t n)
{
    for (size_t i = 0; i < n; i += 2) {
        uint32_t w[4];
        cqb_philox_block(seed, stream, i / 2, w);
        double u1 = ((double)w[0] + 0.5) / 4294967296.0, u2 = ((double)w[1] + 0.5) / 4294967296.0;
        double r = sqrt(-2.0 * log(u1));
        z[i] = r * cos(6.283185307179586 * u2);
        if (i + 1 < n) z[i + 1] = r * sin(6.283185307179586 * u2);
    }
}

/* d AR(1) series (phi) of length n, plus c times a common AR(1) factor. */
static void make_data(double *x, size_t n, size_t d, double phi, double c, uint64_t seed)
{
    double *e = malloc((n + 50) * sizeof *e), *f = malloc((n + 50) * sizeof *f);
    normals(seed, 1000, f, n + 50);
    for (size_t t = 1; t < n + 50; ++t) f[t] += phi * f[t - 1];
    for (size_t k = 0; k < d; ++k) {
        normals(seed, k, e, n + 50);
        for (size_t t = 1; t < n + 50; ++t) e[t] += phi * e[t - 1];
        for (size_t t = 0; t < n; ++t) x[k * n + t] = e[t + 50] + c * f[t + 50];
    }
    free(e);
    free(f);
}

Test(fft, matches_direct_dft)
{
    const size_t ns[] = {1, 2, 3, 5, 8, 12, 31, 64, 100, 335};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; ++a) {
        size_t n = ns[a];
        cqb_fft *p;
        cqb_error err;
        cr_assert_eq(cqb_fft_create(n, &p, &err), CQB_OK);
        double *x = malloc(2 * n * sizeof *x), *y = malloc(2 * n * sizeof *y);
        double *scr = malloc((cqb_fft_scratch(p) + 1) * sizeof *scr);
        normals(7, n, x, 2 * n);
        memcpy(y, x, 2 * n * sizeof *x);
        cqb_fft_run(p, y, -1, scr);
        double maxerr = 0, scale = 0;
        for (size_t k = 0; k < n; ++k) {
            double re = 0, im = 0;
            for (size_t t = 0; t < n; ++t) {
                double ang = -2.0 * M_PI * (double)((k * t) % n) / (double)n;
                re += x[2 * t] * cos(ang) - x[2 * t + 1] * sin(ang);
                im += x[2 * t] * sin(ang) + x[2 * t + 1] * cos(ang);
            }
            maxerr = fmax(maxerr, hypot(re - y[2 * k], im - y[2 * k + 1]));
            scale = fmax(scale, hypot(re, im));
        }
        cr_expect(maxerr <= 1e-12 * (scale + 1), "n = %zu: max error %g", n, maxerr);
        /* inverse / n returns the input */
        cqb_fft_run(p, y, +1, scr);
        for (size_t t = 0; t < 2 * n; ++t) cr_expect(fabs(y[t] / (double)n - x[t]) < 1e-12, "n = %zu: inverse", n);
        free(x);
        free(y);
        free(scr);
        cqb_fft_free(p);
    }
}

static cqb_wtest_spec spec_for(const double *x, size_t n, size_t d, cqb_wstat stat, cqb_wnull null, size_t B)
{
    cqb_wtest_spec s;
    memset(&s, 0, sizeof s);
    s.x = x;
    s.ldx = n;
    s.n = n;
    s.d = d;
    s.wf = CQB_WAVELET_LA8;
    s.J = 3;
    s.boundary = CQB_BOUNDARY_PERIODIC;
    cqb_wmc_opts_default(&s.opts);
    s.opts.M = 16;
    s.stat = stat;
    s.null = null;
    s.B = B;
    s.seed = 42;
    s.gamma = 0.1;
    s.level = 0.95;
    return s;
}

Test(wnull, reproducible_and_thread_invariant)
{
    const size_t n = 256, d = 3;
    double *x = malloc(n * d * sizeof *x);
    make_data(x, n, d, 0.5, 0.3, 3);
    const cqb_wnull nulls[] = {CQB_WNULL_BOOTSTRAP, CQB_WNULL_PHASE, CQB_WNULL_ROTATION};
    const cqb_wstat stats[] = {CQB_WSTAT_WMC, CQB_WSTAT_WLMC};
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 2; ++b) {
            cqb_wtest_spec s = spec_for(x, n, d, stats[b], nulls[a], 60);
            cqb_wtest_result r1, r2;
            cqb_error err;
            s.threads = 1;
            cr_assert_eq(cqb_wtest(&s, &r1, &err), CQB_OK, "%s", err.msg);
            s.threads = 2;
            cr_assert_eq(cqb_wtest(&s, &r2, &err), CQB_OK, "%s", err.msg);
            cr_assert_eq(r1.ncell, r2.ncell);
            for (size_t c = 0; c < r1.ncell; ++c) {
                cr_expect((isnan(r1.p[c]) && isnan(r2.p[c])) || r1.p[c] == r2.p[c], "null %d stat %d cell %zu", a, b, c);
                cr_expect((isnan(r1.p_fw[c]) && isnan(r2.p_fw[c])) || r1.p_fw[c] == r2.p_fw[c]);
                if (!isnan(r1.p_fw[c])) cr_expect(r1.p_fw[c] >= r1.p[c], "family-wise p below pointwise");
            }
            for (size_t f = 0; f < r1.nfam; ++f) cr_expect(r1.cv_fw[f] == r2.cv_fw[f] || (isnan(r1.cv_fw[f]) && isnan(r2.cv_fw[f])));
            cqb_wtest_result_free(&r1);
            cqb_wtest_result_free(&r2);
        }
    }
    free(x);
}

/* Kolmogorov-Smirnov distance of p-values from the uniform law. */
static double ks_uniform(double *p, size_t n)
{
    for (size_t i = 1; i < n; ++i)
        for (size_t j = i; j > 0 && p[j - 1] > p[j]; --j) {
            double t = p[j];
            p[j] = p[j - 1];
            p[j - 1] = t;
        }
    double D = 0;
    for (size_t i = 0; i < n; ++i) D = fmax(D, fmax(fabs((double)(i + 1) / n - p[i]), fabs(p[i] - (double)i / n)));
    return D;
}

Test(wnull, uniform_under_independence_small_under_common_factor, .timeout = 240)
{
    /* 120 independent data sets; p-values of the level-1 WMC by phase
     * randomisation and by the bootstrap: their KS distance from the
     * uniform stays below the 1% critical value 1.63/sqrt(120) = 0.149
     * (p-values on the grid (1 + k)/(1 + B) add at most 1/(B+1)). */
    const size_t n = 256, d = 2, R = 120, B = 199;
    double *x = malloc(n * d * sizeof *x);
    const cqb_wnull nulls[] = {CQB_WNULL_PHASE, CQB_WNULL_BOOTSTRAP};
    for (int a = 0; a < 2; ++a) {
        double p[120];
        for (size_t r = 0; r < R; ++r) {
            make_data(x, n, d, 0.3, 0.0, 100 + r);
            cqb_wtest_spec s = spec_for(x, n, d, CQB_WSTAT_WMC, nulls[a], B);
            s.seed = 1000 + r;
            cqb_wtest_result res;
            cqb_error err;
            cr_assert_eq(cqb_wtest(&s, &res, &err), CQB_OK, "%s", err.msg);
            p[r] = res.p[0];
            cqb_wtest_result_free(&res);
        }
        double D = ks_uniform(p, R);
        cr_expect(D < 0.149 + 1.0 / (B + 1), "null %d: KS distance %g", a, D);
    }
    /* a strong common component: small p-values at every detail level */
    make_data(x, n, d, 0.3, 1.5, 5);
    cqb_wtest_spec s = spec_for(x, n, d, CQB_WSTAT_WMC, CQB_WNULL_PHASE, B);
    cqb_wtest_result res;
    cqb_error err;
    cr_assert_eq(cqb_wtest(&s, &res, &err), CQB_OK, "%s", err.msg);
    for (int i = 0; i < 3; ++i) cr_expect(res.p[i] <= 0.01, "level d%d: p = %g", i + 1, res.p[i]);
    cqb_wtest_result_free(&res);
    free(x);
}

Test(wnull, joint_intervals_cover_and_bad_options)
{
    const size_t n = 256, d = 2;
    double *x = malloc(n * d * sizeof *x);
    make_data(x, n, d, 0.3, 1.0, 9);
    cqb_wtest_spec s = spec_for(x, n, d, CQB_WSTAT_WMC, CQB_WNULL_JOINT, 300);
    cqb_wtest_result r;
    cqb_error err;
    cr_assert_eq(cqb_wtest(&s, &r, &err), CQB_OK, "%s", err.msg);
    for (size_t c = 0; c < 3; ++c) {
        cr_expect(r.lo[c] <= r.phi[c] + 0.05 && r.hi[c] >= r.phi[c] - 0.05, "level %zu: [%g, %g] vs %g", c, r.lo[c],
                  r.hi[c], r.phi[c]);
        cr_expect(isnan(r.p[c]));
    }
    cqb_wtest_result_free(&r);
    s.stat = CQB_WSTAT_WLMC;
    cr_expect_eq(cqb_wtest(&s, &r, &err), CQB_EUSAGE);
    s = spec_for(x, n, d, CQB_WSTAT_WMC, CQB_WNULL_BOOTSTRAP, 0);
    cr_expect_eq(cqb_wtest(&s, &r, &err), CQB_EUSAGE);
    s.B = 10;
    s.level = 1.5;
    cr_expect_eq(cqb_wtest(&s, &r, &err), CQB_EUSAGE);
    free(x);
}
