/* cqboot/hd.h — the qualifier for functions compiled for both the host and a
 * CUDA device. Header-only code that both backends must evaluate the same way
 * (RNG, count epilogues) uses it, so the two cannot drift apart. */
#ifndef CQBOOT_HD_H
#define CQBOOT_HD_H
#if defined(__CUDACC__)
#define CQB_HD __host__ __device__ __forceinline__
#else
#define CQB_HD static inline
#endif
#endif
