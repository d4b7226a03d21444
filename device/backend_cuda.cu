/* device/backend_cuda.cu — the CUDA backend: device selection, the
 * bootstrap kernel launch, chunking and error handling.
 *
 * The per-replicate work is cqb_k_replicate() of device/sbkern.h, the same
 * source that the host emulator of tests/test_cuda.c runs against
 * host/boot/sbplan.c. Here: one thread block of kThreads threads per replicate,
 * a persistent grid (blocks loop over the replicates of a launch), the
 * block's scratch in dynamic shared memory when it fits and otherwise in a
 * global slice per block (sized from the grid, so any N runs).
 *
 * Memory: replicates are launched in chunks sized from cudaMemGetInfo (half
 * of the free memory, at most 1 GiB of statistics per launch), so any B runs
 * in bounded device memory. A failed allocation is retried with half the
 * chunk and half the grid, down to one replicate on one block; only then is
 * CQB_ENOMEM returned. Every CUDA call is checked and its error becomes a
 * cqb_error message (CQB_EBACKEND; CQB_ENOMEM for allocations).
 *
 * Two entries: `run` copies the per-replicate statistics back (kilobytes
 * per replicate); `reduce` (host/cq/cq_boot.c run_plan() uses it) keeps them on
 * the device, derives the values, counts exceedances, builds the pass-1
 * histograms and collects the pass-2 target-bin values there (redkern.h),
 * and copies back only counts, histograms and the collected values.
 */
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_cuda.h"
#include "redkern.h"
#include "sbkern.h"

#define CQB_K_THREADS 256
#define CQB_K_MAX_CHUNK_BYTES ((size_t)1 << 30)

/* ---------------------------------------------------------------- kernel -- */

/* Replicates rep0 .. rep0+nrep-1; block b takes b, b + gridDim.x, ...;
 * statistics to out[(rep - rep0) * nstat ...]. */
static __global__ void __launch_bounds__(CQB_K_THREADS)
    cqb_sb_kernel(const __grid_constant__ cqb_kplan P, uint32_t rep0, uint32_t nrep, double *out,
                  unsigned char *gscr, int use_smem)
{
    extern __shared__ __align__(16) unsigned char cqb_smem[];
    if ((int)blockDim.x != P.nthr) __trap(); /* the scratch layout is for P.nthr threads */
    unsigned char *scr = use_smem ? cqb_smem : gscr + (size_t)blockIdx.x * P.scratch_bytes;
    for (uint32_t i = blockIdx.x; i < nrep; i += gridDim.x)
        cqb_k_replicate(&P, scr, rep0 + i, out + (size_t)i * P.nstat, (int)threadIdx.x, (int)blockDim.x, NULL);
}

/* --------------------------------------------------------------- context -- */

typedef struct cuda_ctx {
    int dev;
    int sms;                 /* multiprocessors */
    size_t smem_max;         /* dynamic shared memory a block may use */
    unsigned char *h_pack;   /* host staging of the packed plan */
    size_t h_cap;
    unsigned char *d_pack;   /* the packed plan on the device */
    size_t d_pack_cap;
    double *d_out;           /* statistics of one chunk */
    size_t d_out_cap;        /* bytes */
    unsigned char *d_scr;    /* global per-block scratch (when not in shared memory) */
    size_t d_scr_cap;
    double *d_vals;          /* derived values of one chunk (reduce) */
    size_t d_vals_cap;
} cuda_ctx;

