/* cqreg.c — conditional-quantile cross-quantilogram and its stationary
 * bootstrap with both quantile regressions re-estimated per resample (see
 * cqreg.h; cross-quantilogram.md §3.2, §4). */
#include "cqboot/cqreg.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/cq.h"
#include "cqboot/cq_boot.h"
#include "cqboot/philox.h"
#include "cqboot/quantile.h"
#include "cqboot/sbresample.h"

int cqb_cqreg_tie_parse(const char *s, cqb_cqreg_tie *out)
{
    if (!strcmp(s, "eps")) *out = CQB_CQREG_TIE_EPS;
    else if (!strcmp(s, "exact")) *out = CQB_CQREG_TIE_EXACT;
    else return -1;
    return 0;
}

const char *cqb_cqreg_tie_name(cqb_cqreg_tie t)
{
    switch (t) {
    case CQB_CQREG_TIE_EPS: return "eps";
    case CQB_CQREG_TIE_EXACT: return "exact";
    }
    return "?";
}

void cqb_cqreg_boot_opts_default(cqb_cqreg_boot_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->B = 1000;
    o->gamma = 0.0;
    o->level = 0.95;
}

/* ------------------------------------------------------------ checks -- */

static cqb_status check_eq(const cqb_cqreg_eq *q, int which, size_t T, cqb_error *err)
{
    if (!q->y) return cqb_error_set(err, CQB_EUSAGE, "conditional-quantile CQ: equation %d has no response", which);
    if (q->m < 1)
        return cqb_error_set(err, CQB_EUSAGE,
                             "conditional-quantile CQ: equation %d needs at least one regressor column", which);
    if (q->m > CQB_QREG_MAX_P - 1)
        return cqb_error_set(err, CQB_EUSAGE,
                             "conditional-quantile CQ: equation %d has %zu regressors (at most %d)", which, q->m,
                             CQB_QREG_MAX_P - 1);
    if (!q->x) return cqb_error_set(err, CQB_EUSAGE, "conditional-quantile CQ: equation %d has no regressors", which);
    for (size_t c = 0; c < q->m; ++c)
        if (!q->x[c])
            return cqb_error_set(err, CQB_EUSAGE, "conditional-quantile CQ: equation %d regressor %zu is missing",
                                 which, c + 1);
    if (T < q->m + 1)
        return cqb_error_set(err, CQB_EUSAGE,
                             "conditional-quantile CQ: %zu rows for the %zu coefficients of equation %d", T,
                             q->m + 1, which);
    return CQB_OK;
}

static cqb_status check_input(const cqb_cqreg_input *in, double a1, double a2, cqb_error *err)
{
    cqb_status st;
    if (in->T > (size_t)UINT32_MAX)
        return cqb_error_set(err, CQB_EUSAGE, "conditional-quantile CQ: %zu rows is too many", in->T);
    if ((st = check_eq(&in->eq1, 1, in->T, err)) != CQB_OK) return st;
    if ((st = check_eq(&in->eq2, 2, in->T, err)) != CQB_OK) return st;
    if (!(a1 > 0.0 && a1 < 1.0))
        return cqb_error_set(err, CQB_EUSAGE, "conditional-quantile CQ: level %g is outside (0,1)", a1);
    if (!(a2 > 0.0 && a2 < 1.0))
        return cqb_error_set(err, CQB_EUSAGE, "conditional-quantile CQ: level %g is outside (0,1)", a2);
    if (in->tie != CQB_CQREG_TIE_EPS && in->tie != CQB_CQREG_TIE_EXACT)
        return cqb_error_set(err, CQB_EUSAGE, "conditional-quantile CQ: unknown tie rule");
    return CQB_OK;
}

static cqb_status check_lags(size_t T, const size_t *lags, size_t nlags, cqb_error *err)
{
    if (nlags > 0 && !lags) return cqb_error_set(err, CQB_EUSAGE, "conditional-quantile CQ: no lags");
    for (size_t i = 0; i < nlags; ++i)
        if (T < 2 || lags[i] > T - 2)
            return cqb_error_set(err, CQB_EUSAGE,
                                 "conditional-quantile CQ: lag %zu leaves fewer than 2 of the %zu rows", lags[i], T);
    return CQB_OK;
}

