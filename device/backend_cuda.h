/* device/backend_cuda.h — entry points of the CUDA backend (the .cu files of device/).
 *
 * Only host/boot/backend.c and the tests call these; everything else goes through
 * cqb_backend (include/cqboot/backend.h). Compiled only with CQB_HAVE_CUDA.
 *
 * Environment (read at every run; for tests and diagnosis, not for users):
 *   CQB_CUDA_CHUNK=n         at most n replicates per kernel launch
 *   CQB_CUDA_FORCE_GLOBAL=1  per-block scratch in global memory even when it
 *                            fits in shared memory
 *   CQB_CUDA_MEM_LIMIT=MiB   pretend the device has at most this much free
 *                            memory when sizing chunks (exercises the
 *                            chunking and the shrinking retries)
 */
#ifndef CQBOOT_DEVICE_BACKEND_CUDA_H
#define CQBOOT_DEVICE_BACKEND_CUDA_H

#include <stddef.h>

#include "cqboot/backend.h"
#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! cqb_cuda_open() : opens device 0 (as numbered under CUDA_VISIBLE_DEVICES)
 *  after checking that this build has a kernel image for it and that the
 *  device self-test passes. CQB_EBACKEND with the reason otherwise. */
cqb_status cqb_cuda_open(cqb_backend *out, cqb_error *err);
void cqb_cuda_close(cqb_backend *b);

/*! cqb_cuda_selftest() : runs the device self-test kernel on the current
 *  device: cuRAND's curand_init/curand4/curand on curandStatePhilox4_32_10_t
 *  against cqb_philox_block/cqb_curand_word, the device philox and block-start
 *  draws, the device quantile-index copies and the count epilogues against
 *  the host library. Returns the number of mismatches (0 = pass), or -1 on a
 *  CUDA error; msg gets a one-line summary. */
int cqb_cuda_selftest(char *msg, size_t msg_size);

#ifdef __cplusplus
}
#endif
#endif
