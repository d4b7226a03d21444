/* report.c — a study's figures, report.md and index.html (report.h). */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cqboot/plot.h"
#include "textbuf.h"

/* ------------------------------------------------------- text buffers -- */

/* HTML-escaped text. */
static void sb_html(cli_text *b, const char *s)
{
    for (; s && *s; ++s) {
        switch (*s) {
        case '<': cli_text_printf(b, "&lt;"); break;
        case '>': cli_text_printf(b, "&gt;"); break;
        case '&': cli_text_printf(b, "&amp;"); break;
        case '"': cli_text_printf(b, "&quot;"); break;
        default: cli_text_printf(b, "%c", *s); break;
        }
    }
}

/* ------------------------------------------------------------ helpers -- */

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Distinct values of key over the array, ascending (at most cap). */
static size_t distinct(const cJSON *arr, const char *key, double *out, size_t cap)
{
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        double v = num(e, key);
        size_t i = 0;
        while (i < n && out[i] < v) ++i;
        if (i < n && out[i] == v) continue;
        if (n == cap) continue;
        memmove(out + i + 1, out + i, (n - i) * sizeof *out);
        out[i] = v;
        ++n;
    }
    return n;
}

/* A figure of one analysis was written: remember its base name. */
static void add_figure(cJSON *entry, const char *base, const char *caption)
{
    cJSON *figs = cJSON_GetObjectItemCaseSensitive(entry, "figures");
    if (!figs) figs = cJSON_AddArrayToObject(entry, "figures");
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "file", base);
    cJSON_AddStringToObject(f, "caption", caption);
    cJSON_AddItemToArray(figs, f);
}

#define MAXG 64

/* Which cells to mark on the CQ figures: null (the calibrated test: p_null
 * below 1 - level; the default when the result has it), band (outside R's
 * band), p (the bootstrap p_value), or an adjusted p-value (rw, holm, bh of
 * p_value; null_holm, null_bh of p_null) below 1 - level. */
static int marked(const cJSON *cell, const char *mark, double level, int partial)
{
    if (!strcmp(mark, "band")) {
        double v = num(cell, partial ? "rho_partial" : "rho");
        return v < num(cell, "band_lo") || v > num(cell, "band_hi");
    }
    char key[24];
    if (!strcmp(mark, "p")) snprintf(key, sizeof key, "p_value");
    else snprintf(key, sizeof key, "p_%s", mark);
    double p = num(cell, key);
    return !isnan(p) && p < 1.0 - level;
}

static const char *mark_text(const char *mark)
{
    if (!strcmp(mark, "null")) return "calibrated test: p_null < 1 - level";
    if (!strcmp(mark, "null_rw")) return "Romano-Wolf (null values) p_null < 1 - level";
    if (!strcmp(mark, "null_holm")) return "Holm-adjusted p_null < 1 - level";
    if (!strcmp(mark, "null_bh")) return "Benjamini-Hochberg-adjusted p_null < 1 - level";
    if (!strcmp(mark, "p")) return "bootstrap p_value < 1 - level (R rule, not calibrated)";
    if (!strcmp(mark, "rw")) return "Romano-Wolf adjusted p < 1 - level";
    if (!strcmp(mark, "holm")) return "Holm adjusted p < 1 - level";
    if (!strcmp(mark, "bh")) return "Benjamini-Hochberg adjusted p < 1 - level";
    return "outside the bootstrap band (R rule, not calibrated)";
}

/* Whether the result carries the calibrated test. */
static int has_null(const cJSON *opts)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(opts, "null_test"));
}

/* The mark rule of a CQ analysis: the spec's figures.mark, else null when
 * the result has p_null, else band; a grid-wide rule without the grid-wide
 * tests (or a null rule without p_null) falls back to the default. */
static const char *cq_mark(const cJSON *spec, const cJSON *opts)
{
    const cJSON *figs = cJSON_GetObjectItemCaseSensitive(spec, "figures");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(figs, "mark");
    const char *def = has_null(opts) ? "null" : "band";
    /* the analysis' own --mark (the result's options.mark) when the figures do not say */
    const cJSON *am = cJSON_GetObjectItemCaseSensitive(opts, "mark");
    if (cJSON_IsString(am) && (!strcmp(am->valuestring, "band") || !strcmp(am->valuestring, "p"))) def = am->valuestring;
    const char *mark = cJSON_IsString(m) ? m->valuestring : def;
    const int gw = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(opts, "gridwide"));
    if ((!strcmp(mark, "rw") || !strcmp(mark, "holm") || !strcmp(mark, "bh")) && !gw) mark = def;
    if ((!strcmp(mark, "null_holm") || !strcmp(mark, "null_bh") || !strcmp(mark, "null_rw")) && (!gw || !has_null(opts)))
        mark = def;
    if (!strcmp(mark, "null") && !has_null(opts)) mark = "band";
    return mark;
}

/* ------------------------------------------------- pairs (cq --pairs) -- */

/* A cq analysis over pairs of series ("series" and "pairs" in the study):
 * its result's options list the series. */
static const cJSON *pair_series(const cJSON *res)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "options"), "series");
    return cJSON_IsArray(s) ? s : NULL;
}

static int series_index(const cJSON *series, const char *name)
{
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, series)
    {
        if (cJSON_IsString(e) && !strcmp(e->valuestring, name)) return i;
        ++i;
    }
    return -1;
}

/* The quantile cells drawn for pairs: the diagonal (alpha_y = alpha_x) of
 * the grid when it has one, else every cell. */
static int pair_cell_drawn(double a, double b, const double *ay, size_t ny, const double *ax, size_t nx)
{
    int diag = 0;
    for (size_t i = 0; i < ny; ++i)
        for (size_t j = 0; j < nx; ++j) diag |= ay[i] == ax[j];
    return !diag || a == b;
}

/* Adjacency heat maps of the significant links: per drawn quantile cell and
 * lag (figures.lags, else every lag), rows y and columns x over the series;
 * a link is coloured by its CQ when the analysis' mark rule (by default the
 * calibrated test, p_null < 1 - level) finds it significant, blank
 * otherwise (and on the diagonal). */
