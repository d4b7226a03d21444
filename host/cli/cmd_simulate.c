/* cmd_simulate.c — `cqboot simulate`: Monte Carlo size and power of the
 * cross-quantilogram bootstrap tests (docs/simulation.md). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "cqboot/nullboot.h"
#include "cqboot/sbplan.h"
#include "cqboot/simulate.h"
#include "cqboot/version.h"
#include "scale.h"

static const char *const SIM_HELP =
    "Usage: cqboot simulate [--dgp null|tail|var] [OPTION]...\n"
    "Monte Carlo size and power of the cross-quantilogram bootstrap tests: R\n"
    "replications of a data-generating process, each analysed as 'cqboot cq'\n"
    "would (stationary bootstrap, B replicates, CPU), and the empirical\n"
    "rejection rates with Monte Carlo standard errors sqrt(p(1-p)/R).\n"
    "\n"
    "Process (y = predicted series at t, x = predictor at t-k):\n"
    "  --dgp NAME          null (default): two independent AR(1)-GARCH(1,1)\n"
    "                      series; tail: the same with y's innovation drawn from\n"
    "                      its lower tail, with probability --strength, when\n"
    "                      x_{t-L} is in its lower --tail-alpha tail; var: a\n"
    "                      common-factor VAR(1) (see docs/simulation.md)\n"
    "  --T N               observations per series (default 336)\n"
    "  --burn N            start-up observations discarded (default 500)\n"
    "  --phi F             AR(1) coefficient (null, tail; default 0.3)\n"
    "  --omega F, --garch-alpha F, --garch-beta F\n"
    "                      GARCH(1,1) (null, tail; default 0.05, 0.1, 0.85)\n"
    "  --df NU             innovations: normal (default) or Student-t with NU > 2\n"
    "                      degrees of freedom, scaled to unit variance\n"
    "  --strength S        tail: probability pi in [0,1] (default 0.5);\n"
    "                      var: the coefficient of x_{t-1} in y_t (default 0)\n"
    "  --tail-lag L        tail: the lag of the dependence (default 1)\n"
    "  --tail-alpha A      tail: the tail probability in (0,0.5] (default 0.05)\n"
    "  --var-a AYY,AXX     var: own-lag coefficients (default 0,0.5)\n"
    "  --var-load LY,LX    var: common-factor loadings (default 1,1)\n"
    "Tests:\n"
    "  --alpha LIST        quantile levels of both series (default\n"
    "                      0.05,0.1,0.5,0.9,0.95); --alpha-y, --alpha-x apart\n"
    "  --lags K|A-B|LIST   lags (default 3: 1..3); Q tests over p = 1..max\n"
    "  --no-qtests         skip the portmanteau tests\n"
    "  --boot B            bootstrap replicates per replication (default 1000)\n"
    "  --gamma G|auto      block restart probability in (0,1], or auto (default:\n"
    "                      np::b.star rule on each replication's data)\n"
    "  --gamma-floor1      with auto: floor each b at 1 before averaging\n"
    "  --level P           confidence level (default 0.95; tests at 1 - P)\n"
    "  --null-scheme S     the calibrated test counted beside R's rules:\n"
    "                      rotation (default), sb, or off (docs/calibrated.md);\n"
    "                      given explicitly, --csv also gets its rows\n"
    "  --rotation-margin M shifts m..N-m with rotation (default 10)\n"
    "Monte Carlo:\n"
    "  --reps R            replications (default 1000)\n"
    "  --rep0 N            first replication id (default 0): runs with disjoint\n"
    "                      id ranges add up to one larger study\n"
    "  --seed S            64-bit seed of the data and bootstrap streams (default 1)\n"
    "  --threads N         replications in parallel (default: all cores); the\n"
    "                      results do not depend on N\n"
    "  --progress MODE     auto (default: a bar if stderr is a terminal), plain,\n"
    "                      none\n"
    "  --quiet             no progress\n"
    "  --shard I/N --part FILE  replications of shard I of N into FILE (cqboot\n"
    "                      merge combines the parts; docs/scale-out.md); under\n"
    "                      mpirun the ranks split the replications themselves\n"
    "Output (without --json/--csv a table is printed on stdout):\n"
    "  --json FILE         results as JSON ('-' for stdout)\n"
    "  --csv FILE          one row per test and cell ('-' for stdout)\n"
    "  --help              this help\n"
    "\n"
    "Rejection rules at 1 - P: band (rho_hat outside the bootstrap null band),\n"
    "pval (bootstrap p-value < 1 - P), Q_LB and Q_BP (Q(p) > critical value);\n"
    "null (calibrated p_null < 1 - P), null_cons (p_null_conservative < 1 - P),\n"
    "q_lb_null (Ljung-Box p_null < 1 - P).\n"
    "\n"
    "Exit status: 0 ok, 2 usage, 3 file, 5 out of memory, 130 interrupted\n"
    "(SIGINT), 143 terminated (SIGTERM); docs/safety.md.\n";

enum {
    OPT_DGP = 256, OPT_T, OPT_BURN, OPT_PHI, OPT_OMEGA, OPT_GA, OPT_GB, OPT_DF, OPT_STRENGTH, OPT_TAIL_LAG,
    OPT_TAIL_ALPHA, OPT_VAR_A, OPT_VAR_LOAD, OPT_ALPHA, OPT_ALPHA_Y, OPT_ALPHA_X, OPT_LAGS, OPT_NOQ, OPT_BOOT,
    OPT_GAMMA, OPT_GAMMA_FLOOR1, OPT_LEVEL, OPT_REPS, OPT_REP0, OPT_SEED, OPT_THREADS, OPT_PROGRESS, OPT_QUIET,
    OPT_JSON, OPT_CSV, OPT_HELP, OPT_NULL_SCHEME, OPT_ROT_MARGIN
};

static const struct option SIM_OPTS[] = {
    {"dgp", required_argument, 0, OPT_DGP},           {"T", required_argument, 0, OPT_T},
    {"burn", required_argument, 0, OPT_BURN},         {"phi", required_argument, 0, OPT_PHI},
    {"omega", required_argument, 0, OPT_OMEGA},       {"garch-alpha", required_argument, 0, OPT_GA},
    {"garch-beta", required_argument, 0, OPT_GB},     {"df", required_argument, 0, OPT_DF},
    {"strength", required_argument, 0, OPT_STRENGTH}, {"tail-lag", required_argument, 0, OPT_TAIL_LAG},
    {"tail-alpha", required_argument, 0, OPT_TAIL_ALPHA}, {"var-a", required_argument, 0, OPT_VAR_A},
    {"var-load", required_argument, 0, OPT_VAR_LOAD}, {"alpha", required_argument, 0, OPT_ALPHA},
    {"alpha-y", required_argument, 0, OPT_ALPHA_Y},   {"alpha-x", required_argument, 0, OPT_ALPHA_X},
    {"lags", required_argument, 0, OPT_LAGS},         {"no-qtests", no_argument, 0, OPT_NOQ},
    {"boot", required_argument, 0, OPT_BOOT},         {"gamma", required_argument, 0, OPT_GAMMA},
    {"gamma-floor1", no_argument, 0, OPT_GAMMA_FLOOR1}, {"level", required_argument, 0, OPT_LEVEL},
    {"reps", required_argument, 0, OPT_REPS},         {"rep0", required_argument, 0, OPT_REP0},
    {"seed", required_argument, 0, OPT_SEED},         {"threads", required_argument, 0, OPT_THREADS},
    {"progress", required_argument, 0, OPT_PROGRESS}, {"quiet", no_argument, 0, OPT_QUIET},
    {"json", required_argument, 0, OPT_JSON},         {"csv", required_argument, 0, OPT_CSV},
    {"null-scheme", required_argument, 0, OPT_NULL_SCHEME}, {"rotation-margin", required_argument, 0, OPT_ROT_MARGIN},
    {"help", no_argument, 0, OPT_HELP},               {0, 0, 0, 0}};

/* Options that belong to some processes only. */
enum { FOR_GARCH = 1, FOR_TAIL = 2, FOR_VAR = 4, FOR_STRENGTH = FOR_TAIL | FOR_VAR };

