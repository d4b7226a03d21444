/* plot_cq.c — CQ result figures (cqboot/plot_cq.h): gathers cells and Q
 * tests of a cqb_cq_result into the arrays of the generic figures. */
#include "cqboot/plot_cq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALPHA_TOL 1e-9

typedef struct cq_dims {
    size_t ny, nx, nl;
} cq_dims;

static int same(double a, double b) { return fabs(a - b) <= ALPHA_TOL; }

/* Recovers the grid of r->cells (alpha_y outer, alpha_x, lag inner). */
static cqb_status cq_grid(const cqb_cq_result *r, cq_dims *d, cqb_error *err)
{
    if (!r || !r->cells || r->ncells == 0) return cqb_error_set(err, CQB_EUSAGE, "CQ figure: empty result");
    const cqb_cq_cell *c = r->cells;
    size_t nl = 1, nx = 1;
    while (nl < r->ncells && same(c[nl].alpha_y, c[0].alpha_y) && same(c[nl].alpha_x, c[0].alpha_x)) ++nl;
    while (nx * nl < r->ncells && same(c[nx * nl].alpha_y, c[0].alpha_y)) ++nx;
    if (r->ncells % (nx * nl) != 0)
        return cqb_error_set(err, CQB_EUSAGE, "CQ figure: the cells do not form an alpha_y x alpha_x x lag grid");
    size_t ny = r->ncells / (nx * nl);
    for (size_t iy = 0; iy < ny; ++iy)
        for (size_t ix = 0; ix < nx; ++ix)
            for (size_t il = 0; il < nl; ++il) {
                const cqb_cq_cell *e = &c[(iy * nx + ix) * nl + il];
                if (!same(e->alpha_y, c[iy * nx * nl].alpha_y) || !same(e->alpha_x, c[ix * nl].alpha_x) ||
                    e->lag != c[il].lag)
                    return cqb_error_set(err, CQB_EUSAGE,
                                         "CQ figure: the cells do not form an alpha_y x alpha_x x lag grid");
            }
    d->ny = ny;
    d->nx = nx;
    d->nl = nl;
    return CQB_OK;
}

static int has_controls(const cqb_cq_result *r)
{
    for (size_t i = 0; i < r->ncells; ++i)
        if (isfinite(r->cells[i].rho_partial)) return 1;
    return 0;
}

/* A quantile level as a short label: 0.05, 0.1, 0.5, 0.975. */
static void fmt_alpha(char *buf, size_t cap, double a)
{
    snprintf(buf, cap, "%.4f", a);
    char *p = buf + strlen(buf) - 1;
    while (p > buf && *p == '0') *p-- = '\0';
    if (*p == '.') *p = '\0';
}

/* o with NULL texts replaced by defaults; NULL o = defaults. */
static cqb_fig_opts fill_opts(const cqb_fig_opts *o, const char *title, const char *subtitle,
                              const char *xlabel, const char *ylabel, const char *cbar)
{
    cqb_fig_opts f;
    if (o) f = *o;
    else cqb_fig_opts_default(&f);
    if (!f.title) f.title = title;
    if (!f.subtitle) f.subtitle = subtitle;
    if (!f.xlabel) f.xlabel = xlabel;
    if (!f.ylabel) f.ylabel = ylabel;
    if (!f.cbar_label) f.cbar_label = cbar;
    return f;
}

#define RHO "\xcf\x81\xcc\x82" /* rho with a circumflex */
#define ALPHA "\xce\xb1"

static cqb_status check_partial(const cqb_cq_result *r, int partial, int *controls, cqb_error *err)
{
    *controls = has_controls(r);
    if (partial && !*controls)
        return cqb_error_set(err, CQB_EUSAGE, "CQ figure: the result has no partial CQ (no controls)");
    return CQB_OK;
}

