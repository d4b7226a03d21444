/* test_wavelet_cuda.c — the device path of the wavelet resampling tests
 * (device/wavelet_kern.h, device/wavelet_cuda.cu, cqb_backend.wavelet_eval).
 *
 * Without a GPU (and in a build without CUDA):
 *   emu     the kernel header compiled as C and run by an emulated device:
 *           nthr POSIX threads execute every step of a replicate chunk as
 *           the GPU does (element-wise steps strided over the threads,
 *           cooperative steps by the whole team with a barrier for
 *           __syncthreads, a barrier between steps for the kernel
 *           boundaries), on the same packed plan and scratch layout. Checked
 *           against the CPU (host/wavelet/wnull.c, host/wavelet/wavelet.c, host/wavelet/wmc.c,
 *           host/wavelet/wlmc.c): the bootstrap and joint indices (exactly), the FFT
 *           and the phase surrogates (bit for bit), the prepared
 *           coefficients (bit for bit, NaN positions included), and the
 *           statistic values of every replicate of WMC and WLMC (Gaussian,
 *           uniform and Epanechnikov windows, compat and corrected modes,
 *           periodic and reflection boundaries, the four schemes, several
 *           seeds, 2..9 series): bit for bit, and the 1e-12 bound
 *           reported; whole cqb_wtest() results through a backend whose
 *           wavelet_eval is the emulator; the CPU fallback for plans the
 *           kernels do not cover (WMCC, WLMCC, the uniform fast path);
 *           replicates the statistic rejects (NaN rows).
 *   select  `cqboot wlmc --backend cuda` without a usable device exits 4;
 *           `auto` falls back to the CPU.
 * With a usable GPU the gpu tests compare the CUDA backend's wavelet_eval
 * with cqb_wplan_eval_cpu() (values within 1e-12, and counts the ones that
 * are not bit-identical: none expected except for the phase scheme) and
 * whole cqb_wtest() results; without one they are skipped with the reason.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cqboot/backend.h"
#include "cqboot/fft.h"
#include "cqboot/philox.h"
#include "cqboot/sbresample.h"
#include "cqboot/wavelet.h"
#include "cqboot/wlmc.h"
#include "cqboot/wmc.h"
#include "cqboot/wnull.h"
#include "../host/wavelet/wmc_internal.h" /* cqbw_mulcor(): the reference of the device copy */

/* the kernels, compiled for the host emulator */
struct cqb_kemu {
    pthread_barrier_t bar;
};
#include "../device/wavelet_kern.h"

void cqb_kemu_sync(cqb_wkctx *ctx)
{
    pthread_barrier_wait(&ctx->bar);
}

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ------------------------------------------------------------------ data -- */

/* Standard normals from Philox words (Box-Muller). */
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

/* d AR(1) series (coefficient phi) of length n plus c times a common AR(1)
 * factor, series k at x[k * n]. */
static double *make_data(size_t n, size_t d, double phi, double c, uint64_t seed)
{
    double *x = malloc(n * d * sizeof *x), *e = malloc((n + 50) * sizeof *e), *f = malloc((n + 50) * sizeof *f);
    cr_assert(x && e && f);
    normals(seed, 1000, f, n + 50);
    for (size_t t = 1; t < n + 50; ++t) f[t] += phi * f[t - 1];
    for (size_t k = 0; k < d; ++k) {
        normals(seed, k, e, n + 50);
        for (size_t t = 1; t < n + 50; ++t) e[t] += phi * e[t - 1];
        for (size_t t = 0; t < n; ++t) x[k * n + t] = e[t + 50] + c * f[t + 50];
    }
    free(e);
    free(f);
    return x;
}

typedef struct wcase {
    cqb_wstat stat;
    cqb_wnull null;
    cqb_window window;
    cqb_wmc_mode mode;
    cqb_boundary bnd;
    size_t n, d;
    int J;
    double M;
    uint64_t seed;
    double gamma;
    int ymaxr, weight_power;
    cqb_wavelet wf;
} wcase;

static cqb_wtest_spec spec_of(const wcase *c, const double *x, size_t B)
{
    cqb_wtest_spec s;
    memset(&s, 0, sizeof s);
    s.x = x;
    s.ldx = c->n;
    s.n = c->n;
    s.d = c->d;
    s.wf = c->wf;
    s.J = c->J;
    s.boundary = c->bnd;
    cqb_wmc_opts_default(&s.opts);
    s.opts.mode = c->mode;
    s.opts.window = c->window;
    s.opts.M = c->M;
    s.opts.ymaxr = c->ymaxr;
    s.opts.weight_power = c->weight_power;
    s.stat = c->stat;
    s.null = c->null;
    s.B = B;
    s.seed = c->seed;
    s.gamma = c->gamma;
    s.level = 0.95;
    s.threads = 2;
    return s;
}

static void describe(const wcase *c, char *buf, size_t n)
{
    snprintf(buf, n, "stat %d null %s window %s mode %d boundary %s n %zu d %zu J %d M %g seed %llu gamma %g ymaxr %d "
                     "wp %d %s",
             (int)c->stat, cqb_wnull_name(c->null), cqb_window_name(c->window), (int)c->mode,
             cqb_boundary_name(c->bnd), c->n, c->d, c->J, c->M, (unsigned long long)c->seed, c->gamma, c->ymaxr,
             c->weight_power, cqb_wavelet_name(c->wf));
}

