/* cmd_cq.c — `cqboot cq`: cross-quantilogram / partial CQ with
 * stationary-bootstrap bands, p-values and portmanteau tests. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "cqboot/cq_boot.h"
#include "cqboot/cqreg.h"
#include "cqboot/nullboot.h"
#include "cqboot/selfnorm.h"
#include "cqboot/version.h"
#include "cqboot/span.h"
#include "scale.h"

static const char *const CQ_HELP =
    "Usage: cqboot cq --data FILE.csv --y COL --x COL [OPTION]...\n"
    "Cross-quantilogram of COL y at t on COL x at t-k (Han, Linton, Oka & Whang\n"
    "2016), partial CQ with controls, and stationary-bootstrap inference:\n"
    "null bands, confidence intervals, p-values, Box-Pierce/Ljung-Box Q tests.\n"
    "\n"
    "Data:\n"
    "  --data FILE         CSV with a header row; first column a date (YYYY-MM,\n"
    "                      YYYY-MM-DD, 2020Q1, ...: --date-format) or an index\n"
    "  --y COL             the predicted series (x1)\n"
    "  --x COL             the lagged predictor (x2)\n"
    "  --control COL[:LEVEL[:LAG]]\n"
    "                      a control for the partial CQ (repeatable) at quantile\n"
    "                      level LEVEL (default 0.5) and lag LAG (default: the\n"
    "                      predictor's lag k, as R quantilogram)\n"
    "  --transform COL=T   logdiff, diff, pct (100*(x_t/x_{t-1}-1)) or level\n"
    "                      (default); repeatable; differencing drops the first row\n"
    "  --from DATE, --to DATE\n"
    "                      analyse rows in this date range (inclusive; YYYY-MM\n"
    "                      covers the whole month)\n"
    CLI_INPUT_HELP
    "Statistic:\n"
    "  --alpha LIST        quantile levels of both series (default\n"
    "                      0.05,0.1,0.5,0.9,0.95)\n"
    "  --alpha-y LIST, --alpha-x LIST\n"
    "                      levels of y and of x separately\n"
    "  --lags K|A-B|LIST   lags 1..K, A..B, or a comma list (default 1-12)\n"
    "  --quantile NAME     r7_le (R quantilogram, default), type1_lt (the paper),\n"
    "                      higher_lt_sub (the Python package)\n"
    ;
/* split: ISO C limits a string literal to 4095 characters */
static const char *const CQ_HELP2 =
    "Bootstrap:\n"
    "  --boot B            replicates (default 1000); 0 = the sample statistics and\n"
    "                      Q statistics only, no resampling\n"
    "  --gamma G|auto      block restart probability in (0,1], mean block 1/G;\n"
    "                      auto (default): Politis-White as np::b.star on the\n"
    "                      resampled columns, gamma = min(1, mean(1/b))\n"
    "  --gamma-floor1      with auto: floor each b at 1 before averaging\n"
    "  --level P           confidence level of bands and tests (default 0.95)\n"
    "  --seed S            64-bit seed (default 1)\n"
    "  --independent-cells an independent resample per (alpha_y, alpha_x) cell,\n"
    "                      as R; default: one resample shared by the grid\n"
    "  --no-qtests         skip the portmanteau tests\n"
    "Calibrated test of no predictability (docs/calibrated.md; plain CQ):\n"
    "  --null-scheme S     rotation (default): every circular shift m..N-m of\n"
    "                      x's hits against y's (no random numbers; keeps each\n"
    "                      series' own dependence); sb: y and x resampled by\n"
    "                      independent stationary bootstraps (B resamples,\n"
    "                      per-series Politis-White block length unless\n"
    "                      --gamma), each keeping the sample's hit counts.\n"
    "                      p_null = two-sided mid-p of |rho_hat| against the\n"
    "                      null law of |rho*|\n"
    "  --rotation-margin M shifts m..N-m with --null-scheme rotation (default 10)\n"
    "  --mark RULE         what '*' (table, figures, report) means: null (default:\n"
    "                      p_null < 1 - level), p (bootstrap p_value < 1 - level)\n"
    "                      or band (outside R's band). The band and CI stay in the\n"
    "                      output as confidence intervals. With controls the\n"
    "                      null is y independent of x given the control hits:\n"
    "                      x's hits rotate within the strata of the control\n"
    "                      hits. With --y/x-regressors the calibrated test is\n"
    "                      not offered and null falls back to band (a notice)\n"
    "  --no-null           skip the calibrated test (p_null keys are null)\n"
    "Windows (each analysed like a --from/--to run; JSON key 'rolling'):\n"
    "  --window N          rolling windows of N rows (months for monthly data)\n"
    "  --window-years Y    windows of Y whole calendar years (needs dates)\n"
    "  --step S            move windows by S rows (or years with\n"
    "                      --window-years); default 1\n"
    "  --recursive         expanding windows from the first row instead\n"
    ;
static const char *const CQ_HELP3 =
    "  --gridwide          tests over the whole grid: sup-Q over the quantile\n"
    "                      grid, and Romano-Wolf (step-down max-|t|), Holm and\n"
    "                      Benjamini-Hochberg adjusted p-values for every cell;\n"
    "                      with the calibrated test also from the null values\n"
    "                      (p_null_rw, p_null_holm, p_null_bh, supq p_null_*)\n"
    "Many pairs (docs/scale-out.md; instead of --y/--x):\n"
    "  --series A,B,...    the series\n"
    "  --pairs all|FILE|LIST  every directed pair of --series, the Y,X lines of\n"
    "                      FILE, or a JSON LIST [[\"Y\",\"X\"],...]: one long table\n"
    "                      with y and x columns\n"
    "Scale-out (docs/scale-out.md): --shard I/N --part FILE computes shard I of\n"
    "N into FILE (cqboot merge combines the parts); under mpirun the ranks\n"
    "split the replicates (the pairs with --pairs) themselves.\n"
    "  --mem-limit MIB     memory for stored replicates before the exact\n"
    "                      two-pass selection is used (default 256)\n"
    "Conditional quantiles (quantile regression; Q tests and controls not offered):\n"
    "  --y-regressors LIST regressors of y's quantile regression: COL or COL:LAG\n"
    "                      (at t - LAG; LAG 0 by default), comma-separated\n"
    "  --x-regressors LIST the same for x (at the row of x, t - k)\n"
    "  --qreg-tie RULE     eps (default: residuals within 1e-10 x scale of zero are\n"
    "                      on the quantile, R's result on its example) or exact\n"
    "Self-normalised tests (HLOW 3.1.2; no bootstrap needed for them):\n"
    "  --selfnorm          the omnibus test of rho(1..p) = 0 for every p and the\n"
    "                      t-test of each lag (of the partial CQ with controls),\n"
    "                      with simulated critical values (cqboot sncv)\n"
    "  --omega W           trimming of the recursive estimates (default 0.1)\n"
    "Execution:\n"
    "  --backend NAME      auto (default), cpu or cuda\n"
    "  --threads N         CPU threads (default 0: all cores)\n"
    "  --progress MODE     auto (default: a bar if stderr is a terminal), plain,\n"
    "                      none\n"
    "  --quiet             no progress and no notices\n"
    "Output (without --json/--csv a table is printed on stdout):\n"
    "  --json FILE         full results as JSON ('-' for stdout)\n"
    "  --csv FILE          one row per (alpha_y, alpha_x, lag) ('-' for stdout)\n"
    "  --help              this help\n"
    "\n"
    "Exit status: 0 ok, 2 usage, 3 data or file, 4 backend unavailable,\n"
    "5 out of memory, 130 interrupted (SIGINT), 143 terminated (SIGTERM).\n"
    "--max-input SIZE bounds what is read (default 1G). Outputs that are\n"
    "devices or FIFOs are written in place, never replaced; an output that is\n"
    "the input is refused (docs/safety.md).\n";

enum {
    OPT_DATA = 256, OPT_Y, OPT_X, OPT_CONTROL, OPT_TRANSFORM, OPT_FROM, OPT_TO, OPT_ALPHA, OPT_ALPHA_Y,
    OPT_ALPHA_X, OPT_LAGS, OPT_QUANTILE, OPT_BOOT, OPT_GAMMA, OPT_GAMMA_FLOOR1, OPT_LEVEL, OPT_SEED,
    OPT_INDEP, OPT_NOQ, OPT_GRIDWIDE, OPT_YREG, OPT_XREG, OPT_QTIE, OPT_SELFNORM, OPT_OMEGA, OPT_WINDOW, OPT_WINDOW_YEARS, OPT_STEP, OPT_RECURSIVE, OPT_MEM, OPT_NULL_SCHEME, OPT_ROT_MARGIN, OPT_MARK, OPT_NO_NULL, OPT_BACKEND, OPT_THREADS, OPT_PROGRESS, OPT_QUIET, OPT_JSON, OPT_CSV, OPT_HELP
};