static cqb_status cuda_err(cqb_error *err, cudaError_t e, const char *what)
{
    const cqb_status st = e == cudaErrorMemoryAllocation ? CQB_ENOMEM : CQB_EBACKEND;
    return cqb_error_set(err, st, "CUDA backend: %s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

#define CQB_CUDA_TRY(call, what)                           \
    do {                                                   \
        const cudaError_t e_ = (call);                     \
        if (e_ != cudaSuccess) return cuda_err(err, e_, what); \
    } while (0)

static void dev_release(void **p, size_t *cap)
{
    if (*p) (void)cudaFree(*p);
    *p = NULL;
    *cap = 0;
}

/* Ensures *p holds at least need bytes (contents not kept). */
static cudaError_t dev_reserve(void **p, size_t *cap, size_t need)
{
    if (*p && need <= *cap) return cudaSuccess;
    dev_release(p, cap);
    if (need == 0) return cudaSuccess;
    const cudaError_t e = cudaMalloc(p, need);
    if (e != cudaSuccess) {
        *p = NULL;
        (void)cudaGetLastError(); /* an allocation failure is not sticky: clear it */
        return e;
    }
    *cap = need;
    return cudaSuccess;
}

/* A non-negative integer from the environment; 0 when unset or malformed. */
static size_t env_size(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s) return 0;
    char *end = NULL;
    const unsigned long long v = strtoull(s, &end, 10);
    if (!end || *end) return 0;
    return (size_t)v;
}

/* ------------------------------------------------------------------- run -- */

/* A plan uploaded and a launch configuration with buffers for chunks of
 * `chunk` replicates: statistics (d_out) and, for the reduction, extra_per_rep
 * bytes per replicate (d_vals). */
typedef struct launch_cfg {
    cqb_kplan kp;
    int use_smem;
    size_t smem, grid_max, chunk;
} launch_cfg;

static cqb_status prepare(cuda_ctx *x, const cqb_plan *plan, size_t nrep, size_t extra_per_rep, launch_cfg *lc,
                          cqb_error *err)
{
    if ((uint64_t)nrep > (uint64_t)UINT32_MAX + 1)
        return cqb_error_set(err, CQB_EUSAGE, "CUDA backend: replicate numbers must stay below 2^32");
    if (plan->N < 1 || plan->N > UINT32_MAX)
        return cqb_error_set(err, CQB_EINTERNAL, "CUDA backend: a plan of %zu rows", plan->N);
    CQB_CUDA_TRY(cudaSetDevice(x->dev), "cudaSetDevice");

    /* The plan: packed on the host (pointers relative to the device buffer)
     * and uploaded whole. Plans are small (24 bytes per row and column). */
    cqb_kplan kp;
    const size_t psz = cqb_kplan_pack(plan, CQB_K_THREADS, NULL, 0, &kp);
    if (psz > x->h_cap) {
        unsigned char *h = (unsigned char *)realloc(x->h_pack, psz);
        if (!h) return cqb_error_set(err, CQB_ENOMEM, "CUDA backend: out of host memory for the plan (%zu bytes)", psz);
        x->h_pack = h;
        x->h_cap = psz;
    }
    {
        const cudaError_t e = dev_reserve((void **)&x->d_pack, &x->d_pack_cap, psz);
        if (e != cudaSuccess) return cuda_err(err, e, "allocating the plan on the device");
    }
    cqb_kplan_pack(plan, CQB_K_THREADS, x->h_pack, (uintptr_t)x->d_pack, &kp);
    CQB_CUDA_TRY(cudaMemcpy(x->d_pack, x->h_pack, psz, cudaMemcpyHostToDevice), "uploading the plan");

    /* Where the per-block scratch lives, and how many blocks are resident. */
    int use_smem = kp.scratch_bytes <= x->smem_max && env_size("CQB_CUDA_FORCE_GLOBAL") == 0;
    size_t smem = use_smem ? kp.scratch_bytes : 0;
    int per_sm = 0;
    if (use_smem) {
        CQB_CUDA_TRY(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, cqb_sb_kernel, CQB_K_THREADS, smem),
                     "occupancy of the bootstrap kernel");
        if (per_sm < 1) {
            use_smem = 0;
            smem = 0;
        }
    }
    if (!use_smem) {
        CQB_CUDA_TRY(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, cqb_sb_kernel, CQB_K_THREADS, 0),
                     "occupancy of the bootstrap kernel");
        if (per_sm < 1)
            return cqb_error_set(err, CQB_EBACKEND,
                                 "CUDA backend: the bootstrap kernel cannot run %d threads per block on this device",
                                 CQB_K_THREADS);
    }
    size_t grid_max = (size_t)per_sm * (size_t)x->sms;

    /* Chunk: half the free device memory (the buffers held count as free),
     * at most 1 GiB of statistics (and derived values) per launch. */
    size_t fr = 0, tot = 0;
    CQB_CUDA_TRY(cudaMemGetInfo(&fr, &tot), "cudaMemGetInfo");
    fr += x->d_out_cap + x->d_scr_cap + x->d_vals_cap;
    const size_t lim = env_size("CQB_CUDA_MEM_LIMIT");
    if (lim && (lim << 20) < fr) fr = lim << 20;
    const size_t per_rep = plan->nstat * sizeof(double) + extra_per_rep;
    const size_t budget = fr / 2;
    if (!use_smem && grid_max * kp.scratch_bytes > budget / 2) {
        /* a large scratch per block: fewer blocks rather than no memory */
        const size_t g = budget / 2 / kp.scratch_bytes;
        grid_max = g < 1 ? 1 : (g < grid_max ? g : grid_max);
    }
    const size_t scr_need = use_smem ? 0 : grid_max * kp.scratch_bytes;
    size_t chunk = budget > scr_need + per_rep ? (budget - scr_need) / per_rep : 1;
    if (chunk > CQB_K_MAX_CHUNK_BYTES / per_rep) chunk = CQB_K_MAX_CHUNK_BYTES / per_rep;
    const size_t env_chunk = env_size("CQB_CUDA_CHUNK");
    if (env_chunk && chunk > env_chunk) chunk = env_chunk;
    if (chunk > nrep) chunk = nrep;
    if (chunk < 1) chunk = 1;

    for (;;) {
        const size_t grid = chunk < grid_max ? chunk : grid_max;
        cudaError_t e = dev_reserve((void **)&x->d_out, &x->d_out_cap, chunk * plan->nstat * sizeof(double));
        if (e == cudaSuccess && !use_smem) e = dev_reserve((void **)&x->d_scr, &x->d_scr_cap, grid * kp.scratch_bytes);
        if (e == cudaSuccess && extra_per_rep) e = dev_reserve((void **)&x->d_vals, &x->d_vals_cap, chunk * extra_per_rep);
        if (e == cudaSuccess) break;
        if (e != cudaErrorMemoryAllocation) return cuda_err(err, e, "allocating the bootstrap buffers");
        dev_release((void **)&x->d_out, &x->d_out_cap);
        dev_release((void **)&x->d_scr, &x->d_scr_cap);
        dev_release((void **)&x->d_vals, &x->d_vals_cap);
        if (chunk == 1 && grid_max == 1)
            return cqb_error_set(err, CQB_ENOMEM,
                                 "CUDA backend: out of device memory even for one replicate (%zu bytes of "
                                 "statistics, %zu bytes of scratch)",
                                 per_rep, use_smem ? (size_t)0 : kp.scratch_bytes);
        chunk = (chunk + 1) / 2;
        grid_max = (grid_max + 1) / 2;
    }
    lc->kp = kp;
    lc->use_smem = use_smem;
    lc->smem = smem;
    lc->grid_max = grid_max;
    lc->chunk = chunk;
    return CQB_OK;
}

