/* plot_core.c — the drawing kit of the figures (plot_internal.h): colour
 * maps, the atomic PNG + SVG writer, text, axes, page layout, legend strip,
 * colour bar and marks. */
#include "plot_internal.h"

#include "cqboot/output.h"

#include <cairo-svg.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define PL_FONT "sans-serif"

/* ========================================================================= */
/* Colour maps                                                                */
/* ========================================================================= */

/* CIELAB (D65) -> linear sRGB. */
static void lab_to_linear(double L, double a, double b, double lin[3])
{
    const double d = 6.0 / 29.0;
    double fy = (L + 16.0) / 116.0, fx = fy + a / 500.0, fz = fy - b / 200.0;
    double f[3] = {fx, fy, fz}, xyz[3];
    const double wp[3] = {0.95047, 1.0, 1.08883};
    for (int i = 0; i < 3; ++i)
        xyz[i] = wp[i] * (f[i] > d ? f[i] * f[i] * f[i] : 3.0 * d * d * (f[i] - 4.0 / 29.0));
    lin[0] = 3.2404542 * xyz[0] - 1.5371385 * xyz[1] - 0.4985314 * xyz[2];
    lin[1] = -0.9692660 * xyz[0] + 1.8760108 * xyz[1] + 0.0415560 * xyz[2];
    lin[2] = 0.0556434 * xyz[0] - 0.2040259 * xyz[1] + 1.0572252 * xyz[2];
}

static int in_gamut(const double lin[3])
{
    for (int i = 0; i < 3; ++i)
        if (lin[i] < -1e-9 || lin[i] > 1.0 + 1e-9) return 0;
    return 1;
}

static double srgb_encode(double c)
{
    if (c <= 0.0) return 0.0;
    if (c >= 1.0) return 1.0;
    return c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c, 1.0 / 2.4) - 0.055;
}

/* LCh colour with the largest chroma <= C inside sRGB (L and h kept). */
static void lch_to_srgb(double L, double C, double hdeg, double rgb[3])
{
    double h = hdeg * M_PI / 180.0, ch = cos(h), sh = sin(h), lin[3];
    lab_to_linear(L, C * ch, C * sh, lin);
    if (!in_gamut(lin)) {
        double lo = 0.0, hi = C;
        for (int it = 0; it < 40; ++it) {
            double mid = 0.5 * (lo + hi);
            lab_to_linear(L, mid * ch, mid * sh, lin);
            if (in_gamut(lin)) lo = mid;
            else hi = mid;
        }
        lab_to_linear(L, lo * ch, lo * sh, lin);
    }
    for (int i = 0; i < 3; ++i) rgb[i] = srgb_encode(lin[i]);
}

double cqb_cmap_eval(cqb_cmap map, double t, double rgb[3])
{
    double L, C, h, tmp[3];
    if (!(t == t)) t = 0.5;
    if (t < 0.0) t = 0.0;
    if (t > 1.0) t = 1.0;
    if (map == CQB_CMAP_SEQUENTIAL) {
        /* pale yellow (L 95) -> orange -> red -> dark purple (L 20) */
        L = 95.0 - 75.0 * t;
        C = 20.0 + 50.0 * sin(M_PI * pow(t, 0.85));
        h = 98.0 - 128.0 * t;
        if (h < 0.0) h += 360.0;
    } else {
        /* dark blue (L 20) -> neutral grey (L 57.5) -> light yellow (L 95) */
        double s = 2.0 * t - 1.0, a = fabs(s);
        L = 57.5 + 37.5 * s;
        C = 78.0 * pow(a, 0.8);
        h = s < 0.0 ? 262.0 + 25.0 * a : 72.0 + 22.0 * a;
    }
    lch_to_srgb(L, C, h, rgb ? rgb : tmp);
    return L;
}

static double nice_step(double raw)
{
    if (!(raw > 0.0) || !isfinite(raw)) return 1.0;
    double e = floor(log10(raw)), p = pow(10.0, e), f = raw / p;
    double nf = f <= 1.0 + 1e-9 ? 1.0 : f <= 2.0 + 1e-9 ? 2.0 : f <= 5.0 + 1e-9 ? 5.0 : 10.0;
    return nf * p;
}

