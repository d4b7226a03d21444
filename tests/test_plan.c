/* The count engine against brute force: for each replicate, materialise the
 * resample from its multiplicities, sort every column, take the convention's
 * quantile exactly as R/numpy would, count hits directly and compute the CQ
 * and partial CQ. The engine's statistics must be identical (same counts,
 * same epilogue => same bits). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/philox.h"
#include "cqboot/quantile.h"
#include "cqboot/sbplan.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Data with heavy ties: values rounded to a coarse grid. */
static void make_series(double *v, size_t n, uint64_t seed, double step)
{
    for (size_t i = 0; i < n; ++i) {
        uint32_t w = cqb_curand_word(seed, 99, 0, i);
        double u = (double)w / 4294967296.0 - 0.5;
        double x = (i ? 0.4 * v[i - 1] : 0.0) + u;
        v[i] = step > 0 ? step * round(x / step) : x;
        /* step < 0: four adjacent doubles, so that type 7's interpolation
         * rounds onto, between and past the order statistics */
        if (step < 0) v[i] = 1.0 + ldexp(floor(4.0 * (u + 0.5)), -52);
    }
}

/* Brute-force statistic of one replicate for a plan with one unit. */
static void brute(const cqb_plan *p, const uint32_t *c, double *out)
{
    const size_t N = p->N;
    const int strict = cqb_qconv_strict(p->conv);
    double *res = malloc(N * sizeof *res);
    double q[8][CQB_PLAN_MAX_LEVELS];
    for (int ci = 0; ci < p->ncol; ++ci) {
        size_t m = 0;
        for (size_t r = 0; r < N; ++r)
            for (uint32_t k = 0; k < c[r]; ++k) res[m++] = p->col[ci].v[r];
        qsort(res, m, sizeof *res, cmp_d);
        for (int l = 0; l < p->col[ci].nlev; ++l) q[ci][l] = cqb_quantile_sorted(p->conv, res, m, p->col[ci].lev[l]);
    }
    free(res);
    const cqb_plan_unit *u = &p->unit[0];
    for (int iy = 0; iy < p->ny; ++iy) {
        for (int ix = 0; ix < p->nx; ++ix) {
            int cols[CQB_MAX_VARS], lv[CQB_MAX_VARS], l = 2 + u->nz;
            cols[0] = u->col_y; lv[0] = iy;
            cols[1] = u->col_x; lv[1] = ix;
            for (int j = 0; j < u->nz; ++j) { cols[2 + j] = u->col_z[j]; lv[2 + j] = 0; }
            double cnt[CQB_MAX_VARS][CQB_MAX_VARS] = {{0}};
            for (size_t r = 0; r < N; ++r) {
                int h[CQB_MAX_VARS];
                for (int s = 0; s < l; ++s) h[s] = cqb_is_hit(strict, p->col[cols[s]].v[r], q[cols[s]][lv[s]]);
                for (int s = 0; s < l; ++s)
                    for (int t = 0; t < l; ++t) cnt[s][t] += (double)(c[r] * (uint32_t)(h[s] & h[t]));
            }
            double ay = p->col[cols[0]].lev[iy], ax = p->col[cols[1]].lev[ix];
            if (u->nz == 0) {
                out[iy * p->nx + ix] = cqb_cq_from_counts((double)N, cnt[0][0], cnt[1][1], cnt[0][1], ay, ax);
            } else {
                double G[CQB_MAX_VARS * CQB_MAX_VARS];
                for (int s = 0; s < l; ++s)
                    for (int t = s; t < l; ++t)
                        G[s * l + t] = G[t * l + s] = cqb_gram_entry((double)N, cnt[s][s], cnt[t][t], cnt[s][t],
                                                      p->col[cols[s]].lev[lv[s]], p->col[cols[t]].lev[lv[t]]);
                out[iy * p->nx + ix] = cqb_partial_from_gram(G, l);
            }
        }
    }
}