static cqb_status pair_figures(const char *outdir, cJSON *entry, cqb_error *err)
{
    const char *name = str(entry, "name");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(entry, "result");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(entry, "spec");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(res, "options");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(res, "results");
    const cJSON *series = pair_series(res);
    const double level = num(opts, "level");
    const char *mark = cq_mark(spec, opts);
    const size_t ns = (size_t)cJSON_GetArraySize(series);
    double ay[MAXG], ax[MAXG], lags[4096];
    const size_t ny = distinct(cells, "alpha_y", ay, MAXG), nx = distinct(cells, "alpha_x", ax, MAXG);
    size_t nl = distinct(cells, "lag", lags, 4096);
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "figures"), "lags"), *e;
    if (cJSON_GetArraySize(fl) > 0) {
        nl = 0;
        cJSON_ArrayForEach(e, fl) if (nl < 4096) lags[nl++] = e->valuedouble;
    }
    if (ns < 2) return CQB_OK;
    const char **lab = calloc(ns, sizeof *lab);
    double *z = malloc(ns * ns * sizeof *z);
    unsigned char *mk = calloc(ns * ns, 1);
    if (!lab || !z || !mk) {
        free(lab); free(z); free(mk);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    }
    size_t i = 0;
    cJSON_ArrayForEach(e, series) lab[i++] = e->valuestring;
    cqb_status st = CQB_OK;
    for (size_t iy = 0; iy < ny && st == CQB_OK; ++iy)
        for (size_t ix = 0; ix < nx && st == CQB_OK; ++ix) {
            if (!pair_cell_drawn(ay[iy], ax[ix], ay, ny, ax, nx)) continue;
            for (size_t l = 0; l < nl && st == CQB_OK; ++l) {
                for (size_t k = 0; k < ns * ns; ++k) z[k] = NAN;
                memset(mk, 0, ns * ns);
                size_t found = 0, links = 0;
                cJSON_ArrayForEach(e, cells)
                {
                    if (num(e, "alpha_y") != ay[iy] || num(e, "alpha_x") != ax[ix] || num(e, "lag") != lags[l]) continue;
                    const int r = series_index(series, str(e, "y")), c = series_index(series, str(e, "x"));
                    if (r < 0 || c < 0) continue;
                    ++found;
                    if (!marked(e, mark, level, 0)) continue;
                    z[(size_t)r * ns + (size_t)c] = num(e, "rho");
                    mk[(size_t)r * ns + (size_t)c] = 1;
                    ++links;
                }
                if (!found) continue;
                char title[512], sub[512], cap[600], base[600], path[1400];
                cqb_fig_opts fo;
                cqb_fig_opts_default(&fo);
                snprintf(title, sizeof title, "Significant links: CQ at quantiles (%g, %g), lag %g", ay[iy], ax[ix], lags[l]);
                snprintf(sub, sizeof sub, "%zu of %zu directed pairs; B = %g; link: %s; hatched: not significant (or y = x)", links,
                         found, num(opts, "boot"), mark_text(mark));
                fo.title = title;
                fo.subtitle = sub;
                fo.xlabel = "lagged predictor (x)";
                fo.ylabel = "predicted series (y)";
                fo.cbar_label = "CQ of the link";
                cqb_fig_heat hm;
                memset(&hm, 0, sizeof hm);
                hm.nrow = ns;
                hm.ncol = ns;
                hm.z = z;
                hm.mark = mk;
                hm.row_labels = lab;
                hm.col_labels = lab;
                double m = 0;
                for (size_t k = 0; k < ns * ns; ++k)
                    if (isfinite(z[k]) && fabs(z[k]) > m) m = fabs(z[k]);
                hm.zmin = m > 0 ? -m : -1;
                hm.zmax = m > 0 ? m : 1;
                hm.cmap = CQB_CMAP_DIVERGING;
                hm.mark_label = mark_text(mark);
                snprintf(base, sizeof base, "%s_links_%g_%g_lag%g", name, ay[iy], ax[ix], lags[l]);
                snprintf(path, sizeof path, "%s/%s", outdir, base);
                st = cqb_plot_heatmap(path, &fo, &hm, err);
                snprintf(cap, sizeof cap, "Significant links (rows y, columns x) at quantiles (%g, %g), lag %g: %zu of %zu pairs (%s)",
                         ay[iy], ax[ix], lags[l], links, found, mark_text(mark));
                if (st == CQB_OK) add_figure(entry, base, cap);
            }
        }
    free(lab);
    free(z);
    free(mk);
    return st;
}

/* The report's table for pairs: the significant links per quantile cell
 * and lag (the long table is the CSV). */
static void pair_table(cli_text *md, cli_text *html, const cJSON *res, const char *mark)
{
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(res, "options");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(res, "results");
    const double level = num(opts, "level");
    double ay[MAXG], ax[MAXG], lags[4096];
    const size_t ny = distinct(cells, "alpha_y", ay, MAXG), nx = distinct(cells, "alpha_x", ax, MAXG);
    const size_t nl = distinct(cells, "lag", lags, 4096);
    cli_text_printf(md, "Significant links (%s), per quantile cell and lag; every pair's numbers are in the CSV.\n\n",
              mark_text(mark));
    cli_text_printf(md, "| alpha_y | alpha_x | lag | links | pairs | links (y <- x) |\n|---|---|---|---|---|---|\n");
    cli_text_printf(html, "<p>Significant links (");
    sb_html(html, mark_text(mark));
    cli_text_printf(html, "), per quantile cell and lag; every pair's numbers are in the CSV.</p>\n<table><tr><th>alpha_y</th>"
                    "<th>alpha_x</th><th>lag</th><th>links</th><th>pairs</th><th>links (y &lt;- x)</th></tr>\n");
    for (size_t iy = 0; iy < ny; ++iy)
        for (size_t ix = 0; ix < nx; ++ix)
            for (size_t l = 0; l < nl; ++l) {
                size_t found = 0, links = 0;
                cli_text list = {0};
                const cJSON *e;
                cJSON_ArrayForEach(e, cells)
                {
                    if (num(e, "alpha_y") != ay[iy] || num(e, "alpha_x") != ax[ix] || num(e, "lag") != lags[l]) continue;
                    ++found;
                    if (!marked(e, mark, level, 0)) continue;
                    if (links < 12) cli_text_printf(&list, "%s%s <- %s", links ? ", " : "", str(e, "y"), str(e, "x"));
                    else if (links == 12) cli_text_printf(&list, ", ...");
                    ++links;
                }
                if (!found) {
                    free(list.p);
                    continue;
                }
                const char *ls = list.p ? list.p : "";
                cli_text_printf(md, "| %g | %g | %g | %zu | %zu | %s |\n", ay[iy], ax[ix], lags[l], links, found, ls);
                cli_text_printf(html, "<tr><td>%g</td><td>%g</td><td>%g</td><td>%zu</td><td>%zu</td><td style=\"text-align:left\">",
                          ay[iy], ax[ix], lags[l], links, found);
                sb_html(html, ls);
                cli_text_printf(html, "</td></tr>\n");
                free(list.p);
            }
    cli_text_printf(md, "\n");
    cli_text_printf(html, "</table>\n");
}

/* ---------------------------------------------------------- CQ figures -- */