typedef struct sim_args {
    cqb_dgp dgp;
    const char *json, *csv, *lags_arg;
    size_t T;
    double *ay, *ax;
    size_t ny, nx;
    size_t *lags;
    size_t nlags;
    int noq, quiet, progress, floor1;
    uint64_t B, reps, rep0, seed;
    double gamma, level;
    long threads;
    int null_on, null_given;
    cqb_null_scheme null_scheme;
    long rot_margin;
    /* options given, for the check against --dgp */
    const char *given[8];
    int given_for[8];
    size_t ngiven;
} sim_args;

static void args_free(sim_args *a)
{
    free(a->ay);
    free(a->ax);
    free(a->lags);
}

static int bad(const char *opt, const char *val, const char *what)
{
    return cli_usage_error("simulate", "%s: '%s' is not %s", opt, val, what);
}

static int parse_pair(const char *s, double *a, double *b)
{
    const char *comma = strchr(s, ',');
    if (!comma || strchr(comma + 1, ',')) return -1;
    char buf[128];
    size_t n = (size_t)(comma - s);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return cli_parse_double(buf, a) || cli_parse_double(comma + 1, b) ? -1 : 0;
}

static void note_given(sim_args *a, const char *opt, int for_mask)
{
    for (size_t i = 0; i < a->ngiven; ++i)
        if (!strcmp(a->given[i], opt)) return;
    if (a->ngiven < sizeof a->given / sizeof a->given[0]) {
        a->given[a->ngiven] = opt;
        a->given_for[a->ngiven++] = for_mask;
    }
}

