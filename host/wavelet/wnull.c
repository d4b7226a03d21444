/* wnull.c — resampling significance of wavelet multiple correlations
 * (see wnull.h). */
#include "cqboot/wnull.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/backend.h"
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
 * the cell field (CQB_WTAG_* of wnull.h, shared with device/wavelet_kern.h) */
enum {
    SCHEME_BOOT = CQB_WTAG_BOOT,
    SCHEME_JOINT = CQB_WTAG_JOINT,
    SCHEME_PHASE = CQB_WTAG_PHASE,
    SCHEME_ROTATE = CQB_WTAG_ROTATE
};

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

/* Sizes of the statistic's outputs for spec s. */
static void plan_sizes(const cqb_wtest_spec *s, size_t *len, int *lm, size_t *ncell, size_t *nfam, size_t *ndep)
{
    *len = cqb_wlevels_length(s->n, s->boundary, s->opts.mode);
    *lm = is_cross(s->stat) ? cqb_wmc_lags(*len, &s->opts) : 0;
    const size_t w = 2 * (size_t)*lm + 1, L1 = (size_t)s->J + 1;
    *ncell = *nfam = *ndep = 0;
    switch (s->stat) {
    case CQB_WSTAT_WMC: *ncell = L1; *nfam = 0; *ndep = L1; break;
    case CQB_WSTAT_WMCC: *ncell = L1 * w; *nfam = L1; *ndep = L1; break;
    case CQB_WSTAT_WLMC: *ncell = L1 * *len; *nfam = L1; *ndep = L1 * *len; break;
    case CQB_WSTAT_WLMCC: *ncell = L1 * *len * w; *nfam = L1 * w; *ndep = L1 * *len; break;
    }
}

void cqb_wplan_free(cqb_wplan *p)
{
    free(p->coef0);
    free(p->span);
    cqb_fft_free(p->fft);
    memset(p, 0, sizeof *p);
}

cqb_status cqb_wplan_init(const cqb_wtest_spec *s, cqb_wplan *p, double *phi, int *dep, cqb_error *err)
{
    memset(p, 0, sizeof *p);
    p->spec = s;
    plan_sizes(s, &p->len, &p->lm, &p->ncell, &p->nfam, &p->ndep);
    p->align = is_local(s->stat);
    const size_t n = s->n, d = s->d, L1 = (size_t)s->J + 1, len = p->len;
    double *phi_own = NULL;
    int *dep_own = NULL;
    cqb_status st = CQB_OK;
    p->coef0 = malloc(L1 * d * len * sizeof *p->coef0);
    if (!phi) phi = phi_own = malloc((p->ncell ? p->ncell : 1) * sizeof *phi);
    if (!dep) dep = dep_own = malloc((p->ndep ? p->ndep : 1) * sizeof *dep);
    if (!p->coef0 || !phi || !dep) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory for the resampling test");
        goto out;
    }
    /* the observed statistic */
    {
        cqb_wlevels in;
        if ((st = cqb_wlevels_prepare(s->x, s->ldx, n, d, s->wf, s->J, s->boundary, s->opts.mode, p->align, p->coef0,
                                      &in, NULL, err)) != CQB_OK)
            goto out;
        if ((st = statistic(s, &in, NULL, phi, dep, err)) != CQB_OK) goto out;
    }
    /* restart probability of the bootstrap schemes */
    p->gamma = s->gamma;
    if ((s->null == CQB_WNULL_BOOTSTRAP || s->null == CQB_WNULL_JOINT) && !(s->gamma > 0.0)) {
        double *b = malloc(d * sizeof *b);
        if (!b) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto out;
        }
        cqb_bstar_opts bo;
        cqb_bstar_opts_default(&bo);
        for (size_t k = 0; k < d && st == CQB_OK; ++k) {
            double bcb;
            int bst = cqb_bstar(s->x + k * s->ldx, n, &bo, &b[k], &bcb);
            if (bst == (int)CQB_ENOMEM) st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            else if (bst != CQB_OK)
                st = cqb_error_set(err, CQB_EDATA, "automatic gamma: no block length for series %zu; give --gamma", k + 1);
        }
        if (st == CQB_OK) p->gamma = cqb_gamma_from_bstar(b, d, 0);
        free(b);
        if (st != CQB_OK) goto out;
    }
    if (s->null == CQB_WNULL_PHASE && (st = cqb_fft_create(n, &p->fft, err)) != CQB_OK) goto out;
    p->thr = cqb_bernoulli_threshold(p->gamma > 0 ? p->gamma : 1.0);

    /* valid spans of the observed coefficients, for the rotation scheme */
    if (s->null == CQB_WNULL_ROTATION) {
        p->span = malloc(2 * L1 * d * sizeof *p->span);
        if (!p->span) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t v = 0; v < L1 * d; ++v) {
            const double *c = p->coef0 + v * len;
            size_t a = 0, e = len;
            while (a < len && !isfinite(c[a])) ++a;
            while (e > a && !isfinite(c[e - 1])) --e;
            p->span[2 * v] = a;
            p->span[2 * v + 1] = e;
        }
    }
