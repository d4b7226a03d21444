/* cmd_wavelet.c — `cqboot modwt|wmc|wmcc|wlmc|wlmcc`: the MODWT and wavelet
 * (local) multiple (cross-)correlations of wavemulcor, with resampling
 * significance (cqboot/wnull.h). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scale.h"
#include "cmds.h"
#include "cqboot/backend.h"
#include "cqboot/version.h"
#include "cqboot/wavelet.h"
#include "cqboot/wlmc.h"
#include "cqboot/wmc.h"
#include "cqboot/wnull.h"

enum { W_MODWT, W_WMC, W_WMCC, W_WLMC, W_WLMCC };

static const char *const NAMES[] = {"modwt", "wmc", "wmcc", "wlmc", "wlmcc"};
static const char *const WHAT[] = {
    "the maximal overlap discrete wavelet transform of one series (waveslim modwt,\n"
    "brick.wall masking; --align adds waveslim's phase.shift)",
    "the wavelet multiple correlation per level (wavemulcor\n"
    "wave.multiple.correlation) with its Fisher-z interval",
    "the wavelet multiple cross-correlation per level and lag (wavemulcor\n"
    "wave.multiple.cross.correlation)",
    "the wavelet local multiple correlation per level and time (wavemulcor\n"
    "wave.local.multiple.correlation)",
    "the wavelet local multiple cross-correlation per level, time and lag\n"
    "(wavemulcor wave.local.multiple.cross.correlation)"};

static void help(int kind)
{
    printf("Usage: cqboot %s --data FILE.csv --cols %s [OPTION]...\n", NAMES[kind], kind == W_MODWT ? "A" : "A,B[,C...]");
    printf("Computes %s.\n\n", WHAT[kind]);
    printf("Data:\n"
           "  --data FILE         CSV with a header row (see 'cqboot cq --help')\n"
           "  --cols LIST         the series, in order%s\n"
           "  --transform COL=T   logdiff, diff, pct or level (repeatable)\n"
           "  --from DATE, --to DATE\n"
           "                      analyse the rows in this range (inclusive)\n"
           CLI_INPUT_HELP
           "Transform:\n"
           "  --wavelet NAME      haar, d4, d6, d8, la8 (default), la16, la20\n"
           "  --levels J          decomposition levels (default 4, at most what the\n"
           "                      length allows)\n"
           "  --boundary B        periodic (default) or reflection\n"
           "  --dt X              time unit of the period bands (default 1: rows)\n",
           kind == W_MODWT ? " (one)" : " (two or more)");
    if (kind == W_MODWT) {
        printf("  --align             apply waveslim's phase.shift (time alignment)\n");
    } else {
        printf("Statistic:\n"
               "  --mode MODE         compat (default: wavemulcor 3.1.2 exactly, quirks\n"
               "                      included) or corrected (docs/cli.md)\n"
               "  --level P           confidence level of the Fisher-z intervals and of the\n"
               "                      family-wise critical values (default 0.95)\n"
               "  --ymaxr COL         fix the dependent variable (name or 1-based index);\n"
               "                      default: the one with the largest R^2\n");
        if (kind == W_WMCC || kind == W_WLMCC)
            printf("  --lag-max L         lags -L..L (default trunc(sqrt(n)/2))\n");
        if (kind == W_WLMC || kind == W_WLMCC)
            printf("  --window NAME       uniform, cleveland, epanechnikov, bartlett, wendland,\n"
                   "                      gaussian (default)\n"
                   "  --M SIZE            window size (required)\n");
        printf("Resampling significance (an engine addition):\n"
               "  --boot B            replicates of the null distribution (default 0: none)\n"
               "  --null SCHEME       bootstrap (independent stationary bootstrap of each\n"
               "                      series, default), phase (phase randomisation),\n"
               "                      rotation (circular rotation of each level), joint\n"
               "                      (joint bootstrap intervals; wmc and wmcc only)\n"
               "  --gamma G|auto      restart probability of the bootstrap schemes\n"
               "  --seed S            64-bit seed (default 1)\n"
               "  --threads N         CPU threads (default 0: all cores)\n"
               "  --backend NAME      where the replicates run: auto (default: CUDA when\n"
               "                      usable), cpu or cuda (wmc and wlmc; the lagged\n"
               "                      statistics always run on the CPU)\n");
    }
    printf("Output (without --json/--csv a table is printed):\n"
           "  --json FILE         results as JSON ('-' for stdout)\n"
           "  --csv FILE          one row per level%s ('-' for stdout)\n"
           "  --progress MODE     of the resampling: auto (default: a bar if stderr is\n"
           "                      a terminal), bar, plain, none\n"
           "  --quiet             no progress and no notices\n"
           "  --help              this help\n\n"
           "Exit status: 0 ok, 2 usage, 3 data or file, 4 backend unavailable,\n"
           "5 out of memory, 130 interrupted (SIGINT), 143 terminated (SIGTERM);\n"
           "docs/safety.md.\n",
           kind >= W_WLMC ? ", time" : "");
}

enum {
    O_DATA = 256, O_COLS, O_TRANSFORM, O_FROM, O_TO, O_WAVELET, O_LEVELS, O_BOUNDARY, O_DT, O_ALIGN, O_MODE,
    O_LEVEL, O_YMAXR, O_LAGMAX, O_WINDOW, O_M, O_BOOT, O_NULL, O_GAMMA, O_SEED, O_THREADS, O_JSON, O_CSV, O_QUIET,
    O_HELP, O_BACKEND, O_PROGRESS
};

static const struct option OPTS[] = {
    {"data", required_argument, 0, O_DATA},         {"cols", required_argument, 0, O_COLS},
    {"transform", required_argument, 0, O_TRANSFORM}, CLI_INPUT_OPTIONS, {"from", required_argument, 0, O_FROM},
    {"to", required_argument, 0, O_TO},             {"wavelet", required_argument, 0, O_WAVELET},
    {"levels", required_argument, 0, O_LEVELS},     {"boundary", required_argument, 0, O_BOUNDARY},
    {"dt", required_argument, 0, O_DT},             {"align", no_argument, 0, O_ALIGN},
    {"mode", required_argument, 0, O_MODE},         {"level", required_argument, 0, O_LEVEL},
    {"ymaxr", required_argument, 0, O_YMAXR},       {"lag-max", required_argument, 0, O_LAGMAX},
    {"window", required_argument, 0, O_WINDOW},     {"M", required_argument, 0, O_M},
    {"boot", required_argument, 0, O_BOOT},         {"null", required_argument, 0, O_NULL},
    {"gamma", required_argument, 0, O_GAMMA},       {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},   {"json", required_argument, 0, O_JSON},
    {"csv", required_argument, 0, O_CSV},           {"quiet", no_argument, 0, O_QUIET},
    {"help", no_argument, 0, O_HELP},               {"backend", required_argument, 0, O_BACKEND},
    {"progress", required_argument, 0, O_PROGRESS}, {0, 0, 0, 0}};

typedef struct wargs {
    const char *data, *from, *to, *json, *csv, *ymaxr;
    char *colbuf;
    const char *cols[64];
    size_t ncols;
    cli_transforms tr;
    cqb_wavelet wf;
    int J;
    cqb_boundary bnd;
    double dt;
    int align, quiet, progress;
    cqb_wmc_opts o;
    double level;
    uint64_t B, seed;
    cqb_wnull null;
    double gamma;
    long threads;
    cqb_backend_kind backend;
} wargs;

static int parse(int kind, wargs *a, int argc, char **argv)
{
    const char *cmd = NAMES[kind];
    memset(a, 0, sizeof *a);
    a->wf = CQB_WAVELET_LA8;
    a->J = 4;
    a->bnd = CQB_BOUNDARY_PERIODIC;
    a->dt = 1.0;
    a->level = 0.95;
    a->seed = 1;
    a->backend = CQB_BACKEND_AUTO;
    cqb_wmc_opts_default(&a->o);
    int c, levels_given = 0, progress_given = 0;
    cqb_error err;
    optind = 0; /* 0: glibc forgets the previous parse (in-process runs, fuzzing) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", OPTS, NULL)) != -1) {
        int rc = 0;
        long lv;
        switch (c) {
        case O_DATA: a->data = optarg; break;
        case O_COLS: {
            free(a->colbuf);
            a->colbuf = strdup(optarg);
            if (!a->colbuf) return cli_oom(cmd);
            a->ncols = 0;
            char *save = NULL;
            for (char *t = strtok_r(a->colbuf, ",", &save); t && a->ncols < 64; t = strtok_r(NULL, ",", &save))
                a->cols[a->ncols++] = t;
            break;
        }
        case O_TRANSFORM: rc = cli_transform_add(&a->tr, optarg, cmd); break;
        case CLI_OPT_SEP:
        case CLI_OPT_DECIMAL:
        case CLI_OPT_DATE_FORMAT: rc = cli_input_option(&a->tr, c, optarg, cmd); break;
        case O_FROM: a->from = optarg; break;
        case O_TO: a->to = optarg; break;
        case O_WAVELET:
            if (cqb_wavelet_parse(optarg, &a->wf, &err) != CQB_OK)
                rc = cli_usage_error(cmd, "--wavelet: unknown filter '%s' (haar, d4, d6, d8, la8, la16, la20)", optarg);
            break;
        case O_LEVELS:
            if (cli_parse_int(optarg, 1, 30, &lv)) rc = cli_usage_error(cmd, "--levels: '%s' is not a level count in 1..30", optarg);
            a->J = (int)lv;
            levels_given = 1;
            break;
        case O_BOUNDARY:
            if (cqb_boundary_parse(optarg, &a->bnd, &err) != CQB_OK)
                rc = cli_usage_error(cmd, "--boundary: unknown boundary '%s' (periodic, reflection)", optarg);
            break;
        case O_DT:
            if (cli_parse_double(optarg, &a->dt) || !(a->dt > 0)) rc = cli_usage_error(cmd, "--dt: '%s' is not a positive number", optarg);
            break;
        case O_ALIGN: a->align = 1; break;
        case O_MODE:
            if (!strcmp(optarg, "compat")) a->o.mode = CQB_WMC_COMPAT;
            else if (!strcmp(optarg, "corrected")) a->o.mode = CQB_WMC_CORRECTED;
            else rc = cli_usage_error(cmd, "--mode: unknown mode '%s' (compat, corrected)", optarg);
            break;
        case O_LEVEL:
            if (cli_parse_double(optarg, &a->level) || !(a->level > 0 && a->level < 1))
                rc = cli_usage_error(cmd, "--level: '%s' is not in (0,1)", optarg);
            break;
        case O_YMAXR: a->ymaxr = optarg; break;
        case O_LAGMAX:
            if (cli_parse_int(optarg, 0, 100000, &lv)) rc = cli_usage_error(cmd, "--lag-max: '%s' is not a lag count", optarg);
            a->o.lag_max = (int)lv;
            break;
        case O_WINDOW:
            if (cqb_window_parse(optarg, &a->o.window, &err) != CQB_OK)
                rc = cli_usage_error(cmd, "--window: unknown window '%s' (uniform, cleveland, epanechnikov, bartlett, "
                                          "wendland, gaussian)",
                                     optarg);
            break;
        case O_M:
            if (cli_parse_double(optarg, &a->o.M) || !(a->o.M >= 1)) rc = cli_usage_error(cmd, "--M: '%s' is not a window size >= 1", optarg);
            break;
        case O_BOOT:
            if (cli_parse_u64(optarg, &a->B) || a->B > UINT32_MAX)
                rc = cli_usage_error(cmd, "--boot: '%s' is not a replicate count", optarg);
            break;
        case O_NULL:
            if (cqb_wnull_parse(optarg, &a->null))
                rc = cli_usage_error(cmd, "--null: unknown scheme '%s' (bootstrap, phase, rotation, joint)", optarg);
            break;
        case O_GAMMA:
            if (!strcmp(optarg, "auto")) a->gamma = 0;
            else if (cli_parse_double(optarg, &a->gamma) || !(a->gamma > 0 && a->gamma <= 1))
                rc = cli_usage_error(cmd, "--gamma: '%s' is not in (0,1] or auto", optarg);
            break;
        case O_SEED:
            if (cli_parse_u64(optarg, &a->seed)) rc = cli_usage_error(cmd, "--seed: '%s' is not a 64-bit integer", optarg);
            break;
        case O_THREADS:
            if (cli_parse_int(optarg, 0, 4096, &a->threads)) rc = cli_usage_error(cmd, "--threads: '%s' is not a thread count", optarg);
            break;
        case O_BACKEND:
            if (cqb_backend_parse(optarg, &a->backend))
                rc = cli_usage_error(cmd, "--backend: unknown backend '%s' (auto, cpu, cuda)", optarg);
            break;
        case O_JSON: a->json = optarg; break;
        case O_CSV: a->csv = optarg; break;
        case O_QUIET: a->quiet = 1; break;
        case O_PROGRESS:
            if (cli_progress_mode(optarg, &a->progress))
                rc = cli_usage_error(cmd, "--progress: unknown mode '%s' (auto, bar, plain, none)", optarg);
            progress_given = 1;
            break;
        case O_HELP: help(kind); return -1;
        default: rc = cli_getopt_error(cmd, c, argv); break;
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->data) return cli_usage_error(cmd, "--data FILE is required");
    if (!a->ncols) return cli_usage_error(cmd, "--cols is required");
    if (kind == W_MODWT && a->ncols != 1) return cli_usage_error(cmd, "--cols: modwt takes one series");
    if (kind != W_MODWT && a->ncols < 2) return cli_usage_error(cmd, "--cols: at least 2 series");
    if ((kind == W_WLMC || kind == W_WLMCC) && !(a->o.M >= 1)) return cli_usage_error(cmd, "--M SIZE is required");
    if (a->B && a->null == CQB_WNULL_JOINT && (kind == W_WLMC || kind == W_WLMCC))
        return cli_usage_error(cmd, "--null joint: joint-bootstrap intervals are for wmc and wmcc only");
    a->o.p = 1.0 - (1.0 - a->level) / 2.0;
    if (!progress_given) cli_progress_mode("auto", &a->progress);
    if (a->quiet) a->progress = 0;
    (void)levels_given;
    return 0;
}

/* Period band of level i (0-based; i == J is the smooth). */
static void band(int i, int J, double dt, char *buf, size_t n)
{
    if (i < J) snprintf(buf, n, "%g-%g", dt * ldexp(1.0, i + 1), dt * ldexp(1.0, i + 2));
    else snprintf(buf, n, ">%g", dt * ldexp(1.0, J + 1));
}

