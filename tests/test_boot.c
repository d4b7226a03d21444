/* Bootstrap semantics: R's statistical oracles (cross-quantilogram.md §6.5),
 * invariance to threads and chunking, exactness of the two-pass selection. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/cq_boot.h"
#include "testdata.h"

static double *jpm, *mkt, *dvix;
static size_t T;

static void load(void) { td_sysrisk(&jpm, &mkt, &dvix, &T); }

static void unload(void)
{
    free(jpm);
    free(mkt);
    free(dvix);
}

static cqb_status run(const double *ay, size_t ny, const double *ax, size_t nx, const size_t *lags, size_t nl,
                      int qtests, size_t B, int threads, size_t mem_limit, size_t chunk, cqb_cq_result *res)
{
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){jpm, mkt, T, NULL, 0, CQB_Q_R7_LE};
    s.alpha_y = ay;
    s.ny = ny;
    s.alpha_x = ax;
    s.nx = nx;
    s.lags = lags;
    s.nlags = nl;
    s.qtests = qtests;
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.seed = 20161;
    o.B = B;
    o.gamma = 0.1;
    o.mem_limit = mem_limit;
    o.chunk = chunk;
    cqb_backend be;
    cqb_error err;
    cr_assert_eq(cqb_backend_open(CQB_BACKEND_CPU, threads, &be, NULL, 0, &err), CQB_OK);
    o.backend = &be;
    cqb_status st = cqb_cq_boot(&s, &o, res, &err);
    cr_assert_eq(st, CQB_OK, "%s", err.msg);
    return st;
}

Test(boot, r_crossq_sb_bands, .init = load, .fini = unload, .timeout = 300)
{
    /* R crossq.sb, B = 20000, gamma = 0.1 (MC error ~0.001; tolerance 0.003) */
    const double a05[1] = {0.05}, a5[1] = {0.5};
    const size_t lags[2] = {1, 5};
    cqb_cq_result r;
    run(a05, 1, a05, 1, lags, 2, 0, 20000, 2, 0, 0, &r);
    cr_expect(fabs(r.cells[0].band_lo - -0.03814) < 0.003, "k=1 lo %f", r.cells[0].band_lo);
    cr_expect(fabs(r.cells[0].band_hi - 0.05340) < 0.003, "k=1 hi %f", r.cells[0].band_hi);
    cr_expect(fabs(r.cells[1].band_lo - -0.03787) < 0.003, "k=5 lo %f", r.cells[1].band_lo);
    cr_expect(fabs(r.cells[1].band_hi - 0.04620) < 0.003, "k=5 hi %f", r.cells[1].band_hi);
    cr_expect_eq(r.cells[0].boot_valid, 20000);
    cqb_cq_result_free(&r);
    run(a5, 1, a5, 1, lags, 1, 0, 20000, 2, 0, 0, &r);
    cr_expect(fabs(r.cells[0].rho - -0.018169) < 1e-6, "rho %f", r.cells[0].rho);
    cr_expect(fabs(r.cells[0].band_lo - -0.02725) < 0.003, "(.5,.5) lo %f", r.cells[0].band_lo);
    cr_expect(fabs(r.cells[0].band_hi - 0.02507) < 0.003, "(.5,.5) hi %f", r.cells[0].band_hi);
    cqb_cq_result_free(&r);
}

