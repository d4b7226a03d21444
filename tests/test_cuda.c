/* test_cuda.c — the CUDA backend.
 *
 * Without a GPU (and in a build without CUDA) three things are tested here:
 *   emu     the bootstrap kernel itself: device/sbkern.h is compiled as C
 *           and run by an emulated thread block (nthr POSIX threads with a
 *           barrier for __syncthreads, atomics for atomicAdd) on the same
 *           packed plan and scratch layout the GPU gets; its per-replicate
 *           statistics must equal cqb_plan_run_cpu() bit for bit;
 *   qdev    the host path of the device quantile-index copies;
 *   select  backend selection: `auto` falls back to the CPU (with a notice
 *           when CUDA was built), `cuda` fails with CQB_EBACKEND = exit 4,
 *           in the library and in the CLI.
 *   red     the device reduction (backend.h `reduce`): device/redkern.h's
 *           derive/range/count/collect bodies, compiled as C and driven
 *           chunk by chunk as device/backend_cuda.cu drives them (threads
 *           emulated as loops: they interact only through atomics), must
 *           give cqb_cq_boot() results identical to the host reduction.
 * With a usable GPU, the gpu tests compare the CUDA backend with the CPU
 * backend: the device self-test, per-replicate statistics (==, NaN = NaN)
 * for several seeds, the three quantile conventions, grids, lags, PCQ with 1
 * and 2 controls, chunks that do not divide B, global-memory scratch, and
 * whole cqb_cq_boot() results. Without one they are skipped with the reason.
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
#include "cqboot/cq_boot.h"
#include "cqboot/philox.h"
#include "cqboot/quantile.h"
#include "cqboot/sbplan.h"
#include "testdata.h"

/* the kernel, compiled for the host emulator */
struct cqb_kemu {
    pthread_barrier_t bar;
};
#include "../device/sbkern.h"
#include "../device/redkern.h"

#ifdef CQB_HAVE_CUDA
#include "../device/backend_cuda.h"
#endif

void cqb_kemu_sync(cqb_kctx *ctx)
{
    pthread_barrier_wait(&ctx->bar);
}

/* ------------------------------------------------------------------ data -- */

/* AR(1)-like series from the generator; step > 0 rounds to a grid (ties). */
static void make_series(double *v, size_t n, uint64_t seed, double step)
{
    for (size_t i = 0; i < n; ++i) {
        uint32_t w = cqb_curand_word(seed, 99, 0, i);
        double u = (double)w / 4294967296.0 - 0.5;
        double x = (i ? 0.4 * v[i - 1] : 0.0) + u;
        v[i] = step > 0 ? step * round(x / step) : x;
    }
}

#define MAXT 4000
static double g_y[MAXT], g_x[MAXT], g_z1[MAXT], g_z2[MAXT];

static const double LEV9[9] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
static const double LEV3[3] = {0.05, 0.5, 0.9};
static const double LEV4[4] = {0.1, 0.25, 0.5, 0.95};
static const double LEV1[1] = {0.3};
static const double AZ1 = 0.8, AZ2 = 0.4;

/* A plan as cq_boot builds them: `lags` units y(t) ~ x(t-k) (k = 1..lags,
 * one column per lag, y shared), each with nz controls at lag k. */
typedef struct plan_case {
    cqb_qconv conv;
    double step;     /* tie grid, 0 = continuous */
    size_t T;
    int lags;        /* units (1 = a band plan, > 1 = a Q-test plan) */
    int nz;          /* controls: 0, 1, 2 */
    int grid;        /* 1: 1 x 1 level, 3: 3 x 4 levels, 9: 9 x 9 levels */
    uint64_t seed;
    double gamma;
} plan_case;

static void build_case(const plan_case *pc, cqb_plan *plan)
{
    cr_assert(pc->T <= MAXT);
    make_series(g_y, pc->T, pc->seed + 1, pc->step);
    make_series(g_x, pc->T, pc->seed + 2, pc->step);
    make_series(g_z1, pc->T, pc->seed + 3, pc->step);
    make_series(g_z2, pc->T, pc->seed + 4, pc->step);
    const double *ly = pc->grid == 9 ? LEV9 : pc->grid == 3 ? LEV3 : LEV1;
    const double *lx = pc->grid == 9 ? LEV9 : pc->grid == 3 ? LEV4 : LEV1;
    const int ny = pc->grid == 9 ? 9 : pc->grid == 3 ? 3 : 1, nx = pc->grid == 9 ? 9 : pc->grid == 3 ? 4 : 1;
    cqb_plan_colspec cols[64];
    cqb_plan_unit units[16];
    int ncol = 0;
    cols[ncol++] = (cqb_plan_colspec){g_y, 0, 0, ny, ly};
    cr_assert(pc->lags <= 16);
    for (int k = 1; k <= pc->lags; ++k) {
        cqb_plan_unit *u = &units[k - 1];
        memset(u, 0, sizeof *u);
        u->col_y = 0;
        u->col_x = ncol;
        cols[ncol++] = (cqb_plan_colspec){g_x, 1, (size_t)k, nx, lx};
        if (pc->nz >= 1) {
            u->col_z[u->nz++] = ncol;
            cols[ncol++] = (cqb_plan_colspec){g_z1, 2, (size_t)k, 1, &AZ1};
        }
        if (pc->nz >= 2) {
            u->col_z[u->nz++] = ncol;
            cols[ncol++] = (cqb_plan_colspec){g_z2, 3, (size_t)k, 1, &AZ2};
        }
    }
    cqb_error err;
    cqb_status st = cqb_plan_build(plan, pc->T, cols, ncol, units, pc->lags, ny, nx, pc->conv, pc->seed,
                                   cqb_sb_tag(pc->lags > 1 ? CQB_FAMILY_QTEST : CQB_FAMILY_BAND, 1, 0), pc->gamma,
                                   &err);
    cr_assert_eq(st, CQB_OK, "%s", err.msg);
}

