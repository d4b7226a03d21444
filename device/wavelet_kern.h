/* device/wavelet_kern.h — the resampling replicates of the wavelet
 * multiple correlations (cqboot/wnull.h), written once for the CUDA device
 * and for a host emulator.
 *
 * A replicate is: a resample (stationary-bootstrap indices of each series or
 * of all rows jointly, a phase-randomised surrogate, or circular rotations of
 * the observed coefficients), the MODWT pyramid with brick.wall and
 * phase.shift (wavelets.md §1; as host/wavelet/wavelet.c and cqb_wlevels_prepare()),
 * the validity checks of cqb_wlevels_prepare() and cqbw_check_levels(), and
 * the statistic values: WMC (uncentred correlation per level, then the solve
 * and argmax of cqbw_mulcor()) or WLMC (local weighted moments with the
 * window kernel, then the same solve, per level and time). Everything
 * reproduces host/wavelet/wnull.c's CPU path operation for operation: the same
 * Philox streams (tags CQB_WTAG_* of cqboot/wnull.h), the same IEEE
 * operations in the same order (sums over the window in increasing lag, as
 * window_conv()/window_extend() of host/wavelet/wlmc.c; global moments in increasing
 * time, as global_moments() of host/wavelet/wmc.c), so with -fmad=false on the
 * device and -ffp-contract=off on the host the values are the same bits.
 * The only exception is the phase scheme on the device: its random phases
 * go through the device's cos() and sin() (2 ulp), where the CPU uses
 * glibc's; the FFT itself (host/wavelet/fft.c's radix-2 and Bluestein arithmetic,
 * with the host's tables) is the same.
 *
 * Work decomposition (wavelets.md §6.3): a replicate's work is a fixed
 * sequence of steps (cqb_wk_steps()); each step is either element-wise (one
 * independent element per thread: (series, time), (level, series, time),
 * (level, time), (level, pair), level) or cooperative (a thread block per
 * (replicate, series) that synchronises: the bootstrap index scan and the
 * FFT). Steps are separated by a grid-wide barrier (a kernel launch on the
 * device, a barrier of the emulating threads on the host), so within a step
 * elements never depend on each other. The emulator of
 * tests/test_wavelet_cuda.c runs the same steps on POSIX threads.
 *
 * Per-replicate scratch (global memory on the device; layout from
 * cqb_wkplan_pack()):
 *   idx   d x n u32       bootstrap rows (bootstrap and joint schemes)
 *   xb    d x n f64       the resampled raw series (not for rotation)
 *   va,vb d x tlen f64    V_j of the pyramid (ping-pong; not for rotation)
 *   coef  (J+1) x d x len the prepared coefficients (cqb_wlevels layout)
 *   mask  (J+1) x len u8  complete rows per level
 *   flag  ints            validity evidence (written with benign races)
 *   mom   (J+1) x P f64   WMC moments
 *   fa,fb d x 2n, d x 2m  phase: complex series and Bluestein scratch
 *
 * Supported here: WMC and WLMC (every window, both modes, both boundaries)
 * with the bootstrap, joint, rotation and phase schemes, d <= CQB_WK_MAXD,
 * J + 1 <= CQB_WK_MAXLEV. Not here (cqb_wk_supported() says why; host/wavelet/wnull.c
 * then runs the CPU path): WMCC and WLMCC (the lagged regressions), and
 * WLMC's uniform running-sum fast path (opts.fast, a different summation
 * order).
 *
 * This header compiles as C11 (host emulator, and the host-side packer in
 * both) and as CUDA C++. In CUDA, CQB_WKSYNC is __syncthreads(); in C the
 * includer defines struct cqb_kemu and cqb_kemu_sync() (a barrier), as for
 * device/sbkern.h.
 */
#ifndef CQBOOT_DEVICE_WAVELET_KERN_H
#define CQBOOT_DEVICE_WAVELET_KERN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cqboot/philox.h"
#include "cqboot/wavelet.h"
#include "cqboot/wmc.h"
#include "cqboot/wnull.h"

#if defined(__CUDACC__)
typedef void cqb_wkctx;
#define CQB_WKFN static __device__ __forceinline__
#define CQB_WKSYNC(ctx)  \
    do {                 \
        (void)(ctx);     \
        __syncthreads(); \
    } while (0)
/* several threads may record the same evidence: an atomic store of 1 */
#define CQB_WKFLAG(p) ((void)atomicExch((p), 1))
#define CQB_WK_UNROLL _Pragma("unroll")
#else
typedef struct cqb_kemu cqb_wkctx;
/* provided by the host emulator: a barrier of the nthr threads */
void cqb_kemu_sync(cqb_wkctx *ctx);
#define CQB_WKFN static inline
#define CQB_WKSYNC(ctx) cqb_kemu_sync(ctx)
#define CQB_WKFLAG(p) __atomic_store_n((p), 1, __ATOMIC_RELAXED)
#define CQB_WK_UNROLL
#endif

#define CQB_WK_MAXD 16                                   /* series */
#define CQB_WK_MAXP (CQB_WK_MAXD * (CQB_WK_MAXD + 1) / 2) /* pairs */
#define CQB_WK_MAXLEV 32                                 /* J + 1 */
#define CQB_WK_MAXL 20                                   /* filter length */
#define CQB_WK_MAXSTEPS (8 + CQB_WK_MAXLEV)
#define CQB_WK_ALIGN ((size_t)16)
#define CQB_WK_PI 3.14159265358979323846 /* M_PI, as host/wavelet/fft.c and host/wavelet/wnull.c */

/* The small linear algebra (QR rank rule, diag(A^-1), the multiple
 * correlation) is the library's own, shared as inline code; its outcome
 * codes are CQBW_MC_OK, CQBW_MC_NAN, CQBW_MC_RANK. */
#include "../host/wavelet/wmc_linalg.h"

/* Step kinds. */
enum {
    CQB_WK_CLEAR = 0,  /* elem: the flags */
    CQB_WK_BOOT = 1,   /* coop (replicate, series): bootstrap indices, gather */
    CQB_WK_JOINT = 2,  /* coop (replicate): joint indices, gather all series */
    CQB_WK_PHASE = 3,  /* coop (replicate, series): phase surrogate */
    CQB_WK_ROTATE = 4, /* elem (level, series, time): rotated coefficients */
    CQB_WK_SERIES = 5, /* elem (series, time): finite and non-constant evidence */
    CQB_WK_MODWT = 6,  /* elem (series, time), arg = level j: one pyramid level */
    CQB_WK_MASK = 7,   /* elem (level, time): complete rows, energy evidence */
    CQB_WK_WLMC = 8,   /* elem (level, time): the local statistic */
    CQB_WK_WMC_MOM = 9,   /* elem (level, pair): global moments */
    CQB_WK_WMC_SOLVE = 10 /* elem (level): the global statistic */
};