Test(boot, r_qstat_sb_critical_values, .init = load, .fini = unload, .timeout = 300)
{
    /* R Qstat.sb, P = 5, B = 5000; two R runs: take their mean, 5% */
    const double a05[1] = {0.05};
    const size_t lags[5] = {1, 2, 3, 4, 5};
    const double r1[5] = {11.52, 18.80, 27.58, 32.12, 36.98}, r2[5] = {11.71, 19.38, 28.02, 32.48, 37.32};
    cqb_cq_result r;
    run(a05, 1, a05, 1, lags, 5, 1, 20000, 2, 0, 0, &r);
    cr_assert_eq(r.nqtests, 5);
    for (int p = 0; p < 5; ++p) {
        double ref = 0.5 * (r1[p] + r2[p]);
        cr_expect(fabs(r.qtests[p].cv_bp / ref - 1.0) < 0.05, "p=%d cv_bp %f vs %f", p + 1, r.qtests[p].cv_bp, ref);
        /* LB critical values are larger by about (T+2)/(T-k) */
        cr_expect(r.qtests[p].cv_lb > r.qtests[p].cv_bp);
        cr_expect(fabs(r.qtests[p].cv_lb / r.qtests[p].cv_bp - 1.0) < 0.002);
        /* Q far above the critical value: p-value ~ 0 */
        cr_expect(r.qtests[p].q_bp > r.qtests[p].cv_bp);
        /* Q above its 95% critical value: the p-value is at most 5% */
        cr_expect(r.qtests[p].p_bp <= 0.05, "p=%d p_bp %f q %f", p + 1, r.qtests[p].p_bp, r.qtests[p].q_bp);
        cr_expect(r.qtests[p].p_lb <= r.qtests[p].p_bp + 0.01);
    }
    cqb_cq_result_free(&r);
}

static void expect_same(const cqb_cq_result *a, const cqb_cq_result *b)
{
    cr_assert_eq(a->ncells, b->ncells);
    cr_assert_eq(a->nqtests, b->nqtests);
    for (size_t i = 0; i < a->ncells; ++i) {
        cr_expect_eq(a->cells[i].band_lo, b->cells[i].band_lo, "cell %zu", i);
        cr_expect_eq(a->cells[i].band_hi, b->cells[i].band_hi, "cell %zu", i);
        cr_expect_eq(a->cells[i].p_value, b->cells[i].p_value, "cell %zu", i);
        cr_expect_eq(a->cells[i].boot_valid, b->cells[i].boot_valid, "cell %zu", i);
    }
    for (size_t i = 0; i < a->nqtests; ++i) {
        cr_expect_eq(a->qtests[i].cv_bp, b->qtests[i].cv_bp, "q %zu", i);
        cr_expect_eq(a->qtests[i].cv_lb, b->qtests[i].cv_lb, "q %zu", i);
        cr_expect_eq(a->qtests[i].p_bp, b->qtests[i].p_bp, "q %zu", i);
        cr_expect_eq(a->qtests[i].p_lb, b->qtests[i].p_lb, "q %zu", i);
    }
}

Test(boot, invariant_to_threads_chunks_and_selection_mode, .init = load, .fini = unload, .timeout = 300)
{
    const double ay[3] = {0.1, 0.5, 0.9}, ax[2] = {0.05, 0.5};
    const size_t lags[3] = {1, 2, 4};
    cqb_cq_result a, b, c, d;
    run(ay, 3, ax, 2, lags, 3, 1, 1500, 1, 0, 0, &a);
    run(ay, 3, ax, 2, lags, 3, 1, 1500, 2, 0, 97, &b);
    run(ay, 3, ax, 2, lags, 3, 1, 1500, 8, 0, 500, &c);
    /* 1 KiB of storage forces the exact two-pass selection */
    run(ay, 3, ax, 2, lags, 3, 1, 1500, 2, 1024, 0, &d);
    cr_expect_eq(a.two_pass, 0);
    cr_expect_eq(d.two_pass, 1);
    expect_same(&a, &b);
    expect_same(&a, &c);
    expect_same(&a, &d);
    cqb_cq_result_free(&a);
    cqb_cq_result_free(&b);
    cqb_cq_result_free(&c);
    cqb_cq_result_free(&d);
}