void pl_cmap_init(pl_cmap *cm, cqb_cmap map, double lo, double hi, const double *data, size_t n)
{
    int given = isfinite(lo) && isfinite(hi) && lo < hi;
    double dmin = INFINITY, dmax = -INFINITY;
    if (!given) {
        for (size_t i = 0; data && i < n; ++i)
            if (isfinite(data[i])) {
                if (data[i] < dmin) dmin = data[i];
                if (data[i] > dmax) dmax = data[i];
            }
        if (!(dmin <= dmax)) dmin = dmax = 0.0;
        lo = dmin;
        hi = dmax;
    }
    if (map == CQB_CMAP_AUTO) map = (lo < 0.0 && hi > 0.0) ? CQB_CMAP_DIVERGING : CQB_CMAP_SEQUENTIAL;
    if (map == CQB_CMAP_DIVERGING) {
        double m = fmax(fabs(lo), fabs(hi));
        if (!given) {
            if (!(m > 0.0)) m = 1.0;
            double st = nice_step(m / 4.0);
            m = ceil(m / st - 1e-9) * st;
        }
        lo = -m;
        hi = m;
    } else if (!given) {
        if (!(hi > lo)) {
            double w = lo != 0.0 ? 0.5 * fabs(lo) : 0.5;
            lo -= w;
            hi += w;
        }
        double st = nice_step((hi - lo) / 5.0);
        lo = floor(lo / st + 1e-9) * st;
        hi = ceil(hi / st - 1e-9) * st;
    }
    cm->map = map;
    cm->lo = lo;
    cm->hi = hi;
    for (int i = 0; i < PL_LUT; ++i) cm->L[i] = cqb_cmap_eval(map, i / (double)(PL_LUT - 1), cm->rgb[i]);
}

double pl_cmap_color(const pl_cmap *cm, double v, double rgb[3])
{
    double t = (v - cm->lo) / (cm->hi - cm->lo);
    if (!(t >= 0.0)) t = 0.0;
    if (t > 1.0) t = 1.0;
    int i = (int)lround(t * (PL_LUT - 1));
    rgb[0] = cm->rgb[i][0];
    rgb[1] = cm->rgb[i][1];
    rgb[2] = cm->rgb[i][2];
    return cm->L[i];
}

/* ========================================================================= */
/* Options and the atomic writer                                              */
/* ========================================================================= */

void cqb_fig_opts_default(cqb_fig_opts *o)
{
    memset(o, 0, sizeof *o);
    o->width = 900;
    o->height = 700;
}

cqb_status pl_check_opts(const cqb_fig_opts *o, int *W, int *H, cqb_error *err)
{
    int w = o && o->width ? o->width : 900, h = o && o->height ? o->height : 700;
    if (w < 200 || w > 8000 || h < 200 || h > 8000)
        return cqb_error_set(err, CQB_EUSAGE, "figure size %d x %d: width and height must be 200..8000",
                             w, h);
    *W = w;
    *H = h;
    return CQB_OK;
}

