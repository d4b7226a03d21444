/* wmc.c — global wavelet multiple correlation (WMC), cross-correlation
 * (WMCC) and regression (WMR) as wavemulcor 3.1.2 computes them, plus the
 * shared options, workspace and coefficient preparation (wavelets.md §2,
 * §3.7, §3.8, §8). Written from the specification; no wavemulcor code. */
#include "cqboot/wmc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wmc_internal.h"

/* ------------------------------------------------------------------------- */
/* Options, windows                                                           */
/* ------------------------------------------------------------------------- */

void cqb_wmc_opts_default(cqb_wmc_opts *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->mode = CQB_WMC_COMPAT;
    o->p = 0.975;
    o->ymaxr = 0;
    o->nobs = 0.0;
    o->lag_max = -1;
    o->window = CQB_WINDOW_GAUSSIAN;
    o->M = 0.0;
    o->weight_power = 0;
    o->min_mass = 0.5;
    o->fast = 0;
}

void cqbw_opts_or_default(const cqb_wmc_opts *o, cqb_wmc_opts *out)
{
    if (o)
        *out = *o;
    else
        cqb_wmc_opts_default(out);
    if (out->min_mass < 0.0) out->min_mass = 0.5;
}

static const char *const k_window_names[CQB_WINDOW_COUNT] = {
    "uniform", "cleveland", "epanechnikov", "bartlett", "wendland", "gaussian"};

cqb_status cqb_window_parse(const char *name, cqb_window *w, cqb_error *err)
{
    static const struct {
        const char *key;
        cqb_window w;
    } keys[] = {{"unif", CQB_WINDOW_UNIFORM},      {"clev", CQB_WINDOW_CLEVELAND},
                {"tric", CQB_WINDOW_CLEVELAND},    {"epan", CQB_WINDOW_EPANECHNIKOV},
                {"para", CQB_WINDOW_EPANECHNIKOV}, {"bart", CQB_WINDOW_BARTLETT},
                {"tria", CQB_WINDOW_BARTLETT},     {"wend", CQB_WINDOW_WENDLAND},
                {"gaus", CQB_WINDOW_GAUSSIAN}};
    if (name && strlen(name) >= 4) {
        char key[5];
        for (int i = 0; i < 4; ++i) {
            int c = (unsigned char)name[i];
            key[i] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
        }
        key[4] = '\0';
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i)
            if (strcmp(key, keys[i].key) == 0) {
                if (w) *w = keys[i].w;
                return CQB_OK;
            }
    }
    return cqb_error_set(err, CQB_EUSAGE,
                         "wrong window type '%s' (expected uniform, cleveland/tricube, "
                         "epanechnikov/parabolic, bartlett/triangular, wendland or gaussian)",
                         name ? name : "(null)");
}

const char *cqb_window_name(cqb_window w)
{
    if ((int)w < 0 || (int)w >= CQB_WINDOW_COUNT) return "?";
    return k_window_names[w];
}

double cqb_window_kernel(cqb_window w, double M, double z)
{
    if (!(M > 0.0) || isnan(z)) return NAN;
    z = fabs(z);
    double r = z / M;
    switch (w) {
    case CQB_WINDOW_UNIFORM: return z <= M ? 1.0 : 0.0;
    case CQB_WINDOW_CLEVELAND: {
        if (z > M) return 0.0;
        double a = 1.0 - r * r * r;
        return a * a * a;
    }
    case CQB_WINDOW_EPANECHNIKOV: return z <= M ? 1.0 - r * r : 0.0;
    case CQB_WINDOW_BARTLETT: return z <= M ? 1.0 - r : 0.0;
    case CQB_WINDOW_WENDLAND: {
        if (z > M) return 0.0;
        double a = 1.0 - r;
        return a * a * a * a * (1.0 + 4.0 * r);
    }
    case CQB_WINDOW_GAUSSIAN: return exp(-(r * r));
    }
    return NAN;
}

int cqb_wmc_lags(size_t n, const cqb_wmc_opts *o)
{
    if (n == 0) return 0;
    long lm = (o && o->lag_max >= 0) ? (long)o->lag_max : (long)trunc(sqrt((double)n) / 2.0);
    if ((size_t)lm > n - 1) lm = (long)(n - 1);
    return (int)lm;
}