Test(boot, independent_cells_and_partial, .init = load, .fini = unload, .timeout = 300)
{
    /* R's layout (an independent resample per cell) keeps each cell's
     * statistic and its band's distribution; the draws differ from the
     * shared layout. With a control, bands are those of the partial CQ. */
    const double a[2] = {0.05, 0.5};
    const size_t lags[2] = {1, 2};
    cqb_control ctl = {dvix, 0.95, -1};
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){jpm, mkt, T, &ctl, 1, CQB_Q_R7_LE};
    s.alpha_y = a;
    s.ny = 2;
    s.alpha_x = a;
    s.nx = 2;
    s.lags = lags;
    s.nlags = 2;
    s.qtests = 1;
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.B = 2000;
    o.gamma = 0.1;
    cqb_cq_result sh, in;
    cqb_error err;
    cr_assert_eq(cqb_cq_boot(&s, &o, &sh, &err), CQB_OK, "%s", err.msg);
    o.share_grid = 0;
    cr_assert_eq(cqb_cq_boot(&s, &o, &in, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(sh.ncells, 8);
    int differ = 0;
    for (size_t i = 0; i < sh.ncells; ++i) {
        cr_expect_eq(sh.cells[i].rho, in.cells[i].rho);
        cr_expect_eq(sh.cells[i].rho_partial, in.cells[i].rho_partial);
        cr_expect(fabs(sh.cells[i].ci_lo - (sh.cells[i].rho_partial + sh.cells[i].band_lo)) == 0.0);
        cr_expect(sh.cells[i].band_lo < 0 && sh.cells[i].band_hi > 0, "cell %zu band [%g, %g]", i,
                  sh.cells[i].band_lo, sh.cells[i].band_hi);
        /* same distribution: the two layouts' bands agree to MC error */
        cr_expect(fabs(sh.cells[i].band_hi - in.cells[i].band_hi) < 0.02, "cell %zu", i);
        differ |= sh.cells[i].band_hi != in.cells[i].band_hi;
    }
    cr_expect(differ, "independent resamples must differ from the shared ones");
    /* O2: partial CQ at k = 1, (0.05, 0.05) */
    cr_expect(fabs(sh.cells[0].rho_partial - 0.047967680223574) < 1e-12);
    cqb_cq_result_free(&sh);
    cqb_cq_result_free(&in);
}

Test(boot, windowed_selection_gives_the_stored_results, .init = load, .fini = unload, .timeout = 300)
{
    /* B >= 8,192 with tail probabilities: the CPU keeps only the values in
     * windows around the wanted order statistics (qselect.h). The same bits
     * as storing every value, over threads and chunkings that split the
     * pilot unevenly, and with a memory limit that the stored values would
     * exceed but the windows fit (one pass instead of two). */
    const double ay[3] = {0.1, 0.5, 0.9}, ax[2] = {0.05, 0.5};
    const size_t lags[3] = {1, 2, 4};
    cqb_cq_result a, b, c, d, e;
    run(ay, 3, ax, 2, lags, 3, 1, 10000, 1, 0, 0, &a);
    run(ay, 3, ax, 2, lags, 3, 1, 10000, 2, 0, 97, &b);
    run(ay, 3, ax, 2, lags, 3, 1, 10000, 2, (size_t)1500 << 10, 0, &d);
    cr_assert_eq(setenv("CQB_QSEL_STORE", "1", 1), 0);
    run(ay, 3, ax, 2, lags, 3, 1, 10000, 2, 0, 0, &c);
    run(ay, 3, ax, 2, lags, 3, 1, 10000, 2, (size_t)1500 << 10, 0, &e);
    cr_assert_eq(unsetenv("CQB_QSEL_STORE"), 0);
    cr_expect_eq(a.two_pass, 0);
    cr_expect_eq(d.two_pass, 0, "the windows fit 1.5 MiB");
    cr_expect_eq(e.two_pass, 1, "every value does not fit 1.5 MiB");
    expect_same(&c, &a);
    expect_same(&c, &b);
    expect_same(&c, &d);
    expect_same(&c, &e);
    cqb_cq_result_free(&a);
    cqb_cq_result_free(&b);
    cqb_cq_result_free(&c);
    cqb_cq_result_free(&d);
    cqb_cq_result_free(&e);
}
