/* test_selfnorm.c — self-normalised CQ inference (cross-quantilogram.md
 * §4.7): the recursive statistics against a direct O(T^2) computation
 * written here (quantiles re-sorted per prefix, hits counted, the CQ and
 * partial-CQ formulas), the incremental sweep against cqb_cq_compute() on
 * every prefix, the simulated limit (reproducible from its seed, the same
 * for 1 and 2 threads, near Lobato's and the spec's values), the shipped
 * table and its CSV, p-values, and the error paths. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cqboot/cq.h"
#include "cqboot/selfnorm.h"
#include "testdata.h"

#define TOL 1e-12

/* JPM log return (T = 5505) and Market[-1], dVIX (§6.1). */
static double *jpm, *mkt, *dvix;
static size_t T;

static void load_sysrisk(void)
{
    size_t n;
    double *p = td_load_column("quantilogram_sys_risk.csv", "JPM", &n);
    double *m = td_load_column("quantilogram_sys_risk.csv", "Market", &n);
    double *v = td_load_column("quantilogram_sys_risk.csv", "VIX", &n);
    T = n - 1;
    jpm = malloc(T * sizeof *jpm);
    mkt = malloc(T * sizeof *mkt);
    dvix = malloc(T * sizeof *dvix);
    cr_assert(jpm && mkt && dvix);
    td_logdiff(p, n, jpm);
    for (size_t i = 0; i < T; ++i) {
        mkt[i] = m[i + 1];
        dvix[i] = v[i + 1] - v[i];
    }
    free(p);
    free(m);
    free(v);
}

static void free_sysrisk(void)
{
    free(jpm);
    free(mkt);
    free(dvix);
}

/* ---- The direct computation (independent of the library) ---------------- */

/* R quantile type 7 of n ascending values: index = 1 + (n-1) p with two
 * roundings, q = (1-h) x_lo + h x_hi. */
static double direct_q7(const double *s, size_t n, double p)
{
    volatile double prod = (double)(n - 1) * p;
    double index = 1.0 + prod;
    double lo = floor(index), h = index - lo;
    size_t l = (size_t)lo;
    double xl = s[l - 1], xh = s[l < n ? l : n - 1];
    if (h == 0.0 || xh == xl) return xl;
    volatile double a = (1.0 - h) * xl, b = h * xh;
    return a + b;
}

static void sorted_insert(double *s, size_t n, double v)
{
    size_t i = n;
    while (i > 0 && s[i - 1] > v) {
        s[i] = s[i - 1];
        --i;
    }
    s[i] = v;
}

/* For every prefix s = s_lo..T (R convention: type 7 on the first s values,
 * hit x <= q, rows t = k..s-1 0-based, predictor and control at t - k): the
 * plain CQ for lags 1..p in plain[(s - s_lo) * p + k - 1] and, when z is not
 * NULL, the partial CQ with the control z in partial[] likewise. */
static void direct_paths(const double *y, const double *x, const double *z, size_t n, double ay, double ax,
                         double az, size_t p, size_t s_lo, double *plain, double *partial)
{
    double *sy = malloc(n * sizeof *sy), *sx = malloc(n * sizeof *sx), *sz = malloc(n * sizeof *sz);
    cr_assert(sy && sx && sz);
    for (size_t s = 1; s <= n; ++s) {
        sorted_insert(sy, s - 1, y[s - 1]);
        sorted_insert(sx, s - 1, x[s - 1]);
        if (z) sorted_insert(sz, s - 1, z[s - 1]);
        if (s < s_lo) continue;
        const double qy = direct_q7(sy, s, ay), qx = direct_q7(sx, s, ax), qz = z ? direct_q7(sz, s, az) : 0.0;
        for (size_t k = 1; k <= p; ++k) {
            double g00 = 0, g11 = 0, g22 = 0, g01 = 0, g02 = 0, g12 = 0;
            for (size_t t = k; t < s; ++t) {
                double h0 = (y[t] <= qy ? 1.0 : 0.0) - ay;
                double h1 = (x[t - k] <= qx ? 1.0 : 0.0) - ax;
                g00 += h0 * h0;
                g11 += h1 * h1;
                g01 += h0 * h1;
                if (z) {
                    double h2 = (z[t - k] <= qz ? 1.0 : 0.0) - az;
                    g22 += h2 * h2;
                    g02 += h0 * h2;
                    g12 += h1 * h2;
                }
            }
            plain[(s - s_lo) * p + k - 1] = g01 / sqrt(g00 * g11);
            if (z) {
                /* P = G^{-1} = adj(G) / det: rho = -P01 / sqrt(P00 P11) */
                double c00 = g11 * g22 - g12 * g12, c11 = g00 * g22 - g02 * g02;
                double c01 = -(g01 * g22 - g12 * g02);
                partial[(s - s_lo) * p + k - 1] = -c01 / sqrt(c00 * c11);
            }
        }
    }
    free(sy);
    free(sx);
    free(sz);
}

/* V = T^-2 sum s^2 (r_s - r_T)(r_s - r_T)' over lags 0..p-1 of a path with
 * stride ld; S = T r' V^{-1} r by Gauss-Jordan. */
