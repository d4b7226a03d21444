/* Deterministic CQ oracles (cross-quantilogram.md §6.2-§6.3): R quantilogram
 * 3.1.1 values at |diff| <= 1e-12 and the Python package's printed values. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>

#include "cqboot/cq.h"
#include "cqboot/quantile.h"
#include "testdata.h"

#define TOL 1e-12

/* JPM log return (T = 5505) and Market[-1], dVIX (§6.1). */
static double *jpm, *mkt, *dvix;
static size_t T;

static void load_sysrisk(void) { td_sysrisk(&jpm, &mkt, &dvix, &T); }

static void free_sysrisk(void)
{
    free(jpm);
    free(mkt);
    free(dvix);
}

Test(quantile, o6_type7_index_rounding)
{
    double x[101];
    for (int i = 0; i < 101; ++i) x[i] = i + 1;
    size_t lo;
    double h;
    cqb_r7_index(101, 0.29, &lo, &h);
    cr_expect_eq(lo, 29);
    double q = cqb_quantile_sorted(CQB_Q_R7_LE, x, 101, 0.29);
    cr_expect_eq(q, 29.999999999999996, "q = %.17g", q);
    int hits = 0;
    for (int i = 0; i < 101; ++i) hits += cqb_is_hit(0, x[i], q);
    cr_expect_eq(hits, 29);
    double scratch[101];
    cr_expect_eq(cqb_quantile_r7(x, 101, 0.29, scratch), q);
}

Test(quantile, conventions_small)
{
    const double x[5] = {1, 2, 3, 4, 5};
    cr_expect_eq(cqb_quantile_sorted(CQB_Q_R7_LE, x, 5, 0.5), 3.0);
    cr_expect_eq(cqb_quantile_sorted(CQB_Q_R7_LE, x, 5, 0.1), 1.4);
    /* R quantile(1:5, 0.1, type = 1) = 1; 0.2 -> 1 (n p = 1 exactly); 0.21 -> 2 */
    cr_expect_eq(cqb_quantile_sorted(CQB_Q_TYPE1_LT, x, 5, 0.1), 1.0);
    cr_expect_eq(cqb_quantile_sorted(CQB_Q_TYPE1_LT, x, 5, 0.2), 1.0);
    cr_expect_eq(cqb_quantile_sorted(CQB_Q_TYPE1_LT, x, 5, 0.21), 2.0);
    /* numpy percentile(1..5, 10, 'higher') = 2 */
    cr_expect_eq(cqb_quantile_sorted(CQB_Q_HIGHER_LT_SUB, x, 5, 0.1), 2.0);
    cr_expect_eq(cqb_quantile_sorted(CQB_Q_HIGHER_LT_SUB, x, 5, 0.5), 3.0);
}

Test(cq, o1_jpm_market, .init = load_sysrisk, .fini = free_sysrisk)
{
    cr_assert_eq(T, 5505);
    cqb_cq_input in = {jpm, mkt, T, NULL, 0, CQB_Q_R7_LE};
    const double rho[5] = {0.061641745498933, 0.134108312750922, 0.118841906505701, 0.115018929821394,
                           0.088308220484466};
    const size_t n12[5] = {30, 49, 45, 44, 37};
    const double qbp[5] = {20.9173748588, 119.9250175755, 197.6743276497, 270.5019226157, 313.4317942530};
    const double qlb[5] = {20.9287760442, 120.0083850649, 197.8283506372, 270.7353794461, 313.7198891018};
    double r[5], bp[5], lb[5];
    cqb_error err;
    for (size_t k = 1; k <= 5; ++k) {
        cqb_cq_point pt;
        cr_assert_eq(cqb_cq_compute(&in, 0.05, 0.05, k, &pt, &err), CQB_OK);
        cr_expect_eq(pt.n, 5505 - k);
        cr_expect_eq(pt.n1, 276);
        cr_expect_eq(pt.n2, 276);
        cr_expect_eq(pt.n12, n12[k - 1]);
        cr_expect(fabs(pt.rho - rho[k - 1]) <= TOL, "k=%zu rho %.17g vs %.17g", k, pt.rho, rho[k - 1]);
        if (k == 1) {
            cr_expect_eq(pt.q1, -0.035779461733348492, "q1 %.17g", pt.q1);
            cr_expect_eq(pt.q2, -0.017767999999999999, "q2 %.17g", pt.q2);
        }
        r[k - 1] = pt.rho;
    }
    cqb_q_stats(r, 5, T, bp, lb);
    for (int p = 0; p < 5; ++p) {
        /* the oracle has 10 decimals */
        cr_expect(fabs(bp[p] - qbp[p]) <= 1e-9, "Q_BP(%d) %.12f", p + 1, bp[p]);
        cr_expect(fabs(lb[p] - qlb[p]) <= 1e-9, "Q_LB(%d) %.12f", p + 1, lb[p]);
    }
}

