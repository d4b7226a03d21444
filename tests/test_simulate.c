/* test_simulate.c — `cqboot simulate` (cqboot/simulate.h, cqboot/dgp.h):
 * the random variates and DGPs (reproducible streams, moments, AR and GARCH
 * structure, tail injection), the study's reproducibility across threads and
 * replication ranges, a size check where the theory holds, power under tail
 * dependence, and bad inputs through the API and the command line. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cqboot/cq.h"
#include "cqboot/dgp.h"
#include "cqboot/simulate.h"

/* ------------------------------------------------------------- helpers -- */

static cqb_dgp_ctx prep(const cqb_dgp *d)
{
    cqb_dgp_ctx c;
    cqb_error e;
    cr_assert_eq(cqb_dgp_prepare(d, &c, &e), CQB_OK, "%s", e.msg);
    return c;
}

static void gen(const cqb_dgp *d, uint64_t seed, uint64_t rep, size_t T, double *y, double *x)
{
    cqb_dgp_ctx c = prep(d);
    double *w = malloc(cqb_dgp_work_size(&c, T) * sizeof *w);
    cr_assert_not_null(w);
    cqb_dgp_generate(&c, seed, rep, T, y, x, w);
    free(w);
}

static double mean_of(const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += v[i];
    return s / (double)n;
}

static double acf(const double *v, size_t n, size_t k)
{
    double m = mean_of(v, n), num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; ++i) den += (v[i] - m) * (v[i] - m);
    for (size_t i = k; i < n; ++i) num += (v[i] - m) * (v[i - k] - m);
    return num / den;
}

static double var_of(const double *v, size_t n)
{
    double m = mean_of(v, n), s = 0.0;
    for (size_t i = 0; i < n; ++i) s += (v[i] - m) * (v[i] - m);
    return s / (double)(n - 1);
}

/* ---------------------------------------------------------- variates -- */

Test(dgp, streams_are_pure_functions_of_seed_rep_stream)
{
    cqb_stream a, b, c, d;
    cqb_stream_init(&a, 7, 3, CQB_SIM_STREAM_Y);
    cqb_stream_init(&b, 7, 3, CQB_SIM_STREAM_Y);
    cqb_stream_init(&c, 7, 4, CQB_SIM_STREAM_Y);
    cqb_stream_init(&d, 7, 3, CQB_SIM_STREAM_X);
    int diff_rep = 0, diff_sid = 0;
    for (int i = 0; i < 64; ++i) {
        uint32_t wa = cqb_stream_u32(&a), wb = cqb_stream_u32(&b);
        cr_assert_eq(wa, wb);
        diff_rep += cqb_stream_u32(&c) != wa;
        diff_sid += cqb_stream_u32(&d) != wa;
    }
    cr_expect_gt(diff_rep, 60);
    cr_expect_gt(diff_sid, 60);
    /* uniforms are exact: (w + 0.5) 2^-32 */
    cqb_stream_init(&a, 7, 3, CQB_SIM_STREAM_Y);
    cqb_stream_init(&b, 7, 3, CQB_SIM_STREAM_Y);
    uint32_t w = cqb_stream_u32(&a);
    cr_expect_eq(cqb_stream_unif(&b), ((double)w + 0.5) / 4294967296.0);
    /* bootstrap seeds differ across replications */
    cr_expect_neq(cqb_sim_boot_seed(1, 0), cqb_sim_boot_seed(1, 1));
    cr_expect_eq(cqb_sim_boot_seed(1, 5), cqb_sim_boot_seed(1, 5));
}

Test(dgp, normal_and_t_moments)
{
    const size_t n = 1000000;
    cqb_dgp d;
    cqb_dgp_default(&d, CQB_DGP_NULL);
    for (int k = 0; k < 2; ++k) {
        d.df = k ? 8.0 : 0.0;
        cqb_dgp_ctx c = prep(&d);
        cqb_stream s;
        cqb_stream_init(&s, 11, 0, CQB_SIM_STREAM_X);
        double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
        for (size_t i = 0; i < n; ++i) {
            double z = cqb_stream_innov(&s, &c);
            cr_assert(isfinite(z));
            m1 += z;
            m2 += z * z;
            m3 += z * z * z;
            m4 += z * z * z * z;
        }
        m1 /= (double)n;
        m2 /= (double)n;
        m3 /= (double)n;
        m4 /= (double)n;
        cr_expect(fabs(m1) < 0.005, "df %g mean %g", d.df, m1);
        cr_expect(fabs(m2 - 1.0) < 0.01, "df %g variance %g", d.df, m2);
        cr_expect(fabs(m3) < (k ? 0.05 : 0.015), "df %g third moment %g", d.df, m3);
        /* kurtosis 3, and 3 + 6/(df-4) = 4.5 for the t(8) */
        double kurt = k ? 4.5 : 3.0;
        cr_expect(fabs(m4 - kurt) < (k ? 0.35 : 0.04), "df %g kurtosis %g (want %g)", d.df, m4, kurt);
    }
}

