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
} cqb_backend;

/*! cqb_backend_parse() : "auto", "cpu" or "cuda"; 0 on success, -1 else. */
int cqb_backend_parse(const char *s, cqb_backend_kind *out);

/*! cqb_backend_open() : opens the requested backend. With AUTO and no usable
 *  CUDA device it opens the CPU and writes a one-line notice (else notice[0]
 *  = 0). CUDA requested but unusable: CQB_EBACKEND with the reason. */
cqb_status cqb_backend_open(cqb_backend_kind want, int threads, cqb_backend *out, char *notice,
                            size_t notice_size, cqb_error *err);
void cqb_backend_close(cqb_backend *b);

/*! cqb_backend_cuda_built() : 1 if this library was built with CUDA. */
int cqb_backend_cuda_built(void);

#ifdef __cplusplus
}
#endif
#endif