/* ------------------------------------------------------------------------- */
/* Workspace                                                                  */
/* ------------------------------------------------------------------------- */

void cqb_wmc_workspace_free(cqb_wmc_workspace *ws)
{
    if (!ws) return;
    free(ws->mask);
    free(ws->reach);
    free(ws->lagcnt);
    free(ws->dep);
    free(ws->st);
    free(ws->prod);
    free(ws->sacc);
    free(ws->v2);
    free(ws->pre);
    free(ws->suf);
    free(ws->u);
    free(ws->v);
    free(ws->uh);
    free(ws->ucum);
    free(ws->vcum);
    free(ws->phi);
    free(ws->nsz);
    free(ws->asum);
    free(ws->acc);
    free(ws->S);
    free(ws->G);
    free(ws->vec);
    free(ws->mc_work);
    free(ws->rg_work);
    free(ws);
}

cqb_wmc_workspace *cqb_wmc_workspace_alloc(size_t n, size_t d, cqb_error *err)
{
    if (n == 0 || d < 2) {
        cqb_error_set(err, CQB_EUSAGE, "wmc workspace: need n >= 1 and d >= 2 (got n = %zu, d = %zu)",
                      n, d);
        return NULL;
    }
    size_t P = d * (d + 1) / 2;
    if (d > 4096 || n > ((size_t)-1) / 64 / (P + 2)) {
        cqb_error_set(err, CQB_EUSAGE, "wmc workspace: n = %zu, d = %zu too large", n, d);
        return NULL;
    }
    cqb_wmc_workspace *ws = calloc(1, sizeof *ws);
    if (!ws) goto nomem;
    ws->n_cap = n;
    ws->d_cap = d;
    size_t np = n * (P + 1);
    ws->mask = malloc(n);
    ws->reach = malloc(n * sizeof *ws->reach);
    ws->lagcnt = malloc(2 * n * sizeof *ws->lagcnt);
    ws->dep = malloc(n * sizeof *ws->dep);
    ws->st = malloc(n);
    ws->prod = malloc(3 * np * sizeof(double));
    ws->sacc = malloc((np + n) * sizeof(double));
    ws->v2 = malloc(n * sizeof(double));
    ws->pre = malloc(np * sizeof(double));
    ws->suf = malloc(np * sizeof(double));
    ws->u = malloc(n * sizeof(double));
    ws->v = malloc(n * sizeof(double));
    ws->uh = malloc(n * sizeof(double));
    ws->ucum = malloc(n * sizeof(double));
    ws->vcum = malloc(n * sizeof(double));
    ws->phi = malloc(n * sizeof(double));
    ws->nsz = malloc(n * sizeof(double));
    ws->asum = malloc(n * sizeof(double));
    ws->acc = malloc((P + 2) * sizeof(double));
    ws->S = malloc(d * d * sizeof(double));
    ws->G = malloc((d + 1) * (d + 1) * sizeof(double));
    ws->vec = malloc(8 * (d + 1) * sizeof(double));
    ws->mc_work = malloc(cqbw_mulcor_work(d) * sizeof(double));
    ws->rg_work = malloc(cqbw_regress_work(d) * sizeof(double));
    if (!ws->mask || !ws->reach || !ws->lagcnt || !ws->dep || !ws->st || !ws->prod || !ws->pre || !ws->suf ||
        !ws->sacc || !ws->v2 ||
        !ws->u || !ws->v || !ws->uh || !ws->ucum || !ws->vcum || !ws->phi || !ws->nsz ||
        !ws->asum || !ws->acc || !ws->S || !ws->G || !ws->vec || !ws->mc_work || !ws->rg_work)
        goto nomem;
    return ws;
nomem:
    cqb_wmc_workspace_free(ws);
    cqb_error_set(err, CQB_ENOMEM, "wmc workspace: out of memory (n = %zu, d = %zu)", n, d);
    return NULL;
}

