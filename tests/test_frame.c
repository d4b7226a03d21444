/* test_frame.c — the input layer: CSV reading, dates, selection, transforms,
 * validation messages, SHA-256. Fixtures are written to a mkdtemp directory
 * by each test (Criterion runs every test in its own process). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cqboot/frame.h"
#include "cqboot/hash.h"
#include "cqboot/transform.h"

/* ------------------------------------------------------------------------- */
/* Fixtures                                                                   */
/* ------------------------------------------------------------------------- */

#define MAX_FIXTURES 16
static char g_dir[64];
static char g_paths[MAX_FIXTURES][256];
static int g_nfix;

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cqb_frame_XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir), "mkdtemp failed");
    g_nfix = 0;
}

static void teardown(void)
{
    for (int i = 0; i < g_nfix; ++i) remove(g_paths[i]);
    rmdir(g_dir);
}

TestSuite(frame, .init = setup, .fini = teardown);

/* Writes `len` bytes (strlen(content) when len is 0) to DIR/name; returns the path. */
static const char *fixture_n(const char *name, const char *content, size_t len)
{
    cr_assert_lt(g_nfix, MAX_FIXTURES);
    char *path = g_paths[g_nfix++];
    snprintf(path, 256, "%s/%s", g_dir, name);
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "cannot write %s", path);
    if (len == 0) len = strlen(content);
    cr_assert_eq(fwrite(content, 1, len, fp), len);
    cr_assert_eq(fclose(fp), 0);
    return path;
}

static const char *fixture(const char *name, const char *content)
{
    return fixture_n(name, content, 0);
}

static cqb_frame *read_ok_opts(const char *path, const cqb_read_opts *o)
{
    cqb_frame *f = NULL;
    cqb_error err = {0};
    cqb_status st = cqb_frame_read_opts(path, o, &f, &err);
    cr_assert_eq(st, CQB_OK, "read %s failed: %s", path, err.msg);
    cr_assert_not_null(f);
    return f;
}

static cqb_frame *read_ok(const char *path)
{
    cqb_frame *f = NULL;
    cqb_error err = {0};
    cqb_status st = cqb_frame_read(path, &f, &err);
    cr_assert_eq(st, CQB_OK, "read %s failed: %s", path, err.msg);
    cr_assert_not_null(f);
    return f;
}

/* Reads path expecting status `want` and a message containing `a` (and `b`). */
static void read_fails(const char *path, cqb_status want, const char *a, const char *b)
{
    cqb_frame *f = (cqb_frame *)&f; /* must be reset to NULL */
    cqb_error err = {0};
    cqb_status st = cqb_frame_read(path, &f, &err);
    cr_assert_eq(st, want, "status %d, want %d (%s)", (int)st, (int)want, err.msg);
    cr_assert_null(f);
    cr_assert_eq(err.status, want);
    cr_assert_not_null(strstr(err.msg, a), "message '%s' lacks '%s'", err.msg, a);
    if (b) cr_assert_not_null(strstr(err.msg, b), "message '%s' lacks '%s'", err.msg, b);
    cr_assert_null(strchr(err.msg, '\n'));
}

static cqb_status sel(const cqb_frame *f, const char *const *cols, size_t n,
                      const cqb_transform *tr, const char *from, const char *to,
                      cqb_series_set *out, cqb_error *err)
{
    cqb_select_spec s = {cols, n, tr, from, to};
    return cqb_frame_select(f, &s, out, err);
}

/* Selects expecting failure `want` with a message containing a (and b). */
static void sel_fails(const cqb_frame *f, const char *const *cols, size_t n,
                      const cqb_transform *tr, const char *from, const char *to,
                      cqb_status want, const char *a, const char *b)
{
    cqb_series_set s;
    cqb_error err = {0};
    cqb_status st = sel(f, cols, n, tr, from, to, &s, &err);
    cr_assert_eq(st, want, "status %d, want %d (%s)", (int)st, (int)want, err.msg);
    cr_assert_eq(s.T, 0);
    cr_assert_null(s.x);
    cr_assert_null(s.labels);
    cr_assert_not_null(strstr(err.msg, a), "message '%s' lacks '%s'", err.msg, a);
    if (b) cr_assert_not_null(strstr(err.msg, b), "message '%s' lacks '%s'", err.msg, b);
}

static double cell(const cqb_frame *f, size_t i, size_t j)
{
    double v = -12345.0;
    cr_assert_eq(cqb_frame_cell(f, i, j, &v), CQB_CELL_OK, "cell %zu,%zu", i, j);
    return v;
}

/* ------------------------------------------------------------------------- */
/* Reading                                                                    */
/* ------------------------------------------------------------------------- */

Test(frame, quoted_header_bom_crlf)
{
    const char *p = fixture("q.csv", "\xEF\xBB\xBF\"date\",\"Market\",\"Other, x\"\r\n"
                                     "\"2020-01-02\",1.5,2\r\n"
                                     "\"2020-01-03\",-0.25,\"3\"\r\n");
    cqb_frame *f = read_ok(p);
    cr_assert_eq(cqb_frame_rows(f), 2);
    cr_assert_eq(cqb_frame_cols(f), 2);
    cr_assert_str_eq(cqb_frame_index_name(f), "date");
    cr_assert_str_eq(cqb_frame_col_name(f, 0), "Market");
    cr_assert_str_eq(cqb_frame_col_name(f, 1), "Other, x");
    cr_assert_null(cqb_frame_col_name(f, 2));
    cr_assert_eq(cqb_frame_find_col(f, "Other, x"), 1);
    cr_assert_eq(cqb_frame_find_col(f, "date"), -1);
    cr_assert_eq(cqb_frame_find_col(f, "market"), -1);
    cr_assert_str_eq(cqb_frame_path(f), p);
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_YMD);
    cr_assert_str_eq(cqb_frame_label(f, 0), "2020-01-02");
    cr_assert_str_eq(cqb_frame_label(f, 1), "2020-01-03");
    cr_assert_eq(cqb_frame_date_key(f, 1), 20200103);
    cr_assert_eq(cqb_frame_line(f, 0), 2);
    cr_assert_eq(cqb_frame_line(f, 1), 3);
    cr_assert(cell(f, 0, 0) == 1.5);
    cr_assert(cell(f, 1, 0) == -0.25);
    cr_assert(cell(f, 1, 1) == 3.0);
    cqb_frame_free(f);
}