Test(dgp, innovation_quantiles_invert_the_cdf)
{
    cqb_dgp d;
    cqb_dgp_default(&d, CQB_DGP_NULL);
    const double ps[] = {1e-15, 1e-6, 0.001, 0.025, 0.05, 0.3, 0.5, 0.8, 0.975};
    for (int k = 0; k < 3; ++k) {
        d.df = k == 0 ? 0.0 : k == 1 ? 3.0 : 30.0;
        cqb_dgp_ctx c = prep(&d);
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; ++i) {
            double q = cqb_innov_quantile(&c, ps[i]);
            double p = cqb_innov_cdf(&c, q);
            cr_expect(fabs(p - ps[i]) <= 1e-10 * ps[i] + 1e-15, "df %g p %g: q %.17g, F(q) %.17g", d.df, ps[i], q,
                      p);
        }
    }
    d.df = 0.0;
    cqb_dgp_ctx c = prep(&d);
    cr_expect(fabs(cqb_innov_quantile(&c, 0.05) - -1.6448536269514722) < 1e-12);
    cr_expect(fabs(cqb_innov_quantile(&c, 0.975) - 1.959963984540054) < 1e-12);
    /* t(3) scaled to unit variance: t_{0.05} = -2.3533634348018264 / sqrt(3) */
    d.df = 3.0;
    c = prep(&d);
    cr_expect(fabs(cqb_innov_quantile(&c, 0.05) - -2.3533634348018264 / sqrt(3.0)) < 1e-10);
}

Test(dgp, ar_garch_recovers_its_structure)
{
    const size_t T = 200000;
    double *y = malloc(T * sizeof *y), *x = malloc(T * sizeof *x), *e2 = malloc(T * sizeof *e2);
    cr_assert(y && x && e2);
    cqb_dgp d;
    cqb_dgp_default(&d, CQB_DGP_NULL);
    gen(&d, 3, 0, T, y, x);
    for (size_t i = 0; i < T; ++i) cr_assert(isfinite(y[i]) && isfinite(x[i]));
    /* AR(1): acf(1) = phi, variance omega / (1 - a - b) / (1 - phi^2) */
    const double v = 0.05 / (1.0 - 0.95) / (1.0 - 0.09);
    cr_expect(fabs(acf(y, T, 1) - 0.3) < 0.02, "acf1 %g", acf(y, T, 1));
    cr_expect(fabs(acf(x, T, 1) - 0.3) < 0.02, "acf1 %g", acf(x, T, 1));
    cr_expect(fabs(acf(y, T, 2) - 0.09) < 0.02, "acf2 %g", acf(y, T, 2));
    cr_expect(fabs(var_of(y, T) / v - 1.0) < 0.1, "var %g, want %g", var_of(y, T), v);
    cr_expect(fabs(var_of(x, T) / v - 1.0) < 0.1, "var %g, want %g", var_of(x, T), v);
    /* GARCH: the squared AR residuals are autocorrelated */
    for (size_t i = 1; i < T; ++i) e2[i] = (y[i] - 0.3 * y[i - 1]) * (y[i] - 0.3 * y[i - 1]);
    cr_expect_gt(acf(e2 + 1, T - 1, 1), 0.1, "ARCH effect %g", acf(e2 + 1, T - 1, 1));
    /* no GARCH: residuals' squares uncorrelated, variance omega / (1 - phi^2) */
    d.garch_alpha = d.garch_beta = 0.0;
    d.omega = 1.0;
    gen(&d, 3, 0, T, y, x);
    for (size_t i = 1; i < T; ++i) e2[i] = (y[i] - 0.3 * y[i - 1]) * (y[i] - 0.3 * y[i - 1]);
    cr_expect(fabs(acf(e2 + 1, T - 1, 1)) < 0.015);
    cr_expect(fabs(var_of(y, T) / (1.0 / 0.91) - 1.0) < 0.02);
    /* y and x independent: cross-correlations near 0 */
    double cc = 0.0, my = mean_of(y, T), mx = mean_of(x, T);
    for (size_t i = 1; i < T; ++i) cc += (y[i] - my) * (x[i - 1] - mx);
    cc /= (double)(T - 1) * sqrt(var_of(y, T) * var_of(x, T));
    cr_expect(fabs(cc) < 0.015, "cross-correlation %g", cc);
    free(y);
    free(x);
    free(e2);
}

