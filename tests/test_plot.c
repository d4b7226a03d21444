/* test_plot.c — the figure module (cqboot/plot.h, cqboot/plot_cq.h): every
 * figure type written to a mkdtemp directory as a valid PNG of the asked
 * size and a well-formed SVG; atomic writing (no partial or temporary files
 * on failure); NaN handling; marks change the image; the colour maps print
 * in grey (monotonic lightness and luma); argument errors. */
#include <criterion/criterion.h>

#include <cairo.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cqboot/plot.h"
#include "cqboot/plot_cq.h"
#include "testdata.h"

/* Under LeakSanitizer (CQB_SANITIZE): fontconfig's configuration and the
 * patterns cairo's toy font faces duplicate from it are process-lifetime
 * caches that LSan reports as lost. Only memory allocated inside fontconfig
 * is ignored; a leaked cairo surface, context or any cqboot allocation is
 * still reported. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }
const char *__lsan_default_options(void);
const char *__lsan_default_options(void) { return "print_suppressions=0"; }

/* ------------------------------------------------------------------------- */
/* Fixture: a fresh directory per test, emptied and removed afterwards        */
/* ------------------------------------------------------------------------- */

static char g_dir[128];

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/cqb_plot_XXXXXX", tmp && *tmp && strlen(tmp) < 80 ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(g_dir), "mkdtemp failed");
}

static void teardown(void)
{
    /* CQB_PLOT_KEEP=1 keeps the figures for a look. */
    const char *keep = getenv("CQB_PLOT_KEEP");
    if (keep && *keep == '1') return;
    td_remove_tree(g_dir);
}

TestSuite(plot, .init = setup, .fini = teardown, .timeout = 120);

static const char *in_dir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", g_dir, name);
    return buf;
}

/* Names in the directory, sorted, joined by ' ' (empty string if none). */
static void dir_listing(const char *dir, char *out, size_t cap)
{
    char names[64][128];
    int n = 0;
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        size_t len = strlen(e->d_name);
        if (len >= sizeof names[0]) len = sizeof names[0] - 1;
        memcpy(names[n], e->d_name, len);
        names[n++][len] = '\0';
    }
    closedir(d);
    for (int i = 1; i < n; ++i) /* insertion sort */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; --j) {
            char t[128];
            memcpy(t, names[j], sizeof t);
            memcpy(names[j], names[j - 1], sizeof t);
            memcpy(names[j - 1], t, sizeof t);
        }
    for (int i = 0; i < n; ++i) {
        if (i) strncat(out, " ", cap - strlen(out) - 1);
        strncat(out, names[i], cap - strlen(out) - 1);
    }
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    cr_assert_geq(n, 0);
    rewind(fp);
    unsigned char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ------------------------------------------------------------------------- */
/* Checks of the written files                                                */
/* ------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* PNG: signature, IHDR first with the expected size, decodable by cairo. */
static void check_png(const char *path, int w, int h)
{
    size_t n;
    unsigned char *b = read_all(path, &n);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    cr_assert_gt(n, 33, "%s: %zu bytes", path, n);
    cr_assert(memcmp(b, sig, 8) == 0, "%s: no PNG signature", path);
    cr_assert_eq(be32(b + 8), 13u, "%s: IHDR length", path);
    cr_assert(memcmp(b + 12, "IHDR", 4) == 0, "%s: first chunk is not IHDR", path);
    cr_assert_eq(be32(b + 16), (uint32_t)w, "%s: width %u, want %d", path, be32(b + 16), w);
    cr_assert_eq(be32(b + 20), (uint32_t)h, "%s: height %u, want %d", path, be32(b + 20), h);
    free(b);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    cr_assert_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS, "%s: cairo cannot decode it", path);
    cr_assert_eq(cairo_image_surface_get_width(s), w);
    cr_assert_eq(cairo_image_surface_get_height(s), h);
    cairo_surface_destroy(s);
}

/* A small XML well-formedness check: prolog, comments, CDATA, quoted
 * attribute values, matching start and end tags, one root element named
 * `root`, entity references. Returns NULL or a description of the fault. */
