/* plot.c — the five figure types of cqboot/plot.h, drawn with the kit of
 * plot_internal.h and written by pl_render() as PNG + SVG. */
#include "plot_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ========================================================================= */
/* Shared checks and helpers                                                  */
/* ========================================================================= */

static cqb_status check_xs(const char *what, const double *x, size_t n, cqb_error *err)
{
    if (!x) return cqb_error_set(err, CQB_EUSAGE, "%s: x is NULL", what);
    for (size_t i = 0; i < n; ++i) {
        if (!isfinite(x[i])) return cqb_error_set(err, CQB_EUSAGE, "%s: x[%zu] is not finite", what, i);
        if (i && !(x[i] > x[i - 1]))
            return cqb_error_set(err, CQB_EUSAGE, "%s: x must be strictly ascending (x[%zu])", what, i);
    }
    return CQB_OK;
}

static cqb_status check_grid(const char *what, size_t a, size_t b, cqb_error *err)
{
    if (a == 0 || b == 0) return cqb_error_set(err, CQB_EUSAGE, "%s: empty grid (%zu x %zu)", what, a, b);
    if (a > SIZE_MAX / 8 / b) return cqb_error_set(err, CQB_EUSAGE, "%s: grid too large", what);
    return CQB_OK;
}

static void range_add(double *lo, double *hi, const double *v, size_t n)
{
    for (size_t i = 0; v && i < n; ++i)
        if (isfinite(v[i])) {
            if (v[i] < *lo) *lo = v[i];
            if (v[i] > *hi) *hi = v[i];
        }
}

/* y axis from the data range (plus 0), padded by 4% and rounded out to ticks,
 * unless [ymin, ymax] is given. */
static void y_axis(pl_axis *ya, double lo, double hi, double ymin, double ymax, double plot_h, double s)
{
    int target = (int)(plot_h / (55.0 * s));
    if (target < 4) target = 4;
    if (target > 12) target = 12;
    if (isfinite(ymin) && isfinite(ymax) && ymin < ymax) {
        pl_axis_numeric(ya, ymin, ymax, target, 0, 0);
        return;
    }
    if (lo > 0.0) lo = 0.0;
    if (hi < 0.0) hi = 0.0;
    pl_axis_numeric(ya, lo, hi, target, 1, 0);
    /* A little air beyond the outer ticks, so marks at the ends stay clear
     * of the frame. */
    double pad = 0.03 * (ya->hi - ya->lo);
    ya->lo -= pad;
    ya->hi += pad;
}

/* x axis over [x0 - d/2, x_{n-1} + d/2], d the smallest spacing, with as many
 * ticks as fit; integer steps when every x is an integer. */
static void x_axis(pl_axis *xa, const double *x, size_t n, double plot_w, double s, double *spacing)
{
    double d = 1.0;
    int integer = 1;
    for (size_t i = 0; i < n; ++i) {
        if (x[i] != floor(x[i])) integer = 0;
        if (i && (i == 1 || x[i] - x[i - 1] < d)) d = x[i] - x[i - 1];
    }
    *spacing = d;
    double lo = x[0] - 0.5 * d, hi = x[n - 1] + 0.5 * d;
    int target = (int)(plot_w / (55.0 * s));
    if (target < 3) target = 3;
    pl_axis_numeric(xa, lo, hi, target, 0, integer);
    xa->lo = lo;
    xa->hi = hi;
}

static const char *or_default(const char *s, const char *def) { return s ? s : def; }

/* Upper bound of the y tick label width for a numeric axis over [lo, hi]. */
static double ytick_width_guess(cairo_t *cr, const pl_style *st, double lo, double hi, double ymin,
                                double ymax, double H)
{
    pl_axis tmp;
    y_axis(&tmp, lo, hi, ymin, ymax, 0.7 * H, st->s);
    return pl_axis_maxw(cr, st->tick, &tmp);
}

/* ========================================================================= */
/* 1. Heat map                                                                */
/* ========================================================================= */

typedef struct heat_ctx {
    const cqb_fig_opts *o;
    const cqb_fig_heat *h;
    pl_cmap cm;
    int labels, any_nan, any_mark, any_hatch;
} heat_ctx;