static cqb_status cq_figures(const char *outdir, cJSON *entry, cqb_error *err)
{
    if (pair_series(cJSON_GetObjectItemCaseSensitive(entry, "result"))) return pair_figures(outdir, entry, err);
    const char *name = str(entry, "name");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(entry, "result");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(entry, "spec");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(res, "options");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(res, "results");
    const cJSON *qt = cJSON_GetObjectItemCaseSensitive(res, "qtests");
    const double level = num(opts, "level");
    const int partial = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(opts, "controls")) > 0;
    const cJSON *figs = cJSON_GetObjectItemCaseSensitive(spec, "figures");
    const char *mark = cq_mark(spec, opts);
    const int nul = has_null(opts);
    const char *stat = partial ? "partial CQ" : "CQ";
    const char *ylab = partial ? "partial cross-quantilogram" : "cross-quantilogram";
    double ay[MAXG], ax[MAXG], lags[4096];
    size_t ny = distinct(cells, "alpha_y", ay, MAXG), nx = distinct(cells, "alpha_x", ax, MAXG);
    size_t nl = distinct(cells, "lag", lags, 4096);
    char path[1400], title[512], sub[512], cap[512];
    cqb_fig_opts fo;
    cqb_status st;
    char desc[256];
    snprintf(desc, sizeof desc, "%s on lagged %s", str(opts, "y"), str(opts, "x"));

    /* 1. heat maps over the quantile grid for the chosen lags */
    double hl[64];
    size_t nhl = 0;
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(figs, "lags"), *e;
    cJSON_ArrayForEach(e, fl) if (nhl < 64) hl[nhl++] = e->valuedouble;
    if (nhl == 0) hl[nhl++] = lags[0];
    if (ny * nx > 1) {
        for (size_t h = 0; h < nhl; ++h) {
            double *z = malloc(ny * nx * sizeof *z);
            unsigned char *mk = calloc(ny * nx, 1), *hat = calloc(ny * nx, 1);
            char **rl = calloc(ny, sizeof *rl), **cl = calloc(nx, sizeof *cl);
            if (!z || !mk || !hat || !rl || !cl) {
                free(z); free(mk); free(hat); free(rl); free(cl);
                return cqb_error_set(err, CQB_ENOMEM, "out of memory");
            }
            for (size_t i = 0; i < ny * nx; ++i) z[i] = NAN;
            int found = 0;
            cJSON_ArrayForEach(e, cells)
            {
                if (num(e, "lag") != hl[h]) continue;
                size_t iy = 0, ix = 0;
                while (iy < ny && ay[iy] != num(e, "alpha_y")) ++iy;
                while (ix < nx && ax[ix] != num(e, "alpha_x")) ++ix;
                if (iy == ny || ix == nx) continue;
                z[iy * nx + ix] = num(e, partial ? "rho_partial" : "rho");
                mk[iy * nx + ix] = (unsigned char)marked(e, mark, level, partial);
                hat[iy * nx + ix] = num(e, "sparse") == 1.0;
                found = 1;
            }
            char lb[MAXG][32], cb[MAXG][32];
            for (size_t i = 0; i < ny; ++i) {
                snprintf(lb[i], sizeof lb[i], "%g", ay[i]);
                rl[i] = lb[i];
            }
            for (size_t i = 0; i < nx; ++i) {
                snprintf(cb[i], sizeof cb[i], "%g", ax[i]);
                cl[i] = cb[i];
            }
            st = CQB_OK;
            if (found) {
                cqb_fig_opts_default(&fo);
                snprintf(title, sizeof title, "%s heat map over the quantile grid, lag %g", stat, hl[h]);
                snprintf(sub, sizeof sub, "%s; B = %g bootstrap replicates; marked: %s", desc, num(opts, "boot"),
                         mark_text(mark));
                fo.title = title;
                fo.subtitle = sub;
                fo.xlabel = "quantile level of the lagged predictor (alpha_x)";
                fo.ylabel = "quantile level of the predicted series (alpha_y)";
                fo.cbar_label = stat;
                cqb_fig_heat hm;
                memset(&hm, 0, sizeof hm);
                hm.nrow = ny;
                hm.ncol = nx;
                hm.z = z;
                hm.mark = mk;
                hm.row_labels = (const char *const *)rl;
                hm.col_labels = (const char *const *)cl;
                hm.zmin = -1;
                hm.zmax = 1;
                double m = 0;
                for (size_t i = 0; i < ny * nx; ++i)
                    if (isfinite(z[i]) && fabs(z[i]) > m) m = fabs(z[i]);
                if (m > 0) {
                    hm.zmin = -m;
                    hm.zmax = m;
                }
                hm.cmap = CQB_CMAP_DIVERGING;
                hm.mark_label = mark_text(mark);
                hm.hatch = hat;
                hm.hatch_label = "sparse: expected joint tail hits < 5";
                char base[600];
                snprintf(base, sizeof base, "%s_heatmap_lag%g", name, hl[h]);
                snprintf(path, sizeof path, "%s/%s", outdir, base);
                st = cqb_plot_heatmap(path, &fo, &hm, err);
                snprintf(cap, sizeof cap, "%s over the quantile grid at lag %g (%s)", stat, hl[h], mark_text(mark));
                if (st == CQB_OK) add_figure(entry, base, cap);
            }
            free(z); free(mk); free(hat); free(rl); free(cl);
            if (st != CQB_OK) return st;
        }
    }

    /* 2. the statistic against lag with its band, for the diagonal cells
     *    (alpha_y == alpha_x), or every cell of a grid of at most 9 */
    if (nl > 1) {
        for (size_t iy = 0; iy < ny; ++iy) {
            for (size_t ix = 0; ix < nx; ++ix) {
                if (ny * nx > 9 && ay[iy] != ax[ix]) continue;
                double *x = malloc(nl * 7 * sizeof *x);
                if (!x) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
                double *y = x + nl, *bl = y + nl, *bh = bl + nl, *cl = bh + nl, *ch = cl + nl;
                unsigned char mk[4096];
                size_t n = 0;
                cJSON_ArrayForEach(e, cells)
                {
                    if (num(e, "alpha_y") != ay[iy] || num(e, "alpha_x") != ax[ix] || n == nl) continue;
                    x[n] = num(e, "lag");
                    y[n] = num(e, partial ? "rho_partial" : "rho");
                    bl[n] = num(e, "band_lo");
                    bh[n] = num(e, "band_hi");
                    cl[n] = num(e, "ci_lo");
                    ch[n] = num(e, "ci_hi");
                    mk[n] = (unsigned char)marked(e, mark, level, partial);
                    ++n;
                }
                cqb_fig_band b;
                memset(&b, 0, sizeof b);
                b.n = n;
                b.x = x;
                b.y = y;
                b.band_lo = bl;
                b.band_hi = bh;
                b.mark = mk;
                b.style = CQB_STYLE_BARS;
                b.y_name = stat;
                b.band_name = "bootstrap null band";
                b.mark_label = mark_text(mark);
                cqb_fig_opts_default(&fo);
                snprintf(title, sizeof title, "%s by lag at (alpha_y, alpha_x) = (%g, %g)", stat, ay[iy], ax[ix]);
                snprintf(sub, sizeof sub, "%s; %.0f%% bootstrap band around zero (B = %g)", desc, 100 * level,
                         num(opts, "boot"));
                fo.title = title;
                fo.subtitle = sub;
                fo.xlabel = "lag k (rows of the data, e.g. months)";
                fo.ylabel = ylab;
                char base[600];
                snprintf(base, sizeof base, "%s_lags_%g_%g", name, ay[iy], ax[ix]);
                snprintf(path, sizeof path, "%s/%s", outdir, base);
                st = n ? cqb_plot_series_band(path, &fo, &b, err) : CQB_OK;
                free(x);
                if (st != CQB_OK) return st;
                snprintf(cap, sizeof cap, "%s against lag at (alpha_y, alpha_x) = (%g, %g) with the bootstrap band", stat,
                         ay[iy], ax[ix]);
                if (n) add_figure(entry, base, cap);
            }
        }
    }

    /* 3. Ljung-Box Q(p) and its critical value against p (diagonal cells) */
    if (cJSON_GetArraySize(qt) > 1) {
        for (size_t iy = 0; iy < ny; ++iy) {
            for (size_t ix = 0; ix < nx; ++ix) {
                if (ny * nx > 9 && ay[iy] != ax[ix]) continue;
                size_t np = (size_t)cJSON_GetArraySize(qt);
                double *x = malloc(4 * np * sizeof *x);
                unsigned char *mk = calloc(np, 1);
                if (!x || !mk) {
                    free(x);
                    free(mk);
                    return cqb_error_set(err, CQB_ENOMEM, "out of memory");
                }
                double *q = x + np, *cv = q + np, *cvn = cv + np;
                size_t n = 0;
                const int qnul = nul && !partial && strcmp(mark, "band") && strcmp(mark, "p");
                cJSON_ArrayForEach(e, qt)
                {
                    if (num(e, "alpha_y") != ay[iy] || num(e, "alpha_x") != ax[ix]) continue;
                    x[n] = num(e, "p");
                    q[n] = num(e, "q_lb");
                    cv[n] = num(e, "cv_lb");
                    cvn[n] = num(e, "cv_null_lb");
                    mk[n] = qnul ? num(e, "p_null") < 1 - level : q[n] > cv[n];
                    ++n;
                }
                cqb_fig_series sr[3] = {{"Ljung-Box Q(p)", q, mk},
                                        {"bootstrap critical value (R rule)", cv, NULL},
                                        {"null critical value (calibrated)", cvn, NULL}};
                cqb_fig_lines l;
                memset(&l, 0, sizeof l);
                l.n = n;
                l.x = x;
                l.nseries = nul && !partial ? 3 : 2;
                l.series = sr;
                l.mark_label = qnul ? "rejected by the calibrated test (p_null)" : "rejected at the level (R rule)";
                cqb_fig_opts_default(&fo);
                snprintf(title, sizeof title, "Ljung-Box test of the %s at (alpha_y, alpha_x) = (%g, %g)", stat, ay[iy],
                         ax[ix]);
                snprintf(sub, sizeof sub, "%s; critical values at %.0f%% from one resample shared by all lags", desc,
                         100 * level);
                fo.title = title;
                fo.subtitle = sub;
                fo.xlabel = "p (lags 1..p)";
                fo.ylabel = "Ljung-Box statistic";
                char base[600];
                snprintf(base, sizeof base, "%s_qtest_%g_%g", name, ay[iy], ax[ix]);
                snprintf(path, sizeof path, "%s/%s", outdir, base);
                st = n > 1 ? cqb_plot_lines(path, &fo, &l, err) : CQB_OK;
                free(x);
                free(mk);
                if (st != CQB_OK) return st;
                snprintf(cap, sizeof cap, "Ljung-Box Q(p) and its bootstrap critical value at (%g, %g)", ay[iy], ax[ix]);
                if (n > 1) add_figure(entry, base, cap);
            }
        }
    }

    /* 4. rolling windows: the statistic at the first lag over time */
    const cJSON *roll = cJSON_GetObjectItemCaseSensitive(res, "rolling");
    size_t nw = (size_t)cJSON_GetArraySize(roll);
    if (nw > 1) {
        for (size_t iy = 0; iy < ny; ++iy) {
            for (size_t ix = 0; ix < nx; ++ix) {
                if (ay[iy] != ax[ix] && ny * nx > 1) continue;
                double *x = malloc(nw * 4 * sizeof *x);
                unsigned char *rmk = calloc(nw, 1);
                if (!x || !rmk) {
                    free(x);
                    free(rmk);
                    return cqb_error_set(err, CQB_ENOMEM, "out of memory");
                }
                double *y = x + nw, *bl = y + nw, *bh = bl + nw;
                size_t n = 0;
                const cJSON *w;
                cJSON_ArrayForEach(w, roll)
                {
                    const cJSON *c;
                    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(w, "results"))
                    {
                        if (num(c, "alpha_y") != ay[iy] || num(c, "alpha_x") != ax[ix] || num(c, "lag") != lags[0])
                            continue;
                        x[n] = (double)(n + 1);
                        y[n] = num(c, partial ? "rho_partial" : "rho");
                        bl[n] = num(c, "band_lo");
                        bh[n] = num(c, "band_hi");
                        rmk[n] = (unsigned char)marked(c, mark, level, partial);
                        ++n;
                    }
                }
                cqb_fig_band b;
                memset(&b, 0, sizeof b);
                b.n = n;
                b.x = x;
                b.y = y;
                b.band_lo = bl;
                b.band_hi = bh;
                b.style = CQB_STYLE_POINTS;
                b.y_name = stat;
                b.band_name = "bootstrap null band";
                b.mark = rmk;
                b.mark_label = mark_text(mark);
                cqb_fig_opts_default(&fo);
                snprintf(title, sizeof title, "%s over time, lag %g, (alpha_y, alpha_x) = (%g, %g)", stat, lags[0],
                         ay[iy], ax[ix]);
                snprintf(sub, sizeof sub, "%s; windows %s .. %s to %s .. %s", desc,
                         str(cJSON_GetArrayItem(roll, 0), "first"), str(cJSON_GetArrayItem(roll, 0), "last"),
                         str(cJSON_GetArrayItem(roll, (int)nw - 1), "first"),
                         str(cJSON_GetArrayItem(roll, (int)nw - 1), "last"));
                fo.title = title;
                fo.subtitle = sub;
                fo.xlabel = "window (in time order)";
                fo.ylabel = ylab;
                char base[600];
                snprintf(base, sizeof base, "%s_rolling_%g_%g", name, ay[iy], ax[ix]);
                snprintf(path, sizeof path, "%s/%s", outdir, base);
                st = n ? cqb_plot_series_band(path, &fo, &b, err) : CQB_OK;
                free(x);
                free(rmk);
                if (st != CQB_OK) return st;
                snprintf(cap, sizeof cap, "%s over rolling windows at lag %g, (%g, %g), with the bootstrap band", stat,
                         lags[0], ay[iy], ax[ix]);
                if (n) add_figure(entry, base, cap);
            }
        }
    }
    return CQB_OK;
}

