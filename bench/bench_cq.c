/* bench_cq.c — wall-clock benchmark of the cross-quantilogram bootstrap
 * (cqb_cq_boot) on the workloads of the "Performance" section:
 *
 *   W1   T = 335 monthly (GPRC_CHN, IPB52300S logdiffs, 1996-01..2023-12),
 *        9 x 9 alpha grid, lags 1-12, B = 10,000, bands + Q tests, gamma 0.1
 *   W2   T = 5,505 daily (JPM log return, Market return), alpha (0.05, 0.05),
 *        lags 1-20, B = 10,000, bands + Q tests, gamma 0.1
 *   W1N, W1S  W1 with the calibrated test on (issue #10: p_null per cell and
 *        per Q test; null scheme rotation, the default, and sb with B null
 *        resamples); the wall time is reported as a ratio to W1's
 *   MEM  W1 data, 5 x 5 grid, lags 1-12, B = 1,000,000, default options
 *        (automatic gamma, default mem_limit: the Q-test selection needs the
 *        exact two-pass mode); peak RSS checked against 1 GiB. Opt-in.
 *
 * Timing: CLOCK_MONOTONIC around each cqb_cq_boot call, after one untimed
 * warm-up run (B = min(B, 1000)); median, min and max of --reps runs. Peak
 * RSS is getrusage(RUSAGE_SELF).ru_maxrss, i.e. process-wide: use --only to
 * measure one workload per process. See bench/README.md.
 */
#include "bench_util.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cqboot/backend.h"
#include "cqboot/cq_boot.h"
#include "cqboot/frame.h"
#include "cqboot/version.h"

#ifndef CQB_SOURCE_DIR
#define CQB_SOURCE_DIR "."
#endif

/* The quoted R figure (engine-design.md §7.2), used when R's quantilogram
 * package cannot be run here. */
#define R_QUOTED_REPCELLS_PER_S 1000.0
#define MEM_LIMIT_MIB 1024.0
#define WARMUP_B 1000

/* ------------------------------------------------------------- options -- */

typedef struct bench_args {
    int threads;      /* 0 = all (OpenMP default) */
    size_t boot;      /* 0 = the workload's B */
    int reps;         /* 0 = default (3; 1 for MEM) */
    const char *only; /* NULL = W1 and W2 (plus MEM with --mem) */
    int mem;
    cqb_backend_kind backend;
} bench_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_cq [options]\n"
            "  --threads N    CPU (OpenMP) threads (default: all)\n"
            "  --boot B       replicates per run, overriding each workload's B\n"
            "  --reps N       timed repetitions (default 3; MEM: 1); median/min/max reported\n"
            "  --only NAME    run one workload: W1, W1N, W1S, W2 or MEM (peak RSS is process-wide,\n"
            "                 so measure memory with one workload per process)\n"
            "  --mem          also run MEM after W1 and W2 (B = 1,000,000; slow on few cores)\n"
            "  --backend K    auto, cpu or cuda (default auto: CUDA if built and usable)\n"
            "  --help         this text\n"
            "Workloads: W1 (T=335, 9x9 grid, lags 1-12, B=10,000), W1N and W1S (W1 with the\n"
            "calibrated test, rotation and sb null; ratio to W1), W2 (T=5,505, 1x1,\n"
            "lags 1-20, B=10,000), MEM (T=335, 5x5, lags 1-12, B=1,000,000; opt-in).\n");
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    return bench_opt_value("bench_cq", argc, argv, i, name);
}

static unsigned long long parse_count(const char *name, const char *s, unsigned long long lo)
{
    return bench_parse_count("bench_cq", name, s, lo);
}