Test(frame, quoting_details_and_line_numbers)
{
    /* embedded newline + escaped quotes in a label; spaces around quotes */
    const char *p = fixture("e.csv", "id, \"a\" ,b\n"
                                     "\"x\ny\",1,2\n"
                                     "\"say \"\"hi\"\"\", 3 ,\" 4 \"\n"
                                     "z,5,6");
    cqb_frame *f = read_ok(p);
    cr_assert_eq(cqb_frame_rows(f), 3);
    cr_assert_str_eq(cqb_frame_col_name(f, 0), "a");
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_NONE);
    cr_assert_str_eq(cqb_frame_label(f, 0), "x\ny");
    cr_assert_str_eq(cqb_frame_label(f, 1), "say \"hi\"");
    cr_assert_eq(cqb_frame_line(f, 0), 2);
    cr_assert_eq(cqb_frame_line(f, 1), 4);
    cr_assert_eq(cqb_frame_line(f, 2), 5);
    cr_assert(cell(f, 1, 0) == 3.0);
    cr_assert(cell(f, 1, 1) == 4.0);
    cr_assert(cell(f, 2, 1) == 6.0);
    cqb_frame_free(f);
}

Test(frame, cr_only_line_endings_and_blank_lines)
{
    const char *p = fixture("cr.csv", "date,a\r2020-01,1\r\r2020-02,2\r\n\n2020-03,3\n\n");
    cqb_frame *f = read_ok(p);
    cr_assert_eq(cqb_frame_rows(f), 3);
    cr_assert_eq(cqb_frame_line(f, 1), 4);
    cr_assert_eq(cqb_frame_line(f, 2), 6);
    cr_assert(cell(f, 2, 0) == 3.0);
    cqb_frame_free(f);
}

Test(frame, trailing_comma_header_and_empty_rows)
{
    /* empty-named trailing column (real files have it), rows with or without
     * the trailing comma, a spreadsheet's all-empty rows at the end */
    const char *p = fixture("t.csv", "date,a,b,\n2020-01,1,2,\n2020-02,3,4\n2020-03,5,6,junk\n,,,\n,,\n");
    cqb_frame *f = read_ok(p);
    cr_assert_eq(cqb_frame_cols(f), 2);
    cr_assert_eq(cqb_frame_rows(f), 3);
    cr_assert(cell(f, 2, 1) == 6.0);
    cqb_frame_free(f);
}

Test(frame, date_formats)
{
    cqb_frame *f = read_ok(fixture("ym.csv", "month,x\n1996-01,1\n1996-02,2\n1997-1,3\n"));
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_YM);
    cr_assert_eq(cqb_frame_date_key(f, 0), 19960101);
    cr_assert_eq(cqb_frame_date_key(f, 2), 19970101);
    cr_assert_str_eq(cqb_frame_label(f, 2), "1997-1");
    cqb_frame_free(f);

    f = read_ok(fixture("dmy.csv", "\xEF\xBB\xBFmonth,GPR\n01/01/1996,75.63\n01/03/1996,80\n"
                                   "29/02/2000,81\n"));
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_DMY);
    cr_assert_str_eq(cqb_frame_index_name(f), "month");
    cr_assert_eq(cqb_frame_date_key(f, 1), 19960301); /* 1 March 1996 */
    cr_assert_eq(cqb_frame_date_key(f, 2), 20000229);
    cr_assert(cell(f, 0, 0) == 75.63);
    cqb_frame_free(f);

    f = read_ok(fixture("ymd.csv", "date,x\n1999-12-31,1\n2000-01-01,2\n"));
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_YMD);
    cr_assert_eq(cqb_frame_date_key(f, 0), 19991231);
    cqb_frame_free(f);
}

Test(frame, parse_date_function)
{
    int32_t k = 7;
    cqb_date_kind kind;
    cr_assert_eq(cqb_parse_date("1996-03", &k), CQB_OK);
    cr_assert_eq(k, 19960301);
    cr_assert_eq(cqb_parse_date_kind(" 2023-12-31 ", &k, &kind), CQB_OK);
    cr_assert_eq(k, 20231231);
    cr_assert_eq(kind, CQB_DATE_YMD);
    cr_assert_eq(cqb_parse_date_kind("01/03/1996", &k, &kind), CQB_OK);
    cr_assert_eq(k, 19960301);
    cr_assert_eq(kind, CQB_DATE_DMY);
    cr_assert_eq(cqb_parse_date("1/3/1996", &k), CQB_OK);
    cr_assert_eq(k, 19960301);
    k = 7;
    /* a year alone: YYYY, its whole year for --to */
    cr_assert_eq(cqb_parse_date_kind("1996", &k, &kind), CQB_OK);
    cr_assert_eq(k, 19960101);
    cr_assert_eq(kind, CQB_DATE_Y);
    cr_assert_eq(cqb_date_period_end(k, kind), 19961231);
    k = 7;
    const char *bad[] = {"", "996", "19960", "0000", "1996-13", "1996-00", "1996-02-30", "29/02/1900",
                         "32/01/2000", "1996-03-01x", "96-03", "1996/03/01x", "01-03-1996",
                         "1996Q5", "1996M13", "Jux 1996", "13/13/1996", "01/03/96", "1996-003", "abc", "0000-01", "1996-03-", NULL};
    for (int i = 0; bad[i]; ++i) cr_assert_eq(cqb_parse_date(bad[i], &k), CQB_EUSAGE, "%s", bad[i]);
    cr_assert_eq(k, 7);
    cr_assert_eq(cqb_parse_date(NULL, &k), CQB_EUSAGE);
}

Test(frame, index_column)
{
    cqb_frame *f = read_ok(fixture("idx.csv", "id,a\n1,0.5\n2,0.7\n10,0.1\n2,0.3\n"));
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_NONE);
    cr_assert_str_eq(cqb_frame_label(f, 2), "10");
    cr_assert_eq(cqb_frame_date_key(f, 2), 0);
    const char *cols[] = {"a"};
    cqb_series_set s;
    cqb_error err = {0};
    cr_assert_eq(sel(f, cols, 1, NULL, NULL, NULL, &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 4);
    cr_assert_eq(s.date_kind, CQB_DATE_NONE);
    cr_assert_str_eq(s.first_label, "1");
    cr_assert_str_eq(s.last_label, "2");
    cr_assert(s.x[3] == 0.3);
    cqb_series_set_free(&s);
    cr_assert_null(s.x);
    sel_fails(f, cols, 1, NULL, "1996-01", NULL, CQB_EUSAGE, "--from needs a date column",
              "idx.csv");
    sel_fails(f, cols, 1, NULL, NULL, "1996-01", CQB_EUSAGE, "--to needs a date column", NULL);
    cqb_frame_free(f);

    /* mixed formats, or one non-date: an index, and order is not checked */
    f = read_ok(fixture("mix.csv", "date,a\n1996-02-01,1\n1996-01,2\n"));
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_NONE);
    sel_fails(f, cols, 1, NULL, "1996-01", NULL, CQB_EUSAGE, "line 3 holds '1996-01'", NULL);
    cqb_frame_free(f);
    f = read_ok(fixture("typo.csv", "date,a\n1996-01-01,1\n1996-13-01,2\n"));
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_NONE);
    cqb_frame_free(f);
}

