/* device/sbkern.h — the per-replicate bootstrap kernel, written once for the
 * CUDA device and for a host emulator.
 *
 * cqb_k_replicate() computes the statistics of one replicate of a plan with
 * nthr cooperating threads (a CUDA thread block; on the host, nthr POSIX
 * threads with a barrier: tests/test_cuda.c). It reproduces run_one() of
 * host/boot/sbplan.c bit for bit:
 *
 *   1. multiplicities: each thread takes a 4-aligned run of positions, finds
 *      its last block start (flag word < thr, position 0 always starts), a
 *      block-wide exclusive max-scan gives every run the last start before
 *      it, and the run is walked as on the CPU: row(t) = (start_row(s) +
 *      (t - s)) mod N for the last start s <= t; c[row] += 1 (atomic).
 *   2. per column: cumulative multiplicities over the sorted order (a
 *      segmented prefix sum), the thresholds of column_thresholds() (one
 *      thread per level, then a running max: the nested-hit clamp), the hit
 *      counts (marginals) and a level code per resampled row, code(row) =
 *      #{levels whose last hit position is before rank(row)}.
 *   3. per pair of columns: a histogram of (code_a, code_b) weighted by the
 *      multiplicities (atomic), then 2-D inclusive prefix sums in place: the
 *      joint-hit counts (exact integers, so the order of the atomics cannot
 *      change them).
 *   4. the epilogue of run_one() per (unit, cell), with the shared count
 *      functions of cq.h (cqb_gram_entry, cqb_partial_from_gram).
 *
 * All per-replicate state lives in one scratch area per thread block (shared
 * memory when it fits, else a global slice), laid out by cqb_kplan_pack().
 * The plan's arrays are packed into one buffer (one upload) by the same
 * function, which computes sizes and fills in one code path (CUB's
 * two-phase temporary-storage pattern).
 *
 * This header compiles as C11 (host emulator) and as CUDA C++. In CUDA,
 * CQB_KSYNC is __syncthreads() and CQB_KATOMIC_ADD atomicAdd(); in C the
 * includer defines struct cqb_kemu and cqb_kemu_sync() (a barrier).
 *
 * Later optimisations fit this structure without changing any integer: a
 * warp per replicate for small N (nthr = 32, __syncwarp), bit-packed hit
 * vectors with popcounts instead of the code histogram (engine-design.md
 * §1.5), CUB block scans in place of the Hillis-Steele scan.
 */
#ifndef CQBOOT_DEVICE_SBKERN_H
#define CQBOOT_DEVICE_SBKERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cqboot/cq.h"
#include "cqboot/philox.h"
#include "cqboot/sbplan.h"
#include "quantile_dev.h"

#define CQB_K_MAXL CQB_PLAN_MAX_LEVELS
#define CQB_K_ALIGN ((size_t)16)

#if defined(__CUDACC__)
typedef void cqb_kctx;
#define CQB_KFN static __device__ __forceinline__
#define CQB_KSYNC(ctx) \
    do {               \
        (void)(ctx);   \
        __syncthreads(); \
    } while (0)
#define CQB_KATOMIC_ADD(p, v) ((void)atomicAdd((p), (v)))
#else
typedef struct cqb_kemu cqb_kctx;
/* provided by the host emulator: a barrier of the nthr threads */
void cqb_kemu_sync(cqb_kctx *ctx);
#define CQB_KFN static inline
#define CQB_KSYNC(ctx) cqb_kemu_sync(ctx)
#define CQB_KATOMIC_ADD(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))
#endif

/* One column of the packed plan. */
typedef struct cqb_kcol {
    const uint32_t *perm, *rank, *gfirst, *glast; /* as cqb_plan_col */
    const double *sval;
    int nlev;
    int pad_;
    double lev[CQB_K_MAXL];
    uint32_t lrank[CQB_K_MAXL]; /* as cqb_plan_col: fixed by N, computed on the host */
    double lh[CQB_K_MAXL];
} cqb_kcol;

/* The packed plan plus the scratch layout: passed by value to the kernel
 * (a few hundred bytes); every pointer points into the packed buffer. */