static int same_value(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* ------------------------------------------------------------- emulator -- */

typedef struct emu {
    const cqb_wkplan *kp;
    cqb_wkstep steps[CQB_WK_MAXSTEPS];
    int nsteps;
    unsigned char *scr;
    uint32_t rep0, nrep;
    double *out;
    int nthr;
    long long *scan;
    struct cqb_kemu ctx;
} emu;

typedef struct emu_job {
    emu *E;
    int tid;
} emu_job;

static void *emu_thread(void *arg)
{
    const emu_job *j = arg;
    emu *E = j->E;
    for (int si = 0; si < E->nsteps; ++si) {
        const cqb_wkstep *st = &E->steps[si];
        const uint64_t tot = st->items * E->nrep;
        if (st->coop) {
            /* one block: every item by the whole team */
            for (uint64_t it = 0; it < tot; ++it)
                cqb_wk_coop(E->kp, st->kind, E->scr, E->rep0, (uint32_t)(it / st->items), (uint32_t)(it % st->items),
                            E->scan, j->tid, E->nthr, &E->ctx);
        } else {
            for (uint64_t g = (uint64_t)j->tid; g < tot; g += (uint64_t)E->nthr)
                cqb_wk_elem(E->kp, st->kind, st->arg, E->scr, E->rep0, (uint32_t)(g / st->items), g % st->items,
                            E->out);
        }
        cqb_kemu_sync(&E->ctx); /* the kernel boundary */
    }
    return NULL;
}

/* Runs replicates rep0 .. rep0+nrep-1 of plan wp on an emulated device with
 * nthr threads. out gets nrep x ncell values; when scr_out is not NULL the
 * scratch (nrep x scratch_bytes) is returned there (the caller frees it) and
 * *kp_out the packed plan whose pointers refer to *pack_out. */
static void emu_run(const cqb_wplan *wp, int nthr, uint32_t rep0, uint32_t nrep, double *out, unsigned char **scr_out,
                    cqb_wkplan *kp_out, unsigned char **pack_out)
{
    char why[128];
    cr_assert(cqb_wk_supported(wp, why, sizeof why), "not supported: %s", why);
    cqb_wkplan kp;
    const size_t psz = cqb_wkplan_pack(wp, NULL, 0, &kp);
    unsigned char *buf = aligned_alloc(16, psz ? psz : 16);
    cr_assert_not_null(buf);
    memset(buf, 0xA5, psz);
    cr_assert_eq(cqb_wkplan_pack(wp, buf, (uintptr_t)buf, &kp), psz);
    cr_assert_eq(kp.scratch_bytes % 16, 0);
    unsigned char *scr = aligned_alloc(16, (size_t)nrep * kp.scratch_bytes);
    cr_assert_not_null(scr);
    memset(scr, 0xA5, (size_t)nrep * kp.scratch_bytes); /* the kernels must not rely on zeroed memory */
    for (size_t i = 0; i < (size_t)nrep * wp->ncell; ++i) out[i] = -12345.0;
    emu E;
    memset(&E, 0, sizeof E);
    E.kp = &kp;
    E.nsteps = cqb_wk_steps(&kp, E.steps);
    cr_assert(E.nsteps <= CQB_WK_MAXSTEPS);
    E.scr = scr;
    E.rep0 = rep0;
    E.nrep = nrep;
    E.out = out;
    E.nthr = nthr;
    E.scan = malloc(2 * (size_t)nthr * sizeof *E.scan);
    cr_assert_not_null(E.scan);
    cr_assert_eq(pthread_barrier_init(&E.ctx.bar, NULL, (unsigned)nthr), 0);
    pthread_t *th = malloc((size_t)nthr * sizeof *th);
    emu_job *jobs = malloc((size_t)nthr * sizeof *jobs);
    cr_assert(th && jobs);
    for (int t = 0; t < nthr; ++t) {
        jobs[t] = (emu_job){&E, t};
        cr_assert_eq(pthread_create(&th[t], NULL, emu_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < nthr; ++t) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&E.ctx.bar);
    free(th);
    free(jobs);
    free(E.scan);
    if (scr_out) {
        *scr_out = scr;
        *kp_out = kp;
        *pack_out = buf;
    } else {
        free(scr);
        free(buf);
    }
}

/* A backend whose wavelet_eval is the emulator (block of g_emu_nthr). */
static int g_emu_nthr = 8;

static cqb_status emu_eval(const cqb_backend *b, const cqb_wplan *wp, uint32_t rep0, size_t nrep, double *out,
                           cqb_error *err)
{
    (void)b;
    char why[128];
    if (!cqb_wk_supported(wp, why, sizeof why)) return cqb_error_set(err, CQB_EBACKEND, "%s", why);
    if (nrep == 0) return CQB_OK;
    emu_run(wp, g_emu_nthr, rep0, (uint32_t)nrep, out, NULL, NULL, NULL);
    return CQB_OK;
}

static void emu_backend(cqb_backend *be)
{
    memset(be, 0, sizeof *be);
    be->kind = CQB_BACKEND_CUDA;
    snprintf(be->name, sizeof be->name, "emu");
    snprintf(be->device, sizeof be->device, "emulated device");
    be->wavelet_eval = emu_eval;
}

/* --------------------------------------------- values against the CPU -- */

typedef struct cmp_stats {
    size_t n, nan_both, bitdiff;
    double maxabs;
} cmp_stats;

/* Compares got with ref (nrep x ncell): NaN where NaN, |diff| <= 1e-12
 * (the criterion); counts the values that are not bit-identical. */
static void compare_values(const double *ref, const double *got, size_t nrep, size_t ncell, const char *what,
                           cmp_stats *cs)
{
    memset(cs, 0, sizeof *cs);
    for (size_t r = 0; r < nrep; ++r)
        for (size_t c = 0; c < ncell; ++c) {
            const double a = ref[r * ncell + c], b = got[r * ncell + c];
            ++cs->n;
            cr_assert(b != -12345.0, "%s: replicate %zu cell %zu not written", what, r, c);
            cr_assert(isnan(a) == isnan(b), "%s: replicate %zu cell %zu: cpu %.17g vs %.17g", what, r, c, a, b);
            if (isnan(a)) {
                ++cs->nan_both;
                continue;
            }
            const double e = fabs(a - b);
            if (e > cs->maxabs) cs->maxabs = e;
            if (!same_value(a, b)) ++cs->bitdiff;
            cr_assert(e <= 1e-12, "%s: replicate %zu cell %zu: cpu %.17g vs %.17g (diff %g)", what, r, c, a, b, e);
        }
}

/* Emulated replicates rep0.. of case c against cqb_wplan_eval_cpu(): equal
 * within 1e-12 and, on the emulator (the same host arithmetic), bit for bit. */
static void emu_check(const wcase *c, int nthr, uint32_t rep0, uint32_t nrep)
{
    double *x = make_data(c->n, c->d, 0.5, 0.4, c->seed + 77);
    cqb_wtest_spec s = spec_of(c, x, nrep);
    cqb_wplan wp;
    cqb_error err;
    char what[300];
    describe(c, what, sizeof what);
    cr_assert_eq(cqb_wplan_init(&s, &wp, NULL, NULL, &err), CQB_OK, "%s: %s", what, err.msg);
    double *ref = malloc((size_t)nrep * wp.ncell * sizeof *ref), *got = malloc((size_t)nrep * wp.ncell * sizeof *got);
    cr_assert(ref && got);
    cr_assert_eq(cqb_wplan_eval_cpu(&wp, rep0, nrep, ref, 2, &err), CQB_OK, "%s", err.msg);
    emu_run(&wp, nthr, rep0, nrep, got, NULL, NULL, NULL);
    cmp_stats cs;
    compare_values(ref, got, nrep, wp.ncell, what, &cs);
    cr_expect_eq(cs.bitdiff, 0, "%s: %zu of %zu values not bit-identical (max |diff| %g)", what, cs.bitdiff, cs.n,
                 cs.maxabs);
    cr_expect(cs.nan_both < cs.n, "%s: every value is NaN", what);
    free(ref);
    free(got);
    cqb_wplan_free(&wp);
    free(x);
}

#define WC(stat, null, win, mode, bnd, n, d, J, M, seed, gamma) \
    (&(wcase){(stat), (null), (win), (mode), (bnd), (n), (d), (J), (M), (seed), (gamma), 0, 0, CQB_WAVELET_LA8})

static const cqb_wmc_mode MODES[2] = {CQB_WMC_COMPAT, CQB_WMC_CORRECTED};
static const cqb_boundary BNDS[2] = {CQB_BOUNDARY_PERIODIC, CQB_BOUNDARY_REFLECTION};

Test(emu, wlmc_gaussian_bootstrap)
{
    for (int m = 0; m < 2; ++m)
        for (int b = 0; b < 2; ++b)
            for (uint64_t seed = 1; seed <= 3; ++seed)
                emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, MODES[m], BNDS[b], 120, 3, 3,
                             8.0, seed, 0.1),
                          (int)(7 * seed), 0, 5);
}