static const char *xml_check(const char *s, const char *root, char *why, size_t cap)
{
    char stack[256][64];
    int depth = 0, roots = 0;
    const char *p = s;
    while (*p) {
        if (*p == '&') {
            const char *q = p + 1;
            if (*q == '#') ++q;
            while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')) ++q;
            if (*q != ';' || q == p + 1) {
                snprintf(why, cap, "bad entity at offset %ld", (long)(p - s));
                return why;
            }
            p = q + 1;
            continue;
        }
        if (*p != '<') {
            if (depth == 0 && !(*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
                snprintf(why, cap, "text outside the root at offset %ld", (long)(p - s));
                return why;
            }
            ++p;
            continue;
        }
        if (!strncmp(p, "<?", 2)) {
            const char *q = strstr(p, "?>");
            if (!q) return "unterminated <?";
            p = q + 2;
        } else if (!strncmp(p, "<!--", 4)) {
            const char *q = strstr(p + 4, "-->");
            if (!q) return "unterminated comment";
            p = q + 3;
        } else if (!strncmp(p, "<![CDATA[", 9)) {
            const char *q = strstr(p, "]]>");
            if (!q) return "unterminated CDATA";
            p = q + 3;
        } else if (!strncmp(p, "<!", 2)) {
            const char *q = strchr(p, '>');
            if (!q) return "unterminated <!";
            p = q + 1;
        } else {
            int closing = p[1] == '/';
            const char *q = p + 1 + closing;
            char name[64];
            size_t k = 0;
            while (*q && !strchr(" \t\r\n/>", *q) && k + 1 < sizeof name) name[k++] = *q++;
            name[k] = '\0';
            if (k == 0) {
                snprintf(why, cap, "empty tag name at offset %ld", (long)(p - s));
                return why;
            }
            int self = 0;
            while (*q && *q != '>') {
                if (*q == '"' || *q == '\'') {
                    const char *e = strchr(q + 1, *q);
                    if (!e) return "unterminated attribute value";
                    if (memchr(q + 1, '<', (size_t)(e - q - 1))) return "'<' in an attribute value";
                    q = e + 1;
                    continue;
                }
                if (*q == '/' && q[1] == '>') self = 1;
                ++q;
            }
            if (!*q) return "unterminated tag";
            if (closing) {
                if (depth == 0 || strcmp(stack[depth - 1], name) != 0) {
                    snprintf(why, cap, "</%s> does not close <%s>", name, depth ? stack[depth - 1] : "");
                    return why;
                }
                --depth;
            } else {
                if (depth == 0) {
                    if (roots++ > 0) return "more than one root element";
                    if (strcmp(name, root) != 0) {
                        snprintf(why, cap, "root is <%s>, not <%s>", name, root);
                        return why;
                    }
                }
                if (!self) {
                    if (depth >= 256) return "nesting too deep";
                    snprintf(stack[depth++], sizeof stack[0], "%s", name);
                }
            }
            p = q + 1;
        }
    }
    if (depth) {
        snprintf(why, cap, "<%s> not closed", stack[depth - 1]);
        return why;
    }
    if (!roots) return "no root element";
    return NULL;
}

static void check_svg(const char *path, int w, int h)
{
    size_t n;
    unsigned char *b = read_all(path, &n);
    cr_assert_gt(n, 100, "%s: %zu bytes", path, n);
    char why[160], attr[64];
    const char *fault = xml_check((const char *)b, "svg", why, sizeof why);
    cr_assert_null(fault, "%s is not well-formed: %s", path, fault ? fault : "");
    cr_assert_not_null(strstr((const char *)b, "<svg"), "%s: no <svg root", path);
    snprintf(attr, sizeof attr, "width=\"%dpx\"", w);
    cr_assert_not_null(strstr((const char *)b, attr), "%s lacks %s", path, attr);
    snprintf(attr, sizeof attr, "height=\"%dpx\"", h);
    cr_assert_not_null(strstr((const char *)b, attr), "%s lacks %s", path, attr);
    free(b);
    /* The real parser too, where the machine has it (CI need not). */
    if (access("/usr/bin/xmllint", X_OK) == 0) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout --nonet '%s' 2>&1", path);
        cr_assert_eq(system(cmd), 0, "xmllint rejects %s", path);
    }
}

/* Both files of `name` are valid; the directory holds nothing else of it. */
static void check_figure(const char *name, int w, int h)
{
    char png[300], svg[300], base[160];
    snprintf(base, sizeof base, "%s/%s", g_dir, name);
    snprintf(png, sizeof png, "%s.png", base);
    snprintf(svg, sizeof svg, "%s.svg", base);
    check_png(png, w, h);
    check_svg(svg, w, h);
    char list[4096];
    dir_listing(g_dir, list, sizeof list);
    cr_assert_null(strstr(list, ".tmp"), "temporary files left: %s", list);
}

static void ok(cqb_status st, const cqb_error *err)
{
    cr_assert_eq(st, CQB_OK, "status %d: %s", (int)st, err->msg);
}

/* ------------------------------------------------------------------------- */
/* Test data                                                                  */
/* ------------------------------------------------------------------------- */

/* A 3 x 4 x 3 CQ result (alpha_y x alpha_x x lag 1..3) and Q tests for
 * p = 1..3; controls give a partial CQ. Arrays are static: one per process. */
static cqb_cq_cell g_cells[36];
static cqb_cq_qtest g_q[36];