static double direct_S(const double *path, size_t ld, size_t s_lo, size_t n, size_t p, double *Vout)
{
    double V[9] = {0}, inv[9], a[9];
    const double *rT = path + (n - s_lo) * ld;
    for (size_t s = s_lo; s <= n; ++s)
        for (size_t i = 0; i < p; ++i)
            for (size_t j = 0; j < p; ++j)
                V[i * p + j] += (double)s * (double)s * (path[(s - s_lo) * ld + i] - rT[i]) *
                                (path[(s - s_lo) * ld + j] - rT[j]);
    for (size_t i = 0; i < p * p; ++i) {
        V[i] /= (double)n * (double)n;
        a[i] = V[i];
        inv[i] = (i % (p + 1) == 0) ? 1.0 : 0.0;
    }
    for (size_t c = 0; c < p; ++c) {
        double d = a[c * p + c];
        for (size_t j = 0; j < p; ++j) {
            a[c * p + j] /= d;
            inv[c * p + j] /= d;
        }
        for (size_t r = 0; r < p; ++r) {
            if (r == c) continue;
            double f = a[r * p + c];
            for (size_t j = 0; j < p; ++j) {
                a[r * p + j] -= f * a[c * p + j];
                inv[r * p + j] -= f * inv[c * p + j];
            }
        }
    }
    double S = 0.0;
    for (size_t i = 0; i < p; ++i)
        for (size_t j = 0; j < p; ++j) S += rT[i] * inv[i * p + j] * rT[j];
    if (Vout) memcpy(Vout, V, p * p * sizeof *V);
    return (double)n * S;
}

static void expect_rel(double got, double want, double tol, const char *what)
{
    double d = fabs(got - want), scale = fabs(want) > 1.0 ? fabs(want) : 1.0;
    cr_expect(d <= tol * scale, "%s: got %.17g, want %.17g (diff %.3g)", what, got, want, d);
}

/* Options that never start a long simulation if the table lacks an entry. */
static cqb_sn_opts quick_opts(double omega)
{
    cqb_sn_opts o;
    cqb_sn_opts_default(&o);
    o.omega = omega;
    o.sim.paths = 2000;
    o.sim.steps = 200;
    return o;
}

/* ---- Recursive statistics on real data ---------------------------------- */

Test(selfnorm, recursive_direct_jpm_market, .init = load_sysrisk, .fini = free_sysrisk)
{
    const double alphas[2] = {0.05, 0.5};
    const size_t P = 3;
    cqb_cq_input in = {jpm, mkt, T, NULL, 0, CQB_Q_R7_LE};
    const size_t s_lo = cqb_sn_first_s(&in, P, 0.1);
    cr_assert_eq(s_lo, 550); /* floor(5505 * 0.1) */
    const size_t ns = T - s_lo + 1;
    double *lib = malloc(ns * P * sizeof *lib), *dir = malloc(ns * P * sizeof *dir);
    cr_assert(lib && dir);
    size_t lags[3] = {1, 2, 3};
    for (int ia = 0; ia < 2; ++ia) {
        const double a = alphas[ia];
        cr_assert_eq(cqb_sn_paths(&in, a, a, lags, P, s_lo, lib, NULL, NULL), (int)CQB_OK);
        direct_paths(jpm, mkt, NULL, T, a, a, 0.0, P, s_lo, dir, NULL);
        size_t bad = 0;
        double worst = 0.0;
        for (size_t i = 0; i < ns * P; ++i) {
            double d = fabs(lib[i] - dir[i]);
            if (!(d <= TOL)) ++bad;
            if (d > worst) worst = d;
        }
        cr_expect_eq(bad, 0, "alpha %g: %zu recursive estimates differ (worst %.3g)", a, bad, worst);
        /* rho_T is the full-sample CQ, bit for bit */
        for (size_t k = 1; k <= P; ++k) {
            cqb_cq_point pt;
            cr_assert_eq(cqb_cq_compute(&in, a, a, k, &pt, NULL), (int)CQB_OK);
            cr_expect_eq(lib[(ns - 1) * P + k - 1], pt.rho, "alpha %g lag %zu", a, k);
        }
        if (ia == 0) expect_rel(lib[(ns - 1) * P], 0.061641745498933, TOL, "O1 rho(1)");
        for (size_t p = 1; p <= P; ++p) {
            cqb_sn_opts o = quick_opts(0.1);
            cqb_sn_result r;
            cr_assert_eq(cqb_sn_test(&in, a, a, p, &o, &r, NULL), (int)CQB_OK);
            cr_expect_eq(r.s_lo, s_lo);
            cr_expect_eq(r.n_s, ns);
            cr_expect_eq(r.n_skipped, 0);
            /* the direct S for lags 1..p: columns 0..p-1 of the 3-lag path */
            double V[9];
            double S = direct_S(dir, P, s_lo, T, p, V);
            char what[64];
            snprintf(what, sizeof what, "S_hat alpha %g p %zu", a, p);
            expect_rel(r.stat, S, TOL, what);
            for (size_t i = 0; i < p * p; ++i) expect_rel(r.V[i], V[i], TOL, "V_hat");
            cr_expect(r.pvalue > 0.0 && r.pvalue <= 1.0);
            cr_expect(r.cv[0] < r.cv[1] && r.cv[1] < r.cv[2]);
            cr_expect_eq(r.pvalue < 0.05, r.stat > r.cv[1], "p-value and critical value disagree");
        }
    }
    /* the single-lag t-test without controls: t^2 = S_hat(p = 1) */
    cqb_sn_opts o = quick_opts(0.1);
    cqb_sn_result rs, rt;
    cr_assert_eq(cqb_sn_test(&in, 0.05, 0.05, 1, &o, &rs, NULL), (int)CQB_OK);
    cr_assert_eq(cqb_sn_ttest(&in, 0.05, 0.05, 1, &o, &rt, NULL), (int)CQB_OK);
    cr_expect_eq(rt.partial, 0);
    expect_rel(rt.stat * rt.stat, rs.stat, TOL, "t^2 vs S");
    free(lib);
    free(dir);
}