cqb_status cqb_plot_cq_heatmap(const char *path_noext, const cqb_fig_opts *o,
                               const cqb_cq_result *r, size_t lag, int partial, cqb_error *err)
{
    cq_dims d;
    int controls;
    cqb_status st = cq_grid(r, &d, err);
    if (st != CQB_OK) return st;
    if ((st = check_partial(r, partial, &controls, err)) != CQB_OK) return st;
    size_t il = d.nl;
    for (size_t i = 0; i < d.nl; ++i)
        if (r->cells[i].lag == lag) il = i;
    if (il == d.nl) return cqb_error_set(err, CQB_EUSAGE, "CQ heat map: lag %zu is not in the result", lag);

    size_t n = d.ny * d.nx;
    double *z = malloc(n * sizeof *z);
    unsigned char *mark = calloc(n, 1);
    char *lab = malloc((d.ny + d.nx) * 16);
    const char **rl = malloc((d.ny + d.nx) * sizeof *rl);
    if (!z || !mark || !lab || !rl) {
        st = cqb_error_set(err, CQB_ENOMEM, "CQ heat map: out of memory");
        goto done;
    }
    int marks = partial || !controls; /* the band is of the statistic drawn */
    size_t nobs = 0;
    for (size_t iy = 0; iy < d.ny; ++iy)
        for (size_t ix = 0; ix < d.nx; ++ix) {
            const cqb_cq_cell *c = &r->cells[(iy * d.nx + ix) * d.nl + il];
            double v = partial ? c->rho_partial : c->rho;
            z[iy * d.nx + ix] = v;
            mark[iy * d.nx + ix] = (unsigned char)(marks && isfinite(v) && isfinite(c->band_lo) &&
                                                   isfinite(c->band_hi) && (v < c->band_lo || v > c->band_hi));
            if (c->n > nobs) nobs = c->n;
        }
    for (size_t iy = 0; iy < d.ny; ++iy) {
        fmt_alpha(lab + iy * 16, 16, r->cells[iy * d.nx * d.nl].alpha_y);
        rl[iy] = lab + iy * 16;
    }
    for (size_t ix = 0; ix < d.nx; ++ix) {
        fmt_alpha(lab + (d.ny + ix) * 16, 16, r->cells[ix * d.nl].alpha_x);
        rl[d.ny + ix] = lab + (d.ny + ix) * 16;
    }
    char title[96], sub[200];
    snprintf(title, sizeof title, "%s at lag k = %zu",
             partial ? "Partial cross-quantilogram" : "Cross-quantilogram", lag);
    snprintf(sub, sizeof sub, "%s(%s_y, %s_x) of y on x lagged %zu, n = %zu%s", RHO, ALPHA, ALPHA, lag,
             nobs, marks ? "" : "; bands refer to the partial CQ, no marks");
    cqb_fig_opts f = fill_opts(o, title, sub, "quantile level " ALPHA "_x of x (probability)",
                               "quantile level " ALPHA "_y of y (probability)",
                               partial ? "partial CQ " RHO " (unitless)" : "CQ " RHO " (unitless)");
    cqb_fig_heat h;
    memset(&h, 0, sizeof h);
    h.nrow = d.ny;
    h.ncol = d.nx;
    h.z = z;
    h.mark = marks ? mark : NULL;
    h.row_labels = rl;
    h.col_labels = rl + d.ny;
    h.zmin = h.zmax = NAN;
    h.cmap = CQB_CMAP_DIVERGING;
    h.digits = 2;
    h.mark_label = "outside the bootstrap null band";
    st = cqb_plot_heatmap(path_noext, &f, &h, err);
done:
    free(z);
    free(mark);
    free(lab);
    free(rl);
    return st;
}

/* Index of the (alpha_y, alpha_x) block of cells, or nx * ny if absent. */
static size_t find_pair(const cqb_cq_result *r, const cq_dims *d, double ay, double ax)
{
    for (size_t iy = 0; iy < d->ny; ++iy)
        for (size_t ix = 0; ix < d->nx; ++ix) {
            const cqb_cq_cell *c = &r->cells[(iy * d->nx + ix) * d->nl];
            if (same(c->alpha_y, ay) && same(c->alpha_x, ax)) return iy * d->nx + ix;
        }
    return d->ny * d->nx;
}

cqb_status cqb_plot_cq_lags(const char *path_noext, const cqb_fig_opts *o, const cqb_cq_result *r,
                            double alpha_y, double alpha_x, int partial, int ci, cqb_error *err)
{
    cq_dims d;
    int controls;
    cqb_status st = cq_grid(r, &d, err);
    if (st != CQB_OK) return st;
    if ((st = check_partial(r, partial, &controls, err)) != CQB_OK) return st;
    size_t pair = find_pair(r, &d, alpha_y, alpha_x);
    if (pair == d.ny * d.nx)
        return cqb_error_set(err, CQB_EUSAGE, "CQ lag plot: (alpha_y, alpha_x) = (%g, %g) is not in the result",
                             alpha_y, alpha_x);
    size_t n = d.nl;
    double *buf = malloc(6 * n * sizeof *buf);
    if (!buf) return cqb_error_set(err, CQB_ENOMEM, "CQ lag plot: out of memory");
    double *x = buf, *y = buf + n, *blo = buf + 2 * n, *bhi = buf + 3 * n, *clo = buf + 4 * n, *chi = buf + 5 * n;
    int bands = partial || !controls;
    for (size_t i = 0; i < n; ++i) {
        const cqb_cq_cell *c = &r->cells[pair * d.nl + i];
        x[i] = (double)c->lag;
        y[i] = partial ? c->rho_partial : c->rho;
        blo[i] = c->band_lo;
        bhi[i] = c->band_hi;
        clo[i] = c->ci_lo;
        chi[i] = c->ci_hi;
    }
    char ay[16], ax[16], title[96], sub[200];
    fmt_alpha(ay, sizeof ay, alpha_y);
    fmt_alpha(ax, sizeof ax, alpha_x);
    snprintf(title, sizeof title, "%s by lag", partial ? "Partial cross-quantilogram" : "Cross-quantilogram");
    snprintf(sub, sizeof sub, "%s_y = %s, %s_x = %s%s", ALPHA, ay, ALPHA, ax,
             bands ? "; shaded: stationary-bootstrap null band" : "; bands refer to the partial CQ, not drawn");
    cqb_fig_opts f = fill_opts(o, title, sub, "lag k (periods)",
                               partial ? "partial CQ " RHO "(k) (unitless)" : "CQ " RHO "(k) (unitless)", NULL);
    cqb_fig_band b;
    memset(&b, 0, sizeof b);
    b.n = n;
    b.x = x;
    b.y = y;
    if (bands) {
        b.band_lo = blo;
        b.band_hi = bhi;
        if (ci) {
            b.ci_lo = clo;
            b.ci_hi = chi;
        }
    }
    b.style = CQB_STYLE_BARS;
    b.y_name = partial ? "partial CQ" : "CQ";
    b.band_name = "bootstrap null band";
    b.ci_name = "confidence interval";
    b.mark_label = "outside the null band";
    b.ymin = b.ymax = NAN;
    st = cqb_plot_series_band(path_noext, &f, &b, err);
    free(buf);
    return st;
}