out:
    free(phi_own);
    free(dep_own);
    if (st != CQB_OK) cqb_wplan_free(p);
    return st;
}

/* Per-thread scratch of eval_one(); returns 1 when everything is allocated. */
static int tls_alloc(const cqb_wplan *p, tls *t)
{
    const cqb_wtest_spec *s = p->spec;
    const size_t n = s->n, d = s->d, L1 = (size_t)s->J + 1, len = p->len;
    cqb_error e2;
    memset(t, 0, sizeof *t);
    t->ws = cqb_wmc_workspace_alloc(len, d, &e2);
    t->xb = malloc(d * n * sizeof *t->xb);
    t->coef = malloc(L1 * d * len * sizeof *t->coef);
    t->work = malloc(cqb_wlevels_prepare_work(n, s->boundary, s->J) * sizeof *t->work);
    t->val = malloc((p->ncell ? p->ncell : 1) * sizeof *t->val);
    t->dep = malloc((p->ndep ? p->ndep : 1) * sizeof *t->dep);
    t->idx = malloc(n * sizeof *t->idx);
    t->pos = malloc(n * sizeof *t->pos);
    t->row = malloc(n * sizeof *t->row);
    t->cnt = calloc(p->ncell ? p->ncell : 1, sizeof *t->cnt);
    t->valid = calloc(p->ncell ? p->ncell : 1, sizeof *t->valid);
    if (p->fft) {
        t->cplx = malloc(2 * n * sizeof *t->cplx);
        t->fscratch = malloc((cqb_fft_scratch(p->fft) + 1) * sizeof *t->fscratch);
    }
    return t->ws && t->xb && t->coef && t->work && t->val && t->dep && t->idx && t->pos && t->row && t->cnt &&
           t->valid && (!p->fft || (t->cplx && t->fscratch));
}

/* The values of replicate rep into val (ncell; all NaN when the statistic
 * cannot use the resample). */
static void eval_one(const cqb_wplan *p, uint32_t rep, tls *t, double *val)
{
    const cqb_wtest_spec *s = p->spec;
    const size_t n = s->n, d = s->d, L1 = (size_t)s->J + 1, len = p->len;
    const int joint = s->null == CQB_WNULL_JOINT;
    cqb_wlevels in;
    cqb_status st2 = CQB_OK;
    cqb_error e3;
    if (s->null == CQB_WNULL_ROTATION) {
        memcpy(t->coef, p->coef0, L1 * d * len * sizeof *t->coef);
        for (size_t v = 0; v < L1 * d; ++v) {
            const size_t level = v / d, k = v % d, a = p->span[2 * v], e = p->span[2 * v + 1];
            if (e - a < 2) continue;
            uint32_t wd[4];
            cqb_philox_block(s->seed, (uint64_t)rep | ((uint64_t)tag_of(SCHEME_ROTATE, k) << 32), level, wd);
            size_t off = (size_t)cqb_mulhi_index((uint64_t)wd[0] | ((uint64_t)wd[1] << 32), e - a);
            const double *src = p->coef0 + v * len;
            double *dst = t->coef + v * len;
            for (size_t q = a; q < e; ++q) dst[a + (q - a + off) % (e - a)] = src[q];
        }
        in.n = len;
        in.d = d;
        in.J = s->J;
        in.x = t->coef;
    } else {
        if (s->null == CQB_WNULL_PHASE) {
            for (size_t k = 0; k < d; ++k)
                phase_surrogate(p->fft, s->x + k * s->ldx, n, s->seed, rep, k, t->cplx, t->fscratch, t->xb + k * n);
        } else {
            for (size_t k = 0; k < d; ++k) {
                if (k == 0 || !joint)
                    cqb_sb_indices(s->seed, rep, tag_of(joint ? SCHEME_JOINT : SCHEME_BOOT, joint ? 0 : k), p->thr, n,
                                   t->idx, t->pos, t->row);
                for (size_t q = 0; q < n; ++q) t->xb[k * n + q] = s->x[k * s->ldx + t->idx[q]];
            }
        }
        st2 = cqb_wlevels_prepare(t->xb, n, n, d, s->wf, s->J, s->boundary, s->opts.mode, p->align, t->coef, &in,
                                  t->work, &e3);
    }
    if (st2 == CQB_OK) st2 = statistic(s, &in, t->ws, val, t->dep, &e3);
    if (st2 != CQB_OK) {
        /* a resample the statistic cannot use (e.g. a constant resampled
         * series): it counts as invalid everywhere */
        for (size_t c = 0; c < p->ncell; ++c) val[c] = NAN;
    }
}