Test(selfnorm, pcq_direct_jpm_market_dvix, .init = load_sysrisk, .fini = free_sysrisk)
{
    const cqb_control ctl = {dvix, 0.95, -1};
    cqb_cq_input in = {jpm, mkt, T, &ctl, 1, CQB_Q_R7_LE};
    const size_t P = 2;
    const size_t s_lo = cqb_sn_first_s(&in, P, 0.1), ns = T - s_lo + 1;
    double *plain = malloc(ns * P * sizeof *plain), *part = malloc(ns * P * sizeof *part);
    double *lib = malloc(ns * P * sizeof *lib);
    cr_assert(plain && part && lib);
    direct_paths(jpm, mkt, dvix, T, 0.05, 0.05, 0.95, P, s_lo, plain, part);
    size_t lags[2] = {1, 2};
    cr_assert_eq(cqb_sn_paths(&in, 0.05, 0.05, lags, P, s_lo, NULL, lib, NULL), (int)CQB_OK);
    size_t bad = 0;
    for (size_t i = 0; i < ns * P; ++i) bad += !(fabs(lib[i] - part[i]) <= TOL);
    cr_expect_eq(bad, 0, "%zu recursive partial CQs differ", bad);
    const double o2[2] = {0.047967680223574, 0.099363251266527};
    for (size_t k = 1; k <= P; ++k) {
        cqb_sn_opts o = quick_opts(0.1);
        cqb_sn_result r;
        cr_assert_eq(cqb_sn_ttest(&in, 0.05, 0.05, k, &o, &r, NULL), (int)CQB_OK);
        cr_expect_eq(r.partial, 1);
        cr_expect_eq(r.lag, k);
        cr_expect_eq(r.s_lo, s_lo);
        expect_rel(r.rho[0], o2[k - 1], TOL, "O2 partial CQ");
        /* direct: V over the column of lag k, t = sqrt(T) rho_T / sqrt(V) */
        double V = 0.0, rT = part[(ns - 1) * P + k - 1];
        for (size_t s = s_lo; s <= T; ++s) {
            double d = part[(s - s_lo) * P + k - 1] - rT;
            V += (double)s * (double)s * d * d;
        }
        V /= (double)T * (double)T;
        expect_rel(r.V[0], V, TOL, "V_hat (partial)");
        expect_rel(r.stat, sqrt((double)T) * rT / sqrt(V), TOL, "t (partial)");
        cr_expect(r.pvalue > 0.0 && r.pvalue <= 1.0);
        cr_expect_eq(r.pvalue < 0.05, fabs(r.stat) > r.cv[1]);
    }
    free(plain);
    free(part);
    free(lib);
}

/* ---- The incremental sweep equals cqb_cq_compute() on every prefix ------ */

static uint64_t lcg_state;
static double lcg_normal(void)
{
    double u = 0.0;
    for (int i = 0; i < 12; ++i) {
        lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
        u += (double)(lcg_state >> 11) * 0x1p-53;
    }
    return u - 6.0;
}

Test(selfnorm, sweep_equals_cq_compute_all_conventions)
{
    enum { N = 240 };
    double y[N], x[N], z1[N], z2[N];
    lcg_state = 12345;
    for (int i = 0; i < N; ++i) {
        /* rounded values: many ties, also at the thresholds */
        y[i] = round(10.0 * lcg_normal()) / 10.0;
        x[i] = round(4.0 * lcg_normal()) / 4.0 + (i > N / 2 ? 0.5 : 0.0);
        z1[i] = round(5.0 * lcg_normal()) / 5.0;
        z2[i] = (double)(i % 7);
    }
    const cqb_control ctl[2] = {{z1, 0.7, 4}, {z2, 0.2, -1}};
    const cqb_qconv convs[3] = {CQB_Q_R7_LE, CQB_Q_TYPE1_LT, CQB_Q_HIGHER_LT_SUB};
    const double pairs[2][2] = {{0.1, 0.5}, {0.5, 0.9}};
    size_t lags[3] = {0, 1, 3};
    for (int c = 0; c < 3; ++c) {
        for (int ip = 0; ip < 2; ++ip) {
            cqb_cq_input in = {y, x, N, ctl, 2, convs[c]};
            const size_t s_lo = cqb_sn_first_s(&in, 3, 0.0);
            cr_assert_eq(s_lo, 6); /* r0 = max(3, control lag 4), + 2 */
            const size_t ns = N - s_lo + 1;
            double rho[N * 3], rhop[N * 3];
            const double ay = pairs[ip][0], ax = pairs[ip][1];
            cr_assert_eq(cqb_sn_paths(&in, ay, ax, lags, 3, s_lo, rho, rhop, NULL), (int)CQB_OK);
            size_t bad = 0, nan = 0;
            for (size_t s = s_lo; s <= N; ++s) {
                cqb_cq_input tr = in;
                tr.T = s;
                for (size_t j = 0; j < 3; ++j) {
                    cqb_cq_point pt;
                    cqb_status st = cqb_cq_compute(&tr, ay, ax, lags[j], &pt, NULL);
                    double gp = rhop[(s - s_lo) * 3 + j], gr = rho[(s - s_lo) * 3 + j];
                    if (gr != pt.rho) ++bad;
                    if (st == CQB_OK ? gp != pt.rho_partial : !isnan(gp)) ++bad;
                    nan += isnan(gp);
                }
            }
            cr_expect_eq(bad, 0, "%s (%g, %g): %zu of %zu prefix values differ", cqb_qconv_name(convs[c]), ay, ax,
                         bad, 2 * 3 * ns);
            cr_expect(nan < ns, "almost every partial CQ is singular");
        }
    }
}