/* ----------------------------------------------------- wavelet figures -- */

static const cJSON *arr_at(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static double item(const cJSON *arr, int i)
{
    const cJSON *v = cJSON_GetArrayItem(arr, i);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static cqb_status wavelet_figures(const char *outdir, cJSON *entry, cqb_error *err)
{
    const char *name = str(entry, "name"), *kind = str(entry, "kind");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(entry, "result");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(res, "options");
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(res, "levels");
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "input"), "columns");
    const int nl = cJSON_GetArraySize(levels);
    const double level = num(opts, "level");
    char path[1400], title[512], sub[512], cap[512], base[600], series[400] = "";
    const cJSON *c;
    cJSON_ArrayForEach(c, cols)
    {
        if (series[0]) strncat(series, ", ", sizeof series - strlen(series) - 1);
        strncat(series, c->valuestring, sizeof series - strlen(series) - 1);
    }
    cqb_fig_opts fo;
    cqb_status st = CQB_OK;
    char **labels = calloc((size_t)nl, sizeof *labels);
    if (!labels) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    for (int i = 0; i < nl; ++i) {
        const cJSON *lv = cJSON_GetArrayItem(levels, i);
        labels[i] = malloc(64);
        if (labels[i]) snprintf(labels[i], 64, "%s (%s)", str(lv, "level"), str(lv, "band"));
    }
    if (!strcmp(kind, "wmc")) {
        double y[64], lo[64], hi[64];
        unsigned char mk[64];
        int n = nl < 64 ? nl : 64;
        for (int i = 0; i < n; ++i) {
            const cJSON *lv = cJSON_GetArrayItem(levels, i);
            y[i] = num(lv, "value");
            lo[i] = num(lv, "lo");
            hi[i] = num(lv, "up");
            double p = num(lv, "p_boot");
            mk[i] = !isnan(p) && p < 1 - level;
        }
        cqb_fig_intervals iv;
        memset(&iv, 0, sizeof iv);
        iv.n = (size_t)n;
        iv.y = y;
        iv.lo = lo;
        iv.hi = hi;
        iv.labels = (const char *const *)labels;
        iv.mark = mk;
        iv.y_name = "wavelet multiple correlation";
        iv.ci_name = "Fisher-z interval";
        iv.mark_label = "resampling p < 1 - level";
        iv.ymin = 0;
        iv.ymax = 1;
        cqb_fig_opts_default(&fo);
        snprintf(title, sizeof title, "Wavelet multiple correlation by level");
        snprintf(sub, sizeof sub, "%s; %s, J = %g", series, str(opts, "wavelet"), num(opts, "levels"));
        fo.title = title;
        fo.subtitle = sub;
        fo.xlabel = "level (period band, in rows of the data)";
        fo.ylabel = "multiple correlation";
        snprintf(base, sizeof base, "%s_levels", name);
        snprintf(path, sizeof path, "%s/%s", outdir, base);
        st = cqb_plot_intervals(path, &fo, &iv, err);
        snprintf(cap, sizeof cap, "WMC by level with Fisher-z intervals (%s)", series);
        if (st == CQB_OK) add_figure(entry, base, cap);
    } else if (!strcmp(kind, "wmcc")) {
        for (int i = 0; i < nl && st == CQB_OK; ++i) {
            const cJSON *lv = cJSON_GetArrayItem(levels, i);
            const cJSON *lags = arr_at(lv, "lag");
            int n = cJSON_GetArraySize(lags);
            if (n < 1 || n > 512) continue;
            double y[512], lo[512], hi[512];
            char lb[512][16];
            const char *lp[512];
            for (int q = 0; q < n; ++q) {
                y[q] = item(arr_at(lv, "value"), q);
                lo[q] = item(arr_at(lv, "lo"), q);
                hi[q] = item(arr_at(lv, "up"), q);
                snprintf(lb[q], sizeof lb[q], "%g", item(lags, q));
                lp[q] = lb[q];
            }
            cqb_fig_intervals iv;
            memset(&iv, 0, sizeof iv);
            iv.n = (size_t)n;
            iv.y = y;
            iv.lo = lo;
            iv.hi = hi;
            iv.labels = lp;
            iv.y_name = "wavelet multiple cross-correlation";
            iv.ci_name = "Fisher-z interval";
            cqb_fig_opts_default(&fo);
            snprintf(title, sizeof title, "Wavelet multiple cross-correlation, %s", labels[i]);
            snprintf(sub, sizeof sub, "%s; %s, J = %g", series, str(opts, "wavelet"), num(opts, "levels"));
            fo.title = title;
            fo.subtitle = sub;
            fo.xlabel = "lag (rows; positive: the dependent variable lags)";
            fo.ylabel = "multiple correlation";
            snprintf(base, sizeof base, "%s_%s", name, str(lv, "level"));
            snprintf(path, sizeof path, "%s/%s", outdir, base);
            st = cqb_plot_intervals(path, &fo, &iv, err);
            snprintf(cap, sizeof cap, "WMCC against lag at level %s", labels[i]);
            if (st == CQB_OK) add_figure(entry, base, cap);
        }
    } else if (!strcmp(kind, "wlmc") || !strcmp(kind, "wlmcc")) {
        const int cross = !strcmp(kind, "wlmcc");
        const cJSON *l0 = cJSON_GetArrayItem(levels, 0);
        const cJSON *dates = arr_at(l0, "date");
        size_t nt = (size_t)cJSON_GetArraySize(dates);
        double *z = malloc((size_t)nl * nt * sizeof *z);
        unsigned char *sg = calloc((size_t)nl * nt, 1);
        const char **tl = calloc(nt ? nt : 1, sizeof *tl);
        int lag0 = 0, anysig = 0;
        const double edge_m = isfinite(num(opts, "M")) ? ceil(num(opts, "M")) : 0.0;
        if (cross) lag0 = cJSON_GetArraySize(arr_at(l0, "lag")) / 2;
        if (!z || !sg || !tl) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
        } else {
            for (size_t t = 0; t < nt; ++t) {
                const cJSON *dv = cJSON_GetArrayItem(dates, (int)t);
                tl[t] = cJSON_IsString(dv) ? dv->valuestring : "";
            }
            for (int i = 0; i < nl; ++i) {
                const cJSON *lv = cJSON_GetArrayItem(levels, i);
                const cJSON *val = arr_at(lv, "value"), *pfw = arr_at(lv, "p_fw"), *pb = arr_at(lv, "p_boot");
                for (size_t t = 0; t < nt; ++t) {
                    const cJSON *vt = cJSON_GetArrayItem(val, (int)t);
                    z[(size_t)i * nt + t] = cross ? item(vt, lag0) : (cJSON_IsNumber(vt) ? vt->valuedouble : NAN);
                    const cJSON *ps = pfw ? pfw : pb;
                    if (ps) {
                        const cJSON *pt = cJSON_GetArrayItem(ps, (int)t);
                        double p = cross ? item(pt, lag0) : (cJSON_IsNumber(pt) ? pt->valuedouble : NAN);
                        /* family-wise marks: the M rows at each edge are masked
                         * (under independence nearly all false marks are there;
                         * docs/calibrated.md §10) */
                        const int edge = pfw && ((double)t < edge_m || (double)(nt - 1 - t) < edge_m);
                        sg[(size_t)i * nt + t] = !edge && !isnan(p) && p < 1 - level;
                        anysig = 1;
                    }
                }
            }
            cqb_fig_timemap tm;
            memset(&tm, 0, sizeof tm);
            tm.ntime = nt;
            tm.nlevel = (size_t)nl;
            tm.z = z;
            tm.sig = anysig ? sg : NULL;
            tm.time_labels = tl;
            tm.level_labels = (const char *const *)labels;
            tm.zmin = 0;
            tm.zmax = 1;
            tm.cmap = CQB_CMAP_SEQUENTIAL;
            tm.sig_label = cJSON_GetObjectItemCaseSensitive(l0, "p_fw")
                               ? "family-wise significant (max over time; M rows at each edge masked)"
                               : "pointwise significant";
            cqb_fig_opts_default(&fo);
            snprintf(title, sizeof title, "Wavelet local multiple correlation%s", cross ? " at lag 0" : "");
            snprintf(sub, sizeof sub, "%s; %s, J = %g, %s window, M = %g", series, str(opts, "wavelet"),
                     num(opts, "levels"), str(opts, "window"), num(opts, "M"));
            fo.title = title;
            fo.subtitle = sub;
            fo.xlabel = "time (phase-aligned)";
            fo.ylabel = "level (period band, rows)";
            fo.cbar_label = "local multiple correlation";
            snprintf(base, sizeof base, "%s_timemap", name);
            snprintf(path, sizeof path, "%s/%s", outdir, base);
            st = cqb_plot_timemap(path, &fo, &tm, err);
            snprintf(cap, sizeof cap, "WLMC over time and period band (%s)%s", series,
                     anysig ? "; significant regions outlined" : "");
            if (st == CQB_OK) add_figure(entry, base, cap);
        }
        free(z);
        free(sg);
        free(tl);
    }
    for (int i = 0; i < nl; ++i) free(labels[i]);
    free(labels);
    return st;
}