static int parse_args(sim_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->B = 1000;
    a->reps = 1000;
    a->seed = 1;
    a->level = 0.95;
    a->null_on = 1;
    a->rot_margin = 10;
    a->null_scheme = CQB_NULL_ROTATION;
    cqb_dgp_kind kind = CQB_DGP_NULL;
    /* parameters as given; defaults filled in once --dgp is known */
    double phi = NAN, omega = NAN, ga = NAN, gb = NAN, df = NAN, strength = NAN, tail_alpha = NAN;
    double vay = NAN, vax = NAN, vly = NAN, vlx = NAN;
    long T = 336, burn = -1, tail_lag = -1;
    const char *alpha = NULL, *alpha_y = NULL, *alpha_x = NULL, *lags = "3", *progress = "auto";
    int c;
    optind = 0; /* 0: glibc forgets the previous parse (in-process runs, fuzzing) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", SIM_OPTS, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case OPT_DGP:
            if (cqb_dgp_parse(optarg, &kind)) rc = bad("--dgp", optarg, "a process (null, tail, var)");
            break;
        case OPT_T:
            if (cli_parse_int(optarg, 3, 1L << 30, &T)) rc = bad("--T", optarg, "a length in 3..2^30");
            break;
        case OPT_BURN:
            if (cli_parse_int(optarg, 0, 1L << 30, &burn)) rc = bad("--burn", optarg, "a count in 0..2^30");
            break;
        case OPT_PHI:
            note_given(a, "--phi", FOR_GARCH);
            if (cli_parse_double(optarg, &phi) || !(phi > -1.0 && phi < 1.0)) rc = bad("--phi", optarg, "in (-1,1)");
            break;
        case OPT_OMEGA:
            note_given(a, "--omega", FOR_GARCH);
            if (cli_parse_double(optarg, &omega) || !(omega > 0.0) || !isfinite(omega))
                rc = bad("--omega", optarg, "a positive number");
            break;
        case OPT_GA:
            note_given(a, "--garch-alpha", FOR_GARCH);
            if (cli_parse_double(optarg, &ga) || !(ga >= 0.0 && ga < 1.0)) rc = bad("--garch-alpha", optarg, "in [0,1)");
            break;
        case OPT_GB:
            note_given(a, "--garch-beta", FOR_GARCH);
            if (cli_parse_double(optarg, &gb) || !(gb >= 0.0 && gb < 1.0)) rc = bad("--garch-beta", optarg, "in [0,1)");
            break;
        case OPT_DF:
            if (!strcmp(optarg, "normal") || !strcmp(optarg, "inf")) df = 0.0;
            else if (cli_parse_double(optarg, &df) || !(df > 2.0) || !isfinite(df))
                rc = bad("--df", optarg, "a number above 2 or 'normal'");
            break;
        case OPT_STRENGTH:
            note_given(a, "--strength", FOR_STRENGTH);
            if (cli_parse_double(optarg, &strength) || !isfinite(strength)) rc = bad("--strength", optarg, "a number");
            break;
        case OPT_TAIL_LAG:
            note_given(a, "--tail-lag", FOR_TAIL);
            if (cli_parse_int(optarg, 1, 65535, &tail_lag)) rc = bad("--tail-lag", optarg, "a lag in 1..65535");
            break;
        case OPT_TAIL_ALPHA:
            note_given(a, "--tail-alpha", FOR_TAIL);
            if (cli_parse_double(optarg, &tail_alpha) || !(tail_alpha > 0.0 && tail_alpha <= 0.5))
                rc = bad("--tail-alpha", optarg, "a probability in (0,0.5]");
            break;
        case OPT_VAR_A:
            note_given(a, "--var-a", FOR_VAR);
            if (parse_pair(optarg, &vay, &vax) || !(fabs(vay) < 1.0) || !(fabs(vax) < 1.0))
                rc = bad("--var-a", optarg, "AYY,AXX with both in (-1,1)");
            break;
        case OPT_VAR_LOAD:
            note_given(a, "--var-load", FOR_VAR);
            if (parse_pair(optarg, &vly, &vlx) || !(fabs(vly) <= 100.0) || !(fabs(vlx) <= 100.0))
                rc = bad("--var-load", optarg, "LY,LX with |L| <= 100");
            break;
        case OPT_ALPHA: alpha = optarg; break;
        case OPT_ALPHA_Y: alpha_y = optarg; break;
        case OPT_ALPHA_X: alpha_x = optarg; break;
        case OPT_LAGS: lags = optarg; break;
        case OPT_NOQ: a->noq = 1; break;
        case OPT_BOOT:
            if (cli_parse_u64(optarg, &a->B) || a->B < 1 || a->B > UINT32_MAX)
                rc = bad("--boot", optarg, "a replicate count in 1..4294967295");
            break;
        case OPT_GAMMA:
            if (!strcmp(optarg, "auto")) a->gamma = 0.0;
            else if (cli_parse_double(optarg, &a->gamma) || !(a->gamma > 0.0) || a->gamma > 1.0)
                rc = bad("--gamma", optarg, "in (0,1] or auto");
            break;
        case OPT_GAMMA_FLOOR1: a->floor1 = 1; break;
        case OPT_NULL_SCHEME:
            a->null_given = 1;
            if (!strcmp(optarg, "off")) a->null_on = 0;
            else if (cqb_null_scheme_parse(optarg, &a->null_scheme))
                rc = cli_usage_error("simulate", "--null-scheme: unknown scheme '%s' (sb, rotation, off)", optarg);
            else a->null_on = 1;
            break;
        case OPT_ROT_MARGIN:
            if (cli_parse_int(optarg, 1, 100000000, &a->rot_margin)) rc = bad("--rotation-margin", optarg, "an integer >= 1");
            break;
        case OPT_LEVEL:
            if (cli_parse_double(optarg, &a->level) || !(a->level > 0.0 && a->level < 1.0))
                rc = bad("--level", optarg, "in (0,1)");
            break;
        case OPT_REPS:
            if (cli_parse_u64(optarg, &a->reps) || a->reps < 1 || a->reps > ((uint64_t)1 << 32))
                rc = bad("--reps", optarg, "a count in 1..4294967296");
            break;
        case OPT_REP0:
            if (cli_parse_u64(optarg, &a->rep0) || a->rep0 >= ((uint64_t)1 << 32))
                rc = bad("--rep0", optarg, "an id in 0..4294967295");
            break;
        case OPT_SEED:
            if (cli_parse_u64(optarg, &a->seed)) rc = bad("--seed", optarg, "a 64-bit integer");
            break;
        case OPT_THREADS:
            if (cli_parse_int(optarg, 0, 4096, &a->threads)) rc = bad("--threads", optarg, "a thread count in 0..4096 (0: all cores)");
            break;
        case OPT_PROGRESS: progress = optarg; break;
        case OPT_QUIET: a->quiet = 1; break;
        case OPT_JSON: a->json = optarg; break;
        case OPT_CSV: a->csv = optarg; break;
        case OPT_HELP: fputs(SIM_HELP, stdout); return -1;
        default: rc = cli_getopt_error("simulate", c, argv); break;
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage_error("simulate", "unexpected argument '%s'", argv[optind]);
    const int mask = kind == CQB_DGP_VAR ? FOR_VAR : kind == CQB_DGP_TAIL ? (FOR_GARCH | FOR_TAIL) : FOR_GARCH;
    for (size_t i = 0; i < a->ngiven; ++i)
        if (!(a->given_for[i] & mask))
            return cli_usage_error("simulate", "%s does not apply to --dgp %s", a->given[i], cqb_dgp_name(kind));

    cqb_dgp_default(&a->dgp, kind);
    cqb_dgp *d = &a->dgp;
    if (!isnan(phi)) d->phi = phi;
    if (!isnan(omega)) d->omega = omega;
    if (!isnan(ga)) d->garch_alpha = ga;
    if (!isnan(gb)) d->garch_beta = gb;
    if (!isnan(df)) d->df = df;
    if (!isnan(strength)) d->strength = strength;
    if (!isnan(tail_alpha)) d->tail_alpha = tail_alpha;
    if (!isnan(vay)) d->var_ayy = vay;
    if (!isnan(vax)) d->var_axx = vax;
    if (!isnan(vly)) d->var_ly = vly;
    if (!isnan(vlx)) d->var_lx = vlx;
    if (burn >= 0) d->burn = (size_t)burn;
    if (tail_lag >= 0) d->tail_lag = (size_t)tail_lag;
    if (kind == CQB_DGP_TAIL && !(d->strength >= 0.0 && d->strength <= 1.0))
        return cli_usage_error("simulate", "--strength: %g is not a probability in [0,1] (--dgp tail)", d->strength);
    if (kind == CQB_DGP_VAR && !(fabs(d->strength) <= 100.0))
        return cli_usage_error("simulate", "--strength: %g is not a coefficient in [-100,100] (--dgp var)",
                               d->strength);
    if (kind != CQB_DGP_VAR && !(d->garch_alpha + d->garch_beta < 1.0))
        return cli_usage_error("simulate", "--garch-alpha + --garch-beta = %g: must be below 1",
                               d->garch_alpha + d->garch_beta);

    if (alpha && (alpha_y || alpha_x))
        return cli_usage_error("simulate", "give --alpha or --alpha-y/--alpha-x, not both");
    const char *def = "0.05,0.1,0.5,0.9,0.95";
    const char *sy = alpha_y ? alpha_y : alpha ? alpha : def;
    const char *sx = alpha_x ? alpha_x : alpha ? alpha : def;
    const char *ny = alpha_y ? "--alpha-y" : "--alpha", *nx = alpha_x ? "--alpha-x" : "--alpha";
    if (cli_parse_levels(sy, &a->ay, &a->ny)) return bad(ny, sy, "a list of numbers");
    if (cli_parse_levels(sx, &a->ax, &a->nx)) return bad(nx, sx, "a list of numbers");
    for (size_t i = 0; i < a->ny; ++i)
        if (!(a->ay[i] > 0.0 && a->ay[i] < 1.0))
            return cli_usage_error("simulate", "%s: level %g is outside (0,1)", ny, a->ay[i]);
    for (size_t i = 0; i < a->nx; ++i)
        if (!(a->ax[i] > 0.0 && a->ax[i] < 1.0))
            return cli_usage_error("simulate", "%s: level %g is outside (0,1)", nx, a->ax[i]);
    if (a->ny > CQB_PLAN_MAX_LEVELS || a->nx > CQB_PLAN_MAX_LEVELS)
        return cli_usage_error("simulate", "--alpha: at most %d levels per series", CQB_PLAN_MAX_LEVELS);
    a->lags_arg = lags;
    if (cli_parse_lags(lags, &a->lags, &a->nlags)) return bad("--lags", lags, "K, A-B or a comma list of lags");
    if (a->rep0 + a->reps > ((uint64_t)1 << 32))
        return cli_usage_error("simulate", "--rep0 + --reps: replication ids must stay below 2^32");
    a->T = (size_t)T;
    if (cli_progress_mode(progress, &a->progress))
        return bad("--progress", progress, "a mode (auto, plain, none)");
    if (a->quiet) a->progress = 0;
    if (a->json && a->csv && !strcmp(a->json, a->csv) && cli_replaceable(a->json))
        return cli_usage_error("simulate", "--json and --csv name the same file");
    return 0;
}

/* --------------------------------------------------------------- output -- */

/* One line describing the process and its parameters. */
static void dgp_describe(const cqb_dgp *d, char *buf, size_t n)
{
    char innov[48];
    if (d->df > 0.0) snprintf(innov, sizeof innov, "Student-t(%g) innovations", d->df);
    else snprintf(innov, sizeof innov, "Gaussian innovations");
    if (d->kind == CQB_DGP_VAR) {
        snprintf(buf, n,
                 "var: y_t = %g y_{t-1} + %g x_{t-1} + %g f_t + u_t, x_t = %g x_{t-1} + %g f_t + w_t; %s, "
                 "burn-in %zu",
                 d->var_ayy, d->strength, d->var_ly, d->var_axx, d->var_lx, innov, d->burn);
        return;
    }
    int k = snprintf(buf, n, "%s: AR(1)-GARCH(1,1) phi %g, omega %g, alpha %g, beta %g; %s, burn-in %zu",
                     cqb_dgp_name(d->kind), d->phi, d->omega, d->garch_alpha, d->garch_beta, innov, d->burn);
    if (d->kind == CQB_DGP_TAIL && k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, "; tail dependence pi %g at lag %zu, tail %g", d->strength, d->tail_lag,
                 d->tail_alpha);
}

static cJSON *dgp_json(const cqb_dgp *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", cqb_dgp_name(d->kind));
    if (d->kind != CQB_DGP_VAR) {
        cJSON_AddItemToObject(o, "phi", cli_json_num(d->phi));
        cJSON_AddItemToObject(o, "omega", cli_json_num(d->omega));
        cJSON_AddItemToObject(o, "garch_alpha", cli_json_num(d->garch_alpha));
        cJSON_AddItemToObject(o, "garch_beta", cli_json_num(d->garch_beta));
    }
    if (d->kind == CQB_DGP_TAIL) {
        cJSON_AddItemToObject(o, "strength", cli_json_num(d->strength));
        cJSON_AddNumberToObject(o, "tail_lag", (double)d->tail_lag);
        cJSON_AddItemToObject(o, "tail_alpha", cli_json_num(d->tail_alpha));
    }
    if (d->kind == CQB_DGP_VAR) {
        cJSON_AddItemToObject(o, "a_yy", cli_json_num(d->var_ayy));
        cJSON_AddItemToObject(o, "a_yx", cli_json_num(d->strength));
        cJSON_AddItemToObject(o, "a_xx", cli_json_num(d->var_axx));
        cJSON_AddItemToObject(o, "load_y", cli_json_num(d->var_ly));
        cJSON_AddItemToObject(o, "load_x", cli_json_num(d->var_lx));
    }
    if (d->df > 0.0) cJSON_AddItemToObject(o, "innovations_df", cli_json_num(d->df));
    else cJSON_AddStringToObject(o, "innovations_df", "normal");
    cJSON_AddNumberToObject(o, "burn", (double)d->burn);
    return o;
}

static cJSON *results_json(const sim_args *a, const cqb_sim_result *r, double total_s)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "tool", "cqboot simulate");
    cJSON_AddStringToObject(root, "version", CQB_VERSION);
    cJSON *op = cJSON_AddObjectToObject(root, "options");
    cJSON_AddItemToObject(op, "dgp", dgp_json(&a->dgp));
    cJSON_AddNumberToObject(op, "T", (double)a->T);
    cJSON_AddItemToObject(op, "alpha_y", cli_json_num_array(a->ay, a->ny));
    cJSON_AddItemToObject(op, "alpha_x", cli_json_num_array(a->ax, a->nx));
    cJSON *jl = cJSON_AddArrayToObject(op, "lags");
    for (size_t i = 0; i < a->nlags; ++i) cJSON_AddItemToArray(jl, cJSON_CreateNumber((double)a->lags[i]));
    cJSON_AddBoolToObject(op, "qtests", r->nqtests > 0);
    cJSON_AddNumberToObject(op, "reps", (double)a->reps);
    cJSON_AddNumberToObject(op, "rep0", (double)a->rep0);
    cJSON_AddNumberToObject(op, "boot", (double)a->B);
    if (a->gamma > 0) cJSON_AddItemToObject(op, "gamma", cli_json_num(a->gamma));
    else cJSON_AddStringToObject(op, "gamma", a->floor1 ? "auto-floor1" : "auto");
    cJSON_AddItemToObject(op, "level", cli_json_num(a->level));
    char seedbuf[32];
    snprintf(seedbuf, sizeof seedbuf, "%llu", (unsigned long long)a->seed);
    cJSON_AddRawToObject(op, "seed", seedbuf);
    cJSON_AddNumberToObject(op, "threads", r->threads);
    cJSON_AddStringToObject(op, "quantile", "r7_le");
    cJSON_AddStringToObject(op, "resampling",
                            "stationary bootstrap, one resample per lag shared by the quantile grid; bootstrap "
                            "seed of replication r from Philox(seed, r)");
    cJSON_AddStringToObject(op, "rules",
                            "band: rho outside the null band; pval: p_value < 1 - level; "
                            "q_lb, q_bp: Q(p) > critical value; null: p_null < 1 - level; "
                            "null_cons: p_null_conservative < 1 - level; q_lb_null: Ljung-Box p_null < 1 - level");
    cJSON_AddStringToObject(op, "null_scheme", a->null_on ? cqb_null_scheme_name(a->null_scheme) : "off");
    if (a->null_on && a->null_scheme == CQB_NULL_ROTATION)
        cJSON_AddNumberToObject(op, "rotation_margin", (double)a->rot_margin);
    cJSON *cells = cJSON_AddArrayToObject(root, "cells");
    for (size_t i = 0; i < r->ncells; ++i) {
        const cqb_sim_cell *c = &r->cells[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "alpha_y", cli_json_num(c->alpha_y));
        cJSON_AddItemToObject(o, "alpha_x", cli_json_num(c->alpha_x));
        cJSON_AddNumberToObject(o, "lag", (double)c->lag);
        cJSON_AddNumberToObject(o, "valid", (double)c->valid);
        cJSON_AddNumberToObject(o, "rej_band", (double)c->rej_band);
        cJSON_AddItemToObject(o, "rate_band", cli_json_num(c->rate_band));
        cJSON_AddItemToObject(o, "se_band", cli_json_num(c->se_band));
        cJSON_AddNumberToObject(o, "rej_pval", (double)c->rej_pval);
        cJSON_AddItemToObject(o, "rate_pval", cli_json_num(c->rate_pval));
        cJSON_AddItemToObject(o, "se_pval", cli_json_num(c->se_pval));
        cJSON_AddItemToObject(o, "rho_mean", cli_json_num(c->rho_mean));
        cJSON_AddItemToObject(o, "rho_sd", cli_json_num(c->rho_sd));
        cJSON_AddItemToObject(o, "gamma_mean", cli_json_num(c->gamma_mean));
        cJSON_AddNumberToObject(o, "sparse", (double)c->sparse);
        if (a->null_on) {
            cJSON_AddNumberToObject(o, "rej_null", (double)c->rej_null);
            cJSON_AddItemToObject(o, "rate_null", cli_json_num(c->rate_null));
            cJSON_AddItemToObject(o, "se_null", cli_json_num(c->se_null));
            cJSON_AddNumberToObject(o, "rej_null_cons", (double)c->rej_null_cons);
            cJSON_AddItemToObject(o, "rate_null_cons", cli_json_num(c->rate_null_cons));
            cJSON_AddItemToObject(o, "se_null_cons", cli_json_num(c->se_null_cons));
        }
        cJSON_AddItemToArray(cells, o);
    }
    cJSON *qt = cJSON_AddArrayToObject(root, "qtests");
    for (size_t i = 0; i < r->nqtests; ++i) {
        const cqb_sim_qtest *q = &r->qtests[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "alpha_y", cli_json_num(q->alpha_y));
        cJSON_AddItemToObject(o, "alpha_x", cli_json_num(q->alpha_x));
        cJSON_AddNumberToObject(o, "p", (double)q->p);
        cJSON_AddNumberToObject(o, "valid", (double)q->valid);
        cJSON_AddNumberToObject(o, "rej_lb", (double)q->rej_lb);
        cJSON_AddItemToObject(o, "rate_lb", cli_json_num(q->rate_lb));
        cJSON_AddItemToObject(o, "se_lb", cli_json_num(q->se_lb));
        cJSON_AddNumberToObject(o, "rej_bp", (double)q->rej_bp);
        cJSON_AddItemToObject(o, "rate_bp", cli_json_num(q->rate_bp));
        cJSON_AddItemToObject(o, "se_bp", cli_json_num(q->se_bp));
        if (a->null_on) {
            cJSON_AddNumberToObject(o, "rej_null_lb", (double)q->rej_null_lb);
            cJSON_AddItemToObject(o, "rate_null_lb", cli_json_num(q->rate_null_lb));
            cJSON_AddItemToObject(o, "se_null_lb", cli_json_num(q->se_null_lb));
        }
        cJSON_AddItemToArray(qt, o);
    }
    cJSON *tm = cJSON_AddObjectToObject(root, "timing");
    cJSON_AddItemToObject(tm, "simulate_s", cli_json_num(r->seconds));
    cJSON_AddItemToObject(tm, "total_s", cli_json_num(total_s));
    cJSON_AddItemToObject(tm, "per_replication_thread_s", cli_json_num(r->seconds * r->threads / (double)r->reps));
    return root;
}