/* Statistics of replicates rep0 .. rep0+n-1 (n <= lc->chunk) into x->d_out. */
static cqb_status launch(cuda_ctx *x, const launch_cfg *lc, uint32_t rep0, size_t n, cqb_error *err)
{
    const unsigned grid = (unsigned)(n < lc->grid_max ? n : lc->grid_max);
    cqb_sb_kernel<<<grid, CQB_K_THREADS, lc->smem>>>(lc->kp, rep0, (uint32_t)n, x->d_out,
                                                     lc->use_smem ? NULL : x->d_scr, lc->use_smem);
    CQB_CUDA_TRY(cudaGetLastError(), "launching the bootstrap kernel");
    return CQB_OK;
}

static cqb_status cuda_run(const cqb_backend *b, const cqb_plan *plan, uint32_t rep0, size_t nrep, double *out,
                           cqb_error *err)
{
    cuda_ctx *x = (cuda_ctx *)b->ctx;
    if (nrep == 0 || plan->nstat == 0) return CQB_OK;
    if ((uint64_t)rep0 + (uint64_t)nrep - 1 > UINT32_MAX)
        return cqb_error_set(err, CQB_EUSAGE, "CUDA backend: replicate numbers must stay below 2^32");
    launch_cfg lc;
    cqb_status st = prepare(x, plan, nrep, 0, &lc, err);
    if (st != CQB_OK) return st;
    const size_t per_rep = plan->nstat * sizeof(double);
    for (size_t done = 0; done < nrep; done += lc.chunk) {
        const size_t n = nrep - done < lc.chunk ? nrep - done : lc.chunk;
        if ((st = launch(x, &lc, rep0 + (uint32_t)done, n, err)) != CQB_OK) return st;
        CQB_CUDA_TRY(cudaDeviceSynchronize(), "running the bootstrap kernel");
        CQB_CUDA_TRY(cudaMemcpy(out + done * plan->nstat, x->d_out, n * per_rep, cudaMemcpyDeviceToHost),
                     "copying the statistics back");
    }
    return CQB_OK;
}

