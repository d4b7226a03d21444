/* cqboot/plot.h — figures drawn with cairo, each written as both a PNG and
 * an SVG (PATH.png and PATH.svg from one PATH without extension).
 *
 * The API is data-oriented and independent of the result structs: every
 * figure takes plain arrays in a small description struct whose zero value
 * means "defaults" (NULL arrays = not drawn, NULL labels = 1..n, ranges with
 * min >= max = from the data). cqboot/plot_cq.h builds these from CQ results.
 *
 * Figures (all with a title/subtitle, axis titles, tick labels and, where
 * colour carries a value, a colour bar; a legend strip under the subtitle
 * explains every mark):
 *   cqb_plot_heatmap()      grid of cells (rows x columns) coloured by value,
 *                           marked cells outlined in bold with a dot, NaN
 *                           cells hatched, value labels in small grids
 *   cqb_plot_series_band()  values against x (bars or points) over a shaded
 *                           band ribbon, optional whiskers, points outside
 *                           the band marked
 *   cqb_plot_lines()        named series against x, each with its own dash
 *                           and marker shape, flagged points ringed
 *   cqb_plot_timemap()      time x level heat map (wavelet local statistics)
 *                           with outlined significant regions and hatched NaN
 *   cqb_plot_intervals()    points with [lo, hi] whiskers against categories
 *                           and a reference line at zero
 *
 * COLOUR MAPS. Both maps are built in CIELAB (D65) with a lightness L* that
 * is linear, hence strictly monotonic, along the map (chroma is reduced,
 * never lightness, to stay inside sRGB), so a greyscale print still orders
 * every colour and no two values share a grey. Chroma is kept moderate so
 * that this holds for the usual grey conversions too: CIE luminance Y (a
 * function of L* alone) and the Rec. 601 / Rec. 709 luma of the encoded
 * values that printers and image tools use (tests/test_plot.c checks all
 * four on 256 steps). A classic blue-white-red map fails this: both ends
 * are dark and print as the same grey.
 *   CQB_CMAP_DIVERGING   dark blue (L* 20) -> neutral grey (L* 57.5, zero) ->
 *                        light yellow (L* 95): the hue (and colourfulness)
 *                        diverges from the neutral centre so the sign reads at
 *                        a glance in colour, while the grey print is a single
 *                        dark-to-light ramp (negative dark, positive light).
 *                        Blue-yellow is also the axis colour-blind readers
 *                        keep (deuteranopia, protanopia).
 *   CQB_CMAP_SEQUENTIAL  pale yellow (L* 95, low) -> orange -> red -> dark
 *                        purple (L* 20, high).
 * Significance is never shown by colour alone: marked heat-map cells get a
 * bold black-on-white outline and a dot, marked points a ring, marked bars a
 * bold outline and a dot beyond the tip, significant time-map regions an
 * outline; missing values are hatched.
 *
 * TEXT. Cairo's toy text API with the "sans-serif" face (fontconfig picks the
 * font; no pango). Labels must be UTF-8 (CQB_EUSAGE otherwise). Font sizes are
 * in pixels for 900 x 700 and scale with the figure's area.
 *
 * FILES. Both files are rendered to temporary files in the target directory
 * (".NAME.png.tmpPID.N") and renamed into place only when both are complete;
 * on any failure the temporary files are removed and no new file is left
 * (CQB_EIO with the path and the system's reason).
 *
 * Thread safety: no shared state besides an atomic counter for temporary
 * names. Nothing prints.
 */
#ifndef CQBOOT_PLOT_H
#define CQBOOT_PLOT_H

#include <stddef.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Text and size of a figure. NULL or "" texts are left out. */
typedef struct cqb_fig_opts {
    const char *title;      /* bold first line */
    const char *subtitle;   /* second line */
    const char *xlabel;     /* axis titles: say the unit, e.g. "lag k (months)" */
    const char *ylabel;
    const char *cbar_label; /* colour-bar title (heat maps) */
    int width, height;      /* PNG pixels = SVG px; 0 = 900 x 700; 200..8000 */
} cqb_fig_opts;

/*! cqb_fig_opts_default() : no texts, 900 x 700. */
void cqb_fig_opts_default(cqb_fig_opts *o);

typedef enum cqb_cmap {
    CQB_CMAP_AUTO = 0,      /* diverging when the colour range has both signs,
                               sequential otherwise */
    CQB_CMAP_DIVERGING = 1, /* blue - grey - yellow, centred at zero */
    CQB_CMAP_SEQUENTIAL = 2 /* pale yellow - red - dark purple */
} cqb_cmap;

/*! cqb_cmap_eval() : colour of position t in [0,1] (clamped; NaN -> 0.5) of
 *  map (DIVERGING or SEQUENTIAL; AUTO = DIVERGING) as sRGB in [0,1]; returns
 *  the colour's CIE L* (monotonic in t: increasing for DIVERGING,
 *  decreasing for SEQUENTIAL). rgb may be NULL. */
double cqb_cmap_eval(cqb_cmap map, double t, double rgb[3]);