cqb_status cqbw_ws_get(cqb_wmc_workspace *ws, size_t n, size_t d, cqb_wmc_workspace **use,
                       cqb_wmc_workspace **own, cqb_error *err)
{
    *own = NULL;
    if (ws) {
        if (ws->n_cap < n || ws->d_cap < d)
            return cqb_error_set(err, CQB_EUSAGE,
                                 "wmc workspace too small: allocated for n <= %zu, d <= %zu; "
                                 "input has n = %zu, d = %zu",
                                 ws->n_cap, ws->d_cap, n, d);
        *use = ws;
        return CQB_OK;
    }
    *own = cqb_wmc_workspace_alloc(n, d, err);
    if (!*own) return err ? err->status : CQB_ENOMEM;
    *use = *own;
    return CQB_OK;
}

/* ------------------------------------------------------------------------- */
/* Validation                                                                 */
/* ------------------------------------------------------------------------- */

const char *cqbw_level_name(int i, int J, char *buf, size_t cap)
{
    if (i < J)
        snprintf(buf, cap, "d%d", i + 1);
    else
        snprintf(buf, cap, "s%d", J);
    return buf;
}

cqb_status cqbw_check_common(const char *who, const cqb_wlevels *in, const cqb_wmc_opts *o,
                             cqb_error *err)
{
    if (!in || !in->x) return cqb_error_set(err, CQB_EUSAGE, "%s: NULL input", who);
    if (in->d < 2)
        return cqb_error_set(err, CQB_EUSAGE,
                             "%s: need at least 2 series for a multiple correlation (got %zu)",
                             who, in->d);
    if (in->n == 0) return cqb_error_set(err, CQB_EUSAGE, "%s: empty coefficient vectors", who);
    if (in->J < 1 || in->J > 60)
        return cqb_error_set(err, CQB_EUSAGE, "%s: invalid number of levels J = %d", who, in->J);
    if (o->mode != CQB_WMC_COMPAT && o->mode != CQB_WMC_CORRECTED)
        return cqb_error_set(err, CQB_EUSAGE, "%s: invalid mode %d", who, (int)o->mode);
    if (!(o->p > 0.0 && o->p < 1.0))
        return cqb_error_set(err, CQB_EUSAGE, "%s: CI probability p = %g outside (0, 1)", who,
                             o->p);
    if (o->ymaxr < 0 || (size_t)o->ymaxr > in->d)
        return cqb_error_set(err, CQB_EUSAGE, "%s: ymaxr = %d outside 1..%zu (0 = argmax)", who,
                             o->ymaxr, in->d);
    if (!(o->nobs >= 0.0) || !isfinite(o->nobs))
        return cqb_error_set(err, CQB_EUSAGE, "%s: invalid nobs = %g", who, o->nobs);
    return CQB_OK;
}

size_t cqbw_level_mask(const cqb_wlevels *in, int i, unsigned char *mask)
{
    const size_t n = in->n, d = in->d;
    const double *base = in->x + (size_t)i * d * n;
    size_t cnt = 0;
    for (size_t t = 0; t < n; ++t) {
        unsigned char ok = 1;
        for (size_t k = 0; k < d; ++k)
            if (!isfinite(base[k * n + t])) {
                ok = 0;
                break;
            }
        mask[t] = ok;
        cnt += ok;
    }
    return cnt;
}

cqb_status cqbw_check_levels(const char *who, const cqb_wlevels *in, cqb_wmc_workspace *ws,
                             cqb_error *err)
{
    const size_t n = in->n, d = in->d;
    char name[16];
    for (int i = 0; i <= in->J; ++i) {
        size_t cnt = cqbw_level_mask(in, i, ws->mask);
        if (cnt == 0)
            return cqb_error_set(err, CQB_EDATA,
                                 "%s: level %s has no complete row (only boundary or missing "
                                 "coefficients): the series are too short for the filter and "
                                 "J = %d",
                                 who, cqbw_level_name(i, in->J, name, sizeof name), in->J);
        const double *base = in->x + (size_t)i * d * n;
        for (size_t k = 0; k < d; ++k) {
            double e = 0.0;
            for (size_t t = 0; t < n; ++t)
                if (ws->mask[t]) e += base[k * n + t] * base[k * n + t];
            if (!(e > 0.0))
                return cqb_error_set(err, CQB_EDATA,
                                     "%s: series %zu has no variation at level %s (constant "
                                     "series?)",
                                     who, k + 1, cqbw_level_name(i, in->J, name, sizeof name));
        }
    }
    return CQB_OK;
}