static cqb_status draw_heat(cairo_t *cr, double W, double H, const void *vctx, cqb_error *err)
{
    const heat_ctx *c = vctx;
    const cqb_fig_heat *h = c->h;
    (void)err;
    pl_page pg;
    pl_page_init(&pg, cr, W, H, c->o);
    pl_page_background(&pg);
    const pl_style *st = &pg.st;
    double s = st->s;
    if (c->any_mark) pl_legend_add(&pg, PL_LEG_CELLMARK, 0, or_default(h->mark_label, "significant"));
    if (c->any_nan) pl_legend_add(&pg, PL_LEG_HATCH, 0, "missing (NaN)");
    if (c->any_hatch) pl_legend_add(&pg, PL_LEG_HATCH, 0, or_default(h->hatch_label, "sparse"));

    pl_axis ca, xa, ya;
    pl_cbar_axis(&ca, &c->cm);
    double rw = pl_labels_maxw(cr, st->tick, h->nrow, h->row_labels);
    double cw = pl_labels_maxw(cr, st->tick, h->ncol, h->col_labels);
    pl_page_layout(&pg, rw, 0.5 * cw, pl_axis_maxw(cr, st->tick, &ca));
    pl_axis_categorical(&xa, h->ncol, h->col_labels, pl_cat_step(h->ncol, pg.x1 - pg.x0, cw));
    pl_axis_categorical(&ya, h->nrow, h->row_labels,
                        pl_cat_step(h->nrow, pg.y1 - pg.y0, 0.9 * st->tick.size));

    double cellw = (pg.x1 - pg.x0) / (double)h->ncol, cellh = (pg.y1 - pg.y0) / (double)h->nrow;
    int digits = h->digits > 0 ? h->digits : 2;
    /* Value labels: the widest label must fit the cell. */
    pl_font vf = {fmin(14.0 * s, 0.42 * cellh), 0};
    if (c->labels) {
        char buf[48];
        pl_fmt_num(buf, sizeof buf, -c->cm.hi, digits);
        double w = pl_text_width(cr, vf, buf);
        if (w > 0.86 * cellw) vf.size *= 0.86 * cellw / w;
    }
    double ms = fmin(s, fmin(cellw, cellh) / 14.0); /* mark scale */

    /* Cells: fills, then hatching of missing cells. */
    cairo_save(cr);
    for (size_t r = 0; r < h->nrow; ++r)
        for (size_t k = 0; k < h->ncol; ++k) {
            double xl = round(pg.x0 + (double)k * cellw), xr = round(pg.x0 + (double)(k + 1) * cellw);
            double yb = round(pg.y1 - (double)r * cellh), yt = round(pg.y1 - (double)(r + 1) * cellh);
            double v = h->z[r * h->ncol + k], rgb[3] = {1, 1, 1};
            if (isfinite(v)) pl_cmap_color(&c->cm, v, rgb);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, xl, yt, xr - xl, yb - yt);
            cairo_fill(cr);
        }
    if (c->any_nan) {
        cairo_save(cr);
        cairo_new_path(cr);
        for (size_t r = 0; r < h->nrow; ++r)
            for (size_t k = 0; k < h->ncol; ++k)
                if (!isfinite(h->z[r * h->ncol + k])) {
                    double xl = round(pg.x0 + (double)k * cellw), xr = round(pg.x0 + (double)(k + 1) * cellw);
                    double yb = round(pg.y1 - (double)r * cellh), yt = round(pg.y1 - (double)(r + 1) * cellh);
                    cairo_rectangle(cr, xl, yt, xr - xl, yb - yt);
                }
        cairo_clip(cr);
        pl_hatch(cr, pg.x0, pg.y0, pg.x1, pg.y1, s);
        cairo_restore(cr);
    }
    if (c->any_hatch) {
        cairo_save(cr);
        cairo_new_path(cr);
        for (size_t r = 0; r < h->nrow; ++r)
            for (size_t k = 0; k < h->ncol; ++k)
                if (h->hatch[r * h->ncol + k] && isfinite(h->z[r * h->ncol + k])) {
                    double xl = round(pg.x0 + (double)k * cellw), xr = round(pg.x0 + (double)(k + 1) * cellw);
                    double yb = round(pg.y1 - (double)r * cellh), yt = round(pg.y1 - (double)(r + 1) * cellh);
                    cairo_rectangle(cr, xl, yt, xr - xl, yb - yt);
                }
        cairo_clip(cr);
        pl_hatch(cr, pg.x0, pg.y0, pg.x1, pg.y1, s);
        cairo_restore(cr);
    }
    /* Thin white separators when cells are large enough to show them. */
    if (cellw >= 12.0 * s && cellh >= 12.0 * s) {
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, fmax(1.0, 0.8 * s));
        for (size_t k = 1; k < h->ncol; ++k) {
            double x = round(pg.x0 + (double)k * cellw);
            cairo_move_to(cr, x, pg.y0);
            cairo_line_to(cr, x, pg.y1);
        }
        for (size_t r = 1; r < h->nrow; ++r) {
            double y = round(pg.y1 - (double)r * cellh);
            cairo_move_to(cr, pg.x0, y);
            cairo_line_to(cr, pg.x1, y);
        }
        cairo_stroke(cr);
    }
    /* Labels and marks. */
    for (size_t r = 0; r < h->nrow; ++r)
        for (size_t k = 0; k < h->ncol; ++k) {
            double xl = round(pg.x0 + (double)k * cellw), xr = round(pg.x0 + (double)(k + 1) * cellw);
            double yb = round(pg.y1 - (double)r * cellh), yt = round(pg.y1 - (double)(r + 1) * cellh);
            double v = h->z[r * h->ncol + k], rgb[3];
            int marked = h->mark && h->mark[r * h->ncol + k];
            if (c->labels && isfinite(v)) {
                char buf[48];
                double L = pl_cmap_color(&c->cm, v, rgb);
                pl_fmt_num(buf, sizeof buf, v, digits);
                if (L < 55.0) cairo_set_source_rgb(cr, 1, 1, 1);
                else cairo_set_source_rgb(cr, 0, 0, 0);
                pl_font f = vf;
                f.bold = marked;
                pl_text(cr, f, 0.5 * (xl + xr), 0.5 * (yt + yb), PL_CENTER, PL_MIDDLE, 0.0, buf);
            }
            if (marked) {
                pl_bold_rect(cr, xl, yt, xr - xl, yb - yt, ms);
                double dr = fmin(4.5 * s, 0.14 * fmin(xr - xl, yb - yt));
                if (c->labels) {
                    double off = 3.0 * ms + 2.5 * ms + dr;
                    pl_dot(cr, xr - off, yt + off, dr, ms);
                } else {
                    pl_dot(cr, 0.5 * (xl + xr), 0.5 * (yt + yb), dr, ms);
                }
            }
        }
    cairo_restore(cr);

    pl_page_axes(&pg, &xa, &ya);
    pl_colorbar(&pg, &c->cm, &ca);
    pl_page_texts(&pg);
    return CQB_OK;
}