typedef struct pl_sink {
    FILE *fp;
    int errnum;
} pl_sink;

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int len)
{
    pl_sink *sk = closure;
    if (sk->errnum) return CAIRO_STATUS_WRITE_ERROR;
    errno = 0;
    if (fwrite(data, 1, len, sk->fp) != len) {
        sk->errnum = errno ? errno : EIO;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

static cqb_status cairo_fail(cairo_status_t cs, const char *what, const char *path, int errnum,
                             cqb_error *err)
{
    if (cs == CAIRO_STATUS_INVALID_STRING)
        return cqb_error_set(err, CQB_EUSAGE, "figure %s: a text is not valid UTF-8", path);
    if (cs == CAIRO_STATUS_NO_MEMORY)
        return cqb_error_set(err, CQB_ENOMEM, "figure %s: out of memory while drawing", path);
    if (cs == CAIRO_STATUS_WRITE_ERROR || errnum)
        return cqb_error_set(err, CQB_EIO, "cannot write %s: %s", path,
                             strerror(errnum ? errnum : EIO));
    return cqb_error_set(err, CQB_EINTERNAL, "figure %s: cairo %s error: %s", path, what,
                         cairo_status_to_string(cs));
}

/* Draws fn on a fresh context of surface; returns the drawing status. */
static cqb_status draw_on(cairo_surface_t *surf, double W, double H, pl_draw_fn fn, const void *ctx,
                          const char *path, cqb_error *err)
{
    cairo_t *cr = cairo_create(surf);
    cqb_status st = fn(cr, W, H, ctx, err);
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    if (st != CQB_OK) return st;
    if (cs != CAIRO_STATUS_SUCCESS) return cairo_fail(cs, "drawing", path, 0, err);
    return CQB_OK;
}

cqb_status pl_render(const char *path_noext, const cqb_fig_opts *o, pl_draw_fn fn, const void *ctx,
                     cqb_error *err)
{
    int W = 0, H = 0;
    cqb_status st = pl_check_opts(o, &W, &H, err);
    if (st != CQB_OK) return st;
    if (!path_noext || !*path_noext) return cqb_error_set(err, CQB_EUSAGE, "figure: empty output path");
    size_t len = strlen(path_noext);
    char *png = malloc(len + 5), *svg = malloc(len + 5);
    cairo_surface_t *img = NULL, *vec = NULL;
    /* both files through the safe outputs of cqboot/output.h: atomic for
     * regular files, in place for devices, never over a protected input */
    cqb_output opng, osvg;
    memset(&opng, 0, sizeof opng);
    memset(&osvg, 0, sizeof osvg);
    pl_sink sk = {NULL, 0};
    if (!png || !svg) {
        st = cqb_error_set(err, CQB_ENOMEM, "figure %s: out of memory", path_noext);
        goto done;
    }
    memcpy(png, path_noext, len);
    memcpy(png + len, ".png", 5);
    memcpy(svg, path_noext, len);
    memcpy(svg + len, ".svg", 5);

    /* PNG: draw in memory, then stream to its output. */
    img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        st = cairo_fail(cairo_surface_status(img), "image surface", png, 0, err);
        goto done;
    }
    st = draw_on(img, W, H, fn, ctx, png, err);
    if (st != CQB_OK) goto done;
    cairo_surface_flush(img);
    if ((st = cqb_output_open(&opng, png, "figure", err)) != CQB_OK) goto done;
    sk.fp = opng.f;
    sk.errnum = 0;
    cairo_status_t cs = cairo_surface_write_to_png_stream(img, sink_write, &sk);
    if (cs != CAIRO_STATUS_SUCCESS || sk.errnum) {
        st = cairo_fail(cs == CAIRO_STATUS_SUCCESS ? CAIRO_STATUS_WRITE_ERROR : cs, "PNG", png, sk.errnum, err);
        goto done;
    }
    if ((st = cqb_output_finish(&opng, err)) != CQB_OK) goto done;

    /* SVG: the surface streams while drawing, straight into its output. */
    if ((st = cqb_output_open(&osvg, svg, "figure", err)) != CQB_OK) goto done;
    sk.fp = osvg.f;
    sk.errnum = 0;
    vec = cairo_svg_surface_create_for_stream(sink_write, &sk, W, H);
    if (cairo_surface_status(vec) != CAIRO_STATUS_SUCCESS) {
        st = cairo_fail(cairo_surface_status(vec), "SVG surface", svg, sk.errnum, err);
        goto done;
    }
    cairo_svg_surface_set_document_unit(vec, CAIRO_SVG_UNIT_PX);
    st = draw_on(vec, W, H, fn, ctx, svg, err);
    if (st != CQB_OK) goto done;
    cairo_surface_finish(vec);
    cs = cairo_surface_status(vec);
    if (cs != CAIRO_STATUS_SUCCESS || sk.errnum) {
        st = cairo_fail(cs == CAIRO_STATUS_SUCCESS ? CAIRO_STATUS_WRITE_ERROR : cs, "SVG", svg, sk.errnum, err);
        goto done;
    }
    if ((st = cqb_output_finish(&osvg, err)) != CQB_OK) goto done;

    /* Both complete: move them into place. */
    const int png_atomic = opng.kind == CQB_OUTPUT_ATOMIC;
    char *png_target = png_atomic && opng.target ? strdup(opng.target) : NULL;
    if ((st = cqb_output_commit(&opng, err)) != CQB_OK) {
        free(png_target);
        goto done;
    }
    if ((st = cqb_output_commit(&osvg, err)) != CQB_OK) {
        if (png_target) unlink(png_target); /* no half pair */
        free(png_target);
        goto done;
    }
    free(png_target);
    st = CQB_OK;

done:
    if (vec) cairo_surface_destroy(vec);
    if (img) cairo_surface_destroy(img);
    cqb_output_abort(&opng);
    cqb_output_abort(&osvg);
    free(png);
    free(svg);
    return st;
}

/* ========================================================================= */
/* Text                                                                       */
/* ========================================================================= */

static void set_font(cairo_t *cr, pl_font f)
{
    cairo_select_font_face(cr, PL_FONT, CAIRO_FONT_SLANT_NORMAL,
                           f.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, f.size);
}

double pl_text_width(cairo_t *cr, pl_font f, const char *s)
{
    if (!s || !*s) return 0.0;
    cairo_text_extents_t te;
    set_font(cr, f);
    cairo_text_extents(cr, s, &te);
    return te.x_advance;
}

void pl_text(cairo_t *cr, pl_font f, double x, double y, int ha, int va, double angle, const char *s)
{
    if (!s || !*s) return;
    cairo_text_extents_t te;
    set_font(cr, f);
    cairo_text_extents(cr, s, &te);
    /* Fixed proportions of the size keep anchors identical on every surface. */
    double cap = 0.72 * f.size, desc = 0.22 * f.size;
    double dx = ha == PL_CENTER ? -0.5 * te.x_advance : ha == PL_RIGHT ? -te.x_advance : 0.0;
    double dy = va == PL_TOP ? cap : va == PL_MIDDLE ? 0.5 * cap : va == PL_BOTTOM ? -desc : 0.0;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    if (angle != 0.0) cairo_rotate(cr, angle);
    cairo_move_to(cr, dx, dy);
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

void pl_fmt_num(char *buf, size_t cap, double v, int dec)
{
    char tmp[40];
    if (dec < 0) dec = 0;
    if (dec > 10) dec = 10;
    if (!isfinite(v)) {
        snprintf(buf, cap, "NA");
        return;
    }
    snprintf(tmp, sizeof tmp, "%.*f", dec, v);
    const char *digits = tmp, *sign = "";
    if (tmp[0] == '-') {
        digits = tmp + 1;
        for (const char *p = digits; *p; ++p)
            if (*p >= '1' && *p <= '9') sign = "\xe2\x88\x92"; /* U+2212 minus sign */
    }
    size_t ls = strlen(sign), ld = strlen(digits);
    if (cap == 0) return;
    if (ls + ld + 1 > cap) { /* too long for the label: keep what fits */
        ls = ls < cap - 1 ? ls : 0;
        ld = cap - 1 - ls;
    }
    memcpy(buf, sign, ls);
    memcpy(buf + ls, digits, ld);
    buf[ls + ld] = '\0';
}

/* ========================================================================= */
/* Style, axes                                                                */
/* ========================================================================= */

void pl_style_init(pl_style *st, double W, double H)
{
    double s = sqrt(W * H / (900.0 * 700.0));
    if (s < 0.75) s = 0.75;
    if (s > 4.0) s = 4.0;
    st->s = s;
    st->title = (pl_font){21.0 * s, 1};
    st->subtitle = (pl_font){15.0 * s, 0};
    st->axis = (pl_font){16.0 * s, 0};
    st->tick = (pl_font){14.0 * s, 0};
    st->legend = (pl_font){14.0 * s, 0};
    st->pad = 14.0 * s;
    st->ticklen = 6.0 * s;
    st->lw = 1.2 * s;
}

void pl_axis_numeric(pl_axis *ax, double lo, double hi, int target, int expand, int integer)
{
    if (!isfinite(lo) || !isfinite(hi)) lo = 0.0, hi = 1.0;
    if (!(hi > lo)) {
        double w = lo != 0.0 ? 0.5 * fabs(lo) : 0.5;
        lo -= w;
        hi += w;
    }
    if (target < 2) target = 2;
    double step = nice_step((hi - lo) / (target - 1));
    if (integer && step < 1.0) step = 1.0;
    if (expand) {
        lo = floor(lo / step + 1e-9) * step;
        hi = ceil(hi / step - 1e-9) * step;
    }
    ax->lo = lo;
    ax->hi = hi;
    ax->decimals = step >= 1.0 ? 0 : (int)(-floor(log10(step) + 1e-9));
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
    ax->nticks = 0;
    for (double k = k0; k <= k1 && ax->nticks < PL_MAXTICKS; k += 1.0) {
        double v = k * step;
        if (fabs(v) < 1e-12 * step) v = 0.0;
        size_t i = ax->nticks++;
        ax->at[i] = v;
        pl_fmt_num(ax->buf[i], sizeof ax->buf[i], v, ax->decimals);
        ax->lab[i] = ax->buf[i];
    }
}

void pl_axis_categorical(pl_axis *ax, size_t n, const char *const *labels, size_t step)
{
    if (step < 1) step = 1;
    while ((n + step - 1) / step > PL_MAXTICKS) ++step;
    ax->lo = 0.0;
    ax->hi = (double)n;
    ax->decimals = 0;
    ax->nticks = 0;
    for (size_t i = 0; i < n && ax->nticks < PL_MAXTICKS; i += step) {
        size_t k = ax->nticks++;
        ax->at[k] = (double)i + 0.5;
        if (labels && labels[i]) {
            ax->lab[k] = labels[i];
        } else {
            snprintf(ax->buf[k], sizeof ax->buf[k], "%zu", i + 1);
            ax->lab[k] = ax->buf[k];
        }
    }
}

size_t pl_cat_step(size_t n, double len, double maxw)
{
    if (n == 0 || !(len > 0.0)) return 1;
    double cell = len / (double)n, need = maxw * 1.2 + 6.0;
    static const size_t mant[3] = {1, 2, 5};
    for (size_t p = 1; p < (size_t)1 << 40; p *= 10)
        for (int m = 0; m < 3; ++m) {
            size_t step = mant[m] * p;
            if (step * cell >= need && (n + step - 1) / step <= PL_MAXTICKS) return step;
            if (step >= n) return step;
        }
    return n;
}

double pl_axis_maxw(cairo_t *cr, pl_font f, const pl_axis *ax)
{
    double w = 0.0;
    for (size_t i = 0; i < ax->nticks; ++i) w = fmax(w, pl_text_width(cr, f, ax->lab[i]));
    return w;
}

double pl_labels_maxw(cairo_t *cr, pl_font f, size_t n, const char *const *labels)
{
    double w = 0.0;
    char buf[32];
    for (size_t i = 0; i < n; ++i) {
        const char *s = labels ? labels[i] : NULL;
        if (!s) {
            snprintf(buf, sizeof buf, "%zu", i + 1);
            s = buf;
        }
        w = fmax(w, pl_text_width(cr, f, s));
    }
    return w;
}

/* ========================================================================= */
/* Page                                                                       */
/* ========================================================================= */

static int has_text(const char *s) { return s && *s; }

void pl_page_init(pl_page *pg, cairo_t *cr, double W, double H, const cqb_fig_opts *o)
{
    memset(pg, 0, sizeof *pg);
    pg->cr = cr;
    pg->W = W;
    pg->H = H;
    pg->o = o;
    pl_style_init(&pg->st, W, H);
}

void pl_legend_add(pl_page *pg, int kind, int idx, const char *text)
{
    if (pg->nleg >= PL_MAXLEGEND || !has_text(text)) return;
    pg->leg[pg->nleg++] = (pl_legend_item){kind, idx, text};
}

#define SWATCH_W 30.0
#define SWATCH_GAP 7.0
#define ITEM_GAP 24.0

/* Lays the legend out in rows of width W - 2 pad; returns the row count and,
 * when xs/rows are given, each item's x and row. */
static size_t legend_flow(const pl_page *pg, double *xs, size_t *rows)
{
    const pl_style *st = &pg->st;
    double x = st->pad, xmax = pg->W - st->pad;
    size_t row = 0;
    for (size_t i = 0; i < pg->nleg; ++i) {
        double w = (SWATCH_W + SWATCH_GAP) * st->s + pl_text_width(pg->cr, st->legend, pg->leg[i].text);
        if (x > st->pad && x + w > xmax) {
            ++row;
            x = st->pad;
        }
        if (xs) xs[i] = x;
        if (rows) rows[i] = row;
        x += w + ITEM_GAP * st->s;
    }
    return pg->nleg ? row + 1 : 0;
}

void pl_page_layout(pl_page *pg, double ytick_maxw, double xlast_halfw, double cbar_maxw)
{
    const pl_style *st = &pg->st;
    const cqb_fig_opts *o = pg->o;
    double s = st->s, top = st->pad;
    if (o && has_text(o->title)) top += st->title.size * 1.25;
    if (o && has_text(o->subtitle)) top += st->subtitle.size * 1.45;
    size_t nrows = legend_flow(pg, NULL, NULL);
    pg->leg_rowh = st->legend.size * 1.75;
    pg->leg_y = top + 4.0 * s;
    if (nrows) top += 4.0 * s + (double)nrows * pg->leg_rowh;
    top += 12.0 * s;

    double bottom = pg->H - st->pad;
    if (o && has_text(o->xlabel)) bottom -= st->axis.size * 1.2 + 8.0 * s;
    bottom -= st->tick.size * 1.0 + 6.0 * s + st->ticklen;

    double left = st->pad;
    if (o && has_text(o->ylabel)) left += st->axis.size * 1.2 + 8.0 * s;
    left += ytick_maxw + 6.0 * s + st->ticklen;

    double right = pg->W - fmax(st->pad + 8.0 * s, xlast_halfw + 0.5 * st->pad);
    if (cbar_maxw >= 0.0) {
        double need = 22.0 * s /* gap */ + 22.0 * s /* bar */ + st->ticklen + 5.0 * s + cbar_maxw +
                      st->pad;
        if (o && has_text(o->cbar_label)) need += 10.0 * s + st->axis.size * 1.2;
        right = pg->W - need;
        pg->cbar_x = right + 22.0 * s;
        pg->has_cbar = 1;
    }
    /* Whole pixels keep cell edges crisp. */
    pg->x0 = floor(left);
    pg->x1 = floor(right);
    pg->y0 = floor(top);
    pg->y1 = floor(bottom);
    if (pg->x1 < pg->x0 + 20.0) pg->x1 = pg->x0 + 20.0;
    if (pg->y1 < pg->y0 + 20.0) pg->y1 = pg->y0 + 20.0;
}

void pl_page_background(const pl_page *pg)
{
    cairo_t *cr = pg->cr;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, 0, 0, pg->W, pg->H);
    cairo_fill(cr);
    cairo_restore(cr);
}

static void legend_swatch(const pl_page *pg, const pl_legend_item *it, double x, double yc)
{
    cairo_t *cr = pg->cr;
    double s = pg->st.s, w = SWATCH_W * s, h = 14.0 * s, xc = x + 0.5 * w;
    double rgb[3];
    cairo_save(cr);
    cairo_set_line_width(cr, pg->st.lw);
    switch (it->kind) {
    case PL_LEG_LINE:
        pl_series_color(it->idx, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 2.0 * s);
        pl_series_dash(cr, it->idx, s);
        cairo_move_to(cr, x, yc);
        cairo_line_to(cr, x + w, yc);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        pl_marker(cr, it->idx, xc, yc, 5.0 * s, 1.6 * s);
        break;
    case PL_LEG_BAR:
        pl_series_color(0, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, xc - 6.0 * s, yc - 0.5 * h, 12.0 * s, h);
        cairo_fill(cr);
        break;
    case PL_LEG_RIBBON:
        cairo_set_source_rgb(cr, 0.80, 0.80, 0.80);
        cairo_rectangle(cr, x, yc - 0.5 * h, w, h);
        cairo_fill(cr);
        break;
    case PL_LEG_WHISKER:
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_move_to(cr, xc, yc - 0.5 * h);
        cairo_line_to(cr, xc, yc + 0.5 * h);
        cairo_move_to(cr, xc - 4.0 * s, yc - 0.5 * h);
        cairo_line_to(cr, xc + 4.0 * s, yc - 0.5 * h);
        cairo_move_to(cr, xc - 4.0 * s, yc + 0.5 * h);
        cairo_line_to(cr, xc + 4.0 * s, yc + 0.5 * h);
        cairo_stroke(cr);
        break;
    case PL_LEG_POINT:
        pl_marker(cr, 0, xc, yc, 5.0 * s, 1.6 * s);
        break;
    case PL_LEG_RING:
        pl_marker(cr, it->idx, xc, yc, 5.0 * s, 1.6 * s);
        pl_ring(cr, xc, yc, 9.0 * s, s);
        break;
    case PL_LEG_BARMARK: /* bar with bold outline, dot above it */
        pl_series_color(0, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, xc - 8.0 * s, yc - 2.0 * s, 16.0 * s, 11.0 * s);
        cairo_fill(cr);
        pl_bold_rect(cr, xc - 8.0 * s, yc - 2.0 * s, 16.0 * s, 11.0 * s, 0.8 * s);
        pl_dot(cr, xc, yc - 7.5 * s, 2.8 * s, s);
        break;
    case PL_LEG_CELLMARK:
        cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
        cairo_rectangle(cr, xc - 10.0 * s, yc - 9.0 * s, 20.0 * s, 18.0 * s);
        cairo_fill(cr);
        pl_bold_rect(cr, xc - 10.0 * s, yc - 9.0 * s, 20.0 * s, 18.0 * s, 0.8 * s);
        pl_dot(cr, xc, yc, 3.0 * s, s);
        break;
    case PL_LEG_OUTLINE:
        cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
        cairo_rectangle(cr, x, yc - 0.5 * h, w, h);
        cairo_fill(cr);
        cairo_rectangle(cr, x + 2.0 * s, yc - 0.5 * h + 2.0 * s, w - 4.0 * s, h - 4.0 * s);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 4.5 * s);
        cairo_stroke_preserve(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 2.2 * s);
        cairo_stroke(cr);
        break;
    case PL_LEG_HATCH:
        cairo_rectangle(cr, x, yc - 0.5 * h, w, h);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        cairo_save(cr);
        cairo_clip_preserve(cr);
        pl_hatch(cr, x, yc - 0.5 * h, x + w, yc + 0.5 * h, s);
        cairo_restore(cr);
        cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
        cairo_set_line_width(cr, 0.8 * s);
        cairo_stroke(cr);
        break;
    case PL_LEG_REFLINE:
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        {
            double d[2] = {6.0 * s, 4.0 * s};
            cairo_set_dash(cr, d, 2, 0);
        }
        cairo_move_to(cr, x, yc);
        cairo_line_to(cr, x + w, yc);
        cairo_stroke(cr);
        break;
    default:
        break;
    }
    cairo_restore(cr);
}