static void wavelet_table(cli_text *md, cli_text *html, const cJSON *res, const char *kind)
{
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(res, "levels");
    const double level = num(cJSON_GetObjectItemCaseSensitive(res, "options"), "level");
    const int local = !strcmp(kind, "wlmc") || !strcmp(kind, "wlmcc");
    if (!strcmp(kind, "modwt")) return;
    if (local)
        cli_text_printf(md, "Family-wise marks (max over time) in the M rows at each edge of the sample are masked here "
                      "and in the figure: with independent series nearly all of them fall there, a boundary effect "
                      "of the local window (docs/calibrated.md section 10); the JSON keeps every p_fw.\n\n");
    cli_text_printf(md, "| level | band | %s |\n|---|---|---|\n",
              local ? "mean value | share of interior times significant" : "value | interval | dependent | resampling p");
    cli_text_printf(html, "<table><tr><th>level</th><th>band</th>%s</tr>\n",
              local ? "<th>mean value</th><th>share of times significant</th>"
                    : "<th>value</th><th>interval</th><th>dependent</th><th>resampling p</th>");
    const cJSON *lv;
    cJSON_ArrayForEach(lv, levels)
    {
        if (local) {
            const cJSON *v = arr_at(lv, "value"), *p = arr_at(lv, "p_fw"), *e;
            double s = 0;
            size_t n = 0, sig = 0, np = 0;
            cJSON_ArrayForEach(e, v)
            {
                double x = cJSON_IsArray(e) ? item(e, cJSON_GetArraySize(e) / 2) : (cJSON_IsNumber(e) ? e->valuedouble : NAN);
                if (isfinite(x)) {
                    s += x;
                    ++n;
                }
            }
            const double edge_m = ceil(num(cJSON_GetObjectItemCaseSensitive(res, "options"), "M"));
            const int ntp = cJSON_GetArraySize(p);
            int ti = 0;
            cJSON_ArrayForEach(e, p)
            {
                double x = cJSON_IsArray(e) ? item(e, cJSON_GetArraySize(e) / 2) : (cJSON_IsNumber(e) ? e->valuedouble : NAN);
                /* the M rows at each edge are masked (docs/calibrated.md §10) */
                const int edge = isfinite(edge_m) && ((double)ti < edge_m || (double)(ntp - 1 - ti) < edge_m);
                ++ti;
                if (!isnan(x) && !edge) {
                    ++np;
                    sig += x < 1 - level;
                }
            }
            char share[32] = "not tested";
            if (np) snprintf(share, sizeof share, "%.2f", (double)sig / (double)np);
            cli_text_printf(md, "| %s | %s | %.3f | %s |\n", str(lv, "level"), str(lv, "band"), n ? s / (double)n : NAN, share);
            cli_text_printf(html, "<tr><td>%s</td><td>%s</td><td>%.3f</td><td>%s</td></tr>\n", str(lv, "level"),
                      str(lv, "band"), n ? s / (double)n : NAN, share);
        } else {
            const cJSON *v = arr_at(lv, "value");
            int mid = cJSON_IsArray(v) ? cJSON_GetArraySize(v) / 2 : 0;
            double x = cJSON_IsArray(v) ? item(v, mid) : num(lv, "value");
            double lo = cJSON_IsArray(v) ? item(arr_at(lv, "lo"), mid) : num(lv, "lo");
            double hi = cJSON_IsArray(v) ? item(arr_at(lv, "up"), mid) : num(lv, "up");
            const cJSON *pb = arr_at(lv, "p_boot");
            double p = cJSON_IsArray(pb) ? item(pb, mid) : (cJSON_IsNumber(pb) ? pb->valuedouble : NAN);
            const cJSON *ym = arr_at(lv, "ymaxr");
            char ps[32] = "not tested";
            if (!isnan(p)) snprintf(ps, sizeof ps, "%.4f", p);
            cli_text_printf(md, "| %s | %s | %.4f | [%.4f, %.4f] | %s | %s |\n", str(lv, "level"), str(lv, "band"), x, lo, hi,
                      cJSON_IsString(ym) ? ym->valuestring : "NA", ps);
            cli_text_printf(html, "<tr><td>%s</td><td>%s</td><td>%.4f</td><td>[%.4f, %.4f]</td><td>%s</td><td>%s</td></tr>\n",
                      str(lv, "level"), str(lv, "band"), x, lo, hi, cJSON_IsString(ym) ? ym->valuestring : "NA", ps);
        }
    }
    cli_text_printf(md, "\n");
    cli_text_printf(html, "</table>\n");
    if (!strcmp(kind, "wmcc") || !strcmp(kind, "wlmcc")) {
        cli_text_printf(md, "(Values at lag 0; every lag is in the CSV.)\n\n");
        cli_text_printf(html, "<p>(Values at lag 0; every lag is in the CSV.)</p>\n");
    }
}