Test(emu, wlmc_uniform_and_epanechnikov)
{
    for (int m = 0; m < 2; ++m)
        for (int b = 0; b < 2; ++b) {
            emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_UNIFORM, MODES[m], BNDS[b], 130, 4, 3, 10.0,
                         11 + (uint64_t)m, 0.08),
                      16, 0, 5);
            emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_EPANECHNIKOV, MODES[m], BNDS[b], 101, 2, 3,
                         9.5, 21 + (uint64_t)b, 0.2),
                      5, 3, 5);
        }
}

Test(emu, wlmc_rotation_and_phase)
{
    for (int m = 0; m < 2; ++m) {
        emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_ROTATION, CQB_WINDOW_GAUSSIAN, MODES[m], CQB_BOUNDARY_PERIODIC, 128, 3,
                     3, 6.0, 31, 0.0),
                  9, 0, 6);
        emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_ROTATION, CQB_WINDOW_UNIFORM, MODES[m], CQB_BOUNDARY_REFLECTION, 90, 2,
                     3, 7.0, 32, 0.0),
                  4, 0, 6);
        /* phase: radix-2 (n = 128) and Bluestein (n = 150) */
        emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_PHASE, CQB_WINDOW_GAUSSIAN, MODES[m], CQB_BOUNDARY_PERIODIC, 128, 3, 3,
                     6.0, 33, 0.0),
                  32, 0, 4);
        emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_PHASE, CQB_WINDOW_UNIFORM, MODES[m], CQB_BOUNDARY_REFLECTION, 150, 2,
                     3, 11.0, 34, 0.0),
                  13, 5, 4);
    }
}

Test(emu, wmc_all_schemes)
{
    const cqb_wnull nulls[4] = {CQB_WNULL_BOOTSTRAP, CQB_WNULL_JOINT, CQB_WNULL_ROTATION, CQB_WNULL_PHASE};
    for (int a = 0; a < 4; ++a)
        for (int m = 0; m < 2; ++m)
            for (int b = 0; b < 2; ++b)
                emu_check(WC(CQB_WSTAT_WMC, nulls[a], CQB_WINDOW_GAUSSIAN, MODES[m], BNDS[b], a == 3 ? 200 : 160,
                             (size_t)(2 + a), 4, 0.0, 40 + (uint64_t)(4 * a + 2 * m + b), 0.1),
                          (a + 1) * 5, 2, 12);
}

Test(emu, automatic_gamma_high_replicates_one_thread)
{
    emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 96,
                 3, 2, 5.0, 51, 0.0),
              1, 4294967290u, 5);
    emu_check(WC(CQB_WSTAT_WMC, CQB_WNULL_JOINT, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 96, 3, 3,
                 0.0, 52, 0.0),
              64, 4294967280u, 12);
}

Test(emu, options_ymaxr_weight_power_filters_many_series)
{
    wcase c = *WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 110,
                  3, 3, 7.0, 61, 0.15);
    c.ymaxr = 2;
    emu_check(&c, 8, 0, 4);
    c.ymaxr = 0;
    c.weight_power = 1; /* compat with u^1 weights */
    emu_check(&c, 8, 0, 4);
    c.weight_power = 0;
    c.wf = CQB_WAVELET_HAAR; /* nu = 0 at level 1 */
    emu_check(&c, 8, 0, 4);
    c.wf = CQB_WAVELET_D4;
    c.mode = CQB_WMC_CORRECTED;
    c.bnd = CQB_BOUNDARY_REFLECTION;
    emu_check(&c, 8, 0, 4);
    c.wf = CQB_WAVELET_LA16;
    c.J = 2;
    emu_check(&c, 8, 0, 4);
    c.wf = CQB_WAVELET_LA20;
    c.n = 200;
    c.stat = CQB_WSTAT_WMC;
    emu_check(&c, 8, 0, 4);
    /* 9 series: past the specialised d = 2..8 sums */
    c = *WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 100, 9, 2,
            6.0, 62, 0.1);
    emu_check(&c, 8, 0, 3);
    c.stat = CQB_WSTAT_WMC;
    emu_check(&c, 8, 0, 6);
    /* a large window: the Gaussian reaches every time */
    c = *WC(CQB_WSTAT_WLMC, CQB_WNULL_ROTATION, CQB_WINDOW_GAUSSIAN, CQB_WMC_CORRECTED, CQB_BOUNDARY_PERIODIC, 80, 2, 3,
            40.0, 63, 0.0);
    emu_check(&c, 8, 0, 4);
}

Test(emu, launch_block_size_w3_shape, .timeout = 600)
{
    /* the block size of the device's cooperative kernels (256 threads), on
     * the W3 shape: T = 335, 4 series, la8, J = 4, Gaussian M = 24 */
    emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 335, 4,
                 4, 24.0, 71, 0.0),
              256, 0, 2);
    emu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_PHASE, CQB_WINDOW_GAUSSIAN, CQB_WMC_CORRECTED, CQB_BOUNDARY_REFLECTION, 335,
                 4, 4, 24.0, 72, 0.0),
              256, 0, 2);
}

/* The kernels' multiple correlation (the library's wmc_linalg.h code through
 * the device wrapper: int dimensions, pivots in a local array) equals the
 * library's cqbw_mulcor() bit for bit (Cholesky, LU fallback, QR rank rule,
 * argmax, tie rule, sign), on moment matrices from well conditioned to
 * singular. */