/* ------------------------------------------------------------------------- */
/* Preparation                                                                */
/* ------------------------------------------------------------------------- */

size_t cqb_wlevels_length(size_t n, cqb_boundary b, cqb_wmc_mode mode)
{
    if (b == CQB_BOUNDARY_REFLECTION && mode == CQB_WMC_COMPAT) return 2 * n;
    return n;
}

size_t cqb_wlevels_prepare_work(size_t n, cqb_boundary b, int J)
{
    if (J < 1) J = 1;
    return ((size_t)J + 2) * cqb_modwt_length(n, b);
}

cqb_status cqb_wlevels_prepare(const double *x, size_t ldx, size_t n, size_t d,
                               cqb_wavelet wf, int J, cqb_boundary b, cqb_wmc_mode mode,
                               int align, double *coef, cqb_wlevels *in, double *work,
                               cqb_error *err)
{
    const char *who = "wavelet coefficients";
    if (!x || !coef) return cqb_error_set(err, CQB_EUSAGE, "%s: NULL series or output", who);
    if (d < 2)
        return cqb_error_set(err, CQB_EUSAGE,
                             "%s: need at least 2 series for a multiple correlation (got %zu)",
                             who, d);
    if (n == 0) return cqb_error_set(err, CQB_EUSAGE, "%s: empty series", who);
    if (ldx < n) return cqb_error_set(err, CQB_EUSAGE, "%s: ldx = %zu < n = %zu", who, ldx, n);
    if (cqb_wavelet_length(wf) == 0)
        return cqb_error_set(err, CQB_EUSAGE, "%s: invalid wavelet filter %d", who, (int)wf);
    if (b != CQB_BOUNDARY_PERIODIC && b != CQB_BOUNDARY_REFLECTION)
        return cqb_error_set(err, CQB_EUSAGE, "%s: invalid boundary rule %d", who, (int)b);
    if (mode != CQB_WMC_COMPAT && mode != CQB_WMC_CORRECTED)
        return cqb_error_set(err, CQB_EUSAGE, "%s: invalid mode %d", who, (int)mode);
    const size_t tlen = cqb_modwt_length(n, b);
    const size_t len = cqb_wlevels_length(n, b, mode);
    int jmax = cqb_modwt_max_level(n, b);
    if (J < 1 || J > jmax)
        return cqb_error_set(err, CQB_EUSAGE,
                             "%s: J = %d levels invalid for series of length %zu with %s "
                             "boundary (need 1 <= J <= %d, i.e. 2^J <= %zu)",
                             who, J, n, cqb_boundary_name(b), jmax, tlen);
    for (size_t k = 0; k < d; ++k) {
        const double *xk = x + k * ldx;
        for (size_t t = 0; t < n; ++t)
            if (!isfinite(xk[t]))
                return cqb_error_set(err, CQB_EDATA,
                                     "%s: series %zu has a non-finite value at position %zu",
                                     who, k + 1, t + 1);
        size_t t = 1;
        while (t < n && xk[t] == xk[0]) ++t;
        if (t == n)
            return cqb_error_set(err, CQB_EDATA, "%s: series %zu is constant", who, k + 1);
    }
    size_t nJ = cqb_modwt_boundary_count(wf, J, tlen);
    if (nJ >= len)
        return cqb_error_set(err, CQB_EDATA,
                             "%s: series of length %zu too short for filter %s with J = %d: "
                             "level d%d has only boundary coefficients ((2^J - 1)(L - 1) = %zu "
                             ">= %zu); use a smaller J or a shorter filter",
                             who, n, cqb_wavelet_name(wf), J, J, nJ, len);
    double *own = NULL;
    if (!work) {
        own = malloc(cqb_wlevels_prepare_work(n, b, J) * sizeof *own);
        if (!own) return cqb_error_set(err, CQB_ENOMEM, "%s: out of memory", who);
        work = own;
    }
    double *tw = work;                           /* (J+1) * tlen */
    double *mw = work + ((size_t)J + 1) * tlen;  /* tlen */
    cqb_status st = CQB_OK;
    for (size_t k = 0; k < d && st == CQB_OK; ++k) {
        st = cqb_modwt(x + k * ldx, n, wf, J, b, tw, mw, err);
        if (st != CQB_OK) break;
        cqb_modwt_brick_wall(tw, tlen, wf, J);
        if (align) cqb_modwt_phase_shift(tw, tlen, wf, J);
        for (int i = 0; i <= J; ++i)
            memcpy(coef + ((size_t)i * d + k) * len, tw + (size_t)i * tlen, len * sizeof *coef);
    }
    free(own);
    if (st != CQB_OK) return st;
    if (in) {
        in->n = len;
        in->d = d;
        in->J = J;
        in->x = coef;
    }
    return CQB_OK;
}