/* ------------------------------------------------------------- reduce -- */

/* The reduction kernels: bodies in device/redkern.h (tested on the host by
 * tests/test_cuda.c's emulator). */
#define CQB_R_THREADS 256

static __global__ void __launch_bounds__(CQB_R_THREADS)
    cqb_derive_kernel(const cqb_derive d, const double *st, size_t nstat, size_t nb, double *vals)
{
    const size_t n = d.ngroup * nb;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        cqb_rk_derive(&d, st, nstat, nb, vals, i);
}

static __global__ void __launch_bounds__(CQB_R_THREADS)
    cqb_range_kernel(const double *vals, size_t nb, size_t nvar, double *lo, double *width)
{
    __shared__ double mn[CQB_R_THREADS], mx[CQB_R_THREADS];
    for (size_t j = blockIdx.x; j < nvar; j += gridDim.x) {
        cqb_rk_minmax(vals + j * nb, nb, threadIdx.x, blockDim.x, &mn[threadIdx.x], &mx[threadIdx.x]);
        __syncthreads();
        if (threadIdx.x == 0) cqb_rk_range(mn, mx, blockDim.x, &lo[j], &width[j]);
        __syncthreads();
    }
}

static __global__ void __launch_bounds__(CQB_R_THREADS)
    cqb_count_kernel(const double *vals, size_t nb, size_t nvar, const double *pv_ref, int pv_abs,
                     const double *et_ref, const double *lo, const double *width, uint32_t *hist,
                     unsigned long long *acc)
{
    const size_t tid = (size_t)blockIdx.x * blockDim.x + threadIdx.x, nthr = (size_t)gridDim.x * blockDim.x;
    for (size_t j = blockIdx.y; j < nvar; j += gridDim.y)
        cqb_rk_count(vals + j * nb, nb, tid, nthr, pv_ref[j], pv_abs, et_ref != NULL, et_ref ? et_ref[j] : 0.0,
                     lo[j], width[j], hist + j * ((size_t)CQB_QSEL_BINS + 2), acc + j * CQB_RK_NACC);
}

static __global__ void __launch_bounds__(CQB_R_THREADS)
    cqb_collect_kernel(const double *vals, size_t nb, size_t nvar, const double *lo, const double *width,
                       const uint32_t *tbin, const int *ntarget, uint32_t *fill, const uint32_t *cap,
                       const unsigned long long *off, double *coll)
{
    const size_t tid = (size_t)blockIdx.x * blockDim.x + threadIdx.x, nthr = (size_t)gridDim.x * blockDim.x;
    for (size_t j = blockIdx.y; j < nvar; j += gridDim.y)
        if (ntarget[j] > 0)
            cqb_rk_collect(vals + j * nb, nb, tid, nthr, lo[j], width[j], tbin + j * CQB_QSEL_MAX_TARGETS,
                           ntarget[j], &fill[j], cap[j], coll + off[j]);
}

/* device buffers of one reduce call, freed together */
typedef struct red_bufs {
    double *ref, *pv_ref, *et_ref, *lo, *width, *coll;
    uint32_t *hist, *tbin, *fill, *cap;
    int *ntarget;
    unsigned long long *acc, *off;
} red_bufs;

static void red_free(red_bufs *r)
{
    void *p[] = {r->ref, r->pv_ref, r->et_ref, r->lo, r->width, r->coll, r->hist,
                 r->tbin, r->fill, r->cap, r->ntarget, r->acc, r->off};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; ++i)
        if (p[i]) (void)cudaFree(p[i]);
    memset(r, 0, sizeof *r);
}

/* cudaMalloc + optional upload */
static cudaError_t red_alloc(void **p, size_t bytes, const void *src)
{
    cudaError_t e = cudaMalloc(p, bytes ? bytes : 8);
    if (e != cudaSuccess) {
        *p = NULL;
        (void)cudaGetLastError();
        return e;
    }
    if (src && bytes) e = cudaMemcpy(*p, src, bytes, cudaMemcpyHostToDevice);
    return e;
}