static int same_value(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void expect_same(const double *ref, const double *got, size_t nrep, size_t nstat, const char *what)
{
    for (size_t r = 0; r < nrep; ++r)
        for (size_t j = 0; j < nstat; ++j) {
            const double a = ref[r * nstat + j], b = got[r * nstat + j];
            cr_assert(same_value(a, b), "%s: replicate %zu statistic %zu: cpu %.17g vs %.17g", what, r, j, a, b);
        }
}

/* ------------------------------------------------------------- emulator -- */

typedef struct emu_job {
    const cqb_kplan *kp;
    unsigned char *scr;
    uint32_t rep0;
    size_t nrep;
    double *out;
    int tid, nthr;
    cqb_kctx *ctx;
} emu_job;

static void *emu_thread(void *arg)
{
    const emu_job *j = arg;
    for (size_t i = 0; i < j->nrep; ++i)
        cqb_k_replicate(j->kp, j->scr, j->rep0 + (uint32_t)i, j->out + i * j->kp->nstat, j->tid, j->nthr, j->ctx);
    return NULL;
}

/* Runs replicates rep0.. of plan through the kernel on an emulated block of
 * nthr threads; out gets nrep x nstat values. */
static void emu_run(const cqb_plan *plan, int nthr, uint32_t rep0, size_t nrep, double *out)
{
    cqb_kplan kp;
    const size_t psz = cqb_kplan_pack(plan, nthr, NULL, 0, &kp);
    unsigned char *buf = aligned_alloc(16, psz);
    cr_assert_not_null(buf);
    /* poison: the kernel must not rely on zeroed memory */
    memset(buf, 0xA5, psz);
    cr_assert_eq(cqb_kplan_pack(plan, nthr, buf, (uintptr_t)buf, &kp), psz);
    unsigned char *scr = aligned_alloc(16, kp.scratch_bytes);
    cr_assert_not_null(scr);
    memset(scr, 0xA5, kp.scratch_bytes);
    for (size_t i = 0; i < nrep * plan->nstat; ++i) out[i] = -12345.0;
    struct cqb_kemu ctx;
    cr_assert_eq(pthread_barrier_init(&ctx.bar, NULL, (unsigned)nthr), 0);
    pthread_t *th = malloc((size_t)nthr * sizeof *th);
    emu_job *jobs = malloc((size_t)nthr * sizeof *jobs);
    cr_assert(th && jobs);
    for (int t = 0; t < nthr; ++t) {
        jobs[t] = (emu_job){&kp, scr, rep0, nrep, out, t, nthr, &ctx};
        cr_assert_eq(pthread_create(&th[t], NULL, emu_thread, &jobs[t]), 0);
    }
    for (int t = 0; t < nthr; ++t) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&ctx.bar);
    free(th);
    free(jobs);
    free(scr);
    free(buf);
}

static void emu_check(const plan_case *pc, int nthr, uint32_t rep0, size_t nrep)
{
    cqb_plan plan;
    build_case(pc, &plan);
    cqb_error err;
    double *ref = malloc(nrep * plan.nstat * sizeof *ref), *got = malloc(nrep * plan.nstat * sizeof *got);
    cr_assert(ref && got);
    cr_assert_eq(cqb_plan_run_cpu(&plan, rep0, nrep, ref, 2, &err), CQB_OK, "%s", err.msg);
    emu_run(&plan, nthr, rep0, nrep, got);
    char what[160];
    snprintf(what, sizeof what, "conv %d step %g T %zu lags %d nz %d grid %d gamma %g, %d threads", (int)pc->conv,
             pc->step, pc->T, pc->lags, pc->nz, pc->grid, pc->gamma, nthr);
    expect_same(ref, got, nrep, plan.nstat, what);
    free(ref);
    free(got);
    cqb_plan_free(&plan);
}

