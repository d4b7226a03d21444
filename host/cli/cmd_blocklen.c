/* cmd_blocklen.c — `cqboot blocklen`: Politis-White automatic block lengths
 * (np::b.star, cross-quantilogram.md §7) and the implied gamma. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "cqboot/blocklen.h"
#include "cqboot/version.h"

static const char *const BL_HELP =
    "Usage: cqboot blocklen --data FILE.csv --cols A,B[,...] [OPTION]...\n"
    "Politis-White (2004) automatic block lengths with the Patton-Politis-White\n"
    "(2009) correction, as R np::b.star (round = FALSE), for each column, and the\n"
    "stationary-bootstrap gamma = min(1, mean(1/b_SB)) that R quantilogram's\n"
    "*.opt functions use.\n"
    "\n"
    "  --data FILE         CSV with a header row (see 'cqboot cq --help')\n"
    "  --cols LIST         comma-separated column names\n"
    "  --lag K             pair the first column at t with the others at t-K\n"
    "                      (the lag-K matrix that crossq.sb.opt resamples;\n"
    "                      default 0: the columns as they are)\n"
    "  --transform COL=T   logdiff, diff, pct or level (repeatable)\n"
    "  --from DATE, --to DATE\n"
    "                      restrict the rows (inclusive)\n"
    CLI_INPUT_HELP
    "  --floor1            floor each b at 1 before averaging (deviation from R)\n"
    "  --json FILE         write the results as JSON ('-' for stdout)\n"
    "  --max-input SIZE    read at most SIZE bytes of input (default 1G)\n"
    "  --help              this help\n"
    "\n"
    "Exit status: 0 ok, 2 usage, 3 data or file, 5 out of memory,\n"
    "130 interrupted (SIGINT), 143 terminated (SIGTERM); docs/safety.md.\n";

enum { OPT_DATA = 256, OPT_COLS, OPT_LAG, OPT_TRANSFORM, OPT_FROM, OPT_TO, OPT_FLOOR1, OPT_JSON, OPT_HELP };

static const struct option BL_OPTS[] = {
    {"data", required_argument, 0, OPT_DATA},     {"cols", required_argument, 0, OPT_COLS},
    {"lag", required_argument, 0, OPT_LAG},       {"transform", required_argument, 0, OPT_TRANSFORM}, CLI_INPUT_OPTIONS,
    {"from", required_argument, 0, OPT_FROM},     {"to", required_argument, 0, OPT_TO},
    {"floor1", no_argument, 0, OPT_FLOOR1},       {"json", required_argument, 0, OPT_JSON},
    {"help", no_argument, 0, OPT_HELP},           {0, 0, 0, 0}};

int cmd_blocklen(int argc, char **argv)
{
    const char *data = NULL, *cols_arg = NULL, *from = NULL, *to = NULL, *json = NULL;
    long lag = 0;
    int floor1 = 0, c, rc = 0;
    cli_transforms tr;
    memset(&tr, 0, sizeof tr);
    optind = 0; /* 0: glibc forgets the previous parse (in-process runs, fuzzing) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", BL_OPTS, NULL)) != -1 && !rc) {
        switch (c) {
        case OPT_DATA: data = optarg; break;
        case OPT_COLS: cols_arg = optarg; break;
        case OPT_LAG:
            if (cli_parse_int(optarg, 0, 65535, &lag))
                rc = cli_usage_error("blocklen", "--lag: '%s' is not an integer in 0..65535", optarg);
            break;
        case OPT_TRANSFORM: rc = cli_transform_add(&tr, optarg, "blocklen"); break;
        case CLI_OPT_SEP:
        case CLI_OPT_DECIMAL:
        case CLI_OPT_DATE_FORMAT: rc = cli_input_option(&tr, c, optarg, "blocklen"); break;
        case OPT_FROM: from = optarg; break;
        case OPT_TO: to = optarg; break;
        case OPT_FLOOR1: floor1 = 1; break;
        case OPT_JSON: json = optarg; break;
        case OPT_HELP: fputs(BL_HELP, stdout); rc = -1; break;
        default: rc = cli_getopt_error("blocklen", c, argv); break;
        }
    }
    if (!rc && optind < argc) rc = cli_usage_error("blocklen", "unexpected argument '%s'", argv[optind]);
    if (!rc && !data) rc = cli_usage_error("blocklen", "--data FILE is required");
    if (!rc && !cols_arg) rc = cli_usage_error("blocklen", "--cols LIST is required");
    char *dup = NULL;
    const char **cols = NULL;
    size_t ncols = 0;
    if (!rc) {
        dup = strdup(cols_arg);
        cols = malloc((strlen(cols_arg) + 1) * sizeof *cols);
        if (!dup || !cols) rc = cli_oom("blocklen");
        char *save = NULL;
        for (char *t = rc ? NULL : strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) cols[ncols++] = t;
        if (!rc && ncols == 0) rc = cli_usage_error("blocklen", "--cols: no column names in '%s'", cols_arg);
    }
    cqb_error err = {CQB_OK, ""};
    cli_data d;
    memset(&d, 0, sizeof d);
    cli_out out;
    memset(&out, 0, sizeof out);
    double *bsb = NULL, *bcb = NULL;
    cJSON *root = NULL;
    if (!rc && cli_check_only == 1) rc = -1; /* options only: done */
    if (rc) goto done;
    cqb_status st = CQB_OK;
    {
        const char *in[] = {data}, *in_opt[] = {"--data"}, *outp[] = {json}, *out_opt[] = {"--json"};
        if ((rc = cli_check_outputs("blocklen", in, in_opt, 1, outp, out_opt, 1)) != 0) goto done;
    }
    if (json && (st = cli_out_open(&out, json, "--json", &err)) != CQB_OK) goto fail;
    if ((st = cli_load(data, cols, ncols, &tr, from, to, &d, &err)) != CQB_OK) goto fail;
    const size_t T = d.set.T;
    if ((size_t)lag + 2 > T) {
        st = cqb_error_set(&err, CQB_EDATA, "%s: --lag %ld leaves fewer than 2 rows (T = %zu)", data, lag, T);
        goto fail;
    }
    if (cli_check_only) goto done;
    const size_t N = T - (size_t)lag;
    bsb = malloc(ncols * sizeof *bsb);
    bcb = malloc(ncols * sizeof *bcb);
    if (!bsb || !bcb) {
        st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
        goto fail;
    }
    cqb_bstar_opts bo;
    cqb_bstar_opts_default(&bo);
    for (size_t j = 0; j < ncols; ++j) {
        /* column 0 at t = lag..T-1, the others at t - lag */
        const double *x = d.set.x + j * T + (j == 0 ? (size_t)lag : 0);
        int bst = cqb_bstar(x, N, &bo, &bsb[j], &bcb[j]);
        if (bst == (int)CQB_ENOMEM) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        if (bst != CQB_OK) {
            st = cqb_error_set(&err, CQB_EDATA, "%s: column '%s': block length undefined (%zu rows; too short or constant)",
                               data, cols[j], N);
            goto fail;
        }
    }
    double gamma = cqb_gamma_from_bstar(bsb, ncols, floor1);
    if (json) {
        root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "tool", "cqboot blocklen");
        cJSON_AddStringToObject(root, "version", CQB_VERSION);
        cJSON_AddItemToObject(root, "input", cli_input_json(&d, cols, ncols, &tr));
        cJSON *opt = cJSON_AddObjectToObject(root, "options");
        cJSON_AddNumberToObject(opt, "lag", (double)lag);
        cJSON_AddBoolToObject(opt, "floor1", floor1);
        cJSON *res = cJSON_AddArrayToObject(root, "results");
        for (size_t j = 0; j < ncols; ++j) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "column", cols[j]);
            cJSON_AddNumberToObject(o, "n", (double)N);
            cJSON_AddItemToObject(o, "b_sb", cli_json_num(bsb[j]));
            cJSON_AddItemToObject(o, "b_cb", cli_json_num(bcb[j]));
            cJSON_AddItemToArray(res, o);
        }
        cJSON_AddItemToObject(root, "gamma", cli_json_num(gamma));
        char *txt = cJSON_Print(root);
        if (!txt) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        FILE *f = out.f;
        fputs(txt, f);
        fputc('\n', f);
        free(txt);
    } else {
        printf("cqboot blocklen: %s, %s .. %s, N = %zu%s\n", data, d.set.first_label, d.set.last_label, N,
               lag ? " (lag-paired)" : "");
        printf("%-24s %14s %14s\n", "column", "b_SB", "b_CB");
        for (size_t j = 0; j < ncols; ++j) printf("%-24s %14.6f %14.6f\n", cols[j], bsb[j], bcb[j]);
        printf("gamma = min(1, mean(1/b_SB))%s = %.12g (mean block %.4g)\n", floor1 ? " with b floored at 1" : "",
               gamma, 1.0 / gamma);
    }
    if (cli_stdout_check(&err)) {
        st = err.status;
        goto fail;
    }
    if ((st = cli_out_commit(&out, &err)) != CQB_OK) goto fail;
    goto done;
fail:
    rc = cli_fail("blocklen", &err);
    cli_out_abort(&out);
done:
    cJSON_Delete(root);
    free(bsb);
    free(bcb);
    cli_data_free(&d);
    free(cols);
    free(dup);
    for (size_t i = 0; i < tr.n; ++i) free((char *)tr.col[i]);
    return rc < 0 ? 0 : rc;
}