/* ---- The simulation --------------------------------------------------- */

static double *simulate(size_t pmax, const double *om, size_t nom, size_t paths, size_t steps, uint64_t seed,
                        int threads)
{
    cqb_sn_sim_opts o;
    cqb_sn_sim_opts_default(&o);
    o.paths = paths;
    o.steps = steps;
    o.seed = seed;
    o.threads = threads;
    double *out = malloc(paths * pmax * nom * sizeof *out);
    cr_assert_not_null(out);
    cqb_error err;
    cr_assert_eq(cqb_sn_simulate(pmax, om, nom, &o, out, &err), (int)CQB_OK, "%s", err.msg);
    return out;
}

Test(selfnorm, simulation_reproducible_and_thread_independent)
{
    const double om[2] = {0.0, 0.1};
    const size_t paths = 3000, n = 201, P = 3, sz = paths * P * 2 * sizeof(double);
    double *a = simulate(P, om, 2, paths, n, 11, 1);
    double *b = simulate(P, om, 2, paths, n, 11, 2);
    double *c = simulate(P, om, 2, paths, n, 11, 2);
    double *d = simulate(P, om, 2, paths, n, 12, 2);
    cr_expect(memcmp(a, b, sz) == 0, "1 and 2 threads differ");
    cr_expect(memcmp(b, c, sz) == 0, "two runs differ");
    cr_expect(memcmp(a, d, sz) != 0, "another seed gives the same draws");
    size_t nan = 0;
    for (size_t i = 0; i < paths * P * 2; ++i) nan += !(a[i] >= 0.0);
    cr_expect_eq(nan, 0);
    /* a path's S for p lags does not depend on pmax or on the other omegas */
    const double om1 = 0.1;
    double *e = simulate(2, &om1, 1, paths, n, 11, 2);
    cr_expect(memcmp(e, a + (1 * P + 0) * paths, 2 * paths * sizeof(double)) == 0,
              "S(p = 1, 2; omega 0.1) depends on pmax or the omega set");
    /* S grows with p on every path (nested quadratic forms) */
    size_t dec = 0;
    for (size_t i = 0; i < paths; ++i) dec += a[paths + i] < a[i] || a[2 * paths + i] < a[paths + i];
    cr_expect_eq(dec, 0);
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
}

static int cmp_d(const void *x, const void *y)
{
    double u = *(const double *)x, v = *(const double *)y;
    return (u > v) - (u < v);
}

/* Type-7 quantile at level a of sorted v and its Monte-Carlo standard error
 * sqrt(a(1-a)/N) / f(q), with the density from a difference quotient. */
static double q_se(const double *v, size_t N, double a, double *se)
{
    double h = a > 0.98 ? 0.005 : 0.01;
    double dq = cqb_quantile_sorted(CQB_Q_R7_LE, v, N, a + h) - cqb_quantile_sorted(CQB_Q_R7_LE, v, N, a - h);
    *se = sqrt(a * (1.0 - a) / (double)N) * dq / (2.0 * h);
    return cqb_quantile_sorted(CQB_Q_R7_LE, v, N, a);
}

/* The spec's provisional table (§4.7), omega = 0.10: 90/95/99% for p = 1..10
 * (200,000 paths, n = 2,000). */
static const double SPEC_W10[10][3] = {
    {30.05, 48.72, 108.26},   {77.39, 112.94, 217.05},  {139.44, 192.57, 338.06},  {217.17, 290.40, 485.18},
    {309.41, 404.99, 644.37}, {417.00, 533.91, 825.30}, {536.88, 676.10, 1023.18}, {670.08, 834.24, 1238.52},
    {816.64, 1005.31, 1469.70}, {973.49, 1193.72, 1712.25}};
static const double SPEC_W0[10][3] = {
    {28.41, 45.83, 100.74},   {71.48, 103.76, 195.77},  {126.73, 174.04, 303.33},  {194.97, 259.08, 430.92},
    {274.39, 357.49, 566.85}, {367.12, 467.37, 715.06}, {469.26, 588.36, 885.08},  {582.71, 722.09, 1069.71},
    {705.09, 867.18, 1264.48}, {840.38, 1024.51, 1462.77}};
static const double SPEC_W05[10][3] = {
    {28.85, 46.66, 102.81},   {73.29, 106.51, 202.20},  {130.56, 179.69, 315.75},  {201.85, 268.95, 448.18},
    {285.48, 372.48, 592.07}, {383.14, 489.53, 752.56}, {492.02, 617.94, 928.47},  {612.77, 760.42, 1129.25},
    {744.21, 914.22, 1343.01}, {887.47, 1083.52, 1554.26}};
static const double SPEC_T[3][3] = {{5.330, 6.770, 10.037}, {5.371, 6.831, 10.140}, {5.482, 6.980, 10.405}};