static void csv_row(FILE *f, const char *test, double ay, double ax, size_t lag, uint64_t valid, uint64_t rej,
                    double rate, double se, double rm, double rs, double gm)
{
    char b[7][40];
    cli_fmt_num(b[0], 40, ay);
    cli_fmt_num(b[1], 40, ax);
    cli_fmt_num(b[2], 40, rate);
    cli_fmt_num(b[3], 40, se);
    cli_fmt_num(b[4], 40, rm);
    cli_fmt_num(b[5], 40, rs);
    cli_fmt_num(b[6], 40, gm);
    fprintf(f, "%s,%s,%s,%zu,%llu,%llu,%s,%s,%s,%s,%s\n", test, b[0], b[1], lag, (unsigned long long)valid,
            (unsigned long long)rej, b[2], b[3], b[4], b[5], b[6]);
}

static void write_csv(FILE *f, const sim_args *a, const cqb_sim_result *r)
{
    const int nul = a->null_on && a->null_given;
    fprintf(f, "test,alpha_y,alpha_x,lag,valid,rejections,rate,se,rho_mean,rho_sd,gamma_mean\n");
    for (size_t i = 0; i < r->ncells; ++i) {
        const cqb_sim_cell *c = &r->cells[i];
        csv_row(f, "band", c->alpha_y, c->alpha_x, c->lag, c->valid, c->rej_band, c->rate_band, c->se_band,
                c->rho_mean, c->rho_sd, c->gamma_mean);
        csv_row(f, "pval", c->alpha_y, c->alpha_x, c->lag, c->valid, c->rej_pval, c->rate_pval, c->se_pval,
                c->rho_mean, c->rho_sd, c->gamma_mean);
        if (nul) {
            csv_row(f, "null", c->alpha_y, c->alpha_x, c->lag, c->valid, c->rej_null, c->rate_null, c->se_null,
                    c->rho_mean, c->rho_sd, c->gamma_mean);
            csv_row(f, "null_cons", c->alpha_y, c->alpha_x, c->lag, c->valid, c->rej_null_cons, c->rate_null_cons,
                    c->se_null_cons, c->rho_mean, c->rho_sd, c->gamma_mean);
        }
    }
    for (size_t i = 0; i < r->nqtests; ++i) {
        const cqb_sim_qtest *q = &r->qtests[i];
        csv_row(f, "q_lb", q->alpha_y, q->alpha_x, q->p, q->valid, q->rej_lb, q->rate_lb, q->se_lb, NAN, NAN, NAN);
        csv_row(f, "q_bp", q->alpha_y, q->alpha_x, q->p, q->valid, q->rej_bp, q->rate_bp, q->se_bp, NAN, NAN, NAN);
        if (nul)
            csv_row(f, "q_lb_null", q->alpha_y, q->alpha_x, q->p, q->valid, q->rej_null_lb, q->rate_null_lb,
                    q->se_null_lb, NAN, NAN, NAN);
    }
}

