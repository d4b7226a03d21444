/* test_scale.c — shards and merge (docs/scale-out.md): `--shard I/N --part
 * FILE` on every shard, then `cqboot merge`, gives JSON results, qtests,
 * supq, windows, wavelet levels and simulate's cells and qtests
 * byte-identical to one process, and the CSV too; merge refuses mixed, missing, duplicate, truncated and corrupt
 * parts with one line and exit 3; bad --shard values are usage errors. The
 * MPI counterpart is tests/scale_mpi.sh (ctest test_scale_mpi, MPI builds). */
#include <criterion/criterion.h>

#include "testdata.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[] = "/tmp/cqb_scale_XXXXXX";

static void setup(void) { cr_assert_not_null(mkdtemp(g_dir), "mkdtemp: %s", strerror(errno)); }

static void teardown(void) { td_remove_tree(g_dir); /* our own mkdtemp folder only */ }

TestSuite(scale, .init = setup, .fini = teardown);

/* Runs `cqboot ARGS` in the test's folder (relative outputs land there) with
 * stdout and stderr to its file out; returns the exit status. */
static int sh(const char *fmt, ...)
{
    char args[4096], cmd[5000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s > '%s/out' 2>&1", g_dir, CQB_CLI, args, g_dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* DIR/name, whole (NULL when missing) */
static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    return td_slurp(path);
}

/* The top-level JSON members from "results" (or "levels") up to "timing":
 * everything computed, nothing about the run. */
static char *results_region(const char *name)
{
    char *s = slurp(name);
    cr_assert_not_null(s, "%s missing", name);
    char *a = strstr(s, "\n\t\"results\":");
    if (!a) a = strstr(s, "\n\t\"levels\":");
    if (!a) a = strstr(s, "\n\t\"cells\":"); /* simulate */
    cr_assert_not_null(a, "%s: no results", name);
    char *z = strstr(a, "\n\t\"timing\":");
    if (z) *z = 0;
    char *r = strdup(a);
    free(s);
    return r;
}

static void expect_same_region(const char *x, const char *y)
{
    char *a = results_region(x), *b = results_region(y);
    cr_expect(strlen(a) > 200, "%s: results too short", x);
    cr_expect_str_eq(a, b, "%s and %s differ", x, y);
    free(a);
    free(b);
}

static void expect_same_file(const char *x, const char *y)
{
    char *a = slurp(x), *b = slurp(y);
    cr_assert(a && b);
    cr_expect_str_eq(a, b, "%s and %s differ", x, y);
    free(a);
    free(b);
}

static const char *const CQ =
    "cq --data " CQB_DATA_DIR "/us_china_monthly.csv --y GPRC_CHN --x IPB52300S --transform GPRC_CHN=logdiff "
    "--transform IPB52300S=logdiff --alpha 0.05,0.5,0.95 --lags 1-4 --boot 700 --seed 11 --quiet";

/* the single process, N shards (each on another thread count), then merge */
static void shard_and_merge(const char *args, int N, int csv)
{
    cr_assert_eq(sh("%s --threads 2 --json %s/one.json %s%s%s", args, g_dir, csv ? "--csv " : "", csv ? g_dir : "",
                    csv ? "/one.csv" : ""),
                 0);
    char parts[2048] = "";
    for (int i = N; i >= 1; --i) { /* any order */
        cr_assert_eq(sh("%s --threads %d --shard %d/%d --part %s/p%d.part", args, 1 + i % 2, i, N, g_dir, i), 0,
                     "shard %d/%d", i, N);
        size_t l = strlen(parts);
        snprintf(parts + l, sizeof parts - l, " %s/p%d.part", g_dir, i);
    }
    char *out = slurp("out");
    cr_expect_str_eq(out, "", "a shard printed results");
    free(out);
    cr_assert_eq(sh("merge%s --json %s/merged.json %s%s%s", parts, g_dir, csv ? "--csv " : "", csv ? g_dir : "",
                    csv ? "/merged.csv" : ""),
                 0);
    expect_same_region("one.json", "merged.json");
    if (csv) expect_same_file("one.csv", "merged.csv");
}

Test(scale, cq_gridwide_three_shards_exact)
{
    char a[1024];
    snprintf(a, sizeof a, "%s --gridwide", CQ);
    shard_and_merge(a, 3, 1);
}

Test(scale, cq_partial_windows_sb_null_exact)
{
    char a[1024];
    snprintf(a, sizeof a,
             "cq --data " CQB_DATA_DIR "/us_china_monthly.csv --y GPRC_CHN --x IPB52300S --transform GPRC_CHN=logdiff "
             "--transform IPB52300S=logdiff --control GPR:0.5 --alpha 0.1,0.9 --lags 1,3 --boot 300 --seed 3 "
             "--window 150 --step 90 --quiet");
    shard_and_merge(a, 2, 0);
    snprintf(a, sizeof a,
             "cq --data " CQB_DATA_DIR "/us_china_monthly.csv --y GPRC_CHN --x IPB52300S --null-scheme sb --independent-cells "
             "--alpha 0.1,0.5 --lags 1-2 --boot 400 --quiet");
    shard_and_merge(a, 4, 0);
}

Test(scale, cq_two_pass_selection_exact)
{
    /* 1 MiB for stored values: the exact two-pass selection runs */
    shard_and_merge("cq --data " CQB_DATA_DIR "/us_china_monthly.csv --y GPRC_CHN --x IPB52300S --lags 1-3 --boot 9000 "
                    "--mem-limit 1 --no-null --quiet",
                    2, 0);
}

Test(scale, wavelet_nulls_exact)
{
    shard_and_merge("wlmc --data " CQB_DATA_DIR "/us_china_monthly.csv --cols IPB52300S,GPRC_CHN,GPR --transform GPR=logdiff "
                    "--levels 3 --M 24 --boot 150 --null bootstrap --quiet",
                    2, 0);
    shard_and_merge("wmcc --data " CQB_DATA_DIR "/us_china_monthly.csv --cols IPB52300S,GPRC_CHN,GPR --levels 3 --boot 150 "
                    "--null rotation --quiet",
                    3, 0);
}

Test(scale, one_shard_and_rerun_are_identical)
{
    cr_assert_eq(sh("%s --shard 2/3 --part %s/a.part", CQ, g_dir), 0);
    cr_assert_eq(sh("%s --shard 2/3 --part %s/b.part", CQ, g_dir), 0);
    /* a shard rerun (another node, another time) writes the same bytes */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp -s '%s/a.part' '%s/b.part'", g_dir, g_dir);
    cr_expect_eq(system(cmd), 0);
    cr_assert_eq(sh("%s --shard 1/1 --part %s/all.part", CQ, g_dir), 0);
    cr_assert_eq(sh("%s --json %s/one.json", CQ, g_dir), 0);
    cr_assert_eq(sh("merge %s/all.part --json %s/m.json", g_dir, g_dir), 0);
    expect_same_region("one.json", "m.json");
}

/* exit status and the one line it printed */
static void expect_refusal(int want, const char *needle, const char *fmt, const char *a1, const char *a2)
{
    char args[4096];
    snprintf(args, sizeof args, fmt, a1, a2);
    cr_expect_eq(sh("%s", args), want, "%s", args);
    char *out = slurp("out");
    cr_assert_not_null(out);
    cr_expect_not_null(strstr(out, needle), "'%s' not in: %s", needle, out);
    char *nl = strchr(out, '\n');
    cr_expect(nl && nl[1] == 0, "not one line: %s", out);
    free(out);
}

Test(scale, refusals)
{
    char d[600], p1[700], p2[700], p2s[700], tr[700], fl[700], m[700];
    snprintf(d, sizeof d, "%s", g_dir);
    snprintf(p1, sizeof p1, "%s/a1.part", d);
    snprintf(p2, sizeof p2, "%s/a2.part", d);
    snprintf(p2s, sizeof p2s, "%s/b2.part", d);
    snprintf(tr, sizeof tr, "%s/t.part", d);
    snprintf(fl, sizeof fl, "%s/f.part", d);
    snprintf(m, sizeof m, "%s/m.json", d);
    expect_refusal(2, "--shard 3/2: I must be in 1..2", "%s --shard 3/2 --part %s", CQ, p1);
    expect_refusal(2, "--shard 0/0: N must be at least 1", "%s --shard 0/0 --part %s", CQ, p1);
    expect_refusal(2, "is not I/N", "%s --shard 1/x --part %s", CQ, p1);
    expect_refusal(2, "needs --part", "%s --shard 1/2%s", CQ, "");
    expect_refusal(2, "give --json/--csv to cqboot merge", "%s --json x.json --shard 1/2 --part %s", CQ, p1);
    struct stat sb;
    cr_expect_neq(stat(p1, &sb), 0, "a refused shard left a part file");
    cr_assert_eq(sh("%s --shard 1/2 --part %s", CQ, p1), 0);
    cr_assert_eq(sh("%s --shard 2/2 --part %s", CQ, p2), 0);
    cr_assert_eq(sh("%s --seed 12 --shard 2/2 --part %s", CQ, p2s), 0);
    expect_refusal(3, "different options (or seed)", "merge %s %s --json m.json", p1, p2s);
    expect_refusal(3, "missing shard 2 of 2", "merge %s --json m.json%s", p1, "");
    expect_refusal(3, "shard 1/2 given twice", "merge %s %s --json m.json", p1, p1);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "head -c 2500 '%s' > '%s' && cp '%s' '%s' && printf 'Z' | dd of='%s' bs=1 seek=3000 "
             "conv=notrunc 2>/dev/null", p2, tr, p2, fl, fl);
    cr_assert_eq(system(cmd), 0);
    expect_refusal(3, "truncated or corrupt part file", "merge %s %s --json m.json", p1, tr);
    expect_refusal(3, "truncated or corrupt part file", "merge %s %s --json m.json", p1, fl);
    expect_refusal(2, "no part files given", "merge --json m.json%s%s", "", "");
    cr_expect_neq(stat(m, &sb), 0, "a refused merge left an output");
    cr_expect_eq(sh("merge %s %s --json %s", p1, p2, m), 0);
    cr_expect_eq(stat(m, &sb), 0);
}

