/* test_nullboot.c — the calibrated null-imposing test (issue #10,
 * cqboot/nullboot.h): exact hit counts with ties, rotation shifts, p_null
 * against a brute force over materialised resamples, thread and chunk
 * invariance, and a small size check inside its binomial 99% interval. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/backend.h"
#include "cqboot/cq_boot.h"
#include "cqboot/nullboot.h"
#include "cqboot/philox.h"
#include "cqboot/sbresample.h"

#include "../device/nullkern.h"

/* ---------------------------------------------------------------- data -- */

static uint64_t g_rng;
static double unif(void)
{
    g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(g_rng >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
    return sqrt(-2.0 * log(unif())) * cos(6.283185307179586 * unif());
}
/* AR(1) series; with round > 0 values are rounded to multiples of 1/round
 * (many ties, including at the quantiles). */
static void ar1(double *v, size_t T, double phi, double round)
{
    double s = gauss();
    for (size_t t = 0; t < T; ++t) {
        s = phi * s + gauss();
        v[t] = round > 0 ? floor(s * round + 0.5) / round : s;
    }
}

static const double LEV[3] = {0.1, 0.5, 0.9};
static const size_t LAGS[3] = {1, 2, 3};

/* ------------------------------------------------------ exact counts -- */

Test(nullboot, exact_counts_keep_n1_n2_with_ties)
{
    const size_t T = 150;
    double y[150], x[150];
    g_rng = 11;
    ar1(y, T, 0.4, 2.0); /* heavy ties */
    ar1(x, T, 0.2, 1.0);
    cqb_cq_input in = {y, x, T, NULL, 0, CQB_Q_R7_LE};
    cqb_null_plan p;
    cqb_error err;
    cr_assert_eq(cqb_null_plan_build(&p, &in, LEV, 3, LEV, 3, LAGS, 3, CQB_NULL_SB, 5, 50, 0.2, 0, 10, &err),
                 CQB_OK, "%s", err.msg);
    uint8_t cy[150], cx[150];
    for (size_t li = 0; li < 3; ++li) {
        for (int l = 0; l < 3; ++l) {
            cqb_cq_point pt;
            cr_assert_eq(cqb_cq_compute(&in, LEV[l], LEV[l], LAGS[li], &pt, &err), CQB_OK);
            cr_assert_eq(p.n1[li * 3 + (size_t)l], pt.n1);
            cr_assert_eq(p.n2[li * 3 + (size_t)l], pt.n2);
        }
        for (uint32_t rep = 0; rep < 50; ++rep) {
            cr_assert_eq(cqb_null_codes(&p, rep, li, cy, cx, &err), CQB_OK);
            for (int l = 0; l < 3; ++l) {
                uint32_t a = 0, b = 0;
                for (size_t t = 0; t < p.N[li]; ++t) {
                    a += cy[t] <= l;
                    b += cx[t] <= l;
                }
                cr_assert_eq(a, p.n1[li * 3 + (size_t)l], "rep %u lag %zu level %d", rep, LAGS[li], l);
                cr_assert_eq(b, p.n2[li * 3 + (size_t)l]);
            }
        }
    }
    cqb_null_plan_free(&p);
}

/* ---------------------------------------------------------- rotation -- */

/* cqb_cq_null_check says whether cqb_cq_boot can set the test up, with
 * cqb_cq_boot's own error: the Q tests' lags 1..P count as well as the
 * cells'. */
Test(nullboot, null_check_matches_the_run)
{
    const size_t T = 40;
    double y[40], x[40];
    g_rng = 5;
    ar1(y, T, 0.3, 0);
    ar1(x, T, 0.3, 0);
    static const double a[1] = {0.5};
    size_t lag = 19; /* N = 21 = 2m + 1 with m = 10: shifts 10 and 11 */
    cqb_cq_spec s = {.in = {y, x, T, NULL, 0, CQB_Q_R7_LE}, .alpha_y = a, .ny = 1, .alpha_x = a, .nx = 1,
                     .lags = &lag, .nlags = 1, .qtests = 0};
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.B = 20;
    o.null_test = 1;
    o.null_scheme = CQB_NULL_ROTATION;
    o.rot_margin = 10;
    cqb_error err;
    cqb_cq_result r;
    cr_assert_eq(cqb_cq_null_check(&s, &o, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(cqb_cq_boot(&s, &o, &r, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(r.cells[0].null_valid, 2, "null_valid %zu", r.cells[0].null_valid);
    cqb_cq_result_free(&r);
    lag = 20; /* N = 20: none */
    cr_assert_eq(cqb_cq_null_check(&s, &o, &err), CQB_EUSAGE);
    cr_assert_not_null(strstr(err.msg, "leaves no shift at lag 20"), "%s", err.msg);
    cr_assert_eq(cqb_cq_boot(&s, &o, &r, &err), CQB_EUSAGE);
    /* lag 1 alone fits; with the Q tests (lags 1..P) still */
    lag = 1;
    s.qtests = 1;
    cr_assert_eq(cqb_cq_null_check(&s, &o, &err), CQB_OK, "%s", err.msg);
    /* invalid options are the run's usage errors */
    o.rot_margin = 10;
    o.level = 2.0;
    cr_assert_eq(cqb_cq_null_check(&s, &o, &err), CQB_EUSAGE);
}

Test(nullboot, rotation_enumerates_the_shifts)
{
    const size_t T = 90, m = 7;
    double y[90], x[90];
    g_rng = 3;
    ar1(y, T, 0.3, 0);
    ar1(x, T, 0.3, 0);
    cqb_cq_input in = {y, x, T, NULL, 0, CQB_Q_R7_LE};
    cqb_null_plan p;
    cqb_error err;
    cr_assert_eq(cqb_null_plan_build(&p, &in, LEV, 3, LEV, 3, LAGS, 3, CQB_NULL_ROTATION, 1, 0, 0, 0, m, &err),
                 CQB_OK);
    cr_assert_eq(p.nrep, (T - 1) - 2 * m + 1, "the most shifts: lag 1");
    uint8_t cy[90], cx[90];
    for (size_t li = 0; li < 3; ++li) {
        const size_t N = T - LAGS[li], M = cqb_null_rotations(&p, li);
        cr_assert_eq(M, N - 2 * m + 1);
        const uint8_t *sy = p.code_y + p.off[li], *sx = p.code_x + p.off[li];
        for (size_t r = 0; r < M; ++r) {
            cqb_null_codes(&p, (uint32_t)r, li, cy, cx, &err);
            cr_assert(!memcmp(cy, sy, N));
            for (size_t t = 0; t < N; ++t) cr_assert_eq(cx[t], sx[(t + m + r) % N]);
        }
        /* replicates past the lag's last shift are NaN */
        double *out = malloc(p.nrep * p.nstat * sizeof *out);
        cr_assert_eq(cqb_null_run_cpu(&p, 0, p.nrep, out, 1, &err), CQB_OK);
        for (size_t r = 0; r < p.nrep; ++r)
            cr_assert_eq(isnan(out[r * p.nstat + li * 9]) != 0, r >= M);
        free(out);
    }
    cqb_null_plan_free(&p);
}

/* ------------------------------------------------------- brute force -- */

typedef struct key {
    double v;
    uint32_t orig, pos;
} key;

static int cmp_key(const void *a, const void *b)
{
    const key *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    if (x->orig != y->orig) return x->orig < y->orig ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* hits of the n smallest of v[idx[t]], t < N, ties by original row then t */
static void smallest(const double *v, const uint32_t *idx, size_t N, size_t n, unsigned char *hit)
{
    key *k = malloc(N * sizeof *k);
    for (size_t t = 0; t < N; ++t) k[t] = (key){v[idx[t]], idx[t], (uint32_t)t};
    qsort(k, N, sizeof *k, cmp_key);
    memset(hit, 0, N);
    for (size_t i = 0; i < n; ++i) hit[k[i].pos] = 1;
    free(k);
}

/* rho* of replicate rep at lag k, cell (ay, ax), by materialising the
 * resample (SB) or the shift (rotation). */
static double brute_rho(const cqb_null_plan *p, const cqb_cq_input *in, uint32_t rep, size_t k, double ay,
                        double ax)
{
    const size_t T = in->T, N = T - k;
    if (p->scheme == CQB_NULL_ROTATION && rep >= N - 2 * p->margin + 1) return NAN;
    cqb_cq_point pt;
    cqb_error err;
    cr_assert_eq(cqb_cq_compute(in, ay, ax, k, &pt, &err), CQB_OK);
    unsigned char *hy = malloc(T), *hx = malloc(T);
    uint32_t *iy = malloc(T * sizeof *iy), *ix = malloc(T * sizeof *ix), *s1 = malloc(T * 4), *s2 = malloc(T * 4);
    if (p->scheme == CQB_NULL_SB) {
        cqb_sb_indices(p->seed, rep, cqb_sb_tag(CQB_FAMILY_NULL_Y, 0, 0), p->thr_y, T, iy, s1, s2);
        cqb_sb_indices(p->seed, rep, cqb_sb_tag(CQB_FAMILY_NULL_X, 0, 0), p->thr_x, T, ix, s1, s2);
        smallest(in->y, iy + k, N, pt.n1, hy);
        smallest(in->x, ix, N, pt.n2, hx);
    } else {
        for (size_t t = 0; t < N; ++t) iy[t] = (uint32_t)(k + t), ix[t] = (uint32_t)t;
        unsigned char *h0 = malloc(N);
        smallest(in->y, iy, N, pt.n1, hy);
        smallest(in->x, ix, N, pt.n2, h0);
        for (size_t t = 0; t < N; ++t) hx[t] = h0[(t + p->margin + rep) % N];
        free(h0);
    }
    size_t n12 = 0;
    for (size_t t = 0; t < N; ++t) n12 += hy[t] & hx[t];
    free(hy); free(hx); free(iy); free(ix); free(s1); free(s2);
    return cqb_cq_from_counts((double)N, (double)pt.n1, (double)pt.n2, (double)n12, ay, ax);
}

static void brute_force_check(cqb_null_scheme scheme, double round)
{
    const size_t T = 100, B = 99;
    double y[100], x[100];
    g_rng = 77 + (uint64_t)scheme;
    ar1(y, T, 0.5, round);
    ar1(x, T, 0.3, round);
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){y, x, T, NULL, 0, CQB_Q_R7_LE};
    s.alpha_y = LEV;
    s.ny = 3;
    s.alpha_x = LEV;
    s.nx = 3;
    s.lags = LAGS;
    s.nlags = 3;
    s.qtests = 1;
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.B = B;
    o.seed = 42;
    o.null_test = 1;
    o.null_scheme = (int)scheme;
    o.rot_margin = 10;
    cqb_cq_result r;
    cqb_error err;
    cr_assert_eq(cqb_cq_boot(&s, &o, &r, &err), CQB_OK, "%s", err.msg);
    cqb_null_plan p;
    cr_assert_eq(cqb_null_plan_build(&p, &s.in, LEV, 3, LEV, 3, LAGS, 3, scheme, 42, B, 0.0, 0, 10, &err), CQB_OK);
    const size_t nrep = p.nrep;
    /* rho* [rep][lag][cell] */
    double *rs = malloc(nrep * 27 * sizeof *rs);
    for (size_t rep = 0; rep < nrep; ++rep)
        for (size_t li = 0; li < 3; ++li)
            for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b)
                    rs[rep * 27 + li * 9 + (size_t)(a * 3 + b)] =
                        brute_rho(&p, &s.in, (uint32_t)rep, LAGS[li], LEV[a], LEV[b]);
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b) {
            for (size_t li = 0; li < 3; ++li) {
                const cqb_cq_cell *c = &r.cells[(size_t)(a * 3 + b) * 3 + li];
                size_t gt = 0, eq = 0, va = 0;
                for (size_t rep = 0; rep < nrep; ++rep) {
                    double v = rs[rep * 27 + li * 9 + (size_t)(a * 3 + b)];
                    if (isnan(v)) continue;
                    ++va;
                    if (fabs(fabs(v) - fabs(c->rho)) <= 1e-12) ++eq;
                    else if (fabs(v) > fabs(c->rho)) ++gt;
                }
                double mid = (gt + 0.5 * (1.0 + eq)) / (va + 1.0), cons = (1.0 + gt + eq) / (va + 1.0);
                cr_assert_eq(c->null_valid, va);
                cr_assert(c->p_null == mid, "cell %d %d lag %zu: p_null %.17g brute %.17g", a, b, LAGS[li],
                          c->p_null, mid);
                cr_assert(c->p_null_cons == cons);
                cr_assert(c->p_null > 0.0);
            }
            /* Q tests: Ljung-Box from the shared replicate's rho*(1..p) */
            for (size_t pp = 1; pp <= 3; ++pp) {
                const cqb_cq_qtest *q = &r.qtests[(size_t)(a * 3 + b) * 3 + pp - 1];
                size_t gt = 0, eq = 0, va = 0;
                for (size_t rep = 0; rep < nrep; ++rep) {
                    double sl = 0.0;
                    int ok = 1;
                    for (size_t k = 1; k <= pp; ++k) {
                        double v = rs[rep * 27 + (k - 1) * 9 + (size_t)(a * 3 + b)];
                        ok &= !isnan(v);
                        sl += v * v / ((double)T - (double)k);
                    }
                    if (!ok) continue;
                    double qlb = (double)T * ((double)T + 2.0) * sl;
                    ++va;
                    if (fabs(qlb - q->q_lb) <= 1e-12 * fmax(1.0, q->q_lb)) ++eq;
                    else if (qlb > q->q_lb) ++gt;
                }
                cr_assert_eq(q->null_valid, va);
                cr_assert(q->p_null_lb == (gt + 0.5 * (1.0 + eq)) / (va + 1.0), "Q p %zu", pp);
            }
        }
    }
    free(rs);
    cqb_null_plan_free(&p);
    cqb_cq_result_free(&r);
}

Test(nullboot, p_null_equals_brute_force_sb) { brute_force_check(CQB_NULL_SB, 0); }
Test(nullboot, p_null_equals_brute_force_sb_ties) { brute_force_check(CQB_NULL_SB, 1.0); }
Test(nullboot, p_null_equals_brute_force_rotation) { brute_force_check(CQB_NULL_ROTATION, 2.0); }

/* ----------------------------------------------- threads and chunks -- */

static void run_with(const cqb_cq_spec *s, int scheme, int threads, size_t chunk, cqb_cq_result *r)
{
    cqb_backend be;
    char notice[256];
    cqb_error err;
    cr_assert_eq(cqb_backend_open(CQB_BACKEND_CPU, threads, &be, notice, sizeof notice, &err), CQB_OK);
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.B = 150;
    o.seed = 9;
    o.null_test = 1;
    o.null_scheme = scheme;
    o.chunk = chunk;
    o.gridwide = 1;
    o.backend = &be;
    cr_assert_eq(cqb_cq_boot(s, &o, r, &err), CQB_OK, "%s", err.msg);
    cqb_backend_close(&be);
}

Test(nullboot, thread_and_chunk_invariant)
{
    const size_t T = 200;
    double y[200], x[200];
    g_rng = 5;
    ar1(y, T, 0.5, 4.0);
    ar1(x, T, 0.5, 0);
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){y, x, T, NULL, 0, CQB_Q_R7_LE};
    s.alpha_y = LEV;
    s.ny = 3;
    s.alpha_x = LEV;
    s.nx = 3;
    s.lags = LAGS;
    s.nlags = 3;
    s.qtests = 1;
    for (int scheme = 0; scheme < 2; ++scheme) {
        cqb_cq_result ref, r;
        run_with(&s, scheme, 1, 0, &ref);
        const int th[3] = {2, 8, 3};
        const size_t ch[3] = {7, 64, 1};
        for (int v = 0; v < 3; ++v) {
            run_with(&s, scheme, th[v], ch[v], &r);
            for (size_t i = 0; i < r.ncells; ++i) {
                cr_assert(r.cells[i].p_null == ref.cells[i].p_null, "scheme %d cell %zu", scheme, i);
                cr_assert(r.cells[i].p_null_cons == ref.cells[i].p_null_cons);
                cr_assert(r.cells[i].p_null_bh == ref.cells[i].p_null_bh);
                cr_assert(r.cells[i].p_null_rw == ref.cells[i].p_null_rw);
                cr_assert(r.cells[i].p_null_rw >= r.cells[i].p_null_cons - 1e-12 || r.cells[i].lag == 0);
                cr_assert(r.cells[i].band_lo == ref.cells[i].band_lo);
            }
            for (size_t i = 0; i < r.nqtests; ++i) {
                cr_assert(r.qtests[i].p_null_lb == ref.qtests[i].p_null_lb);
                cr_assert(r.qtests[i].cv_null_lb == ref.qtests[i].cv_null_lb);
            }
            for (size_t i = 0; i < r.nsupq; ++i) cr_assert(r.supq[i].p_null_lb == ref.supq[i].p_null_lb);
            cqb_cq_result_free(&r);
        }
        cqb_cq_result_free(&ref);
    }
}

Test(nullboot, jr_outputs_unchanged_by_the_null_test)
{
    const size_t T = 120;
    double y[120], x[120];
    g_rng = 8;
    ar1(y, T, 0.5, 0);
    ar1(x, T, 0.5, 0);
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){y, x, T, NULL, 0, CQB_Q_R7_LE};
    s.alpha_y = LEV;
    s.ny = 3;
    s.alpha_x = LEV;
    s.nx = 3;
    s.lags = LAGS;
    s.nlags = 3;
    s.qtests = 1;
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.B = 99;
    cqb_cq_result a, b;
    cqb_error err;
    cr_assert_eq(cqb_cq_boot(&s, &o, &a, &err), CQB_OK);
    o.null_test = 1;
    cr_assert_eq(cqb_cq_boot(&s, &o, &b, &err), CQB_OK);
    for (size_t i = 0; i < a.ncells; ++i) {
        cr_assert(a.cells[i].band_lo == b.cells[i].band_lo && a.cells[i].band_hi == b.cells[i].band_hi);
        cr_assert(a.cells[i].p_value == b.cells[i].p_value);
        cr_assert(isnan(a.cells[i].p_null) && !isnan(b.cells[i].p_null));
    }
    for (size_t i = 0; i < a.nqtests; ++i) cr_assert(a.qtests[i].cv_lb == b.qtests[i].cv_lb);
    cqb_cq_result_free(&a);
    cqb_cq_result_free(&b);
}