static const struct option CQ_OPTS[] = {
    {"data", required_argument, 0, OPT_DATA},       {"y", required_argument, 0, OPT_Y},
    {"x", required_argument, 0, OPT_X},             {"control", required_argument, 0, OPT_CONTROL},
    {"transform", required_argument, 0, OPT_TRANSFORM}, CLI_INPUT_OPTIONS, {"from", required_argument, 0, OPT_FROM},
    {"to", required_argument, 0, OPT_TO},           {"alpha", required_argument, 0, OPT_ALPHA},
    {"alpha-y", required_argument, 0, OPT_ALPHA_Y}, {"alpha-x", required_argument, 0, OPT_ALPHA_X},
    {"lags", required_argument, 0, OPT_LAGS},       {"quantile", required_argument, 0, OPT_QUANTILE},
    {"boot", required_argument, 0, OPT_BOOT},       {"gamma", required_argument, 0, OPT_GAMMA},
    {"gamma-floor1", no_argument, 0, OPT_GAMMA_FLOOR1}, {"level", required_argument, 0, OPT_LEVEL},
    {"seed", required_argument, 0, OPT_SEED},       {"independent-cells", no_argument, 0, OPT_INDEP},
    {"no-qtests", no_argument, 0, OPT_NOQ},         {"gridwide", no_argument, 0, OPT_GRIDWIDE},
    {"y-regressors", required_argument, 0, OPT_YREG}, {"x-regressors", required_argument, 0, OPT_XREG},
    {"qreg-tie", required_argument, 0, OPT_QTIE},
    {"selfnorm", no_argument, 0, OPT_SELFNORM},     {"omega", required_argument, 0, OPT_OMEGA},
    {"window", required_argument, 0, OPT_WINDOW},   {"window-years", required_argument, 0, OPT_WINDOW_YEARS},
    {"step", required_argument, 0, OPT_STEP},       {"recursive", no_argument, 0, OPT_RECURSIVE},         {"mem-limit", required_argument, 0, OPT_MEM},
    {"null-scheme", required_argument, 0, OPT_NULL_SCHEME}, {"rotation-margin", required_argument, 0, OPT_ROT_MARGIN},
    {"mark", required_argument, 0, OPT_MARK},       {"no-null", no_argument, 0, OPT_NO_NULL},
    {"backend", required_argument, 0, OPT_BACKEND}, {"threads", required_argument, 0, OPT_THREADS},
    {"progress", required_argument, 0, OPT_PROGRESS}, {"quiet", no_argument, 0, OPT_QUIET},
    {"json", required_argument, 0, OPT_JSON},       {"csv", required_argument, 0, OPT_CSV},
    {"help", no_argument, 0, OPT_HELP},             {0, 0, 0, 0}};

#define MAX_CTL (CQB_MAX_VARS - 2)

typedef struct cq_args {
    const char *data, *y, *x, *from, *to, *json, *csv, *lags_arg;
    const char *ctl_col[MAX_CTL];
    double ctl_level[MAX_CTL];
    long ctl_lag[MAX_CTL];
    size_t nctl;
    cli_transforms tr;
    double *ay, *ax;
    size_t ny, nx;
    size_t *lags;
    size_t nlags;
    cqb_qconv conv;
    uint64_t B, seed;
    double gamma; /* <= 0: auto */
    int floor1, indep, noq, quiet, progress, gridwide, recursive;
    long window, window_years, step;
    const char *yreg, *xreg;
    cqb_cqreg_tie qtie;
    int selfnorm, omega_given;
    double omega;
    double level;
    uint64_t mem_mib;
    cqb_backend_kind backend;
    long threads;
    cqb_null_scheme null_scheme;
    long rot_margin;
    int mark;    /* CLI_MARK_* as asked */
    int no_null;
    int null_on; /* the calibrated test runs (plain CQ, not --no-null) */
    int null_asked; /* --null-scheme, --rotation-margin or --mark null given */
    size_t null_skipped; /* runs (the sample, windows) without it: too short */
    char null_reason[CQB_ERROR_MAX]; /* why, for the first of them */
    int mark_eff;/* the rule applied */
} cq_args;

enum { MARK_BAND = 0, MARK_P = 1, MARK_NULL = 2 };
static const char *const MARK_NAMES[] = {"band", "p", "null"};

/* Whether cell c is marked '*' under the rule in effect. */
static int cell_marked(const cq_args *a, const cqb_cq_cell *c)
{
    const double sig = 1.0 - a->level;
    const double v = a->nctl > 0 ? c->rho_partial : c->rho;
    switch (a->mark_eff) {
    case MARK_P: return c->p_value < sig;
    case MARK_NULL: return c->p_null < sig;
    default: return v < c->band_lo || v > c->band_hi;
    }
}

static int parse_control(cq_args *a, const char *arg)
{
    if (a->nctl == MAX_CTL) return cli_usage_error("cq", "--control: at most %d controls", MAX_CTL);
    char *dup = strdup(arg);
    if (!dup) return cli_oom("cq");
    char *lev = strchr(dup, ':'), *lag = NULL;
    if (lev) {
        *lev++ = 0;
        lag = strchr(lev, ':');
        if (lag) *lag++ = 0;
    }
    a->ctl_level[a->nctl] = 0.5;
    a->ctl_lag[a->nctl] = -1;
    if (!*dup) {
        free(dup);
        return cli_usage_error("cq", "--control: expected COL[:LEVEL[:LAG]], got '%s'", arg);
    }
    if (lev && *lev && (cli_parse_double(lev, &a->ctl_level[a->nctl]) || !(a->ctl_level[a->nctl] > 0.0) ||
                        !(a->ctl_level[a->nctl] < 1.0))) {
        int rc = cli_usage_error("cq", "--control %s: level '%s' is not a number in (0,1)", arg, lev);
        free(dup);
        return rc;
    }
    if (lag && *lag && cli_parse_int(lag, 0, 65535, &a->ctl_lag[a->nctl])) {
        int rc = cli_usage_error("cq", "--control %s: lag '%s' is not an integer in 0..65535", arg, lag);
        free(dup);
        return rc;
    }
    a->ctl_col[a->nctl++] = dup; /* freed with the args */
    return 0;
}

static void args_free(cq_args *a)
{
    for (size_t i = 0; i < a->nctl; ++i) free((char *)a->ctl_col[i]);
    for (size_t i = 0; i < a->tr.n; ++i) free((char *)a->tr.col[i]);
    free(a->ay);
    free(a->ax);
    free(a->lags);
}