static double tie_eps(const cqb_cqreg_input *in)
{
    return in->tie_eps > 0.0 ? in->tie_eps : CQB_CQREG_TIE_EPS_DEFAULT;
}

/* Hits of one fit under the tie rule: hit[i] for the n sample rows;
 * returns the hit count and the rows "on the quantile" in *nzero. */
static size_t classify(const double *u, size_t n, const cqb_qreg_info *info, cqb_cqreg_tie tie, double eps,
                       unsigned char *hit, size_t *nzero)
{
    size_t nh = 0, nz = 0;
    if (tie == CQB_CQREG_TIE_EXACT) {
        for (size_t i = 0; i < n; ++i) {
            hit[i] = u[i] <= 0.0;
            nh += hit[i];
            nz += u[i] == 0.0;
        }
    } else {
        const double thr = eps * info->scale;
        for (size_t i = 0; i < n; ++i) {
            const int z = fabs(u[i]) <= thr;
            hit[i] = z || u[i] < 0.0;
            nh += hit[i];
            nz += z;
        }
        for (size_t j = 0; j < info->p; ++j) {
            const size_t i = info->basis[j];
            if (!hit[i]) {
                hit[i] = 1;
                ++nh;
            }
            if (!(fabs(u[i]) <= thr)) ++nz;
        }
    }
    if (nzero) *nzero = nz;
    return nh;
}

/* ------------------------------------------------------- point statistic -- */

static cqb_status fit_full(const cqb_cqreg_input *in, const cqb_cqreg_eq *q, double a, cqb_qreg_workspace *w,
                           double *u, unsigned char *hit, cqb_cqreg_fit *f, int which, cqb_error *err)
{
    cqb_qreg_info info;
    double beta[CQB_QREG_MAX_P];
    cqb_status st = cqb_qreg_fit(w, q->y, q->x, q->m, NULL, in->T, a, beta, u, &info, err);
    if (st != CQB_OK) {
        if (err) {
            char tmp[CQB_ERROR_MAX];
            memcpy(tmp, err->msg, sizeof tmp);
            tmp[sizeof tmp - 1] = 0;
            cqb_error_set(err, st, "equation %d: %s", which, tmp);
        }
        return st;
    }
    size_t nz;
    size_t nh = classify(u, in->T, &info, in->tie, tie_eps(in), hit, &nz);
    if (f) {
        memset(f, 0, sizeof *f);
        for (size_t c = 0; c < info.p; ++c) f->beta[c] = beta[c];
        f->p = info.p;
        f->nhit = nh;
        f->nzero = nz;
        f->nonunique = info.nonunique;
        f->objective = info.objective;
        f->iterations = info.iterations;
    }
    return CQB_OK;
}

/* Both hit columns into h1, h2 (T bytes each, caller's memory). */
static cqb_status hits_full(const cqb_cqreg_input *in, double a1, double a2, unsigned char *h1, unsigned char *h2,
                            cqb_cqreg_fit *f1, cqb_cqreg_fit *f2, cqb_error *err)
{
    const size_t m = in->eq1.m > in->eq2.m ? in->eq1.m : in->eq2.m;
    cqb_qreg_workspace *w = NULL;
    cqb_status st = cqb_qreg_workspace_alloc(in->T, m, &w, err);
    if (st != CQB_OK) return st;
    double *u = malloc(in->T * sizeof *u);
    if (!u) {
        cqb_qreg_workspace_free(w);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    }
    st = fit_full(in, &in->eq1, a1, w, u, h1, f1, 1, err);
    if (st == CQB_OK) st = fit_full(in, &in->eq2, a2, w, u, h2, f2, 2, err);
    free(u);
    cqb_qreg_workspace_free(w);
    return st;
}

cqb_status cqb_cqreg_hits(const cqb_cqreg_input *in, double a1, double a2, unsigned char *hit1,
                          unsigned char *hit2, cqb_cqreg_fit *f1, cqb_cqreg_fit *f2, cqb_error *err)
{
    cqb_status st = check_input(in, a1, a2, err);
    if (st != CQB_OK) return st;
    unsigned char *h = malloc(2 * in->T);
    if (!h) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    st = hits_full(in, a1, a2, h, h + in->T, f1, f2, err);
    if (st == CQB_OK) {
        if (hit1) memcpy(hit1, h, in->T);
        if (hit2) memcpy(hit2, h + in->T, in->T);
    }
    free(h);
    return st;
}

