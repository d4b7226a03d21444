/* device/wavelet_cuda.cu — the CUDA backend's wavelet_eval entry: the
 * replicates of cqb_wtest() (cqboot/wnull.h) on the device.
 *
 * The per-replicate work is the step sequence of device/wavelet_kern.h
 * (cqb_wk_steps()), the same source that the host emulator of
 * tests/test_wavelet_cuda.c runs against the CPU. Here every step is one
 * kernel launch over all replicates of a chunk (the launch boundary is the
 * grid-wide barrier between steps): element-wise steps with a grid-stride
 * loop over (replicate, element), cooperative steps (bootstrap index scan,
 * FFT) with a thread block per (replicate, item) and the block scan buffer
 * in shared memory. The statistic kernels (WLMC per (replicate, level,
 * time); WMC moments per (replicate, level, pair), then the solve per
 * (replicate, level)) read the coefficients from global memory through the
 * read-only cache (FP64 throughout, -fmad=false).
 *
 * Memory: per replicate the scratch of cqb_wkplan_pack() plus ncell doubles
 * of values; chunks of replicates are sized from cudaMemGetInfo (half the
 * free memory, at most 1 GiB of values per chunk), and a failed allocation
 * is retried with half the chunk down to one replicate, then reported as
 * CQB_ENOMEM. Every CUDA call is checked (CQB_EBACKEND with the CUDA error;
 * CQB_ENOMEM for allocations). CQB_CUDA_CHUNK and CQB_CUDA_MEM_LIMIT (see
 * backend_cuda.h) force small chunks and a small memory budget for tests.
 */
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_cuda.h"
#include "wavelet_kern.h"

#define WK_THREADS 256
#define WK_STAT_THREADS 128
#define WK_MAX_CHUNK_BYTES ((size_t)1 << 30)

extern "C" cqb_status cqb_cuda_wavelet_open(cqb_backend *b, cqb_error *err);
extern "C" void cqb_cuda_wavelet_close(cqb_backend *b);

/* --------------------------------------------------------------- kernels -- */

/* Element-wise step KIND (arg) over nrep replicates x items elements. */
template <int KIND>
static __global__ void __launch_bounds__(WK_THREADS)
    wk_elem_kernel(const __grid_constant__ cqb_wkplan P, int arg, unsigned char *scr, uint32_t rep0, uint32_t nrep,
                   uint64_t items, double *out)
{
    const uint64_t tot = (uint64_t)nrep * items;
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t g = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; g < tot; g += stride)
        cqb_wk_elem(&P, KIND, arg, scr, rep0, (uint32_t)(g / items), g % items, out);
}

/* The statistic step (the heavy one): fewer threads per block, more
 * registers per thread (the d(d+1)/2 + 1 window sums). */
template <int KIND>
static __global__ void __launch_bounds__(WK_STAT_THREADS)
    wk_stat_kernel(const __grid_constant__ cqb_wkplan P, unsigned char *scr, uint32_t rep0, uint32_t nrep,
                   uint64_t items, double *out)
{
    const uint64_t tot = (uint64_t)nrep * items;
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t g = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; g < tot; g += stride)
        cqb_wk_elem(&P, KIND, 0, scr, rep0, (uint32_t)(g / items), g % items, out);
}

/* Cooperative step KIND: block b takes items b, b + gridDim.x, ... */
template <int KIND>
static __global__ void __launch_bounds__(WK_THREADS)
    wk_coop_kernel(const __grid_constant__ cqb_wkplan P, unsigned char *scr, uint32_t rep0, uint32_t nrep,
                   uint64_t items)
{
    __shared__ long long scan[2 * WK_THREADS];
    const uint64_t tot = (uint64_t)nrep * items;
    for (uint64_t it = blockIdx.x; it < tot; it += gridDim.x)
        cqb_wk_coop(&P, KIND, scr, rep0, (uint32_t)(it / items), (uint32_t)(it % items), scan, (int)threadIdx.x,
                    (int)blockDim.x, NULL);
}

/* --------------------------------------------------------------- context -- */