static int parse_args(cq_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->B = 1000;
    a->seed = 1;
    a->level = 0.95;
    a->mem_mib = 256;
    a->backend = CQB_BACKEND_AUTO;
    a->mark = MARK_NULL;
    a->rot_margin = 10;
    a->null_scheme = CQB_NULL_ROTATION;
    const char *alpha = NULL, *alpha_y = NULL, *alpha_x = NULL, *lags = "1-12", *progress = "auto";
    int c, mark_given = 0;
    optind = 0; /* 0: glibc forgets the previous parse (in-process runs, fuzzing) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", CQ_OPTS, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case OPT_DATA: a->data = optarg; break;
        case OPT_Y: a->y = optarg; break;
        case OPT_X: a->x = optarg; break;
        case OPT_CONTROL: rc = parse_control(a, optarg); break;
        case OPT_TRANSFORM: rc = cli_transform_add(&a->tr, optarg, "cq"); break;
        case CLI_OPT_SEP:
        case CLI_OPT_DECIMAL:
        case CLI_OPT_DATE_FORMAT: rc = cli_input_option(&a->tr, c, optarg, "cq"); break;
        case OPT_FROM: a->from = optarg; break;
        case OPT_TO: a->to = optarg; break;
        case OPT_ALPHA: alpha = optarg; break;
        case OPT_ALPHA_Y: alpha_y = optarg; break;
        case OPT_ALPHA_X: alpha_x = optarg; break;
        case OPT_LAGS: lags = optarg; break;
        case OPT_QUANTILE:
            if (cqb_qconv_parse(optarg, &a->conv))
                rc = cli_usage_error("cq", "--quantile: unknown convention '%s' (r7_le, type1_lt, higher_lt_sub)",
                                     optarg);
            break;
        case OPT_BOOT:
            if (cli_parse_u64(optarg, &a->B) || a->B > UINT32_MAX)
                rc = cli_usage_error("cq", "--boot: '%s' is not a replicate count in 0..4294967295", optarg);
            break;
        case OPT_GAMMA:
            if (!strcmp(optarg, "auto")) a->gamma = 0.0;
            else if (cli_parse_double(optarg, &a->gamma) || !(a->gamma > 0.0) || a->gamma > 1.0)
                rc = cli_usage_error("cq", "--gamma: '%s' is not in (0,1] or auto", optarg);
            break;
        case OPT_GAMMA_FLOOR1: a->floor1 = 1; break;
        case OPT_LEVEL:
            if (cli_parse_double(optarg, &a->level) || !(a->level > 0.0 && a->level < 1.0))
                rc = cli_usage_error("cq", "--level: '%s' is not in (0,1)", optarg);
            break;
        case OPT_SEED:
            if (cli_parse_u64(optarg, &a->seed)) rc = cli_usage_error("cq", "--seed: '%s' is not a 64-bit integer", optarg);
            break;
        case OPT_INDEP: a->indep = 1; break;
        case OPT_NOQ: a->noq = 1; break;
        case OPT_GRIDWIDE: a->gridwide = 1; break;
        case OPT_SELFNORM: a->selfnorm = 1; break;
        case OPT_OMEGA:
            if (cli_parse_double(optarg, &a->omega) || !(a->omega >= 0.0 && a->omega < 1.0))
                rc = cli_usage_error("cq", "--omega: '%s' is not in [0,1)", optarg);
            a->omega_given = 1;
            break;
        case OPT_YREG: a->yreg = optarg; break;
        case OPT_XREG: a->xreg = optarg; break;
        case OPT_QTIE:
            if (!strcmp(optarg, "eps")) a->qtie = CQB_CQREG_TIE_EPS;
            else if (!strcmp(optarg, "exact")) a->qtie = CQB_CQREG_TIE_EXACT;
            else rc = cli_usage_error("cq", "--qreg-tie: unknown rule '%s' (eps, exact)", optarg);
            break;
        case OPT_WINDOW:
            if (cli_parse_int(optarg, 2, 100000000, &a->window))
                rc = cli_usage_error("cq", "--window: '%s' is not a row count of at least 2", optarg);
            break;
        case OPT_WINDOW_YEARS:
            if (cli_parse_int(optarg, 1, 10000, &a->window_years))
                rc = cli_usage_error("cq", "--window-years: '%s' is not a number of years >= 1", optarg);
            break;
        case OPT_STEP:
            if (cli_parse_int(optarg, 1, 100000000, &a->step))
                rc = cli_usage_error("cq", "--step: '%s' is not a step of at least 1", optarg);
            break;
        case OPT_RECURSIVE: a->recursive = 1; break;
        case OPT_MEM:
            if (cli_parse_u64(optarg, &a->mem_mib) || a->mem_mib < 1 || a->mem_mib > ((uint64_t)1 << 40))
                rc = cli_usage_error("cq", "--mem-limit: '%s' is not a size in MiB", optarg);
            break;
        case OPT_NULL_SCHEME:
            a->null_asked = 1;
            if (cqb_null_scheme_parse(optarg, &a->null_scheme))
                rc = cli_usage_error("cq", "--null-scheme: unknown scheme '%s' (sb, rotation)", optarg);
            break;
        case OPT_ROT_MARGIN:
            a->null_asked = 1;
            if (cli_parse_int(optarg, 1, 100000000, &a->rot_margin))
                rc = cli_usage_error("cq", "--rotation-margin: '%s' is not an integer >= 1", optarg);
            break;
        case OPT_MARK:
            mark_given = 1;
            if (!strcmp(optarg, "band")) a->mark = MARK_BAND;
            else if (!strcmp(optarg, "p")) a->mark = MARK_P;
            else if (!strcmp(optarg, "null")) a->mark = MARK_NULL;
            else rc = cli_usage_error("cq", "--mark: unknown rule '%s' (band, p, null)", optarg);
            break;
        case OPT_NO_NULL: a->no_null = 1; break;
        case OPT_BACKEND:
            if (cqb_backend_parse(optarg, &a->backend))
                rc = cli_usage_error("cq", "--backend: unknown backend '%s' (auto, cpu, cuda)", optarg);
            break;
        case OPT_THREADS:
            if (cli_parse_int(optarg, 0, 4096, &a->threads))
                rc = cli_usage_error("cq", "--threads: '%s' is not a thread count in 0..4096 (0: all cores)", optarg);
            break;
        case OPT_PROGRESS: progress = optarg; break;
        case OPT_QUIET: a->quiet = 1; break;
        case OPT_JSON: a->json = optarg; break;
        case OPT_CSV: a->csv = optarg; break;
        case OPT_HELP:
            fputs(CQ_HELP, stdout);
            fputs(CQ_HELP2, stdout);
            fputs(CQ_HELP3, stdout);
            return -1;
        default: rc = cli_getopt_error("cq", c, argv); break;
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage_error("cq", "unexpected argument '%s'", argv[optind]);
    if (!a->data) return cli_usage_error("cq", "--data FILE is required");
    if (!a->y) return cli_usage_error("cq", "--y COL is required");
    if (!a->x) return cli_usage_error("cq", "--x COL is required");
    if (alpha && (alpha_y || alpha_x)) return cli_usage_error("cq", "give --alpha or --alpha-y/--alpha-x, not both");
    const char *def = "0.05,0.1,0.5,0.9,0.95";
    const char *sy = alpha_y ? alpha_y : alpha ? alpha : def;
    const char *sx = alpha_x ? alpha_x : alpha ? alpha : def;
    if (cli_parse_levels(sy, &a->ay, &a->ny)) return cli_usage_error("cq", "--alpha-y: '%s' is not a list of numbers", sy);
    if (cli_parse_levels(sx, &a->ax, &a->nx)) return cli_usage_error("cq", "--alpha-x: '%s' is not a list of numbers", sx);
    for (size_t i = 0; i < a->ny; ++i)
        if (!(a->ay[i] > 0.0 && a->ay[i] < 1.0))
            return cli_usage_error("cq", "--alpha%s: level %g is outside (0,1)", alpha_y ? "-y" : "", a->ay[i]);
    for (size_t i = 0; i < a->nx; ++i)
        if (!(a->ax[i] > 0.0 && a->ax[i] < 1.0))
            return cli_usage_error("cq", "--alpha%s: level %g is outside (0,1)", alpha_x ? "-x" : "", a->ax[i]);
    if (a->ny > CQB_PLAN_MAX_LEVELS || a->nx > CQB_PLAN_MAX_LEVELS)
        return cli_usage_error("cq", "--alpha: at most %d levels per series", CQB_PLAN_MAX_LEVELS);
    a->lags_arg = lags;
    if (cli_parse_lags(lags, &a->lags, &a->nlags))
        return cli_usage_error("cq", "--lags: '%s' is not K, A-B or a comma list of lags", lags);
    if (cli_progress_mode(progress, &a->progress))
        return cli_usage_error("cq", "--progress: unknown mode '%s' (auto, plain, none)", progress);
    if (a->quiet) a->progress = 0;
    if (a->json && a->csv && !strcmp(a->json, a->csv) && cli_replaceable(a->json))
        return cli_usage_error("cq", "--json and --csv name the same file");
    if (a->omega_given && !a->selfnorm) return cli_usage_error("cq", "--omega needs --selfnorm");
    if (a->selfnorm && a->yreg) return cli_usage_error("cq", "--selfnorm: not with --y-regressors/--x-regressors");
    if (!a->omega_given) a->omega = 0.1;
    if (!a->yreg != !a->xreg)
        return cli_usage_error("cq", "--y-regressors and --x-regressors go together (each equation needs a regressor)");
    if (a->yreg && (a->nctl || a->gridwide || a->window || a->window_years || a->indep == 2))
        return cli_usage_error("cq", "--y-regressors/--x-regressors: no --control, --gridwide or windows");
    if (a->window && a->window_years) return cli_usage_error("cq", "give --window or --window-years, not both");
    if ((a->step || a->recursive) && !a->window && !a->window_years)
        return cli_usage_error("cq", "--step and --recursive need --window or --window-years");
    if (!a->step) a->step = 1;
    if (a->no_null && a->mark == MARK_NULL && mark_given)
        return cli_usage_error("cq", "--mark null needs the calibrated test (not --no-null)");
    a->null_on = !a->no_null && !a->yreg && a->B > 0; /* --boot 0: no resampling at all */
    if (mark_given && a->mark == MARK_NULL) a->null_asked = 1;
    a->mark_eff = a->mark == MARK_NULL && !a->null_on ? MARK_BAND : a->mark;
    if (a->gridwide && (a->indep || a->noq || a->lags[a->nlags - 1] < 1))
        return cli_usage_error("cq", "--gridwide needs the shared resample (no --independent-cells), the Q tests "
                                     "(no --no-qtests) and a lag >= 1");
    return 0;
}

/* --------------------------------------------------------------- output -- */