/* ------------------------------------------------------------- tables -- */

static void fmt(char *b, size_t n, double v, int d)
{
    if (isnan(v)) snprintf(b, n, "NA");
    else snprintf(b, n, "%.*f", d, v);
}

/* A bootstrap p-value for the report: "< 1/(B+1)" (as a number) for 0. */
static void fmt_p(char *b, size_t n, double p, double B)
{
    if (isnan(p)) snprintf(b, n, "NA");
    else if (p == 0.0) snprintf(b, n, "< %.2g", 1.0 / (B + 1.0));
    else snprintf(b, n, "%.4f", p);
}

static void cell_name(char *b, size_t n, const cJSON *c)
{
    snprintf(b, n, "(%g, %g, lag %g)", num(c, "alpha_y"), num(c, "alpha_x"), num(c, "lag"));
}

/* The rows of a CQ result that matter: every cell when there are few,
 * otherwise the significant ones and the 10 smallest p-values (p_null when
 * the result has the calibrated test, else p_value). */
static void cq_table(cli_text *md, cli_text *html, const cJSON *res, const char *mark)
{
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(res, "options");
    const cJSON *cells = cJSON_GetObjectItemCaseSensitive(res, "results");
    const int partial = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(opts, "controls")) > 0;
    const int gw = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(opts, "gridwide"));
    const int nul = has_null(opts);
    const char *pkey = nul ? "p_null" : "p_value";
    const double level = num(opts, "level"), B = num(opts, "boot");
    size_t n = (size_t)cJSON_GetArraySize(cells);
    /* order by p-value */
    const cJSON **ord = malloc((n ? n : 1) * sizeof *ord);
    if (!ord) return;
    size_t k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cells) ord[k++] = e;
    for (size_t i = 1; i < n; ++i) {
        const cJSON *t = ord[i];
        size_t j = i;
        while (j > 0 && num(ord[j - 1], pkey) > num(t, pkey)) {
            ord[j] = ord[j - 1];
            --j;
        }
        ord[j] = t;
    }
    if (nul) {
        const char *sch = str(opts, "null_scheme");
        cli_text_printf(md,
                  "Which rule answers which question. **p_null** is the calibrated test of no directional "
                  "predictability in the cell (H0: y_t independent of x_{t-k}%s): |rho_hat| against the law of "
                  "|rho| when the null is imposed (%s: %s), as a two-sided mid-p value; it marks the cells (`*`) "
                  "and orders this table. The **band** and the **p-value** columns are R quantilogram's rule "
                  "(rows resampled jointly, centred at rho_hat): the band is kept as a confidence interval for "
                  "rho (CI = rho_hat + band), but it is not a test of rho = 0 in short samples at tail levels: "
                  "centred at rho_hat, it estimates the spread of rho_hat around a lattice of a few joint hits "
                  "and rejects 4-9 times too often there (docs/simulation.md, docs/calibrated.md). Cells "
                  "flagged *sparse* (expected joint tail hits N min(a_y,1-a_y) min(a_x,1-a_x) < 5, hatched in the "
                  "heat maps) have few attainable p-values: read p_null there with its conservative companion.\n\n",
                  partial ? ", given the controls' hits" : "", sch,
                  !strcmp(sch, "sb")                    ? "y and x resampled by independent stationary bootstraps, each "
                                                          "keeping the sample's hit counts"
                  : !strcmp(sch, "stratified_rotation") ? "x's hits rotated within the strata of the control hits"
                                                        : "every circular shift of x's hits against y's");
        cli_text_printf(html, "<p>p_null: the calibrated test (null imposed by %s, mid-p); band and p-value: R's rule, "
                        "kept as a confidence interval, not a test in the tails of short samples; sparse cells have "
                        "fewer than 5 expected joint tail hits.</p>\n",
                  sch);
    }
    size_t show = n <= 30 ? n : 0;
    if (!show) {
        for (size_t i = 0; i < n; ++i)
            if (num(ord[i], pkey) < 1 - level || i < 10) show = i + 1;
        if (show > 60) show = 60;
    }
    cli_text_printf(md, "%s\n\n", n <= 30 ? "All cells, by p-value:" : "The cells with the smallest p-values:");
    cli_text_printf(md, "| alpha_y | alpha_x | lag | n | rho |%s band | p-value |%s%s\n", partial ? " partial |" : "",
              nul ? " p_null | p_null cons. | sparse | mark |" : " mark |",
              gw ? (nul ? " Romano-Wolf p | Holm p | BH p | RW p_null | Holm p_null | BH p_null |"
                        : " Romano-Wolf p | Holm p | BH p |")
                 : "");
    cli_text_printf(md, "|---|---|---|---|---|%s---|---|%s%s\n", partial ? "---|" : "", nul ? "---|---|---|---|" : "---|",
              gw ? (nul ? "---|---|---|---|---|---|" : "---|---|---|") : "");
    cli_text_printf(html, "<table><tr><th>alpha_y</th><th>alpha_x</th><th>lag</th><th>n</th><th>rho</th>%s<th>band</th>"
                    "<th>p-value</th>%s%s</tr>\n",
              partial ? "<th>partial</th>" : "",
              nul ? "<th>p_null</th><th>p_null cons.</th><th>sparse</th><th>mark</th>" : "<th>mark</th>",
              gw ? (nul ? "<th>Romano-Wolf p</th><th>Holm p</th><th>BH p</th><th>RW p_null</th><th>Holm p_null</th>"
                          "<th>BH p_null</th>"
                        : "<th>Romano-Wolf p</th><th>Holm p</th><th>BH p</th>")
                 : "");
    for (size_t i = 0; i < show; ++i) {
        const cJSON *c = ord[i];
        char r[32], pr[32], bl[32], bh[32], p[32], rw[32], ho[32], bhq[32], pn[32], pc[32], hn[32], bn[32], rn[32];
        fmt_p(rn, sizeof rn, num(c, "p_null_rw"), B);
        fmt_p(hn, sizeof hn, num(c, "p_null_holm"), B);
        fmt_p(bn, sizeof bn, num(c, "p_null_bh"), B);
        fmt(r, sizeof r, num(c, "rho"), 4);
        fmt(pr, sizeof pr, num(c, "rho_partial"), 4);
        fmt(bl, sizeof bl, num(c, "band_lo"), 4);
        fmt(bh, sizeof bh, num(c, "band_hi"), 4);
        fmt_p(p, sizeof p, num(c, "p_value"), B);
        fmt_p(pn, sizeof pn, num(c, "p_null"), B);
        fmt_p(pc, sizeof pc, num(c, "p_null_conservative"), B);
        fmt_p(rw, sizeof rw, num(c, "p_rw"), B);
        fmt_p(ho, sizeof ho, num(c, "p_holm"), B);
        fmt_p(bhq, sizeof bhq, num(c, "p_bh"), B);
        const char *mk = marked(c, mark, level, partial) ? "*" : "";
        const char *sp = num(c, "sparse") == 1.0 ? "yes" : "";
        cli_text_printf(md, "| %g | %g | %g | %g | %s |", num(c, "alpha_y"), num(c, "alpha_x"), num(c, "lag"), num(c, "n"), r);
        if (partial) cli_text_printf(md, " %s |", pr);
        cli_text_printf(md, " [%s, %s] | %s |", bl, bh, p);
        if (nul) cli_text_printf(md, " %s | %s | %s |", pn, pc, sp);
        cli_text_printf(md, " %s |", mk);
        if (gw) cli_text_printf(md, " %s | %s | %s |", rw, ho, bhq);
        if (gw && nul) cli_text_printf(md, " %s | %s | %s |", rn, hn, bn);
        cli_text_printf(md, "\n");
        cli_text_printf(html, "<tr><td>%g</td><td>%g</td><td>%g</td><td>%g</td><td>%s</td>", num(c, "alpha_y"),
                  num(c, "alpha_x"), num(c, "lag"), num(c, "n"), r);
        if (partial) cli_text_printf(html, "<td>%s</td>", pr);
        cli_text_printf(html, "<td>[%s, %s]</td><td>", bl, bh);
        sb_html(html, p);
        cli_text_printf(html, "</td>");
        if (nul) {
            cli_text_printf(html, "<td>");
            sb_html(html, pn);
            cli_text_printf(html, "</td><td>");
            sb_html(html, pc);
            cli_text_printf(html, "</td><td>%s</td>", sp);
        }
        cli_text_printf(html, "<td>%s</td>", mk);
        if (gw) {
            cli_text_printf(html, "<td>");
            sb_html(html, rw);
            cli_text_printf(html, "</td><td>");
            sb_html(html, ho);
            cli_text_printf(html, "</td><td>");
            sb_html(html, bhq);
            cli_text_printf(html, "</td>");
            if (nul) {
                cli_text_printf(html, "<td>");
                sb_html(html, rn);
                cli_text_printf(html, "</td><td>");
                sb_html(html, hn);
                cli_text_printf(html, "</td><td>");
                sb_html(html, bn);
                cli_text_printf(html, "</td>");
            }
        }
        cli_text_printf(html, "</tr>\n");
    }
    cli_text_printf(html, "</table>\n");
    cli_text_printf(md, "\n");
    /* the R rule against the calibrated test */
    if (nul) {
        cli_text kept = {0}, lost = {0};
        size_t nk = 0, nlost = 0, nnew = 0;
        cJSON_ArrayForEach(e, cells)
        {
            if (num(e, "lag") < 1) continue;
            int band = marked(e, "band", level, partial), cal = marked(e, "null", level, partial);
            char nm[64];
            cell_name(nm, sizeof nm, e);
            if (band && cal) {
                cli_text_printf(&kept, "%s%s", nk ? ", " : "", nm);
                ++nk;
            } else if (band) {
                cli_text_printf(&lost, "%s%s%s", nlost ? ", " : "", nm, num(e, "sparse") == 1.0 ? " (sparse)" : "");
                ++nlost;
            } else if (cal) {
                ++nnew;
            }
        }
        cli_text_printf(md, "R's band rule marks %zu cells (lag >= 1). Of these, %zu survive the calibrated test%s%s%s and "
                      "%zu do not%s%s%s. The calibrated test marks %zu cells the band rule does not.\n\n",
                  nk + nlost, nk, nk ? ": " : "", nk ? kept.p : "", nk ? "" : "", nlost, nlost ? ": " : "",
                  nlost ? lost.p : "", "", nnew);
        cli_text_printf(html, "<p>R's band rule marks %zu cells (lag &gt;= 1); %zu survive the calibrated test%s", nk + nlost,
                  nk, nk ? ": " : "");
        if (nk) sb_html(html, kept.p);
        cli_text_printf(html, "; %zu do not%s", nlost, nlost ? ": " : "");
        if (nlost) sb_html(html, lost.p);
        cli_text_printf(html, ". The calibrated test marks %zu cells the band rule does not.</p>\n", nnew);
        free(kept.p);
        free(lost.p);
    }
    free(ord);
    /* Q tests */
    const cJSON *qt = cJSON_GetObjectItemCaseSensitive(res, "qtests");
    if (cJSON_GetArraySize(qt) > 0) {
        size_t rej = 0, rejn = 0, tot = 0;
        cJSON_ArrayForEach(e, qt)
        {
            ++tot;
            rej += num(e, "q_lb") > num(e, "cv_lb");
            rejn += num(e, "p_null") < 1 - level;
        }
        if (nul) {
            cli_text_printf(md, "Ljung-Box tests over lags 1..p: %zu of %zu (cell, p) tests reject at %.0f%% by the "
                          "calibrated test (p_null), %zu by R's critical values.\n\n",
                      rejn, tot, 100 * level, rej);
            cli_text_printf(html, "<p>Ljung-Box tests over lags 1..p: %zu of %zu (cell, p) tests reject at %.0f%% by the "
                            "calibrated test (p_null), %zu by R's critical values.</p>\n",
                      rejn, tot, 100 * level, rej);
        } else {
            cli_text_printf(md, "Ljung-Box tests over lags 1..p: %zu of %zu (cell, p) tests reject at %.0f%%.\n\n", rej, tot,
                      100 * level);
            cli_text_printf(html, "<p>Ljung-Box tests over lags 1..p: %zu of %zu (cell, p) tests reject at %.0f%%.</p>\n", rej,
                      tot, 100 * level);
        }
    }
    const cJSON *sq = cJSON_GetObjectItemCaseSensitive(res, "supq");
    if (cJSON_GetArraySize(sq) > 0) {
        cli_text_printf(md, "sup-Q over the quantile grid (Ljung-Box): ");
        cli_text_printf(html, "<p>sup-Q over the quantile grid (Ljung-Box): ");
        cJSON_ArrayForEach(e, sq)
        {
            char pv[32], pn[32];
            fmt_p(pv, sizeof pv, num(e, "p_lb"), B);
            fmt_p(pn, sizeof pn, num(e, "p_null_lb"), B);
            cli_text_printf(md, "p = %g: %.3f (critical %.3f, p-value %s%s%s)%s", num(e, "p"), num(e, "q_lb"),
                      num(e, "cv_lb"), pv, nul ? ", calibrated p_null " : "", nul ? pn : "", e->next ? "; " : ".\n\n");
            cli_text_printf(html, "p = %g: %.3f (critical %.3f, p-value ", num(e, "p"), num(e, "q_lb"), num(e, "cv_lb"));
            sb_html(html, pv);
            if (nul) {
                cli_text_printf(html, ", calibrated p_null ");
                sb_html(html, pn);
            }
            cli_text_printf(html, ")%s", e->next ? "; " : ".</p>\n");
        }
    }
}