Test(dgp, var_recovers_its_coefficients)
{
    const size_t T = 200000;
    double *y = malloc(T * sizeof *y), *x = malloc(T * sizeof *x);
    cr_assert(y && x);
    cqb_dgp d;
    cqb_dgp_default(&d, CQB_DGP_VAR);
    gen(&d, 5, 2, T, y, x);
    /* x: AR(1) 0.5; y = f + u: white noise, corr(y_t, x_t) = 1 / sqrt(2 * 2 / 0.75) */
    cr_expect(fabs(acf(x, T, 1) - 0.5) < 0.015);
    cr_expect(fabs(acf(y, T, 1)) < 0.015);
    double c0 = 0.0, my = mean_of(y, T), mx = mean_of(x, T);
    for (size_t i = 0; i < T; ++i) c0 += (y[i] - my) * (x[i] - mx);
    c0 /= (double)(T - 1) * sqrt(var_of(y, T) * var_of(x, T));
    cr_expect(fabs(c0 - 1.0 / sqrt(2.0 * 2.0 / 0.75)) < 0.01, "contemporaneous corr %g", c0);
    /* a_yx = 0.4: OLS of y_t on (y_{t-1}, x_{t-1}) recovers (0, 0.4) */
    d.strength = 0.4;
    d.var_ayy = 0.2;
    gen(&d, 5, 2, T, y, x);
    double s11 = 0, s12 = 0, s22 = 0, r1 = 0, r2 = 0;
    for (size_t i = 1; i < T; ++i) {
        double a = y[i - 1], b = x[i - 1];
        s11 += a * a;
        s12 += a * b;
        s22 += b * b;
        r1 += a * y[i];
        r2 += b * y[i];
    }
    double det = s11 * s22 - s12 * s12;
    double bay = (s22 * r1 - s12 * r2) / det, bax = (s11 * r2 - s12 * r1) / det;
    cr_expect(fabs(bay - 0.2) < 0.02, "a_yy %g", bay);
    cr_expect(fabs(bax - 0.4) < 0.02, "a_yx %g", bax);
    free(y);
    free(x);
}

Test(dgp, tail_injection)
{
    const size_t T = 20000;
    double *y0 = malloc(T * sizeof *y0), *x0 = malloc(T * sizeof *x0);
    double *y1 = malloc(T * sizeof *y1), *x1 = malloc(T * sizeof *x1), *s = malloc(T * sizeof *s);
    cr_assert(y0 && x0 && y1 && x1 && s);
    cqb_dgp dn, dt;
    cqb_dgp_default(&dn, CQB_DGP_NULL);
    cqb_dgp_default(&dt, CQB_DGP_TAIL);
    /* strength 0 is the null process, draw for draw */
    dt.strength = 0.0;
    gen(&dn, 9, 1, T, y0, x0);
    gen(&dt, 9, 1, T, y1, x1);
    cr_expect_eq(memcmp(y0, y1, T * sizeof *y0), 0);
    cr_expect_eq(memcmp(x0, x1, T * sizeof *x0), 0);
    /* strength 1, tail 0.1, lag 2: x unchanged; y's hit follows x's */
    dt.strength = 1.0;
    dt.tail_alpha = 0.1;
    dt.tail_lag = 2;
    gen(&dt, 9, 1, T, y1, x1);
    cr_expect_eq(memcmp(x0, x1, T * sizeof *x0), 0);
    double qx = cqb_quantile_r7(x1, T, 0.1, s), qy = cqb_quantile_r7(y1, T, 0.1, s);
    size_t nx = 0, nboth = 0, changed = 0;
    for (size_t t = 2; t < T; ++t) {
        if (x1[t - 2] <= qx) {
            ++nx;
            nboth += y1[t] <= qy;
        }
        changed += y1[t] != y0[t];
    }
    double cond = (double)nboth / (double)nx;
    /* the null's y: about tail_alpha */
    double qy0 = cqb_quantile_r7(y0, T, 0.1, s);
    size_t nboth0 = 0;
    for (size_t t = 2; t < T; ++t)
        if (x1[t - 2] <= qx) nboth0 += y0[t] <= qy0;
    cr_expect(fabs((double)nboth0 / (double)nx - 0.1) < 0.03, "null: %g", (double)nboth0 / (double)nx);
    cr_expect_gt(cond, 0.4, "P(y low | x low at lag 2) = %g", cond);
    cr_expect_gt(changed, T / 20);
    /* strength 0.5: about half of the exposure */
    dt.strength = 0.5;
    gen(&dt, 9, 1, T, y1, x1);
    qy = cqb_quantile_r7(y1, T, 0.1, s);
    nboth = 0;
    for (size_t t = 2; t < T; ++t)
        if (x1[t - 2] <= qx) nboth += y1[t] <= qy;
    double cond5 = (double)nboth / (double)nx;
    cr_expect(cond5 > 0.2 && cond5 < cond - 0.1, "P(y low | x low) at pi 0.5 = %g", cond5);
    free(y0);
    free(x0);
    free(y1);
    free(x1);
    free(s);
}