#define RED_TRY(call, what)                      \
    do {                                         \
        const cudaError_t e_ = (call);           \
        if (e_ != cudaSuccess) {                 \
            st = cuda_err(err, e_, what);        \
            goto done;                           \
        }                                        \
    } while (0)

static cqb_status cuda_reduce(const cqb_backend *b, const cqb_plan *plan, cqb_reduce_io *io, cqb_error *err)
{
    cuda_ctx *x = (cuda_ctx *)b->ctx;
    const cqb_derive *d = io->d;
    const size_t nv = d->nvar, B = io->B, nbin = (size_t)CQB_QSEL_BINS + 2;
    if (io->pass == 1) {
        cqb_reduce_io_zero(io);
        for (size_t j = 0; j < nv; ++j) cqb_qsel_range_hd(INFINITY, -INFINITY, &io->lo[j], &io->width[j]);
    }
    if (B == 0 || nv == 0) return CQB_OK;
    if ((uint64_t)B - 1 > UINT32_MAX)
        return cqb_error_set(err, CQB_EUSAGE, "CUDA backend: replicate numbers must stay below 2^32");
    if (plan->nstat == 0 || d->gsize * d->ngroup != nv)
        return cqb_error_set(err, CQB_EINTERNAL, "CUDA backend: a reduction of %zu values from %zu statistics", nv,
                             plan->nstat);
    launch_cfg lc;
    cqb_status st = prepare(x, plan, B, nv * sizeof(double), &lc, err);
    if (st != CQB_OK) return st;

    red_bufs r;
    memset(&r, 0, sizeof r);
    unsigned long long *acc = NULL, *off = NULL;
    uint32_t *fill = NULL, *cap32 = NULL;
    cqb_derive dd = *d;
    RED_TRY(red_alloc((void **)&r.ref, cqb_derive_nref(d) * sizeof(double), d->ref), "uploading the references");
    dd.ref = r.ref;
    RED_TRY(red_alloc((void **)&r.lo, nv * sizeof(double), io->pass == 2 ? io->lo : NULL), "histogram ranges");
    RED_TRY(red_alloc((void **)&r.width, nv * sizeof(double), io->pass == 2 ? io->width : NULL), "histogram ranges");
    if (io->pass == 1) {
        RED_TRY(red_alloc((void **)&r.pv_ref, nv * sizeof(double), io->pv_ref), "uploading the p-value references");
        if (io->et_ref)
            RED_TRY(red_alloc((void **)&r.et_ref, nv * sizeof(double), io->et_ref), "uploading the references");
        RED_TRY(red_alloc((void **)&r.hist, nv * nbin * sizeof(uint32_t), NULL), "allocating the histograms");
        RED_TRY(cudaMemset(r.hist, 0, nv * nbin * sizeof(uint32_t)), "clearing the histograms");
        RED_TRY(red_alloc((void **)&r.acc, nv * CQB_RK_NACC * sizeof(unsigned long long), NULL), "the counters");
        RED_TRY(cudaMemset(r.acc, 0, nv * CQB_RK_NACC * sizeof(unsigned long long)), "clearing the counters");
    } else {
        size_t total = 0;
        cap32 = (uint32_t *)malloc(nv * sizeof *cap32);
        off = (unsigned long long *)malloc(nv * sizeof *off);
        fill = (uint32_t *)malloc(nv * sizeof *fill);
        if (!cap32 || !off || !fill) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t j = 0; j < nv; ++j) {
            if (io->cap[j] > UINT32_MAX) {
                st = cqb_error_set(err, CQB_EINTERNAL, "CUDA backend: %zu values to collect", io->cap[j]);
                goto done;
            }
            cap32[j] = (uint32_t)io->cap[j];
            off[j] = total;
            total += io->cap[j];
        }
        RED_TRY(red_alloc((void **)&r.tbin, nv * CQB_QSEL_MAX_TARGETS * sizeof(uint32_t), io->tbin), "target bins");
        RED_TRY(red_alloc((void **)&r.ntarget, nv * sizeof(int), io->ntarget), "target bins");
        RED_TRY(red_alloc((void **)&r.cap, nv * sizeof(uint32_t), cap32), "target counts");
        RED_TRY(red_alloc((void **)&r.off, nv * sizeof(unsigned long long), off), "target offsets");
        RED_TRY(red_alloc((void **)&r.fill, nv * sizeof(uint32_t), NULL), "collection counters");
        RED_TRY(cudaMemset(r.fill, 0, nv * sizeof(uint32_t)), "clearing the collection counters");
        RED_TRY(red_alloc((void **)&r.coll, total * sizeof(double), NULL), "allocating the collection buffer");
    }

    for (size_t done = 0; done < B; done += lc.chunk) {
        const size_t n = B - done < lc.chunk ? B - done : lc.chunk;
        if ((st = launch(x, &lc, (uint32_t)done, n, err)) != CQB_OK) goto done;
        {
            const size_t items = d->ngroup * n;
            size_t g = (items + CQB_R_THREADS - 1) / CQB_R_THREADS;
            if (g > (size_t)x->sms * 32) g = (size_t)x->sms * 32;
            cqb_derive_kernel<<<(unsigned)g, CQB_R_THREADS>>>(dd, x->d_out, plan->nstat, n, x->d_vals);
            RED_TRY(cudaGetLastError(), "launching the derivation kernel");
        }
        if (io->pass == 1 && done == 0) {
            const unsigned g = (unsigned)(nv < 65535 ? nv : 65535);
            cqb_range_kernel<<<g, CQB_R_THREADS>>>(x->d_vals, n, nv, r.lo, r.width);
            RED_TRY(cudaGetLastError(), "launching the range kernel");
        }
        /* a 2-D grid: y over statistics, x over the chunk's replicates */
        size_t gx = (n + CQB_R_THREADS * 16 - 1) / (CQB_R_THREADS * 16);
        if (gx > 1024) gx = 1024;
        dim3 grid((unsigned)gx, (unsigned)(nv < 65535 ? nv : 65535));
        if (io->pass == 1)
            cqb_count_kernel<<<grid, CQB_R_THREADS>>>(x->d_vals, n, nv, r.pv_ref, io->pv_abs, r.et_ref, r.lo, r.width,
                                                      r.hist, r.acc);
        else
            cqb_collect_kernel<<<grid, CQB_R_THREADS>>>(x->d_vals, n, nv, r.lo, r.width, r.tbin, r.ntarget, r.fill,
                                                        r.cap, r.off, r.coll);
        RED_TRY(cudaGetLastError(), "launching the reduction kernel");
        RED_TRY(cudaDeviceSynchronize(), "running the bootstrap and reduction kernels");
    }

    if (io->pass == 1) {
        acc = (unsigned long long *)malloc(nv * CQB_RK_NACC * sizeof *acc);
        if (!acc) {
            st = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            goto done;
        }
        RED_TRY(cudaMemcpy(acc, r.acc, nv * CQB_RK_NACC * sizeof *acc, cudaMemcpyDeviceToHost), "copying the counts");
        RED_TRY(cudaMemcpy(io->hist, r.hist, nv * nbin * sizeof(uint32_t), cudaMemcpyDeviceToHost),
                "copying the histograms");
        RED_TRY(cudaMemcpy(io->lo, r.lo, nv * sizeof(double), cudaMemcpyDeviceToHost), "copying the ranges");
        RED_TRY(cudaMemcpy(io->width, r.width, nv * sizeof(double), cudaMemcpyDeviceToHost), "copying the ranges");
        for (size_t j = 0; j < nv; ++j) {
            io->pv_count[j] = (size_t)acc[j * CQB_RK_NACC + CQB_RK_PV];
            io->valid[j] = (size_t)acc[j * CQB_RK_NACC + CQB_RK_VALID];
            if (io->et_ref) {
                io->et_lo[j] = (size_t)acc[j * CQB_RK_NACC + CQB_RK_ETLO];
                io->et_hi[j] = (size_t)acc[j * CQB_RK_NACC + CQB_RK_ETHI];
            }
        }
    } else {
        RED_TRY(cudaMemcpy(fill, r.fill, nv * sizeof *fill, cudaMemcpyDeviceToHost), "copying the collection counts");
        for (size_t j = 0; j < nv; ++j)
            if (fill[j] != cap32[j]) {
                st = cqb_error_set(err, CQB_EINTERNAL,
                                   "CUDA backend: statistic %zu: %u values collected, %u expected from pass 1", j,
                                   fill[j], cap32[j]);
                goto done;
            }
        size_t total = 0;
        for (size_t j = 0; j < nv; ++j) total += io->cap[j];
        RED_TRY(cudaMemcpy(io->coll, r.coll, total * sizeof(double), cudaMemcpyDeviceToHost),
                "copying the collected values");
    }
