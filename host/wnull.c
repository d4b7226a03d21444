/* wnull.c — resampling significance of wavelet multiple correlations
 * (see wnull.h). */
#include "cqboot/wnull.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/blocklen.h"
#include "cqboot/fft.h"
#include "cqboot/philox.h"
#include "cqboot/quantile.h"
#include "cqboot/sbresample.h"
#include "cqboot/wlmc.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* stream tags: family WAVELET, the series in the lag field, the scheme in
 * the cell field */
enum { SCHEME_BOOT = 0, SCHEME_JOINT = 1, SCHEME_PHASE = 2, SCHEME_ROTATE = 3 };

static uint32_t tag_of(int scheme, size_t series)
{
    return cqb_sb_tag(CQB_FAMILY_WAVELET, (uint32_t)series, (uint32_t)scheme);
}

int cqb_wnull_parse(const char *s, cqb_wnull *out)
{
    if (!strcmp(s, "bootstrap")) *out = CQB_WNULL_BOOTSTRAP;
    else if (!strcmp(s, "phase")) *out = CQB_WNULL_PHASE;
    else if (!strcmp(s, "rotation")) *out = CQB_WNULL_ROTATION;
    else if (!strcmp(s, "joint")) *out = CQB_WNULL_JOINT;
    else return -1;
    return 0;
}