typedef struct cqb_wkstep {
    int kind, arg, coop;
    uint64_t items; /* elements (or cooperative items) per replicate */
} cqb_wkstep;

/* The packed plan: passed by value to the kernels; pointers point into the
 * packed buffer (one upload). */
typedef struct cqb_wkplan {
    uint64_t seed, thr;
    uint32_t n;     /* raw series length */
    uint32_t tlen;  /* transform length (n or 2n) */
    uint32_t len;   /* coefficient length (cqb_wlevels_length) */
    uint32_t d, J, L, P;
    uint32_t ncell;
    uint32_t Kv;    /* WLMC: window half-width of the weights */
    uint32_t fft_m; /* phase: FFT size (n when a power of two, else Bluestein's m) */
    int stat, null, reflect, align, ymaxr, gauss, corrected, fft_pow2;
    double min_mass;
    double ht[CQB_WK_MAXL], gt[CQB_WK_MAXL];      /* h / sqrt 2, g / sqrt 2 */
    uint32_t nj[CQB_WK_MAXLEV], nu[CQB_WK_MAXLEV]; /* brick.wall counts, phase shifts */
    const double *x;        /* d x n raw series */
    const double *coef0;    /* rotation: observed coefficients */
    const uint32_t *span;   /* rotation: valid span [a, e) of each (level, series) */
    const double *v, *vcum; /* WLMC: weights v(z) and their cumulative sums, len each */
    const double *tw, *chirp, *bfft; /* phase: host/wavelet/fft.c's tables */
    /* per-replicate scratch: byte offsets */
    size_t s_idx, s_xb, s_va, s_vb, s_coef, s_mask, s_flag, s_mom, s_fa, s_fb;
    uint32_t nflag;
    size_t scratch_bytes; /* per replicate, a multiple of 16 */
    size_t packed_bytes;
} cqb_wkplan;

/* ------------------------------------------------------------- host side -- */

static inline size_t cqb_wk_align(size_t x) { return (x + CQB_WK_ALIGN - 1) & ~(CQB_WK_ALIGN - 1); }

/*! cqb_wk_supported() : 1 when the kernels cover the plan; else 0 and a
 *  reason in why. */
static inline int cqb_wk_supported(const cqb_wplan *wp, char *why, size_t nwhy)
{
    const cqb_wtest_spec *s = wp->spec;
    const char *r = NULL;
    if (s->stat == CQB_WSTAT_WMCC || s->stat == CQB_WSTAT_WLMCC)
        r = "the lagged statistics (wmcc, wlmcc) have no device kernel";
    else if (s->stat != CQB_WSTAT_WMC && s->stat != CQB_WSTAT_WLMC)
        r = "unknown statistic";
    else if (s->d < 2 || s->d > CQB_WK_MAXD)
        r = "more series than the device kernel handles (16)";
    else if (s->J < 1 || s->J + 1 > CQB_WK_MAXLEV)
        r = "more levels than the device kernel handles (31)";
    else if (cqb_wavelet_length(s->wf) == 0 || cqb_wavelet_length(s->wf) > CQB_WK_MAXL)
        r = "invalid filter";
    else if (s->n < 4 || s->n > ((size_t)1 << 30))
        r = "series length outside 4..2^30";
    else if (s->stat == CQB_WSTAT_WLMC && s->opts.fast && s->opts.window == CQB_WINDOW_UNIFORM)
        r = "the uniform running-sum fast path (opts.fast) has no device kernel";
    else if (s->null == CQB_WNULL_ROTATION && (!wp->coef0 || !wp->span))
        r = "rotation plan without coefficients";
    if (r) {
        if (why && nwhy) snprintf(why, nwhy, "%s", r);
        return 0;
    }
    if (why && nwhy) why[0] = 0;
    return 1;
}

static inline int cqb_wk_is_pow2(size_t n) { return n && !(n & (n - 1)); }

/* host/wavelet/fft.c's fft2() (sequential; the cooperative version below performs
 * the same butterflies): the radix-2 FFT of size m with the twiddles of an
 * m_plan-point table. */
