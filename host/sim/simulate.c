/* simulate.c — Monte Carlo size and power of the CQ bootstrap tests
 * (cqboot/simulate.h, docs/simulation.md).
 *
 * Replications run in rounds: within a round, threads take replications
 * dynamically, each writing its own slot of the round's record (rho_hat,
 * gamma and rejection flags per cell, flags per Q test); one thread then
 * folds the round into the totals in replication order. Counts are integers
 * and the floating-point sums see the replications in the same order for
 * any thread count or round size, so results do not depend on either.
 */
#include "cqboot/simulate.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cqboot/backend.h"
#include "cqboot/cq_boot.h"
#include "cqboot/philox.h"
#include "cqboot/sbplan.h"

enum { F_VALID = 1, F_REJ1 = 2, F_REJ2 = 4, F_REJ3 = 8, F_REJ4 = 16 };
enum { ST_SKIPPED = 0, ST_OK = 1, ST_FAILED = 2 };

void cqb_sim_opts_default(cqb_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->reps = 1000;
    o->rep0 = 0;
    o->B = 1000;
    o->gamma = 0.0;
    o->level = 0.95;
    o->threads = 0;
    o->null_test = 1;
    o->null_scheme = 1; /* CQB_NULL_ROTATION (docs/calibrated.md) */
    o->rot_margin = 10;
}

void cqb_sim_rate(uint64_t k, uint64_t n, double *rate, double *se)
{
    if (n == 0) {
        *rate = NAN;
        *se = NAN;
        return;
    }
    double p = (double)k / (double)n;
    *rate = p;
    *se = sqrt(p * (1.0 - p) / (double)n);
}

/* ----------------------------------------------------------- validation -- */

static cqb_status check_levels(const double *a, size_t n, const char *what, cqb_error *err)
{
    if (n == 0 || !a) return cqb_error_set(err, CQB_EUSAGE, "%s: at least one quantile level", what);
    if (n > CQB_PLAN_MAX_LEVELS)
        return cqb_error_set(err, CQB_EUSAGE, "%s: at most %d quantile levels", what, CQB_PLAN_MAX_LEVELS);
    for (size_t i = 0; i < n; ++i) {
        if (!(a[i] > 0.0 && a[i] < 1.0))
            return cqb_error_set(err, CQB_EUSAGE, "%s: level %g is outside (0,1)", what, a[i]);
        if (i > 0 && !(a[i] > a[i - 1]))
            return cqb_error_set(err, CQB_EUSAGE, "%s: levels must be ascending and distinct", what);
    }
    return CQB_OK;
}

static size_t rows_needed(const double *a, size_t n)
{
    size_t need = 2;
    for (size_t i = 0; i < n; ++i) {
        double m = a[i] < 1.0 - a[i] ? a[i] : 1.0 - a[i];
        size_t k = (size_t)ceil(1.0 / m);
        if (k > need) need = k;
    }
    return need;
}