/* --------------------------------------------------------- size check -- */

/* Binomial(R, q) 99% acceptance interval [lo, hi] for the rejection count. */
static void binom99(int R, double q, int *lo, int *hi)
{
    double cdf = 0.0, pk = pow(1 - q, R);
    *lo = -1;
    *hi = R;
    for (int k = 0; k <= R; ++k) {
        cdf += pk;
        if (*lo < 0 && cdf > 0.005) *lo = k;
        if (cdf >= 0.995) {
            *hi = k;
            break;
        }
        pk *= (double)(R - k) / (double)(k + 1) * q / (1 - q);
    }
}

Test(nullboot, size_in_binomial_interval, .timeout = 300)
{
    /* independent AR(1) pairs, T = 200, B = 99, nominal 5%: the rejection
     * rate of p_null < 0.05 at (0.5, 0.5) and (0.1, 0.5), lag 1 */
    const int R = 300;
    const size_t T = 200;
    static const double ly[2] = {0.1, 0.5}, lx[1] = {0.5};
    static const size_t lag1[1] = {1};
    int lo, hi;
    binom99(R, 0.05, &lo, &hi);
    for (int scheme = 0; scheme < 2; ++scheme) {
        int rej[2] = {0, 0};
        g_rng = 2024;
        for (int rr = 0; rr < R; ++rr) {
            double y[200], x[200];
            ar1(y, T, 0.4, 0);
            ar1(x, T, 0.4, 0);
            cqb_cq_spec s;
            memset(&s, 0, sizeof s);
            s.in = (cqb_cq_input){y, x, T, NULL, 0, CQB_Q_R7_LE};
            s.alpha_y = ly;
            s.ny = 2;
            s.alpha_x = lx;
            s.nx = 1;
            s.lags = lag1;
            s.nlags = 1;
            cqb_boot_opts o;
            cqb_boot_opts_default(&o);
            o.B = 99;
            o.seed = (uint64_t)rr + 1;
            o.null_test = 1;
            o.null_scheme = scheme;
            cqb_cq_result r;
            cqb_error err;
            cr_assert_eq(cqb_cq_boot(&s, &o, &r, &err), CQB_OK, "%s", err.msg);
            for (int c = 0; c < 2; ++c) rej[c] += r.cells[c].p_null < 0.05;
            cqb_cq_result_free(&r);
        }
        for (int c = 0; c < 2; ++c)
            cr_expect(rej[c] >= lo && rej[c] <= hi, "scheme %d cell %d: %d rejections of %d outside [%d, %d]",
                      scheme, c, rej[c], R, lo, hi);
    }
}