void pl_page_texts(const pl_page *pg)
{
    cairo_t *cr = pg->cr;
    const pl_style *st = &pg->st;
    const cqb_fig_opts *o = pg->o;
    double s = st->s, y = st->pad;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
    if (o && has_text(o->title)) {
        pl_text(cr, st->title, st->pad, y, PL_LEFT, PL_TOP, 0.0, o->title);
        y += st->title.size * 1.25;
    }
    if (o && has_text(o->subtitle)) {
        cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
        pl_text(cr, st->subtitle, st->pad, y + 0.25 * st->subtitle.size, PL_LEFT, PL_TOP, 0.0,
                o->subtitle);
    }
    if (pg->nleg) {
        double xs[PL_MAXLEGEND];
        size_t rows[PL_MAXLEGEND];
        legend_flow(pg, xs, rows);
        for (size_t i = 0; i < pg->nleg; ++i) {
            double yc = pg->leg_y + ((double)rows[i] + 0.5) * pg->leg_rowh;
            legend_swatch(pg, &pg->leg[i], xs[i], yc);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            pl_text(cr, st->legend, xs[i] + (SWATCH_W + SWATCH_GAP) * s, yc, PL_LEFT, PL_MIDDLE, 0.0,
                    pg->leg[i].text);
        }
    }
    cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
    if (o && has_text(o->xlabel))
        pl_text(cr, st->axis, 0.5 * (pg->x0 + pg->x1), pg->H - st->pad, PL_CENTER, PL_BOTTOM, 0.0,
                o->xlabel);
    if (o && has_text(o->ylabel))
        pl_text(cr, st->axis, st->pad, 0.5 * (pg->y0 + pg->y1), PL_CENTER, PL_TOP, -0.5 * M_PI,
                o->ylabel);
    cairo_restore(cr);
}

