/* bench_wavelet.c — wall-clock benchmark of the wavelet local multiple
 * correlation (WLMC) and of its resampling null (cqb_wtest), on the CPU and,
 * when one is usable, on the CUDA backend:
 *
 *   W3   data/us_china_monthly.csv, 1996-01..2023-12: IPB52300S, GPRC_CHN
 *        and GPR as logdiffs, EPU_US as level (the logdiff drops 1996-01:
 *        T = 335 rows, 1996-02..2023-12), d = 4; la8, J = 4, periodic,
 *        compat mode, Gaussian window M = 24.
 *          eval   one WLMC (cqb_wlmc on prepared coefficients; and
 *                 MODWT preparation + WLMC), one CPU thread, median of
 *                 --reps repetitions (default 200)
 *          boot   cqb_wtest, bootstrap null, B = 10,000 (--boot), automatic
 *                 gamma, seed 1: on the CPU (all threads or --threads) and on
 *                 the CUDA backend when usable; the two results are compared
 *   W4   synthetic: d = 8 AR(1) series x_k[t] = 0.6 x_k[t-1] + e_k[t] of
 *        T = 16,384 with e_k standard normals from Philox (Box-Muller on
 *        words of cqb_philox_block(seed 2024, stream k, block i/2), 200
 *        burn-in values dropped), la8, J = 8, periodic, compat, Gaussian
 *        M = 64.
 *          eval   one WLMC on the CPU (prepare + WLMC, median of --reps4,
 *                 default 1) and one replicate (bootstrap resample + MODWT +
 *                 WLMC) on the CPU (cqb_wplan_eval_cpu, one thread) and on
 *                 the CUDA backend (wavelet_eval, after one untimed warm-up
 *                 call), with the largest difference between the two.
 *
 * R: wavemulcor is timed in the same run when Rscript and the package are
 * installed (W3 only: wave.local.multiple.correlation on the same data);
 * otherwise the quoted figure is used: about 0.75 s per WLMC at T = 336
 * with 4 series (R 4.2.2, wavemulcor 3.1.2). wavemulcor is not packaged in
 * Debian. The last line of each workload is `RESULT workload=... key=value
 * ...` for scripts (bench/gpu_check.sh parses it).
 */
#include "bench_util.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cqboot/backend.h"
#include "cqboot/frame.h"
#include "cqboot/philox.h"
#include "cqboot/version.h"
#include "cqboot/wavelet.h"
#include "cqboot/wlmc.h"
#include "cqboot/wmc.h"
#include "cqboot/wnull.h"

#ifndef CQB_SOURCE_DIR
#define CQB_SOURCE_DIR "."
#endif

#define R_QUOTED_WLMC_S 0.75 /* wavemulcor WLMC at T = 336, d = 4 (quoted) */

typedef struct bench_args {
    int threads;
    size_t boot;
    int reps, reps4;
    const char *only;
    cqb_backend_kind backend;
} bench_args;

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_wavelet [options]\n"
               "  --threads N    CPU (OpenMP) threads of the resampling runs (default: all)\n"
               "  --boot B       W3 replicates (default 10000)\n"
               "  --reps N       W3 single-evaluation repetitions (default 200; median reported)\n"
               "  --reps4 N      W4 CPU evaluation repetitions (default 1)\n"
               "  --only NAME    W3 or W4\n"
               "  --backend K    auto (default), cpu or cuda: the device runs besides the CPU runs\n"
               "  --help         this text\n");
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    return bench_opt_value("bench_wavelet", argc, argv, i, name);
}

static unsigned long long parse_count(const char *name, const char *s, unsigned long long lo)
{
    return bench_parse_count("bench_wavelet", name, s, lo);
}