/* ---------------------------------------------------- partial CQ null -- */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(nullboot, partial_p_null_equals_brute_force_on_materialised_rotations)
{
    /* x's values are rotated within the strata of the control hits on the
     * aligned rows; the full column keeps its values, so its quantiles and
     * the counts with the control are unchanged: cqb_cq_compute on the
     * materialised x* must give every rho* bit for bit. */
    const size_t T = 120, m = 5;
    static const size_t lags[2] = {1, 2};
    double y[120], x[120], z[120], xs[120], zs[120];
    g_rng = 99;
    ar1(z, T, 0.7, 0);
    ar1(y, T, 0.3, 2.0);
    ar1(x, T, 0.3, 0);
    for (size_t t = 1; t < T; ++t) {
        y[t] += z[t - 1] < 0 ? 1.0 : 0.0; /* one control drives both */
        x[t] += z[t] < 0 ? 1.0 : 0.0;
    }
    cqb_control ctl = {z, 0.5, -1};
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){y, x, T, &ctl, 1, CQB_Q_R7_LE};
    s.alpha_y = LEV;
    s.ny = 3;
    s.alpha_x = LEV;
    s.nx = 3;
    s.lags = lags;
    s.nlags = 2;
    s.qtests = 1;
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.B = 49;
    o.null_test = 1;
    o.null_partial = 1;
    o.rot_margin = m;
    cqb_cq_result r;
    cqb_error err;
    cr_assert_eq(cqb_cq_boot(&s, &o, &r, &err), CQB_OK, "%s", err.msg);
    memcpy(zs, z, sizeof zs);
    qsort(zs, T, sizeof *zs, cmp_dbl);
    const double qz = cqb_quantile_sorted(CQB_Q_R7_LE, zs, T, 0.5);
    double *rs[2];
    size_t Mk[2];
    for (size_t li = 0; li < 2; ++li) {
        const size_t k = lags[li], N = T - k;
        /* strata of the aligned rows t = 0..N-1 (x row t, control row t) */
        size_t L[2][120], n[2] = {0, 0};
        for (size_t t = 0; t < N; ++t) {
            int g = z[t] <= qz;
            L[g][n[g]++] = t;
        }
        const size_t nmin = n[0] < n[1] ? n[0] : n[1];
        cr_assert(nmin >= 2 * m + 1 && nmin < 120);
        Mk[li] = nmin - 2 * m + 1;
        rs[li] = malloc(120 * 9 * sizeof *rs[li]);
        for (size_t rep = 0; rep < Mk[li]; ++rep) {
            memcpy(xs, x, sizeof xs);
            for (int g = 0; g < 2; ++g)
                for (size_t i = 0; i < n[g]; ++i) xs[L[g][i]] = x[L[g][(i + m + rep) % n[g]]];
            cqb_cq_input in2 = {y, xs, T, &ctl, 1, CQB_Q_R7_LE};
            for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b) {
                    cqb_cq_point pt;
                    cqb_status st = cqb_cq_compute(&in2, LEV[a], LEV[b], k, &pt, &err);
                    rs[li][rep * 9 + (size_t)(a * 3 + b)] = st == CQB_OK ? pt.rho_partial : NAN;
                }
        }
    }
    for (int c = 0; c < 9; ++c) {
        for (size_t li = 0; li < 2; ++li) {
            const cqb_cq_cell *cl = &r.cells[(size_t)c * 2 + li];
            size_t gt = 0, eq = 0, va = 0;
            for (size_t rep = 0; rep < Mk[li]; ++rep) {
                double v = rs[li][rep * 9 + (size_t)c];
                if (isnan(v)) continue;
                ++va;
                if (fabs(fabs(v) - fabs(cl->rho_partial)) <= 1e-12) ++eq;
                else if (fabs(v) > fabs(cl->rho_partial)) ++gt;
            }
            cr_assert_eq(cl->null_valid, va, "cell %d lag %zu", c, lags[li]);
            cr_assert(cl->p_null == (gt + 0.5 * (1.0 + eq)) / (va + 1.0), "cell %d lag %zu: %.17g", c, lags[li],
                      cl->p_null);
        }
        /* Ljung-Box over lags 1..2 on the common shifts */
        const size_t Mq = Mk[0] < Mk[1] ? Mk[0] : Mk[1];
        for (size_t pp = 1; pp <= 2; ++pp) {
            const cqb_cq_qtest *q = &r.qtests[(size_t)c * 2 + pp - 1];
            size_t gt = 0, eq = 0, va = 0;
            for (size_t rep = 0; rep < Mq; ++rep) {
                double sl = 0.0;
                int ok = 1;
                for (size_t k = 1; k <= pp; ++k) {
                    double v = rs[k - 1][rep * 9 + (size_t)c];
                    ok &= !isnan(v);
                    sl += v * v / ((double)T - (double)k);
                }
                if (!ok) continue;
                double qlb = (double)T * ((double)T + 2.0) * sl;
                ++va;
                if (fabs(qlb - q->q_lb) <= 1e-12 * fmax(1.0, q->q_lb)) ++eq;
                else if (qlb > q->q_lb) ++gt;
            }
            cr_assert_eq(q->null_valid, va);
            cr_assert(q->p_null_lb == (gt + 0.5 * (1.0 + eq)) / (va + 1.0), "Q cell %d p %zu", c, pp);
        }
    }
    free(rs[0]);
    free(rs[1]);
    cqb_cq_result_free(&r);
}