Test(selfnorm, small_simulation_near_lobato_and_spec)
{
    const double om[2] = {0.0, 0.1};
    const size_t paths = 20000, n = 500, P = 10;
    double *s = simulate(P, om, 2, paths, n, 2016, 0);
    for (size_t c = 0; c < 2 * P; ++c) qsort(s + c * paths, paths, sizeof *s, cmp_d);
    /* Lobato (2001), p = 1, omega = 0: 95% = 45.4 */
    double se;
    double q = q_se(s, paths, 0.95, &se);
    cr_expect(fabs(q - 45.4) <= 0.04 * 45.4, "p = 1, omega = 0, 95%%: %.3f vs Lobato's 45.4", q);
    cr_expect(fabs(q - 45.4) <= 4.0 * se + 0.01 * 45.4, "p = 1, omega = 0, 95%%: %.3f (se %.3f) vs 45.4", q, se);
    /* omega = 0.1 against the spec's table: this run's error, the spec's
     * (200,000 paths: sqrt(20000/200000) of ours) and 1% for n = 500 vs 2000 */
    const double lv[3] = {0.90, 0.95, 0.99};
    double zmax = 0.0;
    for (size_t p = 1; p <= P; ++p) {
        const double *v = s + (1 * P + p - 1) * paths;
        for (int l = 0; l < 3; ++l) {
            double qq = q_se(v, paths, lv[l], &se);
            double tol = 4.0 * se * sqrt(1.0 + 0.1) + 0.01 * SPEC_W10[p - 1][l];
            double z = (qq - SPEC_W10[p - 1][l]) / (se * sqrt(1.1));
            if (fabs(z) > zmax) zmax = fabs(z);
            cr_expect(fabs(qq - SPEC_W10[p - 1][l]) <= tol, "omega 0.1, p %zu, %g: %.2f vs spec %.2f (se %.2f)", p,
                      lv[l], qq, SPEC_W10[p - 1][l], se);
        }
    }
    cr_log_info("largest |z| against the spec, omega 0.1: %.2f", zmax);
    free(s);
}

/* ---- The shipped table ------------------------------------------------ */

Test(selfnorm, table_matches_csv)
{
    size_t tpaths, tsteps;
    uint64_t tseed;
    cqb_sn_table_info(&tpaths, &tsteps, &tseed);
    cr_assert(tpaths > 0, "no table is compiled in");
    FILE *f = fopen(CQB_DATA_DIR "/sncv_table.csv", "r");
    cr_assert_not_null(f, "cannot open " CQB_DATA_DIR "/sncv_table.csv");
    char line[512];
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_expect_str_eq(line, "statistic,omega,p,level,value,paths,steps,seed\n");
    size_t rows = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        char stat[16];
        double omega, level, value;
        unsigned p;
        unsigned long long pa, st, se;
        cr_assert_eq(sscanf(line, "%15[^,],%lf,%u,%lf,%lf,%llu,%llu,%llu", stat, &omega, &p, &level, &value, &pa, &st,
                            &se),
                     8, "bad CSV line: %s", line);
        cqb_sn_kind kind = strcmp(stat, "S") == 0 ? CQB_SN_S : CQB_SN_ABS_T;
        double got = cqb_sn_table_lookup(kind, p, omega, level);
        if (got != value || pa != tpaths || st != tsteps || se != tseed) {
            ++bad;
            cr_log_error("%s", line);
        }
        ++rows;
    }
    fclose(f);
    cr_expect_eq(rows, 4 * 11 * CQB_SN_NLEVELS);
    cr_expect_eq(bad, 0, "%zu CSV rows differ from the compiled-in table", bad);
}

Test(selfnorm, table_near_spec_and_monotone)
{
    const double om[3] = {0.0, 0.05, 0.1};
    const double (*spec[3])[3] = {SPEC_W0, SPEC_W05, SPEC_W10};
    const double lv[3] = {0.90, 0.95, 0.99};
    double worst = 0.0;
    for (int w = 0; w < 3; ++w) {
        for (size_t p = 1; p <= 10; ++p)
            for (int l = 0; l < 3; ++l) {
                double v = cqb_sn_table_lookup(CQB_SN_S, p, om[w], lv[l]);
                double rel = fabs(v / spec[w][p - 1][l] - 1.0);
                if (rel > worst) worst = rel;
                /* the spec quotes +-1% at 95%; tails are noisier */
                cr_expect(rel <= (l == 2 ? 0.03 : 0.02), "omega %g p %zu %g: table %.2f spec %.2f", om[w], p, lv[l],
                          v, spec[w][p - 1][l]);
            }
        for (int l = 0; l < 3; ++l) {
            double v = cqb_sn_table_lookup(CQB_SN_ABS_T, 1, om[w], lv[l]);
            cr_expect(fabs(v / SPEC_T[w][l] - 1.0) <= 0.015, "|t| omega %g %g: %.3f vs %.3f", om[w], lv[l], v,
                      SPEC_T[w][l]);
        }
    }
    cr_log_info("largest relative difference from the spec's table: %.4f", worst);
    /* increasing in the level, in p and in omega */
    const double *L = cqb_sn_table_levels();
    const double all[4] = {0.0, 0.03, 0.05, 0.1};
    for (int w = 0; w < 4; ++w)
        for (size_t p = 1; p <= 10; ++p)
            for (size_t l = 0; l < CQB_SN_NLEVELS; ++l) {
                double v = cqb_sn_table_lookup(CQB_SN_S, p, all[w], L[l]);
                cr_expect(v > 0.0);
                if (l) cr_expect(v > cqb_sn_table_lookup(CQB_SN_S, p, all[w], L[l - 1]));
                if (p > 1 && L[l] >= 0.5) cr_expect(v > cqb_sn_table_lookup(CQB_SN_S, p - 1, all[w], L[l]));
                if (w && L[l] >= 0.5 && L[l] <= 0.99)
                    cr_expect(v > cqb_sn_table_lookup(CQB_SN_S, p, all[w - 1], L[l]), "omega %g p %zu %g", all[w], p,
                              L[l]);
            }
    cr_expect(isnan(cqb_sn_table_lookup(CQB_SN_S, 11, 0.1, 0.95)));
    cr_expect(isnan(cqb_sn_table_lookup(CQB_SN_S, 1, 0.2, 0.95)));
    cr_expect(isnan(cqb_sn_table_lookup(CQB_SN_S, 1, 0.1, 0.945)));
    cr_expect(isnan(cqb_sn_table_lookup(CQB_SN_ABS_T, 2, 0.1, 0.95)));
}