typedef struct cqb_kplan {
    uint64_t seed, thr;
    uint32_t N, tag;
    int conv, ncol, npair, nunit, ny, nx;
    size_t nstat;
    const cqb_kcol *col;
    const int *pair_a, *pair_b, *pair_index; /* as cqb_plan */
    const uint32_t *hist_off;                /* pair p's histogram: hist + hist_off[p] */
    const cqb_plan_unit *unit;
    uint32_t hist_words;                     /* sum over pairs of (ma+1)(mb+1) */
    int nthr;                                /* threads the scratch layout is for */
    /* per-block scratch, byte offsets from its base */
    size_t s_c;      /* N x u32: multiplicities */
    size_t s_pcum;   /* N x u32: cumulative multiplicity by sorted position */
    size_t s_rc;     /* ncol x N x u8: level code of each row (rows with c > 0) */
    size_t s_raw;    /* MAXL x i64: raw thresholds of the current column */
    size_t s_th;     /* MAXL x i64: thresholds of the current column */
    size_t s_marg;   /* ncol x MAXL x u32: hits per column and level */
    size_t s_hist;   /* hist_words x u32: histograms, then joint counts */
    size_t s_scan;   /* 2 x nthr x i64: block scan */
    size_t scratch_bytes;
    size_t packed_bytes;
} cqb_kplan;

static inline size_t cqb_k_align(size_t x) { return (x + CQB_K_ALIGN - 1) & ~(CQB_K_ALIGN - 1); }

/*! cqb_kplan_pack() : lays out the plan's arrays in one buffer that will live
 *  at address `base` (a device address, or buf itself for the emulator) and
 *  fills kp (pointers = base + offsets; scratch layout for nthr threads).
 *  With buf == NULL only sizes kp->packed_bytes and kp->scratch_bytes are
 *  computed (the pointers are then meaningless). Returns packed_bytes. */
