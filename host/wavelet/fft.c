/* fft.c — radix-2 and Bluestein FFTs (see fft.h). */
#include "cqboot/fft.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cqb_fft {
    size_t n, m;      /* length; power-of-two size used (m = n if n is one) */
    double *tw;       /* m/2 twiddles exp(-2 pi i k / m) */
    double *chirp;    /* Bluestein: n values exp(-pi i k^2 / n) */
    double *bfft;     /* Bluestein: FFT of the conjugate chirp, m values */
};

static int is_pow2(size_t n) { return n && !(n & (n - 1)); }

/* Iterative radix-2 FFT of size m (power of two), sign -1 or +1. */
static void fft2(const cqb_fft *p, double *x, size_t m, int sign)
{
    for (size_t i = 1, j = 0; i < m; ++i) {
        size_t bit = m >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = x[2 * i]; x[2 * i] = x[2 * j]; x[2 * j] = t;
            t = x[2 * i + 1]; x[2 * i + 1] = x[2 * j + 1]; x[2 * j + 1] = t;
        }
    }
    for (size_t len = 2; len <= m; len <<= 1) {
        size_t step = p->m / len;
        for (size_t i = 0; i < m; i += len) {
            for (size_t k = 0; k < len / 2; ++k) {
                /* twiddle exp(-+2 pi i k / len) = tw[k * step] or its conjugate */
                double wr = p->tw[2 * k * step];
                double wi = sign < 0 ? p->tw[2 * k * step + 1] : -p->tw[2 * k * step + 1];
                double *a = x + 2 * (i + k), *b = x + 2 * (i + k + len / 2);
                double br = b[0] * wr - b[1] * wi, bi = b[0] * wi + b[1] * wr;
                b[0] = a[0] - br;
                b[1] = a[1] - bi;
                a[0] += br;
                a[1] += bi;
            }
        }
    }
}

cqb_status cqb_fft_create(size_t n, cqb_fft **out, cqb_error *err)
{
    *out = NULL;
    if (n < 1) return cqb_error_set(err, CQB_EUSAGE, "FFT length must be >= 1");
    cqb_fft *p = calloc(1, sizeof *p);
    if (!p) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    p->n = n;
    p->m = 1;
    if (is_pow2(n)) p->m = n;
    else
        while (p->m < 2 * n - 1) p->m <<= 1;
    p->tw = malloc((p->m > 1 ? p->m : 2) * sizeof *p->tw);
    if (!p->tw) goto nomem;
    for (size_t k = 0; k < p->m / 2; ++k) {
        double a = -2.0 * M_PI * (double)k / (double)p->m;
        p->tw[2 * k] = cos(a);
        p->tw[2 * k + 1] = sin(a);
    }
    if (!is_pow2(n)) {
        p->chirp = malloc(2 * n * sizeof *p->chirp);
        p->bfft = calloc(2 * p->m, sizeof *p->bfft);
        if (!p->chirp || !p->bfft) goto nomem;
        for (size_t k = 0; k < n; ++k) {
            /* k^2 mod 2n keeps the angle small and exact */
            double a = -M_PI * (double)((k * k) % (2 * n)) / (double)n;
            p->chirp[2 * k] = cos(a);
            p->chirp[2 * k + 1] = sin(a);
        }
        for (size_t k = 0; k < n; ++k) {
            p->bfft[2 * k] = p->chirp[2 * k];
            p->bfft[2 * k + 1] = -p->chirp[2 * k + 1];
            if (k) {
                p->bfft[2 * (p->m - k)] = p->chirp[2 * k];
                p->bfft[2 * (p->m - k) + 1] = -p->chirp[2 * k + 1];
            }
        }
        fft2(p, p->bfft, p->m, -1);
    }
    *out = p;
    return CQB_OK;
nomem:
    cqb_fft_free(p);
    return cqb_error_set(err, CQB_ENOMEM, "out of memory");
}

void cqb_fft_free(cqb_fft *p)
{
    if (!p) return;
    free(p->tw);
    free(p->chirp);
    free(p->bfft);
    free(p);
}

size_t cqb_fft_scratch(const cqb_fft *p) { return is_pow2(p->n) ? 0 : 2 * p->m; }

void cqb_fft_run(const cqb_fft *p, double *x, int sign, double *scratch)
{
    const size_t n = p->n;
    if (is_pow2(n)) {
        fft2(p, x, n, sign);
        return;
    }
    /* Bluestein: X_k = c_k sum_t (x_t c_t) conj(c_{k-t}), c_k = exp(s pi i k^2/n);
     * the inverse uses the conjugate chirp (sign +1). */
    const size_t m = p->m;
    double *a = scratch;
    memset(a, 0, 2 * m * sizeof *a);
    for (size_t t = 0; t < n; ++t) {
        double cr = p->chirp[2 * t], ci = sign < 0 ? p->chirp[2 * t + 1] : -p->chirp[2 * t + 1];
        a[2 * t] = x[2 * t] * cr - x[2 * t + 1] * ci;
        a[2 * t + 1] = x[2 * t] * ci + x[2 * t + 1] * cr;
    }
    fft2(p, a, m, -1);
    for (size_t k = 0; k < m; ++k) {
        double br = p->bfft[2 * k], bi = sign < 0 ? p->bfft[2 * k + 1] : -p->bfft[2 * k + 1];
        /* the inverse's kernel is the unconjugated chirp: as the kernel is
         * symmetric, its transform is the conjugate of the forward one */
        double re = a[2 * k] * br - a[2 * k + 1] * bi, im = a[2 * k] * bi + a[2 * k + 1] * br;
        a[2 * k] = re;
        a[2 * k + 1] = im;
    }
    fft2(p, a, m, +1);
    for (size_t k = 0; k < n; ++k) {
        double cr = p->chirp[2 * k], ci = sign < 0 ? p->chirp[2 * k + 1] : -p->chirp[2 * k + 1];
        double re = a[2 * k] / (double)m, im = a[2 * k + 1] / (double)m;
        x[2 * k] = re * cr - im * ci;
        x[2 * k + 1] = re * ci + im * cr;
    }
}