cqb_status cqb_plot_heatmap(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_heat *h,
                            cqb_error *err)
{
    if (!h || !h->z) return cqb_error_set(err, CQB_EUSAGE, "heat map: no data");
    cqb_status st = check_grid("heat map", h->nrow, h->ncol, err);
    if (st != CQB_OK) return st;
    if (h->digits < 0 || h->digits > 6)
        return cqb_error_set(err, CQB_EUSAGE, "heat map: digits %d must be 0..6", h->digits);
    heat_ctx *c = calloc(1, sizeof *c);
    if (!c) return cqb_error_set(err, CQB_ENOMEM, "heat map: out of memory");
    c->o = o;
    c->h = h;
    size_t n = h->nrow * h->ncol;
    pl_cmap_init(&c->cm, h->cmap, h->zmin, h->zmax, h->z, n);
    c->labels = h->value_labels > 0 || (h->value_labels == 0 && h->nrow <= 10 && h->ncol <= 10);
    for (size_t i = 0; i < n; ++i) {
        if (!isfinite(h->z[i])) c->any_nan = 1;
        if (h->mark && h->mark[i]) c->any_mark = 1;
        if (h->hatch && h->hatch[i] && isfinite(h->z[i])) c->any_hatch = 1;
    }
    st = pl_render(path_noext, o, draw_heat, c, err);
    free(c);
    return st;
}

/* ========================================================================= */
/* 2. Values against x with a band ribbon                                     */
/* ========================================================================= */

typedef struct band_ctx {
    const cqb_fig_opts *o;
    const cqb_fig_band *b;
    const unsigned char *mark; /* resolved flags (n) */
    int any_mark;
    double lo, hi;             /* data range */
} band_ctx;