static cqb_cq_result make_result(int controls)
{
    const double ay[3] = {0.1, 0.5, 0.9}, ax[4] = {0.05, 0.1, 0.5, 0.95};
    size_t c = 0, q = 0;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j) {
            for (size_t k = 1; k <= 3; ++k) {
                cqb_cq_cell *e = &g_cells[c++];
                memset(e, 0, sizeof *e);
                e->alpha_y = ay[i];
                e->alpha_x = ax[j];
                e->lag = k;
                e->n = 200 - k;
                e->rho = 0.3 * sin(1.0 + i + 2.0 * j + 0.7 * (double)k);
                e->rho_partial = controls ? 0.8 * e->rho : NAN;
                e->band_lo = -0.12;
                e->band_hi = 0.1 + 0.02 * (double)k;
                double v = controls ? e->rho_partial : e->rho;
                e->ci_lo = v + e->band_lo;
                e->ci_hi = v + e->band_hi;
                e->p_value = 0.5;
                e->boot_valid = 100;
                e->gamma = 0.2;
            }
            for (size_t p = 1; p <= 3; ++p) {
                cqb_cq_qtest *t = &g_q[q++];
                memset(t, 0, sizeof *t);
                t->alpha_y = ay[i];
                t->alpha_x = ax[j];
                t->p = p;
                t->q_bp = 3.0 * (double)p + j;
                t->q_lb = 3.1 * (double)p + j;
                t->cv_bp = 4.0 * (double)p;
                t->cv_lb = 4.1 * (double)p;
            }
        }
    cqb_cq_result r;
    memset(&r, 0, sizeof r);
    r.cells = g_cells;
    r.ncells = c;
    r.qtests = g_q;
    r.nqtests = q;
    return r;
}

static cqb_fig_opts opts(const char *title, int w, int h)
{
    cqb_fig_opts o;
    cqb_fig_opts_default(&o);
    o.title = title;
    o.subtitle = "test figure";
    o.xlabel = "x (units)";
    o.ylabel = "y (units)";
    o.cbar_label = "value (units)";
    o.width = w;
    o.height = h;
    return o;
}

/* ------------------------------------------------------------------------- */
/* Colour maps                                                                */
/* ------------------------------------------------------------------------- */

static double lin(double c) { return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4); }

Test(plot, colour_maps_print_in_grey)
{
    const cqb_cmap maps[2] = {CQB_CMAP_DIVERGING, CQB_CMAP_SEQUENTIAL};
    for (int m = 0; m < 2; ++m) {
        double sign = maps[m] == CQB_CMAP_DIVERGING ? 1.0 : -1.0; /* direction of lightness */
        double pL = 0, p601 = 0, p709 = 0, pY = 0;
        for (int i = 0; i <= 255; ++i) {
            double rgb[3], t = i / 255.0;
            double L = cqb_cmap_eval(maps[m], t, rgb);
            for (int c = 0; c < 3; ++c) cr_assert(rgb[c] >= 0.0 && rgb[c] <= 1.0);
            /* Greyscale conversions in use: CIE L*, relative luminance Y,
             * Rec. 601 and Rec. 709 luma of the encoded values. */
            double l601 = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
            double l709 = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
            double Y = 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
            if (i) {
                cr_assert_gt(sign * (L - pL), 0.0, "map %d: L* not monotonic at %d", m, i);
                cr_assert_gt(sign * (Y - pY), 0.0, "map %d: luminance not monotonic at %d", m, i);
                cr_assert_gt(sign * (l601 - p601), 0.0, "map %d: Rec.601 luma not monotonic at %d", m, i);
                cr_assert_gt(sign * (l709 - p709), 0.0, "map %d: Rec.709 luma not monotonic at %d", m, i);
            }
            pL = L, p601 = l601, p709 = l709, pY = Y;
        }
        /* Ends far apart in grey. */
        double a[3], b[3];
        double La = cqb_cmap_eval(maps[m], 0.0, a), Lb = cqb_cmap_eval(maps[m], 1.0, b);
        cr_assert_gt(fabs(La - Lb), 70.0);
    }
    /* The diverging centre is a neutral grey; the ends differ in hue. */
    double c[3], lo[3], hi[3];
    cqb_cmap_eval(CQB_CMAP_DIVERGING, 0.5, c);
    cr_assert(fabs(c[0] - c[1]) < 0.01 && fabs(c[1] - c[2]) < 0.01, "centre %g %g %g", c[0], c[1], c[2]);
    cqb_cmap_eval(CQB_CMAP_DIVERGING, 0.1, lo);
    cqb_cmap_eval(CQB_CMAP_DIVERGING, 0.9, hi);
    cr_assert_gt(lo[2], lo[0], "negative side is blue");
    cr_assert_gt(hi[0], hi[2], "positive side is yellow");
    /* Clamping and NaN. */
    double x[3], y[3];
    cr_assert_float_eq(cqb_cmap_eval(CQB_CMAP_SEQUENTIAL, -3.0, x), cqb_cmap_eval(CQB_CMAP_SEQUENTIAL, 0.0, y),
                       1e-12);
    cr_assert_float_eq(cqb_cmap_eval(CQB_CMAP_DIVERGING, NAN, NULL), cqb_cmap_eval(CQB_CMAP_DIVERGING, 0.5, NULL),
                       1e-12);
}

/* ------------------------------------------------------------------------- */
/* Each figure type                                                           */
/* ------------------------------------------------------------------------- */

