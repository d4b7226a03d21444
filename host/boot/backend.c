/* backend.c — backend selection and the CPU backend's entry. */
#include "cqboot/backend.h"
#include "cqboot/cqreduce.h" /* cqb_derive: nvar */
#include "cqboot/qselect.h"  /* CQB_QSEL_BINS */

#include <omp.h>
#include <stdio.h>
#include <string.h>

#ifdef CQB_HAVE_CUDA
/* device/backend_cuda.cu */
cqb_status cqb_cuda_open(cqb_backend *out, cqb_error *err);
void cqb_cuda_close(cqb_backend *b);
/* device/wavelet_cuda.cu: the optional wavelet_eval entry */
cqb_status cqb_cuda_wavelet_open(cqb_backend *b, cqb_error *err);
void cqb_cuda_wavelet_close(cqb_backend *b);
/* device/null_cuda.cu: the optional null_eval entry (the calibrated test) */
cqb_status cqb_cuda_null_open(cqb_backend *b, cqb_error *err);
void cqb_cuda_null_close(cqb_backend *b);
#endif

void cqb_reduce_io_zero(cqb_reduce_io *io)
{
    const size_t nv = io->d->nvar, nbin = (size_t)CQB_QSEL_BINS + 2;
    memset(io->pv_count, 0, nv * sizeof *io->pv_count);
    memset(io->valid, 0, nv * sizeof *io->valid);
    if (io->et_ref) {
        memset(io->et_lo, 0, nv * sizeof *io->et_lo);
        memset(io->et_hi, 0, nv * sizeof *io->et_hi);
    }
    memset(io->hist, 0, nv * nbin * sizeof *io->hist);
}

int cqb_backend_parse(const char *s, cqb_backend_kind *out)
{
    if (!strcmp(s, "auto")) *out = CQB_BACKEND_AUTO;
    else if (!strcmp(s, "cpu")) *out = CQB_BACKEND_CPU;
    else if (!strcmp(s, "cuda")) *out = CQB_BACKEND_CUDA;
    else return -1;
    return 0;
}

int cqb_backend_cuda_built(void)
{
#ifdef CQB_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

static cqb_status cpu_run(const cqb_backend *b, const cqb_plan *plan, uint32_t rep0, size_t nrep,
                          double *out, cqb_error *err)
{
    return cqb_plan_run_cpu(plan, rep0, nrep, out, b->threads, err);
}

static void open_cpu(int threads, cqb_backend *out)
{
    memset(out, 0, sizeof *out);
    out->kind = CQB_BACKEND_CPU;
    out->threads = threads > 0 ? threads : omp_get_max_threads();
    snprintf(out->name, sizeof out->name, "cpu");
    snprintf(out->device, sizeof out->device, "CPU, %d OpenMP thread%s", out->threads,
             out->threads == 1 ? "" : "s");
    out->run = cpu_run;
}

cqb_status cqb_backend_open(cqb_backend_kind want, int threads, cqb_backend *out, char *notice,
                            size_t notice_size, cqb_error *err)
{
    if (notice && notice_size) notice[0] = 0;
    if (want == CQB_BACKEND_CPU) {
        open_cpu(threads, out);
        return CQB_OK;
    }
#ifdef CQB_HAVE_CUDA
    cqb_error cerr;
    cqb_status st = cqb_cuda_open(out, &cerr);
    if (st == CQB_OK) {
        /* host threads for the work around the device: derivation, counts
         * and selection of the statistics the device returns */
        out->threads = threads > 0 ? threads : omp_get_max_threads();
        /* the wavelet replicates (cqb_wtest); without it they run on the CPU */
        cqb_error werr;
        if (cqb_cuda_wavelet_open(out, &werr) != CQB_OK) {
            out->wavelet_eval = NULL;
            out->wctx = NULL;
        }
        /* the calibrated test's null replicates; without it on the CPU */
        if (cqb_cuda_null_open(out, &werr) != CQB_OK) {
            out->null_eval = NULL;
            out->nctx = NULL;
        }
        return CQB_OK;
    }
    if (want == CQB_BACKEND_CUDA)
        return cqb_error_set(err, CQB_EBACKEND, "--backend cuda: no usable CUDA device (%s)", cerr.msg);
    open_cpu(threads, out);
    if (notice && notice_size) snprintf(notice, notice_size, "no usable CUDA device (%s); using the CPU", cerr.msg);
    return CQB_OK;
#else
    if (want == CQB_BACKEND_CUDA)
        return cqb_error_set(err, CQB_EBACKEND,
                             "--backend cuda: this cqboot was built without the CUDA backend "
                             "(configure with -DCQB_CUDA=ON on a machine with nvcc)");
    open_cpu(threads, out);
    return CQB_OK;
#endif
}

cqb_status cqb_backend_open_sized(cqb_backend_kind want, int threads, double work, cqb_backend *out,
                                  char *notice, size_t notice_size, cqb_error *err)
{
    if (want == CQB_BACKEND_AUTO && work < CQB_GPU_MIN_WORK) {
        if (notice && notice_size) notice[0] = 0;
        open_cpu(threads, out);
        return CQB_OK;
    }
    return cqb_backend_open(want, threads, out, notice, notice_size, err);
}

void cqb_backend_close(cqb_backend *b)
{
#ifdef CQB_HAVE_CUDA
    if (b->kind == CQB_BACKEND_CUDA) {
        cqb_cuda_null_close(b);
        cqb_cuda_wavelet_close(b);
        cqb_cuda_close(b);
    }
#endif
    memset(b, 0, sizeof *b);
}
