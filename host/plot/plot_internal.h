/* plot_internal.h — private drawing kit shared by plot.c (the figures),
 * plot_core.c (this kit) and plot_cq.c: the atomic PNG + SVG writer, text,
 * numeric and categorical axes, the page layout, legend strip, colour bar
 * and marks. Not installed; not part of the public API.
 *
 * Coordinates are device pixels, y down. A figure's draw function is called
 * once per surface (image, then SVG) and must be deterministic. */
#ifndef CQBOOT_PLOT_INTERNAL_H
#define CQBOOT_PLOT_INTERNAL_H

#include <cairo.h>
#include <stddef.h>

#include "cqboot/error.h"
#include "cqboot/plot.h"

/* Draws a whole figure of W x H pixels on cr. Returns CQB_OK or an error
 * (drawing errors of cairo itself are detected by the caller). */
typedef cqb_status (*pl_draw_fn)(cairo_t *cr, double W, double H, const void *ctx, cqb_error *err);

/* Renders fn to path_noext.png and path_noext.svg atomically (see plot.h). */
cqb_status pl_render(const char *path_noext, const cqb_fig_opts *o, pl_draw_fn fn, const void *ctx,
                     cqb_error *err);

/* Checks o (NULL = defaults) and returns the size in *W, *H. */
cqb_status pl_check_opts(const cqb_fig_opts *o, int *W, int *H, cqb_error *err);

/* ---- text ---------------------------------------------------------------- */
enum { PL_LEFT = 0, PL_CENTER = 1, PL_RIGHT = 2 };    /* horizontal anchor */
enum { PL_TOP = 0, PL_MIDDLE = 1, PL_BASELINE = 2, PL_BOTTOM = 3 }; /* vertical anchor */

typedef struct pl_font { double size; int bold; } pl_font;

/* Width of s (0 for NULL). */
double pl_text_width(cairo_t *cr, pl_font f, const char *s);
/* Draws s anchored at (x, y) (after rotating by angle radians about it) in
 * the current source colour. NULL or "" draws nothing. */
void pl_text(cairo_t *cr, pl_font f, double x, double y, int ha, int va, double angle, const char *s);
/* Number as a tick label with `dec` decimals and a true minus sign. */
void pl_fmt_num(char *buf, size_t cap, double v, int dec);

/* ---- scale and style ----------------------------------------------------- */
typedef struct pl_style {
    double s;                           /* scale: 1 at 900 x 700 */
    pl_font title, subtitle, axis, tick, legend;
    double pad, ticklen, lw;            /* outer padding, tick length, line width */
} pl_style;

void pl_style_init(pl_style *st, double W, double H);

/* ---- axes ---------------------------------------------------------------- */
#define PL_MAXTICKS 64

typedef struct pl_axis {
    double lo, hi;                      /* data range of the plot side */
    size_t nticks;
    double at[PL_MAXTICKS];             /* tick positions (data units) */
    const char *lab[PL_MAXTICKS];
    char buf[PL_MAXTICKS][32];
    int decimals;
} pl_axis;

/* Numeric axis over [lo, hi] with about `target` nice ticks; `expand`
 * widens the range to the enclosing ticks; `integer` keeps steps >= 1. */
void pl_axis_numeric(pl_axis *ax, double lo, double hi, int target, int expand, int integer);
/* Categorical axis: categories at i + 0.5 over [0, n]; labels (NULL = 1..n)
 * every `step` categories (>= 1), at most PL_MAXTICKS. */
void pl_axis_categorical(pl_axis *ax, size_t n, const char *const *labels, size_t step);
/* Smallest step in {1,2,5}x10^k (>= 1) so that labels of width maxw fit in
 * a side of `len` pixels holding n categories. */
size_t pl_cat_step(size_t n, double len, double maxw);
/* Widest tick label of ax (or of labels[0..n) when given). */
double pl_axis_maxw(cairo_t *cr, pl_font f, const pl_axis *ax);
double pl_labels_maxw(cairo_t *cr, pl_font f, size_t n, const char *const *labels);