static inline void cqb_wk_fft2_host(const double *tw, size_t m_plan, double *x, size_t m, int sign)
{
    for (size_t i = 1, j = 0; i < m; ++i) {
        size_t bit = m >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = x[2 * i];
            x[2 * i] = x[2 * j];
            x[2 * j] = t;
            t = x[2 * i + 1];
            x[2 * i + 1] = x[2 * j + 1];
            x[2 * j + 1] = t;
        }
    }
    for (size_t len = 2; len <= m; len <<= 1) {
        size_t step = m_plan / len;
        for (size_t i = 0; i < m; i += len) {
            for (size_t k = 0; k < len / 2; ++k) {
                double wr = tw[2 * k * step];
                double wi = sign < 0 ? tw[2 * k * step + 1] : -tw[2 * k * step + 1];
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

/*! cqb_wkplan_pack() : lays out the plan's constant arrays in one buffer that
 *  will live at address `base` (a device address, or buf itself for the
 *  emulator), fills kp (pointers = base + offsets) and the per-replicate
 *  scratch layout. With buf == NULL only the sizes are computed. The plan
 *  must be supported (cqb_wk_supported()). Returns packed_bytes. */
static inline size_t cqb_wkplan_pack(const cqb_wplan *wp, unsigned char *buf, uintptr_t base, cqb_wkplan *kp)
{
    const cqb_wtest_spec *s = wp->spec;
    const size_t n = s->n, d = s->d, J = (size_t)s->J, L1 = J + 1, len = wp->len;
    const size_t tlen = cqb_modwt_length(n, s->boundary);
    const size_t L = cqb_wavelet_length(s->wf);
    memset(kp, 0, sizeof *kp);
    kp->seed = s->seed;
    kp->thr = wp->thr;
    kp->n = (uint32_t)n;
    kp->tlen = (uint32_t)tlen;
    kp->len = (uint32_t)len;
    kp->d = (uint32_t)d;
    kp->J = (uint32_t)J;
    kp->L = (uint32_t)L;
    kp->P = (uint32_t)(d * (d + 1) / 2);
    kp->ncell = (uint32_t)wp->ncell;
    kp->stat = (int)s->stat;
    kp->null = (int)s->null;
    kp->reflect = s->boundary == CQB_BOUNDARY_REFLECTION;
    kp->align = wp->align;
    kp->ymaxr = s->opts.ymaxr;
    kp->corrected = s->opts.mode == CQB_WMC_CORRECTED;
    kp->min_mass = s->opts.min_mass < 0.0 ? 0.5 : s->opts.min_mass; /* cqbw_opts_or_default */
    /* filters as cqb_modwt(): ht = h / sqrt 2, gt = g / sqrt 2 */
    {
        const double *g = cqb_wavelet_scaling(s->wf), *h = cqb_wavelet_wavelet(s->wf);
        const double r2 = sqrt(2.0);
        for (size_t l = 0; l < L; ++l) {
            kp->ht[l] = h[l] / r2;
            kp->gt[l] = g[l] / r2;
        }
    }
    /* brick.wall counts (cqb_modwt_brick_wall, on the transform length) and
     * phase.shift offsets (cqb_modwt_phase_shift) per level index */
    for (size_t i = 0; i < L1; ++i) {
        kp->nj[i] = (uint32_t)cqb_modwt_boundary_count(s->wf, i < J ? (int)i + 1 : (int)J, tlen);
        kp->nu[i] = wp->align ? (uint32_t)cqb_modwt_shift(s->wf, (int)J, (int)i + 1, tlen) : 0u;
    }
    /* WLMC window (local_setup() of host/wavelet/wlmc.c) */
    int pw = 0;
    if (s->stat == CQB_WSTAT_WLMC) {
        pw = s->opts.weight_power ? s->opts.weight_power : (s->opts.mode == CQB_WMC_COMPAT ? 2 : 1);
        kp->gauss = s->opts.window == CQB_WINDOW_GAUSSIAN;
        if (kp->gauss) {
            double k = ceil(6.3 * s->opts.M / sqrt((double)pw));
            kp->Kv = k >= (double)(len - 1) ? (uint32_t)(len - 1) : (uint32_t)k;
        } else {
            double k = floor(s->opts.M);
            kp->Kv = k >= (double)(len - 1) ? (uint32_t)(len - 1) : (uint32_t)k;
        }
    }
    /* phase: FFT size as cqb_fft_create() */
    size_t m = 1;
    if (s->null == CQB_WNULL_PHASE) {
        if (cqb_wk_is_pow2(n))
            m = n;
        else
            while (m < 2 * n - 1) m <<= 1;
        kp->fft_m = (uint32_t)m;
        kp->fft_pow2 = cqb_wk_is_pow2(n);
    }

    /* constant arrays */
    size_t off = 0;
    const size_t o_x = off;
    off = cqb_wk_align(off + d * n * sizeof(double));
    size_t o_c0 = 0, o_sp = 0, o_v = 0, o_vc = 0, o_tw = 0, o_ch = 0, o_bf = 0;
    if (s->null == CQB_WNULL_ROTATION) {
        o_c0 = off;
        off = cqb_wk_align(off + L1 * d * len * sizeof(double));
        o_sp = off;
        off = cqb_wk_align(off + 2 * L1 * d * sizeof(uint32_t));
    }
    if (s->stat == CQB_WSTAT_WLMC) {
        o_v = off;
        off = cqb_wk_align(off + len * sizeof(double));
        o_vc = off;
        off = cqb_wk_align(off + len * sizeof(double));
    }
    if (s->null == CQB_WNULL_PHASE) {
        o_tw = off;
        off = cqb_wk_align(off + (m > 1 ? m : 2) * sizeof(double));
        if (!kp->fft_pow2) {
            o_ch = off;
            off = cqb_wk_align(off + 2 * n * sizeof(double));
            o_bf = off;
            off = cqb_wk_align(off + 2 * m * sizeof(double));
        }
    }
    kp->packed_bytes = off;
    if (buf) {
        double *x = (double *)(buf + o_x);
        for (size_t k = 0; k < d; ++k) memcpy(x + k * n, s->x + k * s->ldx, n * sizeof(double));
        kp->x = (const double *)(base + o_x);
        if (s->null == CQB_WNULL_ROTATION) {
            memcpy(buf + o_c0, wp->coef0, L1 * d * len * sizeof(double));
            uint32_t *sp = (uint32_t *)(buf + o_sp);
            for (size_t v = 0; v < 2 * L1 * d; ++v) sp[v] = (uint32_t)wp->span[v];
            kp->coef0 = (const double *)(base + o_c0);
            kp->span = (const uint32_t *)(base + o_sp);
        }
        if (s->stat == CQB_WSTAT_WLMC) {
            double *v = (double *)(buf + o_v), *vc = (double *)(buf + o_vc);
            double sv = 0.0;
            for (size_t z = 0; z < len; ++z) {
                const double u = cqb_window_kernel(s->opts.window, s->opts.M, (double)z);
                v[z] = pw == 2 ? u * u : u;
                sv += v[z];
                vc[z] = sv;
            }
            kp->v = (const double *)(base + o_v);
            kp->vcum = (const double *)(base + o_vc);
        }
        if (s->null == CQB_WNULL_PHASE) {
            /* cqb_fft_create()'s tables, the same expressions */
            double *tw = (double *)(buf + o_tw);
            for (size_t k = 0; k < m / 2; ++k) {
                double a = -2.0 * CQB_WK_PI * (double)k / (double)m;
                tw[2 * k] = cos(a);
                tw[2 * k + 1] = sin(a);
            }
            kp->tw = (const double *)(base + o_tw);
            if (!kp->fft_pow2) {
                double *ch = (double *)(buf + o_ch), *bf = (double *)(buf + o_bf);
                for (size_t k = 0; k < n; ++k) {
                    double a = -CQB_WK_PI * (double)((k * k) % (2 * n)) / (double)n;
                    ch[2 * k] = cos(a);
                    ch[2 * k + 1] = sin(a);
                }
                memset(bf, 0, 2 * m * sizeof(double));
                for (size_t k = 0; k < n; ++k) {
                    bf[2 * k] = ch[2 * k];
                    bf[2 * k + 1] = -ch[2 * k + 1];
                    if (k) {
                        bf[2 * (m - k)] = ch[2 * k];
                        bf[2 * (m - k) + 1] = -ch[2 * k + 1];
                    }
                }
                cqb_wk_fft2_host(tw, m, bf, m, -1);
                kp->chirp = (const double *)(base + o_ch);
                kp->bfft = (const double *)(base + o_bf);
            }
        }
    }

    /* per-replicate scratch */
    const int boot = s->null == CQB_WNULL_BOOTSTRAP || s->null == CQB_WNULL_JOINT;
    const int raw = s->null != CQB_WNULL_ROTATION; /* resampled series and a pyramid */
    size_t sc = 0;
    kp->s_idx = sc;
    sc = cqb_wk_align(sc + (boot ? d * n * sizeof(uint32_t) : 0));
    kp->s_xb = sc;
    sc = cqb_wk_align(sc + (raw ? d * n * sizeof(double) : 0));
    kp->s_va = sc;
    sc = cqb_wk_align(sc + (raw ? d * tlen * sizeof(double) : 0));
    kp->s_vb = sc;
    sc = cqb_wk_align(sc + (raw ? d * tlen * sizeof(double) : 0));
    kp->s_coef = sc;
    sc = cqb_wk_align(sc + L1 * d * len * sizeof(double));
    kp->s_mask = sc;
    sc = cqb_wk_align(sc + L1 * len);
    kp->nflag = (uint32_t)(1 + d + L1 + L1 * d);
    kp->s_flag = sc;
    sc = cqb_wk_align(sc + (size_t)kp->nflag * sizeof(int));
    kp->s_mom = sc;
    sc = cqb_wk_align(sc + (s->stat == CQB_WSTAT_WMC ? L1 * kp->P * sizeof(double) : 0));
    kp->s_fa = sc;
    sc = cqb_wk_align(sc + (s->null == CQB_WNULL_PHASE ? d * 2 * n * sizeof(double) : 0));
    kp->s_fb = sc;
    sc = cqb_wk_align(sc + (s->null == CQB_WNULL_PHASE && !kp->fft_pow2 ? d * 2 * m * sizeof(double) : 0));
    kp->scratch_bytes = sc;
    return kp->packed_bytes;
}

/*! cqb_wk_steps() : the step sequence of a replicate (at most
 *  CQB_WK_MAXSTEPS entries); returns the count. */
static inline int cqb_wk_steps(const cqb_wkplan *P, cqb_wkstep *st)
{
    int ns = 0;
    const uint64_t d = P->d, n = P->n, L1 = (uint64_t)P->J + 1, len = P->len;
    st[ns++] = (cqb_wkstep){CQB_WK_CLEAR, 0, 0, P->nflag};
    if (P->null == (int)CQB_WNULL_ROTATION) {
        st[ns++] = (cqb_wkstep){CQB_WK_ROTATE, 0, 0, L1 * d * len};
    } else {
        if (P->null == (int)CQB_WNULL_BOOTSTRAP) st[ns++] = (cqb_wkstep){CQB_WK_BOOT, 0, 1, d};
        else if (P->null == (int)CQB_WNULL_JOINT) st[ns++] = (cqb_wkstep){CQB_WK_JOINT, 0, 1, 1};
        else st[ns++] = (cqb_wkstep){CQB_WK_PHASE, 0, 1, d};
        st[ns++] = (cqb_wkstep){CQB_WK_SERIES, 0, 0, d * n};
        for (uint32_t j = 1; j <= P->J; ++j) st[ns++] = (cqb_wkstep){CQB_WK_MODWT, (int)j, 0, d * (uint64_t)P->tlen};
    }
    st[ns++] = (cqb_wkstep){CQB_WK_MASK, 0, 0, L1 * len};
    if (P->stat == (int)CQB_WSTAT_WLMC) {
        st[ns++] = (cqb_wkstep){CQB_WK_WLMC, 0, 0, L1 * len};
    } else {
        st[ns++] = (cqb_wkstep){CQB_WK_WMC_MOM, 0, 0, L1 * P->P};
        st[ns++] = (cqb_wkstep){CQB_WK_WMC_SOLVE, 0, 0, L1};
    }
    return ns;
}

/* ------------------------------------------------------ small linear algebra
 * cqbw_mulcor() of the library (host/wavelet/wmc_linalg.h, the same code);
 * work: 2 d^2 + 5 d doubles; the LU pivots in registers/local memory. */
CQB_WKFN int cqb_wk_mulcor(const double *S, int d, int ymaxr, double *phi, double *work)
{
    cqbw_ix perm[CQB_WK_MAXD];
    int dep;
    return cqbw_la_mulcor(S, (cqbw_ix)d, ymaxr, phi, &dep, work, perm);
}

/* ---------------------------------------------------------- scratch views -- */

CQB_WKFN unsigned char *cqb_wk_scr(const cqb_wkplan *P, unsigned char *scr, uint32_t r)
{
    return scr + (size_t)r * P->scratch_bytes;
}
CQB_WKFN int *cqb_wk_flags(const cqb_wkplan *P, unsigned char *rs) { return (int *)(rs + P->s_flag); }
/* flag layout: [0] a non-finite resampled value; [1 + k] series k not
 * constant; [1 + d + i] level i has a complete row; [1 + d + (J+1) + i*d + k]
 * series k has energy at level i */
#define CQB_WK_F_BAD 0u
#define CQB_WK_F_DIFF(P, k) (1u + (k))
#define CQB_WK_F_ROW(P, i) (1u + (P)->d + (i))
#define CQB_WK_F_EN(P, i, k) (1u + (P)->d + ((P)->J + 1u) + (i) * (P)->d + (k))

/* The replicate is usable by the statistic: the checks of
 * cqb_wlevels_prepare() (finite, non-constant resampled series) and of
 * cqbw_check_levels() (a complete row and energy in every series at every
 * level). On the CPU a failure is an error of the statistic, and the
 * replicate counts as NaN everywhere (host/wavelet/wnull.c). */
CQB_WKFN int cqb_wk_valid(const cqb_wkplan *P, const int *f)
{
    if (f[CQB_WK_F_BAD]) return 0;
    if (P->null != (int)CQB_WNULL_ROTATION)
        for (uint32_t k = 0; k < P->d; ++k)
            if (!f[CQB_WK_F_DIFF(P, k)]) return 0;
    for (uint32_t i = 0; i <= P->J; ++i) {
        if (!f[CQB_WK_F_ROW(P, i)]) return 0;
        for (uint32_t k = 0; k < P->d; ++k)
            if (!f[CQB_WK_F_EN(P, i, k)]) return 0;
    }
    return 1;
}

/* -------------------------------------------------------------- resamples -- */

/* Exclusive block-wide max-scan of one value per thread (Hillis-Steele over
 * buf, 2 x nthr); every thread must call it. */
CQB_WKFN long long cqb_wk_scan_max_excl(cqb_wkctx *ctx, long long *buf, long long v, int tid, int nthr)
{
    long long *a = buf, *b = buf + nthr;
    a[tid] = v;
    CQB_WKSYNC(ctx);
    for (int off = 1; off < nthr; off <<= 1) {
        long long x = a[tid];
        if (tid >= off) {
            const long long y = a[tid - off];
            x = y > x ? y : x;
        }
        b[tid] = x;
        CQB_WKSYNC(ctx);
        long long *t = a;
        a = b;
        b = t;
    }
    const long long r = tid > 0 ? a[tid - 1] : -1;
    CQB_WKSYNC(ctx);
    return r;
}

/*! cqb_wk_sb_indices() : cqb_sb_indices(seed, rep, tag, thr, n, idx) with
 *  nthr cooperating threads: each takes a 4-aligned run of positions, finds
 *  its last block start, a block max-scan gives every run the last start
 *  before it, and the run is walked as on the CPU. */
CQB_WKFN void cqb_wk_sb_indices(const cqb_wkplan *P, uint32_t rep, uint32_t tag, uint32_t *idx, long long *scan,
                                int tid, int nthr, cqb_wkctx *ctx)
{
    const uint64_t N = P->n, thr = P->thr, seed = P->seed;
    const uint64_t sflag = (uint64_t)rep | ((uint64_t)tag << 32);
    const uint64_t S = ((N + (uint64_t)nthr - 1) / (uint64_t)nthr + 3u) & ~(uint64_t)3u;
    const uint64_t t0 = (uint64_t)tid * S;
    const uint64_t t1 = t0 + S < N ? t0 + S : N;
    long long last = -1;
    for (uint64_t t = t0; t < t1; t += 4) {
        uint32_t w[4];
        cqb_philox_block(seed, sflag, t >> 2, w);
        for (uint64_t k = 0; k < 4 && t + k < t1; ++k)
            if (t + k == 0 || (uint64_t)w[k] < thr) last = (long long)(t + k);
    }
    const long long carry = cqb_wk_scan_max_excl(ctx, scan, last, tid, nthr);
    uint64_t cur = 0;
    for (uint64_t t = t0; t < t1; t += 4) {
        uint32_t w[4];
        cqb_philox_block(seed, sflag, t >> 2, w);
        for (uint64_t k = 0; k < 4 && t + k < t1; ++k) {
            const uint64_t tt = t + k;
            if (tt == 0 || (uint64_t)w[k] < thr) {
                cur = cqb_sb_start_row(seed, rep, tag, tt, N);
            } else if (tt == t0) {
                const uint64_t s0 = (uint64_t)carry; /* >= 0: position 0 starts a block */
                cur = (cqb_sb_start_row(seed, rep, tag, s0, N) + (tt - s0)) % N;
            } else if (++cur == N) {
                cur = 0;
            }
            idx[tt] = (uint32_t)cur;
        }
    }
}

/* The radix-2 FFT of host/wavelet/fft.c (fft2) on m complex values with nthr
 * threads: the bit-reversal swaps (disjoint pairs), then one stage at a time
 * its m/2 independent butterflies. The same operations per value. */
CQB_WKFN uint32_t cqb_wk_bitrev(uint32_t i, uint32_t m)
{
    uint32_t r = 0;
    for (uint32_t b = m >> 1, s = 1; b; b >>= 1, s <<= 1)
        if (i & s) r |= b;
    return r;
}

CQB_WKFN void cqb_wk_fft2(const cqb_wkplan *P, double *x, uint32_t m, int sign, int tid, int nthr, cqb_wkctx *ctx)
{
    for (uint32_t i = (uint32_t)tid; i < m; i += (uint32_t)nthr) {
        const uint32_t j = cqb_wk_bitrev(i, m);
        if (i < j) {
            double t = x[2 * i];
            x[2 * i] = x[2 * j];
            x[2 * j] = t;
            t = x[2 * i + 1];
            x[2 * i + 1] = x[2 * j + 1];
            x[2 * j + 1] = t;
        }
    }
    CQB_WKSYNC(ctx);
    for (uint32_t len = 2; len <= m; len <<= 1) {
        const uint32_t half = len / 2, step = P->fft_m / len;
        for (uint32_t bf = (uint32_t)tid; bf < m / 2; bf += (uint32_t)nthr) {
            const uint32_t i = (bf / half) * len, k = bf % half;
            const double wr = P->tw[2 * (size_t)k * step];
            const double wi = sign < 0 ? P->tw[2 * (size_t)k * step + 1] : -P->tw[2 * (size_t)k * step + 1];
            double *a = x + 2 * (size_t)(i + k), *b = x + 2 * (size_t)(i + k + half);
            const double br = b[0] * wr - b[1] * wi, bi = b[0] * wi + b[1] * wr;
            b[0] = a[0] - br;
            b[1] = a[1] - bi;
            a[0] += br;
            a[1] += bi;
        }
        CQB_WKSYNC(ctx);
    }
}

/*! cqb_wk_fft() : cqb_fft_run(plan(n), x, sign, a) with nthr threads: radix-2
 *  when n is a power of two, else Bluestein with the host's chirp tables (a:
 *  2m doubles of scratch). Ends with a barrier. */
CQB_WKFN void cqb_wk_fft(const cqb_wkplan *P, double *x, int sign, double *a, int tid, int nthr, cqb_wkctx *ctx)
{
    const uint32_t n = P->n;
    if (P->fft_pow2) {
        cqb_wk_fft2(P, x, n, sign, tid, nthr, ctx);
        return;
    }
    const uint32_t m = P->fft_m;
    for (uint32_t t = (uint32_t)tid; t < m; t += (uint32_t)nthr) {
        if (t < n) {
            const double cr = P->chirp[2 * t], ci = sign < 0 ? P->chirp[2 * t + 1] : -P->chirp[2 * t + 1];
            a[2 * t] = x[2 * t] * cr - x[2 * t + 1] * ci;
            a[2 * t + 1] = x[2 * t] * ci + x[2 * t + 1] * cr;
        } else {
            a[2 * t] = 0.0;
            a[2 * t + 1] = 0.0;
        }
    }
    CQB_WKSYNC(ctx);
    cqb_wk_fft2(P, a, m, -1, tid, nthr, ctx);
    for (uint32_t k = (uint32_t)tid; k < m; k += (uint32_t)nthr) {
        const double br = P->bfft[2 * k], bi = sign < 0 ? P->bfft[2 * k + 1] : -P->bfft[2 * k + 1];
        const double re = a[2 * k] * br - a[2 * k + 1] * bi, im = a[2 * k] * bi + a[2 * k + 1] * br;
        a[2 * k] = re;
        a[2 * k + 1] = im;
    }
    CQB_WKSYNC(ctx);
    cqb_wk_fft2(P, a, m, +1, tid, nthr, ctx);
    for (uint32_t k = (uint32_t)tid; k < n; k += (uint32_t)nthr) {
        const double cr = P->chirp[2 * k], ci = sign < 0 ? P->chirp[2 * k + 1] : -P->chirp[2 * k + 1];
        const double re = a[2 * k] / (double)m, im = a[2 * k + 1] / (double)m;
        x[2 * k] = re * cr - im * ci;
        x[2 * k + 1] = re * ci + im * cr;
    }
    CQB_WKSYNC(ctx);
}

/* Phase-randomised surrogate of series k of replicate rep (phase_surrogate()
 * of host/wavelet/wnull.c) into xb. */
CQB_WKFN void cqb_wk_phase(const cqb_wkplan *P, unsigned char *rs, uint32_t rep, uint32_t k, int tid, int nthr,
                           cqb_wkctx *ctx)
{
    const uint32_t n = P->n;
    double *cplx = (double *)(rs + P->s_fa) + (size_t)k * 2 * n;
    double *a = P->fft_pow2 ? NULL : (double *)(rs + P->s_fb) + (size_t)k * 2 * P->fft_m;
    const double *x = P->x + (size_t)k * n;
    for (uint32_t t = (uint32_t)tid; t < n; t += (uint32_t)nthr) {
        cplx[2 * t] = x[t];
        cplx[2 * t + 1] = 0.0;
    }
    CQB_WKSYNC(ctx);
    cqb_wk_fft(P, cplx, -1, a, tid, nthr, ctx);
    const uint64_t sub = (uint64_t)rep | ((uint64_t)cqb_sb_tag(CQB_FAMILY_WAVELET, k, CQB_WTAG_PHASE) << 32);
    for (uint32_t f = 1 + (uint32_t)tid; 2 * f < n; f += (uint32_t)nthr) {
        const uint32_t w = cqb_curand_word(P->seed, sub, 0, f);
        const double th = 2.0 * CQB_WK_PI * (((double)w + 0.5) / 4294967296.0);
        const double c = cos(th), s = sin(th);
        const double re = cplx[2 * f] * c - cplx[2 * f + 1] * s, im = cplx[2 * f] * s + cplx[2 * f + 1] * c;
        cplx[2 * f] = re;
        cplx[2 * f + 1] = im;
        cplx[2 * (n - f)] = re;
        cplx[2 * (n - f) + 1] = -im;
    }
    CQB_WKSYNC(ctx);
    cqb_wk_fft(P, cplx, +1, a, tid, nthr, ctx);
    double *xb = (double *)(rs + P->s_xb) + (size_t)k * n;
    for (uint32_t t = (uint32_t)tid; t < n; t += (uint32_t)nthr) xb[t] = cplx[2 * t] / (double)n;
    CQB_WKSYNC(ctx);
}

/*! cqb_wk_coop() : cooperative step `kind` for item `item` of replicate r
 *  (chunk-relative; rep0 + r is the replicate number). All nthr threads call
 *  it; scan is 2 x nthr long longs (shared memory on the device). */
CQB_WKFN void cqb_wk_coop(const cqb_wkplan *P, int kind, unsigned char *scr, uint32_t rep0, uint32_t r, uint32_t item,
                          long long *scan, int tid, int nthr, cqb_wkctx *ctx)
{
    unsigned char *rs = cqb_wk_scr(P, scr, r);
    const uint32_t rep = rep0 + r, n = P->n;
    uint32_t *idx = (uint32_t *)(rs + P->s_idx);
    double *xb = (double *)(rs + P->s_xb);
    if (kind == CQB_WK_BOOT) {
        const uint32_t k = item;
        cqb_wk_sb_indices(P, rep, cqb_sb_tag(CQB_FAMILY_WAVELET, k, CQB_WTAG_BOOT), idx + (size_t)k * n, scan, tid,
                          nthr, ctx);
        CQB_WKSYNC(ctx);
        for (uint32_t t = (uint32_t)tid; t < n; t += (uint32_t)nthr)
            xb[(size_t)k * n + t] = P->x[(size_t)k * n + idx[(size_t)k * n + t]];
        CQB_WKSYNC(ctx);
    } else if (kind == CQB_WK_JOINT) {
        cqb_wk_sb_indices(P, rep, cqb_sb_tag(CQB_FAMILY_WAVELET, 0, CQB_WTAG_JOINT), idx, scan, tid, nthr, ctx);
        CQB_WKSYNC(ctx);
        const uint64_t tot = (uint64_t)P->d * n;
        for (uint64_t e = (uint64_t)tid; e < tot; e += (uint64_t)nthr) {
            const uint64_t k = e / n, t = e % n;
            xb[e] = P->x[k * n + idx[t]];
        }
        CQB_WKSYNC(ctx);
    } else if (kind == CQB_WK_PHASE) {
        cqb_wk_phase(P, rs, rep, item, tid, nthr, ctx);
    }
}

/* ------------------------------------------------------ element functions -- */

/* Rotation (host/wavelet/wnull.c): element (level i, series k, position p) of the
 * rotated coefficients; within the valid span [a, e) position p takes the
 * observed value at a + (p - a - off) mod (e - a). */
CQB_WKFN void cqb_wk_rotate(const cqb_wkplan *P, unsigned char *rs, uint32_t rep, uint64_t e)
{
    const uint64_t len = P->len;
    const uint64_t v = e / len, p = e % len;
    const uint32_t i = (uint32_t)(v / P->d), k = (uint32_t)(v % P->d);
    const uint64_t a = P->span[2 * v], b = P->span[2 * v + 1];
    const double *src = P->coef0 + v * len;
    double *dst = (double *)(rs + P->s_coef) + v * len;
    if (p < a || p >= b || b - a < 2) {
        dst[p] = src[p];
        return;
    }
    uint32_t wd[4];
    cqb_philox_block(P->seed, (uint64_t)rep | ((uint64_t)cqb_sb_tag(CQB_FAMILY_WAVELET, k, CQB_WTAG_ROTATE) << 32), i,
                     wd);
    const uint64_t m = b - a;
    const uint64_t off = cqb_mulhi_index((uint64_t)wd[0] | ((uint64_t)wd[1] << 32), m);
    dst[p] = src[a + (p - a + m - off) % m];
}

/* Evidence for cqb_wlevels_prepare()'s checks: element (series k, time t). */
CQB_WKFN void cqb_wk_series(const cqb_wkplan *P, unsigned char *rs, uint64_t e)
{
    const uint64_t n = P->n, k = e / n;
    const double *xb = (const double *)(rs + P->s_xb) + k * n;
    int *f = cqb_wk_flags(P, rs);
    const double v = xb[e % n];
    if (!isfinite(v)) CQB_WKFLAG(&f[CQB_WK_F_BAD]);
    if (v != xb[0]) CQB_WKFLAG(&f[CQB_WK_F_DIFF(P, (uint32_t)k)]);
}

/* Writes raw transform value `val` of level index i, series k, transform
 * position t to the prepared coefficients: brick.wall (NaN for t < n_j),
 * then phase.shift (y[p] = x[(p + nu) mod tlen]), then the first len
 * positions (corrected reflection keeps n). */
CQB_WKFN void cqb_wk_place(const cqb_wkplan *P, double *coef, uint32_t i, uint32_t k, uint32_t t, double val)
{
    const uint32_t tl = P->tlen, nu = P->nu[i];
    const double y = t < P->nj[i] ? NAN : val;
    const uint32_t p = t >= nu ? t - nu : t + tl - nu;
    if (p < P->len) coef[((size_t)i * P->d + k) * P->len + p] = y;
}

/* One level j of the pyramid of cqb_modwt(): element (series k, position t)
 * computes W_j[t] and V_j[t] from V_{j-1} with the same index walk and sum
 * order; V_0 is the resampled series (reflection: (x, rev(x))). */
CQB_WKFN void cqb_wk_modwt(const cqb_wkplan *P, unsigned char *rs, uint32_t j, uint64_t e)
{
    const uint32_t tl = P->tlen, n = P->n, L = P->L;
    const uint32_t k = (uint32_t)(e / tl), t = (uint32_t)(e % tl);
    const double *xb = (const double *)(rs + P->s_xb) + (size_t)k * n;
    const double *prev = (const double *)(rs + ((j - 1) & 1u ? P->s_va : P->s_vb)) + (size_t)k * tl;
    const uint32_t step = (uint32_t)(((uint64_t)1 << (j - 1)) % tl);
    uint32_t kk = t;
    double w, v;
    if (j == 1) {
        double p0 = kk < n ? xb[kk] : xb[2 * n - 1 - kk];
        w = P->ht[0] * p0;
        v = P->gt[0] * p0;
        for (uint32_t l = 1; l < L; ++l) {
            kk = (kk >= step) ? kk - step : kk + tl - step;
            const double pv = kk < n ? xb[kk] : xb[2 * n - 1 - kk];
            w += P->ht[l] * pv;
            v += P->gt[l] * pv;
        }
    } else {
        w = P->ht[0] * prev[kk];
        v = P->gt[0] * prev[kk];
        for (uint32_t l = 1; l < L; ++l) {
            kk = (kk >= step) ? kk - step : kk + tl - step;
            w += P->ht[l] * prev[kk];
            v += P->gt[l] * prev[kk];
        }
    }
    double *coef = (double *)(rs + P->s_coef);
    cqb_wk_place(P, coef, j - 1, k, t, w);
    if (j < P->J) {
        double *vout = (double *)(rs + (j & 1u ? P->s_va : P->s_vb)) + (size_t)k * tl;
        vout[t] = v;
    } else {
        cqb_wk_place(P, coef, P->J, k, t, v);
    }
}

/* Complete rows and the evidence of cqbw_check_levels(): element (level i,
 * time t). sum_t x^2 > 0 over complete rows iff some complete row has
 * x^2 > 0 (a sum of non-negative terms), so the evidence is a flag. */
CQB_WKFN void cqb_wk_mask(const cqb_wkplan *P, unsigned char *rs, uint64_t e)
{
    const uint64_t len = P->len;
    const uint32_t i = (uint32_t)(e / len), d = P->d;
    const uint64_t t = e % len;
    const double *base = (const double *)(rs + P->s_coef) + (size_t)i * d * len;
    unsigned char m = 1;
    for (uint32_t k = 0; k < d; ++k)
        if (!isfinite(base[k * len + t])) {
            m = 0;
            break;
        }
    (rs + P->s_mask)[e] = m;
    if (m) {
        int *f = cqb_wk_flags(P, rs);
        CQB_WKFLAG(&f[CQB_WK_F_ROW(P, i)]);
        for (uint32_t k = 0; k < d; ++k) {
            const double x = base[k * len + t];
            if (x * x > 0.0) CQB_WKFLAG(&f[CQB_WK_F_EN(P, i, k)]);
        }
    }
}

/* WLMC at level i, time s (level_lag0() and write_lag0() of host/wavelet/wlmc.c):
 * the window sums S_kl(s) = sum_z v(|z|) p_kl[s+z] and sum_z v(|z|) m[s+z],
 * as v(0) p[s] + sum_{z=1}^{r(s)} v(z) (p[s-z] + p[s+z]) in increasing z with
 * p = 0 outside 0..len-1 and on incomplete rows; r(s) = Kv for compact
 * windows and min(delta(s) + Kv, len-1) for the Gaussian (delta(s) the
 * distance to the nearest complete row): the same terms in the same order
 * as window_conv() followed by window_extend(). D is a compile-time
 * constant where the caller dispatches on d (registers on the device). */
CQB_WKFN double cqb_wk_wlmc_point(const cqb_wkplan *P, const double *base, const unsigned char *mask, uint32_t s,
                                  const int D)
{
    const uint32_t n = P->len;
    uint32_t rs = P->Kv;
    if (P->gauss) {
        uint32_t dl = 0;
        while (dl < n && !((dl <= s && mask[s - dl]) || (s + dl < n && mask[s + dl]))) ++dl;
        const uint64_t r = (uint64_t)dl + P->Kv;
        rs = r > (uint64_t)(n - 1) ? n - 1 : (uint32_t)r;
    }
    double acc[CQB_WK_MAXP + 1];
    double x0[CQB_WK_MAXD], x1[CQB_WK_MAXD];
    const int PP = D * (D + 1) / 2;
    {
        const int m0 = mask[s];
        const double v0 = P->v[0];
        CQB_WK_UNROLL
        for (int k = 0; k < D; ++k) x0[k] = m0 ? base[(size_t)k * n + s] : 0.0;
        int q = 0;
        CQB_WK_UNROLL
        for (int k = 0; k < D; ++k) {
            CQB_WK_UNROLL
            for (int l = k; l < D; ++l, ++q) acc[q] = v0 * (x0[k] * x0[l]);
        }
        acc[PP] = v0 * (m0 ? 1.0 : 0.0);
    }
    for (uint32_t z = 1; z <= rs; ++z) {
        const double vz = P->v[z];
        const int ml = z <= s && mask[s - z];
        const int mh = s + z < n && mask[s + z];
        CQB_WK_UNROLL
        for (int k = 0; k < D; ++k) {
            x0[k] = ml ? base[(size_t)k * n + (s - z)] : 0.0;
            x1[k] = mh ? base[(size_t)k * n + (s + z)] : 0.0;
        }
        int q = 0;
        CQB_WK_UNROLL
        for (int k = 0; k < D; ++k) {
            CQB_WK_UNROLL
            for (int l = k; l < D; ++l, ++q) acc[q] += vz * (x0[k] * x0[l] + x1[k] * x1[l]);
        }
        acc[PP] += vz * ((ml ? 1.0 : 0.0) + (mh ? 1.0 : 0.0));
    }
    double S[CQB_WK_MAXD * CQB_WK_MAXD];
    {
        int q = 0;
        for (int k = 0; k < D; ++k)
            for (int l = k; l < D; ++l, ++q) {
                S[k * D + l] = acc[q];
                S[l * D + k] = acc[q];
            }
    }
    const double vm = acc[PP];
    double work[2 * CQB_WK_MAXD * CQB_WK_MAXD + 5 * CQB_WK_MAXD];
    double phi;
    const int rc = cqb_wk_mulcor(S, D, P->ymaxr, &phi, work);
    if (P->corrected) {
        /* all_sum(vcum, v, n, s) and the mass rule (C6) */
        const double av = P->vcum[s] + P->vcum[n - 1 - s] - P->v[0];
        if (!(vm >= P->min_mass * av) || vm == 0.0) return NAN;
    }
    return rc == CQBW_MC_NAN ? NAN : phi;
}

CQB_WKFN double cqb_wk_wlmc_any(const cqb_wkplan *P, const double *base, const unsigned char *mask, uint32_t s)
{
    switch (P->d) {
    case 2: return cqb_wk_wlmc_point(P, base, mask, s, 2);
    case 3: return cqb_wk_wlmc_point(P, base, mask, s, 3);
    case 4: return cqb_wk_wlmc_point(P, base, mask, s, 4);
    case 5: return cqb_wk_wlmc_point(P, base, mask, s, 5);
    case 6: return cqb_wk_wlmc_point(P, base, mask, s, 6);
    case 7: return cqb_wk_wlmc_point(P, base, mask, s, 7);
    case 8: return cqb_wk_wlmc_point(P, base, mask, s, 8);
    default: return cqb_wk_wlmc_point(P, base, mask, s, (int)P->d);
    }
}

/* Element (level i, time s) of WLMC into out (the replicate's row). */
CQB_WKFN void cqb_wk_wlmc(const cqb_wkplan *P, unsigned char *rs, uint64_t e, double *row)
{
    if (!cqb_wk_valid(P, cqb_wk_flags(P, rs))) {
        row[e] = NAN;
        return;
    }
    const uint64_t len = P->len;
    const uint64_t i = e / len;
    const double *base = (const double *)(rs + P->s_coef) + i * P->d * len;
    const unsigned char *mask = rs + P->s_mask + i * len;
    row[e] = cqb_wk_wlmc_any(P, base, mask, (uint32_t)(e % len));
}

/* Element (level i, pair q = (k, l), k <= l in row-major order): the global
 * moment sum_{t complete} x_k[t] x_l[t] in increasing t (global_moments()). */
CQB_WKFN void cqb_wk_wmc_mom(const cqb_wkplan *P, unsigned char *rs, uint64_t e)
{
    const uint64_t len = P->len;
    const uint32_t i = (uint32_t)(e / P->P);
    uint32_t q = (uint32_t)(e % P->P), k = 0;
    while (q >= P->d - k) {
        q -= P->d - k;
        ++k;
    }
    const uint32_t l = k + q;
    const double *base = (const double *)(rs + P->s_coef) + (size_t)i * P->d * len;
    const double *xk = base + k * len, *xl = base + l * len;
    const unsigned char *mask = rs + P->s_mask + (size_t)i * len;
    double s = 0.0;
    for (uint64_t t = 0; t < len; ++t)
        if (mask[t]) s += xk[t] * xl[t];
    ((double *)(rs + P->s_mom))[e] = s;
}

/* Element (level i): WMC from the moments (cqb_wmc(): val = phi). */
CQB_WKFN void cqb_wk_wmc_solve(const cqb_wkplan *P, unsigned char *rs, uint64_t i, double *row)
{
    if (!cqb_wk_valid(P, cqb_wk_flags(P, rs))) {
        row[i] = NAN;
        return;
    }
    const int d = (int)P->d;
    const double *mom = (const double *)(rs + P->s_mom) + i * P->P;
    double S[CQB_WK_MAXD * CQB_WK_MAXD];
    int q = 0;
    for (int k = 0; k < d; ++k)
        for (int l = k; l < d; ++l, ++q) {
            S[k * d + l] = mom[q];
            S[l * d + k] = mom[q];
        }
    double work[2 * CQB_WK_MAXD * CQB_WK_MAXD + 5 * CQB_WK_MAXD];
    double phi;
    (void)cqb_wk_mulcor(S, d, P->ymaxr, &phi, work);
    row[i] = phi;
}

/*! cqb_wk_elem() : element e of element-wise step `kind` (argument arg) for
 *  replicate r of the chunk (rep0 + r is its number); out holds the chunk's
 *  statistics (r x ncell). */
CQB_WKFN void cqb_wk_elem(const cqb_wkplan *P, int kind, int arg, unsigned char *scr, uint32_t rep0, uint32_t r,
                          uint64_t e, double *out)
{
    unsigned char *rs = cqb_wk_scr(P, scr, r);
    double *row = out + (size_t)r * P->ncell;
    switch (kind) {
    case CQB_WK_CLEAR: cqb_wk_flags(P, rs)[e] = 0; break;
    case CQB_WK_ROTATE: cqb_wk_rotate(P, rs, rep0 + r, e); break;
    case CQB_WK_SERIES: cqb_wk_series(P, rs, e); break;
    case CQB_WK_MODWT: cqb_wk_modwt(P, rs, (uint32_t)arg, e); break;
    case CQB_WK_MASK: cqb_wk_mask(P, rs, e); break;
    case CQB_WK_WLMC: cqb_wk_wlmc(P, rs, e, row); break;
    case CQB_WK_WMC_MOM: cqb_wk_wmc_mom(P, rs, e); break;
    case CQB_WK_WMC_SOLVE: cqb_wk_wmc_solve(P, rs, e, row); break;
    default: break;
    }
}

#endif