/* ---- Reference distributions and p-values ----------------------------- */

Test(selfnorm, dist_quantiles_and_pvalues)
{
    cqb_sn_dist d;
    cr_assert_eq(cqb_sn_dist_init(&d, CQB_SN_S, 3, 0.1, NULL, 0, NULL), (int)CQB_OK);
    cr_expect_eq(d.source, CQB_SN_TABLE);
    double c95 = cqb_sn_dist_quantile(&d, 0.95), c96 = cqb_sn_dist_quantile(&d, 0.96);
    cr_expect_eq(c95, cqb_sn_table_lookup(CQB_SN_S, 3, 0.1, 0.95));
    double mid = cqb_sn_dist_quantile(&d, 0.955);
    cr_expect(fabs(mid - 0.5 * (c95 + c96)) <= 1e-9 * c96);
    cr_expect(isnan(cqb_sn_dist_quantile(&d, 0.01)));
    int bound;
    expect_rel(cqb_sn_dist_pvalue(&d, c95, &bound), 0.05, 1e-12, "p-value at the 95% value");
    cr_expect_eq(bound, 0);
    expect_rel(cqb_sn_dist_pvalue(&d, mid, NULL), 0.045, 1e-12, "interpolated p-value");
    cr_expect_eq(cqb_sn_dist_pvalue(&d, 0.0, NULL), 1.0);
    expect_rel(cqb_sn_dist_pvalue(&d, 1e9, &bound), 1e-4, 1e-9, "p-value beyond the table");
    cr_expect_eq(bound, 1);
    double prev = 1.0;
    for (double x = 0.0; x < 2.0 * cqb_sn_dist_quantile(&d, 0.9999); x += 3.7) {
        double pv = cqb_sn_dist_pvalue(&d, x, NULL);
        cr_expect(pv <= prev && pv > 0.0);
        prev = pv;
    }
    cqb_sn_dist_free(&d);

    /* a simulated one (not in the table: omega 0.2) */
    cqb_sn_sim_opts so;
    cqb_sn_sim_opts_default(&so);
    so.paths = 4000;
    so.steps = 200;
    cr_assert_eq(cqb_sn_dist_init(&d, CQB_SN_ABS_T, 1, 0.2, &so, 0, NULL), (int)CQB_OK);
    cr_expect_eq(d.source, CQB_SN_SIMULATED);
    cr_expect_eq(d.ndraws, 4000);
    double t95 = cqb_sn_dist_quantile(&d, 0.95);
    double pv = cqb_sn_dist_pvalue(&d, t95, &bound);
    cr_expect(fabs(pv - 0.05) <= 0.001, "simulated p-value at its 95%% quantile: %g", pv);
    cr_expect_eq(cqb_sn_dist_pvalue(&d, 1e9, &bound), 1.0 / 4000);
    cr_expect_eq(bound, 1);
    /* the same draws as cqb_sn_simulate's p = 1 column, square-rooted */
    const double om = 0.2;
    double *raw = simulate(1, &om, 1, 4000, 200, so.seed, 0);
    for (size_t i = 0; i < 4000; ++i) raw[i] = sqrt(raw[i]);
    qsort(raw, 4000, sizeof *raw, cmp_d);
    cr_expect(memcmp(raw, d.draws, 4000 * sizeof *raw) == 0);
    free(raw);
    cqb_sn_dist_free(&d);

    /* force_sim ignores the table; a given dist must match the test */
    cr_assert_eq(cqb_sn_dist_init(&d, CQB_SN_S, 1, 0.1, &so, 1, NULL), (int)CQB_OK);
    cr_expect_eq(d.source, CQB_SN_SIMULATED);
    double y[50], x[50];
    lcg_state = 99;
    for (int i = 0; i < 50; ++i) {
        y[i] = lcg_normal();
        x[i] = lcg_normal();
    }
    cqb_cq_input in = {y, x, 50, NULL, 0, CQB_Q_R7_LE};
    cqb_sn_opts o = quick_opts(0.1);
    o.dist = &d;
    cqb_sn_result r;
    cr_expect_eq(cqb_sn_test(&in, 0.5, 0.5, 1, &o, &r, NULL), (int)CQB_OK);
    cr_expect_eq(r.source, CQB_SN_SIMULATED);
    cr_expect_eq(r.cv[1], cqb_sn_dist_quantile(&d, 0.95));
    cr_expect_eq(cqb_sn_test(&in, 0.5, 0.5, 2, &o, &r, NULL), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_ttest(&in, 0.5, 0.5, 1, &o, &r, NULL), (int)CQB_EUSAGE);
    cqb_sn_dist_free(&d);
}

Test(selfnorm, normal_draws)
{
    const size_t N = 100000;
    double s1 = 0.0, s2 = 0.0;
    for (size_t m = 0; m < N; ++m) {
        double v = cqb_sn_normal(2016, 77, m);
        s1 += v;
        s2 += v * v;
    }
    cr_expect(fabs(s1 / N) < 4.0 / sqrt((double)N), "mean %g", s1 / N);
    cr_expect(fabs(s2 / N - 1.0) < 4.0 * sqrt(2.0 / N), "variance %g", s2 / N);
    cr_expect_eq(cqb_sn_normal(2016, 77, 5), cqb_sn_normal(2016, 77, 5));
}