/* ------------------------------------------------------------------------- */
/* Global statistics                                                          */
/* ------------------------------------------------------------------------- */

/* CI sample size of level i (0-based; i == J is the smooth). */
static double global_nsize(const cqb_wlevels *in, const cqb_wmc_opts *o, int i, size_t count)
{
    if (o->mode == CQB_WMC_CORRECTED) {
        int e = (i < in->J) ? i + 1 : in->J;
        return floor((double)count / ldexp(1.0, e));
    }
    double N = o->nobs > 0.0 ? o->nobs : (double)in->n;
    return trunc(N / ldexp(1.0, i + 1)); /* the smooth (i = J) uses 2^(J+1) */
}

/* Uncentred moments over the complete rows of level i. */
static void global_moments(const cqb_wlevels *in, int i, const unsigned char *mask, double *S)
{
    const size_t n = in->n, d = in->d;
    const double *base = in->x + (size_t)i * d * n;
    for (size_t k = 0; k < d; ++k)
        for (size_t l = k; l < d; ++l) {
            const double *xk = base + k * n, *xl = base + l * n;
            double s = 0.0;
            for (size_t t = 0; t < n; ++t)
                if (mask[t]) s += xk[t] * xl[t];
            S[k * d + l] = s;
            S[l * d + k] = s;
        }
}

typedef struct lag0_result {
    double phi;
    int dep;
    int status;
    size_t count;
    double nsize;
} lag0_result;

static void global_lag0(const cqb_wlevels *in, const cqb_wmc_opts *o, cqb_wmc_workspace *ws,
                        int i, lag0_result *r)
{
    r->count = cqbw_level_mask(in, i, ws->mask);
    global_moments(in, i, ws->mask, ws->S);
    r->status = cqbw_mulcor(ws->S, in->d, o->ymaxr, &r->phi, &r->dep, ws->mc_work);
    r->nsize = global_nsize(in, o, i, r->count);
}

/* The common start of cqb_wmc, cqb_wmcc and cqb_wmr: options (defaults for
 * NULL), their checks, the workspace (the caller's or *own, which the caller
 * frees) and the levels' checks. On failure nothing is left to free. */
static cqb_status begin(const char *who, const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                        cqb_wmc_opts *o, cqb_wmc_workspace **w, cqb_wmc_workspace **own, cqb_error *err)
{
    cqbw_opts_or_default(opts, o);
    cqb_status st = cqbw_check_common(who, in, o, err);
    if (st != CQB_OK) return st;
    st = cqbw_ws_get(ws, in->n, in->d, w, own, err);
    if (st != CQB_OK) return st;
    st = cqbw_check_levels(who, in, *w, err);
    if (st != CQB_OK) {
        cqb_wmc_workspace_free(*own);
        *own = NULL;
    }
    return st;
}