Test(emu, mulcor_matches_library)
{
    size_t nsing = 0;
    for (int it = 0; it < 20000; ++it) {
        const int d = 2 + it % 9;
        double X[10][40], S[100], w1[400], w2[2 * CQB_WK_MAXD * CQB_WK_MAXD + 5 * CQB_WK_MAXD];
        const double mix = (it % 7) == 0 ? 1.0 - 1e-9 : (it % 5 == 0 ? 1.0 : 0.4 * (double)(it % 3));
        for (int k = 0; k < d; ++k)
            for (int t = 0; t < 40; ++t) {
                const double u = (double)cqb_curand_word((uint64_t)it, (uint64_t)k, 0, (uint64_t)t) / 4294967296.0 - 0.5;
                X[k][t] = k ? mix * X[0][t] + (1.0 - mix) * u : u;
            }
        for (int k = 0; k < d; ++k)
            for (int l = 0; l < d; ++l) {
                double sum = 0.0;
                for (int t = 0; t < 40; ++t) sum += X[k][t] * X[l][t];
                S[k * d + l] = sum;
            }
        const int ymaxr = (it % 11 == 0) ? 1 + it % d : 0;
        double p1, p2;
        int dep;
        const int r1 = cqbw_mulcor(S, (size_t)d, ymaxr, &p1, &dep, w1);
        const int r2 = cqb_wk_mulcor(S, d, ymaxr, &p2, w2);
        nsing += r1 == CQBW_MC_RANK;
        cr_assert_eq(r1, r2, "iteration %d d %d", it, d);
        cr_assert(same_value(p1, p2), "iteration %d d %d: %.17g vs %.17g", it, d, p1, p2);
    }
    cr_expect(nsing > 0, "no rank-deficient case exercised");
}

/* ------------------------------------------------------ resamples, FFT -- */