/* The "results", "qtests" (and "supq") arrays of one analysis into obj. */
static void add_result_arrays(cJSON *root, const cq_args *a, const cqb_cq_result *r)
{
    cJSON *res = cJSON_AddArrayToObject(root, "results");
    const int partial = a->nctl > 0;
    for (size_t i = 0; i < r->ncells; ++i) {
        const cqb_cq_cell *c = &r->cells[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "alpha_y", cli_json_num(c->alpha_y));
        cJSON_AddItemToObject(o, "alpha_x", cli_json_num(c->alpha_x));
        cJSON_AddNumberToObject(o, "lag", (double)c->lag);
        cJSON_AddNumberToObject(o, "n", (double)c->n);
        cJSON_AddItemToObject(o, "rho", cli_json_num(c->rho));
        if (partial) cJSON_AddItemToObject(o, "rho_partial", cli_json_num(c->rho_partial));
        cJSON_AddItemToObject(o, "band_lo", cli_json_num(c->band_lo));
        cJSON_AddItemToObject(o, "band_hi", cli_json_num(c->band_hi));
        cJSON_AddItemToObject(o, "ci_lo", cli_json_num(c->ci_lo));
        cJSON_AddItemToObject(o, "ci_hi", cli_json_num(c->ci_hi));
        cJSON_AddItemToObject(o, "p_value", cli_json_num(c->p_value));
        cJSON_AddItemToObject(o, "p_value_et", cli_json_num(c->p_value_et));
        cJSON_AddItemToObject(o, "p_null", cli_json_num(a->null_on ? c->p_null : NAN));
        cJSON_AddItemToObject(o, "p_null_conservative", cli_json_num(a->null_on ? c->p_null_cons : NAN));
        cJSON_AddNumberToObject(o, "null_valid", a->null_on ? (double)c->null_valid : 0.0);
        cJSON_AddNumberToObject(o, "sparse", (double)c->sparse);
        cJSON_AddNumberToObject(o, "marked", (double)cell_marked(a, c));
        if (a->gridwide) {
            cJSON_AddItemToObject(o, "p_rw", cli_json_num(c->p_rw));
            cJSON_AddItemToObject(o, "p_holm", cli_json_num(c->p_holm));
            cJSON_AddItemToObject(o, "p_bh", cli_json_num(c->p_bh));
            cJSON_AddItemToObject(o, "p_null_holm", cli_json_num(a->null_on ? c->p_null_holm : NAN));
            cJSON_AddItemToObject(o, "p_null_bh", cli_json_num(a->null_on ? c->p_null_bh : NAN));
            cJSON_AddItemToObject(o, "p_null_rw", cli_json_num(a->null_on ? c->p_null_rw : NAN));
        }
        cJSON_AddNumberToObject(o, "boot_valid", (double)c->boot_valid);
        cJSON_AddItemToObject(o, "gamma", cli_json_num(c->gamma));
        cJSON_AddItemToArray(res, o);
    }
    cJSON *qt = cJSON_AddArrayToObject(root, "qtests");
    for (size_t i = 0; i < r->nqtests; ++i) {
        const cqb_cq_qtest *q = &r->qtests[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "alpha_y", cli_json_num(q->alpha_y));
        cJSON_AddItemToObject(o, "alpha_x", cli_json_num(q->alpha_x));
        cJSON_AddNumberToObject(o, "p", (double)q->p);
        cJSON_AddItemToObject(o, "q_bp", cli_json_num(q->q_bp));
        cJSON_AddItemToObject(o, "q_lb", cli_json_num(q->q_lb));
        cJSON_AddItemToObject(o, "cv_bp", cli_json_num(q->cv_bp));
        cJSON_AddItemToObject(o, "cv_lb", cli_json_num(q->cv_lb));
        cJSON_AddItemToObject(o, "p_bp", cli_json_num(q->p_bp));
        cJSON_AddItemToObject(o, "p_lb", cli_json_num(q->p_lb));
        cJSON_AddNumberToObject(o, "boot_valid", (double)q->boot_valid);
        cJSON_AddItemToObject(o, "gamma", cli_json_num(q->gamma));
        cJSON_AddItemToObject(o, "p_null", cli_json_num(a->null_on ? q->p_null_lb : NAN));
        cJSON_AddItemToObject(o, "p_null_bp", cli_json_num(a->null_on ? q->p_null_bp : NAN));
        cJSON_AddItemToObject(o, "p_null_lb", cli_json_num(a->null_on ? q->p_null_lb : NAN));
        cJSON_AddItemToObject(o, "cv_null_bp", cli_json_num(a->null_on ? q->cv_null_bp : NAN));
        cJSON_AddItemToObject(o, "cv_null_lb", cli_json_num(a->null_on ? q->cv_null_lb : NAN));
        cJSON_AddNumberToObject(o, "null_valid", a->null_on ? (double)q->null_valid : 0.0);
        cJSON_AddItemToArray(qt, o);
    }
    if (a->gridwide) {
        cJSON *sq = cJSON_AddArrayToObject(root, "supq");
        for (size_t i = 0; i < r->nsupq; ++i) {
            const cqb_cq_supq *q = &r->supq[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "p", (double)q->p);
            cJSON_AddItemToObject(o, "q_bp", cli_json_num(q->q_bp));
            cJSON_AddItemToObject(o, "q_lb", cli_json_num(q->q_lb));
            cJSON_AddItemToObject(o, "cv_bp", cli_json_num(q->cv_bp));
            cJSON_AddItemToObject(o, "cv_lb", cli_json_num(q->cv_lb));
            cJSON_AddItemToObject(o, "p_bp", cli_json_num(q->p_bp));
            cJSON_AddItemToObject(o, "p_lb", cli_json_num(q->p_lb));
            cJSON_AddNumberToObject(o, "boot_valid", (double)q->boot_valid);
            cJSON_AddItemToObject(o, "p_null_bp", cli_json_num(a->null_on ? q->p_null_bp : NAN));
            cJSON_AddItemToObject(o, "p_null_lb", cli_json_num(a->null_on ? q->p_null_lb : NAN));
            cJSON_AddItemToArray(sq, o);
        }
    }
}

static cJSON *results_json(const cq_args *a, const cqb_cq_result *r, const cJSON *input, const cJSON *options,
                           cJSON *rolling, double total_s)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "tool", "cqboot cq");
    cJSON_AddStringToObject(root, "version", CQB_VERSION);
    cJSON_AddItemToObject(root, "input", cJSON_Duplicate(input, 1));
    cJSON_AddItemToObject(root, "options", cJSON_Duplicate(options, 1));
    add_result_arrays(root, a, r);
    if (rolling) cJSON_AddItemToObject(root, "rolling", rolling);
    cJSON *tm = cJSON_AddObjectToObject(root, "timing");
    cJSON_AddItemToObject(tm, "point_s", cli_json_num(r->seconds_point));
    cJSON_AddItemToObject(tm, "bootstrap_s", cli_json_num(r->seconds_boot));
    cJSON_AddItemToObject(tm, "total_s", cli_json_num(total_s));
    return root;
}

/* CSV rows of one analysis; with windows, each row starts with the
 * window's first and last row labels (the header only once). */
static void write_csv(FILE *f, const cq_args *a, const cqb_cq_result *r, int header, const char *wfirst,
                      const char *wlast)
{
    const int partial = a->nctl > 0;
    const int win = a->window || a->window_years;
    if (header)
        fprintf(f, "%salpha_y,alpha_x,lag,n,rho,%sband_lo,band_hi,ci_lo,ci_hi,p_value,p_value_et,boot_valid,gamma,"
                   "p_null,p_null_conservative,null_valid,sparse,marked%s\n",
                win ? "window_first,window_last," : "", partial ? "rho_partial," : "",
                a->gridwide ? ",p_rw,p_holm,p_bh,p_null_holm,p_null_bh,p_null_rw" : "");
    char b[11][40];
    for (size_t i = 0; i < r->ncells; ++i) {
        const cqb_cq_cell *c = &r->cells[i];
        cli_fmt_num(b[0], 40, c->alpha_y);
        cli_fmt_num(b[1], 40, c->alpha_x);
        cli_fmt_num(b[2], 40, c->rho);
        cli_fmt_num(b[3], 40, c->rho_partial);
        cli_fmt_num(b[4], 40, c->band_lo);
        cli_fmt_num(b[5], 40, c->band_hi);
        cli_fmt_num(b[6], 40, c->ci_lo);
        cli_fmt_num(b[7], 40, c->ci_hi);
        cli_fmt_num(b[8], 40, c->p_value);
        cli_fmt_num(b[9], 40, c->gamma);
        cli_fmt_num(b[10], 40, c->p_value_et);
        if (win) fprintf(f, "%s,%s,", wfirst, wlast);
        fprintf(f, "%s,%s,%zu,%zu,%s,", b[0], b[1], c->lag, c->n, b[2]);
        if (partial) fprintf(f, "%s,", b[3]);
        fprintf(f, "%s,%s,%s,%s,%s,%s,%zu,%s", b[4], b[5], b[6], b[7], b[8], b[10], c->boot_valid, b[9]);
        {
            char nb[2][40];
            cli_fmt_num(nb[0], 40, a->null_on ? c->p_null : NAN);
            cli_fmt_num(nb[1], 40, a->null_on ? c->p_null_cons : NAN);
            fprintf(f, ",%s,%s,%zu,%d,%d", nb[0], nb[1], a->null_on ? c->null_valid : (size_t)0, c->sparse,
                    cell_marked(a, c));
        }
        if (a->gridwide) {
            char g[6][40];
            cli_fmt_num(g[0], 40, c->p_rw);
            cli_fmt_num(g[1], 40, c->p_holm);
            cli_fmt_num(g[2], 40, c->p_bh);
            cli_fmt_num(g[3], 40, a->null_on ? c->p_null_holm : NAN);
            cli_fmt_num(g[4], 40, a->null_on ? c->p_null_bh : NAN);
            cli_fmt_num(g[5], 40, a->null_on ? c->p_null_rw : NAN);
            fprintf(f, ",%s,%s,%s,%s,%s,%s", g[0], g[1], g[2], g[3], g[4], g[5]);
        }
        fputc('\n', f);
    }
}