Test(plot, heatmap_png_and_svg)
{
    double z[20];
    unsigned char mark[20];
    for (int i = 0; i < 20; ++i) {
        z[i] = 0.3 * sin(0.7 * i);
        mark[i] = (unsigned char)(i % 3 == 0);
    }
    const char *rows[4] = {"0.05", "0.1", "0.5", "0.95"};
    const char *cols[5] = {"0.05", "0.1", "0.5", "0.9", "0.95"};
    cqb_fig_heat h;
    memset(&h, 0, sizeof h);
    h.nrow = 4;
    h.ncol = 5;
    h.z = z;
    h.mark = mark;
    h.row_labels = rows;
    h.col_labels = cols;
    h.zmin = h.zmax = NAN;
    cqb_fig_opts o = opts("Heat map", 900, 700);
    cqb_error err = {0};
    char p[300];
    ok(cqb_plot_heatmap(in_dir(p, sizeof p, "heat"), &o, &h, &err), &err);
    check_figure("heat", 900, 700);
    /* Larger grid without value labels, own size, sequential map, given range. */
    double big[15 * 19];
    for (int i = 0; i < 15 * 19; ++i) big[i] = (double)i / (15 * 19);
    h.nrow = 15;
    h.ncol = 19;
    h.z = big;
    h.mark = NULL;
    h.row_labels = NULL;
    h.col_labels = NULL;
    h.zmin = 0.0;
    h.zmax = 1.0;
    h.cmap = CQB_CMAP_SEQUENTIAL;
    o = opts("Big heat map", 640, 480);
    ok(cqb_plot_heatmap(in_dir(p, sizeof p, "heat_big"), &o, &h, &err), &err);
    check_figure("heat_big", 640, 480);
}

Test(plot, series_band_png_and_svg)
{
    double x[12], y[12], lo[12], hi[12], clo[12], chi[12];
    for (int i = 0; i < 12; ++i) {
        x[i] = i + 1;
        y[i] = 0.25 * cos(0.9 * i);
        lo[i] = -0.1 - 0.005 * i;
        hi[i] = 0.1 + 0.004 * i;
        clo[i] = y[i] + lo[i];
        chi[i] = y[i] + hi[i];
    }
    cqb_fig_band b;
    memset(&b, 0, sizeof b);
    b.n = 12;
    b.x = x;
    b.y = y;
    b.band_lo = lo;
    b.band_hi = hi;
    b.ci_lo = clo;
    b.ci_hi = chi;
    b.ymin = b.ymax = NAN;
    cqb_fig_opts o = opts("CQ by lag", 900, 700);
    cqb_error err = {0};
    char p[300];
    ok(cqb_plot_series_band(in_dir(p, sizeof p, "band_bars"), &o, &b, &err), &err);
    check_figure("band_bars", 900, 700);
    b.style = CQB_STYLE_POINTS;
    b.ci_lo = b.ci_hi = NULL;
    o = opts("CQ by lag (points)", 1200, 500);
    ok(cqb_plot_series_band(in_dir(p, sizeof p, "band_points"), &o, &b, &err), &err);
    check_figure("band_points", 1200, 500);
}

Test(plot, lines_png_and_svg)
{
    double x[10], q[10], cv[10];
    unsigned char rej[10];
    for (int i = 0; i < 10; ++i) {
        x[i] = i + 1;
        q[i] = 2.0 + 1.5 * i;
        cv[i] = 4.0 * (i + 1) * 0.6;
        rej[i] = q[i] > cv[i];
    }
    cqb_fig_series s[2] = {{"Q(p)", q, rej}, {"critical value", cv, NULL}};
    cqb_fig_lines l;
    memset(&l, 0, sizeof l);
    l.n = 10;
    l.x = x;
    l.nseries = 2;
    l.series = s;
    l.ymin = l.ymax = NAN;
    cqb_fig_opts o = opts("Q tests", 800, 600);
    cqb_error err = {0};
    char p[300];
    ok(cqb_plot_lines(in_dir(p, sizeof p, "lines"), &o, &l, &err), &err);
    check_figure("lines", 800, 600);
}

Test(plot, timemap_png_and_svg)
{
    enum { NT = 240, NL = 5 };
    static double z[NL * NT];
    static unsigned char sig[NL * NT];
    static char lab[NT][16];
    const char *tl[NT];
    const char *ll[NL] = {"d1 (2-4)", "d2 (4-8)", "d3 (8-16)", "d4 (16-32)", "s4 (>32)"};
    for (int t = 0; t < NT; ++t) {
        snprintf(lab[t], sizeof lab[t], "%d-%02d", 2000 + t / 12, t % 12 + 1);
        tl[t] = lab[t];
    }
    for (int i = 0; i < NL; ++i)
        for (int t = 0; t < NT; ++t) {
            int edge = 2 << i;
            double v = 0.5 + 0.45 * sin(0.05 * (i + 1) * t + i);
            z[i * NT + t] = (t < edge || t >= NT - edge) ? NAN : v;
            sig[i * NT + t] = v > 0.8;
        }
    cqb_fig_timemap m;
    memset(&m, 0, sizeof m);
    m.ntime = NT;
    m.nlevel = NL;
    m.z = z;
    m.sig = sig;
    m.time_labels = tl;
    m.level_labels = ll;
    m.zmin = 0.0;
    m.zmax = 1.0;
    cqb_fig_opts o = opts("WLMC", 900, 700);
    cqb_error err = {0};
    char p[300];
    ok(cqb_plot_timemap(in_dir(p, sizeof p, "tmap"), &o, &m, &err), &err);
    check_figure("tmap", 900, 700);
}