/* Bootstrap and joint indices equal cqb_sb_indices() exactly. */
static void indices_check(cqb_wnull null, size_t n, size_t d, double gamma, uint64_t seed, int nthr)
{
    wcase c = *WC(CQB_WSTAT_WMC, null, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, n, d, 1, 0.0, seed,
                  gamma);
    c.wf = CQB_WAVELET_HAAR; /* short series */
    double *x = make_data(n, d, 0.3, 0.0, seed);
    const uint32_t nrep = 4, rep0 = 1000;
    cqb_wtest_spec s = spec_of(&c, x, nrep);
    cqb_wplan wp;
    cqb_error err;
    cr_assert_eq(cqb_wplan_init(&s, &wp, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    double *out = malloc(nrep * wp.ncell * sizeof *out);
    unsigned char *scr, *pack;
    cqb_wkplan kp;
    emu_run(&wp, nthr, rep0, nrep, out, &scr, &kp, &pack);
    uint32_t *idx = malloc(n * sizeof *idx), *pos = malloc(n * sizeof *pos), *row = malloc(n * sizeof *row);
    const int joint = null == CQB_WNULL_JOINT;
    for (uint32_t r = 0; r < nrep; ++r) {
        const unsigned char *rs = scr + (size_t)r * kp.scratch_bytes;
        const uint32_t *gi = (const uint32_t *)(rs + kp.s_idx);
        const double *xb = (const double *)(rs + kp.s_xb);
        for (size_t k = 0; k < (joint ? 1 : d); ++k) {
            cqb_sb_indices(seed, rep0 + r, cqb_sb_tag(CQB_FAMILY_WAVELET, (uint32_t)k, joint ? CQB_WTAG_JOINT : CQB_WTAG_BOOT),
                           wp.thr, n, idx, pos, row);
            for (size_t t = 0; t < n; ++t)
                cr_assert_eq(gi[k * n + t], idx[t], "%s n %zu gamma %g seed %llu threads %d rep %u series %zu t %zu",
                             cqb_wnull_name(null), n, gamma, (unsigned long long)seed, nthr, rep0 + r, k, t);
        }
        for (size_t k = 0; k < d; ++k) {
            cqb_sb_indices(seed, rep0 + r, cqb_sb_tag(CQB_FAMILY_WAVELET, joint ? 0 : (uint32_t)k, joint ? CQB_WTAG_JOINT : CQB_WTAG_BOOT),
                           wp.thr, n, idx, pos, row);
            for (size_t t = 0; t < n; ++t)
                cr_assert(same_value(xb[k * n + t], x[k * n + idx[t]]), "resampled value rep %u series %zu t %zu", r, k, t);
        }
    }
    free(idx);
    free(pos);
    free(row);
    free(out);
    free(scr);
    free(pack);
    cqb_wplan_free(&wp);
    free(x);
}

Test(emu, bootstrap_indices_exact)
{
    const size_t ns[] = {4, 5, 37, 128, 335};
    const double gs[] = {0.05, 0.3, 1.0, 1e-9};
    const int th[] = {1, 3, 32};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; ++a)
        for (size_t b = 0; b < sizeof gs / sizeof gs[0]; ++b)
            indices_check(CQB_WNULL_BOOTSTRAP, ns[a], 2, gs[b], 100 + a * 10 + b, th[(a + b) % 3]);
    indices_check(CQB_WNULL_JOINT, 335, 3, 0.07, 7, 32);
    indices_check(CQB_WNULL_JOINT, 17, 4, 0.5, 8, 5);
    indices_check(CQB_WNULL_BOOTSTRAP, 2000, 2, 0.01, 9, 64);
}

/* The cooperative FFT equals cqb_fft_run() bit for bit. */
typedef struct fft_job {
    const cqb_wkplan *kp;
    double *x, *a;
    int sign, tid, nthr;
    struct cqb_kemu *ctx;
} fft_job;

static void *fft_thread(void *arg)
{
    fft_job *j = arg;
    cqb_wk_fft(j->kp, j->x, j->sign, j->a, j->tid, j->nthr, j->ctx);
    return NULL;
}

Test(emu, fft_matches_host_fft)
{
    const size_t ns[] = {4, 8, 64, 100, 128, 150, 335, 336, 1000};
    for (size_t q = 0; q < sizeof ns / sizeof ns[0]; ++q) {
        const size_t n = ns[q];
        double *xs = make_data(n, 2, 0.2, 0.0, 500 + q);
        wcase c = *WC(CQB_WSTAT_WMC, CQB_WNULL_PHASE, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, n, 2, 1,
                      0.0, 1, 0.0);
        c.wf = CQB_WAVELET_HAAR;
        cqb_wtest_spec s = spec_of(&c, xs, 1);
        cqb_wplan wp;
        cqb_error err;
        cr_assert_eq(cqb_wplan_init(&s, &wp, NULL, NULL, &err), CQB_OK, "%s", err.msg);
        cqb_wkplan kp;
        const size_t psz = cqb_wkplan_pack(&wp, NULL, 0, &kp);
        unsigned char *buf = aligned_alloc(16, psz);
        cqb_wkplan_pack(&wp, buf, (uintptr_t)buf, &kp);
        cqb_fft *plan;
        cr_assert_eq(cqb_fft_create(n, &plan, &err), CQB_OK);
        double *x1 = malloc(2 * n * sizeof *x1), *x2 = malloc(2 * n * sizeof *x2);
        double *scr = malloc((cqb_fft_scratch(plan) + 1) * sizeof *scr), *a = malloc(2 * kp.fft_m * sizeof *a);
        for (size_t t = 0; t < 2 * n; ++t) x1[t] = xs[t];
        for (int sign = -1; sign <= 1; sign += 2) {
            memcpy(x2, x1, 2 * n * sizeof *x1);
            cqb_fft_run(plan, x1, sign, scr);
            const int nthr = (int)(1 + q * 3);
            struct cqb_kemu ctx;
            pthread_barrier_init(&ctx.bar, NULL, (unsigned)nthr);
            pthread_t th[64];
            fft_job jobs[64];
            for (int t = 0; t < nthr; ++t) {
                jobs[t] = (fft_job){&kp, x2, a, sign, t, nthr, &ctx};
                pthread_create(&th[t], NULL, fft_thread, &jobs[t]);
            }
            for (int t = 0; t < nthr; ++t) pthread_join(th[t], NULL);
            pthread_barrier_destroy(&ctx.bar);
            for (size_t t = 0; t < 2 * n; ++t)
                cr_assert(same_value(x1[t], x2[t]), "n %zu sign %d value %zu: %.17g vs %.17g", n, sign, t, x1[t], x2[t]);
        }
        free(x1);
        free(x2);
        free(scr);
        free(a);
        free(buf);
        cqb_fft_free(plan);
        cqb_wplan_free(&wp);
        free(xs);
    }
}

/* phase_surrogate() of host/wavelet/wnull.c, from its definition with the public
 * FFT: the CPU's surrogate of series k of replicate rep. */
static void cpu_phase_surrogate(const double *x, size_t n, uint64_t seed, uint32_t rep, size_t k, double *out)
{
    cqb_fft *plan;
    cqb_error err;
    cr_assert_eq(cqb_fft_create(n, &plan, &err), CQB_OK);
    double *c = malloc(2 * n * sizeof *c), *scr = malloc((cqb_fft_scratch(plan) + 1) * sizeof *scr);
    for (size_t t = 0; t < n; ++t) {
        c[2 * t] = x[t];
        c[2 * t + 1] = 0.0;
    }
    cqb_fft_run(plan, c, -1, scr);
    const uint64_t sub = (uint64_t)rep | ((uint64_t)cqb_sb_tag(CQB_FAMILY_WAVELET, (uint32_t)k, CQB_WTAG_PHASE) << 32);
    for (size_t f = 1; 2 * f < n; ++f) {
        uint32_t w = cqb_curand_word(seed, sub, 0, f);
        double th = 2.0 * M_PI * (((double)w + 0.5) / 4294967296.0);
        double cs = cos(th), sn = sin(th);
        double re = c[2 * f] * cs - c[2 * f + 1] * sn, im = c[2 * f] * sn + c[2 * f + 1] * cs;
        c[2 * f] = re;
        c[2 * f + 1] = im;
        c[2 * (n - f)] = re;
        c[2 * (n - f) + 1] = -im;
    }
    cqb_fft_run(plan, c, +1, scr);
    for (size_t t = 0; t < n; ++t) out[t] = c[2 * t] / (double)n;
    free(c);
    free(scr);
    cqb_fft_free(plan);
}

/* The rotation of host/wavelet/wnull.c, from its definition. */
static void cpu_rotation(const cqb_wplan *wp, uint32_t rep, double *coef)
{
    const cqb_wtest_spec *s = wp->spec;
    const size_t d = s->d, L1 = (size_t)s->J + 1, len = wp->len;
    memcpy(coef, wp->coef0, L1 * d * len * sizeof *coef);
    for (size_t v = 0; v < L1 * d; ++v) {
        const size_t level = v / d, k = v % d, a = wp->span[2 * v], e = wp->span[2 * v + 1];
        if (e - a < 2) continue;
        uint32_t wd[4];
        cqb_philox_block(s->seed, (uint64_t)rep | ((uint64_t)cqb_sb_tag(CQB_FAMILY_WAVELET, (uint32_t)k, CQB_WTAG_ROTATE) << 32),
                         level, wd);
        size_t off = (size_t)cqb_mulhi_index((uint64_t)wd[0] | ((uint64_t)wd[1] << 32), e - a);
        for (size_t q = a; q < e; ++q) coef[v * len + a + (q - a + off) % (e - a)] = wp->coef0[v * len + q];
    }
}

/* The resampled series and prepared coefficients of the emulator equal the
 * CPU's (cqb_sb_indices / phase surrogate / rotation, cqb_wlevels_prepare)
 * bit for bit, NaN positions included. */
static void coef_check(cqb_wstat stat, cqb_wnull null, cqb_wmc_mode mode, cqb_boundary bnd, size_t n, size_t d, int J,
                       cqb_wavelet wf, uint64_t seed)
{
    wcase c = *WC(stat, null, CQB_WINDOW_GAUSSIAN, mode, bnd, n, d, J, 6.0, seed, 0.1);
    c.wf = wf;
    char what[300];
    describe(&c, what, sizeof what);
    double *x = make_data(n, d, 0.4, 0.2, seed);
    const uint32_t nrep = 3, rep0 = 17;
    cqb_wtest_spec s = spec_of(&c, x, nrep);
    cqb_wplan wp;
    cqb_error err;
    cr_assert_eq(cqb_wplan_init(&s, &wp, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    double *out = malloc(nrep * wp.ncell * sizeof *out);
    unsigned char *scr, *pack;
    cqb_wkplan kp;
    emu_run(&wp, 11, rep0, nrep, out, &scr, &kp, &pack);
    const size_t L1 = (size_t)J + 1, len = wp.len;
    double *xb = malloc(d * n * sizeof *xb), *coef = malloc(L1 * d * len * sizeof *coef);
    uint32_t *idx = malloc(n * sizeof *idx), *pos = malloc(n * sizeof *pos), *row = malloc(n * sizeof *row);
    for (uint32_t r = 0; r < nrep; ++r) {
        const unsigned char *rs = scr + (size_t)r * kp.scratch_bytes;
        if (null == CQB_WNULL_ROTATION) {
            cpu_rotation(&wp, rep0 + r, coef);
        } else {
            for (size_t k = 0; k < d; ++k) {
                if (null == CQB_WNULL_PHASE) {
                    cpu_phase_surrogate(x + k * n, n, seed, rep0 + r, k, xb + k * n);
                } else {
                    cqb_sb_indices(seed, rep0 + r, cqb_sb_tag(CQB_FAMILY_WAVELET, (uint32_t)k, CQB_WTAG_BOOT), wp.thr, n,
                                   idx, pos, row);
                    for (size_t t = 0; t < n; ++t) xb[k * n + t] = x[k * n + idx[t]];
                }
            }
            const double *gx = (const double *)(rs + kp.s_xb);
            for (size_t i = 0; i < d * n; ++i)
                cr_assert(same_value(xb[i], gx[i]), "%s: rep %u raw value %zu: %.17g vs %.17g", what, r, i, xb[i], gx[i]);
            cr_assert_eq(cqb_wlevels_prepare(xb, n, n, d, wf, J, bnd, mode, stat == CQB_WSTAT_WLMC, coef, NULL, NULL,
                                             &err),
                         CQB_OK, "%s", err.msg);
        }
        const double *gc = (const double *)(rs + kp.s_coef);
        size_t nnan = 0;
        for (size_t i = 0; i < L1 * d * len; ++i) {
            nnan += isnan(coef[i]);
            cr_assert(same_value(coef[i], gc[i]), "%s: rep %u coefficient %zu (level %zu series %zu t %zu): %.17g vs %.17g",
                      what, r, i, i / (d * len), (i / len) % d, i % len, coef[i], gc[i]);
        }
        cr_assert(nnan > 0, "%s: brick.wall produced no NaN", what);
    }
    free(xb);
    free(coef);
    free(idx);
    free(pos);
    free(row);
    free(out);
    free(scr);
    free(pack);
    cqb_wplan_free(&wp);
    free(x);
}

Test(emu, coefficients_match_prepare)
{
    const cqb_wavelet wfs[4] = {CQB_WAVELET_LA8, CQB_WAVELET_HAAR, CQB_WAVELET_D6, CQB_WAVELET_D4};
    for (int m = 0; m < 2; ++m)
        for (int b = 0; b < 2; ++b)
            for (int st = 0; st < 2; ++st) {
                const cqb_wstat stat = st ? CQB_WSTAT_WLMC : CQB_WSTAT_WMC;
                coef_check(stat, CQB_WNULL_BOOTSTRAP, MODES[m], BNDS[b], 133, 3, 4, wfs[(m + 2 * b) % 4],
                           200 + (uint64_t)(m * 4 + b * 2 + st));
                coef_check(stat, CQB_WNULL_PHASE, MODES[m], BNDS[b], 100 + (size_t)(28 * st), 2, 3, wfs[(m + b) % 4],
                           300 + (uint64_t)(m * 4 + b * 2 + st));
                coef_check(stat, CQB_WNULL_ROTATION, MODES[m], BNDS[b], 97, 2, 3, wfs[(b + st) % 4],
                           400 + (uint64_t)(m * 4 + b * 2 + st));
            }
}

/* ------------------------------------------------ whole cqb_wtest runs -- */

static void same_results(const cqb_wtest_result *a, const cqb_wtest_result *b, const char *what)
{
    cr_assert_eq(a->ncell, b->ncell);
    cr_assert_eq(a->nfam, b->nfam);
    cr_assert(same_value(a->gamma, b->gamma));
    for (size_t c = 0; c < a->ncell; ++c) {
        cr_assert(same_value(a->phi[c], b->phi[c]), "%s phi %zu", what, c);
        cr_assert(same_value(a->p[c], b->p[c]), "%s p %zu: %g vs %g", what, c, a->p[c], b->p[c]);
        cr_assert(same_value(a->p_fw[c], b->p_fw[c]), "%s p_fw %zu: %g vs %g", what, c, a->p_fw[c], b->p_fw[c]);
        cr_assert_eq(a->valid[c], b->valid[c], "%s valid %zu", what, c);
        if (a->lo) {
            cr_assert(same_value(a->lo[c], b->lo[c]), "%s lo %zu", what, c);
            cr_assert(same_value(a->hi[c], b->hi[c]), "%s hi %zu", what, c);
        }
    }
    for (size_t f = 0; f < a->nfam; ++f) cr_assert(same_value(a->cv_fw[f], b->cv_fw[f]), "%s cv_fw %zu", what, f);
}

static void wtest_compare(const wcase *c, size_t B, int expect_device)
{
    double *x = make_data(c->n, c->d, 0.5, 0.6, c->seed + 5);
    cqb_wtest_spec s = spec_of(c, x, B);
    cqb_backend be;
    emu_backend(&be);
    cqb_wtest_result rc, rg;
    cqb_error err;
    char what[300];
    describe(c, what, sizeof what);
    cr_assert_eq(cqb_wtest(&s, &rc, &err), CQB_OK, "%s: %s", what, err.msg);
    cr_expect_str_eq(rc.backend, "cpu");
    s.backend = &be;
    cr_assert_eq(cqb_wtest(&s, &rg, &err), CQB_OK, "%s: %s", what, err.msg);
    if (expect_device) {
        cr_expect_str_eq(rg.backend, "emu", "%s", what);
        cr_expect_str_empty(rg.note, "%s: %s", what, rg.note);
    } else {
        cr_expect_str_eq(rg.backend, "cpu", "%s", what);
        cr_expect(strstr(rg.note, "emu: ") == rg.note && strstr(rg.note, "the CPU ran the replicates"), "%s: note '%s'",
                  what, rg.note);
    }
    same_results(&rc, &rg, what);
    cqb_wtest_result_free(&rc);
    cqb_wtest_result_free(&rg);
    free(x);
}

Test(emu, wtest_results_identical)
{
    wtest_compare(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC,
                     128, 3, 3, 8.0, 1, 0.1),
                  40, 1);
    wtest_compare(WC(CQB_WSTAT_WLMC, CQB_WNULL_ROTATION, CQB_WINDOW_UNIFORM, CQB_WMC_CORRECTED,
                     CQB_BOUNDARY_REFLECTION, 100, 2, 3, 6.0, 2, 0.0),
                  40, 1);
    wtest_compare(WC(CQB_WSTAT_WMC, CQB_WNULL_JOINT, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 200, 3,
                     4, 0.0, 3, 0.0),
                  60, 1);
    wtest_compare(WC(CQB_WSTAT_WMC, CQB_WNULL_PHASE, CQB_WINDOW_GAUSSIAN, CQB_WMC_CORRECTED, CQB_BOUNDARY_PERIODIC, 150,
                     2, 3, 0.0, 4, 0.0),
                  60, 1);
}

Test(emu, uncovered_plans_fall_back_to_cpu)
{
    /* the lagged statistics and the uniform fast path run on the CPU */
    wtest_compare(WC(CQB_WSTAT_WMCC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC,
                     128, 3, 3, 0.0, 5, 0.1),
                  20, 0);
    wtest_compare(WC(CQB_WSTAT_WLMCC, CQB_WNULL_ROTATION, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC,
                     64, 2, 2, 5.0, 6, 0.0),
                  10, 0);
    double *x = make_data(100, 2, 0.5, 0.5, 7);
    wcase c = *WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_UNIFORM, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 100, 2,
                  2, 6.0, 7, 0.1);
    cqb_wtest_spec s = spec_of(&c, x, 10);
    s.opts.fast = 1;
    cqb_wplan wp;
    cqb_error err;
    cr_assert_eq(cqb_wplan_init(&s, &wp, NULL, NULL, &err), CQB_OK);
    char why[128];
    cr_expect(!cqb_wk_supported(&wp, why, sizeof why));
    cr_expect(strstr(why, "fast") != NULL, "why: %s", why);
    cqb_backend be;
    emu_backend(&be);
    cr_expect_eq(be.wavelet_eval(&be, &wp, 0, 0, NULL, &err), CQB_EBACKEND);
    cqb_wplan_free(&wp);
    free(x);
}

Test(emu, rejected_resamples_are_nan_rows)
{
    /* series that are constant but for two values: i.i.d. resampling (gamma
     * 1) often misses both, and the CPU's statistic rejects the replicate */
    const size_t n = 64, d = 2;
    double *x = make_data(n, d, 0.3, 0.0, 9);
    for (size_t t = 0; t < n; ++t) x[t] = (t == 10) ? 1.0 : (t == 40 ? -2.0 : 0.5);
    wcase c = *WC(CQB_WSTAT_WMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, n, d,
                  2, 0.0, 10, 1.0);
    const uint32_t nrep = 40;
    cqb_wtest_spec s = spec_of(&c, x, nrep);
    cqb_wplan wp;
    cqb_error err;
    cr_assert_eq(cqb_wplan_init(&s, &wp, NULL, NULL, &err), CQB_OK, "%s", err.msg);
    double *ref = malloc(nrep * wp.ncell * sizeof *ref), *got = malloc(nrep * wp.ncell * sizeof *got);
    cr_assert_eq(cqb_wplan_eval_cpu(&wp, 0, nrep, ref, 2, &err), CQB_OK);
    emu_run(&wp, 6, 0, nrep, got, NULL, NULL, NULL);
    cmp_stats cs;
    compare_values(ref, got, nrep, wp.ncell, "rejected resamples", &cs);
    cr_expect_eq(cs.bitdiff, 0);
    cr_expect(cs.nan_both >= wp.ncell, "expected rejected replicates (NaN rows), got %zu NaN values", cs.nan_both);
    cr_expect(cs.nan_both < cs.n);
    free(ref);
    free(got);
    cqb_wplan_free(&wp);
    free(x);
}

Test(emu, scratch_layout)
{
    double *x = make_data(335, 4, 0.5, 0.5, 11);
    wcase c = *WC(CQB_WSTAT_WLMC, CQB_WNULL_PHASE, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_REFLECTION, 335, 4,
                  4, 24.0, 11, 0.0);
    cqb_wtest_spec s = spec_of(&c, x, 1);
    cqb_wplan wp;
    cqb_error err;
    cr_assert_eq(cqb_wplan_init(&s, &wp, NULL, NULL, &err), CQB_OK);
    cqb_wkplan kp;
    cqb_wkplan_pack(&wp, NULL, 0, &kp);
    const size_t offs[] = {kp.s_idx, kp.s_xb, kp.s_va, kp.s_vb, kp.s_coef, kp.s_mask, kp.s_flag, kp.s_mom, kp.s_fa,
                           kp.s_fb, kp.scratch_bytes, kp.packed_bytes};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; ++i) cr_assert_eq(offs[i] % 16, 0, "offset %zu", i);
    for (size_t i = 1; i < 11; ++i) cr_assert(offs[i] >= offs[i - 1]);
    cr_expect_eq(kp.tlen, 670);
    cr_expect_eq(kp.len, 670);
    cr_expect_eq(kp.fft_m, 1024);
    cr_expect_eq(kp.Kv, 107); /* ceil(6.3 * 24 / sqrt 2) */
    cqb_wkstep st[CQB_WK_MAXSTEPS];
    const int ns = cqb_wk_steps(&kp, st);
    cr_expect_eq(ns, 4 + 4 + 1); /* clear, phase, series, 4 levels, mask, wlmc */
    cqb_wplan_free(&wp);
    free(x);
}