done:
    red_free(&r);
    free(acc);
    free(off);
    free(fill);
    free(cap32);
    return st;
}

/* ------------------------------------------------------------ open/close -- */

static cqb_status open_fail(cqb_error *err, cudaError_t e, const char *what)
{
    (void)cudaGetLastError();
    return cqb_error_set(err, CQB_EBACKEND, "%s: %s", what, cudaGetErrorString(e));
}

extern "C" cqb_status cqb_cuda_open(cqb_backend *out, cqb_error *err)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        if (e == cudaErrorNoDevice) return cqb_error_set(err, CQB_EBACKEND, "no CUDA device found: %s", cudaGetErrorString(e));
        if (e == cudaErrorInsufficientDriver) {
            int rv = 0;
            (void)cudaRuntimeGetVersion(&rv);
            return cqb_error_set(err, CQB_EBACKEND, "NVIDIA driver missing or older than CUDA %d.%d: %s", rv / 1000,
                                 (rv % 1000) / 10, cudaGetErrorString(e));
        }
        return open_fail(err, e, "cudaGetDeviceCount");
    }
    if (n < 1) return cqb_error_set(err, CQB_EBACKEND, "no CUDA device found");
    const int dev = 0;
    cudaDeviceProp prop;
    if ((e = cudaGetDeviceProperties(&prop, dev)) != cudaSuccess) return open_fail(err, e, "cudaGetDeviceProperties");
    if ((e = cudaSetDevice(dev)) != cudaSuccess) return open_fail(err, e, "cudaSetDevice");
    if ((e = cudaFree(0)) != cudaSuccess) return open_fail(err, e, "creating a CUDA context");
    cudaFuncAttributes fa;
    if ((e = cudaFuncGetAttributes(&fa, cqb_sb_kernel)) != cudaSuccess) {
        (void)cudaGetLastError();
        return cqb_error_set(err, CQB_EBACKEND,
                             "%s (compute capability %d.%d): %s; this build has code for sm_80 and sm_90 and "
                             "compute_90 PTX",
                             prop.name, prop.major, prop.minor, cudaGetErrorString(e));
    }
    size_t smem_max = 0;
    if (prop.sharedMemPerBlockOptin > fa.sharedSizeBytes) smem_max = prop.sharedMemPerBlockOptin - fa.sharedSizeBytes;
    if (smem_max > 0 &&
        (e = cudaFuncSetAttribute(cqb_sb_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem_max)) !=
            cudaSuccess)
        return open_fail(err, e, "cudaFuncSetAttribute");
    char msg[256];
    const int bad = cqb_cuda_selftest(msg, sizeof msg);
    if (bad != 0) return cqb_error_set(err, CQB_EBACKEND, "%s: device self-test failed: %s", prop.name, msg);

    cuda_ctx *x = (cuda_ctx *)calloc(1, sizeof *x);
    if (!x) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    x->dev = dev;
    x->sms = prop.multiProcessorCount;
    x->smem_max = smem_max;
    memset(out, 0, sizeof *out);
    out->kind = CQB_BACKEND_CUDA;
    snprintf(out->name, sizeof out->name, "cuda");
    snprintf(out->device, sizeof out->device, "%.64s, compute capability %d.%d, %d SMs, %.0f GiB", prop.name,
             prop.major, prop.minor, prop.multiProcessorCount, (double)prop.totalGlobalMem / 1073741824.0);
    out->run = cuda_run;
    out->reduce = cuda_reduce;
    out->ctx = x;
    return CQB_OK;
}

extern "C" void cqb_cuda_close(cqb_backend *b)
{
    cuda_ctx *x = (cuda_ctx *)b->ctx;
    if (!x) return;
    (void)cudaSetDevice(x->dev);
    dev_release((void **)&x->d_pack, &x->d_pack_cap);
    dev_release((void **)&x->d_out, &x->d_out_cap);
    dev_release((void **)&x->d_scr, &x->d_scr_cap);
    dev_release((void **)&x->d_vals, &x->d_vals_cap);
    free(x->h_pack);
    free(x);
    b->ctx = NULL;
}