Test(plot, timemap_more_times_than_pixels)
{
    enum { NT = 3000, NL = 4 };
    static double z[NL * NT];
    static unsigned char sig[NL * NT];
    for (int i = 0; i < NL; ++i)
        for (int t = 0; t < NT; ++t) {
            z[i * NT + t] = 0.5 + 0.5 * sin(0.003 * (i + 1) * t);
            sig[i * NT + t] = (t / 7) % 3 == 0; /* many tiny regions */
        }
    cqb_fig_timemap m;
    memset(&m, 0, sizeof m);
    m.ntime = NT;
    m.nlevel = NL;
    m.z = z;
    m.sig = sig;
    m.zmin = m.zmax = NAN; /* from the data */
    cqb_fig_opts o = opts("Long WLMC", 400, 300);
    cqb_error err = {0};
    char p[300];
    ok(cqb_plot_timemap(in_dir(p, sizeof p, "tmap_long"), &o, &m, &err), &err);
    check_figure("tmap_long", 400, 300);
}

Test(plot, intervals_png_and_svg)
{
    const char *lv[6] = {"d1", "d2", "d3", "d4", "d5", "s5"};
    double y[6] = {0.2, 0.35, 0.5, 0.62, 0.4, 0.9}, lo[6], hi[6];
    unsigned char mk[6];
    for (int i = 0; i < 6; ++i) {
        lo[i] = y[i] - 0.07 * (i + 1);
        hi[i] = fmin(1.0, y[i] + 0.07 * (i + 1));
        mk[i] = lo[i] > 0.0;
    }
    cqb_fig_intervals iv;
    memset(&iv, 0, sizeof iv);
    iv.n = 6;
    iv.y = y;
    iv.lo = lo;
    iv.hi = hi;
    iv.labels = lv;
    iv.mark = mk;
    iv.ymin = iv.ymax = NAN;
    cqb_fig_opts o = opts("WMC", 900, 700);
    cqb_error err = {0};
    char p[300];
    ok(cqb_plot_intervals(in_dir(p, sizeof p, "ivl"), &o, &iv, &err), &err);
    check_figure("ivl", 900, 700);
}

Test(plot, cq_convenience_figures)
{
    cqb_cq_result r = make_result(0);
    cqb_error err = {0};
    char p[300];
    ok(cqb_plot_cq_heatmap(in_dir(p, sizeof p, "cq_heat"), NULL, &r, 2, 0, &err), &err);
    check_figure("cq_heat", 900, 700);
    ok(cqb_plot_cq_lags(in_dir(p, sizeof p, "cq_lags"), NULL, &r, 0.5, 0.1, 0, 1, &err), &err);
    check_figure("cq_lags", 900, 700);
    ok(cqb_plot_qtests(in_dir(p, sizeof p, "cq_bp"), NULL, &r, 0.9, 0.95, 0, &err), &err);
    check_figure("cq_bp", 900, 700);
    cqb_fig_opts o;
    cqb_fig_opts_default(&o);
    o.width = 700;
    o.height = 500;
    o.title = "Custom title";
    o.subtitle = ""; /* left out */
    ok(cqb_plot_qtests(in_dir(p, sizeof p, "cq_lb"), &o, &r, 0.1, 0.05, 1, &err), &err);
    check_figure("cq_lb", 700, 500);

    /* Partial CQ: only with controls. */
    cqb_status st = cqb_plot_cq_heatmap(in_dir(p, sizeof p, "pcq"), NULL, &r, 1, 1, &err);
    cr_assert_eq(st, CQB_EUSAGE);
    cr_assert_not_null(strstr(err.msg, "no partial CQ"), "%s", err.msg);
    r = make_result(1);
    ok(cqb_plot_cq_heatmap(in_dir(p, sizeof p, "pcq"), NULL, &r, 1, 1, &err), &err);
    check_figure("pcq", 900, 700);
    ok(cqb_plot_cq_lags(in_dir(p, sizeof p, "pcq_lags"), NULL, &r, 0.1, 0.95, 1, 0, &err), &err);
    check_figure("pcq_lags", 900, 700);

    /* Absent lag, level pair or Q tests. */
    st = cqb_plot_cq_heatmap(in_dir(p, sizeof p, "x"), NULL, &r, 7, 1, &err);
    cr_assert_eq(st, CQB_EUSAGE);
    cr_assert_not_null(strstr(err.msg, "lag 7"), "%s", err.msg);
    st = cqb_plot_cq_lags(in_dir(p, sizeof p, "x"), NULL, &r, 0.3, 0.1, 0, 0, &err);
    cr_assert_eq(st, CQB_EUSAGE);
    r.nqtests = 0;
    st = cqb_plot_qtests(in_dir(p, sizeof p, "x"), NULL, &r, 0.1, 0.05, 0, &err);
    cr_assert_eq(st, CQB_EUSAGE);
    cr_assert(!exists(in_dir(p, sizeof p, "x.png")) && !exists(in_dir(p, sizeof p, "x.svg")));
}

