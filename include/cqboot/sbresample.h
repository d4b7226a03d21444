/* cqboot/sbresample.h — the stationary-bootstrap resample of one replicate
 * (cross-quantilogram.md §4.1, engine-design.md §3.2).
 *
 * Position 0 starts a block; position t >= 1 starts one iff word t%4 of
 * Philox block t/4 of subsequence rep + 2^32*tag is below thr; a block
 * starting at t begins at row floor(w64 * N / 2^64), w64 from words 0,1 of
 * block t of subsequence rep + 2^32*(tag|1); other positions follow the
 * previous row circularly. An AVX2 path (8 Philox blocks at a time) is used
 * when the CPU has it; it returns exactly the scalar path's blocks.
 */
#ifndef CQBOOT_SBRESAMPLE_H
#define CQBOOT_SBRESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! cqb_sb_blocks() : the blocks of replicate rep over n positions: pos[k] is
 *  the position where block k starts (pos[0] = 0, ascending) and row[k] its
 *  first row. pos and row need room for n entries. Returns the number of
 *  blocks. */
size_t cqb_sb_blocks(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *pos,
                     uint32_t *row);

/*! cqb_sb_blocks_scalar() : the same, without SIMD (the reference). */
size_t cqb_sb_blocks_scalar(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *pos,
                            uint32_t *row);

/*! cqb_sb_multiplicity() : c[r] = how often row r is drawn (n entries,
 *  summing to n); pos and row are scratch of n entries each. */
void cqb_sb_multiplicity(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *c,
                         uint32_t *pos, uint32_t *row);

/*! cqb_sb_multiplicity_nz() : cqb_sb_multiplicity(), and the drawn rows:
 *  nz[i] (ascending) with c > 0 and cnz[i] = c[nz[i]], i < the returned
 *  count. nz and cnz need room for n entries; with nz NULL only c is
 *  written (returns 0). */
size_t cqb_sb_multiplicity_nz(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *c,
                              uint32_t *nz, uint32_t *cnz, uint32_t *pos, uint32_t *row);

/*! cqb_sb_multiplicity_nzc() : the same, with each drawn row and its count
 *  in one word: nzc[i] = r | (uint64_t)c[r] << 32 (one load gives a kernel
 *  both; listed in the prefix sum's pass). nzc needs room for n entries;
 *  with nzc NULL only c is written (returns 0). */
size_t cqb_sb_multiplicity_nzc(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *c,
                               uint64_t *nzc, uint32_t *pos, uint32_t *row);

/*! cqb_sb_indices() : the resampled row of every position, idx[t] (n
 *  entries); pos and row are scratch of n entries each. */
void cqb_sb_indices(uint64_t seed, uint32_t rep, uint32_t tag, uint64_t thr, size_t n, uint32_t *idx,
                    uint32_t *pos, uint32_t *row);

#ifdef __cplusplus
}
#endif
#endif
