/* device/null_cuda.cu — the CUDA backend's null_eval entry: the replicates
 * of the calibrated test's null-imposing plan (cqboot/nullboot.h: the
 * exact-count stationary bootstrap and the rotation of the plain CQ) on the
 * device.
 *
 * One thread computes one replicate with cqb_nk_replicate() of
 * device/nullkern.h, the function tests/test_nullboot.c runs as C against
 * cqb_null_run_cpu() (bit for bit: integer counts, then the shared
 * cqb_cq_from_counts() with -fmad=false). Per call the plan's arrays are
 * copied to the device (a few T-sized arrays), the replicates run in chunks
 * sized from cudaMemGetInfo (scratch and values within a quarter of the free
 * memory, at most 256 MiB of scratch), and their values come back. Every
 * CUDA call is checked (CQB_EBACKEND with the CUDA error; CQB_ENOMEM for
 * allocations). The stratified rotation of the partial CQ stays on the host
 * (host/cq/cq_boot.c calls null_eval only for the plain-CQ schemes).
 *
 * Written without a GPU at hand: the kernel's logic is tested by the C
 * emulation; the launch code compiles with -Werror but has not run on a
 * device yet (docs/calibrated.md §8).
 */
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_cuda.h"
#include "cqboot/nullboot.h"
#include "nullkern.h"

#define NK_THREADS 128
#define NK_MAX_SCRATCH ((size_t)256 << 20)

extern "C" cqb_status cqb_cuda_null_open(cqb_backend *b, cqb_error *err);
extern "C" void cqb_cuda_null_close(cqb_backend *b);

static __global__ void __launch_bounds__(NK_THREADS)
    nk_kernel(const cqb_nkplan P, uint32_t rep0, uint32_t nrep, unsigned char *scratch, size_t per, double *out)
{
    const uint32_t tid = blockIdx.x * blockDim.x + threadIdx.x, stride = gridDim.x * blockDim.x;
    unsigned char *s = scratch + (size_t)tid * per;
    for (uint32_t i = tid; i < nrep; i += stride) cqb_nk_replicate(&P, rep0 + i, s, out + (size_t)i * P.nstat);
}

typedef struct ncuda_ctx {
    int dev;
} ncuda_ctx;

static cqb_status nk_cuda_err(cqb_error *err, cudaError_t e, const char *what)
{
    const cqb_status st = e == cudaErrorMemoryAllocation ? CQB_ENOMEM : CQB_EBACKEND;
    (void)cudaGetLastError();
    return cqb_error_set(err, st, "CUDA backend (calibrated test): %s: %s (%s)", what, cudaGetErrorString(e),
                         cudaGetErrorName(e));
}

/* Device buffers of one call, released on every path. */
typedef struct nk_bufs {
    void *p[16];
    int n;
} nk_bufs;

static void nk_free_all(nk_bufs *b)
{
    for (int i = 0; i < b->n; ++i)
        if (b->p[i]) (void)cudaFree(b->p[i]);
    b->n = 0;
}

static cudaError_t nk_copy(nk_bufs *b, const void *src, size_t bytes, const void **dst)
{
    void *d = NULL;
    cudaError_t e = cudaMalloc(&d, bytes ? bytes : 1);
    if (e != cudaSuccess) return e;
    b->p[b->n++] = d;
    if (bytes) e = cudaMemcpy(d, src, bytes, cudaMemcpyHostToDevice);
    *dst = d;
    return e;
}