static void check(cqb_qconv conv, double step, int nz, size_t T, size_t k, double gamma)
{
    static double y[4000], x[4000], z[4000];
    cr_assert(T <= 4000);
    make_series(y, T, 1, step);
    make_series(x, T, 2, step);
    make_series(z, T, 3, step);
    const double ay[3] = {0.05, 0.5, 0.9}, ax[4] = {0.1, 0.25, 0.5, 0.95}, az = 0.8;
    cqb_plan_colspec cols[3] = {{y, 0, 0, 3, ay}, {x, 1, k, 4, ax}, {z, 2, k, 1, &az}};
    cqb_plan_unit u = {0, 1, nz, {2}, 0};
    cqb_plan plan;
    cqb_error err;
    cr_assert_eq(cqb_plan_build(&plan, T, cols, 2 + nz, &u, 1, 3, 4, conv, 12345, 7, gamma, &err), CQB_OK);
    const size_t R = 60;
    double *eng = malloc(R * plan.nstat * sizeof *eng);
    cr_assert_eq(cqb_plan_run_cpu(&plan, 0, R, eng, 2, &err), CQB_OK);
    uint32_t *c = malloc(plan.N * sizeof *c);
    double bf[12];
    for (uint32_t r = 0; r < R; ++r) {
        cqb_plan_multiplicity(&plan, r, c);
        brute(&plan, c, bf);
        for (size_t j = 0; j < plan.nstat; ++j) {
            double e = eng[r * plan.nstat + j];
            cr_assert((isnan(e) && isnan(bf[j])) || e == bf[j], "conv %d step %g nz %d rep %u stat %zu: %.17g vs %.17g",
                      (int)conv, step, nz, r, j, e, bf[j]);
        }
    }
    free(c);
    free(eng);
    cqb_plan_free(&plan);
}

Test(plan, r7_continuous) { check(CQB_Q_R7_LE, 0.0, 0, 400, 2, 0.1); }
Test(plan, r7_ties) { check(CQB_Q_R7_LE, 0.05, 0, 400, 1, 0.2); }
Test(plan, r7_heavy_ties_iid) { check(CQB_Q_R7_LE, 0.25, 0, 300, 3, 1.0); }
Test(plan, type1_ties) { check(CQB_Q_TYPE1_LT, 0.05, 0, 333, 2, 0.1); }
Test(plan, higher_ties) { check(CQB_Q_HIGHER_LT_SUB, 0.1, 0, 333, 4, 0.05); }
Test(plan, partial_r7) { check(CQB_Q_R7_LE, 0.0, 1, 500, 1, 0.1); }
Test(plan, partial_ties) { check(CQB_Q_R7_LE, 0.1, 1, 250, 2, 0.3); }
Test(plan, r7_adjacent_floats) { check(CQB_Q_R7_LE, -1.0, 0, 301, 1, 0.1); }
Test(plan, r7_adjacent_floats_partial) { check(CQB_Q_R7_LE, -1.0, 1, 97, 2, 0.25); }
Test(plan, long_series) { check(CQB_Q_R7_LE, 0.01, 0, 3000, 5, 0.02); }

/* Levels chosen per test: low levels only (the joint counts walk the rare
 * column's hit positions), a rare column beside a common one, and the
 * dense grid; every replicate against brute force. */