static cqb_status draw_band(cairo_t *cr, double W, double H, const void *vctx, cqb_error *err)
{
    const band_ctx *c = vctx;
    const cqb_fig_band *b = c->b;
    (void)err;
    pl_page pg;
    pl_page_init(&pg, cr, W, H, c->o);
    pl_page_background(&pg);
    const pl_style *st = &pg.st;
    double s = st->s;
    int bars = b->style != CQB_STYLE_POINTS;
    pl_legend_add(&pg, bars ? PL_LEG_BAR : PL_LEG_POINT, 0, or_default(b->y_name, "estimate"));
    if (b->band_lo) pl_legend_add(&pg, PL_LEG_RIBBON, 0, or_default(b->band_name, "band"));
    if (b->ci_lo) pl_legend_add(&pg, PL_LEG_WHISKER, 0, or_default(b->ci_name, "interval"));
    if (c->any_mark)
        pl_legend_add(&pg, bars ? PL_LEG_BARMARK : PL_LEG_RING, 0,
                      or_default(b->mark_label, "outside the band"));

    pl_axis xa, ya;
    pl_page_layout(&pg, ytick_width_guess(cr, st, c->lo, c->hi, b->ymin, b->ymax, H), 20.0 * s, -1.0);
    double sp;
    x_axis(&xa, b->x, b->n, pg.x1 - pg.x0, s, &sp);
    y_axis(&ya, c->lo, c->hi, b->ymin, b->ymax, pg.y1 - pg.y0, s);
    double pxsp = sp / (xa.hi - xa.lo) * (pg.x1 - pg.x0); /* pixels between neighbours */

    pl_page_grid(&pg, &ya);
    cairo_save(cr);
    cairo_rectangle(cr, pg.x0, pg.y0, pg.x1 - pg.x0, pg.y1 - pg.y0);
    cairo_clip(cr);
    /* Ribbon: a staircase over each run of finite band values. */
    if (b->band_lo) {
        size_t i = 0;
        while (i < b->n) {
            if (!isfinite(b->band_lo[i]) || !isfinite(b->band_hi[i])) {
                ++i;
                continue;
            }
            size_t j = i;
            while (j < b->n && isfinite(b->band_lo[j]) && isfinite(b->band_hi[j])) ++j;
            cairo_new_path(cr);
            for (size_t k = i; k < j; ++k) {
                double xl = k == i ? b->x[k] - 0.5 * sp : 0.5 * (b->x[k - 1] + b->x[k]);
                double xr = k + 1 == j ? b->x[k] + 0.5 * sp : 0.5 * (b->x[k] + b->x[k + 1]);
                double y = pl_ymap(&pg, &ya, b->band_hi[k]);
                if (k == i) cairo_move_to(cr, pl_xmap(&pg, &xa, xl), y);
                else cairo_line_to(cr, pl_xmap(&pg, &xa, xl), y);
                cairo_line_to(cr, pl_xmap(&pg, &xa, xr), y);
            }
            for (size_t k = j; k-- > i;) {
                double xl = k == i ? b->x[k] - 0.5 * sp : 0.5 * (b->x[k - 1] + b->x[k]);
                double xr = k + 1 == j ? b->x[k] + 0.5 * sp : 0.5 * (b->x[k] + b->x[k + 1]);
                double y = pl_ymap(&pg, &ya, b->band_lo[k]);
                cairo_line_to(cr, pl_xmap(&pg, &xa, xr), y);
                cairo_line_to(cr, pl_xmap(&pg, &xa, xl), y);
            }
            cairo_close_path(cr);
            cairo_set_source_rgb(cr, 0.80, 0.80, 0.80);
            cairo_fill_preserve(cr);
            cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
            cairo_set_line_width(cr, 0.9 * s);
            cairo_stroke(cr);
            i = j;
        }
    }
    /* Zero line. */
    if (ya.lo < 0.0 && ya.hi > 0.0) {
        double y0 = pl_ymap(&pg, &ya, 0.0);
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        cairo_set_line_width(cr, 1.2 * s);
        cairo_move_to(cr, pg.x0, y0);
        cairo_line_to(cr, pg.x1, y0);
        cairo_stroke(cr);
    }
    double rgb[3];
    pl_series_color(0, rgb);
    double bw = fmin(0.6 * pxsp, 60.0 * s), yzero = pl_ymap(&pg, &ya, 0.0);
    if (bars)
        for (size_t i = 0; i < b->n; ++i) {
            if (!isfinite(b->y[i])) continue;
            double xc = pl_xmap(&pg, &xa, b->x[i]), yv = pl_ymap(&pg, &ya, b->y[i]);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, xc - 0.5 * bw, fmin(yv, yzero), bw, fabs(yv - yzero));
            cairo_fill(cr);
        }
    /* Whiskers. */
    if (b->ci_lo) {
        double cap = fmin(0.25 * pxsp, 8.0 * s);
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        cairo_set_line_width(cr, 1.4 * s);
        for (size_t i = 0; i < b->n; ++i) {
            double xc = pl_xmap(&pg, &xa, b->x[i]);
            double lo = b->ci_lo[i], hi = b->ci_hi[i];
            if (isfinite(lo) && isfinite(hi)) {
                cairo_move_to(cr, xc, pl_ymap(&pg, &ya, lo));
                cairo_line_to(cr, xc, pl_ymap(&pg, &ya, hi));
            }
            if (isfinite(lo)) {
                cairo_move_to(cr, xc - cap, pl_ymap(&pg, &ya, lo));
                cairo_line_to(cr, xc + cap, pl_ymap(&pg, &ya, lo));
            }
            if (isfinite(hi)) {
                cairo_move_to(cr, xc - cap, pl_ymap(&pg, &ya, hi));
                cairo_line_to(cr, xc + cap, pl_ymap(&pg, &ya, hi));
            }
        }
        cairo_stroke(cr);
    }
    /* Points and marks. */
    for (size_t i = 0; i < b->n; ++i) {
        if (!isfinite(b->y[i])) continue;
        double xc = pl_xmap(&pg, &xa, b->x[i]), yv = pl_ymap(&pg, &ya, b->y[i]);
        int m = c->mark && c->mark[i];
        if (bars) {
            if (m) {
                double top = fmin(yv, yzero), h = fabs(yv - yzero);
                if (h >= 2.0) pl_bold_rect(cr, xc - 0.5 * bw, top, bw, h, fmin(s, 0.1 * bw));
                /* The dot sits beyond the bar tip and beyond its whisker. */
                double dr = fmin(4.0 * s, 0.2 * bw), off = dr + 5.0 * s, tip = yv;
                int up = b->y[i] >= 0.0;
                if (b->ci_lo) {
                    double w = up ? b->ci_hi[i] : b->ci_lo[i];
                    if (isfinite(w)) {
                        double yw = pl_ymap(&pg, &ya, w);
                        tip = up ? fmin(tip, yw) : fmax(tip, yw);
                    }
                }
                pl_dot(cr, xc, up ? tip - off : tip + off, dr, s);
            }
        } else {
            pl_marker(cr, 0, xc, yv, 5.0 * s, 1.6 * s);
            if (m) pl_ring(cr, xc, yv, 9.5 * s, s);
        }
    }
    cairo_restore(cr);
    pl_page_axes(&pg, &xa, &ya);
    pl_page_texts(&pg);
    return CQB_OK;
}