Test(frame, cells_missing_bad_nonfinite_are_recorded)
{
    cqb_frame *f = read_ok(fixture("c.csv", "id,a\n1,\n2,NA\n3,NaN\n4,nan\n5,.\n6,abc\n7,Inf\n"
                                            "8,-Inf\n9,1e999\n10, 2.5 \n11,\"NA\"\n12,1e-320\n"
                                            "13,NAN\n14,1.5x\n"));
    cqb_cell want[] = {CQB_CELL_MISSING, CQB_CELL_MISSING, CQB_CELL_MISSING, CQB_CELL_MISSING,
                       CQB_CELL_MISSING, CQB_CELL_BAD, CQB_CELL_NONFINITE, CQB_CELL_NONFINITE,
                       CQB_CELL_NONFINITE, CQB_CELL_OK, CQB_CELL_MISSING, CQB_CELL_OK,
                       CQB_CELL_NONFINITE, CQB_CELL_BAD};
    cr_assert_eq(cqb_frame_rows(f), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i)
        cr_assert_eq(cqb_frame_cell(f, i, 0, NULL), want[i], "row %zu", i);
    cr_assert(cell(f, 9, 0) == 2.5);
    cr_assert(cell(f, 11, 0) == 1e-320);
    cr_assert_eq(cqb_frame_cell(f, 99, 0, NULL), CQB_CELL_MISSING);
    cqb_frame_free(f);
}

/* ------------------------------------------------------------------------- */
/* Read errors                                                                */
/* ------------------------------------------------------------------------- */

Test(frame, read_errors)
{
    read_fails("/nonexistent/dir/x.csv", CQB_EDATA, "/nonexistent/dir/x.csv: cannot open: ", NULL);
    read_fails(fixture("empty.csv", ""), CQB_EDATA, "empty.csv:1: no header row", NULL);
    read_fails(fixture("bom.csv", "\xEF\xBB\xBF"), CQB_EDATA, "bom.csv:1: no header row", NULL);
    read_fails(fixture("blank.csv", "\n\r\n  \n"), CQB_EDATA, "blank.csv:1: no header row", NULL);
    read_fails(fixture("hdr.csv", "date,a,b\n"), CQB_EDATA, "hdr.csv: no data rows", NULL);
    read_fails(fixture("onecol.csv", "date,\n2020-01,\n"), CQB_EDATA,
               "onecol.csv:1: header has no data columns", NULL);
    read_fails(fixture("fc.csv", "date,a,b\n2020-01,1,2\n2020-02,3\n"), CQB_EDATA,
               "fc.csv:3: expected 3 fields, found 2", NULL);
    read_fails(fixture("fc2.csv", "date,a,b\n2020-01,1,2\n2020-02,3,4,5\n"), CQB_EDATA,
               "fc2.csv:3: expected 3 fields, found 4", NULL);
    read_fails(fixture("dupcol.csv", "date,a,b,a\n2020-01,1,2,3\n"), CQB_EDATA,
               "dupcol.csv:1: duplicate column name 'a' (cols 2 and 4)", NULL);
    read_fails(fixture("dupd.csv", "date,a\n1996-01,1\n1996-02,2\n1996-03,3\n1996-03,4\n"),
               CQB_EDATA, "dupd.csv:5: duplicate date '1996-03' (first at line 4)", NULL);
    read_fails(fixture("order.csv", "date,a\n13/03/1996,1\n13/02/1996,2\n"), CQB_EDATA,
               "order.csv:3: date '13/02/1996' is before the previous date '13/03/1996' (line 2)",
               NULL);
    read_fails(fixture("unterm.csv", "date,a\n2020-01,1\n\"2020-02,2\n2020-03,3\n"), CQB_EDATA,
               "unterm.csv:3: unterminated quoted field", NULL);
    read_fails(fixture("afterq.csv", "date,a\n\"2020-01\"x,1\n"), CQB_EDATA,
               "afterq.csv:2: unexpected character 'x' after a closing quote", NULL);
    read_fails(fixture_n("nul.csv", "date,a\n2020-01,1\0\n", 18), CQB_EDATA,
               "nul.csv:2: NUL byte", NULL);
    read_fails(g_dir, CQB_EDATA, g_dir, "read error");
}

Test(frame, read_buffer_and_bad_arguments)
{
    cqb_frame *f = NULL;
    cqb_error err = {0};
    const char *csv = "date,a\n2020-01,1\n2020-02,2\n";
    cr_assert_eq(cqb_frame_read_buffer("mem.csv", csv, strlen(csv), &f, &err), CQB_OK);
    cr_assert_str_eq(cqb_frame_path(f), "mem.csv");
    char hex[CQB_SHA256_HEX_SIZE];
    cqb_sha256_string(csv, strlen(csv), hex);
    cr_assert_str_eq(cqb_frame_sha256(f), hex);
    cqb_frame_free(f);
    cr_assert_eq(cqb_frame_read(NULL, &f, &err), CQB_EUSAGE);
    cr_assert_eq(cqb_frame_read("", &f, &err), CQB_EUSAGE);
    cqb_frame_free(NULL);
    cqb_series_set_free(NULL);
}

/* ------------------------------------------------------------------------- */
/* Selection and validation                                                   */
/* ------------------------------------------------------------------------- */