/* --------------------------------------------- the device kernel, as C -- */

static void pack_nk(const cqb_null_plan *p, cqb_nkplan *k)
{
    memset(k, 0, sizeof *k);
    k->scheme = (int)p->scheme;
    k->ny = p->ny;
    k->nx = p->nx;
    k->seed = p->seed;
    k->thr_y = p->thr_y;
    k->thr_x = p->thr_x;
    k->tag_y = cqb_sb_tag(CQB_FAMILY_NULL_Y, 0, 0);
    k->tag_x = cqb_sb_tag(CQB_FAMILY_NULL_X, 0, 0);
    k->T = p->T;
    k->margin = p->margin;
    k->nlag = p->nlag;
    k->nstat = p->nstat;
    k->lag = p->lag;
    k->r0 = p->r0;
    k->N = p->N;
    k->off = p->off;
    k->n1 = p->n1;
    k->n2 = p->n2;
    k->rank_y = p->rank_y;
    k->rank_x = p->rank_x;
    k->pcode_y = p->pcode_y;
    k->pcode_x = p->pcode_x;
    k->code_y = p->code_y;
    k->code_x = p->code_x;
    memcpy(k->ay, p->ay, sizeof k->ay);
    memcpy(k->ax, p->ax, sizeof k->ax);
}