cqb_status cqb_plot_series_band(const char *path_noext, const cqb_fig_opts *o,
                                const cqb_fig_band *b, cqb_error *err)
{
    if (!b || b->n == 0 || !b->y) return cqb_error_set(err, CQB_EUSAGE, "band plot: no data");
    cqb_status st = check_xs("band plot", b->x, b->n, err);
    if (st != CQB_OK) return st;
    if (!b->band_lo != !b->band_hi)
        return cqb_error_set(err, CQB_EUSAGE, "band plot: give both band_lo and band_hi or neither");
    if (!b->ci_lo != !b->ci_hi)
        return cqb_error_set(err, CQB_EUSAGE, "band plot: give both ci_lo and ci_hi or neither");
    if (b->style != CQB_STYLE_BARS && b->style != CQB_STYLE_POINTS)
        return cqb_error_set(err, CQB_EUSAGE, "band plot: unknown style %d", (int)b->style);
    unsigned char *mk = NULL;
    band_ctx c = {o, b, b->mark, 0, INFINITY, -INFINITY};
    if (!b->mark && b->band_lo) {
        mk = calloc(b->n, 1);
        if (!mk) return cqb_error_set(err, CQB_ENOMEM, "band plot: out of memory");
        for (size_t i = 0; i < b->n; ++i)
            mk[i] = isfinite(b->y[i]) && isfinite(b->band_lo[i]) && isfinite(b->band_hi[i]) &&
                    (b->y[i] < b->band_lo[i] || b->y[i] > b->band_hi[i]);
        c.mark = mk;
    }
    for (size_t i = 0; c.mark && i < b->n; ++i)
        if (c.mark[i] && isfinite(b->y[i])) c.any_mark = 1;
    range_add(&c.lo, &c.hi, b->y, b->n);
    range_add(&c.lo, &c.hi, b->band_lo, b->n);
    range_add(&c.lo, &c.hi, b->band_hi, b->n);
    range_add(&c.lo, &c.hi, b->ci_lo, b->n);
    range_add(&c.lo, &c.hi, b->ci_hi, b->n);
    if (!(c.lo <= c.hi)) c.lo = c.hi = 0.0;
    st = pl_render(path_noext, o, draw_band, &c, err);
    free(mk);
    return st;
}

/* ========================================================================= */
/* 3. Several series against x                                                */
/* ========================================================================= */

typedef struct lines_ctx {
    const cqb_fig_opts *o;
    const cqb_fig_lines *l;
    int any_mark;
    double lo, hi;
} lines_ctx;