/* --pairs: the long table equals each pair's own run, shards over pairs and
 * merge give the same bytes, a FILE lists pairs */
Test(scale, pairs_all_and_file)
{
    const char *P = "cq --data " CQB_DATA_DIR "/us_china_monthly.csv --series GPRC_CHN,IPB52300S,GPR "
                    "--transform GPRC_CHN=logdiff --transform IPB52300S=logdiff --transform GPR=logdiff "
                    "--alpha 0.1,0.5 --lags 1-2 --boot 150 --quiet";
    cr_assert_eq(sh("%s --pairs all --json one.json --csv one.csv", P), 0);
    for (int i = 1; i <= 4; ++i) cr_assert_eq(sh("%s --pairs all --shard %d/4 --part p%d.part", P, i, i), 0);
    cr_assert_eq(sh("merge p1.part p2.part p3.part p4.part --json m.json --csv m.csv"), 0);
    expect_same_region("one.json", "m.json");
    expect_same_file("one.csv", "m.csv");
    /* 6 directed pairs x 2 x 2 x 2 cells + the header */
    char *csv = slurp("one.csv");
    size_t lines = 0;
    for (char *c = csv; *c; ++c) lines += *c == '\n';
    cr_expect_eq(lines, 1 + 6 * 8);
    cr_expect_eq(strncmp(csv, "y,x,alpha_y,", 12), 0);
    free(csv);
    /* the pair IPB52300S <- GPR equals its own cq run, row for row */
    cr_assert_eq(sh("cq --data " CQB_DATA_DIR "/us_china_monthly.csv --y IPB52300S --x GPR "
                    "--transform GPRC_CHN=logdiff --transform IPB52300S=logdiff --transform GPR=logdiff "
                    "--alpha 0.1,0.5 --lags 1-2 --boot 150 --quiet --csv plain.csv"),
                 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && grep '^IPB52300S,GPR,' one.csv | cut -d, -f3- > a.txt && tail -n +2 plain.csv > b.txt && "
             "cmp -s a.txt b.txt",
             g_dir);
    cr_expect_eq(system(cmd), 0, "the pair's rows differ from its own run");
    /* a list */
    snprintf(cmd, sizeof cmd, "printf '# two pairs\\ny,x\\nGPR,GPRC_CHN\\nIPB52300S , GPR\\n' > '%s/pairs.txt'", g_dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(sh("%s --pairs pairs.txt --csv two.csv", P), 0);
    csv = slurp("two.csv");
    cr_expect_not_null(strstr(csv, "\nGPR,GPRC_CHN,0.1,0.1,1,"));
    cr_expect_not_null(strstr(csv, "\nIPB52300S,GPR,0.5,0.5,2,"));
    cr_expect_null(strstr(csv, "\nGPRC_CHN,"));
    free(csv);
    snprintf(cmd, sizeof cmd, "printf 'GPR,GPR\\n' > '%s/bad.txt'", g_dir);
    cr_assert_eq(system(cmd), 0);
    expect_refusal(3, "y and x are the same series", "%s --pairs bad.txt --csv x.csv%s", P, "");
    expect_refusal(2, "go together", "%s%s --pairs all --json x.json", "cq --data " CQB_DATA_DIR "/us_china_monthly.csv", "");
}

/* merge reads the data again: a changed data file is refused */
Test(scale, merge_refuses_changed_data)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp '%s/us_china_monthly.csv' '%s/d.csv'", CQB_DATA_DIR, g_dir);
    cr_assert_eq(system(cmd), 0);
    const char *A = "cq --data d.csv --y GPRC_CHN --x IPB52300S --alpha 0.5 --lags 1-2 --boot 200 --quiet";
    cr_assert_eq(sh("%s --shard 1/2 --part a.part", A), 0);
    cr_assert_eq(sh("%s --shard 2/2 --part b.part", A), 0);
    cr_assert_eq(sh("merge a.part b.part --json ok.json"), 0);
    snprintf(cmd, sizeof cmd, "printf '1996-01,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\\n' >> '%s/d.csv'", g_dir);
    cr_assert_eq(system(cmd), 0);
    expect_refusal(3, "differs from the one the shards read", "merge a.part b.part --json %s%s", "no.json", "");
    struct stat sb;
    char p[700];
    snprintf(p, sizeof p, "%s/no.json", g_dir);
    cr_expect_neq(stat(p, &sb), 0);
}