typedef struct wcuda_ctx {
    int dev;
    int sms;
    unsigned char *h_pack; /* host staging of the packed plan */
    size_t h_cap;
    unsigned char *d_pack; /* the packed plan on the device */
    size_t d_pack_cap;
    unsigned char *d_scr;  /* per-replicate scratch of one chunk */
    size_t d_scr_cap;
    double *d_out;         /* values of one chunk */
    size_t d_out_cap;
} wcuda_ctx;

static cqb_status wk_cuda_err(cqb_error *err, cudaError_t e, const char *what)
{
    const cqb_status st = e == cudaErrorMemoryAllocation ? CQB_ENOMEM : CQB_EBACKEND;
    return cqb_error_set(err, st, "CUDA backend (wavelets): %s: %s (%s)", what, cudaGetErrorString(e),
                         cudaGetErrorName(e));
}

#define WK_TRY(call, what)                                        \
    do {                                                          \
        const cudaError_t e_ = (call);                            \
        if (e_ != cudaSuccess) return wk_cuda_err(err, e_, what); \
    } while (0)

static void wk_release(void **p, size_t *cap)
{
    if (*p) (void)cudaFree(*p);
    *p = NULL;
    *cap = 0;
}

static cudaError_t wk_reserve(void **p, size_t *cap, size_t need)
{
    if (*p && need <= *cap) return cudaSuccess;
    wk_release(p, cap);
    if (need == 0) return cudaSuccess;
    const cudaError_t e = cudaMalloc(p, need);
    if (e != cudaSuccess) {
        *p = NULL;
        (void)cudaGetLastError(); /* not sticky: clear it */
        return e;
    }
    *cap = need;
    return cudaSuccess;
}

static size_t wk_env_size(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s) return 0;
    char *end = NULL;
    const unsigned long long v = strtoull(s, &end, 10);
    if (!end || *end) return 0;
    return (size_t)v;
}

static unsigned wk_grid(uint64_t total, unsigned threads, int sms, unsigned per_sm)
{
    uint64_t g = (total + threads - 1) / threads;
    const uint64_t cap = (uint64_t)(sms > 0 ? sms : 1) * per_sm;
    if (g > cap) g = cap;
    if (g < 1) g = 1;
    return (unsigned)g;
}

/* Launches step st over replicates rep0 .. rep0+nrep-1 (chunk-relative
 * scratch and values). */