static void check_lev(const double *ay, int ny, const double *ax, int nx, size_t T, size_t k, double step,
                      double gamma)
{
    static double y[6000], x[6000];
    cr_assert(T <= 6000);
    make_series(y, T, 4, step);
    make_series(x, T, 5, step);
    cqb_plan_colspec cols[2] = {{y, 0, 0, ny, ay}, {x, 1, k, nx, ax}};
    cqb_plan_unit u = {0, 1, 0, {0}, 0};
    cqb_plan plan;
    cqb_error err;
    cr_assert_eq(cqb_plan_build(&plan, T, cols, 2, &u, 1, ny, nx, CQB_Q_R7_LE, 777, 3, gamma, &err), CQB_OK);
    const size_t R = 40;
    double *eng = malloc(R * plan.nstat * sizeof *eng), bf[64];
    cr_assert_eq(cqb_plan_run_cpu(&plan, 0, R, eng, 2, &err), CQB_OK);
    uint32_t *c = malloc(plan.N * sizeof *c);
    for (uint32_t r = 0; r < R; ++r) {
        cqb_plan_multiplicity(&plan, r, c);
        brute(&plan, c, bf);
        for (size_t j = 0; j < plan.nstat; ++j) {
            double e = eng[r * plan.nstat + j];
            cr_assert((isnan(e) && isnan(bf[j])) || e == bf[j], "T %zu rep %u stat %zu: %.17g vs %.17g", T, r, j, e,
                      bf[j]);
        }
    }
    free(c);
    free(eng);
    cqb_plan_free(&plan);
}

Test(plan, rare_levels_sparse_counts)
{
    const double lo[2] = {0.05, 0.1}, one[1] = {0.05}, hi[2] = {0.9, 0.95};
    check_lev(one, 1, one, 1, 5505, 3, 0.0, 0.1);   /* W2's shape */
    check_lev(lo, 2, lo, 2, 2000, 1, 0.01, 0.05);   /* ties */
    check_lev(one, 1, hi, 2, 3000, 2, 0.0, 0.2);    /* rare y, common x */
    check_lev(hi, 2, one, 1, 3000, 2, 0.02, 0.2);   /* common y, rare x */
    check_lev(lo, 2, lo, 2, 60, 1, 0.1, 0.5);       /* short, heavy ties */
}

Test(plan, avx2_walk_where_avx512_is_present)
{
    /* CQB_NO_AVX512 is read once per process (each test has its own): the
     * AVX2 target search against brute force */
    cr_assert_eq(setenv("CQB_NO_AVX512", "1", 1), 0);
    check(CQB_Q_R7_LE, 0.0, 0, 400, 2, 0.1);
    check(CQB_Q_R7_LE, 0.05, 0, 400, 1, 0.2);
    check(CQB_Q_TYPE1_LT, 0.05, 0, 333, 2, 0.1);
}

Test(plan, scalar_and_avx2_walks_agree)
{
    /* CQB_NO_AVX2 forces the scalar column walk; both must give the same
     * statistics (on a CPU without AVX2 both runs are scalar) */
    static double y[1500], x[1500];
    make_series(y, 1500, 6, 0.05);
    make_series(x, 1500, 7, 0.0);
    const double lev[5] = {0.05, 0.1, 0.5, 0.9, 0.95}, one[1] = {0.05};
    for (int shape = 0; shape < 2; ++shape) {
        const double *l = shape ? one : lev;
        const int n = shape ? 1 : 5;
        cqb_plan_colspec cols[2] = {{y, 0, 0, n, l}, {x, 1, 4, n, l}};
        cqb_plan_unit u = {0, 1, 0, {0}, 0};
        cqb_plan plan;
        cqb_error err;
        cr_assert_eq(cqb_plan_build(&plan, 1500, cols, 2, &u, 1, n, n, CQB_Q_R7_LE, 9, 1, 0.1, &err), CQB_OK);
        const size_t R = 50;
        double *a = malloc(R * plan.nstat * sizeof *a), *b = malloc(R * plan.nstat * sizeof *b);
        cr_assert_eq(cqb_plan_run_cpu(&plan, 0, R, a, 1, &err), CQB_OK);
        setenv("CQB_NO_AVX2", "1", 1);
        cr_assert_eq(cqb_plan_run_cpu(&plan, 0, R, b, 1, &err), CQB_OK);
        unsetenv("CQB_NO_AVX2");
        cr_assert(memcmp(a, b, R * plan.nstat * sizeof *a) == 0, "shape %d: scalar and AVX2 walks differ", shape);
        free(a);
        free(b);
        cqb_plan_free(&plan);
    }
}