cqb_status cqb_wmc(const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                   const cqb_wmc_out *out, cqb_error *err)
{
    cqb_wmc_opts o;
    cqb_wmc_workspace *w = NULL, *own = NULL;
    cqb_status st = begin("wmc", in, opts, ws, &o, &w, &own, err);
    if (st != CQB_OK) return st;
    if (out) {
        const double q = cqbw_qnorm(o.p);
        for (int i = 0; i <= in->J; ++i) {
            lag0_result r;
            global_lag0(in, &o, w, i, &r);
            double lo, up, pv = NAN;
            cqbw_fisher_ci(r.phi, r.nsize, q, in->d > 2, in->d, &lo, &up, out->pval ? &pv : NULL);
            if (out->val) out->val[i] = r.phi;
            if (out->lo) out->lo[i] = lo;
            if (out->up) out->up[i] = up;
            if (out->dep) out->dep[i] = r.dep;
            if (out->pval) out->pval[i] = pv;
            if (out->nsize) out->nsize[i] = r.nsize;
        }
    }
    cqb_wmc_workspace_free(own);
    return st;
}

/* Compat lag fit: centred OLS of y[t + L] on (1, x_j[t], j != k) over the
 * complete rows; returns phi (signed for d = 2) or NaN. *count = rows. */
static double global_lag_compat(const cqb_wlevels *in, int i, size_t k, long L,
                                const unsigned char *mask, cqb_wmc_workspace *ws, size_t *count)
{
    const size_t n = in->n, d = in->d, q = d - 1, m = d;
    const double *base = in->x + (size_t)i * d * n;
    const double *y = base + k * n;
    double *sx = ws->vec;          /* q first moments */
    double *raw = ws->vec + m;     /* q raw sums of squares */
    double *G = ws->G;             /* m x m: X block then y */
    memset(sx, 0, q * sizeof *sx);
    memset(G, 0, m * m * sizeof *G);
    double sy = 0.0;
    size_t cnt = 0;
    size_t t0 = L < 0 ? (size_t)(-L) : 0;
    size_t t1 = L > 0 ? n - (size_t)L : n; /* exclusive */
    for (size_t t = t0; t < t1; ++t) {
        size_t ty = (size_t)((long)t + L);
        if (!mask[t] || !mask[ty]) continue;
        ++cnt;
        cqbw_moments_add_row(G, sx, &sy, m, base, n, d, k, t, y[ty]);
    }
    *count = cnt;
    if (cnt == 0) return NAN;
    cqbw_moments_centre(G, sx, sy, raw, q, (double)cnt);
    double r2 = NAN;
    if (cqbw_regress(G, raw, NULL, q, &r2, NULL, NULL, NULL, NULL, ws->rg_work) < 0) return NAN;
    double phi = sqrt(r2 > 0.0 ? r2 : 0.0);
    if (d == 2) {
        double c = G[0 * m + q];
        phi = c > 0.0 ? phi : (c < 0.0 ? -phi : 0.0);
    }
    return phi;
}

/* Corrected lag fit: uncentred multiple correlation of (y[t + L], X[t]) with
 * y in slot k, over the complete rows. */
static double global_lag_corrected(const cqb_wlevels *in, int i, size_t k, long L,
                                   const unsigned char *mask, cqb_wmc_workspace *ws,
                                   size_t *count)
{
    const size_t n = in->n, d = in->d;
    const double *base = in->x + (size_t)i * d * n;
    double *S = ws->S;
    double *row = ws->vec;
    memset(S, 0, d * d * sizeof *S);
    size_t cnt = 0;
    size_t t0 = L < 0 ? (size_t)(-L) : 0;
    size_t t1 = L > 0 ? n - (size_t)L : n;
    for (size_t t = t0; t < t1; ++t) {
        size_t ty = (size_t)((long)t + L);
        if (!mask[t] || !mask[ty]) continue;
        ++cnt;
        for (size_t kk = 0; kk < d; ++kk) row[kk] = base[kk * n + (kk == k ? ty : t)];
        for (size_t a = 0; a < d; ++a)
            for (size_t b = a; b < d; ++b) S[a * d + b] += row[a] * row[b];
    }
    *count = cnt;
    if (cnt == 0) return NAN;
    for (size_t a = 0; a < d; ++a)
        for (size_t b = 0; b < a; ++b) S[a * d + b] = S[b * d + a];
    double phi;
    int dep;
    int rc = cqbw_mulcor(S, d, (int)k + 1, &phi, &dep, ws->mc_work);
    if (rc == CQBW_MC_NAN) return NAN;
    return phi; /* 1 when rank deficient */
}