static cqb_status wk_launch(const wcuda_ctx *x, const cqb_wkplan &kp, const cqb_wkstep &st, uint32_t rep0,
                            uint32_t nrep, cqb_error *err)
{
    const uint64_t tot = (uint64_t)nrep * st.items;
    if (tot == 0) return CQB_OK;
    unsigned char *scr = x->d_scr;
    double *out = x->d_out;
    if (st.coop) {
        const unsigned grid = (unsigned)(tot < (uint64_t)x->sms * 16 ? tot : (uint64_t)x->sms * 16);
        switch (st.kind) {
        case CQB_WK_BOOT: wk_coop_kernel<CQB_WK_BOOT><<<grid, WK_THREADS>>>(kp, scr, rep0, nrep, st.items); break;
        case CQB_WK_JOINT: wk_coop_kernel<CQB_WK_JOINT><<<grid, WK_THREADS>>>(kp, scr, rep0, nrep, st.items); break;
        case CQB_WK_PHASE: wk_coop_kernel<CQB_WK_PHASE><<<grid, WK_THREADS>>>(kp, scr, rep0, nrep, st.items); break;
        default: return cqb_error_set(err, CQB_EINTERNAL, "CUDA backend (wavelets): unknown cooperative step %d", st.kind);
        }
    } else if (st.kind == CQB_WK_WLMC) {
        const unsigned grid = wk_grid(tot, WK_STAT_THREADS, x->sms, 64);
        wk_stat_kernel<CQB_WK_WLMC><<<grid, WK_STAT_THREADS>>>(kp, scr, rep0, nrep, st.items, out);
    } else if (st.kind == CQB_WK_WMC_SOLVE) {
        const unsigned grid = wk_grid(tot, WK_STAT_THREADS, x->sms, 64);
        wk_stat_kernel<CQB_WK_WMC_SOLVE><<<grid, WK_STAT_THREADS>>>(kp, scr, rep0, nrep, st.items, out);
    } else {
        const unsigned grid = wk_grid(tot, WK_THREADS, x->sms, 32);
        switch (st.kind) {
        case CQB_WK_CLEAR:
            wk_elem_kernel<CQB_WK_CLEAR><<<grid, WK_THREADS>>>(kp, st.arg, scr, rep0, nrep, st.items, out);
            break;
        case CQB_WK_ROTATE:
            wk_elem_kernel<CQB_WK_ROTATE><<<grid, WK_THREADS>>>(kp, st.arg, scr, rep0, nrep, st.items, out);
            break;
        case CQB_WK_SERIES:
            wk_elem_kernel<CQB_WK_SERIES><<<grid, WK_THREADS>>>(kp, st.arg, scr, rep0, nrep, st.items, out);
            break;
        case CQB_WK_MODWT:
            wk_elem_kernel<CQB_WK_MODWT><<<grid, WK_THREADS>>>(kp, st.arg, scr, rep0, nrep, st.items, out);
            break;
        case CQB_WK_MASK:
            wk_elem_kernel<CQB_WK_MASK><<<grid, WK_THREADS>>>(kp, st.arg, scr, rep0, nrep, st.items, out);
            break;
        case CQB_WK_WMC_MOM:
            wk_elem_kernel<CQB_WK_WMC_MOM><<<grid, WK_THREADS>>>(kp, st.arg, scr, rep0, nrep, st.items, out);
            break;
        default: return cqb_error_set(err, CQB_EINTERNAL, "CUDA backend (wavelets): unknown step %d", st.kind);
        }
    }
    WK_TRY(cudaGetLastError(), "launching a wavelet kernel");
    return CQB_OK;
}

/* ------------------------------------------------------------------- run -- */