Test(frame, unused_column_junk_is_fine)
{
    cqb_frame *f = read_ok(fixture("u.csv", "date,a,junk,b\n"
                                            "2020-01,1,NA,5\n"
                                            "2020-02,2,,6\n"
                                            "2020-03,3,abc,7.5\n"
                                            "2020-04,4,Inf,8\n"));
    const char *cols[] = {"b", "a"};
    cqb_series_set s;
    cqb_error err = {0};
    cr_assert_eq(sel(f, cols, 2, NULL, NULL, NULL, &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 4);
    cr_assert_eq(s.k, 2);
    cr_assert_str_eq(s.names[0], "b");
    cr_assert_str_eq(s.names[1], "a");
    cr_assert(s.x[0] == 5.0 && s.x[2] == 7.5 && s.x[3] == 8.0);
    cr_assert(s.x[4] == 1.0 && s.x[7] == 4.0);
    cr_assert_str_eq(s.labels[1], "2020-02");
    cr_assert_str_eq(s.first_label, "2020-01");
    cr_assert_str_eq(s.last_label, "2020-04");
    cr_assert_eq(s.lines[0], 2);
    cr_assert_eq(s.lines[3], 5);
    cr_assert_eq(s.date_kind, CQB_DATE_YM);
    cqb_series_set_free(&s);

    const char *junk[] = {"a", "junk"};
    sel_fails(f, junk, 2, NULL, NULL, NULL, CQB_EDATA,
              "u.csv:2: missing value in column 'junk' (col 3)", NULL);
    sel_fails(f, junk, 2, NULL, "2020-03", NULL, CQB_EDATA,
              "u.csv:4: column 'junk' (col 3): non-numeric value 'abc'", NULL);
    sel_fails(f, junk, 2, NULL, "2020-04", NULL, CQB_EDATA,
              "u.csv:5: column 'junk' (col 3): non-finite value 'Inf'", NULL);
    cqb_frame_free(f);
}

Test(frame, missing_inside_and_outside_range)
{
    cqb_frame *f = read_ok(fixture("miss.csv", "date,a,b\n"
                                               "1995-12,1,\n"
                                               "1996-01,2,1\n"
                                               "1996-02,3,NA\n"
                                               "1996-03,4,2\n"
                                               "1996-04,5,3\n"));
    const char *cols[] = {"a", "b"};
    sel_fails(f, cols, 2, NULL, "1996-01", NULL, CQB_EDATA,
              "miss.csv:4: missing value in column 'b' (col 3)", NULL);
    cqb_series_set s;
    cqb_error err = {0};
    cr_assert_eq(sel(f, cols, 2, NULL, "1996-03", "1996-04", &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 2);
    cr_assert(s.x[0] == 4.0 && s.x[1] == 5.0 && s.x[2] == 2.0 && s.x[3] == 3.0);
    cqb_series_set_free(&s);
    /* a differencing transform needs the previous row: its cell is checked */
    cqb_transform tr[] = {CQB_TR_LEVEL, CQB_TR_DIFF};
    sel_fails(f, cols, 2, tr, "1996-03", NULL, CQB_EDATA,
              "miss.csv:4: missing value in column 'b' (col 3), needed by the diff at line 5",
              NULL);
    cqb_frame_free(f);
}

Test(frame, non_numeric_and_inf)
{
    cqb_frame *f = read_ok(fixture("nn.csv", "date,a,b,c\n"
                                             "2020-01-01,1,1,1\n"
                                             "2020-01-02,2,abc,2\n"
                                             "2020-01-03,3,3,-Inf\n"));
    const char *b[] = {"a", "b"};
    const char *c[] = {"c"};
    sel_fails(f, b, 2, NULL, NULL, NULL, CQB_EDATA,
              "nn.csv:3: column 'b' (col 3): non-numeric value 'abc'", NULL);
    sel_fails(f, c, 1, NULL, NULL, NULL, CQB_EDATA,
              "nn.csv:4: column 'c' (col 4): non-finite value '-Inf'", NULL);
    cqb_frame_free(f);
}

Test(frame, unknown_column)
{
    cqb_frame *f = read_ok(fixture("uc.csv", "date,a,b,c\n2020-01,1,2,3\n2020-02,2,3,4\n"));
    const char *cols[] = {"a", "XYZ"};
    sel_fails(f, cols, 2, NULL, NULL, NULL, CQB_EUSAGE,
              "uc.csv: unknown column 'XYZ' (available: a, b, c)", NULL);
    const char *none[] = {"date"};
    sel_fails(f, none, 1, NULL, NULL, NULL, CQB_EUSAGE, "unknown column 'date'", NULL);
    sel_fails(f, cols, 0, NULL, NULL, NULL, CQB_EUSAGE, "no columns selected", NULL);
    cqb_frame_free(f);

    /* a long list is truncated */
    char csv[8192] = "date";
    for (int j = 0; j < 200; ++j) {
        char name[32];
        snprintf(name, sizeof name, ",column_%03d", j);
        strcat(csv, name);
    }
    strcat(csv, "\n2020-01");
    for (int j = 0; j < 200; ++j) strcat(csv, ",1");
    strcat(csv, "\n");
    f = read_ok(fixture("wide.csv", csv));
    cr_assert_eq(cqb_frame_cols(f), 200);
    cr_assert_eq(cqb_frame_find_col(f, "column_199"), 199);
    const char *q[] = {"nope"};
    sel_fails(f, q, 1, NULL, NULL, NULL, CQB_EUSAGE, "(available: column_000, column_001",
              "more)");
    cqb_frame_free(f);
}

Test(frame, logdiff_drops_first_row_exact_values)
{
    cqb_frame *f = read_ok(fixture("ld.csv", "date,p,r\n"
                                             "2020-01-01,100,0.1\n"
                                             "2020-01-02,101.5,0.2\n"
                                             "2020-01-03,99.25,0.3\n"
                                             "2020-01-04,103.125,0.4\n"));
    const char *cols[] = {"p", "r"};
    cqb_transform tr[] = {CQB_TR_LOGDIFF, CQB_TR_LEVEL};
    cqb_series_set s;
    cqb_error err = {0};
    cr_assert_eq(sel(f, cols, 2, tr, NULL, NULL, &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 3);
    cr_assert_str_eq(s.first_label, "2020-01-02");
    cr_assert_eq(s.lines[0], 3);
    cr_assert(s.x[0] == log(101.5) - log(100.0));
    cr_assert(s.x[1] == log(99.25) - log(101.5));
    cr_assert(s.x[2] == log(103.125) - log(99.25));
    /* the level column is aligned: its first row is dropped too */
    cr_assert(s.x[3] == 0.2 && s.x[4] == 0.3 && s.x[5] == 0.4);
    cqb_series_set_free(&s);

    /* from inside the file: the previous FILE row is used */
    cr_assert_eq(sel(f, cols, 2, tr, "2020-01-03", NULL, &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 2);
    cr_assert(s.x[0] == log(99.25) - log(101.5));
    cqb_series_set_free(&s);
    cqb_frame_free(f);

    f = read_ok(fixture("ldneg.csv", "date,p,q\n2020-01,1,1\n2020-02,2,0\n2020-03,3,-1\n"));
    const char *q[] = {"q"};
    cqb_transform l[] = {CQB_TR_LOGDIFF};
    sel_fails(f, q, 1, l, NULL, NULL, CQB_EDATA,
              "ldneg.csv:3: column 'q' (col 3): non-positive value 0 for logdiff", NULL);
    cqb_frame_free(f);
}

Test(frame, diff_and_pct)
{
    const cqb_read_opts dmy = {0, 0, CQB_DATE_DMY};
    cqb_frame *f = read_ok_opts(fixture("dp.csv", "date,a,b\n"
                                             "01/01/2000,10,4\n"
                                             "01/02/2000,12.5,5\n"
                                             "01/03/2000,11,0\n"
                                             "01/04/2000,13,2\n"), &dmy);
    const char *cols[] = {"a", "a", "b"};
    cqb_transform tr[] = {CQB_TR_DIFF, CQB_TR_PCT, CQB_TR_DIFF};
    cqb_series_set s;
    cqb_error err = {0};
    cr_assert_eq(sel(f, cols, 3, tr, NULL, NULL, &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 3);
    cr_assert_eq(s.k, 3);
    cr_assert(s.x[0] == 12.5 - 10.0 && s.x[1] == 11.0 - 12.5 && s.x[2] == 13.0 - 11.0);
    cr_assert(s.x[3] == 100.0 * (12.5 / 10.0 - 1.0));
    cr_assert(s.x[4] == 100.0 * (11.0 / 12.5 - 1.0));
    cr_assert(s.x[5] == 100.0 * (13.0 / 11.0 - 1.0));
    cr_assert(s.x[6] == 1.0 && s.x[7] == -5.0 && s.x[8] == 2.0);
    cqb_series_set_free(&s);

    const char *b[] = {"b"};
    cqb_transform pct[] = {CQB_TR_PCT};
    sel_fails(f, b, 1, pct, NULL, NULL, CQB_EDATA,
              "dp.csv:4: column 'b' (col 3): zero value, pct at line 5 divides by it", NULL);
    /* the zero row is outside the range: fine */
    cr_assert_eq(sel(f, b, 1, pct, NULL, "01/03/2000", &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 2);
    cr_assert(s.x[0] == 100.0 * (5.0 / 4.0 - 1.0));
    cr_assert(s.x[1] == 100.0 * (0.0 / 5.0 - 1.0));
    cqb_series_set_free(&s);
    cqb_frame_free(f);
}

Test(frame, transform_names)
{
    cqb_transform t = CQB_TR_PCT;
    cr_assert_eq(cqb_transform_parse("level", &t), CQB_OK);
    cr_assert_eq(t, CQB_TR_LEVEL);
    cr_assert_eq(cqb_transform_parse("logdiff", &t), CQB_OK);
    cr_assert_eq(t, CQB_TR_LOGDIFF);
    cr_assert_eq(cqb_transform_parse("diff", &t), CQB_OK);
    cr_assert_eq(t, CQB_TR_DIFF);
    cr_assert_eq(cqb_transform_parse("pct", &t), CQB_OK);
    cr_assert_eq(t, CQB_TR_PCT);
    cr_assert_eq(cqb_transform_parse("log", &t), CQB_EUSAGE);
    cr_assert_eq(cqb_transform_parse("PCT", &t), CQB_EUSAGE);
    cr_assert_eq(cqb_transform_parse(NULL, &t), CQB_EUSAGE);
    cr_assert_eq(t, CQB_TR_PCT);
    cr_assert_str_eq(cqb_transform_name(CQB_TR_LOGDIFF), "logdiff");
    cr_assert_eq(cqb_transform_needs_prev(CQB_TR_LEVEL), 0);
    cr_assert_eq(cqb_transform_needs_prev(CQB_TR_DIFF), 1);
    double v = 0;
    cr_assert_eq(cqb_transform_step(CQB_TR_DIFF, -1e308, 1e308, &v), CQB_TRS_NONFINITE);
    cr_assert_eq(cqb_transform_step(CQB_TR_LOGDIFF, -1, 1, &v), CQB_TRS_NONPOS_PREV);
}

Test(frame, from_to_filtering)
{
    cqb_frame *f = read_ok(fixture("ft.csv", "date,a\n"
                                             "1995-12-31,1\n"
                                             "1996-01-01,2\n"
                                             "1996-01-31,3\n"
                                             "1996-02-01,4\n"
                                             "2023-12-31,5\n"
                                             "2024-01-01,6\n"));
    const char *cols[] = {"a"};
    cqb_series_set s;
    cqb_error err = {0};
    cr_assert_eq(sel(f, cols, 1, NULL, "1996-01", "2023-12", &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 4);
    cr_assert_str_eq(s.first_label, "1996-01-01");
    cr_assert_str_eq(s.last_label, "2023-12-31");
    cr_assert(s.x[0] == 2.0 && s.x[3] == 5.0);
    cqb_series_set_free(&s);
    /* a day bound is exact; DMY bounds are accepted */
    cr_assert_eq(sel(f, cols, 1, NULL, "1996-01-02", "01/02/1996", &s, &err), CQB_OK);
    cr_assert_eq(s.T, 2);
    cr_assert(s.x[0] == 3.0 && s.x[1] == 4.0);
    cqb_series_set_free(&s);
    /* open ends */
    cr_assert_eq(sel(f, cols, 1, NULL, NULL, "1996-01", &s, &err), CQB_OK);
    cr_assert_eq(s.T, 3);
    cqb_series_set_free(&s);
    cr_assert_eq(sel(f, cols, 1, NULL, "2023-12", NULL, &s, &err), CQB_OK);
    cr_assert_eq(s.T, 2);
    cqb_series_set_free(&s);

    sel_fails(f, cols, 1, NULL, "2030-01", "2031-01", CQB_EDATA,
              "ft.csv: no rows between 2030-01 and 2031-01", NULL);
    sel_fails(f, cols, 1, NULL, "1996-01-10", "1996-01-20", CQB_EDATA, "no rows between", NULL);
    sel_fails(f, cols, 1, NULL, "2000-01", "1999-01", CQB_EUSAGE, "--from 2000-01 is after --to 1999-01",
              NULL);
    sel_fails(f, cols, 1, NULL, "1996-13", NULL, CQB_EUSAGE, "--from: invalid date '1996-13'", NULL);
    sel_fails(f, cols, 1, NULL, NULL, "soon", CQB_EUSAGE, "--to: invalid date 'soon'", NULL);
    cqb_frame_free(f);

    /* monthly file: whole months; differencing from the first row drops it */
    f = read_ok(fixture("m.csv", "month,a\n1996-01,1\n1996-02,2\n1996-03,4\n1996-04,8\n"));
    cr_assert_eq(sel(f, cols, 1, NULL, "1996-01", "1996-03", &s, &err), CQB_OK);
    cr_assert_eq(s.T, 3);
    cqb_series_set_free(&s);
    cqb_transform d[] = {CQB_TR_DIFF};
    cr_assert_eq(sel(f, cols, 1, d, "1996-01", "1996-03", &s, &err), CQB_OK);
    cr_assert_eq(s.T, 2);
    cr_assert_str_eq(s.first_label, "1996-02");
    cr_assert(s.x[0] == 1.0 && s.x[1] == 2.0);
    cqb_series_set_free(&s);
    cr_assert_eq(sel(f, cols, 1, d, "1996-02-15", "30/04/1996", &s, &err), CQB_OK);
    cr_assert_eq(s.T, 2); /* 1996-03 and 1996-04 (keys 19960301, 19960401) */
    cr_assert(s.x[0] == 2.0 && s.x[1] == 4.0);
    cqb_series_set_free(&s);
    cqb_frame_free(f);

    f = read_ok(fixture("one.csv", "date,a\n2020-01,1\n"));
    sel_fails(f, cols, 1, d, NULL, NULL, CQB_EDATA, "one.csv: no rows left", NULL);
    cqb_frame_free(f);
}

Test(frame, constant_column)
{
    cqb_frame *f = read_ok(fixture("k.csv", "date,a,b\n2020-01,1,3\n2020-02,2,3\n2020-03,3,3\n"
                                            "2020-04,4,5\n"));
    const char *cols[] = {"a", "b"};
    sel_fails(f, cols, 2, NULL, NULL, "2020-03", CQB_EDATA,
              "k.csv: column 'b' is constant over the selected rows", NULL);
    cqb_series_set s;
    cqb_error err = {0};
    cr_assert_eq(sel(f, cols, 2, NULL, NULL, NULL, &s, &err), CQB_OK, "%s", err.msg);
    cqb_series_set_free(&s);
    /* diff of a linear trend is constant */
    cqb_transform d[] = {CQB_TR_DIFF, CQB_TR_LEVEL};
    sel_fails(f, cols, 2, d, NULL, NULL, CQB_EDATA, "column 'a' is constant", NULL);
    cqb_frame_free(f);
}

Test(frame, gpr_like_excerpt)
{
    /* the shape of data_gpr_export.csv: BOM, DD/MM/YYYY months, text columns */
    const char *p = fixture("gpr.csv",
                            "\xEF\xBB\xBFmonth,GPR,GPRT,GPRC_CHN,var_name,var_label\r\n"
                            "01/11/1995,,,,month,Date (year/month)\r\n"
                            "01/12/1995,70.10,,0.20,GPR,\"Recent GPR (Index: 1985:2019=100)\"\r\n"
                            "01/01/1996,75.63,73.66,0.21,,\r\n"
                            "01/02/1996,80.50,79.00,0.30,,\r\n"
                            "01/03/1996,77.25,76.00,0.25,,\r\n");
    /* day 01 throughout: DD/MM or MM/DD? refused without --date-format */
    read_fails(p, CQB_EDATA, "fit both DD/MM/YYYY and MM/DD/YYYY", "--date-format DD/MM/YYYY");
    const cqb_read_opts dmy = {0, 0, CQB_DATE_DMY};
    cqb_frame *f = read_ok_opts(p, &dmy);
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_DMY);
    cr_assert_eq(cqb_frame_cols(f), 5);
    const char *cols[] = {"GPR", "GPRC_CHN"};
    cqb_transform tr[] = {CQB_TR_LOGDIFF, CQB_TR_DIFF};
    cqb_series_set s;
    cqb_error err = {0};
    cr_assert_eq(sel(f, cols, 2, tr, "1996-01", "1996-03", &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 3);
    cr_assert_str_eq(s.first_label, "01/01/1996");
    cr_assert(s.x[0] == log(75.63) - log(70.10));
    cr_assert(s.x[3] == 0.21 - 0.20);
    cqb_series_set_free(&s);
    const char *t[] = {"GPRT"};
    sel_fails(f, t, 1, tr, "1996-01", NULL, CQB_EDATA,
              "gpr.csv:3: missing value in column 'GPRT' (col 3), needed by the logdiff at line 4",
              NULL);
    cqb_frame_free(f);
}

/* ------------------------------------------------------------------------- */
/* Real data and hashing                                                      */
/* ------------------------------------------------------------------------- */

Test(frame, real_sys_risk_file)
{
    const char *path = CQB_TEST_DATA "/quantilogram_sys_risk.csv";
    cqb_frame *f = read_ok(path);
    cr_assert_eq(cqb_frame_rows(f), 5506);
    cr_assert_eq(cqb_frame_cols(f), 5);
    cr_assert_str_eq(cqb_frame_index_name(f), "date");
    const char *names[] = {"Market", "JPM", "MS", "AIG", "VIX"};
    for (size_t j = 0; j < 5; ++j) cr_assert_str_eq(cqb_frame_col_name(f, j), names[j]);
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_YMD);
    cr_assert_str_eq(cqb_frame_label(f, 0), "1993-02-23");
    cr_assert_str_eq(cqb_frame_label(f, 5505), "2014-12-31");
    cr_assert(cell(f, 0, 0) == -0.000281);
    cr_assert(cell(f, 5505, 4) == 19.200001);
    cr_assert_str_eq(cqb_frame_sha256(f),
                     "b237a072f68a8a04713566665bc98318516549ee4934789363cbef557cc74198");
    char hex[CQB_SHA256_HEX_SIZE];
    cqb_error err = {0};
    cr_assert_eq(cqb_sha256_file(path, hex, &err), CQB_OK, "%s", err.msg);
    cr_assert_str_eq(hex, cqb_frame_sha256(f));

    const char *cols[] = {"Market", "JPM"};
    cqb_transform tr[] = {CQB_TR_LEVEL, CQB_TR_LOGDIFF};
    cqb_series_set s;
    cr_assert_eq(sel(f, cols, 2, tr, NULL, NULL, &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 5505);
    cr_assert(s.x[0] == 0.013806);
    cr_assert(s.x[5505] == log(7.140218) - log(6.948392));
    cqb_series_set_free(&s);
    cr_assert_eq(sel(f, cols, 2, tr, "2008-01", "2008-12", &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(strncmp(s.first_label, "2008-01-", 8), 0);
    cr_assert_eq(strncmp(s.last_label, "2008-12-", 8), 0);
    for (size_t t = 0; t < s.T; ++t) {
        size_t row = s.lines[t] - 2;
        cr_assert(s.x[t] == cell(f, row, 0));
        cr_assert(s.x[s.T + t] == log(cell(f, row, 1)) - log(cell(f, row - 1, 1)));
    }
    cqb_series_set_free(&s);
    cqb_frame_free(f);
}

/* The FIPS 180-4 examples; run twice: on the compression function this CPU
 * dispatches to (the SHA extensions where present) and on the portable one
 * (CQB_SHA256_PORTABLE=1, read once per process: Criterion forks per test). */
static void sha256_known_answers(void)
{
    char hex[CQB_SHA256_HEX_SIZE];
    cqb_sha256_string("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cqb_sha256_string("", 0, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    cqb_sha256_string(m448, strlen(m448), hex);
    cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    /* one million 'a', fed in uneven pieces */
    static char block[1024];
    memset(block, 'a', sizeof block);
    cqb_sha256_ctx c;
    unsigned char d[CQB_SHA256_DIGEST_LEN];
    cqb_sha256_init(&c);
    size_t left = 1000000, piece = 1;
    while (left > 0) {
        size_t n = piece < left ? piece : left;
        cqb_sha256_update(&c, block, n);
        left -= n;
        piece = piece % 997 + 13;
    }
    cqb_sha256_final(&c, d);
    cqb_sha256_hex(d, hex);
    cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    cqb_error err = {0};
    cr_assert_eq(cqb_sha256_file("/nonexistent/x", hex, &err), CQB_EDATA);
    cr_assert_not_null(strstr(err.msg, "/nonexistent/x: cannot open"));

    /* a frame's hash is the hash of the file's bytes */
    const char *csv = "date,a\n2020-01,1\n2020-02,2\n";
    cqb_frame *f = read_ok(fixture("h.csv", csv));
    cqb_sha256_string(csv, strlen(csv), hex);
    cr_assert_str_eq(cqb_frame_sha256(f), hex);
    cqb_frame_free(f);
}

Test(frame, sha256_known_answers) { sha256_known_answers(); }
Test(frame, sha256_known_answers_portable)
{
    cr_assert_eq(setenv("CQB_SHA256_PORTABLE", "1", 1), 0);
    sha256_known_answers();
}

/* ------------------------------------------------------------------------- */
/* Dialects and date forms (issue #11, item 5)                                */
/* ------------------------------------------------------------------------- */

Test(frame, date_forms_all)
{
    static const struct {
        const char *text;
        cqb_date_kind kind;
        int32_t key0, key2;
    } C[] = {
        {"d\n2020-01-31,1\n2020-02-01,2\n2020-02-02,3\n", CQB_DATE_YMD, 20200131, 20200202},
        {"d\n2020-01,1\n2020-02,2\n2020-3,3\n", CQB_DATE_YM, 20200101, 20200301},
        {"d\n2020/01,1\n2020/02,2\n2020/03,3\n", CQB_DATE_Y_M, 20200101, 20200301},
        {"d\n2020/01/05,1\n2020/02/06,2\n2020/03/07,3\n", CQB_DATE_Y_M_D, 20200105, 20200307},
        {"d\n01/2020,1\n02/2020,2\n3/2020,3\n", CQB_DATE_M_Y, 20200101, 20200301},
        {"d\n2020M01,1\n2020M02,2\n2020m3,3\n", CQB_DATE_YMON, 20200101, 20200301},
        {"d\n2020Q1,1\n2020Q2,2\n2020q4,3\n", CQB_DATE_YQ, 20200101, 20201001},
        {"d\nJan 2020,1\nFebruary 2020,2\nMAR 2020,3\n", CQB_DATE_MON_Y, 20200101, 20200301},
        {"d\n01/13/2020,1\n02/13/2020,2\n03/01/2020,3\n", CQB_DATE_MDY, 20200113, 20200301},
        {"d\n13/01/2020,1\n13/02/2020,2\n01/03/2020,3\n", CQB_DATE_DMY, 20200113, 20200301},
        {"d\n1996,1\n1997,2\n2005,3\n", CQB_DATE_Y, 19960101, 20050101},
    };
    for (size_t i = 0; i < sizeof C / sizeof C[0]; ++i) {
        char body[256];
        snprintf(body, sizeof body, "%s", C[i].text);
        /* header "d,x" */
        char full[300];
        snprintf(full, sizeof full, "d,x%s", strchr(body, '\n'));
        cqb_frame *f = NULL;
        cqb_error err = {0};
        cr_assert_eq(cqb_frame_read_buffer("m.csv", full, strlen(full), &f, &err), CQB_OK, "%zu: %s", i, err.msg);
        cr_assert_eq(cqb_frame_date_kind(f), C[i].kind, "case %zu: kind %d", i, (int)cqb_frame_date_kind(f));
        cr_assert_eq(cqb_frame_date_key(f, 0), C[i].key0, "case %zu", i);
        cr_assert_eq(cqb_frame_date_key(f, 2), C[i].key2, "case %zu", i);
        cr_assert_str_empty(cqb_frame_notes(f));
        cqb_frame_free(f);
    }
}

/* Four-digit numbers are years only when they strictly increase: other
 * four-digit identifiers stay an index (with its note), as before years
 * were read; --date-format YYYY insists, and then the order is checked. */
Test(frame, years_or_an_index)
{
    cqb_frame *f = read_ok(fixture("ids.csv", "id,a\n1003,1\n1001,2\n1002,3\n"));
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_NONE);
    cr_assert_not_null(strstr(cqb_frame_notes(f), "the first column 'id' is taken as an index"));
    cqb_frame_free(f);
    f = read_ok(fixture("rep.csv", "year,a\n2001,1\n2001,2\n2002,3\n"));
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_NONE);
    cqb_frame_free(f);
    const char *text = "id,a\n1003,1\n1001,2\n1002,3\n";
    cqb_read_opts o = {0, 0, CQB_DATE_Y};
    cqb_error err = {0};
    cr_assert_eq(cqb_frame_read_buffer_opts("ids.csv", text, strlen(text), &o, &f, &err), CQB_EDATA);
    cr_assert_not_null(strstr(err.msg, "ids.csv:3: date '1001' is before the previous date '1003'"), "%s", err.msg);
    /* annual data: ranges in years, also on a monthly file */
    f = read_ok(fixture("ann.csv", "year,a\n1999,1\n2000,2\n2001,3\n2002,5\n"));
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_Y);
    const char *cols[] = {"a"};
    cqb_series_set s;
    cr_assert_eq(sel(f, cols, 1, NULL, "2000", "2001", &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 2);
    cr_assert_str_eq(s.first_label, "2000");
    cqb_series_set_free(&s);
    cqb_frame_free(f);
    f = read_ok(fixture("mon.csv", "m,a\n1999-12,1\n2000-01,2\n2000-12,3\n2001-01,5\n"));
    cr_assert_eq(sel(f, cols, 1, NULL, "2000", "2000", &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 2, "--from 2000 --to 2000 covers 2000-01 .. 2000-12");
    cqb_series_set_free(&s);
    cqb_frame_free(f);
}

Test(frame, date_format_option_and_ambiguity)
{
    const char *us = "date,x\n01/02/2020,1\n02/02/2020,2\n03/02/2020,3\n";
    cqb_frame *f = NULL;
    cqb_error err = {0};
    /* a monthly US file is not silently read as days of January */
    cr_assert_eq(cqb_frame_read_buffer("us.csv", us, strlen(us), &f, &err), CQB_EDATA);
    cr_assert_null(f);
    cr_assert_not_null(strstr(err.msg, "--date-format"), "%s", err.msg);
    cqb_read_opts o = {0, 0, CQB_DATE_MDY};
    cr_assert_eq(cqb_frame_read_buffer_opts("us.csv", us, strlen(us), &o, &f, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(cqb_frame_date_key(f, 1), 20200202);
    cr_assert_eq(cqb_frame_date_key(f, 2), 20200302);
    /* bounds in the file's own format */
    const char *cols[] = {"x"};
    cqb_series_set s;
    cr_assert_eq(sel(f, cols, 1, NULL, "02/01/2020", NULL, &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 2);
    cr_assert_eq(s.keys[0], 20200202);
    cqb_series_set_free(&s);
    cqb_frame_free(f);
    o.date_format = CQB_DATE_DMY;
    cr_assert_eq(cqb_frame_read_buffer_opts("us.csv", us, strlen(us), &o, &f, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(cqb_frame_date_key(f, 1), 20200202);
    cr_assert_eq(cqb_frame_date_key(f, 2), 20200203);
    cqb_frame_free(f);
    /* a forced format every row must fit */
    o.date_format = CQB_DATE_YMD;
    cr_assert_eq(cqb_frame_read_buffer_opts("us.csv", us, strlen(us), &o, &f, &err), CQB_EDATA);
    cr_assert_not_null(strstr(err.msg, "us.csv:2: '01/02/2020' in the first column is not a YYYY-MM-DD date"), "%s",
                       err.msg);
    /* names */
    cqb_date_kind k;
    cr_assert_eq(cqb_date_format_parse("mm/dd/yyyy", &k), CQB_OK);
    cr_assert_eq(k, CQB_DATE_MDY);
    cr_assert_eq(cqb_date_format_parse("Mon YYYY", &k), CQB_OK);
    cr_assert_eq(k, CQB_DATE_MON_Y);
    cr_assert_eq(cqb_date_format_parse("auto", &k), CQB_OK);
    cr_assert_eq(k, CQB_DATE_NONE);
    cr_assert_eq(cqb_date_format_parse("yyyy", &k), CQB_OK);
    cr_assert_eq(k, CQB_DATE_Y);
    cr_assert_eq(cqb_date_format_parse("YY", &k), CQB_EUSAGE);
    cr_assert_str_eq(cqb_date_format_name(CQB_DATE_YQ), "YYYYQq");
}

Test(frame, quarter_and_month_bounds)
{
    const char *q = "q,x\n2019Q4,1\n2020Q1,2\n2020Q2,3\n2020Q3,5\n";
    cqb_frame *f = NULL;
    cqb_error err = {0};
    cr_assert_eq(cqb_frame_read_buffer("q.csv", q, strlen(q), &f, &err), CQB_OK, "%s", err.msg);
    const char *cols[] = {"x"};
    cqb_series_set s;
    cr_assert_eq(sel(f, cols, 1, NULL, "2020Q1", "2020Q2", &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 2);
    cqb_series_set_free(&s);
    cr_assert_eq(sel(f, cols, 1, NULL, "2020-01", "2020-04", &s, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(s.T, 2);
    cqb_series_set_free(&s);
    cqb_frame_free(f);
}

Test(frame, index_and_header_notes)
{
    const char *t = "id,x\na,1\nb,2\n";
    cqb_frame *f = NULL;
    cqb_error err = {0};
    cr_assert_eq(cqb_frame_read_buffer("i.csv", t, strlen(t), &f, &err), CQB_OK, "%s", err.msg);
    cr_assert_not_null(strstr(cqb_frame_notes(f), "the first column 'id' is taken as an index"), "%s",
                       cqb_frame_notes(f));
    cqb_frame_free(f);
    t = "1,2,3\n4,5,6\n7,8,9\n";
    cr_assert_eq(cqb_frame_read_buffer("n.csv", t, strlen(t), &f, &err), CQB_OK, "%s", err.msg);
    cr_assert_not_null(strstr(cqb_frame_notes(f), "n.csv:1: the first line is taken as the header"), "%s",
                       cqb_frame_notes(f));
    cqb_frame_free(f);
}

Test(frame, separators_and_decimal_commas)
{
    const char *semi = "date;a;b\n2020-01;1,5;2\n2020-02;2,25;3\n";
    cqb_frame *f = NULL;
    cqb_error err = {0};
    cr_assert_eq(cqb_frame_read_buffer("s.csv", semi, strlen(semi), &f, &err), CQB_EDATA);
    cr_assert_not_null(strstr(err.msg, "s.csv:1: the header has no ',' separator but has semicolons: read the file "
                                       "with --sep ';'"),
                       "%s", err.msg);
    cqb_read_opts o = {';', 0, CQB_DATE_NONE};
    cr_assert_eq(cqb_frame_read_buffer_opts("s.csv", semi, strlen(semi), &o, &f, &err), CQB_OK, "%s", err.msg);
    const char *cols[] = {"a"};
    sel_fails(f, cols, 1, NULL, NULL, NULL, CQB_EDATA, "non-numeric value '1,5'",
              "(a decimal comma? read the file with --decimal ,)");
    cqb_frame_free(f);
    o.decimal = ',';
    cr_assert_eq(cqb_frame_read_buffer_opts("s.csv", semi, strlen(semi), &o, &f, &err), CQB_OK, "%s", err.msg);
    double v = 0;
    cr_assert_eq(cqb_frame_cell(f, 1, 0, &v), CQB_CELL_OK);
    cr_assert(v == 2.25);
    cqb_frame_free(f);

    const char *tab = "date\ta\tb\n2020-01\t1.5\t2\n2020-02\t 2.5 \t3\n";
    cr_assert_eq(cqb_frame_read_buffer("t.csv", tab, strlen(tab), &f, &err), CQB_EDATA);
    cr_assert_not_null(strstr(err.msg, "has tabs: read the file with --sep tab"), "%s", err.msg);
    cqb_read_opts ot = {'\t', 0, CQB_DATE_NONE};
    cr_assert_eq(cqb_frame_read_buffer_opts("t.csv", tab, strlen(tab), &ot, &f, &err), CQB_OK, "%s", err.msg);
    cr_assert_eq(cqb_frame_cols(f), 2);
    cr_assert_eq(cqb_frame_cell(f, 1, 0, &v), CQB_CELL_OK);
    cr_assert(v == 2.5);
    cr_assert_eq(cqb_frame_date_kind(f), CQB_DATE_YM);
    cqb_frame_free(f);
}