/* device/nullkern.h compiled as C (one thread per replicate on the device):
 * bit for bit the replicates of cqb_null_run_cpu, both schemes, with ties. */
Test(nullboot, device_kernel_emulated_matches_cpu)
{
    const size_t T = 140;
    double y[140], x[140];
    g_rng = 31;
    ar1(y, T, 0.5, 2.0);
    ar1(x, T, 0.4, 0);
    cqb_cq_input in = {y, x, T, NULL, 0, CQB_Q_R7_LE};
    for (int scheme = 0; scheme < 2; ++scheme) {
        cqb_null_plan p;
        cqb_error err;
        cr_assert_eq(cqb_null_plan_build(&p, &in, LEV, 3, LEV, 3, LAGS, 3, (cqb_null_scheme)scheme, 17, 60, 0.0, 0,
                                         10, &err),
                     CQB_OK);
        cqb_nkplan k;
        pack_nk(&p, &k);
        const size_t nrep = p.nrep;
        double *cpu = malloc(nrep * p.nstat * sizeof *cpu), *dev = malloc(nrep * p.nstat * sizeof *dev);
        unsigned char *scr = malloc(cqb_nk_scratch_bytes(T, p.ny, p.nx));
        cr_assert_eq(cqb_null_run_cpu(&p, 0, nrep, cpu, 2, &err), CQB_OK);
        for (size_t r = 0; r < nrep; ++r) cqb_nk_replicate(&k, (uint32_t)r, scr, dev + r * p.nstat);
        for (size_t i = 0; i < nrep * p.nstat; ++i)
            cr_assert(!memcmp(&cpu[i], &dev[i], sizeof(double)), "scheme %d value %zu: %.17g vs %.17g", scheme, i,
                      cpu[i], dev[i]);
        free(cpu);
        free(dev);
        free(scr);
        cqb_null_plan_free(&p);
    }
}