/* ---- Edge cases and errors -------------------------------------------- */

Test(selfnorm, singular_vhat)
{
    double c[100];
    for (int i = 0; i < 100; ++i) c[i] = 1.0;
    cqb_cq_input in = {c, c, 100, NULL, 0, CQB_Q_R7_LE};
    cqb_sn_opts o = quick_opts(0.1);
    cqb_sn_result r;
    cqb_error err;
    /* every hit is 1 - a, so rho_s = 1 for every s and V_hat = 0 */
    cr_expect_eq(cqb_sn_test(&in, 0.3, 0.3, 2, &o, &r, &err), (int)CQB_EDATA);
    cr_expect(isnan(r.stat) && isnan(r.pvalue));
    cr_expect_eq(r.rho[0], 1.0);
    cr_expect_eq(r.V[0], 0.0);
    cr_expect_eq(cqb_sn_ttest(&in, 0.3, 0.3, 1, &o, &r, &err), (int)CQB_EDATA);
    cr_expect(isnan(r.stat));
    const double V[4] = {1.0, 1.0, 1.0, 1.0}, rho[2] = {0.1, 0.2};
    double S;
    cr_expect_eq(cqb_sn_quadform(rho, V, 2, 100.0, &S, NULL), (int)CQB_EDATA);
    cr_expect(isnan(S));
    const double V2[4] = {1.0, 1.0, 1.0, 1.0 + 1e-17};
    cr_expect_eq(cqb_sn_quadform(rho, V2, 2, 100.0, &S, NULL), (int)CQB_EDATA);
    const double V3[4] = {2.0, 0.5, 0.5, 1.0};
    cr_expect_eq(cqb_sn_quadform(rho, V3, 2, 100.0, &S, NULL), (int)CQB_OK);
    /* 100 (0.1, 0.2) V3^{-1} (0.1, 0.2)' = 100 * 0.07 / 1.75 */
    expect_rel(S, 4.0, 1e-14, "quadform");
}