static void write_table(FILE *f, const sim_args *a, const cqb_sim_result *r)
{
    char desc[512];
    dgp_describe(&a->dgp, desc, sizeof desc);
    fprintf(f, "cqboot simulate: %s\n", desc);
    char g[48];
    if (a->gamma > 0) snprintf(g, sizeof g, "gamma %g", a->gamma);
    else snprintf(g, sizeof g, "gamma auto%s", a->floor1 ? " (floor 1)" : "");
    fprintf(f, "T = %zu, R = %llu replications (ids %llu..%llu), B = %llu, %s, level %g, seed %llu; %d thread%s, "
               "%.1f s\n",
            a->T, (unsigned long long)r->reps, (unsigned long long)r->rep0,
            (unsigned long long)(r->rep0 + r->reps - 1), (unsigned long long)a->B, g, a->level,
            (unsigned long long)a->seed, r->threads, r->threads == 1 ? "" : "s", r->seconds);
    fprintf(f, "Rejection rates at %.3g (Monte Carlo standard errors): band = rho outside the null band,\n"
               "pval = bootstrap p-value < %.3g",
            1 - a->level, 1 - a->level);
    if (a->null_on)
        fprintf(f, ",\nnull = calibrated p_null < %.3g (%s), cons = p_null_conservative; 's' = sparse cell",
                1 - a->level, cqb_null_scheme_name(a->null_scheme));
    fprintf(f, "\n\n");
    fprintf(f, "%7s %7s %4s %7s %17s %17s %9s %8s %7s", "alpha_y", "alpha_x", "lag", "valid", "band (se)",
            "pval (se)", "mean_rho", "sd_rho", "gamma");
    if (a->null_on) fprintf(f, " %17s %7s", "null (se)", "cons");
    fprintf(f, "\n");
    for (size_t i = 0; i < r->ncells; ++i) {
        const cqb_sim_cell *c = &r->cells[i];
        fprintf(f, "%7g %7g %4zu %7llu %7.4f (%7.4f) %7.4f (%7.4f) %9.5f %8.5f %7.4f", c->alpha_y, c->alpha_x,
                c->lag, (unsigned long long)c->valid, c->rate_band, c->se_band, c->rate_pval, c->se_pval,
                c->rho_mean, c->rho_sd, c->gamma_mean);
        if (a->null_on)
            fprintf(f, " %7.4f (%7.4f) %7.4f%s", c->rate_null, c->se_null, c->rate_null_cons, c->sparse ? " s" : "");
        fprintf(f, "\n");
    }
    if (r->nqtests) {
        fprintf(f, "\nPortmanteau tests over lags 1..p: Q(p) > bootstrap critical value\n");
        fprintf(f, "%7s %7s %4s %7s %17s %17s%s\n", "alpha_y", "alpha_x", "p", "valid", "Q_LB (se)", "Q_BP (se)",
                a->null_on ? "   Q_LB null (se)" : "");
        for (size_t i = 0; i < r->nqtests; ++i) {
            const cqb_sim_qtest *q = &r->qtests[i];
            fprintf(f, "%7g %7g %4zu %7llu %7.4f (%7.4f) %7.4f (%7.4f)", q->alpha_y, q->alpha_x, q->p,
                    (unsigned long long)q->valid, q->rate_lb, q->se_lb, q->rate_bp, q->se_bp);
            if (a->null_on) fprintf(f, " %7.4f (%7.4f)", q->rate_null_lb, q->se_null_lb);
            fprintf(f, "\n");
        }
    }
}