/* ------------------------------------------------------------ selection -- */

static int gpu_usable(char *why, size_t n)
{
    cqb_backend be;
    cqb_error err;
    if (cqb_backend_open(CQB_BACKEND_CUDA, 0, &be, NULL, 0, &err) == CQB_OK) {
        cqb_backend_close(&be);
        return 1;
    }
    snprintf(why, n, "%s", err.msg);
    return 0;
}

/* Runs the CLI with args; returns its exit status, stderr in errbuf. */
static int run_cli(const char *const *args, char *errbuf, size_t errcap)
{
    /* stdout and stderr to private temporary files: the suite touches no
     * file outside its temporary folders (not even /dev/null) */
    char path[] = "/tmp/cqb_wcuda_test_XXXXXX", opath[] = "/tmp/cqb_wcuda_test_out_XXXXXX";
    const int fd = mkstemp(path), ofd = mkstemp(opath);
    cr_assert(fd >= 0 && ofd >= 0, "mkstemp: %s", strerror(errno));
    unlink(opath);
    const pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(ofd, 1);
        dup2(fd, 2);
        execv(CQB_CLI, (char *const *)args);
        _exit(127);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    const ssize_t n = pread(fd, errbuf, errcap - 1, 0);
    errbuf[n > 0 ? n : 0] = 0;
    close(fd);
    close(ofd);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

#define WCLI_ARGS(backend)                                                                                           \
    {                                                                                                                \
        CQB_CLI, "wlmc", "--data", CQB_DATA_DIR "/us_china_monthly.csv", "--cols", "IPB52300S,GPRC_CHN,EPU_US",     \
            "--transform", "IPB52300S=logdiff", "--transform", "GPRC_CHN=logdiff", "--from", "1996-01", "--to",      \
            "2023-12", "--M", "24", "--levels", "3", "--boot", "20", "--gamma", "0.1", "--json", "-",               \
            "--backend", backend, NULL                                                                               \
    }

Test(select, cli_backend_exit_codes, .timeout = 120)
{
    char why[CQB_ERROR_MAX];
    if (gpu_usable(why, sizeof why)) cr_skip_test("a CUDA device is usable here: nothing falls back");
    char errbuf[4096];
    const char *cuda[] = WCLI_ARGS("cuda");
    cr_expect_eq(run_cli(cuda, errbuf, sizeof errbuf), 4, "stderr: %s", errbuf);
    cr_expect(strstr(errbuf, "--backend cuda") != NULL, "stderr: %s", errbuf);
    const char *autob[] = WCLI_ARGS("auto");
    cr_expect_eq(run_cli(autob, errbuf, sizeof errbuf), 0, "stderr: %s", errbuf);
    if (cqb_backend_cuda_built())
        cr_expect(strstr(errbuf, "no usable CUDA device") != NULL, "stderr: %s", errbuf);
    const char *cpu[] = WCLI_ARGS("cpu");
    cr_expect_eq(run_cli(cpu, errbuf, sizeof errbuf), 0, "stderr: %s", errbuf);
    cr_expect_str_empty(errbuf);
    const char *bad[] = WCLI_ARGS("gpu");
    cr_expect_eq(run_cli(bad, errbuf, sizeof errbuf), 2, "stderr: %s", errbuf);
}

Test(select, cpu_backend_has_no_wavelet_entry)
{
    cqb_backend be;
    cqb_error err;
    cr_assert_eq(cqb_backend_open(CQB_BACKEND_CPU, 1, &be, NULL, 0, &err), CQB_OK);
    cr_expect_null(be.wavelet_eval);
    cqb_backend_close(&be);
}

/* ------------------------------------------------------------------ GPU -- */

static cqb_backend g_cuda;

static void gpu_open(void)
{
    cqb_error err;
    if (!cqb_backend_cuda_built())
        cr_skip_test("this cqboot was built without the CUDA backend (CQB_CUDA=OFF or no nvcc)");
    if (cqb_backend_open(CQB_BACKEND_CUDA, 0, &g_cuda, NULL, 0, &err) != CQB_OK)
        cr_skip_test("no GPU test: %s", err.msg);
    if (!g_cuda.wavelet_eval) {
        cqb_backend_close(&g_cuda);
        cr_skip_test("the CUDA backend opened without its wavelet entry");
    }
}

static void gpu_close(void)
{
    cqb_backend_close(&g_cuda);
    unsetenv("CQB_CUDA_CHUNK");
    unsetenv("CQB_CUDA_MEM_LIMIT");
}

/* The device's values against the CPU's: within 1e-12; bit-identical except
 * for the phase scheme (device cos/sin). */
static void gpu_check(const wcase *c, uint32_t rep0, uint32_t nrep)
{
    double *x = make_data(c->n, c->d, 0.5, 0.4, c->seed + 77);
    cqb_wtest_spec s = spec_of(c, x, nrep);
    cqb_wplan wp;
    cqb_error err;
    char what[300];
    describe(c, what, sizeof what);
    cr_assert_eq(cqb_wplan_init(&s, &wp, NULL, NULL, &err), CQB_OK, "%s: %s", what, err.msg);
    double *ref = malloc((size_t)nrep * wp.ncell * sizeof *ref), *got = malloc((size_t)nrep * wp.ncell * sizeof *got);
    cr_assert(ref && got);
    for (size_t i = 0; i < (size_t)nrep * wp.ncell; ++i) got[i] = -12345.0;
    cr_assert_eq(cqb_wplan_eval_cpu(&wp, rep0, nrep, ref, 0, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(g_cuda.wavelet_eval(&g_cuda, &wp, 0, 0, NULL, &err), CQB_OK, "%s: %s", what, err.msg);
    cr_assert_eq(g_cuda.wavelet_eval(&g_cuda, &wp, rep0, nrep, got, &err), CQB_OK, "%s: %s", what, err.msg);
    cmp_stats cs;
    compare_values(ref, got, nrep, wp.ncell, what, &cs);
    if (c->null != CQB_WNULL_PHASE)
        cr_expect_eq(cs.bitdiff, 0, "%s: %zu of %zu values not bit-identical (max |diff| %g)", what, cs.bitdiff, cs.n,
                     cs.maxabs);
    cr_log_info("%s: %zu values, %zu NaN, %zu not bit-identical, max |diff| %g", what, cs.n, cs.nan_both, cs.bitdiff,
                cs.maxabs);
    free(ref);
    free(got);
    cqb_wplan_free(&wp);
    free(x);
}

static void gpu_matrix(void)
{
    for (int m = 0; m < 2; ++m)
        for (int b = 0; b < 2; ++b)
            for (uint64_t seed = 1; seed <= 3; ++seed) {
                const uint64_t sd = seed + 10 * (uint64_t)(2 * m + b);
                gpu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, MODES[m], BNDS[b], 336, 4, 4,
                             24.0, sd, 0.1),
                          0, 200);
                gpu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_ROTATION, CQB_WINDOW_UNIFORM, MODES[m], BNDS[b], 300, 3, 4, 12.0,
                             sd, 0.0),
                          0, 200);
                gpu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_PHASE, CQB_WINDOW_EPANECHNIKOV, MODES[m], BNDS[b], 335, 2, 3,
                             10.0, sd, 0.0),
                          0, 100);
                gpu_check(WC(CQB_WSTAT_WMC, CQB_WNULL_JOINT, CQB_WINDOW_GAUSSIAN, MODES[m], BNDS[b], 336, 4, 5, 0.0,
                             sd, 0.0),
                          0, 2000);
                gpu_check(WC(CQB_WSTAT_WMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, MODES[m], BNDS[b], 1000, 9, 6,
                             0.0, sd, 0.05),
                          0, 500);
            }
    gpu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 4096,
                 8, 8, 64.0, 99, 0.02),
              0, 3);
    gpu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 200, 3,
                 3, 8.0, 98, 0.1),
              4294967000u, 200);
}