/* simulate: the shards split the replications; merge replays their records
 * in replication order, so the rates and the mean and SD of rho-hat (summed
 * in that order) are the single process's, bit for bit */
static const char *const SIM = "simulate --dgp tail --strength 0.4 --T 150 --alpha 0.1,0.5 --lags 1-3 --reps 41 "
                               "--rep0 7 --boot 99 --seed 9 --quiet";

Test(scale, simulate_shards_exact)
{
    shard_and_merge(SIM, 3, 1);
    shard_and_merge("simulate --dgp null --T 120 --alpha 0.2 --lags 1-2 --reps 4 --boot 49 --no-qtests --null-scheme sb "
                    "--quiet",
                    6, 1); /* more shards than replications: two parts are empty */
    /* the numbers are real: the last study counts its 4 valid replications */
    char *j = slurp("one.json");
    cr_assert_not_null(j);
    cr_expect_not_null(strstr(j, "\"valid\":\t4,"), "%.400s", j);
    free(j);
    j = slurp("merged.json");
    cr_expect_not_null(strstr(j, "\"rho_sd\":"));
    free(j);
}

Test(scale, simulate_refusals)
{
    char p1[700], p2[700], p3[700];
    snprintf(p1, sizeof p1, "%s/s1.part", g_dir);
    snprintf(p2, sizeof p2, "%s/s2.part", g_dir);
    snprintf(p3, sizeof p3, "%s/s3.part", g_dir);
    cr_assert_eq(sh("%s --shard 1/2 --part %s", SIM, p1), 0);
    cr_assert_eq(sh("%s --reps 40 --shard 2/2 --part %s", SIM, p3), 0);
    expect_refusal(3, "different options (or seed)", "merge %s %s --json m.json", p1, p3);
    expect_refusal(3, "missing shard 2 of 2", "merge %s --csv m.csv%s", p1, "");
    expect_refusal(2, "--shard 3/2: I must be in 1..2", "%s --shard 3/2 --part %s", SIM, p2);
    cr_assert_eq(sh("%s --shard 2/2 --part %s", SIM, p2), 0);
    cr_expect_eq(sh("merge %s %s --csv %s/m.csv", p2, p1, g_dir), 0);
    cr_assert_eq(sh("%s --csv %s/one.csv", SIM, g_dir), 0);
    expect_same_file("one.csv", "m.csv");
}