Test(dgp, bad_parameters)
{
    cqb_dgp d;
    cqb_dgp_ctx c;
    cqb_error e;
    cqb_dgp_default(&d, CQB_DGP_NULL);
    d.garch_alpha = 0.2;
    d.garch_beta = 0.8;
    cr_expect_eq(cqb_dgp_prepare(&d, &c, &e), CQB_EUSAGE);
    cr_expect_not_null(strstr(e.msg, "--garch-alpha"));
    cqb_dgp_default(&d, CQB_DGP_NULL);
    d.phi = 1.0;
    cr_expect_eq(cqb_dgp_prepare(&d, &c, &e), CQB_EUSAGE);
    cr_expect_not_null(strstr(e.msg, "--phi"));
    d.phi = 0.3;
    d.df = 2.0;
    cr_expect_eq(cqb_dgp_prepare(&d, &c, &e), CQB_EUSAGE);
    cr_expect_not_null(strstr(e.msg, "--df"));
    cqb_dgp_default(&d, CQB_DGP_TAIL);
    d.strength = 1.5;
    cr_expect_eq(cqb_dgp_prepare(&d, &c, &e), CQB_EUSAGE);
    cr_expect_not_null(strstr(e.msg, "--strength"));
    d.strength = 0.5;
    d.tail_alpha = 0.7;
    cr_expect_eq(cqb_dgp_prepare(&d, &c, &e), CQB_EUSAGE);
    cr_expect_not_null(strstr(e.msg, "--tail-alpha"));
    cqb_dgp_default(&d, CQB_DGP_VAR);
    d.var_axx = 1.0;
    cr_expect_eq(cqb_dgp_prepare(&d, &c, &e), CQB_EUSAGE);
    cr_expect_not_null(strstr(e.msg, "--var-a"));
}

/* ------------------------------------------------------------- studies -- */

typedef struct study {
    double ay[4], ax[4];
    size_t ny, nx, lags[4], nl;
    cqb_sim_spec spec;
    cqb_sim_opts opts;
} study;

static void study_init(study *s, cqb_dgp_kind kind, size_t T, const double *a, size_t na, size_t maxlag)
{
    memset(s, 0, sizeof *s);
    memcpy(s->ay, a, na * sizeof *a);
    memcpy(s->ax, a, na * sizeof *a);
    s->ny = s->nx = na;
    for (size_t k = 1; k <= maxlag; ++k) s->lags[k - 1] = k;
    s->nl = maxlag;
    cqb_dgp_default(&s->spec.dgp, kind);
    s->spec.T = T;
    s->spec.alpha_y = s->ay;
    s->spec.ny = na;
    s->spec.alpha_x = s->ax;
    s->spec.nx = na;
    s->spec.lags = s->lags;
    s->spec.nlags = maxlag;
    s->spec.qtests = 1;
    cqb_sim_opts_default(&s->opts);
}

static void run_study(study *s, cqb_sim_result *r)
{
    cqb_error e;
    cqb_status st = cqb_simulate(&s->spec, &s->opts, r, &e);
    cr_assert_eq(st, CQB_OK, "%s", e.msg);
}

static void expect_same(const cqb_sim_result *a, const cqb_sim_result *b)
{
    cr_assert_eq(a->ncells, b->ncells);
    cr_assert_eq(a->nqtests, b->nqtests);
    for (size_t i = 0; i < a->ncells; ++i) {
        const cqb_sim_cell *x = &a->cells[i], *y = &b->cells[i];
        cr_expect_eq(x->valid, y->valid);
        cr_expect_eq(x->rej_band, y->rej_band);
        cr_expect_eq(x->rej_pval, y->rej_pval);
        cr_expect_eq(memcmp(&x->rho_mean, &y->rho_mean, sizeof(double)), 0, "rho_mean %.17g vs %.17g", x->rho_mean,
                     y->rho_mean);
        cr_expect_eq(memcmp(&x->rho_sd, &y->rho_sd, sizeof(double)), 0);
        cr_expect_eq(memcmp(&x->gamma_mean, &y->gamma_mean, sizeof(double)), 0);
    }
    for (size_t i = 0; i < a->nqtests; ++i) {
        cr_expect_eq(a->qtests[i].valid, b->qtests[i].valid);
        cr_expect_eq(a->qtests[i].rej_lb, b->qtests[i].rej_lb);
        cr_expect_eq(a->qtests[i].rej_bp, b->qtests[i].rej_bp);
    }
}

Test(simulate, reproducible_and_thread_invariant, .timeout = 60)
{
    const double a[2] = {0.1, 0.5};
    study s;
    study_init(&s, CQB_DGP_TAIL, 150, a, 2, 2);
    s.spec.dgp.strength = 0.3;
    s.spec.dgp.tail_alpha = 0.1;
    s.opts.seed = 424242;
    s.opts.reps = 24;
    s.opts.B = 49;
    cqb_sim_result r1, r2, r1b, part1, part2;
    s.opts.threads = 1;
    run_study(&s, &r1);
    run_study(&s, &r1b);
    s.opts.threads = 2;
    run_study(&s, &r2);
    expect_same(&r1, &r1b);
    expect_same(&r1, &r2);
    cr_expect_eq(r1.ncells, 2u * 2u * 2u);
    cr_expect_eq(r1.nqtests, 2u * 2u * 2u);
    /* ids 0..9 and 10..23 add up to ids 0..23 */
    s.opts.reps = 10;
    run_study(&s, &part1);
    s.opts.rep0 = 10;
    s.opts.reps = 14;
    run_study(&s, &part2);
    for (size_t i = 0; i < r1.ncells; ++i) {
        cr_expect_eq(part1.cells[i].rej_band + part2.cells[i].rej_band, r1.cells[i].rej_band);
        cr_expect_eq(part1.cells[i].rej_pval + part2.cells[i].rej_pval, r1.cells[i].rej_pval);
        cr_expect_eq(part1.cells[i].valid + part2.cells[i].valid, r1.cells[i].valid);
    }
    for (size_t i = 0; i < r1.nqtests; ++i)
        cr_expect_eq(part1.qtests[i].rej_lb + part2.qtests[i].rej_lb, r1.qtests[i].rej_lb);
    /* another seed: other data */
    s.opts.rep0 = 0;
    s.opts.reps = 24;
    s.opts.seed = 424243;
    cqb_sim_result r3;
    run_study(&s, &r3);
    int differ = 0;
    for (size_t i = 0; i < r1.ncells; ++i) differ += r1.cells[i].rho_mean != r3.cells[i].rho_mean;
    cr_expect_gt(differ, 0);
    cqb_sim_result_free(&r1);
    cqb_sim_result_free(&r1b);
    cqb_sim_result_free(&r2);
    cqb_sim_result_free(&part1);
    cqb_sim_result_free(&part2);
    cqb_sim_result_free(&r3);
}