static void write_table(FILE *f, const cq_args *a, const cqb_cq_result *r, const cli_data *d,
                        const char *backend_desc, double gamma_shown)
{
    const int partial = a->nctl > 0;
    fprintf(f, "cqboot cq: %s on lagged %s, %s .. %s (T = %zu), B = %llu, seed %llu, %s\n", a->y, a->x,
            d->set.first_label, d->set.last_label, d->set.T, (unsigned long long)a->B,
            (unsigned long long)a->seed, backend_desc);
    if (a->nctl) {
        fprintf(f, "controls:");
        for (size_t j = 0; j < a->nctl; ++j) {
            if (a->ctl_lag[j] < 0) fprintf(f, " %s (level %g, lag k)", a->ctl_col[j], a->ctl_level[j]);
            else fprintf(f, " %s (level %g, lag %ld)", a->ctl_col[j], a->ctl_level[j], a->ctl_lag[j]);
        }
        fprintf(f, "\n");
    }
    if (a->B == 0) { /* --boot 0: the sample statistics only */
        fprintf(f, "no resampling (--boot 0): sample statistics and Q statistics; 's' = sparse cell\n\n");
        fprintf(f, "%7s %7s %4s %6s %9s%s\n", "alpha_y", "alpha_x", "lag", "n", "rho", partial ? "  rho_part" : "");
        for (size_t i = 0; i < r->ncells; ++i) {
            const cqb_cq_cell *c = &r->cells[i];
            fprintf(f, "%7g %7g %4zu %6zu %9.5f", c->alpha_y, c->alpha_x, c->lag, c->n, c->rho);
            if (partial) fprintf(f, " %9.5f", c->rho_partial);
            fprintf(f, "%s\n", c->sparse ? "   s" : "");
        }
        if (r->nqtests) {
            fprintf(f, "\nPortmanteau statistics of %s over lags 1..p\n", partial ? "the partial CQ" : "the CQ");
            fprintf(f, "%7s %7s %4s %10s %10s\n", "alpha_y", "alpha_x", "p", "Q_BP", "Q_LB");
            for (size_t i = 0; i < r->nqtests; ++i) {
                const cqb_cq_qtest *q = &r->qtests[i];
                fprintf(f, "%7g %7g %4zu %10.4f %10.4f\n", q->alpha_y, q->alpha_x, q->p, q->q_bp, q->q_lb);
            }
        }
        return;
    }
    if (gamma_shown > 0) fprintf(f, "gamma %.4g (mean block %.3g)\n", gamma_shown, 1.0 / gamma_shown);
    else fprintf(f, "gamma: automatic per lag (column 'gamma' of --csv/--json)\n");
    const double sig = 1 - a->level;
    if (a->mark_eff == MARK_NULL)
        fprintf(f, "'*' = calibrated test rejects rho = 0 at %.3g (p_null < %.3g; null-imposing %s);\n"
                   "%.0f%% band and CI of R's rule shown as intervals; 's' = sparse cell (expected joint\n"
                   "tail hits < 5: few attainable p-values)\n\n",
                sig, sig,
                partial ? "rotation within control strata"
                        : a->null_scheme == CQB_NULL_SB ? "exact-count stationary bootstrap" : "rotation",
                100 * a->level);
    else if (a->mark_eff == MARK_P)
        fprintf(f, "'*' = bootstrap p_value < %.3g (R's rule, centred at rho_hat: not a calibrated test in\n"
                   "the tails); 's' = sparse cell\n\n", sig);
    else
        fprintf(f, "%.0f%% band of %s; '*' = outside the band (R's rule: not a calibrated test in the tails\n"
                   "of short samples); 's' = sparse cell\n\n",
                100 * a->level, partial ? "the partial CQ" : "the CQ");
    fprintf(f, "%7s %7s %4s %6s %9s %s%9s %9s %9s %9s %8s %8s\n", "alpha_y", "alpha_x", "lag", "n", "rho",
            partial ? "rho_part  " : "", "band_lo", "band_hi", "ci_lo", "ci_hi", "p_value", "p_null");
    for (size_t i = 0; i < r->ncells; ++i) {
        const cqb_cq_cell *c = &r->cells[i];
        char pv[2][24];
        cli_fmt_pvalue(pv[0], sizeof pv[0], c->p_value, a->B);
        cli_fmt_pvalue(pv[1], sizeof pv[1], a->null_on ? c->p_null : NAN, a->B);
        fprintf(f, "%7g %7g %4zu %6zu %9.5f ", c->alpha_y, c->alpha_x, c->lag, c->n, c->rho);
        if (partial) fprintf(f, "%9.5f ", c->rho_partial);
        fprintf(f, "%9.5f %9.5f %9.5f %9.5f %8s %8s%s%s\n", c->band_lo, c->band_hi, c->ci_lo, c->ci_hi, pv[0], pv[1],
                cell_marked(a, c) ? " *" : "  ", c->sparse ? " s" : "");
    }
    if (r->nqtests) {
        fprintf(f, "\nPortmanteau tests of %s over lags 1..p (critical values at %.0f%%; '*' = reject)\n",
                partial ? "the partial CQ" : "the CQ", 100 * a->level);
        if (a->mark_eff == MARK_NULL)
            fprintf(f, "'*' on the Ljung-Box p_null (null-imposing resample, mid-p); cv_LB0 its critical value\n");
        fprintf(f, "%7s %7s %4s %10s %10s %7s %10s %10s %7s %10s %7s\n", "alpha_y", "alpha_x", "p", "Q_BP", "cv_BP",
                "p_BP", "Q_LB", "cv_LB", "p_LB", "cv_LB0", "p_null");
        for (size_t i = 0; i < r->nqtests; ++i) {
            const cqb_cq_qtest *q = &r->qtests[i];
            int rej = a->mark_eff == MARK_NULL ? q->p_null_lb < 1 - a->level
                      : a->mark_eff == MARK_P  ? q->p_lb < 1 - a->level
                                               : q->q_lb > q->cv_lb;
            char pv[3][24];
            cli_fmt_pvalue(pv[0], sizeof pv[0], a->null_on ? q->p_null_lb : NAN, a->B);
            cli_fmt_pvalue(pv[1], sizeof pv[1], q->p_bp, a->B);
            cli_fmt_pvalue(pv[2], sizeof pv[2], q->p_lb, a->B);
            fprintf(f, "%7g %7g %4zu %10.4f %10.4f %7s %10.4f %10.4f %7s %10.4f %7s%s\n", q->alpha_y, q->alpha_x, q->p,
                    q->q_bp, q->cv_bp, pv[1], q->q_lb, q->cv_lb, pv[2], a->null_on ? q->cv_null_lb : NAN, pv[0],
                    rej ? " *" : "");
        }
    }
    if (r->singular)
        fprintf(f, "\n%zu bootstrap replicates had a singular partial-CQ Gram matrix and were excluded.\n",
                r->singular);
}

/* ----------------------------------------------------------------- main -- */

/* The rows the lags need, as cqb_cq_boot checks them (two after the largest
 * lag), reported with the file and the option (cqb_cq_boot's own check stays
 * as the backstop). Levels too far in the tails for the sample are computed,
 * as R does, with a note: their cells are flagged sparse. */
static cqb_status check_rows(const cq_args *a, const cli_data *d, cqb_error *err)
{
    size_t maxlag = a->lags[a->nlags - 1];
    for (size_t j = 0; j < a->nctl; ++j)
        if (a->ctl_lag[j] > 0 && (size_t)a->ctl_lag[j] > maxlag) maxlag = (size_t)a->ctl_lag[j];
    if (d->set.T < maxlag + 2)
        return cqb_error_set(err, CQB_EDATA,
                             "%s: too few rows for --lags %s: %zu rows (%s .. %s), largest lag %zu, and at least 2 "
                             "rows are needed after lagging",
                             a->data, a->lags_arg, d->set.T, d->set.first_label, d->set.last_label, maxlag);
    if (a->quiet || cli_check_only) return CQB_OK;
    const size_t N = d->set.T - maxlag;
    double tail = 0.5;
    for (int s = 0; s < 2; ++s) {
        const double *lv = s ? a->ax : a->ay;
        const size_t n = s ? a->nx : a->ny;
        for (size_t i = 0; i < n; ++i) {
            const double m = lv[i] < 1.0 - lv[i] ? lv[i] : 1.0 - lv[i];
            if (m < tail) tail = m;
        }
    }
    if ((double)N * tail < 1.0)
        fprintf(stderr,
                "cqboot cq: note: %s: %zu rows after lag %zu: a quantile level %g from the tail expects fewer "
                "than one exceedance; its cells are computed (as R) and flagged sparse\n",
                a->data, N, maxlag, tail);
    return CQB_OK;
}

/* The calibrated test runs by default; where a sample is too short for its
 * rotations (N <= 2m rows after a lag, or a control stratum that small:
 * annual data, a control level in the tails), it is left out of that run
 * (o->null_test = 0) and counted, instead of failing the analysis, unless
 * it was asked for (--null-scheme, --rotation-margin, --mark null: then
 * cqb_cq_boot's error stands). The first reason is kept for the note. */
static void null_fallback(cq_args *a, const cqb_cq_spec *s, cqb_boot_opts *o)
{
    if (!o->null_test || a->null_asked) return;
    cqb_error e;
    if (cqb_cq_null_check(s, o, &e) != CQB_EUSAGE) return; /* fits, or another error cqb_cq_boot reports */
    if (!a->null_skipped++) snprintf(a->null_reason, sizeof a->null_reason, "%s", e.msg);
    o->null_test = o->null_partial = 0;
}

/* ------------------------------------------------- conditional quantiles -- */

#define MAX_REG (CQB_QREG_MAX_P - 1)

/* "COL[:LAG],..." -> names and lags (names point into buf). */
static int parse_regs(const char *arg, char *buf, size_t bufsz, const char **col, long *lag, size_t *n)
{
    snprintf(buf, bufsz, "%s", arg);
    *n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_REG) return -1;
        char *c = strchr(t, ':');
        lag[*n] = 0;
        if (c) {
            *c = 0;
            if (cli_parse_int(c + 1, 0, 65535, &lag[*n])) return -1;
        }
        if (!*t) return -1;
        col[(*n)++] = t;
    }
    return *n ? 0 : -1;
}

/* The conditional-quantile CQ of every cell (cqboot/cqreg.h) into res, in
 * the layout of cqb_cq_boot's cells. cols[2..] of d are the regressors:
 * ny of y's, then nx of x's. */