/* cqboot run: shards split the analyses; merge writes the study folder of
 * one run (every table, state, figure and the report), apart from timing */
static void write_study(void)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s/us_china_monthly.csv' '%s/' && cat > '%s/s.json' <<'EOF'\n"
             "{\"name\": \"mini\", \"datasets\": {\"m\": {\"file\": \"us_china_monthly.csv\",\n"
             "  \"transforms\": {\"IPB52300S\": \"logdiff\", \"GPRC_CHN\": \"logdiff\"}}},\n"
             " \"defaults\": {\"seed\": 5, \"boot\": 200},\n"
             " \"analyses\": [\n"
             "  {\"name\": \"bl\", \"kind\": \"blocklen\", \"dataset\": \"m\", \"cols\": [\"GPRC_CHN\"], \"lag\": 1},\n"
             "  {\"name\": \"cq1\", \"kind\": \"cq\", \"dataset\": \"m\", \"y\": \"GPRC_CHN\", \"x\": \"IPB52300S\",\n"
             "   \"alpha\": [0.1, 0.5], \"lags\": \"1-2\"},\n"
             "  {\"name\": \"cq2\", \"kind\": \"cq\", \"dataset\": \"m\", \"y\": \"IPB52300S\", \"x\": \"GPRC_CHN\",\n"
             "   \"alpha\": [0.5], \"lags\": \"1\"},\n"
             "  {\"name\": \"sim\", \"kind\": \"simulate\", \"dgp\": \"tail\", \"T\": 120, \"alpha\": [0.1], \"lags\": \"1\",\n"
             "   \"reps\": 5, \"boot\": 49},\n"
             "  {\"name\": \"net\", \"kind\": \"cq\", \"dataset\": \"m\", \"series\": [\"GPRC_CHN\", \"IPB52300S\", \"GPR\"],\n"
             "   \"pairs\": \"all\", \"alpha\": [0.5], \"lags\": \"1\", \"figures\": {\"mark\": \"p\"}}]}\n"
             "EOF",
             CQB_DATA_DIR, g_dir, g_dir);
    cr_assert_eq(system(cmd), 0);
}