cqb_status cqb_plot_qtests(const char *path_noext, const cqb_fig_opts *o, const cqb_cq_result *r,
                           double alpha_y, double alpha_x, int ljung_box, cqb_error *err)
{
    if (!r || !r->qtests || r->nqtests == 0)
        return cqb_error_set(err, CQB_EUSAGE, "Q test plot: the result has no Q tests");
    size_t n = 0;
    for (size_t i = 0; i < r->nqtests; ++i)
        if (same(r->qtests[i].alpha_y, alpha_y) && same(r->qtests[i].alpha_x, alpha_x)) ++n;
    if (n == 0)
        return cqb_error_set(err, CQB_EUSAGE, "Q test plot: (alpha_y, alpha_x) = (%g, %g) is not in the result",
                             alpha_y, alpha_x);
    double *buf = malloc(3 * n * sizeof *buf);
    unsigned char *mark = calloc(n, 1);
    cqb_status st;
    if (!buf || !mark) {
        st = cqb_error_set(err, CQB_ENOMEM, "Q test plot: out of memory");
        goto done;
    }
    double *x = buf, *q = buf + n, *cv = buf + 2 * n;
    for (size_t i = 0, k = 0; i < r->nqtests && k < n; ++i) {
        const cqb_cq_qtest *t = &r->qtests[i];
        if (!same(t->alpha_y, alpha_y) || !same(t->alpha_x, alpha_x)) continue;
        x[k] = (double)t->p;
        q[k] = ljung_box ? t->q_lb : t->q_bp;
        cv[k] = ljung_box ? t->cv_lb : t->cv_bp;
        mark[k] = (unsigned char)(isfinite(q[k]) && isfinite(cv[k]) && q[k] > cv[k]);
        if (k && !(x[k] > x[k - 1])) {
            st = cqb_error_set(err, CQB_EUSAGE, "Q test plot: the Q tests are not ordered by p");
            goto done;
        }
        ++k;
    }
    char ay[16], ax[16], title[96], sub[200];
    fmt_alpha(ay, sizeof ay, alpha_y);
    fmt_alpha(ax, sizeof ax, alpha_x);
    snprintf(title, sizeof title, "%s test of the %s", ljung_box ? "Ljung-Box" : "Box-Pierce",
             has_controls(r) ? "partial cross-quantilogram" : "cross-quantilogram");
    snprintf(sub, sizeof sub, "%s_y = %s, %s_x = %s; Q over lags 1..p against its bootstrap critical value",
             ALPHA, ay, ALPHA, ax);
    cqb_fig_opts f = fill_opts(o, title, sub, "p (largest lag in Q, periods)", "Q statistic (unitless)", NULL);
    cqb_fig_series s[2];
    memset(s, 0, sizeof s);
    s[0].name = ljung_box ? "Ljung-Box Q(p)" : "Box-Pierce Q(p)";
    s[0].y = q;
    s[0].mark = mark;
    s[1].name = "bootstrap critical value";
    s[1].y = cv;
    cqb_fig_lines l;
    memset(&l, 0, sizeof l);
    l.n = n;
    l.x = x;
    l.nseries = 2;
    l.series = s;
    l.mark_label = "rejected (Q > critical value)";
    l.ymin = l.ymax = NAN;
    st = cqb_plot_lines(path_noext, &f, &l, err);
done:
    free(buf);
    free(mark);
    return st;
}