static void blocklen_table(cli_text *md, cli_text *html, const cJSON *res)
{
    cli_text_printf(md, "| column | n | b_SB | b_CB |\n|---|---|---|---|\n");
    cli_text_printf(html, "<table><tr><th>column</th><th>n</th><th>b_SB</th><th>b_CB</th></tr>\n");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "results"))
    {
        cli_text_printf(md, "| %s | %g | %.4f | %.4f |\n", str(e, "column"), num(e, "n"), num(e, "b_sb"), num(e, "b_cb"));
        cli_text_printf(html, "<tr><td>");
        sb_html(html, str(e, "column"));
        cli_text_printf(html, "</td><td>%g</td><td>%.4f</td><td>%.4f</td></tr>\n", num(e, "n"), num(e, "b_sb"),
                  num(e, "b_cb"));
    }
    cli_text_printf(md, "\nImplied gamma = min(1, mean(1/b_SB)) = %.6g.\n\n", num(res, "gamma"));
    cli_text_printf(html, "</table>\n<p>Implied gamma = min(1, mean(1/b_SB)) = %.6g.</p>\n", num(res, "gamma"));
}

static void simulate_table(cli_text *md, cli_text *html, const cJSON *res)
{
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(res, "options");
    const cJSON *dgp = cJSON_GetObjectItemCaseSensitive(opts, "dgp");
    cli_text_printf(md, "Monte Carlo: DGP `%s`, T = %g, R = %g replications, B = %g; empirical rejection rates at %.0f%% "
                  "(Monte Carlo SE in brackets).\n\n",
              str(dgp, "name"), num(opts, "T"), num(opts, "reps"), num(opts, "boot"), 100 * (1 - num(opts, "level")));
    cli_text_printf(html, "<p>Monte Carlo: DGP <code>%s</code>, T = %g, R = %g replications, B = %g; empirical rejection "
                    "rates at %.0f%% (Monte Carlo SE in brackets).</p>\n",
              str(dgp, "name"), num(opts, "T"), num(opts, "reps"), num(opts, "boot"), 100 * (1 - num(opts, "level")));
    cli_text_printf(md, "| alpha_y | alpha_x | lag | band rule | p-value rule | mean rho |\n|---|---|---|---|---|---|\n");
    cli_text_printf(html, "<table><tr><th>alpha_y</th><th>alpha_x</th><th>lag</th><th>band rule</th><th>p-value rule</th>"
                    "<th>mean rho</th></tr>\n");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(res, "cells"))
    {
        cli_text_printf(md, "| %g | %g | %g | %.3f (%.3f) | %.3f (%.3f) | %.4f |\n", num(c, "alpha_y"), num(c, "alpha_x"),
                  num(c, "lag"), num(c, "rate_band"), num(c, "se_band"), num(c, "rate_pval"), num(c, "se_pval"),
                  num(c, "rho_mean"));
        cli_text_printf(html, "<tr><td>%g</td><td>%g</td><td>%g</td><td>%.3f (%.3f)</td><td>%.3f (%.3f)</td><td>%.4f</td></tr>\n",
                  num(c, "alpha_y"), num(c, "alpha_x"), num(c, "lag"), num(c, "rate_band"), num(c, "se_band"),
                  num(c, "rate_pval"), num(c, "se_pval"), num(c, "rho_mean"));
    }
    cli_text_printf(md, "\n");
    cli_text_printf(html, "</table>\n");
}