Test(selfnorm, bad_inputs)
{
    double y[40], x[40];
    lcg_state = 7;
    for (int i = 0; i < 40; ++i) {
        y[i] = lcg_normal();
        x[i] = lcg_normal();
    }
    cqb_cq_input in = {y, x, 40, NULL, 0, CQB_Q_R7_LE};
    cqb_sn_result r;
    cqb_sn_opts o = quick_opts(0.1);
    cqb_error err;
    const double bad_omega[4] = {-0.1, 1.0, 1.5, NAN};
    for (int i = 0; i < 4; ++i) {
        o.omega = bad_omega[i];
        cr_expect_eq(cqb_sn_test(&in, 0.5, 0.5, 1, &o, &r, &err), (int)CQB_EUSAGE, "omega %g", bad_omega[i]);
        cr_expect_eq(cqb_sn_ttest(&in, 0.5, 0.5, 1, &o, &r, &err), (int)CQB_EUSAGE);
    }
    o.omega = 0.1;
    cr_expect_eq(cqb_sn_test(&in, 0.5, 0.5, 0, &o, &r, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_test(&in, 0.5, 0.5, CQB_SN_PMAX + 1, &o, &r, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_test(&in, 0.0, 0.5, 1, &o, &r, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_test(&in, 0.5, 1.0, 1, &o, &r, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_ttest(&in, 0.5, 0.5, 40, &o, &r, &err), (int)CQB_EUSAGE);
    /* T too small: s_lo = p + 2 = 5 > T = 4; and T = 6 leaves 1 < p terms */
    in.T = 4;
    o.omega = 0.0;
    cr_expect_eq(cqb_sn_test(&in, 0.5, 0.5, 3, &o, &r, &err), (int)CQB_EUSAGE);
    in.T = 6;
    cr_expect_eq(cqb_sn_test(&in, 0.5, 0.5, 3, &o, &r, &err), (int)CQB_EUSAGE);
    cr_expect(strstr(err.msg, "too small") != NULL, "%s", err.msg);
    in.T = 8; /* s_lo = 5, three terms s = 5, 6, 7 < T: allowed */
    cqb_status st = cqb_sn_test(&in, 0.5, 0.5, 3, &o, &r, &err);
    cr_expect(st == CQB_OK || st == CQB_EDATA);
    in.T = 40;
    o.omega = 0.95; /* s_lo = 38: two terms for p = 3 */
    cr_expect_eq(cqb_sn_test(&in, 0.5, 0.5, 3, &o, &r, &err), (int)CQB_EUSAGE);
    o.omega = 0.1;
    /* non-finite data */
    y[17] = NAN;
    cr_expect_eq(cqb_sn_test(&in, 0.5, 0.5, 1, &o, &r, &err), (int)CQB_EDATA);
    y[17] = INFINITY;
    cr_expect_eq(cqb_sn_ttest(&in, 0.5, 0.5, 1, &o, &r, &err), (int)CQB_EDATA);
    y[17] = 0.25;
    /* cqb_sn_paths: a partial CQ without controls, a first prefix too short */
    double out[64];
    size_t lag = 3;
    cr_expect_eq(cqb_sn_paths(&in, 0.5, 0.5, &lag, 1, 10, out, out, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_paths(&in, 0.5, 0.5, &lag, 1, 4, out, NULL, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_paths(&in, 0.5, 0.5, &lag, 1, 41, out, NULL, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_paths(&in, 0.5, 0.5, &lag, 1, 5, out, NULL, &err), (int)CQB_OK);
    /* simulation options */
    cqb_sn_sim_opts so;
    cqb_sn_sim_opts_default(&so);
    so.paths = 10;
    so.steps = 20;
    double sim[64];
    const double om_ok = 0.1, om_bad = 1.0;
    cr_expect_eq(cqb_sn_simulate(0, &om_ok, 1, &so, sim, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_simulate(CQB_SN_PMAX + 1, &om_ok, 1, &so, sim, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_simulate(1, &om_bad, 1, &so, sim, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_simulate(1, &om_ok, 0, &so, sim, &err), (int)CQB_EUSAGE);
    so.steps = 1;
    cr_expect_eq(cqb_sn_simulate(1, &om_ok, 1, &so, sim, &err), (int)CQB_EUSAGE);
    so.steps = 20;
    so.paths = 0;
    cr_expect_eq(cqb_sn_simulate(1, &om_ok, 1, &so, sim, &err), (int)CQB_EUSAGE);
    so.paths = 10;
    cr_expect_eq(cqb_sn_simulate(2, &om_ok, 1, &so, sim, &err), (int)CQB_OK);
    cqb_sn_dist d;
    cr_expect_eq(cqb_sn_dist_init(&d, CQB_SN_ABS_T, 2, 0.1, &so, 0, &err), (int)CQB_EUSAGE);
    cr_expect_eq(cqb_sn_dist_init(&d, CQB_SN_S, 1, -0.5, &so, 0, &err), (int)CQB_EUSAGE);
    /* a cancelled simulation */
    volatile int stop = 1;
    so.cancel = &stop;
    cr_expect_eq(cqb_sn_simulate(1, &om_ok, 1, &so, sim, &err), (int)CQB_EUSAGE);
    cr_expect(strstr(err.msg, "interrupted") != NULL);
}

/* ---- The command line ------------------------------------------------- */

/* Runs CQB_CLI with args (NULL-terminated, after argv[0]), stdout and
 * stderr to out_path; returns the exit status. */
static int run_cli(const char *const *args, const char *out_path)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)CQB_CLI;
    for (; args[n - 1] && n < 31; ++n) argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(CQB_CLI, argv);
        _exit(127);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A file the test expects to exist, NUL-terminated, and its length. */
static char *slurp(const char *path, size_t *len)
{
    char *buf = td_read(path, len);
    cr_assert_not_null(buf, "cannot open %s", path);
    return buf;
}

Test(selfnorm, cli_sncv)
{
    char dir[] = "/tmp/cqb_sncv_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char out[256], c1[256], c2[256], js[256];
    snprintf(out, sizeof out, "%s/stdout", dir);
    snprintf(c1, sizeof c1, "%s/t1.csv", dir);
    snprintf(c2, sizeof c2, "%s/t2.csv", dir);
    snprintf(js, sizeof js, "%s/t.json", dir);
    const char *a1[] = {"sncv", "--paths", "500", "--steps", "60", "--pmax", "2", "--omega", "0.1,0", "--threads", "1",
                        "--progress", "none", "--csv", c1, NULL};
    cr_assert_eq(run_cli(a1, out), 0);
    size_t n1, n2, no;
    char *so = slurp(out, &no);
    cr_expect(strstr(so, "| p | w=0: 90% | 95% | 99% | w=0.1: 90% | 95% | 99% |") != NULL, "%s", so);
    cr_expect(strstr(so, "| abs(t) for PCQ") != NULL);
    free(so);
    const char *a2[] = {"sncv", "--paths", "500", "--steps", "60", "--pmax", "2", "--omega", "0,0.1", "--threads", "2",
                        "--progress", "none", "--csv", c2, "--json", js, NULL};
    cr_assert_eq(run_cli(a2, out), 0);
    char *t1 = slurp(c1, &n1), *t2 = slurp(c2, &n2);
    cr_expect(n1 == n2 && memcmp(t1, t2, n1) == 0, "the CSV depends on the thread count");
    size_t lines = 0;
    for (size_t i = 0; i < n1; ++i) lines += t1[i] == '\n';
    cr_expect_eq(lines, 1 + 2 * 3 * CQB_SN_NLEVELS);
    /* the library's simulation gives the CSV's numbers */
    const double om[2] = {0.0, 0.1};
    double *d = simulate(2, om, 2, 500, 60, 2016, 0);
    qsort(d + 1 * 500, 500, sizeof *d, cmp_d); /* omega 0, p = 2 */
    char want[64];
    snprintf(want, sizeof want, "S,0,2,0.95,%.10g,500,60,2016\n", cqb_quantile_sorted(CQB_Q_R7_LE, d + 500, 500, 0.95));
    cr_expect(strstr(t1, want) != NULL, "missing CSV row %s", want);
    free(d);
    free(t1);
    free(t2);
    /* usage errors: exit 2, no output file */
    const char *bad[][8] = {{"sncv", "--omega", "1", NULL},
                            {"sncv", "--omega", "-0.1", NULL},
                            {"sncv", "--pmax", "0", NULL},
                            {"sncv", "--pmax", "33", NULL},
                            {"sncv", "--paths", "0", NULL},
                            {"sncv", "--steps", "1", NULL},
                            {"sncv", "--c-array", js, "--pmax", "3", NULL},
                            {"sncv", "--bogus", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) cr_expect_eq(run_cli(bad[i], out), 2, "case %zu", i);
    const char *help[] = {"sncv", "--help", NULL};
    cr_expect_eq(run_cli(help, out), 0);
    unlink(c1);
    unlink(c2);
    unlink(js);
    unlink(out);
    rmdir(dir);
}
