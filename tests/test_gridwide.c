/* Grid-wide tests (sup-Q, Romano-Wolf, Holm, Benjamini-Hochberg) against
 * brute-force computations on the stored replicates of the same plan. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/cq_boot.h"
#include "cqboot/philox.h"
#include "cqboot/quantile.h"
#include "testdata.h"

#define T_USE 800
#define NREP 600
#define NLAG 3

static double ys[T_USE], xs[T_USE];
static const double ay[2] = {0.1, 0.5}, ax[2] = {0.2, 0.5};
static const size_t lags[NLAG] = {1, 2, 3};
static cqb_cq_result res;
static double *stats; /* NREP x nstat of the Q-test plan */
static size_t nstat;

static void setup(void)
{
    size_t n;
    double *p = td_load_column("quantilogram_sys_risk.csv", "JPM", &n);
    double *m = td_load_column("quantilogram_sys_risk.csv", "Market", &n);
    double r[6000];
    td_logdiff(p, n, r);
    for (int i = 0; i < T_USE; ++i) {
        ys[i] = r[i];
        xs[i] = m[i + 1];
    }
    free(p);
    free(m);
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){ys, xs, T_USE, NULL, 0, CQB_Q_R7_LE};
    s.alpha_y = ay;
    s.ny = 2;
    s.alpha_x = ax;
    s.nx = 2;
    s.lags = lags;
    s.nlags = NLAG;
    s.qtests = 1;
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.B = NREP;
    o.gamma = 0.2;
    o.seed = 77;
    o.gridwide = 1;
    cqb_error err;
    cr_assert_eq(cqb_cq_boot(&s, &o, &res, &err), CQB_OK, "%s", err.msg);
    /* the same Q-test plan, built through the public plan API */
    cqb_plan_colspec cols[1 + NLAG];
    cqb_plan_unit units[NLAG];
    memset(units, 0, sizeof units);
    cols[0] = (cqb_plan_colspec){ys, 0, 0, 2, ay};
    for (int k = 1; k <= NLAG; ++k) {
        cols[k] = (cqb_plan_colspec){xs, 1, (size_t)k, 2, ax};
        units[k - 1].col_y = 0;
        units[k - 1].col_x = k;
    }
    cqb_plan plan;
    cr_assert_eq(cqb_plan_build(&plan, T_USE, cols, 1 + NLAG, units, NLAG, 2, 2, CQB_Q_R7_LE, 77,
                                cqb_sb_tag(CQB_FAMILY_QTEST, 0, 0), 0.2, &err),
                 CQB_OK);
    nstat = plan.nstat;
    stats = malloc(NREP * nstat * sizeof *stats);
    cr_assert_eq(cqb_plan_run_cpu(&plan, 0, NREP, stats, 2, &err), CQB_OK);
    cqb_plan_free(&plan);
}

static void teardown(void)
{
    cqb_cq_result_free(&res);
    free(stats);
}

/* rho_hat of cell c (iy * 2 + ix) at lag k, from the result */
static double rho_hat(size_t c, size_t k) { return res.cells[c * NLAG + (k - 1)].rho; }

TestSuite(gridwide, .init = setup, .fini = teardown, .timeout = 120);

Test(gridwide, supq_matches_stored_resamples)
{
    cr_assert_eq(res.nsupq, NLAG);
    double *mx = malloc(NREP * sizeof *mx), scratch[NREP];
    for (int lb = 0; lb < 2; ++lb) {
        for (size_t p = 1; p <= NLAG; ++p) {
            double qmax = -INFINITY;
            for (size_t c = 0; c < 4; ++c) qmax = fmax(qmax, lb ? res.qtests[c * NLAG + p - 1].q_lb : res.qtests[c * NLAG + p - 1].q_bp);
            size_t exceed = 0;
            for (size_t b = 0; b < NREP; ++b) {
                double m = -INFINITY;
                for (size_t c = 0; c < 4; ++c) {
                    double q = 0.0;
                    for (size_t k = 1; k <= p; ++k) {
                        double e = stats[b * nstat + (k - 1) * 4 + c] - rho_hat(c, k);
                        q += lb ? e * e / (double)(T_USE - k) : e * e;
                    }
                    q = lb ? (double)T_USE * (T_USE + 2.0) * q : (double)T_USE * q;
                    m = fmax(m, q);
                }
                mx[b] = m;
                exceed += m >= qmax;
            }
            const cqb_cq_supq *s = &res.supq[p - 1];
            double cv = cqb_quantile_r7(mx, NREP, 0.95, scratch);
            cr_expect_eq(lb ? s->q_lb : s->q_bp, qmax);
            /* the engine sums in the same order; allow the last bit */
            cr_expect(fabs((lb ? s->cv_lb : s->cv_bp) - cv) <= 1e-12 * cv, "p=%zu cv %.17g vs %.17g", p,
                      lb ? s->cv_lb : s->cv_bp, cv);
            cr_expect_eq(lb ? s->p_lb : s->p_bp, (double)exceed / NREP);
        }
    }
    free(mx);
}