double pl_xmap(const pl_page *pg, const pl_axis *xa, double v)
{
    return pg->x0 + (v - xa->lo) / (xa->hi - xa->lo) * (pg->x1 - pg->x0);
}

double pl_ymap(const pl_page *pg, const pl_axis *ya, double v)
{
    return pg->y1 - (v - ya->lo) / (ya->hi - ya->lo) * (pg->y1 - pg->y0);
}

void pl_page_grid(const pl_page *pg, const pl_axis *ya)
{
    cairo_t *cr = pg->cr;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_set_line_width(cr, pg->st.s);
    for (size_t i = 0; i < ya->nticks; ++i) {
        double y = floor(pl_ymap(pg, ya, ya->at[i])) + 0.5;
        cairo_move_to(cr, pg->x0, y);
        cairo_line_to(cr, pg->x1, y);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

void pl_page_axes(const pl_page *pg, const pl_axis *xa, const pl_axis *ya)
{
    cairo_t *cr = pg->cr;
    const pl_style *st = &pg->st;
    double s = st->s;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, s);
    cairo_rectangle(cr, pg->x0 + 0.5, pg->y0 + 0.5, pg->x1 - pg->x0 - 1.0, pg->y1 - pg->y0 - 1.0);
    cairo_stroke(cr);
    for (size_t i = 0; xa && i < xa->nticks; ++i) {
        double x = pl_xmap(pg, xa, xa->at[i]);
        cairo_move_to(cr, x, pg->y1);
        cairo_line_to(cr, x, pg->y1 + st->ticklen);
    }
    for (size_t i = 0; ya && i < ya->nticks; ++i) {
        double y = pl_ymap(pg, ya, ya->at[i]);
        cairo_move_to(cr, pg->x0, y);
        cairo_line_to(cr, pg->x0 - st->ticklen, y);
    }
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    for (size_t i = 0; xa && i < xa->nticks; ++i)
        pl_text(cr, st->tick, pl_xmap(pg, xa, xa->at[i]), pg->y1 + st->ticklen + 4.0 * s, PL_CENTER,
                PL_TOP, 0.0, xa->lab[i]);
    for (size_t i = 0; ya && i < ya->nticks; ++i)
        pl_text(cr, st->tick, pg->x0 - st->ticklen - 4.0 * s, pl_ymap(pg, ya, ya->at[i]), PL_RIGHT,
                PL_MIDDLE, 0.0, ya->lab[i]);
    cairo_restore(cr);
}

/* ========================================================================= */
/* Colour bar                                                                 */
/* ========================================================================= */

void pl_cbar_axis(pl_axis *ca, const pl_cmap *cm)
{
    pl_axis_numeric(ca, cm->lo, cm->hi, 7, 0, 0);
}

void pl_colorbar(const pl_page *pg, const pl_cmap *cm, const pl_axis *ca)
{
    cairo_t *cr = pg->cr;
    const pl_style *st = &pg->st;
    double s = st->s, x = pg->cbar_x, w = 22.0 * s, y0 = pg->y0, y1 = pg->y1;
    cairo_save(cr);
    cairo_pattern_t *grad = cairo_pattern_create_linear(0, y1, 0, y0);
    for (int i = 0; i <= 64; ++i) {
        int k = (int)lround(i * (PL_LUT - 1) / 64.0);
        cairo_pattern_add_color_stop_rgb(grad, i / 64.0, cm->rgb[k][0], cm->rgb[k][1], cm->rgb[k][2]);
    }
    cairo_rectangle(cr, x, y0, w, y1 - y0);
    cairo_set_source(cr, grad);
    cairo_fill_preserve(cr);
    cairo_pattern_destroy(grad);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, s);
    cairo_stroke(cr);
    double maxw = 0.0;
    for (size_t i = 0; i < ca->nticks; ++i) {
        double y = y1 - (ca->at[i] - cm->lo) / (cm->hi - cm->lo) * (y1 - y0);
        cairo_move_to(cr, x + w, y);
        cairo_line_to(cr, x + w + st->ticklen, y);
        cairo_stroke(cr);
        pl_text(cr, st->tick, x + w + st->ticklen + 4.0 * s, y, PL_LEFT, PL_MIDDLE, 0.0, ca->lab[i]);
        maxw = fmax(maxw, pl_text_width(cr, st->tick, ca->lab[i]));
    }
    if (pg->o && has_text(pg->o->cbar_label))
        pl_text(cr, st->axis, x + w + st->ticklen + 4.0 * s + maxw + 10.0 * s, 0.5 * (y0 + y1),
                PL_CENTER, PL_BOTTOM, 0.5 * M_PI, pg->o->cbar_label);
    cairo_restore(cr);
}