/* ------------------------------------------------------------- report -- */

static cqb_status write_file(const char *path, const cli_text *b, cqb_error *err)
{
    if (b->bad) return cqb_error_set(err, CQB_ENOMEM, "out of memory writing %s", path);
    cli_out o;
    cqb_status st = cli_out_open(&o, path, "report", err);
    if (st != CQB_OK) return st;
    fwrite(b->p, 1, b->len, o.f);
    if ((st = cli_out_finish(&o, err)) != CQB_OK || (st = cli_out_commit(&o, err)) != CQB_OK) {
        cli_out_abort(&o);
        return st;
    }
    return CQB_OK;
}

cqb_status report_write(const char *outdir, cJSON *results, int figures, cqb_error *err)
{
    cJSON *ans = cJSON_GetObjectItemCaseSensitive(results, "analyses");
    cJSON *entry;
    cqb_status st = CQB_OK;
    cJSON_ArrayForEach(entry, ans)
    {
        const char *k = str(entry, "kind");
        if (!figures) {
            if (!cJSON_GetObjectItemCaseSensitive(entry, "figures") && !cJSON_AddArrayToObject(entry, "figures"))
                return cqb_error_set(err, CQB_ENOMEM, "out of memory");
        } else if (!strcmp(k, "cq")) st = cq_figures(outdir, entry, err);
        else if (strcmp(k, "blocklen") && strcmp(k, "simulate")) st = wavelet_figures(outdir, entry, err);
        if (st != CQB_OK) return st;
    }
    cli_text md = {0}, html = {0};
    const char *title = str(results, "title");
    if (!*title) title = str(results, "study");
    cli_text_printf(&md, "# %s\n\n", title);
    cli_text_printf(&html, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    sb_html(&html, title);
    cli_text_printf(&html, "</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;"
                     "line-height:1.45;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:90%%}"
                     "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}th{background:#eee}"
                     "figure{margin:1.5em 0}figure img{max-width:100%%;border:1px solid #ddd}"
                     "figcaption{font-size:90%%;color:#444}code{background:#f4f4f4;padding:0 3px}</style>\n"
                     "</head><body>\n<h1>");
    sb_html(&html, title);
    cli_text_printf(&html, "</h1>\n");
    const char *desc = str(results, "description");
    if (*desc) {
        cli_text_printf(&md, "%s\n\n", desc);
        cli_text_printf(&html, "<p>");
        sb_html(&html, desc);
        cli_text_printf(&html, "</p>\n");
    }
    cli_text_printf(&md, "Produced by cqboot %s (`cqboot run`). Data sets:\n\n", str(results, "version"));
    cli_text_printf(&html, "<p>Produced by cqboot %s (<code>cqboot run</code>). Data sets:</p>\n<ul>\n", str(results, "version"));
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(results, "datasets"))
    {
        cli_text_printf(&md, "- `%s`: `%s` (SHA-256 %.16s…)\n", d->string, str(d, "file"), str(d, "sha256"));
        cli_text_printf(&html, "<li><code>");
        sb_html(&html, d->string);
        cli_text_printf(&html, "</code>: <code>");
        sb_html(&html, str(d, "file"));
        cli_text_printf(&html, "</code> (SHA-256 %.16s…)</li>\n", str(d, "sha256"));
    }
    cli_text_printf(&md, "\n");
    cli_text_printf(&html, "</ul>\n");
    cJSON_ArrayForEach(entry, ans)
    {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(entry, "result");
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(res, "input");
        const cJSON *opts = cJSON_GetObjectItemCaseSensitive(res, "options");
        cli_text_printf(&md, "## %s (%s)\n\n", str(entry, "name"), str(entry, "kind"));
        cli_text_printf(&html, "<h2>");
        sb_html(&html, str(entry, "name"));
        cli_text_printf(&html, " (%s)</h2>\n", str(entry, "kind"));
        char what[512];
        if (!strcmp(str(entry, "kind"), "cq") && pair_series(res)) {
            snprintf(what, sizeof what, "CQ of %g directed pairs of %d series, %s .. %s (T = %g), B = %g, seed %g, quantile %s, backend %s.",
                     num(opts, "pairs"), cJSON_GetArraySize(pair_series(res)), str(in, "first"), str(in, "last"),
                     num(in, "rows"), num(opts, "boot"), num(opts, "seed"), str(opts, "quantile"), str(opts, "backend"));
        } else if (!strcmp(str(entry, "kind"), "cq")) {
            snprintf(what, sizeof what, "%s%s on lagged %s, %s .. %s (T = %g), B = %g, seed %g, quantile %s, backend %s.",
                     cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(opts, "controls")) ? "Partial CQ of " : "CQ of ",
                     str(opts, "y"), str(opts, "x"), str(in, "first"), str(in, "last"), num(in, "rows"),
                     num(opts, "boot"), num(opts, "seed"), str(opts, "quantile"), str(opts, "backend"));
        } else if (!strcmp(str(entry, "kind"), "simulate")) {
            snprintf(what, sizeof what, "Monte Carlo size and power of the bootstrap tests.");
        } else if (!strcmp(str(entry, "kind"), "blocklen")) {
            snprintf(what, sizeof what, "Politis-White block lengths, %s .. %s.", str(in, "first"), str(in, "last"));
        } else {
            snprintf(what, sizeof what, "%s of %d series, %s .. %s (T = %g), %s, J = %g, %s boundary, %s mode%s%s.",
                     str(entry, "kind"), cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(in, "columns")),
                     str(in, "first"), str(in, "last"), num(in, "rows"), str(opts, "wavelet"), num(opts, "levels"),
                     str(opts, "boundary"), *str(opts, "mode") ? str(opts, "mode") : "-",
                     num(opts, "boot") > 0 ? "; resampling null: " : "", num(opts, "boot") > 0 ? str(opts, "null") : "");
        }
        cli_text_printf(&md, "%s Results: `%s`.\n\n", what, str(entry, "csv"));
        cli_text_printf(&html, "<p>");
        sb_html(&html, what);
        cli_text_printf(&html, " Results: <a href=\"%s\">%s</a>.</p>\n", str(entry, "csv"), str(entry, "csv"));
        if (!strcmp(str(entry, "kind"), "cq") && pair_series(res))
            pair_table(&md, &html, res, cq_mark(cJSON_GetObjectItemCaseSensitive(entry, "spec"), opts));
        else if (!strcmp(str(entry, "kind"), "cq"))
            cq_table(&md, &html, res, cq_mark(cJSON_GetObjectItemCaseSensitive(entry, "spec"), opts));
        else if (!strcmp(str(entry, "kind"), "blocklen")) blocklen_table(&md, &html, res);
        else if (!strcmp(str(entry, "kind"), "simulate")) simulate_table(&md, &html, res);
        else wavelet_table(&md, &html, res, str(entry, "kind"));
        const cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(entry, "figures"))
        {
            cli_text_printf(&md, "![%s](%s.png)\n\n*%s* ([SVG](%s.svg))\n\n", str(f, "caption"), str(f, "file"),
                      str(f, "caption"), str(f, "file"));
            cli_text_printf(&html, "<figure><img src=\"%s.svg\" alt=\"", str(f, "file"));
            sb_html(&html, str(f, "caption"));
            cli_text_printf(&html, "\"><figcaption>");
            sb_html(&html, str(f, "caption"));
            cli_text_printf(&html, " (<a href=\"%s.png\">PNG</a>)</figcaption></figure>\n", str(f, "file"));
        }
    }
    cli_text_printf(&html, "</body></html>\n");
    char path[1100];
    snprintf(path, sizeof path, "%s/report.md", outdir);
    st = write_file(path, &md, err);
    if (st == CQB_OK) {
        snprintf(path, sizeof path, "%s/index.html", outdir);
        st = write_file(path, &html, err);
    }
    free(md.p);
    free(html.p);
    return st;
}