static cqb_status validate(const cqb_sim_spec *s, const cqb_sim_opts *o, cqb_error *err)
{
    cqb_status st;
    if ((st = check_levels(s->alpha_y, s->ny, "--alpha-y", err)) != CQB_OK) return st;
    if ((st = check_levels(s->alpha_x, s->nx, "--alpha-x", err)) != CQB_OK) return st;
    if (s->nlags == 0 || !s->lags) return cqb_error_set(err, CQB_EUSAGE, "--lags: at least one lag");
    for (size_t i = 0; i < s->nlags; ++i) {
        if (i > 0 && !(s->lags[i] > s->lags[i - 1]))
            return cqb_error_set(err, CQB_EUSAGE, "--lags: lags must be ascending and distinct");
        if (s->lags[i] > CQB_TAG_MAX_LAG) return cqb_error_set(err, CQB_EUSAGE, "--lags: lag %zu is too large", s->lags[i]);
    }
    if (s->T > ((size_t)1 << 30)) return cqb_error_set(err, CQB_EUSAGE, "--T: %zu is too large", s->T);
    size_t need = rows_needed(s->alpha_y, s->ny), nx = rows_needed(s->alpha_x, s->nx);
    if (nx > need) need = nx;
    const size_t maxlag = s->lags[s->nlags - 1];
    if (s->T < maxlag + need)
        return cqb_error_set(err, CQB_EUSAGE,
                             "--T: %zu observations are too few: largest lag %zu, and the quantile levels need at "
                             "least %zu rows after lagging",
                             s->T, maxlag, need);
    if (o->reps < 1) return cqb_error_set(err, CQB_EUSAGE, "--reps: at least one replication");
    if (o->rep0 > ((uint64_t)1 << 32) || o->reps > ((uint64_t)1 << 32) - o->rep0)
        return cqb_error_set(err, CQB_EUSAGE, "--reps: replication ids must stay below 2^32");
    if (o->B < 1 || o->B > UINT32_MAX) return cqb_error_set(err, CQB_EUSAGE, "--boot: B must be in 1..2^32-1");
    if (!(o->gamma <= 1.0) || isnan(o->gamma))
        return cqb_error_set(err, CQB_EUSAGE, "--gamma: must be in (0,1] or auto");
    if (!(o->level > 0.0 && o->level < 1.0)) return cqb_error_set(err, CQB_EUSAGE, "--level: must be in (0,1)");
    if (o->threads < 0 || o->threads > 4096) return cqb_error_set(err, CQB_EUSAGE, "--threads: must be in 1..4096");
    return CQB_OK;
}

/* ------------------------------------------------------------------ run -- */

typedef struct round_buf {
    size_t cap;        /* replications per round */
    double *rho, *gam; /* [i * ncells + c] */
    unsigned char *cflag, *qflag, *state;
} round_buf;

typedef struct shared_state {
    const cqb_sim_spec *s;
    const cqb_sim_opts *o;
    const cqb_dgp_ctx *dgp;
    size_t ncells, nq, P;
    double sig;
    volatile int abort_flag;
    int stop_round;   /* abort_flag as of the end of the last round */
    cqb_status first_st;
    uint64_t first_rep;
    cqb_error first_err;
    uint64_t done;
    double *rec; /* one replication record (record/replay), used by one thread at a time */
    size_t reclen;
} shared_state;

static void note_failure(shared_state *sh, uint64_t rep, cqb_status st, const cqb_error *e)
{
#pragma omp critical(cqb_sim_err)
    {
        if (sh->first_st == CQB_OK || rep < sh->first_rep) {
            sh->first_st = st;
            sh->first_rep = rep;
            sh->first_err = *e;
        }
        sh->abort_flag = 1;
    }
}