Test(emu, r7_continuous_grid3) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 400, 1, 0, 3, 12345, 0.1}, 32, 0, 24); }
Test(emu, r7_ties_grid9) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.05, 335, 1, 0, 9, 7, 0.06}, 32, 0, 24); }
Test(emu, r7_heavy_ties_odd_threads) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.25, 300, 1, 0, 3, 99, 1.0}, 3, 0, 24); }
Test(emu, type1_ties) { emu_check(&(plan_case){CQB_Q_TYPE1_LT, 0.05, 333, 1, 0, 3, 5, 0.1}, 32, 0, 24); }
Test(emu, higher_ties) { emu_check(&(plan_case){CQB_Q_HIGHER_LT_SUB, 0.1, 333, 1, 0, 3, 6, 0.05}, 13, 0, 24); }
Test(emu, one_thread) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.02, 250, 1, 0, 9, 8, 0.1}, 1, 0, 12); }
Test(emu, qtest_plan_lags) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 335, 6, 0, 3, 9, 0.08}, 32, 0, 12); }
Test(emu, qtest_plan_type1) { emu_check(&(plan_case){CQB_Q_TYPE1_LT, 0.1, 300, 4, 0, 9, 10, 0.1}, 17, 0, 8); }
Test(emu, pcq_one_control) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 500, 1, 1, 3, 11, 0.1}, 32, 0, 24); }
Test(emu, pcq_one_control_ties) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.1, 250, 1, 1, 3, 12, 0.3}, 7, 0, 24); }
Test(emu, pcq_two_controls) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 400, 1, 2, 3, 13, 0.1}, 32, 0, 24); }
Test(emu, pcq_two_controls_qtest_higher) { emu_check(&(plan_case){CQB_Q_HIGHER_LT_SUB, 0.05, 300, 3, 2, 3, 14, 0.1}, 32, 0, 8); }
Test(emu, single_level) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 200, 1, 0, 1, 15, 0.2}, 32, 0, 24); }
Test(emu, tiny_n_many_threads) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 14, 1, 0, 1, 16, 0.3}, 64, 0, 24); }
Test(emu, one_long_block) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 300, 1, 0, 3, 17, 1e-9}, 32, 0, 12); }
Test(emu, high_replicate_ids) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 300, 1, 0, 3, 18, 0.1}, 32, 4294967000u, 24); }
Test(emu, long_series) { emu_check(&(plan_case){CQB_Q_R7_LE, 0.01, 3000, 1, 0, 9, 19, 0.02}, 32, 0, 6); }
Test(emu, launch_block_size, .timeout = 600)
{
    /* the block size the CUDA backend launches (256 threads) */
    emu_check(&(plan_case){CQB_Q_R7_LE, 0.05, 335, 2, 1, 3, 20, 0.07}, 256, 0, 3);
}

Test(emu, scratch_layout)
{
    cqb_plan plan;
    build_case(&(plan_case){CQB_Q_R7_LE, 0.0, 335, 12, 2, 9, 21, 0.1}, &plan);
    cqb_kplan kp;
    cqb_kplan_pack(&plan, 256, NULL, 0, &kp);
    const size_t offs[] = {kp.s_c, kp.s_pcum, kp.s_rc, kp.s_raw, kp.s_th, kp.s_marg, kp.s_hist, kp.s_scan,
                           kp.scratch_bytes, kp.packed_bytes};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; ++i) cr_assert_eq(offs[i] % 16, 0, "offset %zu", i);
    for (size_t i = 1; i < 9; ++i) cr_assert(offs[i] > offs[i - 1]);
    /* pairs: y with each x_k and z's, z's with x_k and each other */
    uint32_t hw = 0;
    for (int p = 0; p < plan.npair; ++p)
        hw += (uint32_t)(plan.col[plan.pair_a[p]].nlev + 1) * (uint32_t)(plan.col[plan.pair_b[p]].nlev + 1);
    cr_assert_eq(kp.hist_words, hw);
    cr_assert_eq(kp.nstat, plan.nstat);
    cqb_plan_free(&plan);
}

/* ---------------------------------------------- device quantile copies -- */

Test(qdev, host_path_matches_library)
{
    static const double ps[] = {0.01, 0.05, 0.1, 0.25, 0.29, 0.3, 0.5, 0.7, 0.75, 0.9, 0.95, 0.99, 1.0 / 3.0};
    for (size_t n = 1; n <= 2100; n += (n < 120 ? 1 : 37)) {
        for (size_t k = 0; k < sizeof ps / sizeof ps[0]; ++k) {
            size_t lo1, lo2;
            double h1, h2;
            cqb_r7_index(n, ps[k], &lo1, &h1);
            cqb_dev_r7_index(n, ps[k], &lo2, &h2);
            cr_assert(lo1 == lo2 && memcmp(&h1, &h2, sizeof h1) == 0, "r7 n %zu p %g", n, ps[k]);
            const double xl = -0.3 + 1e-3 * (double)n, xh = xl + 0.0123;
            const double q1 = cqb_r7_interp(xl, xh, h1), q2 = cqb_dev_r7_interp(xl, xh, h1);
            cr_assert(memcmp(&q1, &q2, sizeof q1) == 0, "interp n %zu p %g", n, ps[k]);
            for (int c = 0; c < 3; ++c)
                cr_assert_eq(cqb_order_rank((cqb_qconv)c, n, ps[k]), cqb_dev_order_rank(c, n, ps[k]),
                             "rank conv %d n %zu p %g", c, n, ps[k]);
        }
    }
    size_t lo;
    double h;
    cqb_dev_r7_index(101, 0.29, &lo, &h);
    cr_assert_eq(lo, 29); /* R's double arithmetic, not exact arithmetic */
}

/* ------------------------------------------------------------ selection -- */

/* 1 when a CUDA device is usable here (then the fallback tests do not
 * apply); fills why otherwise. */
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