static cqb_status cuda_wavelet_eval(const cqb_backend *b, const cqb_wplan *wp, uint32_t rep0, size_t nrep,
                                    double *out, cqb_error *err)
{
    wcuda_ctx *x = (wcuda_ctx *)b->wctx;
    char why[160];
    if (!x) return cqb_error_set(err, CQB_EBACKEND, "the CUDA backend was opened without its wavelet state");
    if (!cqb_wk_supported(wp, why, sizeof why)) return cqb_error_set(err, CQB_EBACKEND, "%s", why);
    if (nrep == 0) return CQB_OK;
    if ((uint64_t)rep0 + (uint64_t)nrep - 1 > UINT32_MAX)
        return cqb_error_set(err, CQB_EUSAGE, "CUDA backend: replicate numbers must stay below 2^32");
    WK_TRY(cudaSetDevice(x->dev), "cudaSetDevice");

    /* the plan: packed on the host with device pointers, uploaded whole */
    cqb_wkplan kp;
    const size_t psz = cqb_wkplan_pack(wp, NULL, 0, &kp);
    if (psz > x->h_cap) {
        unsigned char *h = (unsigned char *)realloc(x->h_pack, psz);
        if (!h) return cqb_error_set(err, CQB_ENOMEM, "CUDA backend: out of host memory for the plan (%zu bytes)", psz);
        x->h_pack = h;
        x->h_cap = psz;
    }
    {
        const cudaError_t e = wk_reserve((void **)&x->d_pack, &x->d_pack_cap, psz);
        if (e != cudaSuccess) return wk_cuda_err(err, e, "allocating the wavelet plan on the device");
    }
    cqb_wkplan_pack(wp, x->h_pack, (uintptr_t)x->d_pack, &kp);
    WK_TRY(cudaMemcpy(x->d_pack, x->h_pack, psz, cudaMemcpyHostToDevice), "uploading the wavelet plan");
    cqb_wkstep steps[CQB_WK_MAXSTEPS];
    const int nsteps = cqb_wk_steps(&kp, steps);

    /* chunk: half the free device memory (the buffers held count as free),
     * at most 1 GiB of values per chunk */
    size_t fr = 0, tot = 0;
    WK_TRY(cudaMemGetInfo(&fr, &tot), "cudaMemGetInfo");
    fr += x->d_scr_cap + x->d_out_cap;
    const size_t lim = wk_env_size("CQB_CUDA_MEM_LIMIT");
    if (lim && (lim << 20) < fr) fr = lim << 20;
    const size_t per_val = (size_t)kp.ncell * sizeof(double);
    const size_t per_rep = kp.scratch_bytes + per_val;
    size_t chunk = fr / 2 / per_rep;
    if (chunk > WK_MAX_CHUNK_BYTES / per_val) chunk = WK_MAX_CHUNK_BYTES / per_val;
    const size_t env_chunk = wk_env_size("CQB_CUDA_CHUNK");
    if (env_chunk && chunk > env_chunk) chunk = env_chunk;
    if (chunk > nrep) chunk = nrep;
    if (chunk < 1) chunk = 1;
    for (;;) {
        cudaError_t e = wk_reserve((void **)&x->d_scr, &x->d_scr_cap, chunk * kp.scratch_bytes);
        if (e == cudaSuccess) e = wk_reserve((void **)&x->d_out, &x->d_out_cap, chunk * per_val);
        if (e == cudaSuccess) break;
        if (e != cudaErrorMemoryAllocation) return wk_cuda_err(err, e, "allocating the wavelet buffers");
        wk_release((void **)&x->d_scr, &x->d_scr_cap);
        wk_release((void **)&x->d_out, &x->d_out_cap);
        if (chunk == 1)
            return cqb_error_set(err, CQB_ENOMEM,
                                 "CUDA backend: out of device memory even for one wavelet replicate (%zu bytes of "
                                 "scratch, %zu bytes of values)",
                                 kp.scratch_bytes, per_val);
        chunk = (chunk + 1) / 2;
    }

    for (size_t done = 0; done < nrep; done += chunk) {
        const uint32_t nb = (uint32_t)(nrep - done < chunk ? nrep - done : chunk);
        for (int i = 0; i < nsteps; ++i) {
            const cqb_status st = wk_launch(x, kp, steps[i], rep0 + (uint32_t)done, nb, err);
            if (st != CQB_OK) return st;
        }
        WK_TRY(cudaDeviceSynchronize(), "running the wavelet kernels");
        WK_TRY(cudaMemcpy(out + done * kp.ncell, x->d_out, (size_t)nb * per_val, cudaMemcpyDeviceToHost),
               "copying the wavelet values back");
    }
    return CQB_OK;
}

/* ------------------------------------------------------------ open/close -- */

extern "C" cqb_status cqb_cuda_wavelet_open(cqb_backend *b, cqb_error *err)
{
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return cqb_error_set(err, CQB_EBACKEND, "cudaGetDevice: %s", cudaGetErrorString(e));
    }
    int sms = 0;
    e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return cqb_error_set(err, CQB_EBACKEND, "cudaDeviceGetAttribute: %s", cudaGetErrorString(e));
    }
    /* the kernels must have an image for this device */
    cudaFuncAttributes fa;
    e = cudaFuncGetAttributes(&fa, wk_stat_kernel<CQB_WK_WLMC>);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return cqb_error_set(err, CQB_EBACKEND, "the wavelet kernels do not run on this device: %s",
                             cudaGetErrorString(e));
    }
    wcuda_ctx *x = (wcuda_ctx *)calloc(1, sizeof *x);
    if (!x) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    x->dev = dev;
    x->sms = sms;
    b->wctx = x;
    b->wavelet_eval = cuda_wavelet_eval;
    return CQB_OK;
}

extern "C" void cqb_cuda_wavelet_close(cqb_backend *b)
{
    wcuda_ctx *x = (wcuda_ctx *)b->wctx;
    if (!x) return;
    (void)cudaSetDevice(x->dev);
    wk_release((void **)&x->d_pack, &x->d_pack_cap);
    wk_release((void **)&x->d_scr, &x->d_scr_cap);
    wk_release((void **)&x->d_out, &x->d_out_cap);
    free(x->h_pack);
    free(x);
    b->wctx = NULL;
    b->wavelet_eval = NULL;
}