static void parse_args(int argc, char **argv, bench_args *a)
{
    memset(a, 0, sizeof *a);
    a->backend = CQB_BACKEND_AUTO;
    a->boot = 10000;
    a->reps = 200;
    a->reps4 = 1;
    for (int i = 1; i < argc; ++i) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            exit(0);
        } else if ((v = opt_value(argc, argv, &i, "--threads"))) {
            a->threads = (int)parse_count("--threads", v, 1);
        } else if ((v = opt_value(argc, argv, &i, "--boot"))) {
            a->boot = (size_t)parse_count("--boot", v, 1);
        } else if ((v = opt_value(argc, argv, &i, "--reps4"))) {
            a->reps4 = (int)parse_count("--reps4", v, 1);
        } else if ((v = opt_value(argc, argv, &i, "--reps"))) {
            a->reps = (int)parse_count("--reps", v, 1);
        } else if ((v = opt_value(argc, argv, &i, "--only"))) {
            if (strcmp(v, "W3") && strcmp(v, "W4")) {
                fprintf(stderr, "bench_wavelet: --only: expected W3 or W4, got '%s'\n", v);
                exit(2);
            }
            a->only = v;
        } else if ((v = opt_value(argc, argv, &i, "--backend"))) {
            if (cqb_backend_parse(v, &a->backend) != 0) {
                fprintf(stderr, "bench_wavelet: --backend: expected auto, cpu or cuda, got '%s'\n", v);
                exit(2);
            }
        } else {
            fprintf(stderr, "bench_wavelet: unknown argument '%s' (see --help)\n", argv[i]);
            exit(2);
        }
    }
}

/* ------------------------------------------------------------- helpers -- */

/* "%.Nf" of v, or "NA" when v < 0 (not measured). */
static const char *num_or_na(char *buf, size_t n, double v, int prec)
{
    if (v < 0.0) snprintf(buf, n, "NA");
    else snprintf(buf, n, "%.*f", prec, v);
    return buf;
}

/* 1-minute load average, or -1. */
static double load_avg(void)
{
    double l = -1.0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1.0;
        fclose(f);
    }
    return l;
}

/* Opens the requested device backend for the comparisons; 0 when none is
 * usable (then *why says why). */
