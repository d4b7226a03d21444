/* device/nullkern.h — the null-imposing replicates of the calibrated test
 * (cqboot/nullboot.h, docs/calibrated.md) as one C11 / CUDA C++ function.
 *
 * cqb_nk_replicate() computes replicate rep of a plain-CQ null plan (the
 * exact-count stationary bootstrap or the rotation) exactly as
 * cqb_null_run_cpu() does: the same Philox words and block starts (the
 * scalar path of host/boot/sbresample.c, position by position), the same
 * counting sort over the ranks, the same code histogram and 2-D prefix sums,
 * and cqb_cq_from_counts() of cqboot/gram.h; every count is an exact integer,
 * so the doubles agree bit for bit. One thread computes one replicate (the
 * work per replicate is a few passes over T values; device/null_cuda.cu
 * launches one thread per replicate). tests/test_cuda.c compiles this file
 * as C and checks it against cqb_null_run_cpu().
 *
 * The stratified rotation of the partial CQ stays on the host.
 */
#ifndef CQBOOT_DEVICE_NULLKERN_H
#define CQBOOT_DEVICE_NULLKERN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "cqboot/gram.h"
#include "cqboot/philox.h"

#if defined(__CUDACC__)
#define CQB_NKFN static __device__ __forceinline__
#else
#define CQB_NKFN static inline
#endif

#define CQB_NK_MAXL 64

/* A plain-CQ null plan with the arrays of cqb_null_plan (host or device
 * copies; the layouts are those of cqboot/nullboot.h). */
typedef struct cqb_nkplan {
    int scheme; /* CQB_NULL_SB (0) or CQB_NULL_ROTATION (1) */
    int ny, nx;
    int pad_;
    uint64_t seed, thr_y, thr_x;
    uint32_t tag_y, tag_x; /* cqb_sb_tag(CQB_FAMILY_NULL_Y / _X, 0, 0) */
    size_t T, margin, nlag, nstat;
    const size_t *lag, *r0, *N, *off;
    const uint32_t *n1, *n2, *rank_y, *rank_x;
    const uint8_t *pcode_y, *pcode_x, *code_y, *code_x;
    double ay[CQB_NK_MAXL], ax[CQB_NK_MAXL];
} cqb_nkplan;

/* Scratch of one replicate: 3 T uint32, 2 T bytes, (ny+1)(nx+1) uint32. */
CQB_HD size_t cqb_nk_scratch_bytes(size_t T, int ny, int nx)
{
    size_t b = 3 * T * sizeof(uint32_t) + (size_t)(ny + 1) * (size_t)(nx + 1) * sizeof(uint32_t);
    b += 2 * T;
    return (b + 15) & ~(size_t)15;
}

/* idx[t] for t < n: the stationary-bootstrap rows of replicate rep (as
 * cqb_sb_indices: position 0 and every position whose flag word is below
 * thr start a block at cqb_sb_start_row(); other rows follow circularly). */
CQB_NKFN void cqb_nk_sb_indices(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *idx)
{
    const uint64_t sflag = (uint64_t)rep | ((uint64_t)tag << 32);
    uint32_t w[4];
    uint64_t r = 0;
    for (size_t t = 0; t < n; ++t) {
        if ((t & 3u) == 0) cqb_philox_block(seed, sflag, (uint64_t)(t >> 2), w);
        if (t == 0 || (uint64_t)w[t & 3u] < thr) {
            r = cqb_sb_start_row(seed, rep, tag, (uint64_t)t, (uint64_t)n);
        } else if (++r == n) {
            r = 0;
        }
        idx[t] = (uint32_t)r;
    }
}

/* Exact-count codes (nullboot.c exact_codes): counting sort of the keys
 * (rank[idx[t]], t) over the T ranks; the q-th smallest gets pcode[q]. */
CQB_NKFN void cqb_nk_exact_codes(const uint32_t *rank, const uint32_t *idx, size_t N, size_t T,
                                 const uint8_t *pcode, uint32_t *cnt, uint8_t *code)
{
    for (size_t r = 0; r < T; ++r) cnt[r] = 0;
    for (size_t t = 0; t < N; ++t) ++cnt[rank[idx[t]]];
    uint32_t run = 0;
    for (size_t r = 0; r < T; ++r) {
        const uint32_t c = cnt[r];
        cnt[r] = run;
        run += c;
    }
    for (size_t t = 0; t < N; ++t) code[t] = pcode[cnt[rank[idx[t]]]++];
}

/* Replicate rep into out[0 .. nstat). scratch: cqb_nk_scratch_bytes(). */
CQB_NKFN void cqb_nk_replicate(const cqb_nkplan *P, uint32_t rep, unsigned char *scratch, double *out)
{
    const size_t T = P->T;
    const int ny = P->ny, nx = P->nx, W = nx + 1;
    uint32_t *iy = (uint32_t *)(void *)scratch, *ix = iy + T, *cnt = ix + T;
    uint32_t *h = cnt + T;
    uint8_t *cy = (uint8_t *)(h + (size_t)(ny + 1) * (size_t)W), *cx = cy + T;
    if (P->scheme == 0) {
        cqb_nk_sb_indices(P->seed, rep, P->tag_y, P->thr_y, T, iy);
        cqb_nk_sb_indices(P->seed, rep, P->tag_x, P->thr_x, T, ix);
    }
    for (size_t li = 0; li < P->nlag; ++li) {
        double *o = out + li * (size_t)ny * (size_t)nx;
        const size_t N = P->N[li], r0 = P->r0[li], k = P->lag[li], off = P->off[li];
        if (P->scheme == 1) {
            const size_t M = N >= 2 * P->margin + 1 ? N - 2 * P->margin + 1 : 0;
            if ((size_t)rep >= M) {
                for (int c = 0; c < ny * nx; ++c) o[c] = NAN;
                continue;
            }
            const uint8_t *sy = P->code_y + off, *sx = P->code_x + off;
            size_t u = (P->margin + rep) % N;
            for (size_t t = 0; t < N; ++t) {
                cy[t] = sy[t];
                cx[t] = sx[u];
                if (++u == N) u = 0;
            }
        } else {
            cqb_nk_exact_codes(P->rank_y, iy + r0, N, T, P->pcode_y + off, cnt, cy);
            cqb_nk_exact_codes(P->rank_x, ix + r0 - k, N, T, P->pcode_x + off, cnt, cx);
        }
        for (int i = 0; i < (ny + 1) * W; ++i) h[i] = 0;
        for (size_t t = 0; t < N; ++t) ++h[cy[t] * W + cx[t]];
        for (int a = 0; a <= ny; ++a)
            for (int b = 1; b <= nx; ++b) h[a * W + b] += h[a * W + b - 1];
        for (int a = 1; a <= ny; ++a)
            for (int b = 0; b <= nx; ++b) h[a * W + b] += h[(a - 1) * W + b];
        const uint32_t *n1 = P->n1 + li * (size_t)ny, *n2 = P->n2 + li * (size_t)nx;
        for (int a = 0; a < ny; ++a)
            for (int b = 0; b < nx; ++b)
                o[a * nx + b] = cqb_cq_from_counts((double)N, (double)n1[a], (double)n2[b], (double)h[a * W + b],
                                                   P->ay[a], P->ax[b]);
    }
}

#endif