static inline size_t cqb_kplan_pack(const cqb_plan *p, int nthr, unsigned char *buf, uintptr_t base,
                                    cqb_kplan *kp)
{
    const size_t N = p->N;
    const int ncol = p->ncol, npair = p->npair;
    size_t off = 0;
    memset(kp, 0, sizeof *kp);
    kp->seed = p->seed;
    kp->thr = p->thr;
    kp->N = (uint32_t)N;
    kp->tag = p->tag;
    kp->conv = (int)p->conv;
    kp->ncol = ncol;
    kp->npair = npair;
    kp->nunit = p->nunit;
    kp->ny = p->ny;
    kp->nx = p->nx;
    kp->nstat = p->nstat;
    kp->nthr = nthr;

    const size_t o_col = off;
    off = cqb_k_align(off + (size_t)ncol * sizeof(cqb_kcol));
    for (int c = 0; c < ncol; ++c) {
        const cqb_plan_col *pc = &p->col[c];
        const size_t o_perm = off;
        off = cqb_k_align(off + N * sizeof(uint32_t));
        const size_t o_rank = off;
        off = cqb_k_align(off + N * sizeof(uint32_t));
        const size_t o_gfirst = off;
        off = cqb_k_align(off + N * sizeof(uint32_t));
        const size_t o_glast = off;
        off = cqb_k_align(off + N * sizeof(uint32_t));
        const size_t o_sval = off;
        off = cqb_k_align(off + N * sizeof(double));
        if (buf) {
            cqb_kcol kc;
            memset(&kc, 0, sizeof kc);
            kc.perm = (const uint32_t *)(base + o_perm);
            kc.rank = (const uint32_t *)(base + o_rank);
            kc.gfirst = (const uint32_t *)(base + o_gfirst);
            kc.glast = (const uint32_t *)(base + o_glast);
            kc.sval = (const double *)(base + o_sval);
            kc.nlev = pc->nlev;
            memcpy(kc.lev, pc->lev, sizeof kc.lev);
            memcpy(kc.lrank, pc->lrank, sizeof kc.lrank);
            memcpy(kc.lh, pc->lh, sizeof kc.lh);
            memcpy(buf + o_col + (size_t)c * sizeof(cqb_kcol), &kc, sizeof kc);
            memcpy(buf + o_perm, pc->perm, N * sizeof(uint32_t));
            memcpy(buf + o_rank, pc->rank, N * sizeof(uint32_t));
            memcpy(buf + o_gfirst, pc->gfirst, N * sizeof(uint32_t));
            memcpy(buf + o_glast, pc->glast, N * sizeof(uint32_t));
            memcpy(buf + o_sval, pc->sval, N * sizeof(double));
        }
    }
    const size_t o_pa = off;
    off = cqb_k_align(off + (size_t)npair * sizeof(int));
    const size_t o_pb = off;
    off = cqb_k_align(off + (size_t)npair * sizeof(int));
    const size_t o_pidx = off;
    off = cqb_k_align(off + (size_t)ncol * (size_t)ncol * sizeof(int));
    const size_t o_hoff = off;
    off = cqb_k_align(off + (size_t)npair * sizeof(uint32_t));
    const size_t o_unit = off;
    off = cqb_k_align(off + (size_t)p->nunit * sizeof(cqb_plan_unit));
    kp->packed_bytes = off;

    uint32_t hw = 0;
    for (int i = 0; i < npair; ++i) {
        const uint32_t ma = (uint32_t)p->col[p->pair_a[i]].nlev, mb = (uint32_t)p->col[p->pair_b[i]].nlev;
        if (buf) memcpy(buf + o_hoff + (size_t)i * sizeof(uint32_t), &hw, sizeof hw);
        hw += (ma + 1) * (mb + 1);
    }
    kp->hist_words = hw;
    if (buf) {
        if (npair) {
            memcpy(buf + o_pa, p->pair_a, (size_t)npair * sizeof(int));
            memcpy(buf + o_pb, p->pair_b, (size_t)npair * sizeof(int));
        }
        memcpy(buf + o_pidx, p->pair_index, (size_t)ncol * (size_t)ncol * sizeof(int));
        if (p->nunit) memcpy(buf + o_unit, p->unit, (size_t)p->nunit * sizeof(cqb_plan_unit));
        kp->col = (const cqb_kcol *)(base + o_col);
        kp->pair_a = (const int *)(base + o_pa);
        kp->pair_b = (const int *)(base + o_pb);
        kp->pair_index = (const int *)(base + o_pidx);
        kp->hist_off = (const uint32_t *)(base + o_hoff);
        kp->unit = (const cqb_plan_unit *)(base + o_unit);
    }

    size_t s = 0;
    kp->s_c = s;
    s = cqb_k_align(s + N * sizeof(uint32_t));
    kp->s_pcum = s;
    s = cqb_k_align(s + N * sizeof(uint32_t));
    kp->s_rc = s;
    s = cqb_k_align(s + (size_t)ncol * N);
    kp->s_raw = s;
    s = cqb_k_align(s + CQB_K_MAXL * sizeof(long long));
    kp->s_th = s;
    s = cqb_k_align(s + CQB_K_MAXL * sizeof(long long));
    kp->s_marg = s;
    s = cqb_k_align(s + (size_t)ncol * CQB_K_MAXL * sizeof(uint32_t));
    kp->s_hist = s;
    s = cqb_k_align(s + (size_t)hw * sizeof(uint32_t));
    kp->s_scan = s;
    s = cqb_k_align(s + 2 * (size_t)nthr * sizeof(long long));
    kp->scratch_bytes = s;
    return kp->packed_bytes;
}

/* ------------------------------------------------------------ kernel -- */

/* Exclusive block-wide scan (max when use_max, else sum) of one value per
 * thread; Hillis-Steele over buf (2 x nthr). Every thread must call it. */
CQB_KFN long long cqb_k_scan_excl(cqb_kctx *ctx, long long *buf, long long v, int use_max, int tid, int nthr)
{
    long long *a = buf, *b = buf + nthr;
    a[tid] = v;
    CQB_KSYNC(ctx);
    for (int off = 1; off < nthr; off <<= 1) {
        long long x = a[tid];
        if (tid >= off) {
            const long long y = a[tid - off];
            x = use_max ? (y > x ? y : x) : x + y;
        }
        b[tid] = x;
        CQB_KSYNC(ctx);
        long long *t = a;
        a = b;
        b = t;
    }
    const long long r = tid > 0 ? a[tid - 1] : (use_max ? -1 : 0);
    CQB_KSYNC(ctx);
    return r;
}

/* First position whose cumulative multiplicity reaches the 1-based rank r
 * (pos_of_rank of sbplan.c). */