Test(cq, o2_partial_dvix, .init = load_sysrisk, .fini = free_sysrisk)
{
    cqb_control ctl = {dvix, 0.95, -1};
    cqb_cq_input in = {jpm, mkt, T, &ctl, 1, CQB_Q_R7_LE};
    const double crq[5] = {0.061641745498933, 0.134108312750922, 0.118841906505701, 0.115018929821394,
                           0.088308220484466};
    const double par[5] = {0.047967680223574, 0.099363251266527, 0.069995766325052, 0.083948892917023,
                           0.053900233483504};
    cqb_error err;
    for (size_t k = 1; k <= 5; ++k) {
        cqb_cq_point pt;
        cr_assert_eq(cqb_cq_compute(&in, 0.05, 0.05, k, &pt, &err), CQB_OK);
        cr_expect(fabs(pt.rho - crq[k - 1]) <= TOL, "k=%zu rho %.17g", k, pt.rho);
        cr_expect(fabs(pt.rho_partial - par[k - 1]) <= TOL, "k=%zu partial %.17g vs %.17g", k, pt.rho_partial,
                  par[k - 1]);
    }
}

Test(cq, partial_with_two_controls_reduces_consistently, .init = load_sysrisk, .fini = free_sysrisk)
{
    /* A control that is the predicted series itself at a fixed lag keeps the
     * Gram regular; the partial CQ must stay in [-1, 1] and equal the one-
     * control value when the second control is the first one's duplicate
     * column of an unrelated level (checked: singular -> error). */
    cqb_control ctl[2] = {{dvix, 0.95, -1}, {dvix, 0.95, -1}};
    cqb_cq_input in = {jpm, mkt, T, ctl, 2, CQB_Q_R7_LE};
    cqb_cq_point pt;
    cqb_error err;
    cr_expect_eq(cqb_cq_compute(&in, 0.05, 0.05, 1, &pt, &err), CQB_EDATA);
    cr_expect(strstr(err.msg, "singular") != NULL, "%s", err.msg);
    ctl[1].z = jpm;
    ctl[1].alpha = 0.5;
    ctl[1].lag = 1;
    cr_assert_eq(cqb_cq_compute(&in, 0.05, 0.05, 1, &pt, &err), CQB_OK);
    cr_expect(pt.rho_partial > -1.0 && pt.rho_partial < 1.0);
    cr_expect(fabs(pt.rho_partial - 0.047967680223574) < 0.02);
}

Test(cq, o3_stock_sub)
{
    size_t n;
    double *ret = td_load_column("quantilogram_stock.csv", "Return", &n);
    double *var = td_load_column("quantilogram_stock.csv", "Variance", &n);
    cqb_cq_input in = {ret, var, 2717, NULL, 0, CQB_Q_R7_LE};
    const double a[6][2] = {{0.05, 0.90}, {0.50, 0.90}, {0.95, 0.90}, {0.05, 0.10}, {0.50, 0.10}, {0.95, 0.10}};
    const double want[6][3] = {{-0.193339771494908, -0.159574786842295, -0.159551471222319},
                               {0.017416193423530, 0.019750568862231, -0.007361966736919},
                               {0.187716159758576, 0.193317473046846, 0.170799371907712},
                               {-0.053906132731450, -0.053742467241854, -0.064881859999758},
                               {0.008353812388274, 0.022030835975178, -0.006165276106946},
                               {0.065171782205106, 0.070669228577867, 0.076185319930027}};
    cqb_error err;
    for (int i = 0; i < 6; ++i) {
        for (size_t k = 1; k <= 3; ++k) {
            cqb_cq_point pt;
            cr_assert_eq(cqb_cq_compute(&in, a[i][0], a[i][1], k, &pt, &err), CQB_OK);
            cr_expect(fabs(pt.rho - want[i][k - 1]) <= TOL, "(%g,%g) k=%zu: %.17g vs %.17g", a[i][0], a[i][1], k,
                      pt.rho, want[i][k - 1]);
        }
    }
    free(ret);
    free(var);
}

Test(cq, o4_gold_r_convention)
{
    size_t n;
    double *s = td_load_column("wangys96_gold.csv", "sgold_day", &n);
    double *c = td_load_column("wangys96_gold.csv", "cgold_day", &n);
    cr_assert_eq(n, 2151);
    cqb_cq_input in = {s, c, n, NULL, 0, CQB_Q_R7_LE};
    const double want[10] = {0.296029510763850, 0.017484177699047, 0.084485428414240, 0.028273117279165,
                             0.002377752506978, 0.054019126389248, 0.029277408637874, 0.013653117375279,
                             0.003218772713114, 0.018742536732256};
    double r[10], bp[10], lb[10];
    cqb_error err;
    for (size_t k = 1; k <= 10; ++k) {
        cqb_cq_point pt;
        cr_assert_eq(cqb_cq_compute(&in, 0.1, 0.1, k, &pt, &err), CQB_OK);
        cr_expect(fabs(pt.rho - want[k - 1]) <= TOL, "k=%zu: %.17g", k, pt.rho);
        r[k - 1] = pt.rho;
    }
    cqb_q_stats(r, 10, n, bp, lb);
    cr_expect(fabs(bp[9] - 215.5415178356) <= 1e-9, "Q_BP %.12f", bp[9]);
    cr_expect(fabs(lb[9] - 215.8837181292) <= 1e-9, "Q_LB %.12f", lb[9]);
    free(s);
    free(c);
}