/* The heat map's colours follow its cells: a marked cell of the CQ heat map
 * is exactly one outside its band. */
Test(plot, cq_heatmap_marks_follow_the_band)
{
    cqb_cq_result r = make_result(0);
    /* Make every cell of lag 3 sit inside its band: no marks, no mark legend. */
    for (size_t i = 0; i < r.ncells; ++i)
        if (r.cells[i].lag == 3) r.cells[i].rho = 0.0;
    cqb_error err = {0};
    char p[300], a[300], b[300];
    ok(cqb_plot_cq_heatmap(in_dir(p, sizeof p, "inside"), NULL, &r, 3, 0, &err), &err);
    /* One cell outside: a different image. */
    r.cells[(0 * 4 + 1) * 3 + 2].rho = 0.5; /* alpha_y 0.1, alpha_x 0.1, lag 3 */
    ok(cqb_plot_cq_heatmap(in_dir(p, sizeof p, "outside"), NULL, &r, 3, 0, &err), &err);
    size_t na, nb;
    unsigned char *da = read_all(in_dir(a, sizeof a, "inside.png"), &na);
    unsigned char *db = read_all(in_dir(b, sizeof b, "outside.png"), &nb);
    cr_assert(na != nb || memcmp(da, db, na) != 0);
    free(da);
    free(db);
}

/* ------------------------------------------------------------------------- */
/* Marks, NaN, determinism                                                    */
/* ------------------------------------------------------------------------- */

static cqb_status heat_with(const char *name, const unsigned char *mark, cqb_error *err)
{
    static double z[36];
    for (int i = 0; i < 36; ++i) z[i] = 0.2 * sin(1.3 * i);
    cqb_fig_heat h;
    memset(&h, 0, sizeof h);
    h.nrow = 6;
    h.ncol = 6;
    h.z = z;
    h.mark = mark;
    h.zmin = -0.25;
    h.zmax = 0.25;
    h.cmap = CQB_CMAP_DIVERGING;
    cqb_fig_opts o = opts("Marks", 600, 500);
    char p[300];
    return cqb_plot_heatmap(in_dir(p, sizeof p, name), &o, &h, err);
}

Test(plot, heatmap_marks_change_the_image)
{
    unsigned char none[36] = {0}, some[36] = {0};
    some[7] = some[20] = 1;
    cqb_error err = {0};
    ok(heat_with("nomark", NULL, &err), &err);
    ok(heat_with("zeros", none, &err), &err);
    ok(heat_with("marked", some, &err), &err);
    ok(heat_with("again", some, &err), &err);
    char p[300];
    size_t n0, nz, n1, n2;
    unsigned char *d0 = read_all(in_dir(p, sizeof p, "nomark.png"), &n0);
    unsigned char *dz = read_all(in_dir(p, sizeof p, "zeros.png"), &nz);
    unsigned char *d1 = read_all(in_dir(p, sizeof p, "marked.png"), &n1);
    unsigned char *d2 = read_all(in_dir(p, sizeof p, "again.png"), &n2);
    cr_assert(n0 == nz && memcmp(d0, dz, n0) == 0, "all-zero marks must equal no marks");
    cr_assert(n0 != n1 || memcmp(d0, d1, n0) != 0, "marks must change the image");
    cr_assert(n1 == n2 && memcmp(d1, d2, n1) == 0, "rendering must be deterministic");
    free(d0);
    free(dz);
    free(d1);
    free(d2);
    check_figure("marked", 600, 500);
}