/* A backend whose null_eval runs the kernel function (as the CUDA entry
 * does, one replicate at a time): cqb_cq_boot dispatches to it for the
 * plain-CQ schemes, and every p_null is the host's, bit for bit. */
static int g_emu_calls;
static cqb_status emu_null_eval(const cqb_backend *b, const struct cqb_null_plan *p, uint32_t rep0, size_t nrep,
                                double *out, cqb_error *err)
{
    (void)b;
    (void)err;
    cqb_nkplan k;
    pack_nk(p, &k);
    unsigned char *scr = malloc(cqb_nk_scratch_bytes(p->T, p->ny, p->nx));
    for (size_t r = 0; r < nrep; ++r) cqb_nk_replicate(&k, rep0 + (uint32_t)r, scr, out + r * p->nstat);
    free(scr);
    ++g_emu_calls;
    return CQB_OK;
}

Test(nullboot, backend_null_eval_dispatch_is_bit_identical)
{
    const size_t T = 160;
    double y[160], x[160];
    g_rng = 12;
    ar1(y, T, 0.5, 3.0);
    ar1(x, T, 0.3, 0);
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){y, x, T, NULL, 0, CQB_Q_R7_LE};
    s.alpha_y = LEV;
    s.ny = 3;
    s.alpha_x = LEV;
    s.nx = 3;
    s.lags = LAGS;
    s.nlags = 3;
    s.qtests = 1;
    for (int scheme = 0; scheme < 2; ++scheme) {
        cqb_backend be;
        char notice[128];
        cqb_error err;
        cr_assert_eq(cqb_backend_open(CQB_BACKEND_CPU, 2, &be, notice, sizeof notice, &err), CQB_OK);
        cqb_boot_opts o;
        cqb_boot_opts_default(&o);
        o.B = 80;
        o.null_test = 1;
        o.null_scheme = scheme;
        o.gridwide = 1;
        o.chunk = 30;
        o.backend = &be;
        cqb_cq_result a, b;
        cr_assert_eq(cqb_cq_boot(&s, &o, &a, &err), CQB_OK, "%s", err.msg);
        be.null_eval = emu_null_eval;
        g_emu_calls = 0;
        cr_assert_eq(cqb_cq_boot(&s, &o, &b, &err), CQB_OK, "%s", err.msg);
        cr_assert_gt(g_emu_calls, 0, "null_eval was not used");
        for (size_t i = 0; i < a.ncells; ++i) {
            cr_assert(a.cells[i].p_null == b.cells[i].p_null && a.cells[i].p_null_rw == b.cells[i].p_null_rw);
            cr_assert(a.cells[i].p_null_cons == b.cells[i].p_null_cons);
        }
        for (size_t i = 0; i < a.nqtests; ++i)
            cr_assert(a.qtests[i].p_null_lb == b.qtests[i].p_null_lb && a.qtests[i].cv_null_lb == b.qtests[i].cv_null_lb);
        cqb_cq_result_free(&a);
        cqb_cq_result_free(&b);
        cqb_backend_close(&be);
    }
}
