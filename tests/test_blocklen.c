/* test_blocklen.c — np::b.star parity (cross-quantilogram.md §6.6) and the
 * *.opt gamma rule (§4.6). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "cqboot/blocklen.h"
#include "testdata.h"

#define TOL 1e-9

static void expect_close(double got, double want, const char *what)
{
    cr_expect(fabs(got - want) <= TOL, "%s: got %.15g, want %.15g (diff %.3g)", what, got, want,
              fabs(got - want));
}

/* The lag-1 pair matrix (x1_t, x2_{t-1}), t = 1..n-1 (0-based), from two
 * aligned series of length n: col1 = x1[1..n-1], col2 = x2[0..n-2]. */
static void bstar_pair(const double *x1, const double *x2, size_t n, double b_sb[2],
                       double b_cb[2])
{
    cr_assert_eq(cqb_bstar(x1 + 1, n - 1, NULL, &b_sb[0], &b_cb[0]), (int)CQB_OK);
    cr_assert_eq(cqb_bstar(x2, n - 1, NULL, &b_sb[1], &b_cb[1]), (int)CQB_OK);
}

Test(blocklen, jpm_market_lag1)
{
    size_t np = 0, nm = 0;
    double *jpm = td_load_column("quantilogram_sys_risk.csv", "JPM", &np);
    double *mkt = td_load_column("quantilogram_sys_risk.csv", "Market", &nm);
    cr_assert_eq(np, 5506);
    cr_assert_eq(nm, 5506);
    double *r = malloc((np - 1) * sizeof *r);
    cr_assert_not_null(r);
    td_logdiff(jpm, np, r);
    /* r (5505 values) aligned with Market[-1] = mkt + 1; pair N = 5504 */
    double b_sb[2], b_cb[2];
    bstar_pair(r, mkt + 1, np - 1, b_sb, b_cb);
    expect_close(b_sb[0], 8.691954498867, "BstarSB JPM");
    expect_close(b_sb[1], 21.138684882183, "BstarSB Market");
    expect_close(b_cb[0], 9.949804110478, "BstarCB JPM");
    expect_close(b_cb[1], 24.197753653482, "BstarCB Market");
    expect_close(cqb_gamma_from_bstar(b_sb, 2, 0), 0.081177777593, "gamma");
    /* all b > 1: flooring changes nothing */
    cr_expect_eq(cqb_gamma_from_bstar(b_sb, 2, 1), cqb_gamma_from_bstar(b_sb, 2, 0));
    free(r);
    free(jpm);
    free(mkt);
}

Test(blocklen, gold_lag1_gamma_clamped)
{
    size_t ns = 0, nc = 0;
    double *s = td_load_column("wangys96_gold.csv", "sgold_day", &ns);
    double *c = td_load_column("wangys96_gold.csv", "cgold_day", &nc);
    cr_assert_eq(ns, 2151);
    cr_assert_eq(nc, 2151);
    double b_sb[2], b_cb[2];
    bstar_pair(s, c, ns, b_sb, b_cb);
    expect_close(b_sb[0], 1.276555406778, "BstarSB sgold_day");
    expect_close(b_sb[1], 0.061144526002, "BstarSB cgold_day");
    /* R's unclamped mean(1 / b) */
    double raw = (1.0 / b_sb[0] + 1.0 / b_sb[1]) / 2.0;
    expect_close(raw, 8.569025940465, "mean(1/b)");
    /* parity mode clamps to an iid bootstrap */
    cr_expect_eq(cqb_gamma_from_bstar(b_sb, 2, 0), 1.0);
    /* floor1: b = (1.2766, 1) -> mean(1/1.2766, 1) */
    double floored = cqb_gamma_from_bstar(b_sb, 2, 1);
    expect_close(floored, (1.0 / b_sb[0] + 1.0) / 2.0, "gamma floor1");
    cr_expect(floored < 1.0);
    free(s);
    free(c);
}

Test(blocklen, stock_sub_lag1)
{
    size_t nr = 0, nv = 0;
    double *ret = td_load_column("quantilogram_stock.csv", "Return", &nr);
    double *var = td_load_column("quantilogram_stock.csv", "Variance", &nv);
    cr_assert_eq(nr, 3260);
    cr_assert_eq(nv, 3260);
    double b_sb[2], b_cb[2];
    bstar_pair(ret, var, 2717, b_sb, b_cb); /* first 2717 rows, N = 2716 */
    expect_close(b_sb[0], 1.976572861443, "BstarSB Return");
    expect_close(b_sb[1], 95.425962532831, "BstarSB Variance");
    expect_close(cqb_gamma_from_bstar(b_sb, 2, 0), 0.258202765010, "gamma");
    free(ret);
    free(var);
}

Test(blocklen, cap_at_bmax)
{
    /* An over-differenced series x_t = u_{t+1} - u_t has (near) zero
     * long-run variance g_hat(0), so the raw b is huge and both lengths are
     * capped at B_max = ceil(min(3 sqrt n, n/3)) = ceil(min(16.4, 10)) = 10
     * for n = 30. u is a fixed LCG sequence. */
    double u[31], x[30];
    unsigned s = 12345u;
    for (int i = 0; i < 31; i++) {
        s = s * 1103515245u + 12345u;
        u[i] = (double)((s >> 8) & 0xffffu) / 65536.0 - 0.5;
    }
    for (int i = 0; i < 30; i++)
        x[i] = u[i + 1] - u[i];
    double sb = -1.0, cb = -1.0;
    cr_assert_eq(cqb_bstar(x, 30, NULL, &sb, &cb), (int)CQB_OK);
    cr_expect_eq(sb, 10.0);
    cr_expect_eq(cb, 10.0);
}