static cqb_status draw_lines(cairo_t *cr, double W, double H, const void *vctx, cqb_error *err)
{
    const lines_ctx *c = vctx;
    const cqb_fig_lines *l = c->l;
    (void)err;
    pl_page pg;
    pl_page_init(&pg, cr, W, H, c->o);
    pl_page_background(&pg);
    const pl_style *st = &pg.st;
    double s = st->s;
    char names[CQB_PLOT_MAX_SERIES][32];
    for (size_t k = 0; k < l->nseries; ++k) {
        const char *nm = l->series[k].name;
        if (!nm) {
            snprintf(names[k], sizeof names[k], "series %zu", k + 1);
            nm = names[k];
        }
        pl_legend_add(&pg, PL_LEG_LINE, (int)k, nm);
    }
    if (c->any_mark) pl_legend_add(&pg, PL_LEG_RING, 0, or_default(l->mark_label, "flagged"));

    pl_axis xa, ya;
    pl_page_layout(&pg, ytick_width_guess(cr, st, c->lo, c->hi, l->ymin, l->ymax, H), 20.0 * s, -1.0);
    double sp;
    x_axis(&xa, l->x, l->n, pg.x1 - pg.x0, s, &sp);
    y_axis(&ya, c->lo, c->hi, l->ymin, l->ymax, pg.y1 - pg.y0, s);

    pl_page_grid(&pg, &ya);
    cairo_save(cr);
    cairo_rectangle(cr, pg.x0, pg.y0, pg.x1 - pg.x0, pg.y1 - pg.y0);
    cairo_clip(cr);
    if (ya.lo < 0.0 && ya.hi > 0.0) {
        double y0 = pl_ymap(&pg, &ya, 0.0);
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        cairo_set_line_width(cr, 1.2 * s);
        cairo_move_to(cr, pg.x0, y0);
        cairo_line_to(cr, pg.x1, y0);
        cairo_stroke(cr);
    }
    for (size_t k = 0; k < l->nseries; ++k) {
        const double *y = l->series[k].y;
        double rgb[3];
        pl_series_color((int)k, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 2.0 * s);
        pl_series_dash(cr, (int)k, s);
        cairo_new_path(cr);
        int pen = 0;
        for (size_t i = 0; i < l->n; ++i) {
            if (!isfinite(y[i])) {
                pen = 0;
                continue;
            }
            double px = pl_xmap(&pg, &xa, l->x[i]), py = pl_ymap(&pg, &ya, y[i]);
            if (pen) cairo_line_to(cr, px, py);
            else cairo_move_to(cr, px, py);
            pen = 1;
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    for (size_t k = 0; k < l->nseries; ++k) {
        const double *y = l->series[k].y;
        for (size_t i = 0; i < l->n; ++i) {
            if (!isfinite(y[i])) continue;
            double px = pl_xmap(&pg, &xa, l->x[i]), py = pl_ymap(&pg, &ya, y[i]);
            pl_marker(cr, (int)k, px, py, 5.0 * s, 1.6 * s);
            if (l->series[k].mark && l->series[k].mark[i]) pl_ring(cr, px, py, 10.0 * s, s);
        }
    }
    cairo_restore(cr);
    pl_page_axes(&pg, &xa, &ya);
    pl_page_texts(&pg);
    return CQB_OK;
}

cqb_status cqb_plot_lines(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_lines *l,
                          cqb_error *err)
{
    if (!l || l->n == 0) return cqb_error_set(err, CQB_EUSAGE, "line plot: no data");
    if (l->nseries < 1 || l->nseries > CQB_PLOT_MAX_SERIES || !l->series)
        return cqb_error_set(err, CQB_EUSAGE, "line plot: %zu series (1..%d)", l->nseries,
                             CQB_PLOT_MAX_SERIES);
    cqb_status st = check_xs("line plot", l->x, l->n, err);
    if (st != CQB_OK) return st;
    lines_ctx c = {o, l, 0, INFINITY, -INFINITY};
    for (size_t k = 0; k < l->nseries; ++k) {
        if (!l->series[k].y) return cqb_error_set(err, CQB_EUSAGE, "line plot: series %zu has no y", k + 1);
        range_add(&c.lo, &c.hi, l->series[k].y, l->n);
        for (size_t i = 0; l->series[k].mark && i < l->n; ++i)
            if (l->series[k].mark[i] && isfinite(l->series[k].y[i])) c.any_mark = 1;
    }
    if (!(c.lo <= c.hi)) c.lo = c.hi = 0.0;
    return pl_render(path_noext, o, draw_lines, &c, err);
}

/* ========================================================================= */
/* 4. Time x level heat map                                                   */
/* ========================================================================= */

typedef struct tmap_ctx {
    const cqb_fig_opts *o;
    const cqb_fig_timemap *m;
    pl_cmap cm;
    int any_nan, any_sig;
    double *colv;   /* column averages, nlevel * ncol_max (scratch) */
    unsigned char *colsig; /* column significance, nlevel * ncol_max (scratch) */
    size_t ncol_max;
} tmap_ctx;

static cqb_status draw_tmap(cairo_t *cr, double W, double H, const void *vctx, cqb_error *err)
{
    const tmap_ctx *c = vctx;
    const cqb_fig_timemap *m = c->m;
    (void)err;
    pl_page pg;
    pl_page_init(&pg, cr, W, H, c->o);
    pl_page_background(&pg);
    const pl_style *st = &pg.st;
    double s = st->s;
    if (c->any_sig) pl_legend_add(&pg, PL_LEG_OUTLINE, 0, or_default(m->sig_label, "significant"));
    if (c->any_nan) pl_legend_add(&pg, PL_LEG_HATCH, 0, "missing (NaN)");

    pl_axis ca, xa, ya;
    pl_cbar_axis(&ca, &c->cm);
    double lw = pl_labels_maxw(cr, st->tick, m->nlevel, m->level_labels);
    double tw = pl_labels_maxw(cr, st->tick, m->ntime, m->time_labels);
    pl_page_layout(&pg, lw, 0.5 * tw, pl_axis_maxw(cr, st->tick, &ca));
    double pw = pg.x1 - pg.x0, ph = pg.y1 - pg.y0;
    pl_axis_categorical(&xa, m->ntime, m->time_labels, pl_cat_step(m->ntime, pw, tw));
    /* Levels top-down: level i is drawn at category nlevel - 1 - i. */
    {
        size_t step = pl_cat_step(m->nlevel, ph, 0.9 * st->tick.size);
        pl_axis_categorical(&ya, m->nlevel, NULL, step);
        ya.nticks = 0;
        for (size_t i = 0; i < m->nlevel && ya.nticks < PL_MAXTICKS; i += step) {
            size_t k = ya.nticks++;
            ya.at[k] = (double)(m->nlevel - 1 - i) + 0.5;
            if (m->level_labels && m->level_labels[i]) {
                ya.lab[k] = m->level_labels[i];
            } else {
                snprintf(ya.buf[k], sizeof ya.buf[k], "%zu", i + 1);
                ya.lab[k] = ya.buf[k];
            }
        }
    }

    /* Columns: one per time point, or per pixel column (averaged) when the
     * time points outnumber the pixels. */
    size_t ncol = m->ntime < (size_t)pw ? m->ntime : (size_t)pw;
    if (ncol < 1) ncol = 1;
    if (ncol > c->ncol_max) ncol = c->ncol_max;
    double *colv = c->colv;
    for (size_t i = 0; i < m->nlevel; ++i)
        for (size_t j = 0; j < ncol; ++j) {
            size_t t0 = j * m->ntime / ncol, t1 = (j + 1) * m->ntime / ncol;
            double sum = 0.0;
            size_t cnt = 0;
            for (size_t t = t0; t < t1; ++t) {
                double v = m->z[i * m->ntime + t];
                if (isfinite(v)) sum += v, ++cnt;
            }
            colv[i * ncol + j] = cnt ? sum / (double)cnt : NAN;
            if (m->sig) { /* a column is significant when most of its times are */
                size_t ns = 0;
                for (size_t t = t0; t < t1; ++t) ns += m->sig[i * m->ntime + t] != 0;
                c->colsig[i * ncol + j] = (unsigned char)(2 * ns > t1 - t0);
            }
        }
#define COLX(j) round(pg.x0 + (double)(j) * pw / (double)ncol)
#define ROWY(i) round(pg.y0 + (double)(i) * ph / (double)m->nlevel)
    cairo_save(cr);
    /* Fills: runs of equal 8-bit colour merged into one rectangle. */
    for (size_t i = 0; i < m->nlevel; ++i) {
        size_t j = 0;
        while (j < ncol) {
            double v = colv[i * ncol + j], rgb[3] = {1, 1, 1};
            if (isfinite(v)) pl_cmap_color(&c->cm, v, rgb);
            long key = isfinite(v) ? lround(rgb[0] * 255) << 16 | lround(rgb[1] * 255) << 8 | lround(rgb[2] * 255)
                                   : -1;
            size_t j1 = j + 1;
            while (j1 < ncol) {
                double w = colv[i * ncol + j1], g[3] = {1, 1, 1};
                if (isfinite(w)) pl_cmap_color(&c->cm, w, g);
                long k2 = isfinite(w) ? lround(g[0] * 255) << 16 | lround(g[1] * 255) << 8 | lround(g[2] * 255)
                                      : -1;
                if (k2 != key) break;
                ++j1;
            }
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, COLX(j), ROWY(i), COLX(j1) - COLX(j), ROWY(i + 1) - ROWY(i));
            cairo_fill(cr);
            j = j1;
        }
    }
    if (c->any_nan) {
        cairo_save(cr);
        cairo_new_path(cr);
        int any = 0;
        for (size_t i = 0; i < m->nlevel; ++i) {
            size_t j = 0;
            while (j < ncol) {
                if (isfinite(colv[i * ncol + j])) {
                    ++j;
                    continue;
                }
                size_t j1 = j + 1;
                while (j1 < ncol && !isfinite(colv[i * ncol + j1])) ++j1;
                cairo_rectangle(cr, COLX(j), ROWY(i), COLX(j1) - COLX(j), ROWY(i + 1) - ROWY(i));
                any = 1;
                j = j1;
            }
        }
        if (any) {
            cairo_clip(cr);
            pl_hatch(cr, pg.x0, pg.y0, pg.x1, pg.y1, s);
        }
        cairo_restore(cr);
    }
    /* Level separators. */
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, fmax(1.0, s));
    for (size_t i = 1; i < m->nlevel; ++i) {
        cairo_move_to(cr, pg.x0, ROWY(i));
        cairo_line_to(cr, pg.x1, ROWY(i));
    }
    cairo_stroke(cr);
    /* Significant regions: every edge between a significant cell and a
     * non-significant one (or the border), on the column grid. */
    if (c->any_sig) {
        const unsigned char *g = c->colsig;
        size_t nt = ncol, nl = m->nlevel;
#define SIG(i, t) (g[(i) * nt + (t)] != 0)
#define TX(t) COLX(t)
        cairo_new_path(cr);
        for (size_t i = 0; i < nl; ++i) /* vertical edges */
            for (size_t t = 0; t <= nt; ++t) {
                int a = t > 0 && SIG(i, t - 1), b = t < nt && SIG(i, t);
                if (a != b) {
                    cairo_move_to(cr, TX(t), ROWY(i));
                    cairo_line_to(cr, TX(t), ROWY(i + 1));
                }
            }
        for (size_t i = 0; i <= nl; ++i) { /* horizontal edges, merged runs */
            size_t t = 0;
            while (t < nt) {
                int a = i > 0 && SIG(i - 1, t), b = i < nl && SIG(i, t);
                if (a == b) {
                    ++t;
                    continue;
                }
                size_t t1 = t + 1;
                while (t1 < nt) {
                    int a1 = i > 0 && SIG(i - 1, t1), b1 = i < nl && SIG(i, t1);
                    if (a1 == b1) break;
                    ++t1;
                }
                cairo_move_to(cr, TX(t), ROWY(i));
                cairo_line_to(cr, TX(t1), ROWY(i));
                t = t1;
            }
        }
#undef SIG
#undef TX
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_SQUARE);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 4.5 * s);
        cairo_stroke_preserve(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 2.2 * s);
        cairo_stroke(cr);
    }