Test(plot, nan_values_are_drawn_as_missing)
{
    cqb_error err = {0};
    char p[300];
    /* A heat map with some and with only NaN cells. */
    double z[6] = {0.1, NAN, -0.2, 0.3, NAN, 0.0}, allnan[4] = {NAN, NAN, NAN, NAN};
    cqb_fig_heat h;
    memset(&h, 0, sizeof h);
    h.nrow = 2;
    h.ncol = 3;
    h.z = z;
    h.zmin = h.zmax = NAN;
    ok(cqb_plot_heatmap(in_dir(p, sizeof p, "heat_nan"), NULL, &h, &err), &err);
    check_figure("heat_nan", 900, 700);
    h.nrow = h.ncol = 2;
    h.z = allnan;
    ok(cqb_plot_heatmap(in_dir(p, sizeof p, "heat_allnan"), NULL, &h, &err), &err);
    check_figure("heat_allnan", 900, 700);
    /* Hatching differs from a blank (white) cell: NaN and a finite value at
     * the pale end of the sequential map must not look the same. */
    cairo_surface_t *s = NULL;
    {
        double one[1] = {NAN};
        h.nrow = h.ncol = 1;
        h.z = one;
        h.value_labels = -1;
        ok(cqb_plot_heatmap(in_dir(p, sizeof p, "one_nan"), NULL, &h, &err), &err);
        s = cairo_image_surface_create_from_png(in_dir(p, sizeof p, "one_nan.png"));
        cr_assert_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
        /* Count grey hatch pixels in the middle of the plot area. */
        int w = cairo_image_surface_get_width(s), st = cairo_image_surface_get_stride(s);
        const unsigned char *d = cairo_image_surface_get_data(s);
        int grey = 0;
        for (int y = 340; y < 360; ++y)
            for (int x = 400; x < 420 && x < w; ++x) {
                uint32_t px = *(const uint32_t *)(d + y * st + 4 * x);
                int r = (px >> 16) & 255, g = (px >> 8) & 255, b = px & 255;
                if (r < 235 && abs(r - g) < 8 && abs(g - b) < 8) ++grey;
            }
        cairo_surface_destroy(s);
        cr_assert_gt(grey, 10, "no hatching in a NaN cell");
    }
    /* Series with NaN points and ribbons with NaN gaps. */
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {0.1, NAN, 0.3, -0.1, NAN};
    double lo[5] = {-0.1, -0.1, NAN, -0.1, -0.1}, hi[5] = {0.1, 0.1, NAN, 0.1, 0.1};
    cqb_fig_band b;
    memset(&b, 0, sizeof b);
    b.n = 5;
    b.x = x;
    b.y = y;
    b.band_lo = lo;
    b.band_hi = hi;
    ok(cqb_plot_series_band(in_dir(p, sizeof p, "band_nan"), NULL, &b, &err), &err);
    check_figure("band_nan", 900, 700);
    cqb_fig_series s2[1] = {{NULL, y, NULL}};
    cqb_fig_lines l;
    memset(&l, 0, sizeof l);
    l.n = 5;
    l.x = x;
    l.nseries = 1;
    l.series = s2;
    ok(cqb_plot_lines(in_dir(p, sizeof p, "lines_nan"), NULL, &l, &err), &err);
    check_figure("lines_nan", 900, 700);
    double all[5] = {NAN, NAN, NAN, NAN, NAN};
    s2[0].y = all;
    ok(cqb_plot_lines(in_dir(p, sizeof p, "lines_allnan"), NULL, &l, &err), &err);
    check_figure("lines_allnan", 900, 700);
    cqb_fig_intervals iv;
    memset(&iv, 0, sizeof iv);
    iv.n = 5;
    iv.y = y;
    iv.lo = lo;
    iv.hi = hi;
    ok(cqb_plot_intervals(in_dir(p, sizeof p, "ivl_nan"), NULL, &iv, &err), &err);
    check_figure("ivl_nan", 900, 700);
    /* A time map that is NaN everywhere. */
    double tz[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    cqb_fig_timemap m;
    memset(&m, 0, sizeof m);
    m.ntime = 3;
    m.nlevel = 2;
    m.z = tz;
    ok(cqb_plot_timemap(in_dir(p, sizeof p, "tmap_nan"), NULL, &m, &err), &err);
    check_figure("tmap_nan", 900, 700);
    /* NaN positions on x are an error. */
    x[2] = NAN;
    cqb_status st = cqb_plot_lines(in_dir(p, sizeof p, "bad"), NULL, &l, &err);
    cr_assert_eq(st, CQB_EUSAGE);
    cr_assert_not_null(strstr(err.msg, "x[2]"), "%s", err.msg);
}

/* ------------------------------------------------------------------------- */
/* Atomic writing and errors                                                  */
/* ------------------------------------------------------------------------- */

Test(plot, missing_directory_fails_and_leaves_nothing)
{
    double z[4] = {0.1, 0.2, 0.3, 0.4};
    cqb_fig_heat h;
    memset(&h, 0, sizeof h);
    h.nrow = h.ncol = 2;
    h.z = z;
    cqb_error err = {0};
    char p[300], before[4096], after[4096];
    dir_listing(g_dir, before, sizeof before);
    cqb_status st = cqb_plot_heatmap(in_dir(p, sizeof p, "no/such/dir/fig"), NULL, &h, &err);
    cr_assert_eq(st, CQB_EIO, "status %d: %s", (int)st, err.msg);
    cr_assert_eq(err.status, CQB_EIO);
    cr_assert_not_null(strstr(err.msg, "fig.png"), "%s", err.msg);
    dir_listing(g_dir, after, sizeof after);
    cr_assert_str_eq(before, after);
    cr_assert(!exists(in_dir(p, sizeof p, "no")));
}

Test(plot, failed_svg_leaves_no_half_pair)
{
    /* fig.svg is a directory: the SVG cannot be moved into place, so the
     * PNG must not stay either, and no temporary file may remain. */
    char p[300], list[4096];
    cr_assert_eq(mkdir(in_dir(p, sizeof p, "fig.svg"), 0755), 0);
    double x[3] = {1, 2, 3}, y[3] = {0.1, -0.2, 0.3};
    cqb_fig_series s[1] = {{"s", y, NULL}};
    cqb_fig_lines l;
    memset(&l, 0, sizeof l);
    l.n = 3;
    l.x = x;
    l.nseries = 1;
    l.series = s;
    cqb_error err = {0};
    cqb_status st = cqb_plot_lines(in_dir(p, sizeof p, "fig"), NULL, &l, &err);
    cr_assert_eq(st, CQB_EIO, "status %d: %s", (int)st, err.msg);
    cr_assert_not_null(strstr(err.msg, "fig.svg"), "%s", err.msg);
    dir_listing(g_dir, list, sizeof list);
    cr_assert_str_eq(list, "fig.svg", "left: %s", list);
}

Test(plot, replaces_existing_files)
{
    char p[300];
    FILE *fp = fopen(in_dir(p, sizeof p, "old.png"), "wb");
    cr_assert_not_null(fp);
    fputs("stale", fp);
    fclose(fp);
    double x[2] = {0, 1}, y[2] = {1, 2};
    cqb_fig_intervals iv;
    memset(&iv, 0, sizeof iv);
    iv.n = 2;
    iv.y = y;
    (void)x;
    cqb_error err = {0};
    ok(cqb_plot_intervals(in_dir(p, sizeof p, "old"), NULL, &iv, &err), &err);
    check_figure("old", 900, 700);
}

Test(plot, argument_errors)
{
    cqb_error err = {0};
    char p[300];
    const char *path = in_dir(p, sizeof p, "e");
    double z[4] = {0, 1, 2, 3};
    cqb_fig_heat h;
    memset(&h, 0, sizeof h);
    h.nrow = 2;
    h.ncol = 2;
    h.z = z;
    cqb_fig_opts o;
    cqb_fig_opts_default(&o);
    o.width = 100;
    cr_assert_eq(cqb_plot_heatmap(path, &o, &h, &err), CQB_EUSAGE);
    cr_assert_not_null(strstr(err.msg, "200..8000"), "%s", err.msg);
    cqb_fig_opts_default(&o);
    cr_assert_eq(cqb_plot_heatmap(NULL, &o, &h, &err), CQB_EUSAGE);
    cr_assert_eq(cqb_plot_heatmap("", &o, &h, &err), CQB_EUSAGE);
    h.ncol = 0;
    cr_assert_eq(cqb_plot_heatmap(path, &o, &h, &err), CQB_EUSAGE);
    h.ncol = 2;
    h.digits = 9;
    cr_assert_eq(cqb_plot_heatmap(path, &o, &h, &err), CQB_EUSAGE);
    h.digits = 0;
    cr_assert_eq(cqb_plot_heatmap(path, &o, NULL, &err), CQB_EUSAGE);
    /* Invalid UTF-8 in a label. */
    o.title = "bad \xff\xfe title";
    cr_assert_eq(cqb_plot_heatmap(path, &o, &h, &err), CQB_EUSAGE);
    cr_assert_not_null(strstr(err.msg, "UTF-8"), "%s", err.msg);
    /* Unsorted x, unpaired band, too many series. */
    double x[3] = {1, 3, 2}, y[3] = {0, 0, 0};
    cqb_fig_band b;
    memset(&b, 0, sizeof b);
    b.n = 3;
    b.x = x;
    b.y = y;
    cr_assert_eq(cqb_plot_series_band(path, NULL, &b, &err), CQB_EUSAGE);
    cr_assert_not_null(strstr(err.msg, "ascending"), "%s", err.msg);
    x[1] = 2, x[2] = 3;
    b.band_lo = y;
    cr_assert_eq(cqb_plot_series_band(path, NULL, &b, &err), CQB_EUSAGE);
    cqb_fig_series s[CQB_PLOT_MAX_SERIES + 1];
    for (int i = 0; i <= CQB_PLOT_MAX_SERIES; ++i) s[i] = (cqb_fig_series){NULL, y, NULL};
    cqb_fig_lines l;
    memset(&l, 0, sizeof l);
    l.n = 3;
    l.x = x;
    l.series = s;
    l.nseries = CQB_PLOT_MAX_SERIES + 1;
    cr_assert_eq(cqb_plot_lines(path, NULL, &l, &err), CQB_EUSAGE);
    l.nseries = CQB_PLOT_MAX_SERIES; /* the most: every style */
    ok(cqb_plot_lines(path, NULL, &l, &err), &err);
    check_figure("e", 900, 700);
    cr_assert_eq(remove(in_dir(p, sizeof p, "e.png")), 0);
    cr_assert_eq(remove(in_dir(p, sizeof p, "e.svg")), 0);
    path = in_dir(p, sizeof p, "e");
    cqb_fig_intervals iv;
    memset(&iv, 0, sizeof iv);
    iv.n = 3;
    iv.y = y;
    iv.lo = y;
    cr_assert_eq(cqb_plot_intervals(path, NULL, &iv, &err), CQB_EUSAGE);
    cqb_fig_timemap m;
    memset(&m, 0, sizeof m);
    m.ntime = 2;
    cr_assert_eq(cqb_plot_timemap(path, NULL, &m, &err), CQB_EUSAGE);
    /* Nothing was written by the failures. */
    char list[4096];
    dir_listing(g_dir, list, sizeof list);
    cr_assert_str_eq(list, "", "left: %s", list);
}