/* ---- 1. heat map --------------------------------------------------------- */
typedef struct cqb_fig_heat {
    size_t nrow, ncol;             /* >= 1 each */
    const double *z;               /* nrow * ncol values, z[r * ncol + c]; NaN = missing */
    const unsigned char *mark;     /* same layout, nonzero = marked; NULL = none */
    const char *const *row_labels; /* nrow labels, row 0 at the bottom; NULL = 1..nrow */
    const char *const *col_labels; /* ncol labels, column 0 at the left; NULL = 1..ncol */
    double zmin, zmax;             /* colour range (values beyond are clamped);
                                      zmin >= zmax or non-finite: from the data.
                                      A diverging map uses [-m, m], m = max(|zmin|, |zmax|) */
    cqb_cmap cmap;
    int value_labels;              /* 0: when nrow <= 10 and ncol <= 10; 1: always; -1: never */
    int digits;                    /* decimals of value labels, 1..6; 0 = 2 */
    const char *mark_label;        /* legend text of marks; NULL = "significant" */
    const unsigned char *hatch;    /* same layout, nonzero = hatched over the fill
                                      (e.g. a sparse cell); NULL = none */
    const char *hatch_label;       /* legend text of hatched cells; NULL = "sparse" */
} cqb_fig_heat;

/*! cqb_plot_heatmap() : writes path_noext.png and path_noext.svg; CQB_EUSAGE for
 *  invalid arguments, CQB_ENOMEM, CQB_EIO. */
cqb_status cqb_plot_heatmap(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_heat *h,
                            cqb_error *err);

/* ---- 2. values against x with a band ribbon ------------------------------ */
typedef enum cqb_plot_style { CQB_STYLE_BARS = 0, CQB_STYLE_POINTS = 1 } cqb_plot_style;

typedef struct cqb_fig_band {
    size_t n;                        /* >= 1 */
    const double *x;                 /* n finite, strictly ascending positions (e.g. lags) */
    const double *y;                 /* n values; NaN = not drawn */
    const double *band_lo, *band_hi; /* n each: ribbon (e.g. a null band around 0); NULL = none */
    const double *ci_lo, *ci_hi;     /* n each: whiskers; NULL = none */
    const unsigned char *mark;       /* n flags; NULL: y outside [band_lo, band_hi] */
    cqb_plot_style style;
    const char *y_name;              /* legend texts; NULL = "estimate", "band", */
    const char *band_name;           /* "interval", "outside the band" */
    const char *ci_name;
    const char *mark_label;
    double ymin, ymax;               /* y range; ymin >= ymax: from the data and 0 */
} cqb_fig_band;

/*! cqb_plot_series_band() : y against x with the band as a shaded ribbon;
 *  writes path_noext.png/.svg. */
cqb_status cqb_plot_series_band(const char *path_noext, const cqb_fig_opts *o,
                                const cqb_fig_band *b, cqb_error *err);

/* ---- 3. several series against x ----------------------------------------- */
#define CQB_PLOT_MAX_SERIES 6

typedef struct cqb_fig_series {
    const char *name;          /* legend text; NULL = "series k" */
    const double *y;           /* n values; NaN = gap */
    const unsigned char *mark; /* n flags: flagged points are ringed; NULL = none */
} cqb_fig_series;

typedef struct cqb_fig_lines {
    size_t n;                       /* >= 1 */
    const double *x;                /* n finite, strictly ascending */
    size_t nseries;                 /* 1..CQB_PLOT_MAX_SERIES */
    const cqb_fig_series *series;
    const char *mark_label;         /* legend text of rings; NULL = "flagged" */
    double ymin, ymax;              /* ymin >= ymax: from the data and 0 */
} cqb_fig_lines;

/*! cqb_plot_lines() : series k drawn with colour, dash and marker k (solid
 *  circles, dashed squares, dotted triangles, ...); writes path_noext.png/.svg. */
cqb_status cqb_plot_lines(const char *path_noext, const cqb_fig_opts *o, const cqb_fig_lines *l,
                          cqb_error *err);

/* ---- 4. time x level heat map -------------------------------------------- */
typedef struct cqb_fig_timemap {
    size_t ntime, nlevel;               /* >= 1 each */
    const double *z;                    /* nlevel * ntime, z[i * ntime + t] (the WLMC
                                           layout of cqboot/wmc.h); NaN = missing */
    const unsigned char *sig;           /* same layout, nonzero = significant; NULL = none */
    const char *const *time_labels;     /* ntime labels (dates); NULL = 1..ntime */
    const char *const *level_labels;    /* nlevel labels, level 0 at the top; NULL = 1..nlevel */
    double zmin, zmax;                  /* colour range; zmin >= zmax: from the data */
    cqb_cmap cmap;
    const char *sig_label;              /* legend text; NULL = "significant" */
} cqb_fig_timemap;

/*! cqb_plot_timemap() : levels as rows (level 0 on top), time across; the
 *  outline of every connected significant region is drawn; with more time
 *  points than pixel columns, each column shows the mean of its finite values
 *  (NaN if none) and is significant when most of its times are.
 *  Writes path_noext.png/.svg. */
cqb_status cqb_plot_timemap(const char *path_noext, const cqb_fig_opts *o,
                            const cqb_fig_timemap *m, cqb_error *err);

/* ---- 5. points with intervals against categories ------------------------- */
typedef struct cqb_fig_intervals {
    size_t n;                   /* >= 1 */
    const double *y;            /* n point estimates; NaN = not drawn */
    const double *lo, *hi;      /* n each: whiskers; NULL = none; NaN ends not drawn */
    const char *const *labels;  /* n category labels (levels, lags); NULL = 1..n */
    const unsigned char *mark;  /* n flags: ringed points; NULL = none */
    const char *y_name;         /* legend texts; NULL = "estimate", "interval", */
    const char *ci_name;        /* "flagged" */
    const char *mark_label;
    double ymin, ymax;          /* ymin >= ymax: from the data and 0 */
} cqb_fig_intervals;

/*! cqb_plot_intervals() : points with [lo, hi] whiskers and a dashed line at
 *  zero; writes path_noext.png/.svg. */
cqb_status cqb_plot_intervals(const char *path_noext, const cqb_fig_opts *o,
                              const cqb_fig_intervals *p, cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