/* Adds replicate b's values val (ncell) to the counts cnt and valid (ncell
 * each), writes its family maxima (row b of fmax) and, for the joint scheme,
 * its values (row b of jv). */
static void reduce_row(const cqb_wplan *p, const double *phi, const double *val, size_t b, size_t *cnt, size_t *valid,
                       double *fmax, double *jv)
{
    const cqb_wtest_spec *s = p->spec;
    const size_t ncell = p->ncell, nfam = p->nfam;
    const int joint = s->null == CQB_WNULL_JOINT, d2 = s->d == 2;
    for (size_t f = 0; f < nfam; ++f) fmax[b * nfam + f] = -INFINITY;
    for (size_t c = 0; c < ncell; ++c) {
        double v = val[c];
        if (joint) jv[b * ncell + c] = v;
        if (!isfinite(v)) continue;
        double ref = phi[c];
        if (d2) {
            v = fabs(v);
            ref = fabs(ref);
        }
        valid[c]++;
        cnt[c] += v >= ref;
        long f = family_of(s, c, p->len, p->lm);
        if (f >= 0 && v > fmax[b * nfam + (size_t)f]) fmax[b * nfam + (size_t)f] = v;
    }
}

static int n_threads(const cqb_wtest_spec *s)
{
    return s->threads > 0 ? s->threads : omp_get_max_threads();
}

cqb_status cqb_wplan_eval_cpu(const cqb_wplan *p, uint32_t rep0, size_t nrep, double *out, int threads, cqb_error *err)
{
    if (nrep == 0) return CQB_OK;
    if ((uint64_t)rep0 + (uint64_t)nrep - 1 > UINT32_MAX)
        return cqb_error_set(err, CQB_EUSAGE, "replicate numbers must stay below 2^32");
    int failed = 0;
    const long nr = (long)nrep;
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_max_threads())
    {
        tls t;
        const int ok = tls_alloc(p, &t);
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 4)
        for (long i = 0; i < nr; ++i)
            if (ok) eval_one(p, rep0 + (uint32_t)i, &t, out + (size_t)i * p->ncell);
        tls_free(&t);
    }
    if (failed) return cqb_error_set(err, CQB_ENOMEM, "out of memory for the resampling workspaces");
    return CQB_OK;
}

/* The CPU path: replicates in parallel, each reduced as it is computed. */
static cqb_status run_cpu(const cqb_wplan *p, const double *phi, size_t *cnt, size_t *valid, double *fmax, double *jv,
                          cqb_error *err)
{
    const cqb_wtest_spec *s = p->spec;
    const size_t ncell = p->ncell;
    int failed = 0;
    cqb_error terr = {CQB_OK, ""};
    const long B = (long)s->B;
    size_t done = 0;
#pragma omp parallel num_threads(n_threads(s))
    {
        tls t;
        int ok = tls_alloc(p, &t);
        if (!ok) {
#pragma omp critical(cqb_wnull_err)
            {
                if (!failed) cqb_error_set(&terr, CQB_ENOMEM, "out of memory for the resampling workspaces");
                failed = 1;
            }
        }
#pragma omp for schedule(dynamic, 4)
        for (long b = 0; b < B; ++b) {
            if (!ok || failed || (s->cancel && *s->cancel)) continue;
            eval_one(p, (uint32_t)b, &t, t.val);
            reduce_row(p, phi, t.val, (size_t)b, t.cnt, t.valid, fmax, jv);
            size_t now;
#pragma omp atomic capture
            now = ++done;
            if (s->progress && omp_get_thread_num() == 0) s->progress((double)now / (double)B, s->progress_user);
        }
#pragma omp critical(cqb_wnull_sum)
        {
            /* integer sums: the order of the threads does not matter */
            for (size_t c = 0; ok && c < ncell; ++c) {
                cnt[c] += t.cnt[c];
                valid[c] += t.valid[c];
            }
        }
        tls_free(&t);
    }
    if (failed) return cqb_error_set(err, terr.status, "%s", terr.msg);
    if (s->cancel && *s->cancel) return cqb_error_set(err, CQB_EUSAGE, "interrupted");
    if (s->progress) s->progress(1.0, s->progress_user);
    return CQB_OK;
}