static int open_device(const bench_args *a, cqb_backend *be, char *why, size_t n)
{
    cqb_error err;
    why[0] = 0;
    if (a->backend == CQB_BACKEND_CPU) {
        snprintf(why, n, "--backend cpu");
        return 0;
    }
    char notice[256];
    if (cqb_backend_open(a->backend, a->threads, be, notice, sizeof notice, &err) != CQB_OK) {
        snprintf(why, n, "%s", err.msg);
        return -1; /* cuda requested and unusable: an error */
    }
    if (be->kind != CQB_BACKEND_CUDA || !be->wavelet_eval) {
        snprintf(why, n, "%s", notice[0] ? notice : (cqb_backend_cuda_built() ? "no usable CUDA device" : "CUDA backend not built"));
        cqb_backend_close(be);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------ R figure -- */

static int r_wavemulcor_available(void)
{
    static int checked = 0, have = 0;
    if (!checked) {
        checked = 1;
        have = system("Rscript -e 'suppressMessages({library(waveslim); library(wavemulcor)})' >/dev/null 2>&1") == 0;
    }
    return have;
}

/* Seconds of one wavemulcor WLMC on x (d series of T values), or -1. */
static double r_measure_wlmc(const double *x, size_t T, size_t d, int J, double M, int reps)
{
    char dpath[] = "/tmp/cqb_wbench_dataXXXXXX", spath[] = "/tmp/cqb_wbench_scriptXXXXXX";
    int fd = mkstemp(dpath);
    if (fd < 0) return -1.0;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(dpath);
        return -1.0;
    }
    for (size_t k = 0; k < d; ++k) fprintf(f, "%sx%zu", k ? "," : "", k + 1);
    fputc('\n', f);
    for (size_t t = 0; t < T; ++t) {
        for (size_t k = 0; k < d; ++k) fprintf(f, "%s%.17g", k ? "," : "", x[k * T + t]);
        fputc('\n', f);
    }
    fclose(f);
    int sd = mkstemp(spath);
    if (sd < 0) {
        unlink(dpath);
        return -1.0;
    }
    f = fdopen(sd, "w");
    if (!f) {
        close(sd);
        unlink(dpath);
        unlink(spath);
        return -1.0;
    }
    fprintf(f,
            "suppressMessages({library(waveslim); library(wavemulcor)})\n"
            "d <- read.csv('%s')\n"
            "w <- lapply(d, function(v) brick.wall(modwt(v, 'la8', %d), 'la8'))\n"
            "invisible(wave.local.multiple.correlation(w, %g))\n"
            "e <- system.time(for (i in 1:%d) wave.local.multiple.correlation(w, %g))[['elapsed']] / %d\n"
            "cat(sprintf('CQB_R_ELAPSED %%.6f\\n', e))\n",
            dpath, J, M, reps, M, reps);
    fclose(f);
    char cmd[256], line[256];
    snprintf(cmd, sizeof cmd, "Rscript '%s' 2>/dev/null", spath);
    double e = -1.0;
    FILE *p = popen(cmd, "r");
    if (p) {
        /* wavemulcor prints its progress ("lev:1234...") without a newline,
         * so the marker can follow it on the same line */
        while (fgets(line, sizeof line, p)) {
            const char *m = strstr(line, "CQB_R_ELAPSED");
            if (m && sscanf(m, "CQB_R_ELAPSED %lf", &e) == 1) break;
        }
        pclose(p);
    }
    unlink(dpath);
    unlink(spath);
    return e > 0.0 ? e : -1.0;
}

/* ------------------------------------------------------------------- W3 -- */

static int run_w3(const bench_args *a)
{
    const char *path = CQB_SOURCE_DIR "/data/us_china_monthly.csv";
    const char *cols[4] = {"IPB52300S", "GPRC_CHN", "GPR", "EPU_US"};
    const cqb_transform tr[4] = {CQB_TR_LOGDIFF, CQB_TR_LOGDIFF, CQB_TR_LOGDIFF, CQB_TR_LEVEL};
    const size_t d = 4;
    const int J = 4;
    const double M = 24.0;
    cqb_error err;
    cqb_frame *frame = NULL;
    cqb_series_set set;
    memset(&set, 0, sizeof set);
    printf("\n== W3: monthly US-China, 4 series, la8, J = 4, Gaussian M = 24 (WLMC) ==\n");
    if (cqb_frame_read(path, &frame, &err) != CQB_OK) {
        printf("  error: %s\n", err.msg);
        return 1;
    }
    cqb_select_spec sel = {cols, 4, tr, "1996-01", "2023-12"};
    if (cqb_frame_select(frame, &sel, &set, &err) != CQB_OK) {
        printf("  error: %s\n", err.msg);
        cqb_frame_free(frame);
        return 1;
    }
    const size_t T = set.T;
    printf("  data      data/us_china_monthly.csv: IPB52300S, GPRC_CHN, GPR (logdiff), EPU_US (level)\n");
    printf("  sample    T = %zu (%s .. %s; the logdiff drops 1996-01)\n", T, set.first_label, set.last_label);
    printf("  load      %.2f (1-minute load average before the workload)\n", load_avg());

    int rc = 0;
    cqb_wmc_opts o;
    cqb_wmc_opts_default(&o);
    o.M = M;
    const size_t len = cqb_wlevels_length(T, CQB_BOUNDARY_PERIODIC, o.mode), L1 = (size_t)J + 1;
    double *coef = malloc(L1 * d * len * sizeof *coef), *val = malloc(L1 * len * sizeof *val);
    double *work = malloc(cqb_wlevels_prepare_work(T, CQB_BOUNDARY_PERIODIC, J) * sizeof *work);
    int *dep = malloc(L1 * len * sizeof *dep);
    const int reps = a->reps;
    double *tm = malloc(2 * (size_t)reps * sizeof *tm);
    cqb_wmc_workspace *ws = cqb_wmc_workspace_alloc(len, d, &err);
    cqb_backend be;
    int dev = 0;
    cqb_wtest_result rc_cpu, rc_dev;
    memset(&rc_cpu, 0, sizeof rc_cpu);
    memset(&rc_dev, 0, sizeof rc_dev);
    if (!coef || !val || !work || !dep || !tm || !ws) {
        printf("  error: out of memory\n");
        rc = 1;
        goto done;
    }
    /* one evaluation, one thread */
    cqb_wlevels in;
    cqb_wmc_out out = {val, NULL, NULL, dep, NULL, NULL};
    if (cqb_wlevels_prepare(set.x, T, T, d, CQB_WAVELET_LA8, J, CQB_BOUNDARY_PERIODIC, o.mode, 1, coef, &in, work,
                            &err) != CQB_OK ||
        cqb_wlmc(&in, &o, ws, &out, &err) != CQB_OK) {
        printf("  error: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    for (int r = 0; r < reps; ++r) {
        double t0 = now_s();
        cqb_wlmc(&in, &o, ws, &out, &err);
        double t1 = now_s();
        cqb_wlevels_prepare(set.x, T, T, d, CQB_WAVELET_LA8, J, CQB_BOUNDARY_PERIODIC, o.mode, 1, coef, &in, work, &err);
        cqb_wlmc(&in, &o, ws, &out, &err);
        double t2 = now_s();
        tm[r] = t1 - t0;
        tm[reps + r] = t2 - t1;
    }
    double emin = tm[0];
    for (int r = 1; r < reps; ++r)
        if (tm[r] < emin) emin = tm[r];
    const double e_med = median(tm, reps), ep_med = median(tm + reps, reps);
    printf("  eval      WLMC %.3f ms (median of %d, min %.3f ms), MODWT + WLMC %.3f ms; 1 CPU thread "
           "(target <= 2 ms)\n",
           1e3 * e_med, reps, 1e3 * emin, 1e3 * ep_med);
    printf("            check: d1 at t = 168: %.6f (dep %d), s4 at t = 168: %.6f (dep %d)\n", val[168], dep[168],
           val[(size_t)J * len + 168], dep[(size_t)J * len + 168]);

    /* the resampling null */
    cqb_wtest_spec s;
    memset(&s, 0, sizeof s);
    s.x = set.x;
    s.ldx = T;
    s.n = T;
    s.d = d;
    s.wf = CQB_WAVELET_LA8;
    s.J = J;
    s.boundary = CQB_BOUNDARY_PERIODIC;
    s.opts = o;
    s.stat = CQB_WSTAT_WLMC;
    s.null = CQB_WNULL_BOOTSTRAP;
    s.B = a->boot;
    s.seed = 1;
    s.gamma = 0.0;
    s.level = 0.95;
    s.threads = a->threads;
    const int nthr = a->threads > 0 ? a->threads : omp_get_max_threads();
    double t0 = now_s();
    if (cqb_wtest(&s, &rc_cpu, &err) != CQB_OK) {
        printf("  error: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    const double boot_cpu = now_s() - t0;
    printf("  boot cpu  B = %zu bootstrap replicates (gamma %.4f automatic): %.3f s on %d thread%s = %.3f ms per "
           "replicate-thread (target on the GPU: < 1 s)\n",
           s.B, rc_cpu.gamma, boot_cpu, nthr, nthr == 1 ? "" : "s", 1e3 * boot_cpu * nthr / (double)s.B);
    double boot_dev = -1.0;
    char why[CQB_ERROR_MAX];
    dev = open_device(a, &be, why, sizeof why);
    if (dev < 0) {
        printf("  error: %s\n", why);
        rc = 1;
        dev = 0;
        goto done;
    }
    if (dev) {
        s.backend = &be;
        s.B = a->boot < 1000 ? a->boot : 1000; /* warm-up: context, module load, allocations */
        if (cqb_wtest(&s, &rc_dev, &err) != CQB_OK) {
            printf("  error: %s\n", err.msg);
            rc = 1;
            goto done;
        }
        cqb_wtest_result_free(&rc_dev);
        s.B = a->boot;
        t0 = now_s();
        if (cqb_wtest(&s, &rc_dev, &err) != CQB_OK) {
            printf("  error: %s\n", err.msg);
            rc = 1;
            goto done;
        }
        boot_dev = now_s() - t0;
        size_t ndiff = 0;
        for (size_t c = 0; c < rc_cpu.ncell; ++c) {
            const double x1 = rc_cpu.p[c], x2 = rc_dev.p[c];
            if (!((isnan(x1) && isnan(x2)) || x1 == x2) || rc_cpu.valid[c] != rc_dev.valid[c]) ++ndiff;
        }
        for (size_t f = 0; f < rc_cpu.nfam; ++f)
            if (!((isnan(rc_cpu.cv_fw[f]) && isnan(rc_dev.cv_fw[f])) || rc_cpu.cv_fw[f] == rc_dev.cv_fw[f])) ++ndiff;
        printf("  boot %-4s B = %zu: %.3f s (ran on %s: %s); p-values, valid counts and cv_fw %s the CPU's (%zu "
               "differences)\n",
               be.name, s.B, boot_dev, rc_dev.backend, be.device, ndiff ? "DIFFER from" : "identical to", ndiff);
    } else {
        printf("  boot gpu  not run: %s\n", why);
    }

    /* R */
    double r_eval = R_QUOTED_WLMC_S;
    const char *r_how = "quoted";
    if (r_wavemulcor_available()) {
        const double e = r_measure_wlmc(set.x, T, d, J, M, 3);
        if (e > 0.0) {
            r_eval = e;
            r_how = "measured";
            printf("  R         wavemulcor wave.local.multiple.correlation: %.3f s per WLMC (measured, mean of 3)\n", e);
        } else {
            printf("  R         wavemulcor loads but could not be timed; using the quoted figure\n");
        }
    } else {
        printf("  R         wavemulcor: not installed (Rscript or the package missing; wavemulcor is not packaged in "
               "Debian); quoted figure ~%.2f s per WLMC at T = 336 with 4 series\n",
               R_QUOTED_WLMC_S);
    }
    char nb[32];
    const double r_boot_s = r_eval * (double)a->boot; /* R would redo MODWT + WLMC per replicate */
    printf("  ratio     one WLMC: %.0fx R (%s); B = %zu null on the CPU: %.0fx R's %.0f s (B x one WLMC)\n",
           r_eval / e_med, r_how, a->boot, r_boot_s / boot_cpu, r_boot_s);
    if (boot_dev > 0)
        printf("            on %s: %.0fx R, %.1fx the CPU run\n", be.name, r_boot_s / boot_dev, boot_cpu / boot_dev);
    printf("RESULT workload=W3 T=%zu d=%zu J=%d M=%g eval_ms=%.4f eval_min_ms=%.4f eval_modwt_ms=%.4f reps=%d B=%zu "
           "boot_cpu_s=%.3f threads=%d boot_dev_s=%s backend=%s ratio_r_eval=%.1f r=%s load=%.2f\n",
           T, d, J, M, 1e3 * e_med, 1e3 * emin, 1e3 * ep_med, reps, a->boot, boot_cpu, nthr,
           num_or_na(nb, sizeof nb, boot_dev, 3), dev ? be.name : "cpu", r_eval / e_med, r_how, load_avg());
done:
    fflush(stdout);
    if (dev) cqb_backend_close(&be);
    cqb_wtest_result_free(&rc_cpu);
    cqb_wtest_result_free(&rc_dev);
    cqb_wmc_workspace_free(ws);
    free(coef);
    free(val);
    free(work);
    free(dep);
    free(tm);
    cqb_series_set_free(&set);
    cqb_frame_free(frame);
    return rc;
}

/* ------------------------------------------------------------------- W4 -- */

/* The W4 series: d AR(1) series (coefficient 0.6) of length n from Philox
 * normals (seed 2024, stream k), 200 burn-in values dropped. */
static void w4_data(double *x, size_t n, size_t d)
{
    const size_t burn = 200, m = n + burn;
    double *e = malloc(m * sizeof *e);
    if (!e) return;
    for (size_t k = 0; k < d; ++k) {
        for (size_t i = 0; i < m; i += 2) {
            uint32_t w[4];
            cqb_philox_block(2024, k, i / 2, w);
            const double u1 = ((double)w[0] + 0.5) / 4294967296.0, u2 = ((double)w[1] + 0.5) / 4294967296.0;
            const double r = sqrt(-2.0 * log(u1));
            e[i] = r * cos(6.283185307179586 * u2);
            if (i + 1 < m) e[i + 1] = r * sin(6.283185307179586 * u2);
        }
        double v = 0.0;
        for (size_t t = 0; t < m; ++t) {
            v = 0.6 * v + e[t];
            if (t >= burn) x[k * n + (t - burn)] = v;
        }
    }
    free(e);
}

static int run_w4(const bench_args *a)
{
    const size_t n = 16384, d = 8;
    const int J = 8;
    const double M = 64.0;
    printf("\n== W4: synthetic AR(1), T = 16,384, d = 8, la8, J = 8, Gaussian M = 64 (WLMC) ==\n");
    printf("  data      x_k[t] = 0.6 x_k[t-1] + e_k[t], e_k Philox normals (seed 2024, stream k), 200 burn-in\n");
    printf("  load      %.2f (1-minute load average before the workload)\n", load_avg());
    int rc = 0;
    cqb_error err;
    cqb_wmc_opts o;
    cqb_wmc_opts_default(&o);
    o.M = M;
    const size_t len = n, L1 = (size_t)J + 1;
    double *x = malloc(n * d * sizeof *x), *coef = malloc(L1 * d * len * sizeof *coef);
    double *val = malloc(L1 * len * sizeof *val), *work = malloc(cqb_wlevels_prepare_work(n, CQB_BOUNDARY_PERIODIC, J) * sizeof *work);
    double *v1 = malloc(L1 * len * sizeof *v1), *v2 = malloc(L1 * len * sizeof *v2);
    int *dep = malloc(L1 * len * sizeof *dep);
    double *tm = malloc((size_t)a->reps4 * sizeof *tm);
    cqb_wmc_workspace *ws = cqb_wmc_workspace_alloc(len, d, &err);
    cqb_backend be;
    int dev = 0;
    cqb_wplan wp;
    memset(&wp, 0, sizeof wp);
    if (!x || !coef || !val || !work || !v1 || !v2 || !dep || !tm || !ws) {
        printf("  error: out of memory\n");
        rc = 1;
        goto done;
    }
    w4_data(x, n, d);
    cqb_wlevels in;
    cqb_wmc_out out = {val, NULL, NULL, dep, NULL, NULL};
    for (int r = 0; r < a->reps4; ++r) {
        const double t0 = now_s();
        if (cqb_wlevels_prepare(x, n, n, d, CQB_WAVELET_LA8, J, CQB_BOUNDARY_PERIODIC, o.mode, 1, coef, &in, work,
                                &err) != CQB_OK ||
            cqb_wlmc(&in, &o, ws, &out, &err) != CQB_OK) {
            printf("  error: %s\n", err.msg);
            rc = 1;
            goto done;
        }
        tm[r] = now_s() - t0;
    }
    const double e_cpu = median(tm, a->reps4);
    printf("  eval cpu  MODWT + WLMC: %.3f s (median of %d; 1 CPU thread)\n", e_cpu, a->reps4);

    /* one replicate: bootstrap resample + MODWT + WLMC */
    cqb_wtest_spec s;
    memset(&s, 0, sizeof s);
    s.x = x;
    s.ldx = n;
    s.n = n;
    s.d = d;
    s.wf = CQB_WAVELET_LA8;
    s.J = J;
    s.boundary = CQB_BOUNDARY_PERIODIC;
    s.opts = o;
    s.stat = CQB_WSTAT_WLMC;
    s.null = CQB_WNULL_BOOTSTRAP;
    s.B = 1;
    s.seed = 1;
    s.gamma = 0.02;
    s.level = 0.95;
    if (cqb_wplan_init(&s, &wp, NULL, NULL, &err) != CQB_OK) {
        printf("  error: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    double t0 = now_s();
    if (cqb_wplan_eval_cpu(&wp, 0, 1, v1, 1, &err) != CQB_OK) {
        printf("  error: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    const double rep_cpu = now_s() - t0;
    printf("  rep cpu   one bootstrap replicate (resample + MODWT + WLMC): %.3f s (1 CPU thread)\n", rep_cpu);
    double rep_dev = -1.0, maxdiff = NAN;
    size_t nbit = 0;
    char why[CQB_ERROR_MAX];
    dev = open_device(a, &be, why, sizeof why);
    if (dev < 0) {
        printf("  error: %s\n", why);
        rc = 1;
        dev = 0;
        goto done;
    }
    if (dev) {
        if (be.wavelet_eval(&be, &wp, 0, 0, NULL, &err) != CQB_OK || be.wavelet_eval(&be, &wp, 1, 1, v2, &err) != CQB_OK) {
            printf("  error: %s\n", err.msg);
            rc = 1;
            goto done;
        }
        t0 = now_s();
        if (be.wavelet_eval(&be, &wp, 0, 1, v2, &err) != CQB_OK) {
            printf("  error: %s\n", err.msg);
            rc = 1;
            goto done;
        }
        rep_dev = now_s() - t0;
        maxdiff = 0.0;
        for (size_t c = 0; c < wp.ncell; ++c) {
            if (isnan(v1[c]) != isnan(v2[c])) {
                maxdiff = INFINITY;
                continue;
            }
            if (isnan(v1[c])) continue;
            const double e = fabs(v1[c] - v2[c]);
            if (e > maxdiff) maxdiff = e;
            nbit += memcmp(&v1[c], &v2[c], sizeof v1[c]) != 0;
        }
        printf("  rep %-4s  the same replicate: %.4f s (%s; after a warm-up call), %.0fx the CPU; max |diff| %.3g, "
               "%zu of %zu values not bit-identical\n",
               be.name, rep_dev, be.device, rep_cpu / rep_dev, maxdiff, nbit, wp.ncell);
    } else {
        printf("  rep gpu   not run: %s\n", why);
    }
    /* R: wavelets.md §6.1, 2.4 s at N = 1024, d = 3, J = 6, cost O(N^2 d^2 (J+1)) */
    const double r_extra = 2.4 * (16384.0 / 1024.0) * (16384.0 / 1024.0) * (8.0 / 3.0) * (8.0 / 3.0) * (9.0 / 7.0);
    printf("  R         not timed at this size; extrapolated from wavelets.md §6.1 (2.4 s at N = 1024, d = 3, J = 6; "
           "O(N^2 d^2 (J+1))): ~%.0f s per WLMC, %.0fx the CPU evaluation\n",
           r_extra, r_extra / e_cpu);
    char nb[32];
    printf("RESULT workload=W4 T=%zu d=%zu J=%d M=%g eval_cpu_s=%.4f rep_cpu_s=%.4f rep_dev_s=%s backend=%s "
           "maxdiff=%.3g notbitid=%zu ratio_r_extrapolated=%.0f load=%.2f\n",
           n, d, J, M, e_cpu, rep_cpu, num_or_na(nb, sizeof nb, rep_dev, 5), dev ? be.name : "cpu", maxdiff, nbit,
           r_extra / e_cpu, load_avg());
done:
    fflush(stdout);
    if (dev) cqb_backend_close(&be);
    cqb_wplan_free(&wp);
    cqb_wmc_workspace_free(ws);
    free(x);
    free(coef);
    free(val);
    free(work);
    free(v1);
    free(v2);
    free(dep);
    free(tm);
    return rc;
}

int main(int argc, char **argv)
{
    bench_args a;
    parse_args(argc, argv, &a);
    char git[96], cpu[256], date[64];
    git_describe(git, sizeof git);
    cpu_model(cpu, sizeof cpu);
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tmv);
    printf("cqboot bench_wavelet  version %s  git %s  %s\n", CQB_VERSION, git, date);
    printf("build     %s; CUDA backend %s\n", build_type(), cqb_backend_cuda_built() ? "built" : "not built");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("machine   %s, %ld cores online, OpenMP max threads %d, load average %.2f\n", cpu, ncpu,
           omp_get_max_threads(), load_avg());
    fflush(stdout);
    int rc = 0;
    if (!a.only || !strcmp(a.only, "W3")) rc |= run_w3(&a);
    if (!a.only || !strcmp(a.only, "W4")) rc |= run_w4(&a);
    return rc;
}
