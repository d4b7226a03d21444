/* cq_boot.c — the CQ analysis driver: sample statistics, plans per lag and
 * for the Q test, chunked backend runs and exact bounded-memory reductions
 * (cross-quantilogram.md §4.2-§4.3, §4.8). */
#include "cqboot/cq_boot.h"

#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cqboot/blocklen.h"
#include "cqboot/cqreduce.h"
#include "cqboot/nullboot.h"
#include "cqboot/philox.h"
#include "cqboot/qselect.h"
#include "cqboot/runtime.h"

void cqb_boot_opts_default(cqb_boot_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->B = 1000;
    o->gamma = 0.0;
    o->level = 0.95;
    o->share_grid = 1;
    o->null_scheme = CQB_NULL_ROTATION;
    o->rot_margin = 10;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

cqb_status cqb_auto_gamma(const double *const *cols, int ncol, size_t N, int floor1, double *gamma,
                          cqb_error *err)
{
    double *bb = malloc((size_t)(ncol > 0 ? ncol : 1) * sizeof *bb);
    if (!bb) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    cqb_bstar_opts o;
    cqb_bstar_opts_default(&o);
    for (int c = 0; c < ncol; ++c) {
        double bcb;
        int bst = cqb_bstar(cols[c], N, &o, &bb[c], &bcb);
        if (bst == (int)CQB_ENOMEM) {
            free(bb);
            return cqb_error_set(err, CQB_ENOMEM, "out of memory");
        }
        if (bst != CQB_OK) {
            free(bb);
            return cqb_error_set(err, CQB_EDATA,
                                 "automatic gamma: the Politis-White block length is undefined for a "
                                 "column of %zu rows (too short or constant); give --gamma", N);
        }
    }
    *gamma = cqb_gamma_from_bstar(bb, (size_t)ncol, floor1);
    free(bb);
    return CQB_OK;
}

/* ------------------------------------------------------------ one plan -- */

/* How plan statistics become the values whose quantiles we need: groups of
 * values computed together from one replicate's statistics (cqb_derive and
 * cqb_derive_rep() of cqboot/cqreduce.h, shared with the device reduction). */
typedef cqb_derive derive;

/* Values of group g for nb replicates: out[i * nb + r] is value i of the
 * group (variable g * gsize + i) for replicate r. */
static void derive_group(const derive *d, size_t g, const double *st, size_t nstat, size_t nb, double *out)
{
    for (size_t r = 0; r < nb; ++r) cqb_derive_rep(d, g, st + r * nstat, out + r, nb);
}

/* Groups derived together: the statistics of adjacent groups (cells) are
 * adjacent in a replicate's statistics, so a block reads whole cache lines
 * instead of one value per line, and works element-wise over its groups. */
#define DERIVE_BLOCK 8

/* Values of the regular groups g0 .. g0+ng-1 (not the sup group; ng <=
 * DERIVE_BLOCK) for nb replicates: value i of group g0+j, replicate r, to
 * dst[j * gsize + i][r]. Each value gets exactly cqb_derive_rep()'s
 * operations (cqb_q_step()); the loops over the block run in SIMD lanes,
 * where division is correctly rounded as in scalar code. */
static inline __attribute__((always_inline)) void derive_block_body(const derive *d, size_t g0, size_t ng,
                                                                    const double *st, size_t nstat, size_t nb,
                                                                    double *const *dst)
{
    const double *ref = d->ref + g0;
    if (d->kind == 0) {
        for (size_t r = 0; r < nb; ++r) {
            const double *s = st + r * nstat + g0;
            for (size_t j = 0; j < ng; ++j) dst[j][r] = s[j] - ref[j];
        }
        return;
    }
    const size_t P = d->P, nc = d->ncell, gs = d->gsize;
    const double T = d->T;
    for (size_t r = 0; r < nb; ++r) {
        const double *s = st + r * nstat + g0;
        double sbp[DERIVE_BLOCK], slb[DERIVE_BLOCK], qb[DERIVE_BLOCK], ql[DERIVE_BLOCK];
        for (size_t j = 0; j < DERIVE_BLOCK; ++j) sbp[j] = slb[j] = 0.0;
        for (size_t k = 1; k <= P; ++k) {
            const double *sk = s + (k - 1) * nc, *rk = ref + (k - 1) * nc;
            for (size_t j = 0; j < ng; ++j) cqb_q_step(sk[j] - rk[j], T, k, &sbp[j], &slb[j], &qb[j], &ql[j]);
            for (size_t j = 0; j < ng; ++j) {
                dst[j * gs + k - 1][r] = qb[j];
                dst[j * gs + P + k - 1][r] = ql[j];
            }
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void derive_block_avx2(const derive *d, size_t g0, size_t ng,
                                                              const double *st, size_t nstat, size_t nb,
                                                              double *const *dst)
{
    derive_block_body(d, g0, ng, st, nstat, nb, dst);
}
#endif

static void derive_block(const derive *d, size_t g0, size_t ng, const double *st, size_t nstat, size_t nb,
                         double *const *dst)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (cqb_simd_level() >= 1) {
        derive_block_avx2(d, g0, ng, st, nstat, nb, dst);
        return;
    }
#endif
    derive_block_body(d, g0, ng, st, nstat, nb, dst);
}

/* The tile's statistics by statistic: stT[s * ldt + r] = st[r * nstat + s],
 * in blocks of eight statistics (a cache line of each replicate's row). */
static void transpose_tile(const double *restrict st, size_t nstat, size_t nb, double *restrict stT, size_t ldt)
{
    for (size_t s0 = 0; s0 < nstat; s0 += 8) {
        const size_t s1 = s0 + 8 < nstat ? s0 + 8 : nstat;
        for (size_t r = 0; r < nb; ++r)
            for (size_t s = s0; s < s1; ++s) stT[s * ldt + r] = st[r * nstat + s];
    }
}

/* Q values (kind 1) of the regular groups g0 .. g0+ng-1 for nb replicates
 * from statistics by statistic (transpose_tile()): value i of group g0+j,
 * replicate r, to dst[j * gsize + i][r]. Every value gets exactly
 * cqb_derive_rep()'s operations (cqb_q_step()), in SIMD lanes over the
 * replicates: loads and stores are contiguous, where derive_block() reads
 * across a replicate's row and stores one lane at a time. acc holds 2 ldt
 * doubles. */
static inline __attribute__((always_inline)) void derive_rows_body(const derive *d, size_t g0, size_t ng,
                                                                   const double *stT, size_t ldt, size_t nb,
                                                                   double *const *dst, double *acc)
{
    const size_t P = d->P, nc = d->ncell, gs = d->gsize;
    const double T = d->T;
    double *restrict sbp = acc, *restrict slb = acc + ldt;
    for (size_t j = 0; j < ng; ++j) {
        const size_t g = g0 + j;
        for (size_t r = 0; r < nb; ++r) sbp[r] = slb[r] = 0.0;
        for (size_t k = 1; k <= P; ++k) {
            const double *restrict sk = stT + ((k - 1) * nc + g) * ldt;
            const double rk = d->ref[(k - 1) * nc + g];
            double *restrict ob = dst[j * gs + k - 1], *restrict ol = dst[j * gs + P + k - 1];
            for (size_t r = 0; r < nb; ++r) cqb_q_step(sk[r] - rk, T, k, &sbp[r], &slb[r], &ob[r], &ol[r]);
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void derive_rows_avx2(const derive *d, size_t g0, size_t ng,
                                                             const double *stT, size_t ldt, size_t nb,
                                                             double *const *dst, double *acc)
{
    derive_rows_body(d, g0, ng, stT, ldt, nb, dst, acc);
}
#endif

static void derive_rows(const derive *d, size_t g0, size_t ng, const double *stT, size_t ldt, size_t nb,
                        double *const *dst, double *acc)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (cqb_simd_level() >= 1) {
        derive_rows_avx2(d, g0, ng, stT, ldt, nb, dst, acc);
        return;
    }
#endif
    derive_rows_body(d, g0, ng, stT, ldt, nb, dst, acc);
}

typedef struct progress_state {
    const cqb_boot_opts *o;
    double done, total;
} progress_state;

static void tick(progress_state *ps, double n)
{
    ps->done += n;
    if (ps->o->progress && ps->total > 0) ps->o->progress(ps->done / ps->total, ps->o->progress_user);
}

/* run_plan() on a backend that reduces where it computes (be->reduce, e.g.
 * the CUDA device): pass 1 returns the exceedance counts, the valid counts
 * and a histogram per value (range from the first chunk, as qselect's
 * two-pass mode); the selector picks the target bins; pass 2 returns only
 * the values in them; the exact selection is qselect's. The counts are the
 * host's integers and the order statistics are exact, so the results are
 * the host reduction's, bit for bit. */
static cqb_status run_plan_reduce(const cqb_plan *plan, const cqb_boot_opts *o, const derive *d,
                                  const double *probs, int nprob, const double *pv_ref, int pv_abs,
                                  size_t *pv_count, const double *et_ref, size_t *et_lo, size_t *et_hi,
                                  cqb_qsel **sel_out, progress_state *ps, size_t *peak, int *two_pass,
                                  cqb_error *err)
{
    const cqb_backend *be = o->backend;
    const size_t nv = d->nvar, nbin = (size_t)CQB_QSEL_BINS + 2;
    cqb_qsel *sel = NULL;
    cqb_status st = cqb_qsel_create_two_pass(nv, o->B, probs, nprob, &sel, err);
    if (st != CQB_OK) return st;
    *two_pass = 1;
    const size_t n = nv ? nv : 1;
    size_t *valid = malloc(n * sizeof *valid), *cap = malloc(n * sizeof *cap);
    double *lo = malloc(n * sizeof *lo), *width = malloc(n * sizeof *width), *coll = NULL;
    uint32_t *hist = malloc(n * nbin * sizeof *hist), *tbin = malloc(n * CQB_QSEL_MAX_TARGETS * sizeof *tbin);
    int *ntarget = malloc(n * sizeof *ntarget);
    size_t ncoll = 0;
    if (!valid || !cap || !lo || !width || !hist || !tbin || !ntarget) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory for the bootstrap reduction (%zu statistics)", nv);
        goto done;
    }
    cqb_reduce_io io;
    memset(&io, 0, sizeof io);
    io.d = d;
    io.B = o->B;
    io.pv_ref = pv_ref;
    io.pv_abs = pv_abs;
    io.et_ref = et_ref;
    io.pv_count = pv_count;
    io.et_lo = et_lo;
    io.et_hi = et_hi;
    io.valid = valid;
    io.lo = lo;
    io.width = width;
    io.hist = hist;
    if (o->cancel && *o->cancel) {
        st = cqb_error_set(err, CQB_EUSAGE, "interrupted");
        goto done;
    }
    io.pass = 1;
    if ((st = be->reduce(be, plan, &io, err)) != CQB_OK) goto done;
    tick(ps, 0.5 * (double)o->B); /* two passes */
    for (size_t j = 0; j < nv; ++j) cqb_qsel_import_pass1(sel, j, lo[j], width[j], hist + j * nbin, valid[j]);
    if ((st = cqb_qsel_end_pass(sel, 1, be->threads, err)) != CQB_OK) goto done;
    for (size_t j = 0; j < nv; ++j) {
        ntarget[j] = cqb_qsel_targets(sel, j, tbin + j * CQB_QSEL_MAX_TARGETS);
        cap[j] = 0;
        for (int t = 0; t < ntarget[j]; ++t) cap[j] += hist[j * nbin + tbin[j * CQB_QSEL_MAX_TARGETS + t]];
        ncoll += cap[j];
    }
    coll = malloc((ncoll ? ncoll : 1) * sizeof *coll);
    if (!coll) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory for %zu collected bootstrap values", ncoll);
        goto done;
    }
    if (o->cancel && *o->cancel) {
        st = cqb_error_set(err, CQB_EUSAGE, "interrupted");
        goto done;
    }
    io.pass = 2;
    io.tbin = tbin;
    io.ntarget = ntarget;
    io.cap = cap;
    io.coll = coll;
    if ((st = be->reduce(be, plan, &io, err)) != CQB_OK) goto done;
    tick(ps, 0.5 * (double)o->B); /* two passes */
    for (size_t j = 0, off = 0; j < nv; off += cap[j], ++j) {
        if (cqb_qsel_push(sel, 2, j, coll + off, cap[j])) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory selecting bootstrap quantiles");
            goto done;
        }
    }
    if ((st = cqb_qsel_advance(sel, o->B, err)) != CQB_OK) goto done;
    if ((st = cqb_qsel_end_pass(sel, 2, be->threads, err)) != CQB_OK) goto done;
    {
        size_t bytes = cqb_qsel_bytes(sel) + n * (nbin * sizeof *hist + 4 * sizeof(double)) + ncoll * sizeof *coll;
        if (bytes > *peak) *peak = bytes;
    }
done:
    free(valid); free(cap); free(lo); free(width); free(hist); free(tbin); free(ntarget); free(coll);
    if (st != CQB_OK) {
        cqb_qsel_free(sel);
        sel = NULL;
    }
    *sel_out = sel;
    return st;
}

/* Exceedance counts of value j over n values v (see run_plan()). The loops
 * are compiled for AVX-512 and AVX2 too (cqb_simd_level() picks): compares
 * and integer counts, the same numbers on every path. */
static inline __attribute__((always_inline)) void count_exceed_body(const double *restrict v, size_t n, size_t j,
                                                                    const double *pv_ref, int pv_abs,
                                                                    size_t *pv_count, const double *et_ref,
                                                                    size_t *et_lo, size_t *et_hi)
{
    size_t c = 0;
    const double ref = pv_ref[j];
    if (pv_abs) {
        for (size_t r = 0; r < n; ++r) c += fabs(v[r]) >= ref;
    } else {
        for (size_t r = 0; r < n; ++r) c += v[r] >= ref;
    }
    pv_count[j] += c;
    if (et_ref) {
        size_t lo = 0, hi = 0;
        const double e = et_ref[j];
        for (size_t r = 0; r < n; ++r) {
            lo += v[r] <= e;
            hi += v[r] >= e;
        }
        et_lo[j] += lo;
        et_hi[j] += hi;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static void count_exceed_avx512(const double *v, size_t n, size_t j,
                                                                    const double *pv_ref, int pv_abs,
                                                                    size_t *pv_count, const double *et_ref,
                                                                    size_t *et_lo, size_t *et_hi)
{
    count_exceed_body(v, n, j, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi);
}
__attribute__((target("avx2"))) static void count_exceed_avx2(const double *v, size_t n, size_t j,
                                                              const double *pv_ref, int pv_abs, size_t *pv_count,
                                                              const double *et_ref, size_t *et_lo, size_t *et_hi)
{
    count_exceed_body(v, n, j, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi);
}
#endif

static void count_exceed(const double *v, size_t n, size_t j, const double *pv_ref, int pv_abs, size_t *pv_count,
                         const double *et_ref, size_t *et_lo, size_t *et_hi)
{
#if defined(__x86_64__) && defined(__GNUC__)
    const int simd = cqb_simd_level();
    if (simd == 2) {
        count_exceed_avx512(v, n, j, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi);
        return;
    }
    if (simd == 1) {
        count_exceed_avx2(v, n, j, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi);
        return;
    }
#endif
    count_exceed_body(v, n, j, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi);
}

/* run_plan() on the CPU with stored values (one-pass selection): each thread
 * computes a tile of replicates and reduces it at once, while its
 * statistics are in cache: derived values straight into the selector's
 * store (each replicate has its own slots), exceedances into the thread's
 * own counters, summed at the end (integers: exact in any order). No
 * statistics buffer makes a round trip through memory. */
static cqb_status run_plan_fused(const cqb_plan *plan, const cqb_boot_opts *o, const derive *d, cqb_qsel *sel,
                                 int threads, size_t rb, size_t re, const double *pv_ref, int pv_abs,
                                 size_t *pv_count, const double *et_ref, size_t *et_lo, size_t *et_hi,
                                 progress_state *ps, size_t *peak, cqb_error *err)
{
    const size_t nstat = plan->nstat, nv = d->nvar, gs = d->gsize;
    const size_t nreg = d->kind == 1 && d->ngroup > d->ncell ? d->ncell : d->ngroup;
    const size_t nblk = (nreg + DERIVE_BLOCK - 1) / DERIVE_BLOCK + (d->ngroup - nreg);
    /* once the selector's windows are set, values are derived into wbuf
     * and pushed (cqb_qsel_window_push()) instead of written to slots */
    const int windowed = cqb_qsel_slot(sel, 0) == NULL;
    /* tiles of about 64 KiB of statistics, a multiple of 8 replicates (a
     * cache line of each store row); with windows, nothing is written per
     * replicate, and a push pays per call: tiles of up to 512 KiB (L2) */
    size_t tile = ((size_t)(windowed ? 512 : 64) << 10) / ((nstat ? nstat : 1) * sizeof(double));
    tile = tile < 8 ? 8 : tile > 256 ? 256 : tile & ~(size_t)7;
    /* One worksharing loop over all tiles: no barrier until the end, where
     * one per chunk of replicates cost each chunk's last tile waiting (up to
     * 0.5 ms per chunk for W1's lag plans). Progress is reported by the
     * calling thread (OpenMP thread 0) as tiles finish; every thread checks
     * for cancellation before each tile. Tiles start on multiples of 8
     * replicates from rb (the store's cache lines). */
    const size_t n = re > rb ? re - rb : 0;
    const long ntile = (long)((n + tile - 1) / tile);
    size_t finished = 0;
    int failed = 0, cancelled = 0, nthr = threads > 0 ? threads : 1;
#pragma omp parallel num_threads(nthr) reduction(| : failed)
    {
        const int tid = omp_get_thread_num();
        cqb_plan_worker *wk = cqb_plan_worker_new(plan);
        double *st = malloc(tile * (nstat ? nstat : 1) * sizeof *st);
        double *buf = malloc(gs * tile * sizeof *buf);
        double *wbuf = windowed ? malloc(DERIVE_BLOCK * gs * tile * sizeof *wbuf) : NULL;
        /* Q values are derived from the tile by statistic (derive_rows()) */
        const int rows = d->kind == 1;
        double *stT = rows ? malloc((tile * (nstat ? nstat : 1) + 2 * tile) * sizeof *stT) : NULL;
        double **dst = malloc(DERIVE_BLOCK * gs * sizeof *dst);
        size_t *cnt = calloc(3 * (nv ? nv : 1), sizeof *cnt);
        const int ok = wk && st && buf && dst && cnt && (wbuf || !windowed) && (stT || !rows);
        if (!ok) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (long ti = 0; ti < ntile; ++ti) {
            int stop;
#pragma omp atomic read
            stop = cancelled;
            if (!ok || stop) continue;
            if (o->cancel && *o->cancel) {
#pragma omp atomic write
                cancelled = 1;
                continue;
            }
            const size_t t0 = (size_t)ti * tile, nt = n - t0 < tile ? n - t0 : tile;
            for (size_t r = 0; r < nt; ++r) cqb_plan_worker_run(wk, (uint32_t)(rb + t0 + r), st + r * nstat);
            if (rows) transpose_tile(st, nstat, nt, stT, tile);
            /* Each thread starts its pass over the statistics at its own
             * offset, so that threads push to different statistics' windows
             * at any moment: two cores appending to one window fight over
             * its cache line (the order of a window's values does not
             * matter, and every count is an integer). */
            const size_t rot = (size_t)tid * nblk / (size_t)nthr;
            for (size_t k = 0; k < nblk; ++k) {
                const size_t bi = k + rot < nblk ? k + rot : k + rot - nblk;
                size_t g0 = bi * DERIVE_BLOCK, ng;
                if (g0 >= nreg) { /* the sup group */
                    g0 = nreg;
                    ng = 1;
                    derive_group(d, g0, st, nstat, nt, buf);
                    for (size_t i = 0; i < gs; ++i) {
                        dst[i] = windowed ? buf + i * nt : cqb_qsel_slot(sel, g0 * gs + i) + t0;
                        if (!windowed) memcpy(dst[i], buf + i * nt, nt * sizeof *buf);
                    }
                } else {
                    ng = nreg - g0 < DERIVE_BLOCK ? nreg - g0 : DERIVE_BLOCK;
                    for (size_t i = 0; i < ng * gs; ++i)
                        dst[i] = windowed ? wbuf + i * nt : cqb_qsel_slot(sel, g0 * gs + i) + t0;
                    if (rows) derive_rows(d, g0, ng, stT, tile, nt, dst, stT + tile * nstat);
                    else derive_block(d, g0, ng, st, nstat, nt, dst);
                }
                for (size_t i = 0; i < ng * gs; ++i) {
                    const size_t j = g0 * gs + i;
                    count_exceed(dst[i], nt, j, pv_ref, pv_abs, cnt, et_ref, cnt + nv, cnt + 2 * nv);
                    if (windowed) cqb_qsel_window_push(sel, tid, j, dst[i], nt);
                }
            }
            size_t f;
#pragma omp atomic capture
            f = finished += nt;
            if (tid == 0 && o->progress && ps->total > 0)
                o->progress((ps->done + (double)f) / ps->total, o->progress_user);
        }
        if (cnt) {
#pragma omp critical(cqb_fused_counts)
            {
                for (size_t j = 0; j < nv; ++j) pv_count[j] += cnt[j];
                if (et_ref) {
                    for (size_t j = 0; j < nv; ++j) {
                        et_lo[j] += cnt[nv + j];
                        et_hi[j] += cnt[2 * nv + j];
                    }
                }
            }
        }
        cqb_plan_worker_free(wk);
        free(st);
        free(buf);
        free(wbuf);
        free(stT);
        free(dst);
        free(cnt);
    }
    if (cancelled) return cqb_error_set(err, CQB_EUSAGE, "interrupted");
    if (failed) return cqb_error_set(err, CQB_ENOMEM, "out of memory reducing bootstrap replicates");
    const cqb_status adv = cqb_qsel_advance(sel, n, err);
    if (adv != CQB_OK) return adv;
    tick(ps, (double)n);
    size_t bytes = cqb_qsel_bytes(sel) +
                   (size_t)nthr * (tile * (nstat + gs + (windowed ? DERIVE_BLOCK * gs : 0)) + 3 * nv) * sizeof(double);
    if (bytes > *peak) *peak = bytes;
    return CQB_OK;
}

/* Runs B replicates of a plan through the backend in chunks, feeding the
 * selector (all passes) and counting p-value exceedances (pass 1): value
 * (absolute if pv_abs) >= pv_ref[j]; with et_ref, also the two tails
 * value <= et_ref[j] and value >= et_ref[j] for the equal-tailed p-value. */
static cqb_status run_plan_sel(const cqb_plan *plan, const cqb_boot_opts *o, const derive *d,
                               const double *probs, int nprob, const double *pv_ref, int pv_abs,
                               size_t *pv_count, const double *et_ref, size_t *et_lo, size_t *et_hi,
                               cqb_qsel **sel_out, progress_state *ps, size_t *peak, int *two_pass, int windows,
                               cqb_error *err)
{
    if (o->backend && o->backend->reduce)
        return run_plan_reduce(plan, o, d, probs, nprob, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi, sel_out,
                               ps, peak, two_pass, err);
    cqb_status st;
    cqb_qsel *sel = NULL;
    double *stats = NULL;
    const cqb_backend *be = o->backend;
    const int threads = be ? be->threads : 0;
    const int cpu = !be || be->kind == CQB_BACKEND_CPU;
    /* the CPU reduces where it computes, so it can keep only the values
     * near the wanted order statistics (cqb_qsel_create_windowed()) */
    st = cpu && windows ? cqb_qsel_create_windowed(d->nvar, o->B, probs, nprob, o->mem_limit, &sel, err)
                        : cqb_qsel_create(d->nvar, o->B, probs, nprob, o->mem_limit, &sel, err);
    if (st != CQB_OK) return st;
    const int npass = cqb_qsel_npass(sel);
    if (npass == 1 && cpu) {
        const int nthr = threads > 0 ? threads : omp_get_max_threads();
        const double done0 = ps->done;
        memset(pv_count, 0, d->nvar * sizeof *pv_count);
        if (et_ref) {
            memset(et_lo, 0, d->nvar * sizeof *et_lo);
            memset(et_hi, 0, d->nvar * sizeof *et_hi);
        }
        const size_t pilot = cqb_qsel_pilot(sel);
        if (pilot) {
            st = run_plan_fused(plan, o, d, sel, nthr, 0, pilot, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi, ps,
                                peak, err);
            if (st == CQB_OK) st = cqb_qsel_window_begin(sel, nthr, err);
        }
        if (st == CQB_OK && !cqb_qsel_window_failed(sel))
            st = run_plan_fused(plan, o, d, sel, nthr, pilot, o->B, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi,
                                ps, peak, err);
        if (st == CQB_OK && !cqb_qsel_window_failed(sel)) st = cqb_qsel_end_pass(sel, 1, threads, err);
        if (st == CQB_OK && cqb_qsel_window_failed(sel)) {
            /* the windows missed or would not fit (rare): again without
             * them; the replicates are the same, so is every count */
            cqb_qsel_free(sel);
            ps->done = done0;
            return run_plan_sel(plan, o, d, probs, nprob, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi, sel_out,
                                ps, peak, two_pass, 0, err);
        }
        goto done;
    }
    if (npass == 2) *two_pass = 1;
    size_t chunk = o->chunk;
    if (chunk == 0) {
        /* a device wants large launches; the CPU wants the chunk's
         * statistics to stay in cache between the kernel and the reduction */
        size_t per = (plan->nstat + d->nvar) * sizeof(double);
        chunk = ((size_t)(cpu ? 2 : 32) << 20) / (per ? per : 1);
        if (chunk < 64) chunk = 64;
        if (chunk > 8192) chunk = 8192;
    }
    if (chunk > o->B) chunk = o->B;
    stats = malloc(chunk * plan->nstat * sizeof *stats);
    if (!stats) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory for a bootstrap chunk of %zu replicates", chunk);
        goto done;
    }
    memset(pv_count, 0, d->nvar * sizeof *pv_count);
    if (et_ref) {
        memset(et_lo, 0, d->nvar * sizeof *et_lo);
        memset(et_hi, 0, d->nvar * sizeof *et_hi);
    }
    for (int pass = 1; pass <= npass; ++pass) {
        for (size_t b0 = 0; b0 < o->B; b0 += chunk) {
            if (o->cancel && *o->cancel) {
                st = cqb_error_set(err, CQB_EUSAGE, "interrupted");
                goto done;
            }
            size_t nb = o->B - b0 < chunk ? o->B - b0 : chunk;
            st = be ? be->run(be, plan, (uint32_t)b0, nb, stats, err)
                    : cqb_plan_run_cpu(plan, (uint32_t)b0, nb, stats, 0, err);
            if (st != CQB_OK) goto done;
            /* Host reduction, parallel over blocks of groups of values:
             * each thread derives a block's values for the whole chunk
             * (straight into the selector's store in one-pass mode), counts
             * their exceedances and feeds the selector, so every counter and
             * selector column has one owner (exact, order-free). */
            int failed = 0;
            /* regular groups; with Q tests group ncell (if any) is the sup group */
            const size_t nreg = d->kind == 1 && d->ngroup > d->ncell ? d->ncell : d->ngroup;
            const long nblk = (long)((nreg + DERIVE_BLOCK - 1) / DERIVE_BLOCK + (d->ngroup - nreg));
            const size_t gs = d->gsize;
#pragma omp parallel num_threads(threads > 0 ? threads : 1) reduction(| : failed)
            {
                double *buf = malloc(DERIVE_BLOCK * gs * nb * sizeof *buf);
                double **dst = malloc(DERIVE_BLOCK * gs * sizeof *dst);
                if (!buf || !dst) failed = 1;
#pragma omp for schedule(static)
                for (long bi = 0; bi < nblk; ++bi) {
                    if (!buf || !dst) continue;
                    size_t g0 = (size_t)bi * DERIVE_BLOCK, ng;
                    int direct = 0; /* values already in the selector's store */
                    if (g0 >= nreg) { /* the sup group */
                        g0 = nreg;
                        ng = 1;
                        derive_group(d, g0, stats, plan->nstat, nb, buf);
                        for (size_t i = 0; i < gs; ++i) dst[i] = buf + i * nb;
                    } else {
                        ng = nreg - g0 < DERIVE_BLOCK ? nreg - g0 : DERIVE_BLOCK;
                        direct = cqb_qsel_slot(sel, 0) != NULL;
                        for (size_t i = 0; i < ng * gs; ++i)
                            dst[i] = direct ? cqb_qsel_slot(sel, g0 * gs + i) : buf + i * nb;
                        derive_block(d, g0, ng, stats, plan->nstat, nb, dst);
                    }
                    for (size_t i = 0; i < ng * gs; ++i) {
                        const size_t j = g0 * gs + i;
                        const double *v = dst[i];
                        /* value j has one owner here: its counters too */
                        if (pass == 1) count_exceed(v, nb, j, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi);
                        if (!direct && cqb_qsel_push(sel, pass, j, v, nb)) failed = 1;
                    }
                }
                free(buf);
                free(dst);
            }
            if (failed) {
                st = cqb_error_set(err, CQB_ENOMEM, "out of memory reducing bootstrap replicates");
                goto done;
            }
            if ((st = cqb_qsel_advance(sel, nb, err)) != CQB_OK) goto done;
            tick(ps, (double)nb);
        }
        st = cqb_qsel_end_pass(sel, pass, threads, err);
        if (st != CQB_OK) goto done;
        size_t bytes = cqb_qsel_bytes(sel) + chunk * (plan->nstat + d->nvar) * sizeof(double);
        if (bytes > *peak) *peak = bytes;
    }
done:
    free(stats);
    if (st != CQB_OK) {
        cqb_qsel_free(sel);
        sel = NULL;
    }
    *sel_out = sel;
    return st;
}

static cqb_status run_plan(const cqb_plan *plan, const cqb_boot_opts *o, const derive *d,
                           const double *probs, int nprob, const double *pv_ref, int pv_abs,
                           size_t *pv_count, const double *et_ref, size_t *et_lo, size_t *et_hi,
                           cqb_qsel **sel_out, progress_state *ps, size_t *peak,
                           int *two_pass, cqb_error *err)
{
    return run_plan_sel(plan, o, d, probs, nprob, pv_ref, pv_abs, pv_count, et_ref, et_lo, et_hi, sel_out, ps, peak,
                        two_pass, 1, err);
}

/* ----------------------------------------------------------- validation -- */

static cqb_status check_levels(const double *a, size_t n, const char *what, cqb_error *err)
{
    if (n == 0) return cqb_error_set(err, CQB_EUSAGE, "%s: at least one quantile level", what);
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

static cqb_status validate(const cqb_cq_spec *s, const cqb_boot_opts *o, cqb_error *err)
{
    cqb_status st;
    if ((st = check_levels(s->alpha_y, s->ny, "--alpha-y", err)) != CQB_OK) return st;
    if ((st = check_levels(s->alpha_x, s->nx, "--alpha-x", err)) != CQB_OK) return st;
    if (s->nlags == 0) return cqb_error_set(err, CQB_EUSAGE, "--lags: at least one lag");
    for (size_t i = 0; i < s->nlags; ++i) {
        if (i > 0 && !(s->lags[i] > s->lags[i - 1]))
            return cqb_error_set(err, CQB_EUSAGE, "--lags: lags must be ascending and distinct");
        if (s->lags[i] > CQB_TAG_MAX_LAG)
            return cqb_error_set(err, CQB_EUSAGE, "--lags: lag %zu is too large", s->lags[i]);
    }
    if (s->in.nctl > CQB_MAX_VARS - 2)
        return cqb_error_set(err, CQB_EUSAGE, "--control: at most %d controls", CQB_MAX_VARS - 2);
    for (size_t j = 0; j < s->in.nctl; ++j)
        if (!(s->in.ctl[j].alpha > 0.0 && s->in.ctl[j].alpha < 1.0))
            return cqb_error_set(err, CQB_EUSAGE, "--control: level %g is outside (0,1)", s->in.ctl[j].alpha);
    size_t maxlag = s->lags[s->nlags - 1];
    for (size_t j = 0; j < s->in.nctl; ++j)
        if (s->in.ctl[j].lag > 0 && (size_t)s->in.ctl[j].lag > maxlag) maxlag = (size_t)s->in.ctl[j].lag;
    /* Two rows after lagging, and nothing more: R quantilogram computes every
     * level on any sample, and a level that expects fewer than a handful of
     * joint exceedances is flagged per cell (cqb_cq_cell.sparse) rather than
     * refused (a 1/min(a, 1-a) rule refused 0.01 below 100 + k rows). */
    if (s->in.T < maxlag + 2)
        return cqb_error_set(err, CQB_EDATA, "too few rows for the lags: T = %zu, largest lag %zu", s->in.T,
                             maxlag);
    /* B = 0: the sample statistics alone (no resampling; cqb_cq_boot() leaves
     * every bootstrap field NaN) */
    if (o->B < 1 && (o->gridwide || o->null_test))
        return cqb_error_set(err, CQB_EUSAGE, "--boot 0 computes no resamples: it cannot be combined with %s",
                             o->gridwide ? "--gridwide" : "the calibrated test");
    if (o->B > UINT32_MAX) return cqb_error_set(err, CQB_EUSAGE, "--boot: B must be below 2^32");
    if (!(o->gamma <= 1.0) || isnan(o->gamma))
        return cqb_error_set(err, CQB_EUSAGE, "--gamma: must be in (0,1] or auto");
    if (!(o->level > 0.0 && o->level < 1.0))
        return cqb_error_set(err, CQB_EUSAGE, "--level: must be in (0,1)");
    if (o->gridwide && (!o->share_grid || !s->qtests || s->lags[s->nlags - 1] < 1))
        return cqb_error_set(err, CQB_EUSAGE,
                             "grid-wide tests need the resample shared by the grid (not --independent-cells), "
                             "the Q tests and a lag >= 1");
    if (o->null_test && o->null_scheme != CQB_NULL_SB && o->null_scheme != CQB_NULL_ROTATION)
        return cqb_error_set(err, CQB_EUSAGE, "--null-scheme: unknown scheme %d (sb, rotation)", o->null_scheme);
    if (o->null_test && o->null_scheme == CQB_NULL_ROTATION && o->rot_margin < 1)
        return cqb_error_set(err, CQB_EUSAGE, "--rotation-margin: must be at least 1");
    if (!o->share_grid && s->ny * s->nx > CQB_TAG_MAX_CELL)
        return cqb_error_set(err, CQB_EUSAGE, "independent resamples per cell: at most %u cells",
                             CQB_TAG_MAX_CELL);
    return CQB_OK;
}

/* ------------------------------------------------------------- columns -- */

/* Index of the column (var, shift), adding it if new. */
static int col_add(cqb_plan_colspec *cols, int *n, const cqb_cq_spec *s, int var, size_t shift,
                   const double *lev, int nlev)
{
    for (int i = 0; i < *n; ++i)
        if (cols[i].var == var && cols[i].shift == shift) return i;
    cqb_plan_colspec *c = &cols[(*n)++];
    c->series = var == 0 ? s->in.y : var == 1 ? s->in.x : s->in.ctl[var - 2].z;
    c->var = var;
    c->shift = shift;
    c->lev = lev;
    c->nlev = nlev;
    return *n - 1;
}

static size_t ctl_shift(const cqb_cq_spec *s, size_t j, size_t k)
{
    return s->in.ctl[j].lag < 0 ? k : (size_t)s->in.ctl[j].lag;
}

static cqb_status plan_gamma(const cqb_plan *plan, const cqb_boot_opts *o, double *gamma, cqb_error *err)
{
    if (o->gamma > 0.0) {
        *gamma = o->gamma;
        return CQB_OK;
    }
    const double **cp = malloc((size_t)plan->ncol * sizeof *cp);
    if (!cp) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    for (int c = 0; c < plan->ncol; ++c) cp[c] = plan->col[c].v;
    cqb_status st = cqb_auto_gamma(cp, plan->ncol, plan->N, o->gamma_floor1, gamma, err);
    free(cp);
    return st;
}

/* -------------------------------------------------------- grid-wide tests -- */

typedef struct rw_member {
    size_t cell;  /* index into res->cells */
    size_t stat;  /* index into a replicate's Q-plan statistics */
    double ref;   /* rho_hat of the member */
    double se;    /* bootstrap standard deviation of rho* */
    double t;     /* |rho_hat| / se */
} rw_member;

static int cmp_member(const void *a, const void *b)
{
    const rw_member *x = a, *y = b;
    if (x->t > y->t) return -1;
    if (x->t < y->t) return 1;
    return (x->cell > y->cell) - (x->cell < y->cell);
}

/* Romano & Wolf (2005) step-down with studentised max-|t| statistics over
 * every (alpha_y, alpha_x, lag >= 1) cell, from the Q-test plan's resample
 * (shared by all cells and lags, so its joint distribution is the one the
 * family needs). Two passes over the same replicates: the bootstrap
 * standard errors, then for each replicate the running maxima of
 * t*_j = |rho*_j - rho_hat_j| / se_j over the step-down sets. A replicate
 * with any non-finite member (singular PCQ) is left out of both passes. */
static cqb_status romano_wolf(const cqb_plan *plan, const cqb_boot_opts *o, const cqb_cq_spec *s,
                              const double *qrho, cqb_cq_result *res, progress_state *ps, cqb_error *err)
{
    const size_t nx = s->nx, nl = s->nlags, ncellg = s->ny * s->nx;
    size_t m = 0;
    for (size_t li = 0; li < nl; ++li) m += s->lags[li] >= 1 ? ncellg : 0;
    rw_member *mem = calloc(m ? m : 1, sizeof *mem);
    double *sum = calloc(m ? m : 1, sizeof *sum), *ssq = calloc(m ? m : 1, sizeof *ssq);
    size_t *exc = calloc(m ? m : 1, sizeof *exc);
    size_t chunk = 2048 < o->B ? 2048 : o->B;
    double *st = malloc(chunk * plan->nstat * sizeof *st);
    unsigned char *ok = malloc(chunk);
    cqb_status rc = CQB_OK;
    if (!mem || !sum || !ssq || !exc || !st || !ok) {
        rc = cqb_error_set(err, CQB_ENOMEM, "out of memory for the Romano-Wolf procedure");
        goto out;
    }
    m = 0;
    for (size_t c = 0; c < ncellg; ++c) {
        for (size_t li = 0; li < nl; ++li) {
            size_t k = s->lags[li];
            if (k < 1) continue;
            mem[m].cell = c * nl + li;
            mem[m].stat = (k - 1) * ncellg + c; /* unit k-1, cell (iy, ix) */
            mem[m].ref = qrho[(k - 1) * ncellg + c];
            ++m;
        }
    }
    (void)nx;
    const cqb_backend *be = o->backend;
    size_t nvalid = 0;
    for (int pass = 0; pass < 2; ++pass) {
        for (size_t b0 = 0; b0 < o->B; b0 += chunk) {
            if (o->cancel && *o->cancel) {
                rc = cqb_error_set(err, CQB_EUSAGE, "interrupted");
                goto out;
            }
            size_t nb = o->B - b0 < chunk ? o->B - b0 : chunk;
            rc = be ? be->run(be, plan, (uint32_t)b0, nb, st, err)
                    : cqb_plan_run_cpu(plan, (uint32_t)b0, nb, st, 0, err);
            if (rc != CQB_OK) goto out;
            for (size_t r = 0; r < nb; ++r) {
                ok[r] = 1;
                for (size_t j = 0; j < m; ++j) ok[r] &= (unsigned char)isfinite(st[r * plan->nstat + mem[j].stat]);
            }
            if (pass == 0) {
                /* sums in replicate order per member: exact and thread-free */
                for (size_t r = 0; r < nb; ++r) {
                    if (!ok[r]) continue;
                    ++nvalid;
                    for (size_t j = 0; j < m; ++j) {
                        double v = st[r * plan->nstat + mem[j].stat];
                        sum[j] += v;
                        ssq[j] += v * v;
                    }
                }
            } else {
                for (size_t r = 0; r < nb; ++r) {
                    if (!ok[r]) continue;
                    /* suffix maxima in step-down order: the running max
                     * over members (s), (s+1), ..., (m) */
                    double mx = -INFINITY;
                    for (size_t j = m; j-- > 0;) {
                        double v = st[r * plan->nstat + mem[j].stat];
                        double t = fabs(v - mem[j].ref) / mem[j].se;
                        if (t > mx) mx = t;
                        exc[j] += mx >= mem[j].t;
                    }
                }
            }
            tick(ps, 0.0);
        }
        if (pass == 0) {
            for (size_t j = 0; j < m; ++j) {
                double mean = nvalid ? sum[j] / (double)nvalid : 0.0;
                double var = nvalid > 1 ? (ssq[j] - (double)nvalid * mean * mean) / (double)(nvalid - 1) : 0.0;
                /* a degenerate bootstrap distribution: no studentisation */
                mem[j].se = var > 0.0 ? sqrt(var) : 1.0;
                mem[j].t = fabs(mem[j].ref) / mem[j].se;
            }
            qsort(mem, m, sizeof *mem, cmp_member);
        }
    }
    res->rw_valid = nvalid;
    double run = 0.0;
    for (size_t j = 0; j < m; ++j) {
        double p = nvalid ? (double)exc[j] / (double)nvalid : NAN;
        run = j == 0 ? p : fmax(run, p); /* enforce monotonicity along the step-down */
        res->cells[mem[j].cell].p_rw = run;
    }
out:
    free(mem); free(sum); free(ssq); free(exc); free(st); free(ok);
    return rc;
}

typedef struct pidx {
    double p;
    size_t i;
} pidx;

static int cmp_pidx(const void *a, const void *b)
{
    const pidx *x = a, *y = b;
    if (x->p < y->p) return -1;
    if (x->p > y->p) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Holm (1979) and Benjamini-Hochberg (1995) adjustments of the cells' raw
 * bootstrap p-values over the family of cells with lag >= 1. */
static void adjust_holm_bh(cqb_cq_result *res, size_t off_p, size_t off_holm, size_t off_bh)
{
#define CELLD(i, off) (*(double *)((char *)&res->cells[i] + (off)))
    size_t m = 0;
    pidx *v = malloc((res->ncells ? res->ncells : 1) * sizeof *v);
    if (!v) return;
    for (size_t i = 0; i < res->ncells; ++i)
        if (res->cells[i].lag >= 1 && !isnan(CELLD(i, off_p))) v[m++] = (pidx){CELLD(i, off_p), i};
    qsort(v, m, sizeof *v, cmp_pidx);
    double run = 0.0;
    for (size_t r = 0; r < m; ++r) {
        double a = fmin(1.0, (double)(m - r) * v[r].p);
        run = fmax(run, a);
        CELLD(v[r].i, off_holm) = run;
    }
    run = 1.0;
    for (size_t r = m; r-- > 0;) {
        double a = fmin(1.0, (double)m / (double)(r + 1) * v[r].p);
        run = fmin(run, a);
        CELLD(v[r].i, off_bh) = run;
    }
    free(v);
#undef CELLD
}

/* ------------------------------------------------------ calibrated test -- */

/* q* vs q with a relative tolerance (lattice values computed by the same
 * arithmetic are equal; the tolerance only guards against reassociation). */
static void tally(double v, double ref, size_t *gt, size_t *eq)
{
    const double tol = CQB_NULL_TIE_TOL * fmax(1.0, fabs(ref));
    if (fabs(v - ref) <= tol) ++*eq;
    else if (v > ref) ++*gt;
}

/* Null replicates rep0 .. rep0+nb-1 of a plan: on the backend's device when
 * it has a null_eval entry (plain-CQ schemes), else on the host threads. */
static cqb_status null_values(const cqb_null_plan *plan, const cqb_boot_opts *o, uint32_t rep0, size_t nb,
                              double *stats, cqb_error *err)
{
    const cqb_backend *be = o->backend;
    if (be && be->null_eval && plan->scheme != CQB_NULL_STRAT_ROTATION)
        return be->null_eval(be, plan, rep0, nb, stats, err);
    return cqb_null_run_cpu(plan, rep0, nb, stats, be ? be->threads : 0, err);
}

/* Romano-Wolf step-down on the null values (grid-wide, calibrated): members
 * are the cells with lag >= 1; t_j = |rho_hat_j| / sd0_j with sd0_j the SD
 * of rho*_j over the null values, t*_j = |rho*_j| / sd0_j; a replicate with
 * a non-finite member (a rotation shift beyond some lag's last) is left
 * out. Two more passes over the (deterministic) null replicates;
 * p_null_rw = (1 + #{max over the step-down set of t* >= t_j}) / (n + 1),
 * made monotone along the step-down. Memory: per member only. */
static cqb_status null_romano_wolf(const cqb_null_plan *plan, const cqb_cq_spec *s, const cqb_boot_opts *o,
                                   const size_t *cl, int partial, double *stats, size_t chunk, cqb_cq_result *res,
                                   cqb_error *err)
{
    const size_t ncellg = s->ny * s->nx, nl = s->nlags, nrep = plan->nrep, nstat = plan->nstat;
    size_t m = 0;
    for (size_t li = 0; li < nl; ++li) m += s->lags[li] >= 1 ? ncellg : 0;
    if (!m) return CQB_OK;
    rw_member *mem = calloc(m, sizeof *mem);
    double *sum = calloc(m, sizeof *sum), *ssq = calloc(m, sizeof *ssq);
    size_t *exc = calloc(m, sizeof *exc);
    cqb_status rc = CQB_OK;
    if (!mem || !sum || !ssq || !exc) {
        rc = cqb_error_set(err, CQB_ENOMEM, "out of memory for the calibrated Romano-Wolf procedure");
        goto out;
    }
    m = 0;
    for (size_t c = 0; c < ncellg; ++c)
        for (size_t li = 0; li < nl; ++li) {
            if (s->lags[li] < 1) continue;
            mem[m].cell = c * nl + li;
            mem[m].stat = cl[li] * ncellg + c;
            const cqb_cq_cell *cc = &res->cells[c * nl + li];
            mem[m].ref = partial ? cc->rho_partial : cc->rho;
            ++m;
        }
    size_t nvalid = 0;
    for (int pass = 0; pass < 2; ++pass) {
        for (size_t b0 = 0; b0 < nrep; b0 += chunk) {
            if (o->cancel && *o->cancel) {
                rc = cqb_error_set(err, CQB_EUSAGE, "interrupted");
                goto out;
            }
            const size_t nb = nrep - b0 < chunk ? nrep - b0 : chunk;
            if ((rc = null_values(plan, o, (uint32_t)b0, nb, stats, err)) != CQB_OK) goto out;
            for (size_t r = 0; r < nb; ++r) {
                const double *x = stats + r * nstat;
                int ok = 1;
                for (size_t j = 0; j < m && ok; ++j) ok = isfinite(x[mem[j].stat]) != 0;
                if (!ok) continue;
                if (pass == 0) {
                    ++nvalid;
                    for (size_t j = 0; j < m; ++j) {
                        const double v = x[mem[j].stat];
                        sum[j] += v;
                        ssq[j] += v * v;
                    }
                } else {
                    double mx = -INFINITY;
                    for (size_t j = m; j-- > 0;) {
                        const double t = fabs(x[mem[j].stat]) / mem[j].se;
                        if (t > mx) mx = t;
                        exc[j] += mx >= mem[j].t - CQB_NULL_TIE_TOL * fmax(1.0, mem[j].t);
                    }
                }
            }
        }
        if (pass == 0) {
            for (size_t j = 0; j < m; ++j) {
                const double mean = nvalid ? sum[j] / (double)nvalid : 0.0;
                const double var = nvalid > 1 ? (ssq[j] - (double)nvalid * mean * mean) / (double)(nvalid - 1) : 0.0;
                mem[j].se = var > 0.0 ? sqrt(var) : 1.0;
                mem[j].t = fabs(mem[j].ref) / mem[j].se;
            }
            qsort(mem, m, sizeof *mem, cmp_member);
        }
    }
    double run = 0.0;
    for (size_t j = 0; j < m; ++j) {
        const double p = nvalid ? (1.0 + (double)exc[j]) / ((double)nvalid + 1.0) : NAN;
        run = j == 0 ? p : fmax(run, p);
        res->cells[mem[j].cell].p_null_rw = run;
    }
out:
    free(mem); free(sum); free(ssq); free(exc);
    return rc;
}

/* The lags of the calibrated test: the cells' and 1..P (the Q tests'),
 * ascending and distinct, into lags (room for nlags + P); cl[a] (may be NULL)
 * gets the index of the cells' lag a, ql[p - 1] (may be NULL) that of lag p.
 * Returns their count. */
static size_t null_lags(const cqb_cq_spec *s, size_t P, size_t *lags, size_t *cl, size_t *ql)
{
    const size_t nl = s->nlags;
    size_t nlag = 0, i = 0, k = 1;
    while (i < nl || k <= P) {
        size_t v;
        if (i < nl && (k > P || s->lags[i] <= k)) {
            v = s->lags[i++];
            if (k <= P && v == k) ++k;
        } else {
            v = k++;
        }
        lags[nlag++] = v;
    }
    for (size_t a = 0, b = 0; cl && a < nl; ++a) {
        while (lags[b] != s->lags[a]) ++b;
        cl[a] = b;
    }
    for (size_t p = 1, b = 0; ql && p <= P; ++p) {
        while (lags[b] != p) ++b;
        ql[p - 1] = b;
    }
    return nlag;
}

/* The calibrated test's plan for spec s at the given lags: rotation or
 * exact-count SB for the plain CQ, rotation within the control strata for
 * the partial CQ. */
static cqb_status null_plan_build(const cqb_cq_spec *s, const cqb_boot_opts *o, const size_t *lags, size_t nlag,
                                  cqb_null_plan *plan, cqb_error *err)
{
    if (s->in.nctl > 0)
        return cqb_null_plan_build_partial(plan, &s->in, s->alpha_y, (int)s->ny, s->alpha_x, (int)s->nx, lags, nlag,
                                           o->rot_margin, err);
    return cqb_null_plan_build(plan, &s->in, s->alpha_y, (int)s->ny, s->alpha_x, (int)s->nx, lags, nlag,
                               (cqb_null_scheme)o->null_scheme, o->seed, o->B, o->gamma, o->gamma_floor1,
                               o->rot_margin, err);
}

cqb_status cqb_cq_null_check(const cqb_cq_spec *s, const cqb_boot_opts *o, cqb_error *err)
{
    cqb_status st = validate(s, o, err);
    if (st != CQB_OK) return st;
    /* The default case needs no plan: without controls every lag's rotation
     * fits when the largest leaves N >= 2m + 1 rows (cqb_null_rotations), so
     * the run does not build its plan twice. Otherwise the plan decides and
     * gives the run's own error. */
    const size_t maxlag = s->lags[s->nlags - 1];
    if (s->in.nctl == 0 && o->null_scheme == CQB_NULL_ROTATION && s->in.T >= maxlag + 2 * o->rot_margin + 1)
        return CQB_OK;
    const size_t P = s->qtests ? maxlag : 0;
    size_t *lags = malloc((s->nlags + P + 1) * sizeof *lags);
    if (!lags) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    cqb_null_plan plan;
    memset(&plan, 0, sizeof plan);
    st = null_plan_build(s, o, lags, null_lags(s, P, lags, NULL, NULL), &plan, err);
    cqb_null_plan_free(&plan);
    free(lags);
    return st;
}

/* The calibrated test (cqboot/nullboot.h): one null-imposing resample shared
 * by every lag of the cells and of the Q tests and by the quantile grid;
 * per cell the mid-p and conservative p of |rho_hat| against |rho*|; per Q
 * test the null critical values (type-7, exact selection bounded in memory)
 * and mid-p values; with gridwide the sup-Q mid-p. Counts only: memory is
 * bounded in B. */
static cqb_status run_null(const cqb_cq_spec *s, const cqb_boot_opts *o, const double *qrho, cqb_cq_result *res,
                           progress_state *ps, cqb_error *err)
{
    const int partial = s->in.nctl > 0;
    if (partial && !o->null_partial) return CQB_OK; /* PCQ: today's rule (docs/calibrated.md §7) */
    const size_t ny = s->ny, nx = s->nx, nl = s->nlags, ncellg = ny * nx;
    const size_t P = s->qtests ? s->lags[nl - 1] : 0;
    const int sup = o->gridwide && P && res->supq;
    /* lags: the cells' and 1..P, ascending and distinct */
    size_t *lags = malloc((nl + P + 1) * sizeof *lags), *cl = malloc((nl + 1) * sizeof *cl);
    size_t *ql = malloc((P + 1) * sizeof *ql);
    size_t nlag = 0;
    cqb_status st = CQB_OK;
    cqb_null_plan plan;
    memset(&plan, 0, sizeof plan);
    cqb_qsel *sel = NULL;
    double *stats = NULL, *qv = NULL;
    size_t *cnt = NULL;
    if (!lags || !cl || !ql) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
        goto out;
    }
    nlag = null_lags(s, P, lags, cl, ql);
    if ((st = null_plan_build(s, o, lags, nlag, &plan, err)) != CQB_OK) goto out;
    const size_t nrep = plan.nrep, nstat = plan.nstat;
    /* counters: cells (gt, eq, valid), Q tests (BP gt, eq; LB gt, eq; valid),
     * sup-Q (BP gt, eq; LB gt, eq; valid) */
    const size_t nc = ncellg * nl, nq = ncellg * P, ncnt = 3 * nc + 5 * nq + (sup ? 5 * P : 0);
    cnt = calloc(ncnt ? ncnt : 1, sizeof *cnt);
    size_t *cgt = cnt, *ceq = cnt + nc, *cva = cnt + 2 * nc, *qc = cnt + 3 * nc, *sc = qc + 5 * nq;
    size_t chunk = o->chunk ? o->chunk : 1024;
    if (chunk > nrep) chunk = nrep;
    stats = malloc(chunk * nstat * sizeof *stats);
    const size_t nqv = 2 * nq; /* Q* values per replicate: [cell][BP p..., LB p...] */
    qv = malloc((nqv ? nqv : 1) * chunk * sizeof *qv);
    if (!cnt || !stats || !qv) {
        st = cqb_error_set(err, CQB_ENOMEM, "out of memory for the null-imposing resample");
        goto out;
    }
    const double q_prob[1] = {o->level};
    int npass = 1;
    if (nqv) {
        if ((st = cqb_qsel_create(nqv, nrep, q_prob, 1, o->mem_limit, &sel, err)) != CQB_OK) goto out;
        npass = cqb_qsel_npass(sel);
    }
    const int threads = o->backend ? o->backend->threads : 0;
    const double T = (double)s->in.T;
    for (int pass = 1; pass <= npass; ++pass) {
        for (size_t b0 = 0; b0 < nrep; b0 += chunk) {
            if (o->cancel && *o->cancel) {
                st = cqb_error_set(err, CQB_EUSAGE, "interrupted");
                goto out;
            }
            const size_t nb = nrep - b0 < chunk ? nrep - b0 : chunk;
            if ((st = null_values(&plan, o, (uint32_t)b0, nb, stats, err)) != CQB_OK) goto out;
            for (size_t r = 0; r < nb; ++r) {
                const double *x = stats + r * nstat;
                if (pass == 1) {
                    for (size_t c = 0; c < ncellg; ++c) {
                        for (size_t li = 0; li < nl; ++li) {
                            const size_t j = c * nl + li;
                            const double v = x[cl[li] * ncellg + c];
                            if (!isfinite(v)) continue;
                            ++cva[j];
                            tally(fabs(v), fabs(partial ? res->cells[j].rho_partial : res->cells[j].rho), &cgt[j],
                                  &ceq[j]);
                        }
                    }
                }
                if (!nq) continue;
                int sok = 1;
                for (size_t c = 0; c < ncellg; ++c) {
                    double sb = 0.0, sl = 0.0;
                    int ok = 1;
                    for (size_t p = 1; p <= P; ++p) {
                        const double v = x[ql[p - 1] * ncellg + c];
                        ok &= isfinite(v) != 0;
                        /* cqb_q_stats' arithmetic, cumulated over p */
                        sb += v * v;
                        sl += v * v / (T - (double)p);
                        const double qb = ok ? T * sb : NAN, qlb = ok ? T * (T + 2.0) * sl : NAN;
                        qv[(c * 2 * P + p - 1) * chunk + r] = qb;
                        qv[(c * 2 * P + P + p - 1) * chunk + r] = qlb;
                        if (pass == 1 && ok) {
                            const cqb_cq_qtest *q = &res->qtests[c * P + p - 1];
                            size_t *qq = qc + 5 * (c * P + p - 1);
                            tally(qb, q->q_bp, &qq[0], &qq[1]);
                            tally(qlb, q->q_lb, &qq[2], &qq[3]);
                            ++qq[4];
                        }
                    }
                    sok &= ok;
                }
                if (pass == 1 && sup && sok) {
                    /* sup over cells of Q*(p), p = 1..P */
                    for (size_t p = 1; p <= P; ++p) {
                        double mb = -INFINITY, ml = -INFINITY;
                        for (size_t c = 0; c < ncellg; ++c) {
                            mb = fmax(mb, qv[(c * 2 * P + p - 1) * chunk + r]);
                            ml = fmax(ml, qv[(c * 2 * P + P + p - 1) * chunk + r]);
                        }
                        size_t *ss = sc + 5 * (p - 1);
                        tally(mb, res->supq[p - 1].q_bp, &ss[0], &ss[1]);
                        tally(ml, res->supq[p - 1].q_lb, &ss[2], &ss[3]);
                        ++ss[4];
                    }
                }
            }
            if (sel) {
                for (size_t j = 0; j < nqv; ++j)
                    if (cqb_qsel_push(sel, pass, j, qv + j * chunk, nb)) {
                        st = cqb_error_set(err, CQB_ENOMEM, "out of memory selecting null critical values");
                        goto out;
                    }
                if ((st = cqb_qsel_advance(sel, nb, err)) != CQB_OK) goto out;
            }
            if (pass == 1) tick(ps, (double)nb * (double)o->B / (double)nrep);
        }
        if (sel && (st = cqb_qsel_end_pass(sel, pass, threads, err)) != CQB_OK) goto out;
    }
    (void)qrho;
    for (size_t j = 0; j < nc; ++j) {
        cqb_cq_cell *c = &res->cells[j];
        c->null_valid = cva[j];
        c->p_null = cva[j] ? cqb_midp(cgt[j], ceq[j], cva[j]) : NAN;
        c->p_null_cons = cva[j] ? cqb_conservative_p(cgt[j], ceq[j], cva[j]) : NAN;
    }
    for (size_t c = 0; c < ncellg; ++c) {
        for (size_t p = 1; p <= P; ++p) {
            cqb_cq_qtest *q = &res->qtests[c * P + p - 1];
            const size_t *qq = qc + 5 * (c * P + p - 1);
            q->null_valid = qq[4];
            q->p_null_bp = qq[4] ? cqb_midp(qq[0], qq[1], qq[4]) : NAN;
            q->p_null_lb = qq[4] ? cqb_midp(qq[2], qq[3], qq[4]) : NAN;
            q->cv_null_bp = cqb_qsel_result(sel, c * 2 * P + p - 1, 0);
            q->cv_null_lb = cqb_qsel_result(sel, c * 2 * P + P + p - 1, 0);
        }
    }
    if (o->gridwide && (st = null_romano_wolf(&plan, s, o, cl, partial, stats, chunk, res, err)) != CQB_OK) goto out;
    for (size_t p = 1; sup && p <= P; ++p) {
        cqb_cq_supq *q = &res->supq[p - 1];
        const size_t *ss = sc + 5 * (p - 1);
        q->null_valid = ss[4];
        q->p_null_bp = ss[4] ? cqb_midp(ss[0], ss[1], ss[4]) : NAN;
        q->p_null_lb = ss[4] ? cqb_midp(ss[2], ss[3], ss[4]) : NAN;
    }
out:
    cqb_qsel_free(sel);
    cqb_null_plan_free(&plan);
    free(lags); free(cl); free(ql); free(cnt); free(stats); free(qv);
    return st;
}

/* ------------------------------------------------------------------ run -- */

cqb_status cqb_cq_boot(const cqb_cq_spec *s, const cqb_boot_opts *o, cqb_cq_result *res, cqb_error *err)
{
    memset(res, 0, sizeof *res);
    cqb_status st = validate(s, o, err);
    if (st != CQB_OK) return st;
    const size_t ny = s->ny, nx = s->nx, nl = s->nlags, ncellg = ny * nx;
    const int partial = s->in.nctl > 0;
    const size_t P = s->qtests ? s->lags[nl - 1] : 0;
    const double sig = 1.0 - o->level;
    double t0 = now_s();

    res->ncells = ncellg * nl;
    res->cells = calloc(res->ncells, sizeof *res->cells);
    res->nqtests = P ? ncellg * P : 0;
    res->qtests = res->nqtests ? calloc(res->nqtests, sizeof *res->qtests) : NULL;
    double *qrho = P ? malloc(P * ncellg * sizeof *qrho) : NULL; /* rho_hat(k) [k-1][cell] */
    if (o->gridwide && P) {
        res->nsupq = P;
        res->supq = calloc(P, sizeof *res->supq);
        for (size_t p = 0; res->supq && p < P; ++p) res->supq[p].p_null_bp = res->supq[p].p_null_lb = NAN;
    }
    if (!res->cells || (P && (!res->qtests || !qrho)) || (res->nsupq && !res->supq)) {
        free(qrho);
        cqb_cq_result_free(res);
        return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    }

    /* Sample statistics. */
    cqb_cq_prep prep;
    if ((st = cqb_cq_prep_init(&s->in, &prep, err)) != CQB_OK) goto fail;
    for (size_t iy = 0; iy < ny && st == CQB_OK; ++iy) {
        for (size_t ix = 0; ix < nx && st == CQB_OK; ++ix) {
            for (size_t li = 0; li < nl && st == CQB_OK; ++li) {
                cqb_cq_point pt;
                st = cqb_cq_compute_prep(&s->in, &prep, s->alpha_y[iy], s->alpha_x[ix], s->lags[li], &pt, err);
                cqb_cq_cell *c = &res->cells[(iy * nx + ix) * nl + li];
                c->alpha_y = s->alpha_y[iy];
                c->alpha_x = s->alpha_x[ix];
                c->lag = s->lags[li];
                c->n = pt.n;
                c->rho = pt.rho;
                c->rho_partial = partial ? pt.rho_partial : NAN;
                c->p_rw = c->p_holm = c->p_bh = NAN;
                c->p_null = c->p_null_cons = c->p_null_holm = c->p_null_bh = c->p_null_rw = NAN;
                {
                    double my = fmin(c->alpha_y, 1.0 - c->alpha_y), mx = fmin(c->alpha_x, 1.0 - c->alpha_x);
                    c->sparse = (double)pt.n * my * mx < 5.0;
                }
            }
            for (size_t k = 1; k <= P && st == CQB_OK; ++k) {
                cqb_cq_point pt;
                st = cqb_cq_compute_prep(&s->in, &prep, s->alpha_y[iy], s->alpha_x[ix], k, &pt, err);
                qrho[(k - 1) * ncellg + iy * nx + ix] = partial ? pt.rho_partial : pt.rho;
            }
        }
    }
    cqb_cq_prep_free(&prep);
    if (st != CQB_OK) goto fail;
    for (size_t c = 0; c < ncellg && P; ++c) {
        double *qbp = malloc(3 * P * sizeof *qbp), *r = qbp ? qbp + 2 * P : NULL;
        if (!qbp) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        for (size_t k = 0; k < P; ++k) r[k] = qrho[k * ncellg + c];
        cqb_q_stats(r, P, s->in.T, qbp, qbp + P);
        for (size_t p = 1; p <= P; ++p) {
            cqb_cq_qtest *q = &res->qtests[c * P + p - 1];
            q->alpha_y = s->alpha_y[c / nx];
            q->alpha_x = s->alpha_x[c % nx];
            q->p = p;
            q->q_bp = qbp[p - 1];
            q->q_lb = qbp[P + p - 1];
            q->cv_null_bp = q->cv_null_lb = q->p_null_bp = q->p_null_lb = NAN;
        }
        free(qbp);
    }
    double t1 = now_s();
    res->seconds_point = t1 - t0;
    if (o->B == 0) { /* point estimates and Q statistics only */
        for (size_t i = 0; i < res->ncells; ++i) {
            cqb_cq_cell *c = &res->cells[i];
            c->band_lo = c->band_hi = c->ci_lo = c->ci_hi = c->p_value = c->p_value_et = c->gamma = NAN;
        }
        for (size_t i = 0; i < res->nqtests; ++i) {
            cqb_cq_qtest *q = &res->qtests[i];
            q->cv_bp = q->cv_lb = q->p_bp = q->p_lb = q->gamma = NAN;
        }
        free(qrho);
        return CQB_OK;
    }

    /* Bootstrap. Work units for progress: B per plan per pass (two-pass
     * mode is rare; the estimate then grows, which only slows the bar). */
    const size_t ngroups = o->share_grid ? 1 : ncellg;
    progress_state ps = {o, 0.0, (double)o->B * (double)ngroups * (double)(nl + (P ? 1 : 0)) +
                                     (o->null_test ? (double)o->B : 0.0)};
    const double band_probs[2] = {sig / 2.0, 1.0 - sig / 2.0};
    const double q_prob[1] = {o->level};

    for (size_t li = 0; li < nl; ++li) {
        const size_t k = s->lags[li];
        for (size_t g = 0; g < ngroups; ++g) {
            /* g indexes the cell when resamples are independent per cell. */
            const size_t gy = o->share_grid ? 0 : g / nx, gx = o->share_grid ? 0 : g % nx;
            const double *ly = s->alpha_y + gy, *lx = s->alpha_x + gx;
            const int my = o->share_grid ? (int)ny : 1, mx = o->share_grid ? (int)nx : 1;
            cqb_plan_colspec cols[CQB_MAX_VARS];
            int ncol = 0;
            cqb_plan_unit u;
            memset(&u, 0, sizeof u);
            u.col_y = col_add(cols, &ncol, s, 0, 0, ly, my);
            u.col_x = col_add(cols, &ncol, s, 1, k, lx, mx);
            for (size_t j = 0; j < s->in.nctl; ++j)
                u.col_z[u.nz++] = col_add(cols, &ncol, s, 2 + (int)j, ctl_shift(s, j, k), &s->in.ctl[j].alpha, 1);
            uint32_t tag = cqb_sb_tag(CQB_FAMILY_BAND, (uint32_t)k, o->share_grid ? 0u : (uint32_t)(g + 1));
            cqb_plan plan;
            double gamma;
            st = cqb_plan_build(&plan, s->in.T, cols, ncol, &u, 1, my, mx, s->in.conv, o->seed, tag, 1.0, err);
            if (st != CQB_OK) goto fail;
            if ((st = plan_gamma(&plan, o, &gamma, err)) != CQB_OK) {
                cqb_plan_free(&plan);
                goto fail;
            }
            plan.thr = cqb_bernoulli_threshold(gamma);
            size_t nv = plan.nstat;
            double ref[CQB_PLAN_MAX_LEVELS * CQB_PLAN_MAX_LEVELS], pvref[CQB_PLAN_MAX_LEVELS * CQB_PLAN_MAX_LEVELS];
            size_t cnt[CQB_PLAN_MAX_LEVELS * CQB_PLAN_MAX_LEVELS], elo[CQB_PLAN_MAX_LEVELS * CQB_PLAN_MAX_LEVELS],
                ehi[CQB_PLAN_MAX_LEVELS * CQB_PLAN_MAX_LEVELS];
            for (int iy = 0; iy < my; ++iy) {
                for (int ix = 0; ix < mx; ++ix) {
                    const cqb_cq_cell *c = &res->cells[((gy + (size_t)iy) * nx + gx + (size_t)ix) * nl + li];
                    ref[iy * mx + ix] = partial ? c->rho_partial : c->rho;
                    pvref[iy * mx + ix] = fabs(ref[iy * mx + ix]);
                }
            }
            derive d = {0, nv, nv, 1, ref, 0, 0, 0.0};
            cqb_qsel *sel;
            st = run_plan(&plan, o, &d, band_probs, 2, pvref, 1, cnt, ref, elo, ehi, &sel, &ps,
                          &res->peak_selector_bytes,
                          &res->two_pass, err);
            cqb_plan_free(&plan);
            if (st != CQB_OK) goto fail;
            for (int iy = 0; iy < my; ++iy) {
                for (int ix = 0; ix < mx; ++ix) {
                    size_t j = (size_t)(iy * mx + ix);
                    cqb_cq_cell *c = &res->cells[((gy + (size_t)iy) * nx + gx + (size_t)ix) * nl + li];
                    c->band_lo = cqb_qsel_result(sel, j, 0);
                    c->band_hi = cqb_qsel_result(sel, j, 1);
                    c->ci_lo = ref[j] + c->band_lo;
                    c->ci_hi = ref[j] + c->band_hi;
                    c->boot_valid = cqb_qsel_valid(sel, j);
                    c->p_value = c->boot_valid ? (double)cnt[j] / (double)c->boot_valid : NAN;
                    size_t tail = elo[j] < ehi[j] ? elo[j] : ehi[j];
                    c->p_value_et = c->boot_valid ? fmin(1.0, 2.0 * (double)tail / (double)c->boot_valid) : NAN;
                    c->gamma = gamma;
                    res->singular += o->B - c->boot_valid;
                }
            }
            cqb_qsel_free(sel);
        }
    }

    if (P) {
        for (size_t g = 0; g < ngroups; ++g) {
            const size_t gy = o->share_grid ? 0 : g / nx, gx = o->share_grid ? 0 : g % nx;
            const double *ly = s->alpha_y + gy, *lx = s->alpha_x + gx;
            const int my = o->share_grid ? (int)ny : 1, mx = o->share_grid ? (int)nx : 1;
            const size_t ncell = (size_t)my * (size_t)mx;
            const int maxcols = 1 + (int)P * (1 + (int)s->in.nctl);
            cqb_plan_colspec *cols = malloc((size_t)maxcols * sizeof *cols);
            cqb_plan_unit *units = calloc(P, sizeof *units);
            /* grid-wide: one more group of 2P values, the sup over cells */
            const int sup = o->gridwide && o->share_grid;
            const size_t nq = 2 * P * ncell + (sup ? 2 * P : 0);
            double *ref = malloc(P * ncell * sizeof *ref);
            double *pvref = malloc(nq * sizeof *pvref);
            size_t *cnt = malloc(nq * sizeof *cnt);
            if (!cols || !units || !ref || !pvref || !cnt) {
                free(cols); free(units); free(ref); free(pvref); free(cnt);
                st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
                goto fail;
            }
            int ncol = 0;
            int cy = col_add(cols, &ncol, s, 0, 0, ly, my);
            for (size_t k = 1; k <= P; ++k) {
                units[k - 1].col_y = cy;
                units[k - 1].col_x = col_add(cols, &ncol, s, 1, k, lx, mx);
                for (size_t j = 0; j < s->in.nctl; ++j)
                    units[k - 1].col_z[units[k - 1].nz++] =
                        col_add(cols, &ncol, s, 2 + (int)j, ctl_shift(s, j, k), &s->in.ctl[j].alpha, 1);
            }
            for (size_t k = 1; k <= P; ++k)
                for (int iy = 0; iy < my; ++iy)
                    for (int ix = 0; ix < mx; ++ix)
                        ref[(k - 1) * ncell + (size_t)(iy * mx + ix)] =
                            qrho[(k - 1) * ncellg + (gy + (size_t)iy) * nx + gx + (size_t)ix];
            for (size_t c = 0; c < ncell; ++c) {
                const cqb_cq_qtest *q0 = &res->qtests[((gy + c / (size_t)mx) * nx + gx + c % (size_t)mx) * P];
                for (size_t p = 0; p < P; ++p) {
                    pvref[c * 2 * P + p] = q0[p].q_bp;
                    pvref[c * 2 * P + P + p] = q0[p].q_lb;
                }
            }
            if (sup) {
                for (size_t p = 0; p < P; ++p) {
                    double mb = -INFINITY, ml = -INFINITY;
                    for (size_t c = 0; c < ncell; ++c) {
                        mb = fmax(mb, pvref[c * 2 * P + p]);
                        ml = fmax(ml, pvref[c * 2 * P + P + p]);
                    }
                    pvref[ncell * 2 * P + p] = mb;
                    pvref[ncell * 2 * P + P + p] = ml;
                }
            }
            uint32_t tag = cqb_sb_tag(CQB_FAMILY_QTEST, 0, o->share_grid ? 0u : (uint32_t)(g + 1));
            cqb_plan plan;
            double gamma = 1.0;
            st = cqb_plan_build(&plan, s->in.T, cols, ncol, units, (int)P, my, mx, s->in.conv, o->seed, tag, 1.0,
                                err);
            if (st == CQB_OK && (st = plan_gamma(&plan, o, &gamma, err)) != CQB_OK) cqb_plan_free(&plan);
            free(cols);
            free(units);
            if (st != CQB_OK) {
                free(ref); free(pvref); free(cnt);
                goto fail;
            }
            plan.thr = cqb_bernoulli_threshold(gamma);
            derive d = {1, nq, ncell + (sup ? 1 : 0), 2 * P, ref, P, ncell, (double)s->in.T};
            cqb_qsel *sel;
            st = run_plan(&plan, o, &d, q_prob, 1, pvref, 0, cnt, NULL, NULL, NULL, &sel, &ps,
                          &res->peak_selector_bytes,
                          &res->two_pass, err);
            if (st == CQB_OK && sup) {
                for (size_t p = 0; p < P; ++p) {
                    cqb_cq_supq *q = &res->supq[p];
                    size_t jb = ncell * 2 * P + p, jl = ncell * 2 * P + P + p;
                    q->p = p + 1;
                    q->q_bp = pvref[jb];
                    q->q_lb = pvref[jl];
                    q->cv_bp = cqb_qsel_result(sel, jb, 0);
                    q->cv_lb = cqb_qsel_result(sel, jl, 0);
                    q->boot_valid = cqb_qsel_valid(sel, jb);
                    q->p_bp = q->boot_valid ? (double)cnt[jb] / (double)q->boot_valid : NAN;
                    q->p_lb = q->boot_valid ? (double)cnt[jl] / (double)q->boot_valid : NAN;
                }
                cqb_status st2 = romano_wolf(&plan, o, s, qrho, res, &ps, err);
                if (st2 != CQB_OK) {
                    cqb_qsel_free(sel);
                    st = st2;
                }
            }
            cqb_plan_free(&plan);
            if (st == CQB_OK) {
                for (size_t c = 0; c < ncell; ++c) {
                    cqb_cq_qtest *q0 = &res->qtests[((gy + c / (size_t)mx) * nx + gx + c % (size_t)mx) * P];
                    for (size_t p = 0; p < P; ++p) {
                        size_t jb = c * 2 * P + p, jl = c * 2 * P + P + p;
                        q0[p].cv_bp = cqb_qsel_result(sel, jb, 0);
                        q0[p].cv_lb = cqb_qsel_result(sel, jl, 0);
                        q0[p].boot_valid = cqb_qsel_valid(sel, jb);
                        q0[p].p_bp = q0[p].boot_valid ? (double)cnt[jb] / (double)q0[p].boot_valid : NAN;
                        q0[p].p_lb = q0[p].boot_valid ? (double)cnt[jl] / (double)q0[p].boot_valid : NAN;
                        q0[p].gamma = gamma;
                    }
                }
                cqb_qsel_free(sel);
            }
            free(ref); free(pvref); free(cnt);
            if (st != CQB_OK) goto fail;
        }
    }
    if (o->null_test && (st = run_null(s, o, qrho, res, &ps, err)) != CQB_OK) goto fail;
    free(qrho);
    if (o->gridwide) {
        adjust_holm_bh(res, offsetof(cqb_cq_cell, p_value), offsetof(cqb_cq_cell, p_holm),
                       offsetof(cqb_cq_cell, p_bh));
        if (o->null_test)
            adjust_holm_bh(res, offsetof(cqb_cq_cell, p_null), offsetof(cqb_cq_cell, p_null_holm),
                           offsetof(cqb_cq_cell, p_null_bh));
    }
    res->seconds_boot = now_s() - t1;
    return CQB_OK;
fail:
    free(qrho);
    cqb_cq_result_free(res);
    return st;
}

void cqb_cq_result_free(cqb_cq_result *res)
{
    free(res->supq);
    free(res->cells);
    free(res->qtests);
    memset(res, 0, sizeof *res);
}