static void parse_args(int argc, char **argv, bench_args *a)
{
    memset(a, 0, sizeof *a);
    a->backend = CQB_BACKEND_AUTO;
    for (int i = 1; i < argc; ++i) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(argv[i], "--mem")) {
            a->mem = 1;
        } else if ((v = opt_value(argc, argv, &i, "--threads"))) {
            a->threads = (int)parse_count("--threads", v, 1);
        } else if ((v = opt_value(argc, argv, &i, "--boot"))) {
            a->boot = (size_t)parse_count("--boot", v, 1);
        } else if ((v = opt_value(argc, argv, &i, "--reps"))) {
            a->reps = (int)parse_count("--reps", v, 1);
        } else if ((v = opt_value(argc, argv, &i, "--only"))) {
            if (strcmp(v, "W1") && strcmp(v, "W1N") && strcmp(v, "W1S") && strcmp(v, "W2") && strcmp(v, "MEM")) {
                fprintf(stderr, "bench_cq: --only: expected W1, W1N, W1S, W2 or MEM, got '%s'\n", v);
                exit(2);
            }
            a->only = v;
        } else if ((v = opt_value(argc, argv, &i, "--backend"))) {
            if (cqb_backend_parse(v, &a->backend) != 0) {
                fprintf(stderr, "bench_cq: --backend: expected auto, cpu or cuda, got '%s'\n", v);
                exit(2);
            }
        } else {
            fprintf(stderr, "bench_cq: unknown argument '%s' (see --help)\n", argv[i]);
            exit(2);
        }
    }
}

/* ------------------------------------------------------------- helpers -- */

static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return NAN;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

static int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : omp_get_num_procs();
}

/* FNV-1a over the bits of the bootstrap outputs: equal across repetitions,
 * thread counts and backends if the engine is deterministic. */
static uint64_t result_checksum(const cqb_cq_result *r)
{
    uint64_t h = 1469598103934665603ull;
    const double *v;
    double tmp[7];
    for (size_t i = 0; i < r->ncells + r->nqtests; ++i) {
        size_t m;
        if (i < r->ncells) {
            const cqb_cq_cell *c = &r->cells[i];
            tmp[0] = c->rho; tmp[1] = c->band_lo; tmp[2] = c->band_hi; tmp[3] = c->p_value;
            m = 4;
        } else {
            const cqb_cq_qtest *q = &r->qtests[i - r->ncells];
            tmp[0] = q->q_bp; tmp[1] = q->cv_bp; tmp[2] = q->cv_lb; tmp[3] = q->p_bp; tmp[4] = q->p_lb;
            m = 5;
        }
        v = tmp;
        for (size_t j = 0; j < m; ++j) {
            uint64_t bits;
            memcpy(&bits, &v[j], sizeof bits);
            for (int b = 0; b < 8; ++b) {
                h ^= (bits >> (8 * b)) & 0xffu;
                h *= 1099511628211ull;
            }
        }
    }
    return h;
}

static void fmt_thousands(double v, char *out, size_t n)
{
    char raw[64];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t l = strlen(raw), o = 0;
    for (size_t i = 0; i < l && o + 1 < n; ++i) {
        if (i > 0 && raw[i - 1] != '-' && (l - i) % 3 == 0 && o + 2 < n) out[o++] = ',';
        out[o++] = raw[i];
    }
    out[o] = 0;
}

static void mem_progress(double fraction, void *user)
{
    int *last = user;
    int pct = (int)(fraction * 100.0);
    if (pct / 10 > *last / 10) {
        fprintf(stderr, "  MEM: %d%%\n", pct);
        *last = pct;
    }
}

/* ------------------------------------------------------------ R figure -- */

static int r_checked = 0, r_have = 0;

static int r_quantilogram_available(void)
{
    if (!r_checked) {
        r_checked = 1;
        r_have = system("Rscript -e 'suppressMessages(library(quantilogram))' >/dev/null 2>&1") == 0;
    }
    return r_have;
}

/* Times R's crossq.sb on one cell (levels ay, ax, lag 1, gamma 0.1, Bsize
 * replicates) on the workload's data; returns replicate-cells/s, or -1. */
static double r_measure(const double *y, const double *x, size_t T, double ay, double ax, int bsize,
                        double *elapsed)
{
    char dpath[] = "/tmp/cqb_bench_dataXXXXXX", spath[] = "/tmp/cqb_bench_scriptXXXXXX";
    int fd = mkstemp(dpath);
    if (fd < 0) return -1.0;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(dpath);
        return -1.0;
    }
    fprintf(f, "y,x\n");
    for (size_t t = 0; t < T; ++t) fprintf(f, "%.17g,%.17g\n", y[t], x[t]);
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
            "suppressMessages(library(quantilogram))\n"
            "d <- as.matrix(read.csv('%s'))\n"
            "invisible(crossq.sb(d, c(%.17g, %.17g), 1, 0.1, 20, 0.05))\n"
            "e <- system.time(crossq.sb(d, c(%.17g, %.17g), 1, 0.1, %d, 0.05))[['elapsed']]\n"
            "cat(sprintf('CQB_R_ELAPSED %%.6f\\n', e))\n",
            dpath, ay, ax, ay, ax, bsize);
    fclose(f);
    char cmd[256], line[256];
    snprintf(cmd, sizeof cmd, "Rscript '%s' 2>/dev/null", spath);
    double e = -1.0;
    FILE *p = popen(cmd, "r");
    if (p) {
        while (fgets(line, sizeof line, p))
            if (sscanf(line, "CQB_R_ELAPSED %lf", &e) == 1) break;
        pclose(p);
    }
    unlink(dpath);
    unlink(spath);
    if (!(e > 0.0)) return -1.0;
    *elapsed = e;
    return (double)bsize / e;
}

