/* cqboot/backend.h — where bootstrap plans run: the CPU (OpenMP) or a CUDA
 * device. A backend only computes per-replicate statistics of a plan
 * (sbplan.h); everything else is shared host code, so the backends cannot
 * disagree on anything but the per-replicate statistics, and those are
 * fixed by the shared RNG, integer counts and epilogues.
 */
#ifndef CQBOOT_BACKEND_H
#define CQBOOT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"
#include "cqboot/sbplan.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cqb_wplan; /* cqboot/wnull.h */
struct cqb_null_plan; /* cqboot/nullboot.h (the calibrated test) */
struct cqb_derive; /* cqboot/cqreduce.h */

/* One pass of a device-side reduction of a plan's B replicates (the optional
 * `reduce` entry below; host/cq/cq_boot.c run_plan() drives it). Values are
 * cqb_derive_rep() of the replicate statistics (nvar = d->nvar per replicate).
 *   pass 1: per value j, the exceedance counts pv_count[j] = #{(pv_abs ?
 *     |v| : v) >= pv_ref[j]}, and with et_ref, et_lo[j] = #{v <= et_ref[j]},
 *     et_hi[j] = #{v >= et_ref[j]}; valid[j] = #{finite v}; the histogram
 *     range lo[j], width[j] = cqb_qsel_range_hd() of the min and max of the
 *     finite values of the FIRST chunk of replicates (any chunk: the
 *     selection is exact whatever the range) and hist[j * (CQB_QSEL_BINS+2)
 *     + b] = #{finite v: cqb_qsel_bin_hd(lo[j], width[j], v) == b}.
 *   pass 2: with lo, width as returned by pass 1, ntarget[j] target bins
 *     tbin[j * CQB_QSEL_MAX_TARGETS + t] and cap[j] = the number of finite
 *     values in them (from the histogram): every finite value of statistic j
 *     in a target bin, in any order, to coll[off[j] .. off[j] + cap[j]),
 *     off[j] = cap[0] + .. + cap[j-1]. A count that differs from cap[j] is
 *     CQB_EINTERNAL. */
typedef struct cqb_reduce_io {
    const struct cqb_derive *d;
    size_t B;                 /* replicates 0 .. B-1 */
    int pass;                 /* 1 or 2 */
    const double *pv_ref;     /* nvar */
    int pv_abs;
    const double *et_ref;     /* nvar, or NULL: no equal-tailed counts */
    /* pass 1 out */
    size_t *pv_count, *et_lo, *et_hi, *valid; /* nvar each (et_*: when et_ref) */
    double *lo, *width;       /* nvar each (pass 2: in) */
    uint32_t *hist;           /* nvar x (CQB_QSEL_BINS + 2) */
    /* pass 2 in/out */
    const uint32_t *tbin;     /* nvar x CQB_QSEL_MAX_TARGETS */
    const int *ntarget;       /* nvar */
    const size_t *cap;        /* nvar */
    double *coll;             /* sum of cap */
} cqb_reduce_io;

typedef enum cqb_backend_kind {
    CQB_BACKEND_AUTO = 0, /* CUDA when a device is usable, else the CPU */
    CQB_BACKEND_CPU = 1,
    CQB_BACKEND_CUDA = 2
} cqb_backend_kind;

typedef struct cqb_backend {
    cqb_backend_kind kind;  /* CPU or CUDA: what actually runs */
    char name[16];          /* "cpu" or "cuda" */
    char device[128];       /* e.g. "x86_64, 2 threads" or the GPU's name */
    int threads;            /* CPU threads (0 = OpenMP default) */
    /* statistics of replicates rep0.. rep0+nrep-1 into out (nrep x nstat) */
    cqb_status (*run)(const struct cqb_backend *b, const cqb_plan *plan, uint32_t rep0, size_t nrep,
                      double *out, cqb_error *err);
    void *ctx;              /* backend-private state */
    /* Optional (NULL: cqb_wtest() runs its replicates on the CPU): the values
     * of wavelet resampling replicates rep0 .. rep0+nrep-1 of a plan
     * (cqboot/wnull.h) into out (nrep x plan->ncell), exactly as
     * cqb_wplan_eval_cpu(). Called with nrep = 0 and out = NULL it only says
     * whether it covers the plan: CQB_OK, or CQB_EBACKEND with the reason. */
    cqb_status (*wavelet_eval)(const struct cqb_backend *b, const struct cqb_wplan *plan, uint32_t rep0,
                               size_t nrep, double *out, cqb_error *err);
    void *wctx;             /* wavelet_eval's private state */
    /* Optional (NULL, the CPU: host/cq/cq_boot.c reduces the statistics that
     * `run` returns, chunk by chunk): one pass of the reduction of a plan's
     * replicates where they are computed (cqb_reduce_io above), so that
     * kilobytes to megabytes come back instead of every replicate. */
    cqb_status (*reduce)(const struct cqb_backend *b, const cqb_plan *plan, cqb_reduce_io *io, cqb_error *err);
    /* Optional (NULL: cqb_null_run_cpu() on the host): the values of
     * replicates rep0 .. rep0+nrep-1 of a plain-CQ null-imposing plan
     * (cqboot/nullboot.h; schemes CQB_NULL_SB and CQB_NULL_ROTATION) into out
     * (nrep x plan->nstat), exactly as cqb_null_run_cpu(). */
    cqb_status (*null_eval)(const struct cqb_backend *b, const struct cqb_null_plan *plan, uint32_t rep0,
                            size_t nrep, double *out, cqb_error *err);
    void *nctx;             /* null_eval's private state */
} cqb_backend;

/*! cqb_backend_parse() : "auto", "cpu" or "cuda"; 0 on success, -1 else. */
int cqb_backend_parse(const char *s, cqb_backend_kind *out);

/*! cqb_reduce_io_zero() : the start of a `reduce` pass 1: pv_count, valid,
 *  et_lo and et_hi (with et_ref) and the histograms set to zero, for the
 *  d->nvar values of io. The ranges lo, width are the backend's to set. */
void cqb_reduce_io_zero(cqb_reduce_io *io);

/*! cqb_backend_open() : opens the requested backend. With AUTO and no usable
 *  CUDA device it opens the CPU and writes a one-line notice (else notice[0]
 *  = 0). CUDA requested but unusable: CQB_EBACKEND with the reason. */
cqb_status cqb_backend_open(cqb_backend_kind want, int threads, cqb_backend *out, char *notice,
                            size_t notice_size, cqb_error *err);
void cqb_backend_close(cqb_backend *b);

/* Work (rows x replicates x cells) below which AUTO does not look for a GPU:
 * opening a CUDA context costs 0.1-0.5 s, the CPU does 1e9 row-cells in
 * about a quarter of a second on 2 cores. */
#define CQB_GPU_MIN_WORK 1e9

/*! cqb_backend_open_sized() : as cqb_backend_open(), for a job of `work`
 *  row-replicate-cells: with AUTO and work < CQB_GPU_MIN_WORK it opens the
 *  CPU at once, without probing for a device (and without a notice), so
 *  small jobs start in milliseconds. CPU and CUDA requests are unchanged. */
cqb_status cqb_backend_open_sized(cqb_backend_kind want, int threads, double work, cqb_backend *out,
                                  char *notice, size_t notice_size, cqb_error *err);

/*! cqb_backend_cuda_built() : 1 if this library was built with CUDA. */
int cqb_backend_cuda_built(void);

#ifdef __cplusplus
}
#endif
#endif