#undef COLX
#undef ROWY
    cairo_restore(cr);
    pl_page_axes(&pg, &xa, &ya);
    pl_colorbar(&pg, &c->cm, &ca);
    pl_page_texts(&pg);
    return CQB_OK;
}

cqb_status cqb_plot_timemap(const char *path_noext, const cqb_fig_opts *o,
                            const cqb_fig_timemap *m, cqb_error *err)
{
    if (!m || !m->z) return cqb_error_set(err, CQB_EUSAGE, "time map: no data");
    cqb_status st = check_grid("time map", m->nlevel, m->ntime, err);
    if (st != CQB_OK) return st;
    int W, H;
    st = pl_check_opts(o, &W, &H, err);
    if (st != CQB_OK) return st;
    tmap_ctx *c = calloc(1, sizeof *c);
    if (!c) return cqb_error_set(err, CQB_ENOMEM, "time map: out of memory");
    c->o = o;
    c->m = m;
    size_t n = m->nlevel * m->ntime;
    pl_cmap_init(&c->cm, m->cmap, m->zmin, m->zmax, m->z, n);
    for (size_t i = 0; i < n; ++i) {
        if (!isfinite(m->z[i])) c->any_nan = 1;
        if (m->sig && m->sig[i]) c->any_sig = 1;
    }
    c->ncol_max = m->ntime < (size_t)W ? m->ntime : (size_t)W;
    c->colv = malloc(m->nlevel * c->ncol_max * sizeof *c->colv);
    c->colsig = calloc(m->nlevel * c->ncol_max, 1);
    if (!c->colv || !c->colsig) {
        free(c->colv);
        free(c->colsig);
        free(c);
        return cqb_error_set(err, CQB_ENOMEM, "time map: out of memory");
    }
    st = pl_render(path_noext, o, draw_tmap, c, err);
    free(c->colv);
    free(c->colsig);
    free(c);
    return st;
}