Test(select, auto_falls_back_to_cpu)
{
    char why[CQB_ERROR_MAX];
    const int gpu = gpu_usable(why, sizeof why);
    cqb_backend be;
    cqb_error err;
    char notice[256];
    cr_assert_eq(cqb_backend_open(CQB_BACKEND_AUTO, 1, &be, notice, sizeof notice, &err), CQB_OK, "%s", err.msg);
    if (gpu) {
        cr_expect_eq(be.kind, CQB_BACKEND_CUDA);
        cr_expect_str_eq(be.name, "cuda");
        cr_expect_str_empty(notice);
    } else {
        cr_expect_eq(be.kind, CQB_BACKEND_CPU);
        cr_expect_str_eq(be.name, "cpu");
        cr_expect_not_null(be.run);
        if (cqb_backend_cuda_built()) {
            /* one line that says why */
            cr_expect(strstr(notice, "no usable CUDA device") != NULL, "notice: '%s'", notice);
            cr_expect(strstr(notice, "using the CPU") != NULL, "notice: '%s'", notice);
            cr_expect(strchr(notice, '\n') == NULL);
        } else {
            cr_expect_str_empty(notice);
        }
    }
    cqb_backend_close(&be);
}

Test(select, cuda_unavailable_is_ebackend)
{
    char why[CQB_ERROR_MAX];
    if (gpu_usable(why, sizeof why)) cr_skip_test("a CUDA device is usable here: nothing falls back");
    cqb_backend be;
    cqb_error err;
    cr_assert_eq(cqb_backend_open(CQB_BACKEND_CUDA, 0, &be, NULL, 0, &err), CQB_EBACKEND);
    cr_expect(strncmp(err.msg, "--backend cuda: ", 16) == 0, "message: '%s'", err.msg);
    cr_expect(strlen(err.msg) > 30, "message too short: '%s'", err.msg);
    cr_expect_eq(cqb_status_exit_code(CQB_EBACKEND), 4);
}

/* Runs the CLI with args; returns its exit status, stderr in errbuf. */
static int run_cli(const char *const *args, char *errbuf, size_t errcap)
{
    /* stdout and stderr to private temporary files: the suite touches no
     * file outside its temporary folders (not even /dev/null) */
    char path[] = "/tmp/cqb_cuda_test_XXXXXX", opath[] = "/tmp/cqb_cuda_test_out_XXXXXX";
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

#define CLI_ARGS(backend)                                                                                         \
    {                                                                                                             \
        CQB_CLI, "cq", "--data", CQB_DATA_DIR "/us_china_monthly.csv", "--y", "GPRC_CHN", "--x", "IPB52300S",     \
            "--transform", "GPRC_CHN=logdiff", "--transform", "IPB52300S=logdiff", "--lags", "3", "--alpha",      \
            "0.1,0.5", "--boot", "200", "--progress", "none", "--backend", backend, NULL                          \
    }

Test(select, cli_exit_codes, .timeout = 120)
{
    char why[CQB_ERROR_MAX];
    if (gpu_usable(why, sizeof why)) cr_skip_test("a CUDA device is usable here: nothing falls back");
    char errbuf[4096];
    const char *cuda[] = CLI_ARGS("cuda");
    cr_expect_eq(run_cli(cuda, errbuf, sizeof errbuf), 4, "stderr: %s", errbuf);
    cr_expect(strstr(errbuf, "--backend cuda") != NULL, "stderr: %s", errbuf);
    /* a small job under auto never probes for a device: no notice */
    const char *autob[] = CLI_ARGS("auto");
    cr_expect_eq(run_cli(autob, errbuf, sizeof errbuf), 0, "stderr: %s", errbuf);
    cr_expect(strstr(errbuf, "CUDA") == NULL, "stderr: %s", errbuf);
}

/* Auto probes for a device only for jobs of CQB_GPU_MIN_WORK or more; a big
 * one without a usable device falls back to the CPU with the notice. */
Test(select, auto_probes_only_big_jobs)
{
    char why[CQB_ERROR_MAX];
    if (gpu_usable(why, sizeof why)) cr_skip_test("a CUDA device is usable here: nothing falls back");
    cqb_backend b;
    cqb_error err;
    char notice[256];
    cr_assert_eq(cqb_backend_open_sized(CQB_BACKEND_AUTO, 1, 1e6, &b, notice, sizeof notice, &err), CQB_OK);
    cr_expect_eq(b.kind, CQB_BACKEND_CPU);
    cr_expect_str_empty(notice);
    cqb_backend_close(&b);
    cr_assert_eq(cqb_backend_open_sized(CQB_BACKEND_AUTO, 1, 1e12, &b, notice, sizeof notice, &err), CQB_OK);
    cr_expect_eq(b.kind, CQB_BACKEND_CPU);
    if (cqb_backend_cuda_built()) cr_expect(strstr(notice, "no usable CUDA device") != NULL, "notice: %s", notice);
    cqb_backend_close(&b);
}

/* ------------------------------------------------------------------ GPU -- */

static cqb_backend g_cuda;
static cqb_backend g_cpu;

/* Opens both backends or skips the test with the reason. */
static void gpu_open(void)
{
    cqb_error err;
    if (!cqb_backend_cuda_built())
        cr_skip_test("this cqboot was built without the CUDA backend (CQB_CUDA=OFF or no nvcc)");
    if (cqb_backend_open(CQB_BACKEND_CUDA, 0, &g_cuda, NULL, 0, &err) != CQB_OK)
        cr_skip_test("no GPU test: %s", err.msg);
    cr_assert_eq(cqb_backend_open(CQB_BACKEND_CPU, 0, &g_cpu, NULL, 0, &err), CQB_OK);
}

static void gpu_close(void)
{
    cqb_backend_close(&g_cuda);
    cqb_backend_close(&g_cpu);
    unsetenv("CQB_CUDA_CHUNK");
    unsetenv("CQB_CUDA_FORCE_GLOBAL");
    unsetenv("CQB_CUDA_MEM_LIMIT");
}

static void gpu_check(const plan_case *pc, uint32_t rep0, size_t nrep)
{
    cqb_plan plan;
    build_case(pc, &plan);
    cqb_error err;
    double *ref = malloc(nrep * plan.nstat * sizeof *ref), *got = malloc(nrep * plan.nstat * sizeof *got);
    cr_assert(ref && got);
    for (size_t i = 0; i < nrep * plan.nstat; ++i) got[i] = -12345.0;
    cr_assert_eq(g_cpu.run(&g_cpu, &plan, rep0, nrep, ref, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(g_cuda.run(&g_cuda, &plan, rep0, nrep, got, &err), CQB_OK, "%s", err.msg);
    char what[200];
    snprintf(what, sizeof what, "GPU conv %d step %g T %zu lags %d nz %d grid %d seed %llu gamma %g", (int)pc->conv,
             pc->step, pc->T, pc->lags, pc->nz, pc->grid, (unsigned long long)pc->seed, pc->gamma);
    expect_same(ref, got, nrep, plan.nstat, what);
    free(ref);
    free(got);
    cqb_plan_free(&plan);
}

/* the same matrix of plans, in shared and in global scratch */
static void gpu_matrix(void)
{
    static const cqb_qconv convs[3] = {CQB_Q_R7_LE, CQB_Q_TYPE1_LT, CQB_Q_HIGHER_LT_SUB};
    for (int c = 0; c < 3; ++c) {
        for (uint64_t seed = 1; seed <= 3; ++seed) {
            gpu_check(&(plan_case){convs[c], 0.0, 335, 1, 0, 9, seed, 0.1}, 0, 1000);
            gpu_check(&(plan_case){convs[c], 0.05, 335, 1, 0, 9, seed + 10, 0.06}, 0, 1000);
            gpu_check(&(plan_case){convs[c], 0.0, 323, 12, 0, 9, seed + 20, 0.08}, 0, 300);
            gpu_check(&(plan_case){convs[c], 0.1, 400, 1, 1, 3, seed + 30, 0.1}, 0, 1000);
            gpu_check(&(plan_case){convs[c], 0.0, 400, 3, 2, 3, seed + 40, 0.2}, 0, 500);
        }
    }
    gpu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 14, 1, 0, 1, 50, 0.3}, 0, 2000);
    gpu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 300, 1, 0, 3, 51, 1e-9}, 0, 500);
    gpu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 300, 1, 0, 3, 52, 1.0}, 0, 500);
    gpu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 300, 1, 0, 3, 53, 0.1}, 4294960000u, 5000);
    gpu_check(&(plan_case){CQB_Q_R7_LE, 0.01, 4000, 1, 0, 9, 54, 0.02}, 0, 300);
}