CQB_KFN uint32_t cqb_k_pos_of_rank(const uint32_t *pcum, uint32_t n, uint32_t r)
{
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pcum[mid] >= r) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* The threshold of one level before the nested-hit clamp: the body of the
 * level loop of column_thresholds() in sbplan.c, the same operations. */
CQB_KFN long long cqb_k_threshold(const cqb_kplan *P, const cqb_kcol *col, const uint32_t *pcum, int l)
{
    const uint32_t N = P->N;
    const uint32_t lo = col->lrank[l]; /* cqb_r7_index / cqb_order_rank, from the plan */
    long long t;
    if (P->conv == (int)CQB_Q_R7_LE) {
        const double h = col->lh[l];
        const uint32_t plo = cqb_k_pos_of_rank(pcum, N, lo);
        uint32_t phi = plo;
        if (h > 0.0 && lo < N && pcum[plo] < lo + 1) phi = cqb_k_pos_of_rank(pcum, N, lo + 1);
        const double q = cqb_dev_r7_interp(col->sval[plo], col->sval[phi], h);
        t = (long long)col->glast[phi];
        while (t >= 0 && col->sval[t] > q) t = (long long)col->gfirst[t] - 1;
        while (t + 1 < (long long)N && col->sval[t + 1] <= q) t = (long long)col->glast[t + 1];
    } else {
        const uint32_t pr = cqb_k_pos_of_rank(pcum, N, lo);
        t = (long long)col->gfirst[pr] - 1; /* strict: x < x_(r) */
    }
    return t;
}

/* Level code of sorted position pos: the number of levels whose last hit
 * position is before pos (th ascending). */
CQB_KFN uint8_t cqb_k_code(const long long *th, int nlev, long long pos)
{
    int lo = 0, hi = nlev;
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (th[mid] < pos) lo = mid + 1;
        else hi = mid;
    }
    return (uint8_t)lo;
}

/* Joint count of (column ca at level la, column cb at level lb), ca != cb. */
CQB_KFN uint32_t cqb_k_joint(const cqb_kplan *P, const uint32_t *hist, int ca, int la, int cb, int lb)
{
    const int pp = P->pair_index[ca * P->ncol + cb];
    const uint32_t *J = hist + P->hist_off[pp];
    const int wdt = P->col[P->pair_b[pp]].nlev + 1;
    return ca < cb ? J[la * wdt + lb] : J[lb * wdt + la];
}

/* The statistic of cell (iy, ix) of unit u: run_one()'s epilogue. */
CQB_KFN double cqb_k_cell(const cqb_kplan *P, const uint32_t *marg, const uint32_t *hist, const cqb_plan_unit *un,
                          int iy, int ix)
{
    const double Nd = (double)P->N;
    const cqb_kcol *cy = &P->col[un->col_y], *cx = &P->col[un->col_x];
    const uint32_t *my = marg + (size_t)un->col_y * CQB_K_MAXL, *mx = marg + (size_t)un->col_x * CQB_K_MAXL;
    if (un->nz == 0) {
        /* as the hoisted s11/s22 of run_one(): the same calls on the same
         * arguments, so the same bits */
        const double s11 = cqb_gram_entry(Nd, my[iy], my[iy], my[iy], cy->lev[iy], cy->lev[iy]);
        const double s22 = cqb_gram_entry(Nd, mx[ix], mx[ix], mx[ix], cx->lev[ix], cx->lev[ix]);
        const double ay = cy->lev[iy], ny1 = my[iy];
        const double n12 = cqb_k_joint(P, hist, un->col_y, iy, un->col_x, ix);
        const double s12 = cqb_gram_entry(Nd, ny1, mx[ix], n12, ay, cx->lev[ix]);
        return s12 / sqrt(s11 * s22);
    }
    const int l = 2 + un->nz;
    int cols[CQB_MAX_VARS], lv[CQB_MAX_VARS];
    cols[0] = un->col_y;
    lv[0] = iy;
    cols[1] = un->col_x;
    lv[1] = ix;
    for (int j = 0; j < un->nz; ++j) {
        cols[2 + j] = un->col_z[j];
        lv[2 + j] = 0;
    }
    double Gm[CQB_MAX_VARS * CQB_MAX_VARS];
    for (int s = 0; s < l; ++s) {
        const double as = P->col[cols[s]].lev[lv[s]];
        const double ns = marg[(size_t)cols[s] * CQB_K_MAXL + lv[s]];
        for (int t = s; t < l; ++t) {
            const double at = P->col[cols[t]].lev[lv[t]];
            const double nt = marg[(size_t)cols[t] * CQB_K_MAXL + lv[t]];
            double nst;
            if (s == t) {
                nst = ns;
            } else if (cols[s] == cols[t]) {
                nst = lv[s] < lv[t] ? ns : nt; /* nested levels */
            } else {
                nst = cqb_k_joint(P, hist, cols[s], lv[s], cols[t], lv[t]);
            }
            Gm[s * l + t] = Gm[t * l + s] = cqb_gram_entry(Nd, ns, nt, nst, as, at);
        }
    }
    return cqb_partial_from_gram(Gm, l);
}