/* One replication into slot i of the round. */
static void run_rep(shared_state *sh, const cqb_backend *be, uint64_t rep, size_t i, round_buf *rb, double *y,
                    double *x, double *work)
{
    const cqb_sim_spec *s = sh->s;
    const cqb_sim_opts *o = sh->o;
    cqb_dgp_generate(sh->dgp, o->seed, rep, s->T, y, x, work);
    cqb_cq_spec cs;
    memset(&cs, 0, sizeof cs);
    cs.in = (cqb_cq_input){y, x, s->T, NULL, 0, CQB_Q_R7_LE};
    cs.alpha_y = s->alpha_y;
    cs.ny = s->ny;
    cs.alpha_x = s->alpha_x;
    cs.nx = s->nx;
    cs.lags = s->lags;
    cs.nlags = s->nlags;
    cs.qtests = sh->P > 0;
    cqb_boot_opts bo;
    cqb_boot_opts_default(&bo);
    bo.seed = cqb_sim_boot_seed(o->seed, rep);
    bo.B = o->B;
    bo.gamma = o->gamma;
    bo.gamma_floor1 = o->gamma_floor1;
    bo.level = o->level;
    bo.share_grid = 1;
    bo.null_test = o->null_test;
    bo.null_scheme = o->null_scheme;
    bo.rot_margin = o->rot_margin;
    bo.backend = be;
    bo.cancel = o->cancel;
    cqb_cq_result r;
    cqb_error e = {CQB_OK, ""};
    cqb_status st = cqb_cq_boot(&cs, &bo, &r, &e);
    if (st != CQB_OK) {
        cqb_error e2;
        if (o->cancel && *o->cancel) cqb_error_set(&e2, CQB_EUSAGE, "interrupted");
        else cqb_error_set(&e2, st, "replication %llu: %s", (unsigned long long)rep, e.msg);
        note_failure(sh, rep, e2.status, &e2);
        rb->state[i] = ST_FAILED;
        return;
    }
    /* sig = 1 - level carries a rounding error of up to ~1e-17; p-values are
     * multiples of 1/B, so a margin far below 1/B makes the strict rule exact */
    const double pv_cut = sh->sig - 1e-12;
    for (size_t c = 0; c < sh->ncells; ++c) {
        const cqb_cq_cell *cl = &r.cells[c];
        unsigned char f = 0;
        if (isfinite(cl->rho) && isfinite(cl->band_lo) && isfinite(cl->band_hi) && isfinite(cl->p_value)) {
            f = F_VALID;
            if (cl->rho < cl->band_lo || cl->rho > cl->band_hi) f |= F_REJ1;
            if (cl->p_value < pv_cut) f |= F_REJ2;
            /* mid-p values are multiples of 1/(2(B+1)): the same margin */
            if (cl->p_null < pv_cut) f |= F_REJ3;
            if (cl->p_null_cons < pv_cut) f |= F_REJ4;
        }
        rb->cflag[i * sh->ncells + c] = f;
        rb->rho[i * sh->ncells + c] = cl->rho;
        rb->gam[i * sh->ncells + c] = cl->gamma;
    }
    for (size_t q = 0; q < sh->nq; ++q) {
        const cqb_cq_qtest *qt = &r.qtests[q];
        unsigned char f = 0;
        if (isfinite(qt->q_lb) && isfinite(qt->cv_lb) && isfinite(qt->q_bp) && isfinite(qt->cv_bp)) {
            f = F_VALID;
            if (qt->q_lb > qt->cv_lb) f |= F_REJ1;
            if (qt->q_bp > qt->cv_bp) f |= F_REJ2;
            if (qt->p_null_lb < pv_cut) f |= F_REJ3;
        }
        rb->qflag[i * sh->nq + q] = f;
    }
    cqb_cq_result_free(&r);
    rb->state[i] = ST_OK;
}

/* A record (cqboot/simulate.h): cell flags, rho_hat, gamma, Q-test flags. */
static void pack_rec(const shared_state *sh, const round_buf *rb, size_t i, double *rec)
{
    const size_t nc = sh->ncells;
    for (size_t c = 0; c < nc; ++c) {
        rec[c] = (double)rb->cflag[i * nc + c];
        rec[nc + c] = rb->rho[i * nc + c];
        rec[2 * nc + c] = rb->gam[i * nc + c];
    }
    for (size_t q = 0; q < sh->nq; ++q) rec[3 * nc + q] = (double)rb->qflag[i * sh->nq + q];
}

/* Replication rep into slot i from the replay source instead of running it. */
static void replay_rep(shared_state *sh, uint64_t rep, size_t i, round_buf *rb)
{
    const size_t nc = sh->ncells;
    cqb_error e = {CQB_OK, ""};
    cqb_status st = sh->o->replay(rep, sh->rec, sh->reclen, sh->o->scale_user, &e);
    for (size_t c = 0; st == CQB_OK && c < nc + sh->nq; ++c) {
        const double f = c < nc ? sh->rec[c] : sh->rec[3 * nc + (c - nc)];
        if (!(f >= 0.0 && f < 256.0 && f == floor(f)))
            st = cqb_error_set(&e, CQB_EDATA, "replication %llu: corrupt record", (unsigned long long)rep);
    }
    if (st != CQB_OK) {
        note_failure(sh, rep, st, &e);
        rb->state[i] = ST_FAILED;
        return;
    }
    for (size_t c = 0; c < nc; ++c) {
        rb->cflag[i * nc + c] = (unsigned char)sh->rec[c];
        rb->rho[i * nc + c] = sh->rec[nc + c];
        rb->gam[i * nc + c] = sh->rec[2 * nc + c];
    }
    for (size_t q = 0; q < sh->nq; ++q) rb->qflag[i * sh->nq + q] = (unsigned char)sh->rec[3 * nc + q];
    rb->state[i] = ST_OK;
}