Test(gpu, selftest, .init = gpu_open, .fini = gpu_close)
{
#ifdef CQB_HAVE_CUDA
    char msg[256];
    cr_assert_eq(cqb_cuda_selftest(msg, sizeof msg), 0, "%s", msg);
    cr_log_info("device: %s; self-test: %s", g_cuda.device, msg);
#endif
}

Test(gpu, plan_identity_shared, .init = gpu_open, .fini = gpu_close, .timeout = 600) { gpu_matrix(); }

Test(gpu, plan_identity_global_scratch, .init = gpu_open, .fini = gpu_close, .timeout = 600)
{
    setenv("CQB_CUDA_FORCE_GLOBAL", "1", 1);
    gpu_matrix();
}

Test(gpu, plan_identity_odd_chunks, .init = gpu_open, .fini = gpu_close, .timeout = 600)
{
    setenv("CQB_CUDA_CHUNK", "77", 1); /* 1000 = 12 x 77 + 76 */
    gpu_check(&(plan_case){CQB_Q_R7_LE, 0.05, 335, 1, 0, 9, 60, 0.06}, 3, 1000);
    gpu_check(&(plan_case){CQB_Q_R7_LE, 0.0, 323, 12, 1, 3, 61, 0.08}, 0, 999);
    setenv("CQB_CUDA_MEM_LIMIT", "1", 1); /* 1 MiB: tiny chunks and grids */
    gpu_check(&(plan_case){CQB_Q_TYPE1_LT, 0.0, 335, 12, 0, 9, 62, 0.1}, 0, 700);
}