static cqb_status run_cqreg(const cq_args *a, const cli_data *d, size_t first_reg, const long *ylag, size_t nyr,
                            const long *xlag, size_t nxr, cqb_cq_result *res, cli_progress *prog, size_t *nonunique,
                            size_t *rows, cqb_error *err)
{
    const size_t T = d->set.T;
    long maxlag = 0;
    for (size_t j = 0; j < nyr; ++j) maxlag = ylag[j] > maxlag ? ylag[j] : maxlag;
    for (size_t j = 0; j < nxr; ++j) maxlag = xlag[j] > maxlag ? xlag[j] : maxlag;
    if ((size_t)maxlag + 4 > T) return cqb_error_set(err, CQB_EUSAGE, "--y/x-regressors: lags leave too few rows");
    const size_t off = (size_t)maxlag, Tq = T - off;
    const double *xy[MAX_REG], *xx[MAX_REG];
    for (size_t j = 0; j < nyr; ++j) xy[j] = d->set.x + (first_reg + j) * T + off - (size_t)ylag[j];
    for (size_t j = 0; j < nxr; ++j) xx[j] = d->set.x + (first_reg + nyr + j) * T + off - (size_t)xlag[j];
    cqb_cqreg_input in;
    memset(&in, 0, sizeof in);
    in.eq1.y = d->set.x + off;
    in.eq1.x = xy;
    in.eq1.m = nyr;
    in.eq2.y = d->set.x + T + off;
    in.eq2.x = xx;
    in.eq2.m = nxr;
    in.T = Tq;
    in.tie = a->qtie;
    *rows = Tq;
    const size_t ny = a->ny, nx = a->nx, nl = a->nlags;
    memset(res, 0, sizeof *res);
    res->ncells = ny * nx * nl;
    res->cells = calloc(res->ncells, sizeof *res->cells);
    cqb_cqreg_cell *cc = calloc(nl, sizeof *cc);
    if (!res->cells || !cc) {
        free(cc);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    }
    cqb_cqreg_boot_opts o;
    cqb_cqreg_boot_opts_default(&o);
    o.seed = a->seed;
    o.B = (size_t)a->B;
    o.gamma = a->gamma;
    o.gamma_floor1 = a->floor1;
    o.level = a->level;
    o.threads = (int)a->threads;
    o.cancel = &cli_interrupted;
    cqb_status st = CQB_OK;
    *nonunique = 0;
    for (size_t iy = 0; iy < ny && st == CQB_OK; ++iy) {
        for (size_t ix = 0; ix < nx && st == CQB_OK; ++ix) {
            cqb_cqreg_fit f1, f2;
            o.cell = a->indep ? (uint32_t)(iy * nx + ix + 1) : 0u;
            /* --boot 0: the point statistics alone, as for the plain CQ */
            st = o.B > 0 ? cqb_cqreg_boot(&in, a->ay[iy], a->ax[ix], a->lags, nl, &o, cc, &f1, &f2, err)
                         : cqb_cqreg_compute(&in, a->ay[iy], a->ax[ix], a->lags, nl, cc, &f1, &f2, err);
            if (st != CQB_OK) break;
            *nonunique += (size_t)(f1.nonunique + f2.nonunique);
            for (size_t li = 0; li < nl; ++li) {
                cqb_cq_cell *c = &res->cells[(iy * nx + ix) * nl + li];
                c->alpha_y = a->ay[iy];
                c->alpha_x = a->ax[ix];
                c->lag = cc[li].lag;
                c->n = cc[li].n;
                c->rho = cc[li].rho;
                c->rho_partial = NAN;
                c->band_lo = cc[li].band_lo;
                c->band_hi = cc[li].band_hi;
                c->ci_lo = cc[li].ci_lo;
                c->ci_hi = cc[li].ci_hi;
                c->p_value = cc[li].p_value;
                c->p_value_et = cc[li].p_value_et;
                c->boot_valid = cc[li].boot_valid;
                c->gamma = cc[li].gamma;
                c->p_rw = c->p_holm = c->p_bh = NAN;
                res->singular += o.B - cc[li].boot_valid;
            }
            cli_progress_cb((double)(iy * nx + ix + 1) / (double)(ny * nx), prog);
        }
    }
    free(cc);
    if (st != CQB_OK) cqb_cq_result_free(res);
    return st;
}