static void level_name(int i, int J, char *buf, size_t n)
{
    if (i < J) snprintf(buf, n, "d%d", i + 1);
    else snprintf(buf, n, "s%d", J);
}

int cmd_wavelet(int argc, char **argv)
{
    int kind = -1;
    for (int k = 0; k < 5; ++k)
        if (!strcmp(argv[0], NAMES[k])) kind = k;
    const char *cmd = NAMES[kind];
    double t0 = cli_now();
    wargs a;
    int rc = parse(kind, &a, argc, argv);
    if (rc) {
        free(a.colbuf);
        for (size_t i = 0; i < a.tr.n; ++i) free((char *)a.tr.col[i]);
        return rc < 0 ? 0 : rc;
    }
    if (cli_check_only == 1) {
        free(a.colbuf);
        for (size_t i = 0; i < a.tr.n; ++i) free((char *)a.tr.col[i]);
        return 0;
    }
    cqb_error err = {CQB_OK, ""};
    cli_data d;
    memset(&d, 0, sizeof d);
    cli_out oj, oc;
    memset(&oj, 0, sizeof oj);
    memset(&oc, 0, sizeof oc);
    cqb_status st;
    double *coef = NULL, *val = NULL, *lo = NULL, *up = NULL, *pv = NULL, *ns = NULL;
    int *dep = NULL;
    cqb_wtest_result wt;
    memset(&wt, 0, sizeof wt);
    cqb_backend be;
    memset(&be, 0, sizeof be);
    int be_open = 0;
    cJSON *root = NULL;
    {
        const char *in[] = {a.data}, *in_opt[] = {"--data"}, *out[] = {a.json, a.csv}, *out_opt[] = {"--json", "--csv"};
        if ((rc = cli_check_outputs(cmd, in, in_opt, 1, out, out_opt, 2)) != 0) goto done;
    }
    if (a.json && (st = cli_out_open(&oj, a.json, "--json", &err)) != CQB_OK) goto fail;
    if (a.csv && (st = cli_out_open(&oc, a.csv, "--csv", &err)) != CQB_OK) goto fail;
    if ((st = cli_load(a.data, a.cols, a.ncols, &a.tr, a.from, a.to, &d, &err)) != CQB_OK) goto fail;
    const size_t n = d.set.T, dd = a.ncols;
    const int J = a.J;
    if (J > cqb_modwt_max_level(n, a.bnd)) {
        st = cqb_error_set(&err, CQB_EUSAGE, "--levels %d: too many levels for %zu rows (at most %d)", J, n,
                           cqb_modwt_max_level(n, a.bnd));
        goto fail;
    }
    if (a.ymaxr) {
        long idx = 0;
        for (size_t k = 0; k < dd; ++k)
            if (!strcmp(a.cols[k], a.ymaxr)) idx = (long)k + 1;
        if (!idx && (cli_parse_int(a.ymaxr, 1, (long)dd, &idx))) {
            st = cqb_error_set(&err, CQB_EUSAGE, "--ymaxr: '%s' is neither one of --cols nor an index in 1..%zu", a.ymaxr, dd);
            goto fail;
        }
        a.o.ymaxr = (int)idx;
    }
    const int local = kind == W_WLMC || kind == W_WLMCC, cross = kind == W_WMCC || kind == W_WLMCC;
    const size_t L1 = (size_t)J + 1;
    size_t len = kind == W_MODWT ? cqb_modwt_length(n, a.bnd) : cqb_wlevels_length(n, a.bnd, a.o.mode);
    int lm = 0;
    size_t ncell = 0, ndep = 0;

    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "tool", kind == W_MODWT ? "cqboot modwt" : kind == W_WMC ? "cqboot wmc"
                                          : kind == W_WMCC ? "cqboot wmcc" : kind == W_WLMC ? "cqboot wlmc" : "cqboot wlmcc");
    cJSON_AddStringToObject(root, "version", CQB_VERSION);
    cJSON_AddItemToObject(root, "input", cli_input_json(&d, a.cols, a.ncols, &a.tr));
    cJSON *opt = cJSON_AddObjectToObject(root, "options");
    cJSON_AddStringToObject(opt, "wavelet", cqb_wavelet_name(a.wf));
    cJSON_AddNumberToObject(opt, "levels", J);
    cJSON_AddStringToObject(opt, "boundary", cqb_boundary_name(a.bnd));
    cJSON_AddItemToObject(opt, "dt", cli_json_num(a.dt));

    if (kind == W_MODWT) {
        coef = malloc(L1 * len * sizeof *coef);
        if (!coef) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        if ((st = cqb_modwt(d.set.x, n, a.wf, J, a.bnd, coef, NULL, &err)) != CQB_OK) goto fail;
        if (cli_check_only) goto done; /* cqboot run's validation: the transform ran */
        cqb_modwt_brick_wall(coef, len, a.wf, J);
        if (a.align) cqb_modwt_phase_shift(coef, len, a.wf, J);
        cJSON_AddBoolToObject(opt, "align", a.align);
        val = coef;
        ncell = L1 * len;
    } else {
        cqb_wlevels in;
        coef = malloc(L1 * dd * len * sizeof *coef);
        if (!coef) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        if ((st = cqb_wlevels_prepare(d.set.x, n, n, dd, a.wf, J, a.bnd, a.o.mode, local, coef, &in, NULL, &err)) !=
            CQB_OK)
            goto fail;
        lm = cross ? cqb_wmc_lags(len, &a.o) : 0;
        const size_t w = 2 * (size_t)lm + 1;
        ncell = local ? L1 * len * w : L1 * w;
        ndep = local ? L1 * len : L1;
        val = malloc(ncell * sizeof *val);
        lo = malloc(ncell * sizeof *lo);
        up = malloc(ncell * sizeof *up);
        pv = malloc(ncell * sizeof *pv);
        ns = malloc(ncell * sizeof *ns);
        dep = malloc(ndep * sizeof *dep);
        if (!val || !lo || !up || !pv || !ns || !dep) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        cqb_wmc_out o = {val, lo, up, dep, pv, ns};
        a.o.cancel = &cli_interrupted; /* the local statistics poll it */
        switch (kind) {
        case W_WMC: st = cqb_wmc(&in, &a.o, NULL, &o, &err); break;
        case W_WMCC: st = cqb_wmcc(&in, &a.o, NULL, &o, &err); break;
        case W_WLMC: st = cqb_wlmc(&in, &a.o, NULL, &o, &err); break;
        default: st = cqb_wlmcc(&in, &a.o, NULL, &o, &err); break;
        }
        if (st != CQB_OK) goto fail;
        if (cli_check_only && !a.B) goto done; /* cqboot run's validation: the statistic ran */
        cJSON_AddStringToObject(opt, "mode", a.o.mode == CQB_WMC_COMPAT ? "compat" : "corrected");
        cJSON_AddItemToObject(opt, "level", cli_json_num(a.level));
        if (a.o.ymaxr) cJSON_AddStringToObject(opt, "ymaxr", a.cols[a.o.ymaxr - 1]);
        else cJSON_AddStringToObject(opt, "ymaxr", "argmax");
        if (cross) cJSON_AddNumberToObject(opt, "lag_max", lm);
        if (local) {
            cJSON_AddStringToObject(opt, "window", cqb_window_name(a.o.window));
            cJSON_AddItemToObject(opt, "M", cli_json_num(a.o.M));
        }
        cJSON_AddNumberToObject(opt, "boot", (double)a.B);
        if (a.B) {
            cqb_wtest_spec ws;
            memset(&ws, 0, sizeof ws);
            ws.x = d.set.x;
            ws.ldx = n;
            ws.n = n;
            ws.d = dd;
            ws.wf = a.wf;
            ws.J = J;
            ws.boundary = a.bnd;
            ws.opts = a.o;
            ws.stat = kind == W_WMC ? CQB_WSTAT_WMC : kind == W_WMCC ? CQB_WSTAT_WMCC
                      : kind == W_WLMC ? CQB_WSTAT_WLMC : CQB_WSTAT_WLMCC;
            ws.null = a.null;
            ws.B = cli_check_only ? 1 : (size_t)a.B; /* validation: one replicate */
            ws.seed = a.seed;
            ws.gamma = a.gamma;
            ws.level = a.level;
            ws.threads = (int)a.threads;
            char notice[256];
            if ((st = cqb_backend_open(a.backend, (int)a.threads, &be, notice, sizeof notice, &err)) != CQB_OK) goto fail;
            be_open = 1;
            cli_scale_wrap(&be, ws.B); /* shards, merge, MPI ranks (docs/scale-out.md) */
            if (!cli_check_only) cli_backend_notice(cmd, notice, a.quiet);
            ws.backend = &be;
            ws.cancel = &cli_interrupted;
            cli_progress prog;
            char label[32];
            snprintf(label, sizeof label, "cqboot %s", cmd);
            cli_progress_init(&prog, cli_check_only ? 0 : a.progress, label); /* 0: none */
            ws.progress = cli_progress_cb;
            ws.progress_user = &prog;
            st = cqb_wtest(&ws, &wt, &err);
            cli_progress_done(&prog);
            if (st != CQB_OK) goto fail;
            if (cli_check_only) goto done;
            if (be.kind != CQB_BACKEND_CPU) cli_backend_notice(cmd, wt.note, a.quiet);
            cJSON_AddStringToObject(opt, "null", cqb_wnull_name(a.null));
            char sb[32];
            snprintf(sb, sizeof sb, "%llu", (unsigned long long)a.seed);
            cJSON_AddRawToObject(opt, "seed", sb);
            if (a.null == CQB_WNULL_BOOTSTRAP || a.null == CQB_WNULL_JOINT) cJSON_AddItemToObject(opt, "gamma", cli_json_num(wt.gamma));
            cJSON_AddNumberToObject(opt, "threads", a.threads);
            cJSON_AddStringToObject(opt, "backend", wt.backend);
            if (strcmp(wt.backend, "cpu")) cJSON_AddStringToObject(opt, "device", be.device);
        }
    }

    /* JSON levels */
    const size_t w = 2 * (size_t)lm + 1;
    cJSON *levels = cJSON_AddArrayToObject(root, "levels");
    for (size_t i = 0; a.json && i < L1; ++i) { /* only --json prints them */
        /* long series make long outputs: stop between levels when asked */
        if (cli_interrupted) {
            st = cqb_error_set(&err, CQB_EUSAGE, "interrupted");
            goto fail;
        }
        cJSON *lv = cJSON_CreateObject();
        char nm[16], bd[64];
        level_name((int)i, J, nm, sizeof nm);
        band((int)i, J, a.dt, bd, sizeof bd);
        cJSON_AddStringToObject(lv, "level", nm);
        cJSON_AddStringToObject(lv, "band", bd);
        if (kind == W_MODWT || local) {
            cJSON *dates = cJSON_AddArrayToObject(lv, "date");
            for (size_t t = 0; t < len; ++t)
                cJSON_AddItemToArray(dates, t < n ? cJSON_CreateString(d.set.labels[t]) : cJSON_CreateNull());
        }
        if (cross) {
            cJSON *lg = cJSON_AddArrayToObject(lv, "lag");
            for (int tau = -lm; tau <= lm; ++tau) cJSON_AddItemToArray(lg, cJSON_CreateNumber(tau));
        }
        if (kind == W_MODWT) {
            cJSON *cf = cJSON_AddArrayToObject(lv, "coef");
            for (size_t t = 0; t < len; ++t) cJSON_AddItemToArray(cf, cli_json_num(coef[i * len + t]));
            cJSON_AddItemToArray(levels, lv);
            continue;
        }
        /* value arrays: global: [lag] (or scalar for wmc); local: [time] or [time][lag] */
        const char *keys[] = {"value", "lo", "up", "p_f", "p_boot", "p_fw", "boot_lo", "boot_hi"};
        const double *src[] = {val, lo, up, pv, wt.p, wt.p_fw, wt.lo, wt.hi};
        for (int kx = 0; kx < 8; ++kx) {
            if (!src[kx]) continue;
            if (cli_interrupted) {
                cJSON_Delete(lv);
                st = cqb_error_set(&err, CQB_EUSAGE, "interrupted");
                goto fail;
            }
            if (!local) {
                if (!cross) {
                    cJSON_AddItemToObject(lv, keys[kx], cli_json_num(src[kx][i]));
                } else {
                    cJSON *arr = cJSON_AddArrayToObject(lv, keys[kx]);
                    for (size_t q = 0; q < w; ++q) cJSON_AddItemToArray(arr, cli_json_num(src[kx][i * w + q]));
                }
            } else {
                cJSON *arr = cJSON_AddArrayToObject(lv, keys[kx]);
                for (size_t t = 0; t < len; ++t) {
                    if (!cross) {
                        cJSON_AddItemToArray(arr, cli_json_num(src[kx][i * len + t]));
                    } else {
                        cJSON *inner = cJSON_CreateArray();
                        for (size_t q = 0; q < w; ++q) cJSON_AddItemToArray(inner, cli_json_num(src[kx][(i * len + t) * w + q]));
                        cJSON_AddItemToArray(arr, inner);
                    }
                }
            }
        }
        if (!local) {
            cJSON_AddItemToObject(lv, "n", cli_json_num(ns[cross ? i * w + (size_t)lm : i]));
            cJSON_AddItemToObject(lv, "ymaxr", dep[i] ? cJSON_CreateString(a.cols[dep[i] - 1]) : cJSON_CreateNull());
        } else {
            cJSON *ym = cJSON_AddArrayToObject(lv, "ymaxr");
            for (size_t t = 0; t < len; ++t)
                cJSON_AddItemToArray(ym, dep[i * len + t] ? cJSON_CreateString(a.cols[dep[i * len + t] - 1]) : cJSON_CreateNull());
        }
        if (a.B && wt.nfam) {
            if (!cross || !local) cJSON_AddItemToObject(lv, "cv_fw", cli_json_num(wt.cv_fw[i]));
            else {
                cJSON *cv = cJSON_AddArrayToObject(lv, "cv_fw");
                for (size_t q = 0; q < w; ++q) cJSON_AddItemToArray(cv, cli_json_num(wt.cv_fw[i * w + q]));
            }
        }
        cJSON_AddItemToArray(levels, lv);
    }
    cJSON *tm = cJSON_AddObjectToObject(root, "timing");
    cJSON_AddItemToObject(tm, "total_s", cli_json_num(cli_now() - t0));

    if (a.json) {
        char *txt = cli_interrupted ? NULL : cJSON_Print(root);
        if (cli_interrupted) {
            free(txt);
            st = cqb_error_set(&err, CQB_EUSAGE, "interrupted");
            goto fail;
        }
        if (!txt) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        FILE *f = oj.f;
        fputs(txt, f);
        fputc('\n', f);
        free(txt);
    }
    if (a.csv || (!a.json && !cli_scale_silent())) {
        FILE *f = a.csv ? oc.f : stdout;
        const int table = !a.csv;
        if (kind == W_MODWT) {
            fprintf(f, table ? "%-8s %-10s %s\n" : "%s,%s,%s\n", "level", "date", "coef");
        } else {
            fprintf(f, "level,band,%s%svalue,lo,up,ymaxr%s\n", local ? "date," : "", cross ? "lag," : "",
                    a.B ? (a.null == CQB_WNULL_JOINT ? ",boot_lo,boot_hi" : ",p_boot,p_fw") : "");
        }
        for (size_t i = 0; i < L1; ++i) {
            char nm[16], bd[64];
            level_name((int)i, J, nm, sizeof nm);
            band((int)i, J, a.dt, bd, sizeof bd);
            const size_t nt = (kind == W_MODWT || local) ? len : 1;
            for (size_t t = 0; t < nt; ++t) {
                if ((t & 1023) == 0 && cli_interrupted) {
                    st = cqb_error_set(&err, CQB_EUSAGE, "interrupted");
                    goto fail;
                }
                const char *date = (kind == W_MODWT || local) ? (t < n ? d.set.labels[t] : "NA") : "";
                if (kind == W_MODWT) {
                    char v[40];
                    cli_fmt_num(v, sizeof v, coef[i * len + t]);
                    fprintf(f, table ? "%-8s %-10s %s\n" : "%s,%s,%s\n", nm, date, v);
                    continue;
                }
                for (size_t q = 0; q < w; ++q) {
                    size_t c = local ? (i * len + t) * w + q : i * w + q;
                    int dv = local ? dep[i * len + t] : dep[i];
                    char v[40], l[40], u[40], p1[40] = "", p2[40] = "";
                    cli_fmt_num(v, sizeof v, val[c]);
                    cli_fmt_num(l, sizeof l, lo[c]);
                    cli_fmt_num(u, sizeof u, up[c]);
                    fprintf(f, "%s,%s,", nm, bd);
                    if (local) fprintf(f, "%s,", date);
                    if (cross) fprintf(f, "%d,", (int)q - lm);
                    fprintf(f, "%s,%s,%s,%s", v, l, u, dv ? a.cols[dv - 1] : "NA");
                    if (a.B) {
                        cli_fmt_num(p1, sizeof p1, a.null == CQB_WNULL_JOINT ? wt.lo[c] : wt.p[c]);
                        cli_fmt_num(p2, sizeof p2, a.null == CQB_WNULL_JOINT ? wt.hi[c] : wt.p_fw[c]);
                        fprintf(f, ",%s,%s", p1, p2);
                    }
                    fputc('\n', f);
                }
            }
        }
    }
    if (cli_stdout_check(&err)) {
        st = err.status;
        goto fail;
    }
    if ((st = cli_out_commit_all((cli_out *const[]){&oj, &oc}, 2, &err)) != CQB_OK)
        goto fail;
    rc = 0;
    goto done;
fail:
    if (st == CQB_EDATA && !strstr(err.msg, a.data)) {
        char msg[CQB_ERROR_MAX];
        snprintf(msg, sizeof msg, "%s", err.msg);
        cqb_error_set(&err, CQB_EDATA, "%s: %s", a.data, msg);
    }
    rc = cli_fail(cmd, &err);
    cli_out_abort(&oj);
    cli_out_abort(&oc);
done:
    cJSON_Delete(root);
    cqb_wtest_result_free(&wt);
    if (be_open) cqb_backend_close(&be);
    if (val != coef) free(val);
    free(coef);
    free(lo);
    free(up);
    free(pv);
    free(ns);
    free(dep);
    cli_data_free(&d);
    free(a.colbuf);
    for (size_t i = 0; i < a.tr.n; ++i) free((char *)a.tr.col[i]);
    return rc;
}