/* ------------------------------------------------------------ workloads -- */

typedef struct workload {
    const char *name, *title;
    const char *path;
    const char *col[2];
    cqb_transform tr[2];
    const char *from, *to;
    const double *ay; size_t ny;
    const double *ax; size_t nx;
    size_t lag_max;     /* lags 1..lag_max */
    size_t B;
    double gamma;       /* > 0 fixed; 0 automatic (MEM: default options) */
    int mem;            /* MEM: no warm-up, 1 rep, progress, 1 GiB check */
    int null_scheme;    /* -1: no calibrated test (today's W1); else cqb_null_scheme */
} workload;

static double g_w1_wall = 0.0; /* W1's median wall time, for the calibrated workloads' ratio */

static const double grid9[9] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
static const double grid5[5] = {0.1, 0.3, 0.5, 0.7, 0.9};
static const double a005[1] = {0.05};

#define NWORKLOADS 5
static const workload workloads[NWORKLOADS] = {
    {"W1", "monthly US-China, 9x9 grid, lags 1-12",
     CQB_SOURCE_DIR "/data/us_china_monthly.csv", {"GPRC_CHN", "IPB52300S"},
     {CQB_TR_LOGDIFF, CQB_TR_LOGDIFF}, "1996-01", "2023-12", grid9, 9, grid9, 9, 12, 10000, 0.1, 0, -1},
    {"W1N", "W1 with the calibrated test on (null scheme rotation, the default)",
     CQB_SOURCE_DIR "/data/us_china_monthly.csv", {"GPRC_CHN", "IPB52300S"},
     {CQB_TR_LOGDIFF, CQB_TR_LOGDIFF}, "1996-01", "2023-12", grid9, 9, grid9, 9, 12, 10000, 0.1, 0, 1},
    {"W1S", "W1 with the calibrated test on (null scheme sb, B null resamples)",
     CQB_SOURCE_DIR "/data/us_china_monthly.csv", {"GPRC_CHN", "IPB52300S"},
     {CQB_TR_LOGDIFF, CQB_TR_LOGDIFF}, "1996-01", "2023-12", grid9, 9, grid9, 9, 12, 10000, 0.1, 0, 0},
    {"W2", "daily JPM vs Market, alpha (0.05, 0.05), lags 1-20",
     CQB_SOURCE_DIR "/tests/data/quantilogram_sys_risk.csv", {"JPM", "Market"},
     {CQB_TR_LOGDIFF, CQB_TR_LEVEL}, NULL, NULL, a005, 1, a005, 1, 20, 10000, 0.1, 0, -1},
    {"MEM", "monthly US-China, 5x5 grid, lags 1-12, B = 1e6, default options",
     CQB_SOURCE_DIR "/data/us_china_monthly.csv", {"GPRC_CHN", "IPB52300S"},
     {CQB_TR_LOGDIFF, CQB_TR_LOGDIFF}, "1996-01", "2023-12", grid5, 5, grid5, 5, 12, 1000000, 0.0, 1, -1},
};

/* Times the automatic gamma rule on exactly the columns of the plans the
 * analysis builds (one per lag, one for the Q tests); returns seconds. */
