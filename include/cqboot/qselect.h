/* cqboot/qselect.h — exact R type-7 quantiles of many bootstrap statistics
 * in bounded memory.
 *
 * Each of nvar statistics receives one value per replicate (NaN values are
 * skipped and not counted). When B * nvar doubles fit in the memory limit the
 * values are kept and selected directly (one pass). Otherwise two passes over
 * the same, reproducible replicates: pass 1 counts values in a 4096-bin
 * histogram per statistic whose range comes from the first chunk, pass 2 keeps
 * only the values in the bins that hold the wanted order statistics (as
 * value/count runs, so atoms of the discrete bootstrap distribution stay
 * small). Both modes return the same, exact order statistics: no histogram
 * resolution enters the result. A third, windowed one-pass mode for callers
 * that reduce where they compute (below) keeps only the values near the
 * wanted order statistics, with the stored mode's results.
 */
#ifndef CQBOOT_QSELECT_H
#define CQBOOT_QSELECT_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CQB_QSEL_BINS 4096
#define CQB_QSEL_MAX_PROBS 4

typedef struct cqb_qsel cqb_qsel;

/*! cqb_qsel_create() : a selector of the type-7 quantiles at probs[0..nprob)
 *  for nvar statistics over B replicates. mem_limit is the byte budget for
 *  stored values (0 = 256 MiB). */
cqb_status cqb_qsel_create(size_t nvar, size_t B, const double *probs, int nprob, size_t mem_limit,
                           cqb_qsel **out, cqb_error *err);
void cqb_qsel_free(cqb_qsel *q);

/* A selector fed by an external reduction (the CUDA backend's reduce entry,
 * cqboot/backend.h): always two passes, pass 1 imported per statistic, pass 2
 * fed with cqb_qsel_push() + cqb_qsel_advance() as usual. */
#define CQB_QSEL_MAX_TARGETS (2 * CQB_QSEL_MAX_PROBS)
cqb_status cqb_qsel_create_two_pass(size_t nvar, size_t B, const double *probs, int nprob, cqb_qsel **out,
                                    cqb_error *err);
/*! cqb_qsel_import_pass1() : the result of pass 1 for statistic var: its
 *  histogram range (cqb_qsel_range_hd() of cqboot/cqreduce.h), its
 *  CQB_QSEL_BINS + 2 bin counts (cqb_qsel_bin_hd()) and its finite values.
 *  Then cqb_qsel_end_pass(q, 1, ...) as usual. */
void cqb_qsel_import_pass1(cqb_qsel *q, size_t var, double lo, double width, const uint32_t *hist, size_t valid);
/*! cqb_qsel_targets() : after pass 1, the distinct bins (at most
 *  CQB_QSEL_MAX_TARGETS) whose values pass 2 must collect for statistic var. */
int cqb_qsel_targets(const cqb_qsel *q, size_t var, uint32_t *tbin);

/* Windowed one-pass mode, for a caller that reduces replicates where it
 * computes them (the CPU kernel): cqb_qsel_create_windowed() returns what
 * cqb_qsel_create() returns, except that when the values are stored (one
 * pass), B is large and the probabilities lie in the tails, only the first
 * cqb_qsel_pilot() replicates are stored (through cqb_qsel_slot() as
 * usual). Then cqb_qsel_window_begin() sets per statistic the value windows
 * that hold its wanted order statistics, and every later value goes through
 * cqb_qsel_window_push(): counted, and kept only inside the windows (a tenth
 * of the memory and memory traffic for bands and Q tests at B = 10,000).
 * After the last cqb_qsel_end_pass() the results are the stored
 * selection's, bit for bit, unless cqb_qsel_window_failed(): then the caller
 * must run again with cqb_qsel_create() (rare: an order statistic outside
 * its windows, a selected zero among zeros of both signs, or no memory for
 * the values past a window's room, which are kept in an overflow array).
 * The environment variable CQB_QSEL_STORE (any value) turns windows off. */
cqb_status cqb_qsel_create_windowed(size_t nvar, size_t B, const double *probs, int nprob, size_t mem_limit,
                                    cqb_qsel **out, cqb_error *err);
/*! cqb_qsel_pilot() : replicates to store before cqb_qsel_window_begin();
 *  0 when the selector is not (or no longer) waiting for a pilot. */
size_t cqb_qsel_pilot(const cqb_qsel *q);
/*! cqb_qsel_window_begin() : after exactly cqb_qsel_pilot() replicates, sets
 *  the windows on `threads` OpenMP threads (it may instead turn to storing
 *  every value, when windows would not pay; cqb_qsel_slot() then returns
 *  slots again). */
cqb_status cqb_qsel_window_begin(cqb_qsel *q, int threads, cqb_error *err);
/*! cqb_qsel_window_push() : n values of statistic var, after the pilot;
 *  safe from several threads at once, each passing its own thread index
 *  (below the `threads` of cqb_qsel_window_begin(); a thread index holds the
 *  buffer slots it has reserved, so two threads never share one). Then
 *  cqb_qsel_advance() as usual. */
void cqb_qsel_window_push(cqb_qsel *q, int thread, size_t var, const double *x, size_t n);
/*! cqb_qsel_window_failed() : after cqb_qsel_end_pass(), 1 when the results
 *  are not valid and the run must be repeated with cqb_qsel_create(). */
int cqb_qsel_window_failed(const cqb_qsel *q);

/*! cqb_qsel_npass() : 1 (values stored) or 2 (histogram, then collection). */
int cqb_qsel_npass(const cqb_qsel *q);

/*! cqb_qsel_add() : feeds nrep replicates (row-major nrep x nvar) of pass
 *  `pass` (1 or 2). Every pass must see the same replicates in the same
 *  order; the first chunk of pass 1 fixes the histogram ranges. */
cqb_status cqb_qsel_add(cqb_qsel *q, int pass, const double *vals, size_t nrep, int threads,
                        cqb_error *err);

/*! cqb_qsel_push() : adds n consecutive replicate values of statistic var,
 *  starting at the current replicate offset; safe to call concurrently for
 *  distinct statistics. Every statistic must receive the same n before
 *  cqb_qsel_advance(q, n). Returns -1 when out of memory. */
int cqb_qsel_push(cqb_qsel *q, int pass, size_t var, const double *x, size_t n);
cqb_status cqb_qsel_advance(cqb_qsel *q, size_t n, cqb_error *err);
/*! cqb_qsel_slot() : in one-pass mode, where the next values of statistic
 *  var go: writing n values there is cqb_qsel_push(q, 1, var, x, n) without
 *  the copy (then cqb_qsel_advance() as usual). NULL in two-pass mode and
 *  once windows are set (cqb_qsel_window_push() then). */
double *cqb_qsel_slot(cqb_qsel *q, size_t var);
/*! cqb_qsel_rewind() : back to replicate 0 for the next pass. */
void cqb_qsel_rewind(cqb_qsel *q);

/*! cqb_qsel_end_pass() : closes a pass; after the last one results exist. */
cqb_status cqb_qsel_end_pass(cqb_qsel *q, int pass, int threads, cqb_error *err);

/*! cqb_qsel_result() : the type-7 quantile of statistic var at probs[i]
 *  (NaN when no finite value was seen). */
double cqb_qsel_result(const cqb_qsel *q, size_t var, int i);

/*! cqb_qsel_valid() : number of finite values seen for statistic var. */
size_t cqb_qsel_valid(const cqb_qsel *q, size_t var);

/*! cqb_qsel_bytes() : memory the selector holds now (for reports). */
size_t cqb_qsel_bytes(const cqb_qsel *q);

#ifdef __cplusplus
}
#endif
#endif