const char *cqb_wnull_name(cqb_wnull n)
{
    switch (n) {
    case CQB_WNULL_BOOTSTRAP: return "bootstrap";
    case CQB_WNULL_PHASE: return "phase";
    case CQB_WNULL_ROTATION: return "rotation";
    case CQB_WNULL_JOINT: return "joint";
    }
    return "?";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int is_local(cqb_wstat s) { return s == CQB_WSTAT_WLMC || s == CQB_WSTAT_WLMCC; }
static int is_cross(cqb_wstat s) { return s == CQB_WSTAT_WMCC || s == CQB_WSTAT_WLMCC; }

/* The statistic of prepared coefficients: val (ncell), dep. */
static cqb_status statistic(const cqb_wtest_spec *s, const cqb_wlevels *in, cqb_wmc_workspace *ws, double *val,
                            int *dep, cqb_error *err)
{
    cqb_wmc_out o;
    memset(&o, 0, sizeof o);
    o.val = val;
    o.dep = dep;
    switch (s->stat) {
    case CQB_WSTAT_WMC: return cqb_wmc(in, &s->opts, ws, &o, err);
    case CQB_WSTAT_WMCC: return cqb_wmcc(in, &s->opts, ws, &o, err);
    case CQB_WSTAT_WLMC: return cqb_wlmc(in, &s->opts, ws, &o, err);
    case CQB_WSTAT_WLMCC: return cqb_wlmcc(in, &s->opts, ws, &o, err);
    }
    return cqb_error_set(err, CQB_EUSAGE, "unknown wavelet statistic");
}

/* Family of a cell (see wnull.h); -1 when there is none. */
static long family_of(const cqb_wtest_spec *s, size_t cell, size_t len, int lm)
{
    const size_t w = 2 * (size_t)lm + 1;
    switch (s->stat) {
    case CQB_WSTAT_WMC: return -1;
    case CQB_WSTAT_WMCC: return (long)(cell / w);
    case CQB_WSTAT_WLMC: return (long)(cell / len);
    case CQB_WSTAT_WLMCC: return (long)((cell / (w * len)) * w + cell % w);
    }
    return -1;
}

typedef struct tls {
    cqb_wmc_workspace *ws;
    double *xb, *coef, *work, *val, *cplx, *fscratch;
    int *dep;
    uint32_t *idx, *pos, *row;
    size_t *cnt, *valid;
} tls;

static void tls_free(tls *t)
{
    cqb_wmc_workspace_free(t->ws);
    free(t->xb); free(t->coef); free(t->work); free(t->val); free(t->cplx); free(t->fscratch);
    free(t->dep); free(t->idx); free(t->pos); free(t->row); free(t->cnt); free(t->valid);
    memset(t, 0, sizeof *t);
}

/* Phase-randomised surrogate of one series (n values) into out. */
static void phase_surrogate(const cqb_fft *plan, const double *x, size_t n, uint64_t seed, uint32_t rep, size_t k,
                            double *cplx, double *scratch, double *out)
{
    for (size_t t = 0; t < n; ++t) {
        cplx[2 * t] = x[t];
        cplx[2 * t + 1] = 0.0;
    }
    cqb_fft_run(plan, cplx, -1, scratch);
    const uint64_t sub = (uint64_t)rep | ((uint64_t)tag_of(SCHEME_PHASE, k) << 32);
    for (size_t f = 1; 2 * f < n; ++f) {
        uint32_t w = cqb_curand_word(seed, sub, 0, f);
        double th = 2.0 * M_PI * (((double)w + 0.5) / 4294967296.0);
        double c = cos(th), s = sin(th);
        double re = cplx[2 * f] * c - cplx[2 * f + 1] * s, im = cplx[2 * f] * s + cplx[2 * f + 1] * c;
        cplx[2 * f] = re;
        cplx[2 * f + 1] = im;
        cplx[2 * (n - f)] = re;
        cplx[2 * (n - f) + 1] = -im;
    }
    cqb_fft_run(plan, cplx, +1, scratch);
    for (size_t t = 0; t < n; ++t) out[t] = cplx[2 * t] / (double)n;
}

cqb_status cqb_wtest(const cqb_wtest_spec *s, cqb_wtest_result *r, cqb_error *err)
{
    memset(r, 0, sizeof *r);
    if (s->B < 1 || s->B > UINT32_MAX) return cqb_error_set(err, CQB_EUSAGE, "--boot: B must be in 1..2^32-1");
    if (!(s->level > 0.0 && s->level < 1.0)) return cqb_error_set(err, CQB_EUSAGE, "--level: must be in (0,1)");
    if (s->null == CQB_WNULL_JOINT && is_local(s->stat))
        return cqb_error_set(err, CQB_EUSAGE,
                             "--null joint: joint-bootstrap intervals are defined for the global statistics "
                             "(wmc, wmcc) only");
    if (s->d < 2 || s->n < 4) return cqb_error_set(err, CQB_EUSAGE, "at least 2 series of 4 values");
    const size_t n = s->n, d = s->d;
    const int align = is_local(s->stat);
    const size_t len = cqb_wlevels_length(n, s->boundary, s->opts.mode);
    const int lm = is_cross(s->stat) ? cqb_wmc_lags(len, &s->opts) : 0;
    const size_t w = 2 * (size_t)lm + 1, L1 = (size_t)s->J + 1;
    size_t ncell = 0, nfam = 0, ndep = 0;
    switch (s->stat) {
    case CQB_WSTAT_WMC: ncell = L1; nfam = 0; ndep = L1; break;
    case CQB_WSTAT_WMCC: ncell = L1 * w; nfam = L1; ndep = L1; break;
    case CQB_WSTAT_WLMC: ncell = L1 * len; nfam = L1; ndep = L1 * len; break;
    case CQB_WSTAT_WLMCC: ncell = L1 * len * w; nfam = L1 * w; ndep = L1 * len; break;
    }
    r->ncell = ncell;
    r->nfam = nfam;
    r->len = len;
    r->lags = lm;
    const int joint = s->null == CQB_WNULL_JOINT;
    r->phi = malloc(ncell * sizeof *r->phi);
    r->dep = malloc(ndep * sizeof *r->dep);
    r->p = malloc(ncell * sizeof *r->p);
    r->p_fw = malloc(ncell * sizeof *r->p_fw);
    r->cv_fw = malloc((nfam ? nfam : 1) * sizeof *r->cv_fw);
    r->valid = calloc(ncell, sizeof *r->valid);
    if (joint) {
        r->lo = malloc(ncell * sizeof *r->lo);
        r->hi = malloc(ncell * sizeof *r->hi);
    }
    size_t *cnt = calloc(ncell, sizeof *cnt);
    double *fmax = nfam ? malloc(s->B * nfam * sizeof *fmax) : NULL;
    double *jv = joint ? malloc(s->B * ncell * sizeof *jv) : NULL;
    double *coef0 = malloc(L1 * d * len * sizeof *coef0);
    cqb_fft *plan = NULL;
    cqb_status st = CQB_OK;
    if (!r->phi || !r->dep || !r->p || !r->p_fw || !r->cv_fw || !r->valid || (joint && (!r->lo || !r->hi)) || !cnt ||
        (nfam && !fmax) || (joint && !jv) || !coef0) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory for the resampling test");
        goto out;
    }

    /* the observed statistic */
    {
        cqb_wlevels in;
        if ((st = cqb_wlevels_prepare(s->x, s->ldx, n, d, s->wf, s->J, s->boundary, s->opts.mode, align, coef0, &in,
                                      NULL, err)) != CQB_OK)
            goto out;
        if ((st = statistic(s, &in, NULL, r->phi, r->dep, err)) != CQB_OK) goto out;
    }
    /* restart probability of the bootstrap schemes */
    r->gamma = s->gamma;
    if ((s->null == CQB_WNULL_BOOTSTRAP || joint) && !(s->gamma > 0.0)) {
        double *b = malloc(d * sizeof *b);
        if (!b) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto out;
        }
        cqb_bstar_opts bo;
        cqb_bstar_opts_default(&bo);
        for (size_t k = 0; k < d && st == CQB_OK; ++k) {
            double bcb;
            if (cqb_bstar(s->x + k * s->ldx, n, &bo, &b[k], &bcb) != CQB_OK)
                st = cqb_error_set(err, CQB_EDATA, "automatic gamma: no block length for series %zu; give --gamma", k + 1);
        }
        if (st == CQB_OK) r->gamma = cqb_gamma_from_bstar(b, d, 0);
        free(b);
        if (st != CQB_OK) goto out;
    }
    if (s->null == CQB_WNULL_PHASE && (st = cqb_fft_create(n, &plan, err)) != CQB_OK) goto out;
    const uint64_t thr = cqb_bernoulli_threshold(r->gamma > 0 ? r->gamma : 1.0);
    const int d2 = d == 2;

    /* valid spans of the observed coefficients, for the rotation scheme */
    size_t *span = NULL;
    if (s->null == CQB_WNULL_ROTATION) {
        span = malloc(2 * L1 * d * sizeof *span);
        if (!span) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t v = 0; v < L1 * d; ++v) {
            const double *c = coef0 + v * len;
            size_t a = 0, e = len;
            while (a < len && !isfinite(c[a])) ++a;
            while (e > a && !isfinite(c[e - 1])) --e;
            span[2 * v] = a;
            span[2 * v + 1] = e;
        }
    }

    int failed = 0;
    cqb_error terr = {CQB_OK, ""};
    const long B = (long)s->B;