static cqb_status cuda_null_eval(const cqb_backend *b, const cqb_null_plan *p, uint32_t rep0, size_t nrep,
                                 double *out, cqb_error *err)
{
    const ncuda_ctx *x = (const ncuda_ctx *)b->nctx;
    if (p->scheme != CQB_NULL_SB && p->scheme != CQB_NULL_ROTATION)
        return cqb_error_set(err, CQB_EBACKEND, "CUDA backend (calibrated test): scheme %d runs on the host",
                             (int)p->scheme);
    if (nrep == 0) return CQB_OK;
    cudaError_t e = cudaSetDevice(x->dev);
    if (e != cudaSuccess) return nk_cuda_err(err, e, "cudaSetDevice");
    cqb_nkplan k;
    memset(&k, 0, sizeof k);
    k.scheme = (int)p->scheme;
    k.ny = p->ny;
    k.nx = p->nx;
    k.seed = p->seed;
    k.thr_y = p->thr_y;
    k.thr_x = p->thr_x;
    k.tag_y = cqb_sb_tag(CQB_FAMILY_NULL_Y, 0, 0);
    k.tag_x = cqb_sb_tag(CQB_FAMILY_NULL_X, 0, 0);
    k.T = p->T;
    k.margin = p->margin;
    k.nlag = p->nlag;
    k.nstat = p->nstat;
    memcpy(k.ay, p->ay, sizeof k.ay);
    memcpy(k.ax, p->ax, sizeof k.ax);
    const size_t tot = p->off[p->nlag], T = p->T, nl = p->nlag;
    nk_bufs bufs;
    memset(&bufs, 0, sizeof bufs);
    const void *d;
    cqb_status st = CQB_OK;
#define NK_COPY(field, src, bytes, what)                      \
    do {                                                      \
        if ((e = nk_copy(&bufs, (src), (bytes), &d)) != cudaSuccess) { \
            st = nk_cuda_err(err, e, what);                   \
            goto done;                                        \
        }                                                     \
        k.field = (decltype(k.field))d;                       \
    } while (0)
    NK_COPY(lag, p->lag, nl * sizeof(size_t), "copying the lags");
    NK_COPY(r0, p->r0, nl * sizeof(size_t), "copying the row offsets");
    NK_COPY(N, p->N, nl * sizeof(size_t), "copying the row counts");
    NK_COPY(off, p->off, (nl + 1) * sizeof(size_t), "copying the lag offsets");
    NK_COPY(n1, p->n1, nl * (size_t)p->ny * sizeof(uint32_t), "copying the hit counts of y");
    NK_COPY(n2, p->n2, nl * (size_t)p->nx * sizeof(uint32_t), "copying the hit counts of x");
    NK_COPY(rank_y, p->rank_y, T * sizeof(uint32_t), "copying the ranks of y");
    NK_COPY(rank_x, p->rank_x, T * sizeof(uint32_t), "copying the ranks of x");
    NK_COPY(pcode_y, p->pcode_y, tot, "copying the position codes of y");
    NK_COPY(pcode_x, p->pcode_x, tot, "copying the position codes of x");
    NK_COPY(code_y, p->code_y, tot, "copying the codes of y");
    NK_COPY(code_x, p->code_x, tot, "copying the codes of x");
#undef NK_COPY
    {
        const size_t per = cqb_nk_scratch_bytes(T, p->ny, p->nx), vals = p->nstat * sizeof(double);
        size_t fr = 0, total = 0;
        if ((e = cudaMemGetInfo(&fr, &total)) != cudaSuccess) {
            st = nk_cuda_err(err, e, "cudaMemGetInfo");
            goto done;
        }
        size_t budget = fr / 4;
        size_t nthr = budget / 2 / per;
        if (nthr * per > NK_MAX_SCRATCH) nthr = NK_MAX_SCRATCH / per;
        if (nthr > (size_t)1 << 20) nthr = (size_t)1 << 20;
        if (nthr < 1) nthr = 1;
        size_t chunk = budget / 2 / (vals ? vals : 1);
        if (chunk > nrep) chunk = nrep;
        if (chunk < 1) chunk = 1;
        if (nthr > chunk) nthr = chunk;
        nthr = (nthr + NK_THREADS - 1) / NK_THREADS * NK_THREADS;
        unsigned char *dscr = NULL;
        double *dout = NULL;
        for (;;) {
            e = cudaMalloc((void **)&dscr, nthr * per);
            if (e == cudaSuccess) e = cudaMalloc((void **)&dout, chunk * vals);
            if (e == cudaSuccess) break;
            (void)cudaGetLastError();
            if (dscr) (void)cudaFree(dscr);
            dscr = NULL;
            if (nthr <= NK_THREADS && chunk <= 1) {
                st = nk_cuda_err(err, e, "allocating the replicates' memory");
                goto done;
            }
            /* keep whole blocks: every launched thread owns a scratch slot */
            if (nthr > NK_THREADS) nthr = nthr / 2 / NK_THREADS * NK_THREADS;
            if (nthr < NK_THREADS) nthr = NK_THREADS;
            if (chunk > 1) chunk /= 2;
        }
        for (size_t done = 0; done < nrep && st == CQB_OK; done += chunk) {
            const size_t nb = nrep - done < chunk ? nrep - done : chunk;
            const unsigned blocks = (unsigned)((nthr + NK_THREADS - 1) / NK_THREADS);
            nk_kernel<<<blocks, NK_THREADS>>>(k, rep0 + (uint32_t)done, (uint32_t)nb, dscr, per, dout);
            if ((e = cudaGetLastError()) != cudaSuccess || (e = cudaDeviceSynchronize()) != cudaSuccess) {
                st = nk_cuda_err(err, e, "running the null-imposing kernel");
                break;
            }
            if ((e = cudaMemcpy(out + done * p->nstat, dout, nb * vals, cudaMemcpyDeviceToHost)) != cudaSuccess)
                st = nk_cuda_err(err, e, "copying the null values back");
        }
        (void)cudaFree(dscr);
        (void)cudaFree(dout);
    }
done:
    nk_free_all(&bufs);
    return st;
}

extern "C" cqb_status cqb_cuda_null_open(cqb_backend *b, cqb_error *err)
{
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return cqb_error_set(err, CQB_EBACKEND, "cudaGetDevice: %s", cudaGetErrorString(e));
    }
    cudaFuncAttributes fa;
    e = cudaFuncGetAttributes(&fa, nk_kernel);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return cqb_error_set(err, CQB_EBACKEND, "the calibrated-test kernel does not run on this device: %s",
                             cudaGetErrorString(e));
    }
    ncuda_ctx *x = (ncuda_ctx *)calloc(1, sizeof *x);
    if (!x) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    x->dev = dev;
    b->nctx = x;
    b->null_eval = cuda_null_eval;
    return CQB_OK;
}

extern "C" void cqb_cuda_null_close(cqb_backend *b)
{
    free(b->nctx);
    b->nctx = NULL;
    b->null_eval = NULL;
}