typedef struct mem {
    size_t cell, k;
    double ref, se, t;
} mem;

static int cmp_mem(const void *a, const void *b)
{
    const mem *u = a, *y2 = b;
    if (u->t != y2->t) return u->t > y2->t ? -1 : 1;
    size_t ia = u->cell * NLAG + u->k, ib = y2->cell * NLAG + y2->k;
    return (ia > ib) - (ia < ib);
}

Test(gridwide, romano_wolf_brute_force)
{
    mem m[12];
    size_t n = 0;
    for (size_t c = 0; c < 4; ++c) {
        for (size_t k = 1; k <= NLAG; ++k) {
            double s = 0, ss = 0;
            for (size_t b = 0; b < NREP; ++b) {
                double v = stats[b * nstat + (k - 1) * 4 + c];
                s += v;
                ss += v * v;
            }
            double mean = s / NREP, var = (ss - NREP * mean * mean) / (NREP - 1);
            m[n] = (mem){c, k - 1, rho_hat(c, k), sqrt(var), 0};
            m[n].t = fabs(m[n].ref) / m[n].se;
            ++n;
        }
    }
    qsort(m, n, sizeof *m, cmp_mem);
    double prev = 0;
    for (size_t st = 0; st < n; ++st) {
        size_t cnt = 0, raw = 0;
        for (size_t b = 0; b < NREP; ++b) {
            double mx = -INFINITY;
            for (size_t j = st; j < n; ++j)
                mx = fmax(mx, fabs(stats[b * nstat + m[j].k * 4 + m[j].cell] - m[j].ref) / m[j].se);
            cnt += mx >= m[st].t;
            raw += fabs(stats[b * nstat + m[st].k * 4 + m[st].cell] - m[st].ref) / m[st].se >= m[st].t;
        }
        double padj = fmax(prev, (double)cnt / NREP);
        const cqb_cq_cell *cell = &res.cells[m[st].cell * NLAG + m[st].k];
        cr_expect_eq(cell->p_rw, padj, "step %zu: %.17g vs %.17g", st, cell->p_rw, padj);
        cr_expect(cell->p_rw >= (double)raw / NREP, "adjusted below raw at step %zu", st);
        cr_expect(cell->p_rw >= prev, "not monotone at step %zu", st);
        prev = padj;
    }
    cr_expect_eq(res.rw_valid, NREP);
}

Test(gridwide, holm_and_bh)
{
    /* direct formulas over the 12 raw p-values */
    double p[12];
    for (int i = 0; i < 12; ++i) p[i] = res.cells[i].p_value;
    for (int i = 0; i < 12; ++i) {
        /* Holm: max over j with p_j <= p_i (ties by index) of min(1, (m - rank_j + 1) p_j) */
        double holm = 0, bh = 1;
        int rank_i = 0;
        for (int j = 0; j < 12; ++j) rank_i += p[j] < p[i] || (p[j] == p[i] && j < i);
        for (int j = 0; j < 12; ++j) {
            int rank_j = 0;
            for (int l = 0; l < 12; ++l) rank_j += p[l] < p[j] || (p[l] == p[j] && l < j);
            if (rank_j <= rank_i) holm = fmax(holm, fmin(1.0, (12 - rank_j) * p[j]));
            if (rank_j >= rank_i) bh = fmin(bh, fmin(1.0, 12.0 / (rank_j + 1) * p[j]));
        }
        cr_expect(fabs(res.cells[i].p_holm - holm) < 1e-15, "holm %d: %g vs %g", i, res.cells[i].p_holm, holm);
        cr_expect(fabs(res.cells[i].p_bh - bh) < 1e-15, "bh %d: %g vs %g", i, res.cells[i].p_bh, bh);
        cr_expect(res.cells[i].p_holm >= p[i] && res.cells[i].p_bh >= p[i]);
    }
}