#pragma omp parallel num_threads(s->threads > 0 ? s->threads : omp_get_max_threads())
    {
        tls t;
        memset(&t, 0, sizeof t);
        cqb_error e2;
        t.ws = cqb_wmc_workspace_alloc(len, d, &e2);
        t.xb = malloc(d * n * sizeof *t.xb);
        t.coef = malloc(L1 * d * len * sizeof *t.coef);
        t.work = malloc(cqb_wlevels_prepare_work(n, s->boundary, s->J) * sizeof *t.work);
        t.val = malloc(ncell * sizeof *t.val);
        t.dep = malloc(ndep * sizeof *t.dep);
        t.idx = malloc(n * sizeof *t.idx);
        t.pos = malloc(n * sizeof *t.pos);
        t.row = malloc(n * sizeof *t.row);
        t.cnt = calloc(ncell, sizeof *t.cnt);
        t.valid = calloc(ncell, sizeof *t.valid);
        if (plan) {
            t.cplx = malloc(2 * n * sizeof *t.cplx);
            t.fscratch = malloc((cqb_fft_scratch(plan) + 1) * sizeof *t.fscratch);
        }
        int ok = t.ws && t.xb && t.coef && t.work && t.val && t.dep && t.idx && t.pos && t.row && t.cnt && t.valid &&
                 (!plan || (t.cplx && t.fscratch));
        if (!ok) {
#pragma omp critical(cqb_wnull_err)
            {
                if (!failed) cqb_error_set(&terr, CQB_ENOMEM, "out of memory for the resampling workspaces");
                failed = 1;
            }
        }
#pragma omp for schedule(dynamic, 4)
        for (long b = 0; b < B; ++b) {
            if (!ok || failed) continue;
            const uint32_t rep = (uint32_t)b;
            cqb_wlevels in;
            cqb_status st2 = CQB_OK;
            cqb_error e3;
            if (s->null == CQB_WNULL_ROTATION) {
                memcpy(t.coef, coef0, L1 * d * len * sizeof *t.coef);
                for (size_t v = 0; v < L1 * d; ++v) {
                    const size_t level = v / d, k = v % d, a = span[2 * v], e = span[2 * v + 1];
                    if (e - a < 2) continue;
                    uint32_t wd[4];
                    cqb_philox_block(s->seed, (uint64_t)rep | ((uint64_t)tag_of(SCHEME_ROTATE, k) << 32), level, wd);
                    size_t off = (size_t)cqb_mulhi_index((uint64_t)wd[0] | ((uint64_t)wd[1] << 32), e - a);
                    const double *src = coef0 + v * len;
                    double *dst = t.coef + v * len;
                    for (size_t q = a; q < e; ++q) dst[a + (q - a + off) % (e - a)] = src[q];
                }
                in.n = len;
                in.d = d;
                in.J = s->J;
                in.x = t.coef;
            } else {
                if (s->null == CQB_WNULL_PHASE) {
                    for (size_t k = 0; k < d; ++k)
                        phase_surrogate(plan, s->x + k * s->ldx, n, s->seed, rep, k, t.cplx, t.fscratch, t.xb + k * n);
                } else {
                    for (size_t k = 0; k < d; ++k) {
                        if (k == 0 || !joint)
                            cqb_sb_indices(s->seed, rep, tag_of(joint ? SCHEME_JOINT : SCHEME_BOOT, joint ? 0 : k), thr, n,
                                           t.idx, t.pos, t.row);
                        for (size_t q = 0; q < n; ++q) t.xb[k * n + q] = s->x[k * s->ldx + t.idx[q]];
                    }
                }
                st2 = cqb_wlevels_prepare(t.xb, n, n, d, s->wf, s->J, s->boundary, s->opts.mode, align, t.coef, &in,
                                          t.work, &e3);
            }
            if (st2 == CQB_OK) st2 = statistic(s, &in, t.ws, t.val, t.dep, &e3);
            if (st2 != CQB_OK) {
                /* a resample the statistic cannot use (e.g. a constant
                 * resampled series): it counts as invalid everywhere */
                for (size_t c = 0; c < ncell; ++c) t.val[c] = NAN;
            }
            for (size_t f = 0; f < nfam; ++f) fmax[(size_t)b * nfam + f] = -INFINITY;
            for (size_t c = 0; c < ncell; ++c) {
                double v = t.val[c];
                if (joint) jv[(size_t)b * ncell + c] = v;
                if (!isfinite(v)) continue;
                double ref = r->phi[c];
                if (d2) {
                    v = fabs(v);
                    ref = fabs(ref);
                }
                t.valid[c]++;
                t.cnt[c] += v >= ref;
                long f = family_of(s, c, len, lm);
                if (f >= 0 && v > fmax[(size_t)b * nfam + (size_t)f]) fmax[(size_t)b * nfam + (size_t)f] = v;
            }
        }
#pragma omp critical(cqb_wnull_sum)
        {
            /* integer sums: the order of the threads does not matter */
            for (size_t c = 0; ok && c < ncell; ++c) {
                cnt[c] += t.cnt[c];
                r->valid[c] += t.valid[c];
            }
        }
        tls_free(&t);
    }
    free(span);
    if (failed) {
        st = cqb_error_set(err, terr.status, "%s", terr.msg);
        goto out;
    }

    /* p-values, family-wise maxima, joint intervals */
    for (size_t c = 0; c < ncell; ++c) {
        r->p[c] = (!joint && isfinite(r->phi[c])) ? (1.0 + (double)cnt[c]) / (1.0 + (double)r->valid[c]) : NAN;
        r->p_fw[c] = NAN;
    }
    if (nfam) {
        double *col = malloc(s->B * sizeof *col);
        if (!col) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t f = 0; f < nfam; ++f) {
            size_t m = 0;
            for (size_t b = 0; b < s->B; ++b) {
                double v = fmax[b * nfam + f];
                if (isfinite(v)) col[m++] = v;
            }
            /* sort once: counts of max >= phi by binary search */
            qsort(col, m, sizeof *col, cmp_double);
            double *scr = malloc((m ? m : 1) * sizeof *scr);
            r->cv_fw[f] = scr ? cqb_quantile_r7(col, m, s->level, scr) : NAN;
            free(scr);
            for (size_t c = 0; c < ncell && !joint; ++c) {
                if (family_of(s, c, len, lm) != (long)f || !isfinite(r->phi[c])) continue;
                double ref = d2 ? fabs(r->phi[c]) : r->phi[c];
                size_t lo = 0, hi = m; /* first index with col >= ref */
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (col[mid] >= ref) hi = mid;
                    else lo = mid + 1;
                }
                r->p_fw[c] = (1.0 + (double)(m - lo)) / (1.0 + (double)m);
            }
        }
        free(col);
    }
    if (joint) {
        double *col = malloc(s->B * sizeof *col), *scr = malloc(s->B * sizeof *scr);
        if (!col || !scr) {
            free(col);
            free(scr);
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t c = 0; c < ncell; ++c) {
            size_t m = 0;
            for (size_t b = 0; b < s->B; ++b)
                if (isfinite(jv[b * ncell + c])) col[m++] = jv[b * ncell + c];
            r->lo[c] = cqb_quantile_r7(col, m, (1.0 - s->level) / 2.0, scr);
            r->hi[c] = cqb_quantile_r7(col, m, (1.0 + s->level) / 2.0, scr);
        }
        free(col);
        free(scr);
    }
out:
    free(cnt);
    free(fmax);
    free(jv);
    free(coef0);
    cqb_fft_free(plan);
    if (st != CQB_OK) cqb_wtest_result_free(r);
    return st;
}

void cqb_wtest_result_free(cqb_wtest_result *r)
{
    free(r->phi);
    free(r->dep);
    free(r->p);
    free(r->p_fw);
    free(r->cv_fw);
    free(r->lo);
    free(r->hi);
    free(r->valid);
    memset(r, 0, sizeof *r);
}