static double time_auto_gamma(const double *y, const double *x, size_t T, const size_t *lags, size_t nl,
                              size_t P, double *gmin, double *gmax, cqb_error *err)
{
    const double **cols = malloc((P + 1 > 2 ? P + 1 : 2) * sizeof *cols);
    if (!cols) return -1.0;
    *gmin = INFINITY;
    *gmax = -INFINITY;
    double t0 = now_s();
    for (size_t li = 0; li <= nl; ++li) {
        size_t N;
        int ncol;
        if (li < nl) { /* band plan at lag k: rows r0 = k .. T-1 */
            size_t k = lags[li];
            N = T - k;
            cols[0] = y + k;
            cols[1] = x;
            ncol = 2;
        } else { /* Q-test plan: y and x shifted by 1..P, rows P .. T-1 */
            if (P == 0) break;
            N = T - P;
            cols[0] = y + P;
            for (size_t s = 1; s <= P; ++s) cols[s] = x + P - s;
            ncol = (int)P + 1;
        }
        double g;
        if (cqb_auto_gamma(cols, ncol, N, 0, &g, err) != CQB_OK) {
            free(cols);
            return -1.0;
        }
        if (g < *gmin) *gmin = g;
        if (g > *gmax) *gmax = g;
    }
    double t = now_s() - t0;
    free(cols);
    return t;
}