size_t cqb_sim_record_len(const cqb_sim_spec *s)
{
    const size_t g = s->ny * s->nx, maxlag = s->nlags && s->lags ? s->lags[s->nlags - 1] : 0;
    return 3 * g * s->nlags + (s->qtests ? g * maxlag : 0);
}

typedef struct totals {
    uint64_t *cvalid, *crej1, *crej2, *qvalid, *qrej1, *qrej2, *crej3, *crej4, *qrej3;
    double *mean, *m2, *gsum;
} totals;

/* Folds a round into the totals in replication order (Welford for rho),
 * handing each replication's record to opts.record first. */
static void fold_round(shared_state *sh, const round_buf *rb, uint64_t rep0, size_t nr, totals *t)
{
    for (size_t i = 0; i < nr; ++i) {
        if (rb->state[i] != ST_OK) continue;
        if (sh->o->record) {
            cqb_error e = {CQB_OK, ""};
            pack_rec(sh, rb, i, sh->rec);
            cqb_status st = sh->o->record(rep0 + i, sh->rec, sh->reclen, sh->o->scale_user, &e);
            if (st != CQB_OK) {
                note_failure(sh, rep0 + i, st, &e);
                return;
            }
        }
        for (size_t c = 0; c < sh->ncells; ++c) {
            unsigned char f = rb->cflag[i * sh->ncells + c];
            if (!(f & F_VALID)) continue;
            uint64_t n = ++t->cvalid[c];
            t->crej1[c] += (f & F_REJ1) != 0;
            t->crej2[c] += (f & F_REJ2) != 0;
            t->crej3[c] += (f & F_REJ3) != 0;
            t->crej4[c] += (f & F_REJ4) != 0;
            double v = rb->rho[i * sh->ncells + c];
            double d = v - t->mean[c];
            t->mean[c] += d / (double)n;
            t->m2[c] += d * (v - t->mean[c]);
            t->gsum[c] += rb->gam[i * sh->ncells + c];
        }
        for (size_t q = 0; q < sh->nq; ++q) {
            unsigned char f = rb->qflag[i * sh->nq + q];
            if (!(f & F_VALID)) continue;
            ++t->qvalid[q];
            t->qrej1[q] += (f & F_REJ1) != 0;
            t->qrej2[q] += (f & F_REJ2) != 0;
            t->qrej3[q] += (f & F_REJ3) != 0;
        }
    }
}