/* ========================================================================= */
/* Marks                                                                      */
/* ========================================================================= */

void pl_series_color(int k, double rgb[3])
{
    static const double pal[CQB_PLOT_MAX_SERIES][3] = {
        {0.12, 0.30, 0.62}, /* dark blue */
        {0.85, 0.42, 0.05}, /* orange */
        {0.10, 0.52, 0.42}, /* teal */
        {0.50, 0.25, 0.60}, /* purple */
        {0.55, 0.33, 0.14}, /* brown */
        {0.35, 0.35, 0.35}, /* grey */
    };
    k = ((k % CQB_PLOT_MAX_SERIES) + CQB_PLOT_MAX_SERIES) % CQB_PLOT_MAX_SERIES;
    rgb[0] = pal[k][0];
    rgb[1] = pal[k][1];
    rgb[2] = pal[k][2];
}

void pl_series_dash(cairo_t *cr, int k, double s)
{
    double d[4];
    switch (k % CQB_PLOT_MAX_SERIES) {
    case 1: d[0] = 9 * s, d[1] = 5 * s; cairo_set_dash(cr, d, 2, 0); break;
    case 2: d[0] = 2 * s, d[1] = 4 * s; cairo_set_dash(cr, d, 2, 0); break;
    case 3: d[0] = 9 * s, d[1] = 4 * s, d[2] = 2 * s, d[3] = 4 * s; cairo_set_dash(cr, d, 4, 0); break;
    case 4: d[0] = 15 * s, d[1] = 5 * s; cairo_set_dash(cr, d, 2, 0); break;
    case 5: d[0] = 4 * s, d[1] = 3 * s; cairo_set_dash(cr, d, 2, 0); break;
    default: cairo_set_dash(cr, NULL, 0, 0); break;
    }
}