Test(blocklen, constant_series_is_error)
{
    double x[50];
    for (int i = 0; i < 50; i++)
        x[i] = 0.1;
    double sb = -7.0, cb = -7.0;
    cr_expect_eq(cqb_bstar(x, 50, NULL, &sb, &cb), (int)CQB_EDATA);
    cr_expect_eq(sb, -7.0, "output must be untouched on error");
    cr_expect_eq(cb, -7.0, "output must be untouched on error");
}

Test(blocklen, too_short_is_error)
{
    /* defaults: m_max = ceil(sqrt n) + 5 must be < n, i.e. n >= 9 */
    double x[9] = {0.3, -1.2, 0.8, 2.1, -0.4, 0.0, 1.5, -2.2, 0.7};
    double sb, cb;
    cr_expect_eq(cqb_bstar(x, 0, NULL, &sb, &cb), (int)CQB_EDATA);
    cr_expect_eq(cqb_bstar(x, 2, NULL, &sb, &cb), (int)CQB_EDATA);
    cr_expect_eq(cqb_bstar(x, 8, NULL, &sb, &cb), (int)CQB_EDATA);
    cr_expect_eq(cqb_bstar(x, 9, NULL, &sb, &cb), (int)CQB_OK);
    /* an explicit m_max that needs lags beyond n - 1 */
    cqb_bstar_opts o;
    cqb_bstar_opts_default(&o);
    o.mmax = 9;
    cr_expect_eq(cqb_bstar(x, 9, &o, &sb, &cb), (int)CQB_EDATA);
}

Test(blocklen, bad_input)
{
    double x[20];
    for (int i = 0; i < 20; i++)
        x[i] = sin((double)i);
    double sb, cb;
    cr_expect_eq(cqb_bstar(NULL, 20, NULL, &sb, &cb), (int)CQB_EUSAGE);
    x[7] = NAN;
    cr_expect_eq(cqb_bstar(x, 20, NULL, &sb, &cb), (int)CQB_EDATA);
    x[7] = INFINITY;
    cr_expect_eq(cqb_bstar(x, 20, NULL, &sb, &cb), (int)CQB_EDATA);
}

Test(blocklen, defaults_are_zero_and_match_null)
{
    cqb_bstar_opts o = {1.0, 3, 4};
    cqb_bstar_opts_default(&o);
    cr_expect_eq(o.c, 0.0);
    cr_expect_eq(o.kn, 0);
    cr_expect_eq(o.mmax, 0);
    double x[200];
    for (int i = 0; i < 200; i++)
        x[i] = sin(0.3 * i) + 0.5 * cos(1.7 * i * i);
    double sb1, cb1, sb2, cb2;
    cr_assert_eq(cqb_bstar(x, 200, NULL, &sb1, &cb1), (int)CQB_OK);
    cr_assert_eq(cqb_bstar(x, 200, &o, &sb2, &cb2), (int)CQB_OK);
    cr_expect_eq(sb1, sb2);
    cr_expect_eq(cb1, cb2);
    /* explicit np defaults give the same answer: n = 200 -> K_N = 5,
     * m_max = ceil(sqrt 200) + 5 = 20 */
    o.c = 1.959963984540054;
    o.kn = 5;
    o.mmax = 20;
    cr_assert_eq(cqb_bstar(x, 200, &o, &sb2, &cb2), (int)CQB_OK);
    cr_expect_eq(sb1, sb2);
    cr_expect_eq(cb1, cb2);
    /* SB and CB differ only by the constant: b_cb / b_sb = (3/2)^(1/3) below the cap */
    if (sb1 < 42.0 && cb1 < 42.0)
        cr_expect(fabs(cb1 / sb1 - cbrt(1.5)) < 1e-12);
}

Test(blocklen, gamma_rules)
{
    double b1[2] = {4.0, 8.0};
    cr_expect_eq(cqb_gamma_from_bstar(b1, 2, 0), 0.1875);
    cr_expect_eq(cqb_gamma_from_bstar(b1, 2, 1), 0.1875);
    /* unfloored b below 1: 1/b averaged, then clamped */
    double b2[2] = {0.5, 8.0};
    cr_expect_eq(cqb_gamma_from_bstar(b2, 2, 0), 1.0);
    cr_expect_eq(cqb_gamma_from_bstar(b2, 2, 1), (1.0 + 0.125) / 2.0);
    /* b == 0 -> 1/b = inf -> gamma 1; floored: 1/1 */
    double b3[2] = {0.0, 4.0};
    cr_expect_eq(cqb_gamma_from_bstar(b3, 2, 0), 1.0);
    cr_expect_eq(cqb_gamma_from_bstar(b3, 2, 1), (1.0 + 0.25) / 2.0);
    /* the mean is not clamped per column: (1/0.8 + 1/10) / 2 = 0.675 */
    double b4[2] = {0.8, 10.0};
    cr_expect(fabs(cqb_gamma_from_bstar(b4, 2, 0) - 0.675) < 1e-15);
    cr_expect_eq(cqb_gamma_from_bstar(b4, 2, 1), (1.0 + 0.1) / 2.0);
    /* degenerate input */
    cr_expect_eq(cqb_gamma_from_bstar(NULL, 0, 0), 1.0);
    cr_expect_eq(cqb_gamma_from_bstar(b1, 0, 0), 1.0);
}