cqb_status cqb_simulate(const cqb_sim_spec *s, const cqb_sim_opts *o, cqb_sim_result *res, cqb_error *err)
{
    memset(res, 0, sizeof *res);
    cqb_status st = validate(s, o, err);
    if (st != CQB_OK) return st;
    cqb_dgp_ctx dgp;
    if ((st = cqb_dgp_prepare(&s->dgp, &dgp, err)) != CQB_OK) return st;
    const double t0 = omp_get_wtime();
    const size_t nl = s->nlags, ncellg = s->ny * s->nx;
    const size_t maxlag = s->lags[nl - 1];
    const size_t P = s->qtests && maxlag >= 1 ? maxlag : 0;
    const size_t ncells = ncellg * nl, nq = ncellg * P;
    /* a replay reads records in order: one thread */
    const int nth = o->replay ? 1 : o->threads > 0 ? o->threads : omp_get_max_threads();

    res->ncells = ncells;
    res->cells = calloc(ncells, sizeof *res->cells);
    res->nqtests = nq;
    res->qtests = nq ? calloc(nq, sizeof *res->qtests) : NULL;
    totals t;
    t.cvalid = calloc(ncells * 5 + nq * 4 + 1, sizeof(uint64_t));
    t.mean = calloc(ncells * 3 + 1, sizeof(double));
    round_buf rb;
    memset(&rb, 0, sizeof rb);
    rb.cap = (size_t)nth * 32;
    if (rb.cap > o->reps) rb.cap = (size_t)o->reps;
    rb.rho = malloc(rb.cap * ncells * sizeof *rb.rho);
    rb.gam = malloc(rb.cap * ncells * sizeof *rb.gam);
    rb.cflag = malloc(rb.cap * ncells);
    rb.qflag = malloc(rb.cap * (nq ? nq : 1));
    rb.state = malloc(rb.cap);
    const size_t reclen = cqb_sim_record_len(s);
    double *rec = o->record || o->replay ? malloc((reclen ? reclen : 1) * sizeof *rec) : NULL;
    if (((o->record || o->replay) && !rec) || !res->cells || (nq && !res->qtests) || !t.cvalid || !t.mean || !rb.rho || !rb.gam || !rb.cflag ||
        !rb.qflag || !rb.state) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory for %zu cells", ncells);
        goto done;
    }
    t.crej1 = t.cvalid + ncells;
    t.crej2 = t.crej1 + ncells;
    t.qvalid = t.crej2 + ncells;
    t.qrej1 = t.qvalid + nq;
    t.qrej2 = t.qrej1 + nq;
    t.crej3 = t.qrej2 + nq;
    t.crej4 = t.crej3 + ncells;
    t.qrej3 = t.crej4 + ncells;
    t.m2 = t.mean + ncells;
    t.gsum = t.m2 + ncells;

    shared_state sh;
    memset(&sh, 0, sizeof sh);
    sh.s = s;
    sh.o = o;
    sh.dgp = &dgp;
    sh.ncells = ncells;
    sh.nq = nq;
    sh.P = P;
    sh.sig = 1.0 - o->level;
    sh.rec = rec;
    sh.reclen = reclen;
    const size_t wsz = cqb_dgp_work_size(&dgp, s->T);
    const double total = (double)o->reps;