/* rho(k) from the full-sample hits (R corr.lag): rows t = k..T-1 (0-based)
 * of column 1 against rows t-k of column 2. */
static void point_lag(const unsigned char *h1, const unsigned char *h2, size_t T, size_t k, double a1, double a2,
                      cqb_cqreg_cell *c)
{
    size_t n1 = 0, n2 = 0, n12 = 0;
    for (size_t t = k; t < T; ++t) {
        n1 += h1[t];
        n2 += h2[t - k];
        n12 += (size_t)(h1[t] & h2[t - k]);
    }
    memset(c, 0, sizeof *c);
    c->lag = k;
    c->n = T - k;
    c->n1 = n1;
    c->n2 = n2;
    c->n12 = n12;
    c->rho = cqb_cq_from_counts((double)c->n, (double)n1, (double)n2, (double)n12, a1, a2);
    c->band_lo = c->band_hi = c->ci_lo = c->ci_hi = NAN;
    c->p_value = c->p_value_et = c->gamma = NAN;
}

static cqb_status compute_point(const cqb_cqreg_input *in, double a1, double a2, const size_t *lags, size_t nlags,
                                cqb_cqreg_cell *cells, cqb_cqreg_fit *f1, cqb_cqreg_fit *f2, cqb_error *err)
{
    unsigned char *h = malloc(2 * in->T);
    if (!h) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    cqb_status st = hits_full(in, a1, a2, h, h + in->T, f1, f2, err);
    if (st == CQB_OK)
        for (size_t i = 0; i < nlags; ++i) point_lag(h, h + in->T, in->T, lags[i], a1, a2, &cells[i]);
    free(h);
    return st;
}

cqb_status cqb_cqreg_compute(const cqb_cqreg_input *in, double a1, double a2, const size_t *lags,
                             size_t nlags, cqb_cqreg_cell *cells, cqb_cqreg_fit *f1, cqb_cqreg_fit *f2,
                             cqb_error *err)
{
    cqb_status st = check_input(in, a1, a2, err);
    if (st == CQB_OK) st = check_lags(in->T, lags, nlags, err);
    if (st != CQB_OK) return st;
    return compute_point(in, a1, a2, lags, nlags, cells, f1, f2, err);
}

/* ------------------------------------------------------------ bootstrap -- */

/* Per-thread scratch. */
typedef struct thread_ws {
    cqb_qreg_workspace *qw;
    uint32_t *idx, *pos, *row, *rows1;
    double *u1, *u2;
    unsigned char *h1, *h2;
    cqb_error err;       /* error of the smallest failing replicate seen */
    size_t err_rep;      /* that replicate, SIZE_MAX if none */
} thread_ws;

static void thread_ws_free(thread_ws *t)
{
    cqb_qreg_workspace_free(t->qw);
    free(t->idx);
    free(t->pos);
    free(t->row);
    free(t->rows1);
    free(t->u1);
    free(t->u2);
    free(t->h1);
    free(t->h2);
    memset(t, 0, sizeof *t);
}

static cqb_status thread_ws_alloc(thread_ws *t, size_t T, size_t m, cqb_error *err)
{
    memset(t, 0, sizeof *t);
    cqb_status st = cqb_qreg_workspace_alloc(T, m, &t->qw, err);
    if (st != CQB_OK) return st;
    t->idx = malloc(T * sizeof *t->idx);
    t->pos = malloc(T * sizeof *t->pos);
    t->row = malloc(T * sizeof *t->row);
    t->rows1 = malloc(T * sizeof *t->rows1);
    t->u1 = malloc(T * sizeof *t->u1);
    t->u2 = malloc(T * sizeof *t->u2);
    t->h1 = malloc(T);
    t->h2 = malloc(T);
    if (!t->idx || !t->pos || !t->row || !t->rows1 || !t->u1 || !t->u2 || !t->h1 || !t->h2) {
        thread_ws_free(t);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory for bootstrap workspaces");
    }
    t->err_rep = SIZE_MAX;
    return CQB_OK;
}

typedef struct lag_job {
    const cqb_cqreg_input *in;
    const double *start1, *start2; /* full-sample coefficients: warm starts */
    double a1, a2, eps, rho_hat;
    size_t k, N;
    uint64_t seed, thr;
    uint32_t tag;
} lag_job;

