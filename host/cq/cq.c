/* cq.c — sample CQ, partial CQ and portmanteau statistics
 * (cross-quantilogram.md §1.4, §2, §3.1). */
#include "cqboot/cq.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

size_t cqb_cq_r0(const cqb_cq_input *in, size_t k)
{
    size_t r0 = k;
    for (size_t j = 0; j < in->nctl; ++j) {
        size_t l = in->ctl[j].lag < 0 ? k : (size_t)in->ctl[j].lag;
        if (l > r0) r0 = l;
    }
    return r0;
}

static const double *column(const cqb_cq_input *in, size_t v)
{
    return v == 0 ? in->y : v == 1 ? in->x : in->ctl[v - 2].z;
}

cqb_status cqb_cq_prep_init(const cqb_cq_input *in, cqb_cq_prep *prep, cqb_error *err)
{
    memset(prep, 0, sizeof *prep);
    if (in->nctl > CQB_MAX_VARS - 2)
        return cqb_error_set(err, CQB_EUSAGE, "at most %d controls are supported", CQB_MAX_VARS - 2);
    if (in->conv == CQB_Q_HIGHER_LT_SUB) return CQB_OK; /* per-window quantiles */
    for (size_t v = 0; v < 2 + in->nctl; ++v) {
        prep->sorted[v] = malloc(in->T * sizeof(double));
        if (!prep->sorted[v]) {
            cqb_cq_prep_free(prep);
            return cqb_error_set(err, CQB_ENOMEM, "out of memory");
        }
        memcpy(prep->sorted[v], column(in, v), in->T * sizeof(double));
        qsort(prep->sorted[v], in->T, sizeof(double), cmp_double);
    }
    return CQB_OK;
}

void cqb_cq_prep_free(cqb_cq_prep *prep)
{
    for (size_t v = 0; v < CQB_MAX_VARS; ++v) {
        free(prep->sorted[v]);
        prep->sorted[v] = NULL;
    }
}

/* The quantile of variable v at level a for the window of N values starting
 * at w (full-sample conventions ignore the window). */
static double var_quantile(const cqb_cq_input *in, const cqb_cq_prep *prep, size_t v,
                           const double *w, size_t N, double a, double *scratch)
{
    if (in->conv != CQB_Q_HIGHER_LT_SUB) return cqb_quantile_sorted(in->conv, prep->sorted[v], in->T, a);
    memcpy(scratch, w, N * sizeof *w);
    qsort(scratch, N, sizeof *scratch, cmp_double);
    return cqb_quantile_sorted(in->conv, scratch, N, a);
}

cqb_status cqb_cq_compute_prep(const cqb_cq_input *in, const cqb_cq_prep *prep, double ay,
                             double ax, size_t k, cqb_cq_point *out, cqb_error *err)
{
    const size_t l = 2 + in->nctl;
    const size_t r0 = cqb_cq_r0(in, k);
    if (r0 + 2 > in->T)
        return cqb_error_set(err, CQB_EUSAGE, "lag %zu leaves fewer than 2 rows (T = %zu)", k, in->T);
    const size_t N = in->T - r0;
    const int strict = cqb_qconv_strict(in->conv);
    double alpha[CQB_MAX_VARS];
    const double *win[CQB_MAX_VARS];
    alpha[0] = ay;
    alpha[1] = ax;
    win[0] = in->y + r0;
    win[1] = in->x + r0 - k;
    for (size_t j = 0; j < in->nctl; ++j) {
        size_t lj = in->ctl[j].lag < 0 ? k : (size_t)in->ctl[j].lag;
        alpha[2 + j] = in->ctl[j].alpha;
        win[2 + j] = in->ctl[j].z + r0 - lj;
    }
    double *scratch = NULL;
    unsigned char *hit = malloc(l * N);
    if (in->conv == CQB_Q_HIGHER_LT_SUB) scratch = malloc(N * sizeof *scratch);
    if (!hit || (in->conv == CQB_Q_HIGHER_LT_SUB && !scratch)) {
        free(hit);
        free(scratch);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    }
    double q[CQB_MAX_VARS];
    double cnt[CQB_MAX_VARS][CQB_MAX_VARS];
    for (size_t v = 0; v < l; ++v) {
        q[v] = var_quantile(in, prep, v, win[v], N, alpha[v], scratch);
        for (size_t t = 0; t < N; ++t) hit[v * N + t] = (unsigned char)cqb_is_hit(strict, win[v][t], q[v]);
    }
    for (size_t u = 0; u < l; ++u) {
        for (size_t v = u; v < l; ++v) {
            size_t c = 0;
            const unsigned char *hu = hit + u * N, *hv = hit + v * N;
            for (size_t t = 0; t < N; ++t) c += (size_t)(hu[t] & hv[t]);
            cnt[u][v] = cnt[v][u] = (double)c;
        }
    }
    free(hit);
    free(scratch);
    out->n = N;
    out->n1 = (size_t)cnt[0][0];
    out->n2 = (size_t)cnt[1][1];
    out->n12 = (size_t)cnt[0][1];
    out->q1 = q[0];
    out->q2 = q[1];
    out->rho = cqb_cq_from_counts((double)N, cnt[0][0], cnt[1][1], cnt[0][1], ay, ax);
    out->rho_partial = NAN;
    if (l > 2) {
        double G[CQB_MAX_VARS * CQB_MAX_VARS];
        /* upper triangle mirrored: the same bits as the bootstrap epilogue */
        for (size_t u = 0; u < l; ++u)
            for (size_t v = u; v < l; ++v)
                G[u * l + v] = G[v * l + u] = cqb_gram_entry((double)N, cnt[u][u], cnt[v][v], cnt[u][v], alpha[u], alpha[v]);
        out->rho_partial = cqb_partial_from_gram(G, (int)l);
        if (isnan(out->rho_partial))
            return cqb_error_set(err, CQB_EDATA,
                                 "the hit Gram matrix of y, x and the controls is singular at lag %zu "
                                 "(alpha_y %g, alpha_x %g): a control duplicates another variable's hits",
                                 k, ay, ax);
    }
    return CQB_OK;
}

cqb_status cqb_cq_compute(const cqb_cq_input *in, double ay, double ax, size_t k, cqb_cq_point *out,
                        cqb_error *err)
{
    cqb_cq_prep prep;
    cqb_status st = cqb_cq_prep_init(in, &prep, err);
    if (st != CQB_OK) return st;
    st = cqb_cq_compute_prep(in, &prep, ay, ax, k, out, err);
    cqb_cq_prep_free(&prep);
    return st;
}

void cqb_q_stats(const double *rho, size_t P, size_t T, double *q_bp, double *q_lb)
{
    double s_bp = 0.0, s_lb = 0.0;
    const double Td = (double)T;
    for (size_t k = 1; k <= P; ++k) {
        double r2 = rho[k - 1] * rho[k - 1];
        s_bp += r2;
        s_lb += r2 / (Td - (double)k);
        q_bp[k - 1] = Td * s_bp;
        q_lb[k - 1] = Td * (Td + 2.0) * s_lb;
    }
}