/* ---- page layout --------------------------------------------------------- */
enum {
    PL_LEG_LINE = 0,  /* line with dash and marker of series `idx` */
    PL_LEG_BAR,       /* filled bar */
    PL_LEG_RIBBON,    /* shaded band */
    PL_LEG_WHISKER,   /* vertical whisker with caps */
    PL_LEG_POINT,     /* filled point */
    PL_LEG_RING,      /* ringed point (flagged) */
    PL_LEG_BARMARK,   /* bar with bold outline and dot */
    PL_LEG_CELLMARK,  /* grey cell with bold outline and dot */
    PL_LEG_OUTLINE,   /* significant-region outline */
    PL_LEG_HATCH,     /* hatched missing cell */
    PL_LEG_REFLINE    /* dashed reference line */
};

typedef struct pl_legend_item { int kind, idx; const char *text; } pl_legend_item;

#define PL_MAXLEGEND 12

typedef struct pl_page {
    cairo_t *cr;
    double W, H;
    pl_style st;
    const cqb_fig_opts *o;
    double x0, x1, y0, y1;              /* plot area: left, right, top, bottom */
    pl_legend_item leg[PL_MAXLEGEND];
    size_t nleg;
    double leg_y, leg_rowh;             /* first legend row (top) and row height */
    double cbar_x;                      /* colour bar left edge (when has_cbar) */
    int has_cbar;
} pl_page;

void pl_page_init(pl_page *pg, cairo_t *cr, double W, double H, const cqb_fig_opts *o);
void pl_legend_add(pl_page *pg, int kind, int idx, const char *text);
/* Computes the plot area from the texts, legend, the widest y tick label,
 * the x tick label height, the last x label's half width and, if cbar_maxw
 * >= 0, room for a colour bar whose tick labels are that wide. */
void pl_page_layout(pl_page *pg, double ytick_maxw, double xlast_halfw, double cbar_maxw);
/* White background. */
void pl_page_background(const pl_page *pg);
/* Title, subtitle, legend strip, axis titles. */
void pl_page_texts(const pl_page *pg);
/* Light grid lines at the y ticks (draw before the data). */
void pl_page_grid(const pl_page *pg, const pl_axis *ya);
/* Frame around the plot area, ticks and tick labels of both axes. */
void pl_page_axes(const pl_page *pg, const pl_axis *xa, const pl_axis *ya);
double pl_xmap(const pl_page *pg, const pl_axis *xa, double v);
double pl_ymap(const pl_page *pg, const pl_axis *ya, double v);

/* ---- colour -------------------------------------------------------------- */
#define PL_LUT 256
typedef struct pl_cmap {
    cqb_cmap map;                       /* DIVERGING or SEQUENTIAL */
    double lo, hi;                      /* value range */
    double rgb[PL_LUT][3];
    double L[PL_LUT];
} pl_cmap;

/* Resolves AUTO and the range ([-m, m] for diverging; auto from finite
 * data[0..n) when lo >= hi or non-finite, rounded out to nice values). */
void pl_cmap_init(pl_cmap *cm, cqb_cmap map, double lo, double hi, const double *data, size_t n);
/* Colour of v (clamped to the range); returns L*. */
double pl_cmap_color(const pl_cmap *cm, double v, double rgb[3]);
/* Vertical colour bar right of the plot area with ticks and the cbar label. */
void pl_colorbar(const pl_page *pg, const pl_cmap *cm, const pl_axis *ca);
/* Axis for the colour bar. */
void pl_cbar_axis(pl_axis *ca, const pl_cmap *cm);

/* ---- marks --------------------------------------------------------------- */
/* Series style k (0..CQB_PLOT_MAX_SERIES-1): colour, dash, marker. */
void pl_series_color(int k, double rgb[3]);
void pl_series_dash(cairo_t *cr, int k, double s);
/* Marker of series k centred at (x, y) with radius r. */
void pl_marker(cairo_t *cr, int k, double x, double y, double r, double lw);
/* A ring (black on a white halo) around (x, y). */
void pl_ring(cairo_t *cr, double x, double y, double r, double s);
/* A dot (black, white rim) at (x, y). */
void pl_dot(cairo_t *cr, double x, double y, double r, double s);
/* A bold outline (black, white inside) of the rectangle. */
void pl_bold_rect(cairo_t *cr, double x, double y, double w, double h, double s);
/* Diagonal hatching over the current clip region's extents. */
void pl_hatch(cairo_t *cr, double x0, double y0, double x1, double y1, double s);

#endif