#pragma omp parallel num_threads(nth)
    {
        cqb_backend be;
        cqb_error e;
        int ok = cqb_backend_open(CQB_BACKEND_CPU, 1, &be, NULL, 0, &e) == CQB_OK;
        double *buf = ok ? malloc((2 * s->T + wsz) * sizeof *buf) : NULL;
        if (!buf) {
            cqb_error_set(&e, CQB_ENOMEM, "out of memory for a replication's series");
            note_failure(&sh, 0, CQB_ENOMEM, &e);
        }
        const int master = omp_get_thread_num() == 0;
        for (uint64_t r0 = 0; r0 < o->reps; r0 += rb.cap) {
            const size_t nr = o->reps - r0 < rb.cap ? (size_t)(o->reps - r0) : rb.cap;
#pragma omp for schedule(dynamic, 1)
            for (long i = 0; i < (long)nr; ++i) {
                int stop;
#pragma omp atomic read
                stop = sh.abort_flag;
                rb.state[i] = ST_SKIPPED;
                if (stop || !buf) continue;
                if (o->cancel && *o->cancel) {
                    cqb_error ce;
                    cqb_error_set(&ce, CQB_EUSAGE, "interrupted");
                    note_failure(&sh, 0, CQB_EUSAGE, &ce);
                    continue;
                }
                if (o->replay) replay_rep(&sh, o->rep0 + r0 + (uint64_t)i, (size_t)i, &rb);
                else run_rep(&sh, &be, o->rep0 + r0 + (uint64_t)i, (size_t)i, &rb, buf, buf + s->T, buf + 2 * s->T);
                uint64_t d;
#pragma omp atomic capture
                d = ++sh.done;
                if (master && o->progress) o->progress((double)d / total, o->progress_user);
            }
            /* implicit barrier: the round's slots are complete */
#pragma omp single
            {
                if (!sh.abort_flag) fold_round(&sh, &rb, o->rep0 + r0, nr, &t);
                sh.stop_round = sh.abort_flag;
            }
            /* implicit barrier: every thread reads the same stop_round, which
             * changes only in the next round's single, after its barrier */
            if (sh.stop_round) break;
        }
        free(buf);
        if (ok) cqb_backend_close(&be);
    }
    if (sh.first_st != CQB_OK) {
        if (err) *err = sh.first_err;
        st = sh.first_st;
        goto done;
    }
    if (o->progress) o->progress(1.0, o->progress_user);

    for (size_t iy = 0, c = 0; iy < s->ny; ++iy) {
        for (size_t ix = 0; ix < s->nx; ++ix) {
            for (size_t li = 0; li < nl; ++li, ++c) {
                cqb_sim_cell *cl = &res->cells[c];
                cl->alpha_y = s->alpha_y[iy];
                cl->alpha_x = s->alpha_x[ix];
                cl->lag = s->lags[li];
                cl->valid = t.cvalid[c];
                cl->rej_band = t.crej1[c];
                cl->rej_pval = t.crej2[c];
                cqb_sim_rate(cl->rej_band, cl->valid, &cl->rate_band, &cl->se_band);
                cqb_sim_rate(cl->rej_pval, cl->valid, &cl->rate_pval, &cl->se_pval);
                cl->rho_mean = cl->valid ? t.mean[c] : NAN;
                cl->rho_sd = cl->valid > 1 ? sqrt(t.m2[c] / (double)(cl->valid - 1)) : NAN;
                cl->gamma_mean = cl->valid ? t.gsum[c] / (double)cl->valid : NAN;
                cl->rej_null = t.crej3[c];
                cl->rej_null_cons = t.crej4[c];
                cqb_sim_rate(cl->rej_null, o->null_test ? cl->valid : 0, &cl->rate_null, &cl->se_null);
                cqb_sim_rate(cl->rej_null_cons, o->null_test ? cl->valid : 0, &cl->rate_null_cons,
                             &cl->se_null_cons);
                {
                    double my = fmin(cl->alpha_y, 1 - cl->alpha_y), mx = fmin(cl->alpha_x, 1 - cl->alpha_x);
                    cl->sparse = (double)(s->T - cl->lag) * my * mx < 5.0;
                }
            }
            for (size_t p = 1; p <= P; ++p) {
                size_t q = (iy * s->nx + ix) * P + p - 1;
                cqb_sim_qtest *qt = &res->qtests[q];
                qt->alpha_y = s->alpha_y[iy];
                qt->alpha_x = s->alpha_x[ix];
                qt->p = p;
                qt->valid = t.qvalid[q];
                qt->rej_lb = t.qrej1[q];
                qt->rej_bp = t.qrej2[q];
                cqb_sim_rate(qt->rej_lb, qt->valid, &qt->rate_lb, &qt->se_lb);
                cqb_sim_rate(qt->rej_bp, qt->valid, &qt->rate_bp, &qt->se_bp);
                qt->rej_null_lb = t.qrej3[q];
                cqb_sim_rate(qt->rej_null_lb, o->null_test ? qt->valid : 0, &qt->rate_null_lb, &qt->se_null_lb);
            }
        }
    }
    res->reps = o->reps;
    res->rep0 = o->rep0;
    res->threads = nth;
    res->seconds = omp_get_wtime() - t0;
    st = CQB_OK;
done:
    free(t.cvalid);
    free(t.mean);
    free(rb.rho);
    free(rb.gam);
    free(rb.cflag);
    free(rb.qflag);
    free(rb.state);
    free(rec);
    if (st != CQB_OK) cqb_sim_result_free(res);
    return st;
}

void cqb_sim_result_free(cqb_sim_result *res)
{
    free(res->cells);
    free(res->qtests);
    memset(res, 0, sizeof *res);
}