/*! cqb_k_replicate() : statistics of replicate rep into out[0 .. nstat-1],
 *  computed by threads tid = 0 .. nthr-1 (all must call it; nthr must equal
 *  P->nthr) with the scratch area scr (P->scratch_bytes, 16-byte aligned). */
CQB_KFN void cqb_k_replicate(const cqb_kplan *P, unsigned char *scr, uint32_t rep, double *out, int tid, int nthr,
                             cqb_kctx *ctx)
{
    const uint32_t N = P->N;
    const uint32_t ut = (uint32_t)tid, un = (uint32_t)nthr;
    uint32_t *c = (uint32_t *)(scr + P->s_c);
    uint32_t *pcum = (uint32_t *)(scr + P->s_pcum);
    uint8_t *rc = (uint8_t *)(scr + P->s_rc);
    long long *raw = (long long *)(scr + P->s_raw);
    long long *th = (long long *)(scr + P->s_th);
    uint32_t *marg = (uint32_t *)(scr + P->s_marg);
    uint32_t *hist = (uint32_t *)(scr + P->s_hist);
    long long *scan = (long long *)(scr + P->s_scan);

    /* 0. clear the multiplicities and the histograms */
    for (uint32_t i = ut; i < N; i += un) c[i] = 0;
    for (uint32_t i = ut; i < P->hist_words; i += un) hist[i] = 0;
    CQB_KSYNC(ctx);

    /* 1. multiplicities (cqb_plan_multiplicity) */
    {
        const uint64_t sflag = (uint64_t)rep | ((uint64_t)P->tag << 32);
        const uint64_t S = (((uint64_t)N + un - 1) / un + 3u) & ~(uint64_t)3u;
        const uint64_t t0 = (uint64_t)ut * S;
        const uint64_t t1 = t0 + S < (uint64_t)N ? t0 + S : (uint64_t)N;
        long long last = -1;
        for (uint64_t t = t0; t < t1; t += 4) {
            uint32_t w[4];
            cqb_philox_block(P->seed, sflag, t >> 2, w);
            for (uint64_t k = 0; k < 4 && t + k < t1; ++k)
                if (t + k == 0 || (uint64_t)w[k] < P->thr) last = (long long)(t + k);
        }
        const long long carry = cqb_k_scan_excl(ctx, scan, last, 1, tid, nthr);
        uint64_t cur = 0;
        for (uint64_t t = t0; t < t1; t += 4) {
            uint32_t w[4];
            cqb_philox_block(P->seed, sflag, t >> 2, w);
            for (uint64_t k = 0; k < 4 && t + k < t1; ++k) {
                const uint64_t tt = t + k;
                if (tt == 0 || (uint64_t)w[k] < P->thr) {
                    cur = cqb_sb_start_row(P->seed, rep, P->tag, tt, N);
                } else if (tt == t0) {
                    /* inside a block that began in an earlier run (carry >= 0:
                     * position 0 starts one) */
                    const uint64_t s = (uint64_t)carry;
                    cur = (cqb_sb_start_row(P->seed, rep, P->tag, s, N) + (tt - s)) % N;
                } else if (++cur == N) {
                    cur = 0;
                }
                CQB_KATOMIC_ADD(&c[cur], 1u);
            }
        }
    }
    CQB_KSYNC(ctx);

    /* 2. per column: cumulative multiplicities, thresholds, marginals, codes */
    const uint32_t S2 = (N + un - 1) / un;
    const uint32_t p0 = (uint64_t)ut * S2 < N ? ut * S2 : N;
    const uint32_t p1 = p0 + S2 < N ? p0 + S2 : N;
    for (int ci = 0; ci < P->ncol; ++ci) {
        const cqb_kcol *col = &P->col[ci];
        const int nlev = col->nlev;
        uint32_t run = 0;
        for (uint32_t i = p0; i < p1; ++i) {
            run += c[col->perm[i]];
            pcum[i] = run;
        }
        const uint32_t base = (uint32_t)cqb_k_scan_excl(ctx, scan, (long long)run, 0, tid, nthr);
        for (uint32_t i = p0; i < p1; ++i) pcum[i] += base;
        CQB_KSYNC(ctx);
        for (int l = tid; l < nlev; l += nthr) raw[l] = cqb_k_threshold(P, col, pcum, l);
        CQB_KSYNC(ctx);
        for (int l = tid; l < nlev; l += nthr) {
            /* the clamp th[l] = max(raw[l], th[l-1]) of column_thresholds()
             * is a running max */
            long long t = raw[0];
            for (int k = 1; k <= l; ++k)
                if (raw[k] > t) t = raw[k];
            th[l] = t;
            marg[(size_t)ci * CQB_K_MAXL + (size_t)l] = t >= 0 ? pcum[t] : 0;
        }
        CQB_KSYNC(ctx);
        uint8_t *rci = rc + (size_t)ci * N;
        for (uint32_t r = ut; r < N; r += un)
            if (c[r]) rci[r] = cqb_k_code(th, nlev, (long long)col->rank[r]);
        CQB_KSYNC(ctx);
    }

    /* 3. joint counts: weighted code histograms, then 2-D prefix sums */
    for (int pi = 0; pi < P->npair; ++pi) {
        const int a = P->pair_a[pi], b = P->pair_b[pi];
        const uint32_t wdt = (uint32_t)P->col[b].nlev + 1;
        uint32_t *H = hist + P->hist_off[pi];
        const uint8_t *ra = rc + (size_t)a * N, *rb = rc + (size_t)b * N;
        for (uint32_t r = ut; r < N; r += un) {
            const uint32_t cr = c[r];
            if (cr) CQB_KATOMIC_ADD(&H[(uint32_t)ra[r] * wdt + rb[r]], cr);
        }
    }
    CQB_KSYNC(ctx);
    for (int pi = 0; pi < P->npair; ++pi) {
        const int ma = P->col[P->pair_a[pi]].nlev, mb = P->col[P->pair_b[pi]].nlev;
        uint32_t *H = hist + P->hist_off[pi];
        for (int la = tid; la < ma; la += nthr) {
            uint32_t *row = H + (size_t)la * (size_t)(mb + 1);
            for (int lb = 1; lb < mb; ++lb) row[lb] += row[lb - 1];
        }
    }
    CQB_KSYNC(ctx);
    for (int pi = 0; pi < P->npair; ++pi) {
        const int ma = P->col[P->pair_a[pi]].nlev, mb = P->col[P->pair_b[pi]].nlev;
        uint32_t *H = hist + P->hist_off[pi];
        for (int lb = tid; lb < mb; lb += nthr)
            for (int la = 1; la < ma; ++la) H[la * (mb + 1) + lb] += H[(la - 1) * (mb + 1) + lb];
    }
    CQB_KSYNC(ctx);

    /* 4. epilogue */
    const uint32_t ncell = (uint32_t)P->ny * (uint32_t)P->nx;
    const uint32_t total = (uint32_t)P->nunit * ncell;
    for (uint32_t idx = ut; idx < total; idx += un) {
        const uint32_t u = idx / ncell, cell = idx % ncell;
        const int iy = (int)(cell / (uint32_t)P->nx), ix = (int)(cell % (uint32_t)P->nx);
        const cqb_plan_unit *pu = &P->unit[u];
        out[pu->out + cell] = cqb_k_cell(P, marg, hist, pu, iy, ix);
    }
    /* the scratch is reused by the next replicate */
    CQB_KSYNC(ctx);
}

#endif