Test(gpu, values_match_cpu, .init = gpu_open, .fini = gpu_close, .timeout = 600) { gpu_matrix(); }

Test(gpu, small_chunks_and_memory, .init = gpu_open, .fini = gpu_close, .timeout = 600)
{
    setenv("CQB_CUDA_CHUNK", "7", 1);
    gpu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 336,
                 4, 4, 24.0, 5, 0.1),
              3, 50);
    setenv("CQB_CUDA_MEM_LIMIT", "8", 1);
    gpu_check(WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_CORRECTED, CQB_BOUNDARY_REFLECTION,
                 336, 4, 4, 24.0, 6, 0.1),
              0, 60);
}

Test(gpu, wtest_results, .init = gpu_open, .fini = gpu_close, .timeout = 600)
{
    double *x = make_data(336, 4, 0.5, 0.6, 1);
    wcase c = *WC(CQB_WSTAT_WLMC, CQB_WNULL_BOOTSTRAP, CQB_WINDOW_GAUSSIAN, CQB_WMC_COMPAT, CQB_BOUNDARY_PERIODIC, 336, 4,
                  4, 24.0, 1, 0.0);
    cqb_wtest_spec s = spec_of(&c, x, 2000);
    cqb_wtest_result rc, rg;
    cqb_error err;
    cr_assert_eq(cqb_wtest(&s, &rc, &err), CQB_OK, "%s", err.msg);
    s.backend = &g_cuda;
    cr_assert_eq(cqb_wtest(&s, &rg, &err), CQB_OK, "%s", err.msg);
    cr_expect_str_eq(rg.backend, "cuda");
    same_results(&rc, &rg, "wlmc bootstrap B = 2000");
    cqb_wtest_result_free(&rc);
    cqb_wtest_result_free(&rg);
    free(x);
}