static int run_workload(const workload *w, const bench_args *a, int first)
{
    cqb_error err;
    cqb_frame *frame = NULL;
    cqb_series_set set;
    memset(&set, 0, sizeof set);
    printf("\n== %s: %s ==\n", w->name, w->title);
    if (cqb_frame_read(w->path, &frame, &err) != CQB_OK) {
        printf("  error: %s\n", err.msg);
        return 1;
    }
    cqb_select_spec sel = {w->col, 2, w->tr, w->from, w->to};
    if (cqb_frame_select(frame, &sel, &set, &err) != CQB_OK) {
        printf("  error: %s\n", err.msg);
        cqb_frame_free(frame);
        return 1;
    }
    const size_t T = set.T;
    const double *y = set.x, *x = set.x + T;

    size_t lags[64];
    for (size_t k = 1; k <= w->lag_max; ++k) lags[k - 1] = k;
    const size_t nl = w->lag_max, cells = w->ny * w->nx * nl;
    const size_t B = a->boot ? a->boot : w->B;
    const int reps = a->reps ? a->reps : (w->mem ? 1 : 3);

    cqb_backend be;
    char notice[256];
    if (cqb_backend_open(a->backend, a->threads, &be, notice, sizeof notice, &err) != CQB_OK) {
        printf("  error: %s\n", err.msg);
        cqb_series_set_free(&set);
        cqb_frame_free(frame);
        return 1;
    }
    if (notice[0]) printf("  note      %s\n", notice);

    cqb_cq_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.in = (cqb_cq_input){y, x, T, NULL, 0, CQB_Q_R7_LE};
    spec.alpha_y = w->ay;
    spec.ny = w->ny;
    spec.alpha_x = w->ax;
    spec.nx = w->nx;
    spec.lags = lags;
    spec.nlags = nl;
    spec.qtests = 1;

    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.seed = 1;
    o.gamma = w->gamma;
    o.backend = &be;
    if (w->null_scheme >= 0) {
        o.null_test = 1;
        o.null_scheme = w->null_scheme;
    }
    int last_pct = 0;
    if (w->mem) {
        o.progress = mem_progress;
        o.progress_user = &last_pct;
    }

    char bbuf[32];
    fmt_thousands((double)B, bbuf, sizeof bbuf);
    printf("  data      %s: y = %s (%s), x = %s (%s)\n", w->path + strlen(CQB_SOURCE_DIR) + 1, w->col[0],
           w->tr[0] == CQB_TR_LOGDIFF ? "logdiff" : "level", w->col[1],
           w->tr[1] == CQB_TR_LOGDIFF ? "logdiff" : "level");
    printf("  sample    T = %zu (%s .. %s)\n", T, set.first_label, set.last_label);
    printf("  problem   %zu x %zu levels, lags 1-%zu, cells/rep = %zu, Q tests p = 1..%zu, B = %s\n", w->ny,
           w->nx, nl, cells, nl, bbuf);
    if (w->gamma > 0.0)
        printf("            gamma = %g (fixed), level 0.95, shared grid, seed 1\n", w->gamma);
    else
        printf("            gamma automatic, level 0.95, shared grid, mem_limit default (256 MiB), seed 1\n");
    printf("  backend   %s: %s\n", be.name, be.device);
    fflush(stdout);

    cqb_cq_result res;
    int rc = 0;
    if (!w->mem) { /* warm-up: thread pool, page faults, caches */
        o.B = B < WARMUP_B ? B : WARMUP_B;
        if (cqb_cq_boot(&spec, &o, &res, &err) != CQB_OK) {
            printf("  error: %s\n", err.msg);
            rc = 1;
            goto done;
        }
        cqb_cq_result_free(&res);
    }
    o.B = B;
    double *wall = malloc((size_t)reps * 3 * sizeof *wall);
    if (!wall) {
        printf("  error: out of memory\n");
        rc = 1;
        goto done;
    }
    double *tpt = wall + reps, *tbt = wall + 2 * reps;
    uint64_t sum0 = 0;
    int same = 1, two_pass = 0;
    size_t peak_sel = 0;
    cqb_cq_cell c0;
    cqb_cq_qtest q0;
    memset(&c0, 0, sizeof c0);
    memset(&q0, 0, sizeof q0);
    for (int r = 0; r < reps; ++r) {
        double t0 = now_s();
        cqb_status st = cqb_cq_boot(&spec, &o, &res, &err);
        wall[r] = now_s() - t0;
        if (st != CQB_OK) {
            printf("  error: %s\n", err.msg);
            free(wall);
            rc = 1;
            goto done;
        }
        tpt[r] = res.seconds_point;
        tbt[r] = res.seconds_boot;
        uint64_t sum = result_checksum(&res);
        if (r == 0) {
            sum0 = sum;
            two_pass = res.two_pass;
            peak_sel = res.peak_selector_bytes;
            c0 = res.cells[0];
            if (res.nqtests) q0 = res.qtests[nl - 1]; /* first cell, p = max lag */
        } else if (sum != sum0) {
            same = 0;
        }
        cqb_cq_result_free(&res);
    }
    const double peak = peak_rss_mib();
    double wmin = wall[0], wmax = wall[0];
    for (int r = 1; r < reps; ++r) {
        if (wall[r] < wmin) wmin = wall[r];
        if (wall[r] > wmax) wmax = wall[r];
    }
    const double wmed = median(wall, reps), tp = median(tpt, reps), tb = median(tbt, reps);
    free(wall);
    const double rep_s = (double)B / wmed, repcells_s = (double)B * (double)cells / wmed;
    if (!strcmp(w->name, "W1")) g_w1_wall = wmed;

    char r1[32], r2[32];
    printf("  wall      median %.3f s, min %.3f s, max %.3f s (%d rep%s%s)\n", wmed, wmin, wmax, reps,
           reps == 1 ? "" : "s", w->mem ? ", no warm-up" : ", after 1 warm-up run");
    printf("            point estimates %.4f s, bootstrap %.3f s (median, as reported by the engine)\n", tp, tb);
    fmt_thousands(rep_s, r1, sizeof r1);
    fmt_thousands(repcells_s, r2, sizeof r2);
    printf("  rate      %s replicates/s, %s replicate-cells/s (%.2f us/replicate)\n", r1, r2,
           1e6 * wmed / (double)B);
    printf("  memory    peak RSS %.1f MiB (process-wide%s), selector peak %.1f MiB, two-pass %s\n", peak,
           first ? "" : ", includes earlier workloads", (double)peak_sel / 1048576.0, two_pass ? "yes" : "no");
    if (w->mem)
        printf("            under 1 GiB: %s (%.1f MiB of %.0f MiB)\n", peak < MEM_LIMIT_MIB ? "PASS" : "FAIL", peak,
               MEM_LIMIT_MIB);
    printf("  check     checksum %016" PRIx64 "%s; cell (%.2f, %.2f, k=%zu): rho %.6f, band [%.6f, %.6f], "
           "p %.4f, gamma %.4f\n",
           sum0, reps > 1 ? (same ? ", identical over reps" : ", DIFFERS between reps") : "", c0.alpha_y,
           c0.alpha_x, c0.lag, c0.rho, c0.band_lo, c0.band_hi, c0.p_value, c0.gamma);
    if (spec.qtests)
        printf("            Q test (%.2f, %.2f, p=%zu): Q_BP %.4f, cv %.4f, p %.4f\n", q0.alpha_y, q0.alpha_x, q0.p,
               q0.q_bp, q0.cv_bp, q0.p_bp);
    if (w->gamma > 0.0) {
        double gmin, gmax;
        double tg = time_auto_gamma(y, x, T, lags, nl, spec.qtests ? nl : 0, &gmin, &gmax, &err);
        if (tg >= 0.0)
            printf("  gamma     automatic rule (Politis-White b.star, %zu plans): %.2f ms, gamma in [%.4f, %.4f] "
                   "(not in the timings above)\n",
                   nl + 1, 1e3 * tg, gmin, gmax);
        else
            printf("  gamma     automatic rule failed: %s\n", err.msg);
    }

    /* Ratio against R's quantilogram. */
    double ratio;
    if (r_quantilogram_available()) {
        int bsize = T > 2000 ? 200 : 500;
        double el = 0.0, rr = r_measure(y, x, T, w->ay[0], w->ax[0], bsize, &el);
        if (rr > 0.0) {
            ratio = repcells_s / rr;
            printf("  R         quantilogram::crossq.sb, one cell (%.2f, %.2f, k=1), Bsize %d: %.3f s = %.0f "
                   "replicate-cells/s (measured, 1 R thread)\n",
                   w->ay[0], w->ax[0], bsize, el, rr);
            printf("  ratio     %.0fx R quantilogram (measured)\n", ratio);
        } else {
            ratio = repcells_s / R_QUOTED_REPCELLS_PER_S;
            printf("  R         quantilogram loads but crossq.sb could not be timed; using the quoted figure\n");
            printf("  ratio     %.0fx the quoted R figure (~1,000 replicate-cells/s, engine-design.md §7.2)\n",
                   ratio);
        }
    } else {
        ratio = repcells_s / R_QUOTED_REPCELLS_PER_S;
        printf("  R         R quantilogram: not installed; reference figure ~1,000 replicate-cells/s "
               "(engine-design.md §7.2: 0.52 ms per replicate per (pair, lag) at T = 1,000)\n");
        printf("  ratio     %.0fx the quoted R figure (quoted, not measured here)\n", ratio);
    }

    if (w->null_scheme >= 0 && g_w1_wall > 0.0)
        printf("  calibrated %.2fx the wall time of W1 (target <= 1.5x); cell (%.2f, %.2f, k=%zu): p_null %.4f\n",
               wmed / g_w1_wall, c0.alpha_y, c0.alpha_x, c0.lag, c0.p_null);
    printf("RESULT workload=%s T=%zu B=%zu cells=%zu wall_s=%.4f rep_per_s=%.1f repcells_per_s=%.1f "
           "peak_mib=%.1f wall_min_s=%.4f wall_max_s=%.4f reps=%d threads=%d backend=%s two_pass=%d "
           "ratio_r=%.1f%s%s\n",
           w->name, T, B, cells, wmed, rep_s, repcells_s, peak, wmin, wmax, reps, be.threads, be.name, two_pass,
           ratio, w->mem ? " under_1gib=" : "", w->mem ? (peak < MEM_LIMIT_MIB ? "PASS" : "FAIL") : "");
    if (w->mem && !(peak < MEM_LIMIT_MIB)) rc = 1;
done:
    fflush(stdout);
    cqb_backend_close(&be);
    cqb_series_set_free(&set);
    cqb_frame_free(frame);
    return rc;
}

/* ----------------------------------------------------------------- main -- */

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

    printf("cqboot bench_cq  version %s  git %s  %s\n", CQB_VERSION, git, date);
    printf("build     %s; %s; CUDA backend %s\n", build_type(),
#ifdef __VERSION__
           "cc " __VERSION__,
#else
           "cc unknown",
#endif
           cqb_backend_cuda_built() ? "built" : "not built");
    char thr[32];
    if (a.threads)
        snprintf(thr, sizeof thr, "%d (--threads)", a.threads);
    else
        snprintf(thr, sizeof thr, "all");
    printf("machine   %s, %d cores online, OpenMP max threads %d, bench threads: %s\n", cpu, cpu_count(),
           omp_get_max_threads(), thr);
    fflush(stdout);

    int rc = 0, first = 1;
    for (int i = 0; i < NWORKLOADS; ++i) {
        const workload *w = &workloads[i];
        if (a.only ? strcmp(a.only, w->name) != 0 : (w->mem && !a.mem)) continue;
        rc |= run_workload(w, &a, first);
        first = 0;
    }
    return rc;
}