/* ========================================================================= */
/* 5. Points with intervals against categories                                */
/* ========================================================================= */

typedef struct ivl_ctx {
    const cqb_fig_opts *o;
    const cqb_fig_intervals *p;
    int any_mark;
    double lo, hi;
} ivl_ctx;

static cqb_status draw_ivl(cairo_t *cr, double W, double H, const void *vctx, cqb_error *err)
{
    const ivl_ctx *c = vctx;
    const cqb_fig_intervals *p = c->p;
    (void)err;
    pl_page pg;
    pl_page_init(&pg, cr, W, H, c->o);
    pl_page_background(&pg);
    const pl_style *st = &pg.st;
    double s = st->s;
    pl_legend_add(&pg, PL_LEG_POINT, 0, or_default(p->y_name, "estimate"));
    if (p->lo) pl_legend_add(&pg, PL_LEG_WHISKER, 0, or_default(p->ci_name, "interval"));
    if (c->any_mark) pl_legend_add(&pg, PL_LEG_RING, 0, or_default(p->mark_label, "flagged"));
    pl_legend_add(&pg, PL_LEG_REFLINE, 0, "zero");

    pl_axis xa, ya;
    double lw = pl_labels_maxw(cr, st->tick, p->n, p->labels);
    pl_page_layout(&pg, ytick_width_guess(cr, st, c->lo, c->hi, p->ymin, p->ymax, H), 0.0, -1.0);
    pl_axis_categorical(&xa, p->n, p->labels, pl_cat_step(p->n, pg.x1 - pg.x0, lw));
    y_axis(&ya, c->lo, c->hi, p->ymin, p->ymax, pg.y1 - pg.y0, s);
    double pxsp = (pg.x1 - pg.x0) / (double)p->n;

    pl_page_grid(&pg, &ya);
    cairo_save(cr);
    cairo_rectangle(cr, pg.x0, pg.y0, pg.x1 - pg.x0, pg.y1 - pg.y0);
    cairo_clip(cr);
    if (ya.lo <= 0.0 && ya.hi >= 0.0) {
        double y0 = pl_ymap(&pg, &ya, 0.0), d[2] = {6.0 * s, 4.0 * s};
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_set_line_width(cr, 1.2 * s);
        cairo_set_dash(cr, d, 2, 0);
        cairo_move_to(cr, pg.x0, y0);
        cairo_line_to(cr, pg.x1, y0);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    if (p->lo) {
        double cap = fmin(0.25 * pxsp, 8.0 * s);
        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        cairo_set_line_width(cr, 1.6 * s);
        for (size_t i = 0; i < p->n; ++i) {
            double xc = pl_xmap(&pg, &xa, (double)i + 0.5), lo = p->lo[i], hi = p->hi[i];
            if (isfinite(lo) && isfinite(hi)) {
                cairo_move_to(cr, xc, pl_ymap(&pg, &ya, lo));
                cairo_line_to(cr, xc, pl_ymap(&pg, &ya, hi));
            }
            if (isfinite(lo)) {
                cairo_move_to(cr, xc - cap, pl_ymap(&pg, &ya, lo));
                cairo_line_to(cr, xc + cap, pl_ymap(&pg, &ya, lo));
            }
            if (isfinite(hi)) {
                cairo_move_to(cr, xc - cap, pl_ymap(&pg, &ya, hi));
                cairo_line_to(cr, xc + cap, pl_ymap(&pg, &ya, hi));
            }
        }
        cairo_stroke(cr);
    }
    double r = fmin(5.5 * s, fmax(2.0, 0.3 * pxsp));
    for (size_t i = 0; i < p->n; ++i) {
        if (!isfinite(p->y[i])) continue;
        double xc = pl_xmap(&pg, &xa, (double)i + 0.5), yv = pl_ymap(&pg, &ya, p->y[i]);
        pl_marker(cr, 0, xc, yv, r, 1.6 * s);
        if (p->mark && p->mark[i]) pl_ring(cr, xc, yv, r + 4.5 * s, s);
    }
    cairo_restore(cr);
    pl_page_axes(&pg, &xa, &ya);
    pl_page_texts(&pg);
    return CQB_OK;
}

cqb_status cqb_plot_intervals(const char *path_noext, const cqb_fig_opts *o,
                              const cqb_fig_intervals *p, cqb_error *err)
{
    if (!p || p->n == 0 || !p->y) return cqb_error_set(err, CQB_EUSAGE, "interval plot: no data");
    if (!p->lo != !p->hi)
        return cqb_error_set(err, CQB_EUSAGE, "interval plot: give both lo and hi or neither");
    ivl_ctx c = {o, p, 0, INFINITY, -INFINITY};
    range_add(&c.lo, &c.hi, p->y, p->n);
    range_add(&c.lo, &c.hi, p->lo, p->n);
    range_add(&c.lo, &c.hi, p->hi, p->n);
    if (!(c.lo <= c.hi)) c.lo = c.hi = 0.0;
    for (size_t i = 0; p->mark && i < p->n; ++i)
        if (p->mark[i] && isfinite(p->y[i])) c.any_mark = 1;
    return pl_render(path_noext, o, draw_ivl, &c, err);
}