/* The backend path: chunks of replicates from be->wavelet_eval, reduced on
 * the host by the same reduce_row(). */
static cqb_status run_backend(const cqb_backend *be, const cqb_wplan *p, const double *phi, size_t *cnt,
                              size_t *valid, double *fmax, double *jv, cqb_error *err)
{
    const cqb_wtest_spec *s = p->spec;
    const size_t ncell = p->ncell, B = s->B;
    const size_t row = (ncell ? ncell : 1) * sizeof(double);
    size_t chunk = ((size_t)64 << 20) / row; /* 64 MiB of values per call */
    if (chunk < 1) chunk = 1;
    /* at most a twentieth of the replicates per call (at least 1024, enough
     * to fill a device): the interrupt is polled and progress reported
     * between calls; the values do not depend on the chunking */
    if (chunk > 1024 && chunk > B / 20) chunk = B / 20 > 1024 ? B / 20 : 1024;
    if (chunk > B) chunk = B;
    const int nthr = n_threads(s);
    double *vals = malloc(chunk * row);
    size_t *tc = calloc((size_t)nthr * 2 * (ncell ? ncell : 1), sizeof *tc);
    cqb_status st = CQB_OK;
    if (!vals || !tc) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory for the resampling values");
        goto out;
    }
    for (size_t b0 = 0; b0 < B; b0 += chunk) {
        if (s->cancel && *s->cancel) {
            st = cqb_error_set(err, CQB_EUSAGE, "interrupted");
            goto out;
        }
        if (s->progress) s->progress((double)b0 / (double)B, s->progress_user);
        const size_t nb = B - b0 < chunk ? B - b0 : chunk;
        if ((st = be->wavelet_eval(be, p, (uint32_t)b0, nb, vals, err)) != CQB_OK) goto out;
        const long nl = (long)nb;
#pragma omp parallel for num_threads(nthr) schedule(static)
        for (long i = 0; i < nl; ++i) {
            size_t *mine = tc + (size_t)omp_get_thread_num() * 2 * ncell;
            reduce_row(p, phi, vals + (size_t)i * ncell, b0 + (size_t)i, mine, mine + ncell, fmax, jv);
        }
    }
    for (int t = 0; t < nthr; ++t)
        for (size_t c = 0; c < ncell; ++c) {
            cnt[c] += tc[(size_t)t * 2 * ncell + c];
            valid[c] += tc[(size_t)t * 2 * ncell + ncell + c];
        }
out:
    free(vals);
    free(tc);
    return st;
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
    size_t len, ncell, nfam, ndep;
    int lm;
    plan_sizes(s, &len, &lm, &ncell, &nfam, &ndep);
    r->ncell = ncell;
    r->nfam = nfam;
    r->len = len;
    r->lags = lm;
    snprintf(r->backend, sizeof r->backend, "cpu");
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
    cqb_wplan plan;
    memset(&plan, 0, sizeof plan);
    cqb_status st = CQB_OK;
    if (!r->phi || !r->dep || !r->p || !r->p_fw || !r->cv_fw || !r->valid || (joint && (!r->lo || !r->hi)) || !cnt ||
        (nfam && !fmax) || (joint && !jv)) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory for the resampling test");
        goto out;
    }
    if ((st = cqb_wplan_init(s, &plan, r->phi, r->dep, err)) != CQB_OK) goto out;
    r->gamma = plan.gamma;

    /* the replicates: on the backend when it covers the plan, else the CPU */
    {
        const cqb_backend *be = s->backend;
        int use_be = 0;
        if (be && be->wavelet_eval) {
            cqb_error qe = {CQB_OK, ""};
            if (be->wavelet_eval(be, &plan, 0, 0, NULL, &qe) == CQB_OK)
                use_be = 1;
            else
                snprintf(r->note, sizeof r->note, "%.15s: %.140s; the CPU ran the replicates", be->name, qe.msg);
        }
        if (use_be) {
            snprintf(r->backend, sizeof r->backend, "%.15s", be->name);
            st = run_backend(be, &plan, r->phi, cnt, r->valid, fmax, jv, err);
        } else {
            st = run_cpu(&plan, r->phi, cnt, r->valid, fmax, jv, err);
        }
        if (st != CQB_OK) goto out;
    }

    /* p-values, family-wise maxima, joint intervals */
    const int d2 = s->d == 2;
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
    cqb_wplan_free(&plan);
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