Test(cq, python_convention_gold)
{
    size_t n;
    double *s = td_load_column("wangys96_gold.csv", "sgold_day", &n);
    double *si = td_load_column("wangys96_gold.csv", "sgold_intraday", &n);
    double *so = td_load_column("wangys96_gold.csv", "sgold_overnight", &n);
    double *c = td_load_column("wangys96_gold.csv", "cgold_day", &n);
    cqb_cq_input in = {s, c, n, NULL, 0, CQB_Q_HIGHER_LT_SUB};
    cqb_error err;
    cqb_cq_point pt;
    cr_assert_eq(cqb_cq_compute(&in, 0.1, 0.1, 1, &pt, &err), CQB_OK);
    cr_expect(fabs(pt.rho - 0.2971576227390181) <= TOL, "k=1 %.17g", pt.rho);
    /* printed to 8 decimals */
    in.y = si;
    cr_assert_eq(cqb_cq_compute(&in, 0.1, 0.1, 1, &pt, &err), CQB_OK);
    cr_expect(fabs(pt.rho - 0.00258398) <= 5e-9, "intraday %.17g", pt.rho);
    in.y = so;
    cr_assert_eq(cqb_cq_compute(&in, 0.1, 0.1, 1, &pt, &err), CQB_OK);
    cr_expect(fabs(pt.rho - 0.34366925) <= 5e-9, "overnight %.17g", pt.rho);
    in.y = s;
    /* CQBS table (6 decimals) and the Ljung-Box column */
    const double cq[10] = {0.297158, 0.018037, 0.085177, 0.028273, 0.002378,
                           0.054019, 0.028122, 0.012563, 0.007342, 0.018743};
    const double qlb[10] = {190.204037, 190.905140, 206.547145, 208.271393, 208.283594,
                            214.583764, 216.292067, 216.633124, 216.749654, 217.509499};
    double r[10], bp[10], lb[10];
    for (size_t k = 1; k <= 10; ++k) {
        cr_assert_eq(cqb_cq_compute(&in, 0.1, 0.1, k, &pt, &err), CQB_OK);
        cr_expect(fabs(pt.rho - cq[k - 1]) <= 5e-7, "k=%zu %.9f", k, pt.rho);
        r[k - 1] = pt.rho;
    }
    cqb_q_stats(r, 10, n, bp, lb);
    for (int p = 0; p < 10; ++p) cr_expect(fabs(lb[p] - qlb[p]) <= 5e-6, "LB(%d) %.6f", p + 1, lb[p]);
    /* CQBS_alphas at k = 1: row a2, column a1 */
    const double grid[3][3] = {{0.297158, 0.150078, 0.069767}, {0.193798, 0.206512, 0.168992},
                               {0.080103, 0.119690, 0.281654}};
    const double a[3] = {0.1, 0.5, 0.9};
    for (int i2 = 0; i2 < 3; ++i2)
        for (int i1 = 0; i1 < 3; ++i1) {
            cr_assert_eq(cqb_cq_compute(&in, a[i1], a[i2], 1, &pt, &err), CQB_OK);
            cr_expect(fabs(pt.rho - grid[i2][i1]) <= 5e-7, "(%g,%g) %.7f", a[i1], a[i2], pt.rho);
        }
    free(s);
    free(si);
    free(so);
    free(c);
}

Test(cq, paper_sanity_type1, .init = load_sysrisk, .fini = free_sysrisk)
{
    /* §6.4: the paper convention gives 0.06224 for Market -> JPM, k = 1 */
    cqb_cq_input in = {jpm, mkt, T, NULL, 0, CQB_Q_TYPE1_LT};
    cqb_cq_point pt;
    cqb_error err;
    cr_assert_eq(cqb_cq_compute(&in, 0.05, 0.05, 1, &pt, &err), CQB_OK);
    cr_expect(fabs(pt.rho - 0.06224) < 5e-6, "%.6f", pt.rho);
    cr_assert_eq(cqb_cq_compute(&in, 0.05, 0.05, 2, &pt, &err), CQB_OK);
    cr_expect(fabs(pt.rho - 0.13495) < 5e-6, "%.6f", pt.rho);
}