/* [lo, hi] with P(X < lo) <= 0.005 and P(X > hi) <= 0.005, X ~ Bin(n, p). */
static void binom_interval(unsigned n, double p, unsigned *lo, unsigned *hi)
{
    double *pmf = malloc((n + 1) * sizeof *pmf);
    cr_assert_not_null(pmf);
    for (unsigned k = 0; k <= n; ++k)
        pmf[k] = exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) + k * log(p) + (n - k) * log1p(-p));
    double c = 0.0;
    unsigned k = 0;
    while (c + pmf[k] <= 0.005) c += pmf[k++];
    *lo = k;
    c = 0.0;
    k = n;
    while (c + pmf[k] <= 0.005) c += pmf[k--];
    *hi = k;
    free(pmf);
}

Test(simulate, size_at_the_median, .timeout = 120)
{
    /* alpha = 0.5, fixed gamma: about 168 hits per series, the regime
     * where the bootstrap theory applies */
    const double a[1] = {0.5};
    study s;
    study_init(&s, CQB_DGP_NULL, 336, a, 1, 1);
    s.opts.seed = 2016;
    s.opts.reps = 200;
    s.opts.B = 199;
    s.opts.gamma = 0.1;
    s.opts.threads = 2;
    cqb_sim_result r;
    run_study(&s, &r);
    unsigned lo, hi;
    binom_interval(200, 0.05, &lo, &hi);
    cr_assert_eq(r.cells[0].valid, 200u);
    cr_expect(r.cells[0].rej_band >= lo && r.cells[0].rej_band <= hi, "band: %llu of 200 outside [%u, %u]",
              (unsigned long long)r.cells[0].rej_band, lo, hi);
    cr_expect(r.cells[0].rej_pval >= lo && r.cells[0].rej_pval <= hi, "pval: %llu of 200 outside [%u, %u]",
              (unsigned long long)r.cells[0].rej_pval, lo, hi);
    cr_expect(r.qtests[0].rej_lb >= lo && r.qtests[0].rej_lb <= hi, "Q_LB: %llu of 200 outside [%u, %u]",
              (unsigned long long)r.qtests[0].rej_lb, lo, hi);
    cr_expect(fabs(r.cells[0].rho_mean) < 0.01, "mean rho %g", r.cells[0].rho_mean);
    cr_expect(fabs(r.cells[0].rate_band - (double)r.cells[0].rej_band / 200.0) < 1e-15);
    cr_expect(fabs(r.cells[0].se_band - sqrt(r.cells[0].rate_band * (1 - r.cells[0].rate_band) / 200.0)) < 1e-15);
    cqb_sim_result_free(&r);
}

Test(simulate, power_under_tail_dependence, .timeout = 120)
{
    /* dependence injected in the lower 10% tails at lag 1, tested at the
     * 0.2 levels (60 hits per series: the bootstrap is not degenerate) */
    const double a[1] = {0.2};
    study s;
    study_init(&s, CQB_DGP_TAIL, 300, a, 1, 2);
    s.spec.dgp.strength = 0.8;
    s.spec.dgp.tail_alpha = 0.1;
    s.spec.dgp.tail_lag = 1;
    s.opts.seed = 77;
    s.opts.reps = 60;
    s.opts.B = 199;
    s.opts.gamma = 0.1;
    cqb_sim_result rt, rn;
    run_study(&s, &rt);
    s.spec.dgp.strength = 0.0; /* the null, same draws */
    run_study(&s, &rn);
    /* cells: lag 1, lag 2; qtests: p = 1, 2 */
    cr_expect_gt(rt.cells[0].rate_band, 0.85, "band power at lag 1: %g", rt.cells[0].rate_band);
    cr_expect_gt(rt.cells[0].rate_pval, 0.85, "pval power at lag 1: %g", rt.cells[0].rate_pval);
    cr_expect_gt(rt.qtests[1].rate_lb, 0.8, "Q_LB(2) power: %g", rt.qtests[1].rate_lb);
    cr_expect_lt(rn.cells[0].rate_pval, 0.15, "pval size at lag 1: %g", rn.cells[0].rate_pval);
    cr_expect_lt(rn.qtests[1].rate_lb, 0.15, "Q_LB(2) size: %g", rn.qtests[1].rate_lb);
    cr_expect_gt(rt.cells[0].rate_pval, rn.cells[0].rate_pval + 0.6);
    cr_expect_gt(rt.cells[0].rho_mean, 0.2, "mean rho under dependence %g", rt.cells[0].rho_mean);
    cr_expect_lt(fabs(rn.cells[0].rho_mean), 0.02, "mean rho under the null %g", rn.cells[0].rho_mean);
    /* lag 2 only inherits dependence through the AR(1) dynamics */
    cr_expect_lt(rt.cells[1].rate_pval, rt.cells[0].rate_pval - 0.3);
    cqb_sim_result_free(&rt);
    cqb_sim_result_free(&rn);
}

