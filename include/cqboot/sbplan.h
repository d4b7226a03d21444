/* cqboot/sbplan.h — a stationary-bootstrap work plan, the unit a backend runs.
 *
 * A plan is one lag-stacked matrix of N rows (cross-quantilogram.md §4.2):
 * column c holds series var[c] shifted by shift[c], i.e. row i (0-based) is
 * value series[r0 + i - shift[c]], with r0 = the largest shift. Rows are
 * resampled jointly by the stationary bootstrap (§4.1) with the stream
 * (seed, replicate, tag); every column's quantiles are re-estimated on the
 * resample (convention B of engine-design.md §1.1).
 *
 * A replicate is fully described by the row multiplicities; each column gets
 * one threshold per level by counting over its pre-sorted order (no sort per
 * replicate), each row a level code, and each pair of columns a histogram of
 * codes whose 2-D prefix sums are the joint-hit counts. The statistics are
 * "units": a CQ (or a partial CQ with controls) over the cells of a y-level x
 * x-level grid, written to out[rep * nstat + unit.out + iy * nx + ix].
 *
 * All arrays are plain and host-resident, so a device backend can upload a
 * plan as it is.
 */
#ifndef CQBOOT_SBPLAN_H
#define CQBOOT_SBPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"
#include "cqboot/gram.h"
#include "cqboot/quantile.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CQB_PLAN_MAX_LEVELS 64

typedef struct cqb_plan_col {
    const double *v;  /* N values (points into the caller's series) */
    int var;          /* 0 = y, 1 = x, 2 + j = control j */
    size_t shift;     /* lag of this column */
    int nlev;         /* levels, ascending */
    double lev[CQB_PLAN_MAX_LEVELS];
    /* order structure, built once (positions = ranks in ascending order of
     * value, ties broken by row): */
    uint32_t *perm;   /* row at each position */
    uint32_t *rank;   /* position of each row */
    uint32_t *gfirst; /* first position of the tie group of each position */
    uint32_t *glast;  /* last position of the tie group of each position */
    double *sval;     /* value at each position */
    /* per level, fixed by N: the 1-based rank of the order statistic the
     * convention needs (type 7: lo = floor(1 + (N-1) a)) and type 7's h */
    uint32_t lrank[CQB_PLAN_MAX_LEVELS];
    double lh[CQB_PLAN_MAX_LEVELS];
} cqb_plan_col;

typedef struct cqb_plan_unit {
    int col_y, col_x;           /* column indices */
    int nz;                     /* controls */
    int col_z[CQB_MAX_VARS - 2];
    size_t out;                 /* offset of cell (0,0) in a replicate's stats */
} cqb_plan_unit;

typedef struct cqb_plan {
    size_t N;          /* rows resampled */
    uint64_t seed;
    uint32_t tag;      /* stream tag (philox.h) */
    uint64_t thr;      /* Bernoulli threshold of the block restart */
    cqb_qconv conv;
    int ncol;
    cqb_plan_col *col;
    int npair;
    int *pair_a, *pair_b; /* pair p joins columns pair_a[p] < pair_b[p] */
    int *pair_index;      /* ncol x ncol, -1 where no pair */
    int nunit;
    cqb_plan_unit *unit;
    int ny, nx;           /* grid of every unit: y column levels x x column levels */
    size_t nstat;         /* statistics per replicate = nunit * ny * nx */
} cqb_plan;

/* A column request for cqb_plan_build(). */
typedef struct cqb_plan_colspec {
    const double *series; /* T values */
    int var;
    size_t shift;
    int nlev;
    const double *lev;    /* ascending */
} cqb_plan_colspec;

/*! cqb_plan_build() : builds the order structures of ncol columns over the
 *  rows r0 .. T-1 (r0 = largest shift) and the pair table of the units.
 *  unit[i].out is filled in. Returns CQB_ENOMEM on allocation failure. */
cqb_status cqb_plan_build(cqb_plan *plan, size_t T, const cqb_plan_colspec *cols, int ncol,
                          const cqb_plan_unit *units, int nunit, int ny, int nx, cqb_qconv conv,
                          uint64_t seed, uint32_t tag, double gamma, cqb_error *err);
void cqb_plan_free(cqb_plan *plan);

/*! cqb_plan_multiplicity() : row multiplicities of replicate rep (c has N
 *  entries, sums to N). Shared by the CPU backend and the tests. */
void cqb_plan_multiplicity(const cqb_plan *plan, uint32_t rep, uint32_t *c);

/*! cqb_plan_counts_cpu() : the integer counts of replicate rep, for tests and
 *  backend cross-checks: marg[c * CQB_PLAN_MAX_LEVELS + l] = hits of column c
 *  at level l; joint[p * CQB_PLAN_MAX_LEVELS^2 + la * CQB_PLAN_MAX_LEVELS + lb]
 *  for pair p. Arrays are caller-allocated. */
cqb_status cqb_plan_counts_cpu(const cqb_plan *plan, uint32_t rep, uint32_t *marg, uint32_t *joint,
                               cqb_error *err);

/*! cqb_plan_worker_new() : the per-thread workspace of the CPU kernel for
 *  plan (NULL when out of memory); cqb_plan_worker_run() writes the nstat
 *  statistics of replicate rep to out, exactly as cqb_plan_run_cpu(). For
 *  callers that reduce each replicate while it is in cache. */
typedef struct cqb_plan_worker cqb_plan_worker;
cqb_plan_worker *cqb_plan_worker_new(const cqb_plan *plan);
void cqb_plan_worker_run(cqb_plan_worker *w, uint32_t rep, double *out);
void cqb_plan_worker_free(cqb_plan_worker *w);

/*! cqb_plan_run_cpu() : statistics of replicates rep0 .. rep0+nrep-1 into
 *  out (nrep x nstat, row-major), on `threads` OpenMP threads (0 = default).
 *  NaN marks a replicate whose partial-CQ Gram matrix is singular. */
cqb_status cqb_plan_run_cpu(const cqb_plan *plan, uint32_t rep0, size_t nrep, double *out,
                            int threads, cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