cqb_status cqb_wmcc(const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                    const cqb_wmc_out *out, cqb_error *err)
{
    cqb_wmc_opts o;
    cqb_wmc_workspace *w = NULL, *own = NULL;
    cqb_status st = begin("wmcc", in, opts, ws, &o, &w, &own, err);
    if (st != CQB_OK) return st;
    if (out) {
        const double q = cqbw_qnorm(o.p);
        const int lm = cqb_wmc_lags(in->n, &o);
        const size_t ncol = 2 * (size_t)lm + 1;
        const int trunc0 = in->d > 2;
        for (int i = 0; i <= in->J; ++i) {
            lag0_result r;
            global_lag0(in, &o, w, i, &r);
            if (out->dep) out->dep[i] = r.dep;
            for (long L = -lm; L <= lm; ++L) {
                double phi, nsz = r.nsize;
                if (L == 0) {
                    phi = r.phi;
                } else if (r.status != CQBW_MC_OK) {
                    phi = NAN; /* DEFINED: R's solve() fails at lag 0 */
                } else {
                    size_t cnt = 0;
                    size_t k = (size_t)r.dep - 1;
                    if (o.mode == CQB_WMC_CORRECTED) {
                        phi = global_lag_corrected(in, i, k, L, w->mask, w, &cnt);
                        nsz = global_nsize(in, &o, i, cnt);
                    } else {
                        phi = global_lag_compat(in, i, k, L, w->mask, w, &cnt);
                    }
                }
                double lo, up, pv = NAN;
                cqbw_fisher_ci(phi, nsz, q, trunc0, in->d, &lo, &up, out->pval ? &pv : NULL);
                size_t e = (size_t)i * ncol + (size_t)(L + lm);
                if (out->val) out->val[e] = phi;
                if (out->lo) out->lo[e] = lo;
                if (out->up) out->up[e] = up;
                if (out->pval) out->pval[e] = pv;
                if (out->nsize) out->nsize[e] = nsz;
            }
        }
    }
    cqb_wmc_workspace_free(own);
    return st;
}

void cqbw_reg_row_na(const cqb_wreg_out *reg, size_t row, size_t d)
{
    size_t c0 = row * (d + 1);
    for (size_t c = 0; c <= d; ++c) {
        if (reg->est) reg->est[c0 + c] = NAN;
        if (reg->se) reg->se[c0 + c] = NAN;
        if (reg->lower) reg->lower[c0 + c] = NAN;
        if (reg->upper) reg->upper[c0 + c] = NAN;
        if (reg->tstat) reg->tstat[c0 + c] = NAN;
        if (reg->pval) reg->pval[c0 + c] = NAN;
        if (reg->rank) reg->rank[c0 + c] = 0;
    }
}

void cqbw_reg_row_write(const cqb_wreg_out *reg, size_t row, size_t d, size_t k,
                          const double *est, const double *se, double df, double qci,
                          double *tmp)
{
    size_t c0 = row * (d + 1);
    double *tv = tmp;
    for (size_t c = 0; c <= d; ++c) {
        double e = est[c], s = se[c], t, p, lo, up;
        if (c == k + 1) {
            e = -1.0;
            s = 0.0;
            t = INFINITY;
            p = 0.0;
        } else {
            t = e / s;
            p = cqbw_pt2(t, df);
        }
        lo = e - qci * s;
        up = e + qci * s;
        tv[c] = t;
        if (reg->est) reg->est[c0 + c] = e;
        if (reg->se) reg->se[c0 + c] = s;
        if (reg->lower) reg->lower[c0 + c] = lo;
        if (reg->upper) reg->upper[c0 + c] = up;
        if (reg->tstat) reg->tstat[c0 + c] = t;
        if (reg->pval) reg->pval[c0 + c] = p;
    }
    if (reg->rank) cqbw_rank_abs(tv, d + 1, reg->rank + c0);
}

