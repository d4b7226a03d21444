/* cqboot/fft.h — a small complex FFT for any length: iterative radix-2 for
 * powers of two, Bluestein's chirp-z otherwise (for phase-randomised
 * surrogates; not a performance library). Plans are read-only after
 * creation and may be shared between threads; the scratch is per call. */
#ifndef CQBOOT_FFT_H
#define CQBOOT_FFT_H

#include <stddef.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cqb_fft cqb_fft;

/*! cqb_fft_create() : a plan for length n >= 1. */
cqb_status cqb_fft_create(size_t n, cqb_fft **out, cqb_error *err);
void cqb_fft_free(cqb_fft *p);

/*! cqb_fft_scratch() : doubles of scratch one transform needs. */
size_t cqb_fft_scratch(const cqb_fft *p);

/*! cqb_fft_run() : in-place transform of n complex values (re, im
 *  interleaved): X_k = sum_t x_t exp(-+2 pi i k t / n), sign -1 forward and
 *  +1 inverse (unscaled). */
void cqb_fft_run(const cqb_fft *p, double *x, int sign, double *scratch);

#ifdef __cplusplus
}
#endif
#endif