Test(simulate, bad_inputs)
{
    const double a[2] = {0.1, 0.5};
    study s;
    cqb_sim_result r;
    cqb_error e;
#define BAD(stmt, needle)                                                                                         \
    do {                                                                                                          \
        study_init(&s, CQB_DGP_NULL, 200, a, 2, 2);                                                               \
        s.opts.reps = 2;                                                                                          \
        s.opts.B = 9;                                                                                             \
        stmt;                                                                                                     \
        cr_expect_eq(cqb_simulate(&s.spec, &s.opts, &r, &e), CQB_EUSAGE, "%s accepted", #stmt);                  \
        cr_expect_not_null(strstr(e.msg, needle), "%s: message '%s' lacks '%s'", #stmt, e.msg, needle);            \
        cr_expect_null(r.cells);                                                                                  \
    } while (0)
    BAD(s.opts.reps = 0, "--reps");
    BAD((s.opts.rep0 = 4294967295u, s.opts.reps = 2), "--reps");
    BAD(s.opts.B = 0, "--boot");
    BAD(s.opts.gamma = 1.5, "--gamma");
    BAD(s.opts.level = 1.0, "--level");
    BAD(s.spec.T = 10, "--T");
    BAD(s.ay[0] = 1.2, "--alpha-y");
    BAD((s.ax[0] = 0.6, s.ax[1] = 0.5), "--alpha-x");
    BAD((s.lags[0] = 2, s.lags[1] = 1), "--lags");
    BAD(s.spec.nlags = 0, "--lags");
    BAD(s.spec.dgp.garch_beta = 0.95, "--garch-alpha");
    BAD((s.spec.dgp.kind = CQB_DGP_TAIL, s.spec.dgp.strength = -0.1), "--strength");
    BAD((s.spec.dgp.kind = CQB_DGP_TAIL, s.spec.dgp.tail_lag = 0), "--tail-lag");
    BAD(s.spec.dgp.df = 1.5, "--df");
#undef BAD
}

/* ---------------------------------------------------------------- CLI -- */

typedef struct cli_run {
    int rc;
    char out[65536], err[4096];
} cli_run;

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = 0;
    if (f) fclose(f);
}

static char g_dir[64];

static void mkdir_tmp(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/cqb_simtest.XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
}

static void rm_tmp(void)
{
    const char *names[] = {"out", "err", "s.json", "s.csv"};
    char p[128];
    for (size_t i = 0; i < 4; ++i) {
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

static void run_cli(cli_run *r, const char *const *args)
{
    const char *argv[48];
    size_t k = 0;
    argv[k++] = CQB_CLI;
    argv[k++] = "simulate";
    for (size_t i = 0; args[i] && k < 46; ++i) argv[k++] = args[i];
    argv[k] = NULL;
    char po[128], pe[128];
    snprintf(po, sizeof po, "%s/out", g_dir);
    snprintf(pe, sizeof pe, "%s/err", g_dir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0) _exit(126);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(CQB_CLI, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    r->rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    slurp(po, r->out, sizeof r->out);
    slurp(pe, r->err, sizeof r->err);
}

#define SIM(r, ...) run_cli(r, (const char *const[]){__VA_ARGS__, NULL})

static void expect_usage(const char *needle, const char *const *args)
{
    static cli_run r;
    run_cli(&r, args);
    cr_expect_eq(r.rc, 2, "exit %d for %s: %s", r.rc, needle, r.err);
    size_t nl = 0;
    for (const char *p = r.err; *p; ++p) nl += *p == '\n';
    cr_expect_eq(nl, 1u, "not one line: %s", r.err);
    cr_expect(!strncmp(r.err, "cqboot simulate: ", 17), "%s", r.err);
    cr_expect_not_null(strstr(r.err, needle), "'%s' not in: %s", needle, r.err);
    cr_expect_str_empty(r.out);
}

#define USAGE(needle, ...) expect_usage(needle, (const char *const[]){__VA_ARGS__, NULL})

Test(simulate_cli, bad_values_exit_2, .init = mkdir_tmp, .fini = rm_tmp)
{
    USAGE("--reps", "--reps", "0");
    USAGE("--reps", "--reps", "many");
    USAGE("--boot", "--boot", "0");
    USAGE("--T", "--T", "2");
    USAGE("--T", "--T", "20", "--alpha", "0.01");
    USAGE("--dgp", "--dgp", "garch");
    USAGE("--alpha", "--alpha", "0.5,1.5");
    USAGE("--lags", "--lags", "3-1");
    USAGE("--gamma", "--gamma", "0");
    USAGE("--level", "--level", "95");
    USAGE("--strength", "--dgp", "tail", "--strength", "1.5");
    USAGE("--strength", "--strength", "0.5"); /* the null has none */
    USAGE("does not apply", "--tail-lag", "2");
    USAGE("does not apply", "--dgp", "var", "--phi", "0.5");
    USAGE("--var-a", "--dgp", "var", "--var-a", "0.5");
    USAGE("--garch-alpha", "--garch-alpha", "0.3", "--garch-beta", "0.7");
    USAGE("--df", "--df", "2");
    USAGE("--threads", "--threads", "-1");
    USAGE("--seed", "--seed", "-1");
    USAGE("--progress", "--progress", "loud");
    USAGE("--bogus", "--bogus");
    USAGE("--json", "--json");
    USAGE("unexpected", "extra");
}

Test(simulate_cli, outputs, .init = mkdir_tmp, .fini = rm_tmp, .timeout = 60)
{
    static cli_run r;
    SIM(&r, "--help");
    cr_expect_eq(r.rc, 0);
    cr_expect_not_null(strstr(r.out, "--strength"));
    char pj[128], pc[128];
    snprintf(pj, sizeof pj, "%s/s.json", g_dir);
    snprintf(pc, sizeof pc, "%s/s.csv", g_dir);
    SIM(&r, "--dgp", "tail", "--strength", "0.9", "--tail-alpha", "0.1", "--T", "200", "--alpha", "0.1,0.5",
        "--lags", "2", "--reps", "8", "--boot", "49", "--gamma", "0.1", "--threads", "2", "--quiet", "--json", pj,
        "--csv", pc);
    cr_assert_eq(r.rc, 0, "%s", r.err);
    cr_expect_str_empty(r.out);
    static char buf[1 << 16];
    slurp(pj, buf, sizeof buf);
    cJSON *root = cJSON_Parse(buf);
    cr_assert_not_null(root);
    cJSON *cells = cJSON_GetObjectItem(root, "cells"), *qt = cJSON_GetObjectItem(root, "qtests");
    cr_expect_eq(cJSON_GetArraySize(cells), 8);
    cr_expect_eq(cJSON_GetArraySize(qt), 8);
    cJSON *c0 = cJSON_GetArrayItem(cells, 0);
    cr_expect_eq(cJSON_GetObjectItem(c0, "valid")->valuedouble, 8.0);
    double rate = cJSON_GetObjectItem(c0, "rate_band")->valuedouble;
    double rej = cJSON_GetObjectItem(c0, "rej_band")->valuedouble;
    cr_expect_eq(rate, rej / 8.0);
    cJSON *dg = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "options"), "dgp");
    cr_expect_str_eq(cJSON_GetObjectItem(dg, "name")->valuestring, "tail");
    cr_expect_eq(cJSON_GetObjectItem(dg, "strength")->valuedouble, 0.9);
    cJSON_Delete(root);
    slurp(pc, buf, sizeof buf);
    const char *hdr = "test,alpha_y,alpha_x,lag,valid,rejections,rate,se,rho_mean,rho_sd,gamma_mean\n";
    cr_expect(!strncmp(buf, hdr, strlen(hdr)), "%s", buf);
    size_t lines = 0;
    for (const char *p = buf; *p; ++p) lines += *p == '\n';
    cr_expect_eq(lines, 1u + 16u + 16u);
    /* the table; --threads does not change it (timing line aside) */
    static cli_run t1, t2;
    SIM(&t1, "--T", "120", "--alpha", "0.5", "--lags", "1", "--reps", "6", "--boot", "19", "--threads", "1");
    SIM(&t2, "--T", "120", "--alpha", "0.5", "--lags", "1", "--reps", "6", "--boot", "19", "--threads", "2");
    cr_assert_eq(t1.rc, 0, "%s", t1.err);
    cr_assert_eq(t2.rc, 0, "%s", t2.err);
    const char *b1 = strstr(t1.out, "\nRejection"), *b2 = strstr(t2.out, "\nRejection");
    cr_assert(b1 && b2);
    cr_expect_str_eq(b1, b2);
}

/* The calibrated rule (issue #10): counted per cell and per Q test, thread
 * invariant for both schemes, equal to the p_null of the replications' own
 * analyses, and near its nominal size at the median. */
Test(simulate, calibrated_rule_counts, .timeout = 120)
{
    const double a[2] = {0.1, 0.5};
    for (int scheme = 0; scheme < 2; ++scheme) {
        study s;
        study_init(&s, CQB_DGP_NULL, 200, a, 2, 2);
        s.opts.seed = 77;
        s.opts.reps = 40;
        s.opts.B = 49;
        s.opts.null_scheme = scheme;
        cqb_sim_result r1, r2;
        s.opts.threads = 1;
        run_study(&s, &r1);
        s.opts.threads = 2;
        run_study(&s, &r2);
        for (size_t i = 0; i < r1.ncells; ++i) {
            cr_expect_eq(r1.cells[i].rej_null, r2.cells[i].rej_null);
            cr_expect_eq(r1.cells[i].rej_null_cons, r2.cells[i].rej_null_cons);
            cr_expect_leq(r1.cells[i].rej_null_cons, r1.cells[i].rej_null, "the conservative p is larger");
            cr_expect_eq(r1.cells[i].rate_null, (double)r1.cells[i].rej_null / (double)r1.cells[i].valid);
            cr_expect_eq(r1.cells[i].sparse, i < 2); /* only (0.1, 0.1) has < 5 expected joint hits */
        }
        for (size_t i = 0; i < r1.nqtests; ++i) cr_expect_eq(r1.qtests[i].rej_null_lb, r2.qtests[i].rej_null_lb);
        /* off: nothing counted, rates NaN */
        s.opts.null_test = 0;
        cqb_sim_result r3;
        run_study(&s, &r3);
        cr_expect_eq(r3.cells[0].rej_null, 0u);
        cr_expect(isnan(r3.cells[0].rate_null));
        cqb_sim_result_free(&r1);
        cqb_sim_result_free(&r2);
        cqb_sim_result_free(&r3);
    }
}

/* Scale-out (docs/scale-out.md): records of replication ranges, run in
 * different processes and thread counts, replayed in order give the whole
 * study's numbers bit for bit (the mean and SD of rho-hat included); a
 * failing replay stops the study with its error. */
typedef struct recbuf {
    double *v;
    size_t len;
    uint64_t n, seen;
} recbuf;

static cqb_status rec_store(uint64_t rep, const double *rec, size_t len, void *user, cqb_error *err)
{
    recbuf *b = user;
    (void)err;
    cr_assert_eq(len, b->len);
    cr_assert_lt(rep, b->n);
    cr_assert_eq(rep, b->seen, "records out of order: %llu after %llu", (unsigned long long)rep,
                 (unsigned long long)b->seen);
    ++b->seen;
    memcpy(b->v + rep * len, rec, len * sizeof *rec);
    return CQB_OK;
}

static cqb_status rec_serve(uint64_t rep, double *rec, size_t len, void *user, cqb_error *err)
{
    recbuf *b = user;
    if (rep == 1000) return cqb_error_set(err, CQB_EDATA, "no record %llu", (unsigned long long)rep);
    memcpy(rec, b->v + rep * len, len * sizeof *rec);
    return CQB_OK;
}

Test(simulate, record_and_replay_are_exact, .timeout = 60)
{
    const double a[2] = {0.1, 0.5};
    study s;
    study_init(&s, CQB_DGP_TAIL, 150, a, 2, 2);
    s.spec.dgp.strength = 0.3;
    s.opts.seed = 77;
    s.opts.reps = 24;
    s.opts.B = 49;
    s.opts.threads = 2;
    cqb_sim_result whole, p1, p2, rep;
    run_study(&s, &whole);
    recbuf b = {NULL, cqb_sim_record_len(&s.spec), 24, 0};
    cr_assert_eq(b.len, 3u * 2 * 2 * 2 + 2 * 2 * 2, "record length");
    b.v = calloc(b.n * b.len, sizeof *b.v);
    cr_assert_not_null(b.v);
    s.opts.record = rec_store;
    s.opts.scale_user = &b;
    s.opts.reps = 9; /* ids 0..8 on two threads */
    run_study(&s, &p1);
    s.opts.rep0 = 9; /* ids 9..23 on one */
    s.opts.reps = 15;
    s.opts.threads = 1;
    run_study(&s, &p2);
    cr_expect_eq(b.seen, 24u);
    s.opts.record = NULL;
    s.opts.replay = rec_serve;
    s.opts.rep0 = 0;
    s.opts.reps = 24;
    run_study(&s, &rep);
    expect_same(&whole, &rep);
    int sd = 0;
    for (size_t i = 0; i < rep.ncells; ++i) sd += isfinite(rep.cells[i].rho_sd) && rep.cells[i].rho_sd > 0;
    cr_expect_gt(sd, 0, "no SD of rho-hat to compare");
    /* a replay source that fails */
    s.opts.rep0 = 990;
    s.opts.reps = 20;
    b.n = 2000;
    double *big = calloc(2000 * b.len, sizeof *big);
    cr_assert_not_null(big);
    free(b.v);
    b.v = big;
    cqb_sim_result bad;
    cqb_error e = {CQB_OK, ""};
    cr_expect_eq(cqb_simulate(&s.spec, &s.opts, &bad, &e), CQB_EDATA);
    cr_expect_not_null(strstr(e.msg, "no record 1000"), "%s", e.msg);
    free(b.v);
    cqb_sim_result_free(&whole);
    cqb_sim_result_free(&p1);
    cqb_sim_result_free(&p2);
    cqb_sim_result_free(&rep);
}