int cmd_cq(int argc, char **argv)
{
    double t_start = cli_now();
    for (int i = 1; i < argc; ++i) /* many pairs: pairs.c runs this command per pair */
        if (!strncmp(argv[i], "--pairs", 7) || !strncmp(argv[i], "--series", 8)) return cli_pairs_run(argc, argv);
    cq_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc) {
        args_free(&a);
        return rc < 0 ? 0 : rc;
    }
    cqb_error err = {CQB_OK, ""};
    cli_data d;
    memset(&d, 0, sizeof d);
    cli_out oj, oc;
    memset(&oj, 0, sizeof oj);
    memset(&oc, 0, sizeof oc);
    cqb_backend be;
    memset(&be, 0, sizeof be);
    cqb_cq_result res;
    memset(&res, 0, sizeof res);
    cJSON *input = NULL, *options = NULL, *rolling = NULL, *snj = NULL;
    cqb_span *win = NULL;
    size_t nwin = 0;
    cqb_cq_result *wres = NULL;
    cqb_status st;

    const char *cols[2 + MAX_CTL + 2 * (CQB_QREG_MAX_P - 1)];
    size_t ncols = 0;
    cols[ncols++] = a.y;
    cols[ncols++] = a.x;
    for (size_t j = 0; j < a.nctl; ++j) cols[ncols++] = a.ctl_col[j];
    char yrbuf[1024], xrbuf[1024];
    const char *yrc[MAX_REG], *xrc[MAX_REG];
    long yrl[MAX_REG], xrl[MAX_REG];
    size_t nyr = 0, nxr = 0, first_reg = ncols, qrows = 0, nonunique = 0;
    if (a.yreg) {
        if (parse_regs(a.yreg, yrbuf, sizeof yrbuf, yrc, yrl, &nyr) ||
            parse_regs(a.xreg, xrbuf, sizeof xrbuf, xrc, xrl, &nxr)) {
            args_free(&a);
            return cli_usage_error("cq", "--y-regressors/--x-regressors: expected COL[:LAG],... with at most %d columns",
                                   MAX_REG);
        }
        for (size_t j = 0; j < nyr; ++j) cols[ncols++] = yrc[j];
        for (size_t j = 0; j < nxr; ++j) cols[ncols++] = xrc[j];
    }
    if (cli_check_only == 1) {
        args_free(&a);
        return 0;
    }
    /* Output files first, so an unwritable path fails before the work. */
    {
        const char *in[] = {a.data}, *in_opt[] = {"--data"}, *out[] = {a.json, a.csv}, *out_opt[] = {"--json", "--csv"};
        if ((rc = cli_check_outputs("cq", in, in_opt, 1, out, out_opt, 2)) != 0) {
            args_free(&a);
            return rc;
        }
    }
    if (a.json && (st = cli_out_open(&oj, a.json, "--json", &err)) != CQB_OK) goto fail;
    if (a.csv && (st = cli_out_open(&oc, a.csv, "--csv", &err)) != CQB_OK) goto fail;
    if ((st = cli_load(a.data, cols, ncols, &a.tr, a.from, a.to, &d, &err)) != CQB_OK) goto fail;

    char notice[256];
    /* small jobs never probe for a GPU (a CUDA context costs more than they do) */
    const double work = (double)a.B * (double)a.ny * (double)a.nx * (double)(a.nlags + 1) * (double)d.set.T;
    if ((st = cqb_backend_open_sized(a.backend, (int)a.threads, work, &be, notice, sizeof notice, &err)) != CQB_OK)
        goto fail;
    if (!cli_check_only) cli_backend_notice("cq", notice, a.quiet);
    cli_scale_wrap(&be, a.B); /* shards, merge, MPI ranks (docs/scale-out.md) */

    const size_t T = d.set.T;
    if ((st = check_rows(&a, &d, &err)) != CQB_OK) goto fail;
    if (cli_check_only) {
        /* cqboot run's validation: the whole analysis with one replicate
         * (controls, automatic gamma, regressions), then the windows */
        a.B = 1;
        a.progress = 0;
    }
    cqb_control ctl[MAX_CTL];
    for (size_t j = 0; j < a.nctl; ++j) {
        ctl[j].z = d.set.x + (2 + j) * T;
        ctl[j].alpha = a.ctl_level[j];
        ctl[j].lag = (int)a.ctl_lag[j];
    }
    cqb_cq_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.in = (cqb_cq_input){d.set.x, d.set.x + T, T, ctl, a.nctl, a.conv};
    spec.alpha_y = a.ay;
    spec.ny = a.ny;
    spec.alpha_x = a.ax;
    spec.nx = a.nx;
    spec.lags = a.lags;
    spec.nlags = a.nlags;
    spec.qtests = !a.noq && !a.yreg && a.lags[a.nlags - 1] >= 1;
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.seed = a.seed;
    o.B = (size_t)a.B;
    o.gamma = a.gamma;
    o.gamma_floor1 = a.floor1;
    o.level = a.level;
    o.share_grid = !a.indep;
    o.gridwide = a.gridwide;
    o.mem_limit = (size_t)a.mem_mib << 20;
    o.null_test = a.null_on;
    o.null_partial = a.null_on && a.nctl > 0;
    o.null_scheme = (int)a.null_scheme;
    o.rot_margin = (size_t)a.rot_margin;
    o.backend = &be;
    o.cancel = &cli_interrupted;
    cli_progress prog;
    cli_progress_init(&prog, a.progress, "cqboot cq");
    o.progress = cli_progress_cb;
    o.progress_user = &prog;
    if (a.yreg) {
        st = run_cqreg(&a, &d, first_reg, yrl, nyr, xrl, nxr, &res, &prog, &nonunique, &qrows, &err);
    } else {
        cqb_boot_opts os = o;
        null_fallback(&a, &spec, &os);
        st = cqb_cq_boot(&spec, &os, &res, &err);
        if (!os.null_test && a.null_on) {
            /* the sample itself cannot have the test: none of the output has it */
            a.null_on = 0;
            o.null_test = o.null_partial = 0;
            if (a.mark_eff == MARK_NULL) a.mark_eff = MARK_BAND;
            if (!a.quiet && !cli_check_only)
                fprintf(stderr,
                        "cqboot cq: note: the calibrated test is left out: %s; the marks use R's band rule, which "
                        "over-rejects in the tails of short samples (a smaller --rotation-margin runs the test; "
                        "--no-null silences this note)\n",
                        a.null_reason);
        }
    }
    cli_progress_done(&prog);
    if (st == CQB_EDATA) {
        /* a property of the data (singular controls, no block length):
         * name the file, as the input layer's messages do */
        char msg[CQB_ERROR_MAX];
        snprintf(msg, sizeof msg, "%s", err.msg);
        cqb_error_set(&err, CQB_EDATA, "%s: %s", a.data, msg);
    }
    if (st != CQB_OK) goto fail;
    if (cli_check_only) {
        /* the windows' spans, then stop */
        if (a.window)
            st = cqb_spans_rows(T, (size_t)a.window, (size_t)(a.step ? a.step : 1), a.recursive, &win, &nwin, &err);
        else if (a.window_years && d.set.date_kind == CQB_DATE_NONE)
            st = cqb_error_set(&err, CQB_EUSAGE, "--window-years: %s has no date column", a.data);
        else if (a.window_years)
            st = cqb_spans_years(d.set.keys, T, (int)a.window_years, (int)a.step, a.recursive, 2, &win, &nwin, &err);
        if (st != CQB_OK) goto fail;
        rc = 0;
        goto check_done;
    }
    if (a.yreg && a.mark == MARK_NULL && !a.no_null && a.B > 0 && !a.quiet)
        fprintf(stderr, "cqboot cq: notice: the calibrated test (p_null) is not offered with --y/x-regressors; "
                        "the marks use R's band rule, which over-rejects in the tails of short samples "
                        "(docs/calibrated.md)\n");
    if (a.null_on && a.nctl && a.null_scheme == CQB_NULL_SB && !a.quiet)
        fprintf(stderr, "cqboot cq: notice: with controls the calibrated test rotates x's hits within the "
                        "strata of the control hits (--null-scheme sb is for the plain CQ)\n");

    if (a.selfnorm) {
        /* the omnibus test for p = 1..P (lags 1..p) and the t-test of each
         * requested lag >= 1, per (alpha_y, alpha_x) */
        cqb_sn_opts so;
        cqb_sn_opts_default(&so);
        so.omega = a.omega;
        so.sim.threads = (int)a.threads;
        /* the shipped table covers p <= 10; beyond it the reference would
         * be simulated at length (cqboot sncv) */
        size_t P = a.lags[a.nlags - 1];
        if (P > 10) P = 10;
        snj = cJSON_CreateArray();
        for (size_t iy = 0; iy < a.ny && st == CQB_OK; ++iy) {
            for (size_t ix = 0; ix < a.nx && st == CQB_OK; ++ix) {
                for (size_t p = 1; p <= P && st == CQB_OK; ++p) {
                    cqb_sn_result r;
                    st = cqb_sn_test(&spec.in, a.ay[iy], a.ax[ix], p, &so, &r, &err);
                    if (st == CQB_EDATA) st = CQB_OK; /* singular V_hat: reported as null */
                    if (st != CQB_OK) break;
                    cJSON *o2 = cJSON_CreateObject();
                    cJSON_AddStringToObject(o2, "test", "omnibus");
                    cJSON_AddItemToObject(o2, "alpha_y", cli_json_num(a.ay[iy]));
                    cJSON_AddItemToObject(o2, "alpha_x", cli_json_num(a.ax[ix]));
                    cJSON_AddNumberToObject(o2, "p", (double)p);
                    cJSON_AddItemToObject(o2, "stat", cli_json_num(r.stat));
                    cJSON_AddItemToObject(o2, "cv90", cli_json_num(r.cv[0]));
                    cJSON_AddItemToObject(o2, "cv95", cli_json_num(r.cv[1]));
                    cJSON_AddItemToObject(o2, "cv99", cli_json_num(r.cv[2]));
                    cJSON_AddItemToObject(o2, "p_value", cli_json_num(r.pvalue));
                    cJSON_AddBoolToObject(o2, "p_value_is_bound", r.pvalue_bound);
                    cJSON_AddStringToObject(o2, "reference", r.source == CQB_SN_TABLE ? "table" : "simulated");
                    cJSON_AddItemToArray(snj, o2);
                }
                for (size_t li = 0; li < a.nlags && st == CQB_OK; ++li) {
                    if (a.lags[li] < 1) continue;
                    cqb_sn_result r;
                    st = cqb_sn_ttest(&spec.in, a.ay[iy], a.ax[ix], a.lags[li], &so, &r, &err);
                    if (st == CQB_EDATA) st = CQB_OK;
                    if (st != CQB_OK) break;
                    cJSON *o2 = cJSON_CreateObject();
                    cJSON_AddStringToObject(o2, "test", a.nctl ? "t_partial" : "t");
                    cJSON_AddItemToObject(o2, "alpha_y", cli_json_num(a.ay[iy]));
                    cJSON_AddItemToObject(o2, "alpha_x", cli_json_num(a.ax[ix]));
                    cJSON_AddNumberToObject(o2, "lag", (double)a.lags[li]);
                    cJSON_AddItemToObject(o2, "stat", cli_json_num(r.stat));
                    cJSON_AddItemToObject(o2, "cv90", cli_json_num(r.cv[0]));
                    cJSON_AddItemToObject(o2, "cv95", cli_json_num(r.cv[1]));
                    cJSON_AddItemToObject(o2, "cv99", cli_json_num(r.cv[2]));
                    cJSON_AddItemToObject(o2, "p_value", cli_json_num(r.pvalue));
                    cJSON_AddBoolToObject(o2, "p_value_is_bound", r.pvalue_bound);
                    cJSON_AddStringToObject(o2, "reference", r.source == CQB_SN_TABLE ? "table" : "simulated");
                    cJSON_AddItemToArray(snj, o2);
                }
            }
        }
        if (st != CQB_OK) goto fail;
    }
    if (a.window || a.window_years) {
        if (a.window) {
            st = cqb_spans_rows(d.set.T, (size_t)a.window, (size_t)a.step, a.recursive, &win, &nwin, &err);
        } else if (d.set.date_kind == CQB_DATE_NONE) {
            st = cqb_error_set(&err, CQB_EUSAGE, "--window-years: %s has no date column", a.data);
        } else {
            st = cqb_spans_years(d.set.keys, d.set.T, (int)a.window_years, (int)a.step, a.recursive, 2, &win, &nwin,
                                 &err);
        }
        if (st != CQB_OK) goto fail;
        wres = calloc(nwin, sizeof *wres);
        if (!wres) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        cli_progress_init(&prog, a.progress, "cqboot cq");
        cli_progress_parts(&prog, "window", nwin);
        for (size_t w = 0; w < nwin; ++w) {
            /* each window is the analysis of its sub-sample, exactly as a
             * --from/--to run over the same rows */
            cli_progress_part(&prog, w);
            cli_progress_cb(0.0, &prog);
            cqb_cq_spec ws = spec;
            cqb_control wctl[MAX_CTL];
            const size_t b = win[w].begin;
            ws.in.y = spec.in.y + b;
            ws.in.x = spec.in.x + b;
            ws.in.T = win[w].end - b;
            for (size_t j = 0; j < a.nctl; ++j) {
                wctl[j] = ctl[j];
                wctl[j].z = ctl[j].z + b;
            }
            ws.in.ctl = wctl;
            cqb_boot_opts ow = o;
            null_fallback(&a, &ws, &ow);
            st = cqb_cq_boot(&ws, &ow, &wres[w], &err);
            if (st != CQB_OK) {
                char msg[CQB_ERROR_MAX];
                snprintf(msg, sizeof msg, "%s", err.msg);
                cqb_error_set(&err, st, "%s: window %s .. %s: %s", a.data, d.set.labels[b], d.set.labels[win[w].end - 1],
                              msg);
                goto fail;
            }
        }
        cli_progress_done(&prog);
        if (a.null_on && a.null_skipped && !a.quiet)
            fprintf(stderr,
                    "cqboot cq: note: the calibrated test is left out in %zu of %zu windows (%s): their cells have "
                    "no p_null%s\n",
                    a.null_skipped, nwin, a.null_reason, a.mark_eff == MARK_NULL ? " and no '*'" : "");
        rolling = cJSON_CreateArray();
        for (size_t w = 0; w < nwin; ++w) {
            cJSON *wo = cJSON_CreateObject();
            cJSON_AddStringToObject(wo, "first", d.set.labels[win[w].begin]);
            cJSON_AddStringToObject(wo, "last", d.set.labels[win[w].end - 1]);
            cJSON_AddNumberToObject(wo, "rows", (double)(win[w].end - win[w].begin));
            add_result_arrays(wo, &a, &wres[w]);
            cJSON_AddItemToArray(rolling, wo);
        }
    }

    input = cli_input_json(&d, cols, ncols, &a.tr);
    options = cJSON_CreateObject();
    cJSON_AddStringToObject(options, "y", a.y);
    cJSON_AddStringToObject(options, "x", a.x);
    cJSON *jc = cJSON_AddArrayToObject(options, "controls");
    for (size_t j = 0; j < a.nctl; ++j) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "column", a.ctl_col[j]);
        cJSON_AddItemToObject(c, "level", cli_json_num(a.ctl_level[j]));
        if (a.ctl_lag[j] < 0) cJSON_AddStringToObject(c, "lag", "k");
        else cJSON_AddNumberToObject(c, "lag", (double)a.ctl_lag[j]);
        cJSON_AddItemToArray(jc, c);
    }
    cJSON_AddItemToObject(options, "alpha_y", cli_json_num_array(a.ay, a.ny));
    cJSON_AddItemToObject(options, "alpha_x", cli_json_num_array(a.ax, a.nx));
    cJSON *jl = cJSON_AddArrayToObject(options, "lags");
    for (size_t i = 0; i < a.nlags; ++i) cJSON_AddItemToArray(jl, cJSON_CreateNumber((double)a.lags[i]));
    cJSON_AddStringToObject(options, "quantile", cqb_qconv_name(a.conv));
    cJSON_AddNumberToObject(options, "boot", (double)a.B);
    if (a.gamma > 0) cJSON_AddItemToObject(options, "gamma", cli_json_num(a.gamma));
    else cJSON_AddStringToObject(options, "gamma", a.floor1 ? "auto-floor1" : "auto");
    cJSON_AddItemToObject(options, "level", cli_json_num(a.level));
    char seedbuf[32];
    snprintf(seedbuf, sizeof seedbuf, "%llu", (unsigned long long)a.seed);
    cJSON_AddRawToObject(options, "seed", seedbuf); /* exact for any 64-bit seed */
    cJSON_AddBoolToObject(options, "share_resamples_across_quantiles", !a.indep);
    cJSON_AddBoolToObject(options, "gridwide", a.gridwide);
    cJSON_AddBoolToObject(options, "null_test", a.null_on);
    if (!a.null_on && a.null_reason[0]) cJSON_AddStringToObject(options, "null_test_left_out", a.null_reason);
    cJSON_AddStringToObject(options, "null_scheme",
                            a.nctl ? "stratified_rotation" : cqb_null_scheme_name(a.null_scheme));
    if (a.null_scheme == CQB_NULL_ROTATION) cJSON_AddNumberToObject(options, "rotation_margin", (double)a.rot_margin);
    cJSON_AddStringToObject(options, "mark", MARK_NAMES[a.mark]);
    cJSON_AddStringToObject(options, "mark_applied", MARK_NAMES[a.mark_eff]);
    if (a.selfnorm) cJSON_AddItemToObject(options, "omega", cli_json_num(a.omega));
    cJSON_AddBoolToObject(options, "qtests", spec.qtests);
    cJSON_AddStringToObject(options, "backend", be.name);
    cJSON_AddStringToObject(options, "device", be.device);
    cJSON_AddNumberToObject(options, "threads", be.threads);
    /* idle threads sleep (passive) unless the user chose otherwise (main.c) */
    cJSON_AddStringToObject(options, "wait_policy", getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "default");
    if (a.from) cJSON_AddStringToObject(options, "from", a.from);
    if (a.to) cJSON_AddStringToObject(options, "to", a.to);
    if (a.window || a.window_years) {
        cJSON *wo = cJSON_AddObjectToObject(options, "windows");
        cJSON_AddStringToObject(wo, "kind", a.recursive ? "recursive" : "rolling");
        if (a.window) cJSON_AddNumberToObject(wo, "rows", (double)a.window);
        else cJSON_AddNumberToObject(wo, "years", (double)a.window_years);
        cJSON_AddNumberToObject(wo, "step", (double)a.step);
        cJSON_AddNumberToObject(wo, "count", (double)nwin);
        if (a.null_on && a.null_skipped) {
            /* windows too short for the calibrated test (their p_null keys are null) */
            cJSON_AddNumberToObject(wo, "null_test_left_out", (double)a.null_skipped);
            cJSON_AddStringToObject(wo, "null_test_left_out_reason", a.null_reason);
        }
    }
    cJSON_AddStringToObject(options, "resampling", "stationary bootstrap (R sb.index process), Philox4x32-10 streams");
    cJSON_AddNumberToObject(options, "singular_replicates", (double)res.singular);
    if (a.yreg) {
        cJSON *qr = cJSON_AddObjectToObject(options, "conditional_quantiles");
        cJSON *jy = cJSON_AddArrayToObject(qr, "y_regressors"), *jx = cJSON_AddArrayToObject(qr, "x_regressors");
        for (size_t j = 0; j < nyr; ++j) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "column", yrc[j]);
            cJSON_AddNumberToObject(r, "lag", (double)yrl[j]);
            cJSON_AddItemToArray(jy, r);
        }
        for (size_t j = 0; j < nxr; ++j) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "column", xrc[j]);
            cJSON_AddNumberToObject(r, "lag", (double)xrl[j]);
            cJSON_AddItemToArray(jx, r);
        }
        cJSON_AddStringToObject(qr, "tie", a.qtie == CQB_CQREG_TIE_EXACT ? "exact" : "eps");
        cJSON_AddNumberToObject(qr, "rows", (double)qrows);
        cJSON_AddNumberToObject(qr, "nonunique_fits", (double)nonunique);
        cJSON_AddStringToObject(qr, "method", "linear quantile regression (exact simplex, Barrodale-Roberts style) "
                                              "re-estimated on every resample");
    }

    double total = cli_now() - t_start;
    if (a.json) {
        cJSON *root = results_json(&a, &res, input, options, rolling, total);
        rolling = NULL; /* owned by root now */
        if (snj) {
            cJSON_AddItemToObject(root, "selfnorm", snj);
            snj = NULL;
        }
        char *txt = cJSON_Print(root);
        cJSON_Delete(root);
        if (!txt) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory writing JSON");
            goto fail;
        }
        FILE *f = oj.f;
        fputs(txt, f);
        fputc('\n', f);
        free(txt);
    }
    if (a.csv) {
        FILE *f = oc.f;
        write_csv(f, &a, &res, 1, d.set.first_label, d.set.last_label);
        for (size_t w = 0; w < nwin; ++w)
            write_csv(f, &a, &wres[w], 0, d.set.labels[win[w].begin], d.set.labels[win[w].end - 1]);
    }
    if (!a.json && !a.csv && !cli_scale_silent()) {
        write_table(stdout, &a, &res, &d, be.device, a.gamma);
        if (nwin) {
            const int partial = a.nctl > 0;
            printf("\n%s windows (%zu); '*' = marked by the --mark rule (%s)\n", a.recursive ? "Recursive" : "Rolling",
                   nwin, MARK_NAMES[a.mark_eff]);
            printf("%-10s %-10s %7s %7s %4s %9s %9s %9s %8s %8s\n", "first", "last", "alpha_y", "alpha_x", "lag",
                   partial ? "rho_part" : "rho", "band_lo", "band_hi", "p_value", "p_null");
            for (size_t w = 0; w < nwin; ++w) {
                for (size_t i = 0; i < wres[w].ncells; ++i) {
                    const cqb_cq_cell *c = &wres[w].cells[i];
                    double v = partial ? c->rho_partial : c->rho;
                    char pv[2][24];
                    cli_fmt_pvalue(pv[0], sizeof pv[0], c->p_value, a.B);
                    cli_fmt_pvalue(pv[1], sizeof pv[1], a.null_on ? c->p_null : NAN, a.B);
                    printf("%-10s %-10s %7g %7g %4zu %9.5f %9.5f %9.5f %8s %8s%s\n", d.set.labels[win[w].begin],
                           d.set.labels[win[w].end - 1], c->alpha_y, c->alpha_x, c->lag, v, c->band_lo, c->band_hi,
                           pv[0], pv[1], cell_marked(&a, c) ? " *" : "");
                }
            }
        }
    }
    /* all writes checked before any output replaces its target */
    if (cli_stdout_check(&err)) {
        st = err.status;
        goto fail;
    }
    if ((st = cli_out_commit_all((cli_out *const[]){&oj, &oc}, 2, &err)) != CQB_OK) goto fail;
    cJSON_Delete(input);
    cJSON_Delete(options);
    cJSON_Delete(rolling);
    cJSON_Delete(snj);
    for (size_t w = 0; wres && w < nwin; ++w) cqb_cq_result_free(&wres[w]);
    free(wres);
    free(win);
    cqb_cq_result_free(&res);
    cqb_backend_close(&be);
    cli_data_free(&d);
    args_free(&a);
    return 0;
fail:
    rc = cli_fail("cq", &err);
check_done:
    cli_out_abort(&oj);
    cli_out_abort(&oc);
    cJSON_Delete(input);
    cJSON_Delete(options);
    cJSON_Delete(rolling);
    cJSON_Delete(snj);
    for (size_t w = 0; wres && w < nwin; ++w) cqb_cq_result_free(&wres[w]);
    free(wres);
    free(win);
    cqb_cq_result_free(&res);
    cqb_backend_close(&be);
    cli_data_free(&d);
    args_free(&a);
    return rc;
}