/* Replicate b of a lag: d = rho* - rho_hat, NaN when a design is
 * rank-deficient on the resample; *nonu = a fit was not unique. Other
 * failures are recorded in t->err (smallest replicate first). */
static double one_replicate(const lag_job *j, size_t b, thread_ws *t, unsigned char *nonu)
{
    const cqb_cqreg_input *in = j->in;
    const size_t N = j->N;
    *nonu = 0;
    cqb_sb_indices(j->seed, (uint32_t)b, j->tag, j->thr, N, t->idx, t->pos, t->row);
    for (size_t i = 0; i < N; ++i) t->rows1[i] = t->idx[i] + (uint32_t)j->k;
    double beta[CQB_QREG_MAX_P];
    cqb_qreg_info i1, i2;
    cqb_error e;
    cqb_status st = cqb_qreg_fit_start(t->qw, in->eq1.y, in->eq1.x, in->eq1.m, t->rows1, N, j->a1, j->start1,
                                       beta, t->u1, &i1, &e);
    if (st == CQB_OK)
        st = cqb_qreg_fit_start(t->qw, in->eq2.y, in->eq2.x, in->eq2.m, t->idx, N, j->a2, j->start2, beta,
                                t->u2, &i2, &e);
    if (st == CQB_EDATA) return NAN;
    if (st != CQB_OK) {
        if (b < t->err_rep) {
            t->err_rep = b;
            cqb_error_set(&t->err, st, "bootstrap replicate %zu of lag %zu: %s", b + 1, j->k, e.msg);
        }
        return NAN;
    }
    *nonu = (unsigned char)(i1.nonunique || i2.nonunique);
    classify(t->u1, N, &i1, in->tie, j->eps, t->h1, NULL);
    classify(t->u2, N, &i2, in->tie, j->eps, t->h2, NULL);
    size_t n1 = 0, n2 = 0, n12 = 0;
    for (size_t i = 0; i < N; ++i) {
        n1 += t->h1[i];
        n2 += t->h2[i];
        n12 += (size_t)(t->h1[i] & t->h2[i]);
    }
    double rs = cqb_cq_from_counts((double)N, (double)n1, (double)n2, (double)n12, j->a1, j->a2);
    return rs - j->rho_hat;
}

#define CQREG_CHUNK 256