/* results.json up to its timing */
static char *before_timing(const char *name)
{
    char *s = slurp(name);
    cr_assert_not_null(s, "%s missing", name);
    char *z = strstr(s, "\n\t\"timing\":");
    cr_assert_not_null(z, "%s: no timing", name);
    *z = 0;
    return s;
}

Test(scale, run_shards_exact)
{
    write_study();
    cr_assert_eq(sh("run s.json --out o1 --quiet"), 0);
    for (int i = 3; i >= 1; --i) cr_assert_eq(sh("run s.json --quiet --shard %d/3 --part r%d.part", i, i), 0);
    struct stat sb;
    cr_expect_neq(stat("out", &sb) == 0 && S_ISDIR(sb.st_mode), 1);
    cr_assert_eq(sh("merge r2.part r1.part r3.part --out o2"), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && diff -r -x .cqboot.lock -x results.json o1 o2 >&2 && test -s o2/cq1.csv && "
             "test -s o2/report.md && test -s o2/sim.csv && test -s o2/.state/bl.json && test -s o2/net_links_0.5_0.5_lag1.png",
             g_dir);
    cr_expect_eq(system(cmd), 0, "the merged folder differs from one run's");
    char *a = before_timing("o1/results.json"), *b = before_timing("o2/results.json");
    cr_expect(strlen(a) > 1000);
    cr_expect_str_eq(a, b);
    free(a);
    free(b);
    /* refusals: a missing shard, --out or --resume on a shard, changed data */
    expect_refusal(3, "missing shard 2 of 3", "merge %s %s --out o3", "r1.part", "r3.part");
    expect_refusal(2, "give --out to cqboot merge", "run s.json --out x --shard 1/2 --part %s%s", "x.part", "");
    expect_refusal(2, "--resume: not with --shard", "run s.json --resume --shard 1/2 --part %s%s", "x.part", "");
    expect_refusal(2, "not --json/--csv", "merge r1.part r2.part r3.part --json %s%s", "m.json", "");
    snprintf(cmd, sizeof cmd, "cd '%s' && sed -i '5s/,0\\./,1./' us_china_monthly.csv", g_dir);
    cr_assert_eq(system(cmd), 0);
    expect_refusal(3, "changed since the shards ran", "merge r1.part r2.part r3.part --out %s%s", "o4", "");
}