void pl_marker(cairo_t *cr, int k, double x, double y, double r, double lw)
{
    double rgb[3];
    int shape = k % CQB_PLOT_MAX_SERIES, filled = (shape == 0 || shape == 2 || shape == 4);
    pl_series_color(k, rgb);
    cairo_save(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_new_path(cr);
    switch (shape) {
    case 1: case 4:
        cairo_rectangle(cr, x - 0.9 * r, y - 0.9 * r, 1.8 * r, 1.8 * r);
        break;
    case 2:
        cairo_move_to(cr, x, y - 1.15 * r);
        cairo_line_to(cr, x + r, y + 0.6 * r);
        cairo_line_to(cr, x - r, y + 0.6 * r);
        cairo_close_path(cr);
        break;
    case 3:
        cairo_move_to(cr, x, y - 1.2 * r);
        cairo_line_to(cr, x + 1.2 * r, y);
        cairo_line_to(cr, x, y + 1.2 * r);
        cairo_line_to(cr, x - 1.2 * r, y);
        cairo_close_path(cr);
        break;
    default:
        cairo_arc(cr, x, y, r, 0, 2 * M_PI);
        break;
    }
    if (filled) {
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 0.6 * lw);
        cairo_stroke(cr);
    } else {
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, lw);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
}

void pl_ring(cairo_t *cr, double x, double y, double r, double s)
{
    cairo_save(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_new_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_set_line_width(cr, 4.2 * s);
    cairo_stroke_preserve(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 2.0 * s);
    cairo_stroke(cr);
    cairo_restore(cr);
}

void pl_dot(cairo_t *cr, double x, double y, double r, double s)
{
    cairo_save(cr);
    cairo_new_path(cr);
    cairo_arc(cr, x, y, r + 1.3 * s, 0, 2 * M_PI);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill(cr);
    cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_fill(cr);
    cairo_restore(cr);
}

void pl_bold_rect(cairo_t *cr, double x, double y, double w, double h, double s)
{
    double ob = 3.0 * s, iw = 2.0 * s;
    cairo_save(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_new_path(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, ob);
    cairo_rectangle(cr, x + 0.5 * ob, y + 0.5 * ob, w - ob, h - ob);
    cairo_stroke(cr);
    if (w > 2.0 * (ob + iw) && h > 2.0 * (ob + iw)) {
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, iw);
        cairo_rectangle(cr, x + ob + 0.5 * iw, y + ob + 0.5 * iw, w - 2.0 * ob - iw, h - 2.0 * ob - iw);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
}

void pl_hatch(cairo_t *cr, double x0, double y0, double x1, double y1, double s)
{
    double gap = 7.0 * s, h = y1 - y0;
    cairo_save(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_new_path(cr);
    cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
    cairo_set_line_width(cr, 1.0 * s);
    /* Lines x - y = const, aligned to the page so neighbouring cells join. */
    double c0 = floor((x0 - y1) / gap) * gap;
    for (double c = c0; c <= x1 - y0; c += gap) {
        cairo_move_to(cr, c + y1, y1);
        cairo_line_to(cr, c + y1 - h, y0);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}
