/* device/backend_cuda.cu — the CUDA backend: device selection, the
 * bootstrap kernel launch, chunking and error handling.
 *
 * The per-replicate work is cqb_k_replicate() of device/sbkern.h, the same
 * source that the host emulator of tests/test_cuda.c runs against
 * host/sbplan.c. Here: one thread block of kThreads threads per replicate,
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
 * The per-replicate statistics are copied back to the host, which derives
 * and reduces them (host/cq_boot.c): kilobytes per replicate. A device-side
 * reduction would need a driver change (see device/README.md).
 */
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_cuda.h"
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

static cqb_status cuda_run(const cqb_backend *b, const cqb_plan *plan, uint32_t rep0, size_t nrep, double *out,
                           cqb_error *err)
{
    cuda_ctx *x = (cuda_ctx *)b->ctx;
    if (nrep == 0 || plan->nstat == 0) return CQB_OK;
    if ((uint64_t)rep0 + (uint64_t)nrep - 1 > UINT32_MAX)
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
     * at most 1 GiB of statistics per launch. */
    size_t fr = 0, tot = 0;
    CQB_CUDA_TRY(cudaMemGetInfo(&fr, &tot), "cudaMemGetInfo");
    fr += x->d_out_cap + x->d_scr_cap;
    const size_t lim = env_size("CQB_CUDA_MEM_LIMIT");
    if (lim && (lim << 20) < fr) fr = lim << 20;
    const size_t per_rep = plan->nstat * sizeof(double);
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
        cudaError_t e = dev_reserve((void **)&x->d_out, &x->d_out_cap, chunk * per_rep);
        if (e == cudaSuccess && !use_smem) e = dev_reserve((void **)&x->d_scr, &x->d_scr_cap, grid * kp.scratch_bytes);
        if (e == cudaSuccess) break;
        if (e != cudaErrorMemoryAllocation) return cuda_err(err, e, "allocating the bootstrap buffers");
        dev_release((void **)&x->d_out, &x->d_out_cap);
        dev_release((void **)&x->d_scr, &x->d_scr_cap);
        if (chunk == 1 && grid_max == 1)
            return cqb_error_set(err, CQB_ENOMEM,
                                 "CUDA backend: out of device memory even for one replicate (%zu bytes of "
                                 "statistics, %zu bytes of scratch)",
                                 per_rep, use_smem ? (size_t)0 : kp.scratch_bytes);
        chunk = (chunk + 1) / 2;
        grid_max = (grid_max + 1) / 2;
    }

    for (size_t done = 0; done < nrep; done += chunk) {
        const size_t n = nrep - done < chunk ? nrep - done : chunk;
        const unsigned grid = (unsigned)(n < grid_max ? n : grid_max);
        cqb_sb_kernel<<<grid, CQB_K_THREADS, smem>>>(kp, rep0 + (uint32_t)done, (uint32_t)n, x->d_out,
                                                     use_smem ? NULL : x->d_scr, use_smem);
        CQB_CUDA_TRY(cudaGetLastError(), "launching the bootstrap kernel");
        CQB_CUDA_TRY(cudaDeviceSynchronize(), "running the bootstrap kernel");
        CQB_CUDA_TRY(cudaMemcpy(out + done * plan->nstat, x->d_out, n * per_rep, cudaMemcpyDeviceToHost),
                     "copying the statistics back");
    }
    return CQB_OK;
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
    free(x->h_pack);
    free(x);
    b->ctx = NULL;
}
