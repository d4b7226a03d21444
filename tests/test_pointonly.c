/* test_pointonly.c — B = 0 (`cqboot cq --boot 0`): the sample statistics and
 * Q statistics alone, equal to those of a bootstrap run, every bootstrap
 * field NaN, and combinations that need replicates refused. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cqboot/cq_boot.h"
#include "testdata.h"

static void run(size_t B, int partial, cqb_cq_result *r)
{
    static double *jpm, *mkt, *dvix;
    static size_t T;
    if (!jpm) td_sysrisk(&jpm, &mkt, &dvix, &T);
    static const double a[3] = {0.05, 0.5, 0.95};
    static const size_t lags[3] = {1, 2, 5};
    cqb_control ctl = {dvix, 0.5, -1};
    cqb_cq_spec s = {.in = {jpm, mkt, 1200, partial ? &ctl : NULL, partial ? 1 : 0, CQB_Q_R7_LE},
                     .alpha_y = a, .ny = 3, .alpha_x = a, .nx = 3, .lags = lags, .nlags = 3, .qtests = 1};
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.B = B;
    cqb_error err;
    cr_assert_eq(cqb_cq_boot(&s, &o, r, &err), CQB_OK, "%s", err.msg);
}

static void same_point(int partial)
{
    cqb_cq_result r0, r1;
    run(0, partial, &r0);
    run(200, partial, &r1);
    cr_assert_eq(r0.ncells, r1.ncells);
    for (size_t i = 0; i < r0.ncells; ++i) {
        const cqb_cq_cell *c = &r0.cells[i];
        cr_expect_eq(c->rho, r1.cells[i].rho);
        if (partial) cr_expect_eq(c->rho_partial, r1.cells[i].rho_partial);
        cr_expect(isnan(c->band_lo) && isnan(c->band_hi) && isnan(c->ci_lo) && isnan(c->p_value) &&
                  isnan(c->p_null) && c->boot_valid == 0);
        cr_expect_eq(c->sparse, r1.cells[i].sparse);
    }
    cr_assert_eq(r0.nqtests, r1.nqtests);
    for (size_t i = 0; i < r0.nqtests; ++i) {
        cr_expect_eq(r0.qtests[i].q_bp, r1.qtests[i].q_bp);
        cr_expect_eq(r0.qtests[i].q_lb, r1.qtests[i].q_lb);
        cr_expect(isnan(r0.qtests[i].cv_lb) && isnan(r0.qtests[i].p_lb));
    }
    cqb_cq_result_free(&r0);
    cqb_cq_result_free(&r1);
}

Test(pointonly, cq_equals_bootstrap_run) { same_point(0); }
Test(pointonly, pcq_equals_bootstrap_run) { same_point(1); }

/* Exit status of `cqboot cq` on the bundled data with extra options; its
 * output is read and dropped (tests write nowhere outside their folders). */
static int cli_status(const char *opts)
{
    char cmd[1024], buf[4096];
    snprintf(cmd, sizeof cmd, "'%s' cq --data '%s/us_china_monthly.csv' --y GPRC_CHN --x IPB52300S %s --quiet 2>&1",
             CQB_CLI, CQB_DATA_DIR, opts);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    while (fread(buf, 1, sizeof buf, p) > 0) {
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(pointonly, refuses_what_needs_replicates)
{
    double *jpm, *mkt;
    size_t T;
    td_sysrisk(&jpm, &mkt, NULL, &T);
    static const double a[1] = {0.5};
    static const size_t lags[1] = {1};
    cqb_cq_spec s = {.in = {jpm, mkt, T, NULL, 0, CQB_Q_R7_LE},
                     .alpha_y = a, .ny = 1, .alpha_x = a, .nx = 1, .lags = lags, .nlags = 1, .qtests = 1};
    cqb_boot_opts o;
    cqb_boot_opts_default(&o);
    o.B = 0;
    o.gridwide = 1;
    cqb_cq_result r;
    cqb_error err;
    cr_expect_eq(cqb_cq_boot(&s, &o, &r, &err), CQB_EUSAGE);
    o.gridwide = 0;
    o.null_test = 1;
    cr_expect_eq(cqb_cq_boot(&s, &o, &r, &err), CQB_EUSAGE);
    free(jpm);
    free(mkt);
    /* the CLI: --boot 0 runs (no calibrated test needed), with --gridwide it is a usage error */
    cr_expect_eq(cli_status("--boot 0"), 0);
    cr_expect_eq(cli_status("--boot 0 --gridwide"), 2);
}