cqb_status cqb_wmr(const cqb_wlevels *in, const cqb_wmc_opts *opts, cqb_wmc_workspace *ws,
                   const cqb_wmc_out *out, const cqb_wreg_out *reg, cqb_error *err)
{
    cqb_wmc_opts o;
    cqb_wmc_workspace *w = NULL, *own = NULL;
    cqb_status st = begin("wmr", in, opts, ws, &o, &w, &own, err);
    if (st != CQB_OK) return st;
    const size_t n = in->n, d = in->d, qn = d - 1, m = d;
    const double q = cqbw_qnorm(o.p);
    for (int i = 0; i <= in->J; ++i) {
        lag0_result r;
        global_lag0(in, &o, w, i, &r);
        if (out) {
            double lo, up, pv = NAN;
            cqbw_fisher_ci(r.phi, r.nsize, q, d > 2, d, &lo, &up, out->pval ? &pv : NULL);
            if (out->val) out->val[i] = r.phi;
            if (out->lo) out->lo[i] = lo;
            if (out->up) out->up[i] = up;
            if (out->dep) out->dep[i] = r.dep;
            if (out->pval) out->pval[i] = pv;
            if (out->nsize) out->nsize[i] = r.nsize;
        }
        if (!reg) continue;
        if (r.status != CQBW_MC_OK) {
            cqbw_reg_row_na(reg, (size_t)i, d);
            continue;
        }
        const size_t k = (size_t)r.dep - 1;
        const double *base = in->x + (size_t)i * d * n;
        const double *y = base + k * n;
        const size_t m1 = d + 1;
        double *sx = w->vec, *raw = w->vec + m1, *beta = w->vec + 2 * m1;
        double *cinv = w->vec + 3 * m1, *est = w->vec + 4 * m1, *se = w->vec + 5 * m1;
        double *tmp = w->vec + 6 * m1;
        double *G = w->G;
        memset(sx, 0, qn * sizeof *sx);
        memset(G, 0, m * m * sizeof *G);
        double sy = 0.0;
        size_t cnt = 0;
        for (size_t t = 0; t < n; ++t) {
            if (!w->mask[t]) continue;
            ++cnt;
            cqbw_moments_add_row(G, sx, &sy, m, base, n, d, k, t, y[t]);
        }
        double nn = (double)cnt;
        cqbw_moments_centre(G, sx, sy, raw, qn, nn);
        for (size_t a = 0; a < qn; ++a) sx[a] /= nn; /* means */
        double r2, rss, xq;
        int na = cqbw_regress(G, raw, sx, qn, &r2, &rss, beta, cinv, &xq, w->rg_work);
        double df = nn - (double)d;
        if (na < 0 || !(df > 0.0)) {
            cqbw_reg_row_na(reg, (size_t)i, d);
            continue;
        }
        double b0 = sy / nn;
        for (size_t a = 0; a < qn; ++a)
            if (!isnan(beta[a])) b0 -= beta[a] * sx[a];
        rss = 0.0; /* from the residuals themselves (accurate when R^2 ~ 1) */
        for (size_t t = 0; t < n; ++t) {
            if (!w->mask[t]) continue;
            double res = y[t] - b0;
            size_t a = 0;
            for (size_t kk = 0; kk < d; ++kk) {
                if (kk == k) continue;
                if (!isnan(beta[a])) res -= beta[a] * base[kk * n + t];
                ++a;
            }
            rss += res * res;
        }
        double s2 = rss / df;
        est[k + 1] = -1.0;
        se[k + 1] = 0.0;
        est[0] = b0;
        se[0] = sqrt(s2 * (1.0 / nn + xq));
        size_t a = 0;
        for (size_t kk = 0; kk < d; ++kk) {
            if (kk == k) continue;
            est[kk + 1] = beta[a];
            se[kk + 1] = sqrt(s2 * cinv[a]);
            ++a;
        }
        double Nci = o.nobs > 0.0 ? o.nobs : (double)n;
        double dfci = o.mode == CQB_WMC_CORRECTED ? df : Nci - (double)d;
        double qci = cqbw_qt(o.p, dfci);
        cqbw_reg_row_write(reg, (size_t)i, d, k, est, se, df, qci, tmp);
    }
    cqb_wmc_workspace_free(own);
    return CQB_OK;
}