Test(gpu, large_n_global_scratch, .init = gpu_open, .fini = gpu_close, .timeout = 600)
{
    /* N about 20k with 13 columns: does not fit in shared memory */
    static double y[20000], x[20000];
    make_series(y, 20000, 71, 0.0);
    make_series(x, 20000, 72, 0.001);
    cqb_plan_colspec cols[13];
    cqb_plan_unit units[12];
    cols[0] = (cqb_plan_colspec){y, 0, 0, 9, LEV9};
    for (int k = 1; k <= 12; ++k) {
        memset(&units[k - 1], 0, sizeof units[0]);
        units[k - 1].col_y = 0;
        units[k - 1].col_x = k;
        cols[k] = (cqb_plan_colspec){x, 1, (size_t)k, 9, LEV9};
    }
    cqb_plan plan;
    cqb_error err;
    cr_assert_eq(cqb_plan_build(&plan, 20000, cols, 13, units, 12, 9, 9, CQB_Q_R7_LE, 73,
                                cqb_sb_tag(CQB_FAMILY_QTEST, 0, 0), 0.05, &err),
                 CQB_OK);
    const size_t nrep = 200;
    double *ref = malloc(nrep * plan.nstat * sizeof *ref), *got = malloc(nrep * plan.nstat * sizeof *got);
    cr_assert_eq(g_cpu.run(&g_cpu, &plan, 0, nrep, ref, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(g_cuda.run(&g_cuda, &plan, 0, nrep, got, &err), CQB_OK, "%s", err.msg);
    expect_same(ref, got, nrep, plan.nstat, "N = 20000, 13 columns");
    free(ref);
    free(got);
    cqb_plan_free(&plan);
}

/* whole analyses: every reported number identical */
static double *jpm, *mkt, *dvix, *dvol;
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
    dvol = malloc(T * sizeof *dvol);
    td_logdiff(p, n, jpm);
    for (size_t i = 0; i < T; ++i) {
        mkt[i] = m[i + 1];
        dvix[i] = v[i + 1] - v[i];
        dvol[i] = fabs(jpm[i]);
    }
    free(p);
    free(m);
    free(v);
}

static void boot_open(void)
{
    gpu_open();
    load_sysrisk();
}

static void boot_close(void)
{
    free(jpm);
    free(mkt);
    free(dvix);
    free(dvol);
    gpu_close();
}

#define SAME(a, b, what, i) cr_assert(same_value((a), (b)), "%s %zu: cpu %.17g vs cuda %.17g", what, i, (a), (b))

static void boot_compare(cqb_qconv conv, size_t nctl, int share, size_t B, uint64_t seed)
{
    const double ay[3] = {0.05, 0.5, 0.95}, ax[2] = {0.1, 0.9};
    const size_t lags[3] = {1, 2, 5};
    cqb_control ctl[2] = {{dvix, 0.5, -1}, {dvol, 0.7, 1}};
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){jpm, mkt, T, ctl, nctl, conv};
    s.alpha_y = ay;
    s.ny = 3;
    s.alpha_x = ax;
    s.nx = 2;
    s.lags = lags;
    s.nlags = 3;
    s.qtests = 1;
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.seed = seed;
    o.B = B;
    o.gamma = 0.0; /* automatic */
    o.share_grid = share;
    cqb_cq_result rc, rg;
    cqb_error err;
    o.backend = &g_cpu;
    cr_assert_eq(cqb_cq_boot(&s, &o, &rc, &err), CQB_OK, "%s", err.msg);
    o.backend = &g_cuda;
    cr_assert_eq(cqb_cq_boot(&s, &o, &rg, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(rc.ncells, rg.ncells);
    cr_assert_eq(rc.nqtests, rg.nqtests);
    cr_assert_eq(rc.singular, rg.singular);
    for (size_t i = 0; i < rc.ncells; ++i) {
        const cqb_cq_cell *a = &rc.cells[i], *b = &rg.cells[i];
        SAME(a->rho, b->rho, "rho", i);
        SAME(a->rho_partial, b->rho_partial, "rho_partial", i);
        SAME(a->band_lo, b->band_lo, "band_lo", i);
        SAME(a->band_hi, b->band_hi, "band_hi", i);
        SAME(a->ci_lo, b->ci_lo, "ci_lo", i);
        SAME(a->ci_hi, b->ci_hi, "ci_hi", i);
        SAME(a->p_value, b->p_value, "p_value", i);
        SAME(a->p_value_et, b->p_value_et, "p_value_et", i);
        SAME(a->gamma, b->gamma, "gamma", i);
        cr_assert_eq(a->boot_valid, b->boot_valid, "boot_valid %zu", i);
    }
    for (size_t i = 0; i < rc.nqtests; ++i) {
        const cqb_cq_qtest *a = &rc.qtests[i], *b = &rg.qtests[i];
        SAME(a->q_bp, b->q_bp, "q_bp", i);
        SAME(a->q_lb, b->q_lb, "q_lb", i);
        SAME(a->cv_bp, b->cv_bp, "cv_bp", i);
        SAME(a->cv_lb, b->cv_lb, "cv_lb", i);
        SAME(a->p_bp, b->p_bp, "p_bp", i);
        SAME(a->p_lb, b->p_lb, "p_lb", i);
        cr_assert_eq(a->boot_valid, b->boot_valid, "qtest boot_valid %zu", i);
    }
    cqb_cq_result_free(&rc);
    cqb_cq_result_free(&rg);
}

Test(gpu, boot_identity_r7, .init = boot_open, .fini = boot_close, .timeout = 600)
{
    boot_compare(CQB_Q_R7_LE, 0, 1, 2000, 1);
    boot_compare(CQB_Q_R7_LE, 0, 0, 999, 42);
}

Test(gpu, boot_identity_conventions, .init = boot_open, .fini = boot_close, .timeout = 600)
{
    boot_compare(CQB_Q_TYPE1_LT, 0, 1, 1500, 7);
    boot_compare(CQB_Q_HIGHER_LT_SUB, 0, 1, 1500, 8);
}

Test(gpu, boot_identity_controls, .init = boot_open, .fini = boot_close, .timeout = 600)
{
    boot_compare(CQB_Q_R7_LE, 1, 1, 2000, 3);
    boot_compare(CQB_Q_R7_LE, 2, 1, 1001, 4);
}

/* ------------------------------------------- device reduction (emulated) -- */

#define RED_CHUNK 37 /* replicates per emulated launch: divides no B used here */
#define RED_NTHR 5   /* emulated threads per statistic */

static cqb_status emu_reduce(const cqb_backend *b, const cqb_plan *plan, cqb_reduce_io *io, cqb_error *err)
{
    const cqb_derive *d = io->d;
    const size_t nv = d->nvar, B = io->B, nbin = (size_t)CQB_QSEL_BINS + 2;
    if (io->pass == 1) {
        cqb_reduce_io_zero(io);
    }
    double *st = malloc(RED_CHUNK * plan->nstat * sizeof *st), *vals = malloc(RED_CHUNK * nv * sizeof *vals);
    unsigned long long *acc = calloc(nv * CQB_RK_NACC, sizeof *acc);
    uint32_t *fill = calloc(nv, sizeof *fill), *cap32 = malloc(nv * sizeof *cap32);
    size_t *off = malloc(nv * sizeof *off);
    cr_assert(st && vals && acc && fill && cap32 && off);
    size_t total = 0;
    if (io->pass == 2)
        for (size_t j = 0; j < nv; ++j) {
            cap32[j] = (uint32_t)io->cap[j];
            off[j] = total;
            total += io->cap[j];
        }
    for (size_t done = 0; done < B; done += RED_CHUNK) {
        const size_t n = B - done < RED_CHUNK ? B - done : RED_CHUNK;
        cqb_status s = cqb_plan_run_cpu(plan, (uint32_t)done, n, st, b->threads, err);
        if (s != CQB_OK) return s;
        for (size_t i = 0; i < n * nv; ++i) vals[i] = -777.0; /* every value must be written */
        /* derive: work items in reverse order (any order must do) */
        for (size_t i = d->ngroup * n; i-- > 0;) cqb_rk_derive(d, st, plan->nstat, n, vals, i);
        if (io->pass == 1 && done == 0) {
            double mn[7], mx[7];
            for (size_t j = 0; j < nv; ++j) {
                for (size_t t = 0; t < 7; ++t) cqb_rk_minmax(vals + j * n, n, t, 7, &mn[t], &mx[t]);
                cqb_rk_range(mn, mx, 7, &io->lo[j], &io->width[j]);
            }
        }
        for (size_t j = 0; j < nv; ++j)
            for (size_t t = RED_NTHR; t-- > 0;) {
                if (io->pass == 1)
                    cqb_rk_count(vals + j * n, n, t, RED_NTHR, io->pv_ref[j], io->pv_abs, io->et_ref != NULL,
                                 io->et_ref ? io->et_ref[j] : 0.0, io->lo[j], io->width[j], io->hist + j * nbin,
                                 acc + j * CQB_RK_NACC);
                else if (io->ntarget[j] > 0)
                    cqb_rk_collect(vals + j * n, n, t, RED_NTHR, io->lo[j], io->width[j],
                                   io->tbin + j * CQB_QSEL_MAX_TARGETS, io->ntarget[j], &fill[j], cap32[j],
                                   io->coll + off[j]);
            }
    }
    for (size_t j = 0; j < nv; ++j) {
        if (io->pass == 1) {
            io->pv_count[j] = (size_t)acc[j * CQB_RK_NACC + CQB_RK_PV];
            io->valid[j] = (size_t)acc[j * CQB_RK_NACC + CQB_RK_VALID];
            if (io->et_ref) {
                io->et_lo[j] = (size_t)acc[j * CQB_RK_NACC + CQB_RK_ETLO];
                io->et_hi[j] = (size_t)acc[j * CQB_RK_NACC + CQB_RK_ETHI];
            }
        } else {
            cr_assert_eq(fill[j], cap32[j], "statistic %zu: %u collected, %u expected", j, fill[j], cap32[j]);
        }
    }
    free(st); free(vals); free(acc); free(fill); free(cap32); free(off);
    return CQB_OK;
}

static size_t g_reduce_calls;

static cqb_status emu_reduce_counted(const cqb_backend *b, const cqb_plan *plan, cqb_reduce_io *io, cqb_error *err)
{
    ++g_reduce_calls;
    return emu_reduce(b, plan, io, err);
}

typedef struct red_case {
    size_t nctl;
    int share, gridwide;
    size_t B;
    uint64_t seed;
    size_t mem_limit; /* host selector budget (small: the host runs two passes too) */
    cqb_qconv conv;
} red_case;

static void red_compare(const red_case *rc_)
{
    load_sysrisk();
    const double ay[3] = {0.05, 0.5, 0.95}, ax[2] = {0.1, 0.9};
    const size_t lags[3] = {1, 2, 5};
    cqb_control ctl[2] = {{dvix, 0.5, -1}, {dvol, 0.7, 1}};
    cqb_cq_spec s;
    memset(&s, 0, sizeof s);
    s.in = (cqb_cq_input){jpm, mkt, T, ctl, rc_->nctl, rc_->conv};
    s.alpha_y = ay;
    s.ny = 3;
    s.alpha_x = ax;
    s.nx = 2;
    s.lags = lags;
    s.nlags = 3;
    s.qtests = 1;
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.seed = rc_->seed;
    o.B = rc_->B;
    o.gamma = 0.0;
    o.share_grid = rc_->share;
    o.gridwide = rc_->gridwide;
    o.mem_limit = rc_->mem_limit;
    cqb_backend cpu, red;
    cqb_error err;
    cr_assert_eq(cqb_backend_open(CQB_BACKEND_CPU, 2, &cpu, NULL, 0, &err), CQB_OK);
    red = cpu;
    red.reduce = emu_reduce_counted;
    cqb_cq_result ra, rb;
    o.backend = &cpu;
    cr_assert_eq(cqb_cq_boot(&s, &o, &ra, &err), CQB_OK, "%s", err.msg);
    g_reduce_calls = 0;
    o.backend = &red;
    cr_assert_eq(cqb_cq_boot(&s, &o, &rb, &err), CQB_OK, "%s", err.msg);
    cr_assert(g_reduce_calls > 0);
    cr_assert_eq(ra.ncells, rb.ncells);
    cr_assert_eq(ra.nqtests, rb.nqtests);
    cr_assert_eq(ra.nsupq, rb.nsupq);
    cr_assert_eq(ra.singular, rb.singular);
    cr_assert_eq(ra.rw_valid, rb.rw_valid);
    for (size_t i = 0; i < ra.ncells; ++i) {
        const cqb_cq_cell *a = &ra.cells[i], *b = &rb.cells[i];
        SAME(a->band_lo, b->band_lo, "band_lo", i);
        SAME(a->band_hi, b->band_hi, "band_hi", i);
        SAME(a->ci_lo, b->ci_lo, "ci_lo", i);
        SAME(a->ci_hi, b->ci_hi, "ci_hi", i);
        SAME(a->p_value, b->p_value, "p_value", i);
        SAME(a->p_value_et, b->p_value_et, "p_value_et", i);
        SAME(a->p_rw, b->p_rw, "p_rw", i);
        SAME(a->p_holm, b->p_holm, "p_holm", i);
        SAME(a->p_bh, b->p_bh, "p_bh", i);
        SAME(a->gamma, b->gamma, "gamma", i);
        cr_assert_eq(a->boot_valid, b->boot_valid, "boot_valid %zu", i);
    }
    for (size_t i = 0; i < ra.nqtests; ++i) {
        const cqb_cq_qtest *a = &ra.qtests[i], *b = &rb.qtests[i];
        SAME(a->cv_bp, b->cv_bp, "cv_bp", i);
        SAME(a->cv_lb, b->cv_lb, "cv_lb", i);
        SAME(a->p_bp, b->p_bp, "p_bp", i);
        SAME(a->p_lb, b->p_lb, "p_lb", i);
        SAME(a->gamma, b->gamma, "qgamma", i);
        cr_assert_eq(a->boot_valid, b->boot_valid, "qtest boot_valid %zu", i);
    }
    for (size_t i = 0; i < ra.nsupq; ++i) {
        const cqb_cq_supq *a = &ra.supq[i], *b = &rb.supq[i];
        SAME(a->q_bp, b->q_bp, "supq q_bp", i);
        SAME(a->q_lb, b->q_lb, "supq q_lb", i);
        SAME(a->cv_bp, b->cv_bp, "supq cv_bp", i);
        SAME(a->cv_lb, b->cv_lb, "supq cv_lb", i);
        SAME(a->p_bp, b->p_bp, "supq p_bp", i);
        SAME(a->p_lb, b->p_lb, "supq p_lb", i);
        cr_assert_eq(a->boot_valid, b->boot_valid, "supq boot_valid %zu", i);
    }
    cr_assert(rb.two_pass);
    cqb_cq_result_free(&ra);
    cqb_cq_result_free(&rb);
    cqb_backend_close(&cpu);
    free(jpm);
    free(mkt);
    free(dvix);
    free(dvol);
}

Test(red, plain, .timeout = 600) { red_compare(&(red_case){0, 1, 0, 400, 1, 0, CQB_Q_R7_LE}); }
Test(red, controls, .timeout = 600)
{
    red_compare(&(red_case){1, 1, 0, 301, 3, 0, CQB_Q_R7_LE});
    red_compare(&(red_case){2, 1, 0, 257, 4, 0, CQB_Q_TYPE1_LT});
}
Test(red, gridwide, .timeout = 600) { red_compare(&(red_case){0, 1, 1, 333, 5, 0, CQB_Q_R7_LE}); }
Test(red, independent_cells, .timeout = 600) { red_compare(&(red_case){0, 0, 0, 211, 42, 0, CQB_Q_HIGHER_LT_SUB}); }
Test(red, host_two_pass, .timeout = 600)
{
    /* a tiny host budget: both sides run the two-pass selection */
    red_compare(&(red_case){1, 1, 1, 500, 6, 4096, CQB_Q_R7_LE});
}
Test(red, b_below_chunk, .timeout = 600) { red_compare(&(red_case){0, 1, 1, 23, 7, 0, CQB_Q_R7_LE}); }