/* ----------------------------------------------------------------- main -- */

int cmd_simulate(int argc, char **argv)
{
    double t_start = cli_now();
    sim_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc) {
        args_free(&a);
        return rc < 0 ? 0 : rc;
    }
    if (cli_check_only) {
        args_free(&a);
        return 0;
    }
    cqb_error err = {CQB_OK, ""};
    cli_out oj, oc;
    memset(&oj, 0, sizeof oj);
    memset(&oc, 0, sizeof oc);
    cqb_sim_result res;
    memset(&res, 0, sizeof res);
    cqb_status st;
    {
        const char *out[] = {a.json, a.csv}, *out_opt[] = {"--json", "--csv"};
        if ((rc = cli_check_outputs("simulate", NULL, NULL, 0, out, out_opt, 2)) != 0) {
            args_free(&a);
            return rc;
        }
    }
    if (a.json && (st = cli_out_open(&oj, a.json, "--json", &err)) != CQB_OK) goto fail;
    if (a.csv && (st = cli_out_open(&oc, a.csv, "--csv", &err)) != CQB_OK) goto fail;

    cqb_sim_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.dgp = a.dgp;
    spec.T = a.T;
    spec.alpha_y = a.ay;
    spec.ny = a.ny;
    spec.alpha_x = a.ax;
    spec.nx = a.nx;
    spec.lags = a.lags;
    spec.nlags = a.nlags;
    spec.qtests = !a.noq;
    cqb_sim_opts o;
    cqb_sim_opts_default(&o);
    o.seed = a.seed;
    o.reps = a.reps;
    o.rep0 = a.rep0;
    o.B = (size_t)a.B;
    o.gamma = a.gamma;
    o.gamma_floor1 = a.floor1;
    o.level = a.level;
    o.threads = (int)a.threads;
    o.null_test = a.null_on;
    o.null_scheme = (int)a.null_scheme;
    o.rot_margin = (size_t)a.rot_margin;
    o.cancel = &cli_interrupted;
    cli_progress prog;
    cli_progress_init(&prog, a.progress, "cqboot simulate");
    o.progress = cli_progress_cb;
    o.progress_user = &prog;
    st = cli_scale_simulate(&spec, &o, &res, &err); /* shards, merge, MPI ranks (docs/scale-out.md) */
    cli_progress_done(&prog);
    if (st != CQB_OK) goto fail;

    double total = cli_now() - t_start;
    if (a.json) {
        cJSON *root = results_json(&a, &res, total);
        char *txt = root ? cJSON_Print(root) : NULL;
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
    if (a.csv) write_csv(oc.f, &a, &res);
    if (!a.json && !a.csv && !cli_scale_silent()) write_table(stdout, &a, &res);
    if (cli_stdout_check(&err)) {
        st = err.status;
        goto fail;
    }
    if ((st = cli_out_commit_all((cli_out *const[]){&oj, &oc}, 2, &err)) != CQB_OK) goto fail;
    cqb_sim_result_free(&res);
    args_free(&a);
    return 0;
fail:
    rc = cli_fail("simulate", &err);
    cli_out_abort(&oj);
    cli_out_abort(&oc);
    cqb_sim_result_free(&res);
    args_free(&a);
    return rc;
}