cqb_status cqb_cqreg_boot(const cqb_cqreg_input *in, double a1, double a2, const size_t *lags,
                          size_t nlags, const cqb_cqreg_boot_opts *o, cqb_cqreg_cell *cells,
                          cqb_cqreg_fit *f1, cqb_cqreg_fit *f2, cqb_error *err)
{
    cqb_status st = check_input(in, a1, a2, err);
    if (st == CQB_OK) st = check_lags(in->T, lags, nlags, err);
    if (st != CQB_OK) return st;
    if (o->B < 1 || o->B > (size_t)UINT32_MAX)
        return cqb_error_set(err, CQB_EUSAGE, "bootstrap: B = %zu replicates is out of range", o->B);
    if (!(o->gamma <= 1.0) || isnan(o->gamma))
        return cqb_error_set(err, CQB_EUSAGE, "bootstrap: gamma = %g is outside (0,1]", o->gamma);
    if (!(o->level > 0.0 && o->level < 1.0))
        return cqb_error_set(err, CQB_EUSAGE, "bootstrap: level %g is outside (0,1)", o->level);
    if (o->cell > CQB_TAG_MAX_CELL)
        return cqb_error_set(err, CQB_EUSAGE, "bootstrap: stream cell %u is above %u", o->cell, CQB_TAG_MAX_CELL);
    const size_t p1 = in->eq1.m + 1, p2 = in->eq2.m + 1, pmax = p1 > p2 ? p1 : p2;
    for (size_t i = 0; i < nlags; ++i) {
        if (lags[i] > CQB_TAG_MAX_LAG)
            return cqb_error_set(err, CQB_EUSAGE, "bootstrap: lag %zu is above %u", lags[i], CQB_TAG_MAX_LAG);
        if (in->T - lags[i] < pmax)
            return cqb_error_set(err, CQB_EUSAGE,
                                 "bootstrap: lag %zu leaves %zu rows for %zu coefficients", lags[i],
                                 in->T - lags[i], pmax);
    }
    cqb_cqreg_fit full1, full2;
    if ((st = compute_point(in, a1, a2, lags, nlags, cells, &full1, &full2, err)) != CQB_OK) return st;
    if (f1) *f1 = full1;
    if (f2) *f2 = full2;
    if (nlags == 0) return CQB_OK;

    const int nt = o->threads > 0 ? o->threads : omp_get_max_threads();
    const size_t B = o->B, T = in->T;
    const size_t m = in->eq1.m > in->eq2.m ? in->eq1.m : in->eq2.m;
    thread_ws *tw = calloc((size_t)nt, sizeof *tw);
    double *d = malloc(B * sizeof *d), *v = malloc(B * sizeof *v), *scratch = malloc(B * sizeof *scratch);
    unsigned char *nonu = malloc(B);
    if (!tw || !d || !v || !scratch || !nonu) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < nt; ++i)
        if ((st = thread_ws_alloc(&tw[i], T, m, err)) != CQB_OK) goto done;

    const double total = (double)B * (double)nlags;
    for (size_t li = 0; li < nlags; ++li) {
        cqb_cqreg_cell *c = &cells[li];
        const size_t k = lags[li], N = T - k;
        double gamma = o->gamma;
        if (!(gamma > 0.0)) {
            const double *cols[2] = {in->eq1.y + k, in->eq2.y};
            if ((st = cqb_auto_gamma(cols, 2, N, o->gamma_floor1, &gamma, err)) != CQB_OK) goto done;
        }
        lag_job job = {in, full1.beta, full2.beta, a1, a2, tie_eps(in), c->rho, k, N, o->seed,
                       cqb_bernoulli_threshold(gamma), cqb_sb_tag(CQB_CQREG_FAMILY, (uint32_t)k, o->cell)};
        for (size_t b0 = 0; b0 < B; b0 += CQREG_CHUNK) {
            if (o->cancel && *o->cancel) {
                st = cqb_error_set(err, CQB_EUSAGE, "interrupted");
                goto done;
            }
            const long nb = (long)(B - b0 < CQREG_CHUNK ? B - b0 : CQREG_CHUNK);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
            for (long r = 0; r < nb; ++r) {
                const size_t b = b0 + (size_t)r;
                d[b] = one_replicate(&job, b, &tw[omp_get_thread_num()], &nonu[b]);
            }
            if (o->progress) o->progress(((double)li * (double)B + (double)(b0 + (size_t)nb)) / total, o->progress_user);
        }
        /* A failure other than a singular resample stops the run, reported
         * for the smallest replicate (deterministic). */
        size_t fr = SIZE_MAX;
        int ft = -1;
        for (int i = 0; i < nt; ++i)
            if (tw[i].err_rep < fr) { fr = tw[i].err_rep; ft = i; }
        if (ft >= 0) {
            st = cqb_error_set(err, tw[ft].err.status, "%s", tw[ft].err.msg);
            goto done;
        }
        size_t nv = 0, cnt = 0, elo = 0, ehi = 0, nn = 0;
        const double ar = fabs(c->rho);
        for (size_t b = 0; b < B; ++b) {
            nn += nonu[b];
            if (isnan(d[b])) continue;
            v[nv++] = d[b];
            cnt += fabs(d[b]) >= ar;
            elo += d[b] <= c->rho;
            ehi += d[b] >= c->rho;
        }
        c->boot_valid = nv;
        c->boot_nonunique = nn;
        c->gamma = gamma;
        if (nv > 0) {
            const double sig = 1.0 - o->level;
            c->band_lo = cqb_quantile_r7(v, nv, sig / 2.0, scratch);
            c->band_hi = cqb_quantile_r7(v, nv, 1.0 - sig / 2.0, scratch);
            c->ci_lo = c->rho + c->band_lo;
            c->ci_hi = c->rho + c->band_hi;
            c->p_value = (double)cnt / (double)nv;
            c->p_value_et = fmin(1.0, 2.0 * (double)(elo < ehi ? elo : ehi) / (double)nv);
        }
    }
    st = CQB_OK;

done:
    if (tw)
        for (int i = 0; i < nt; ++i) thread_ws_free(&tw[i]);
    free(tw);
    free(d);
    free(v);
    free(scratch);
    free(nonu);
    return st;
}
