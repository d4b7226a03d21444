/* scale_mpi.c — the MPI layer of the scale-out (scale.h, docs/scale-out.md):
 * joining MPI, one GPU per rank, a backend call split over the ranks with
 * the values all-gathered, the distributed two-pass selection, and the
 * pairs' results gathered to rank 0. Built as the module libcqboot_mpi.so,
 * which the program loads when mpirun/srun started it (cli_scale_mpi_load);
 * it calls the program through the cli_mpi_host it is given. Compiles to
 * nothing without MPI. */
#ifdef CQB_HAVE_MPI
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mpi.h>

#include "cli.h"
#include "scale.h"

static int g_rank, g_size = 1;
static const cli_mpi_host *H; /* the program: cleanup, messages, replicates */

static void on_term_mpi(int sig)
{
    /* a peer died and mpirun is ending the job while this rank may wait in a
     * collective: remove the temporary outputs now, never leave a partial one */
    H->cleanup_now();
    _exit(128 + sig);
}

/* One GPU per rank: the local rank picks an entry of CUDA_VISIBLE_DEVICES,
 * or a device of /dev/nvidiaN when it is unset. */
static void pick_gpu(int local)
{
    const char *v = getenv("CUDA_VISIBLE_DEVICES");
    char buf[256];
    if (v && *v) {
        int n = 1;
        for (const char *p = v; *p; ++p) n += *p == ',';
        if (n < 2) return;
        int want = local % n, k = 0;
        const char *p = v;
        while (k < want) {
            p = strchr(p, ',') + 1;
            ++k;
        }
        size_t l = strcspn(p, ",");
        if (l >= sizeof buf) return;
        memcpy(buf, p, l);
        buf[l] = 0;
        setenv("CUDA_VISIBLE_DEVICES", buf, 1);
        return;
    }
    int n = 0;
    for (int d = 0; d < 64; ++d) {
        snprintf(buf, sizeof buf, "/dev/nvidia%d", d);
        if (access(buf, F_OK) == 0) ++n;
    }
    if (n < 1) return;
    snprintf(buf, sizeof buf, "%d", local % n);
    setenv("CUDA_VISIBLE_DEVICES", buf, 1);
}


static int mpi_init(int *rank, int *size, int *local)
{
    if (!H->launched()) return 1;
    int prov = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &prov) != MPI_SUCCESS) return -1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm node;
    *local = 0;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_rank(node, local);
        MPI_Comm_free(&node);
    }
    if (g_size > 1) {
        pick_gpu(*local);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term_mpi;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
    }
    *rank = g_rank;
    *size = g_size;
    return 0;
}

static void mpi_finish(int rc, int abort)
{
    if (abort) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    MPI_Finalize();
}

/* Waits for every rank without spinning: Open MPI busy-polls inside
 * blocking collectives, which takes a core from the ranks still working
 * (oversubscribed nodes, uneven pair shares). Used before the collectives
 * that may wait long. */
static void idle_barrier(void)
{
    MPI_Request rq;
    if (MPI_Ibarrier(MPI_COMM_WORLD, &rq) != MPI_SUCCESS) return;
    int done = 0;
    while (!done) {
        MPI_Test(&rq, &done, MPI_STATUS_IGNORE);
        if (!done) {
            struct timespec ts = {0, 1000000}; /* 1 ms */
            nanosleep(&ts, NULL);
        }
    }
}

/* Test hook (tests/scale_mpi.sh): the rank named by CQB_TEST_KILL_RANK dies
 * at its first backend call, as a crashed node would. */
static void maybe_die(void)
{
    const char *k = getenv("CQB_TEST_KILL_RANK");
    if (k && *k && atoi(k) == g_rank) raise(SIGKILL);
}

static cqb_status mpi_call(const cqb_backend *b, uint32_t kind, const void *plan, uint64_t nstat, uint32_t rep0,
                           size_t nrep, double *out, cqb_error *err)
{
    maybe_die();
    /* MPI counts are ints: split calls whose values would not fit */
    const size_t maxrows = (size_t)(INT_MAX / 2) / (nstat ? nstat : 1);
    if (nrep > maxrows && maxrows > 0) {
        cqb_status st = mpi_call(b, kind, plan, nstat, rep0, maxrows, out, err);
        if (st != CQB_OK) return st;
        return mpi_call(b, kind, plan, nstat, rep0 + (uint32_t)maxrows, nrep - maxrows, out + maxrows * nstat, err);
    }
    int *cnt = malloc(2 * (size_t)g_size * sizeof *cnt);
    if (!cnt) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    int *dis = cnt + g_size;
    for (int r = 0; r < g_size; ++r) {
        size_t a = nrep * (size_t)r / (size_t)g_size, z = nrep * (size_t)(r + 1) / (size_t)g_size;
        cnt[r] = (int)((z - a) * nstat);
        dis[r] = (int)(a * nstat);
    }
    const size_t mine = nrep * (size_t)g_rank / (size_t)g_size;
    const size_t nmine = nrep * (size_t)(g_rank + 1) / (size_t)g_size - mine;
    cqb_status st = H->inner_eval(b, kind, plan, (uint64_t)rep0 + mine, nmine, out + mine * nstat, err);
    /* every rank learns whether any failed before anyone waits for values */
    int bad = st != CQB_OK, anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (anybad) {
        free(cnt);
        if (st != CQB_OK) return st;
        return cqb_error_set(err, CQB_EBACKEND, "another MPI rank failed (its message is above)");
    }
    int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, out, cnt, dis, MPI_DOUBLE, MPI_COMM_WORLD);
    free(cnt);
    if (rc != MPI_SUCCESS) return cqb_error_set(err, CQB_EBACKEND, "MPI_Allgatherv failed (error %d)", rc);
    return CQB_OK;
}

/* The distributed two-pass selection (the backend's `reduce` entry, driven
 * by host/cq/cq_boot.c run_plan_reduce(); cqboot/backend.h): each rank
 * derives the values of its own replicate range only. Pass 1: exceedance
 * and finite counts and the per-statistic histograms are summed over the
 * ranks (all-reduce), the histogram range coming from rank 0's first chunk
 * (broadcast; any range gives the same exact selection). Pass 2: each rank
 * keeps the values in the target bins, and only those are all-gathered.
 * A rank keeps its pass-1 values for pass 2 when they fit in
 * CQB_MPI_CACHE_MIB (default 1024), else it computes them again. */
static struct {
    const cqb_plan *plan;
    double *v; /* nv x nmine, var-major */
    size_t nmine;
} g_cache;

static cqb_status mine_values(const cqb_backend *b, const cqb_plan *plan, const cqb_derive *d, size_t a, size_t n,
                              double *st, double *v, size_t ldv, cqb_error *err)
{
    cqb_status rc = H->inner_eval(b, CLI_PLAN_SB, plan, a, n, st, err);
    if (rc != CQB_OK) return rc;
    for (size_t r = 0; r < n; ++r)
        for (size_t g = 0; g < d->ngroup; ++g) cqb_derive_rep(d, g, st + r * plan->nstat, v + g * d->gsize * ldv + r, ldv);
    return CQB_OK;
}

static cqb_status mpi_reduce(const cqb_backend *b, const cqb_plan *plan, cqb_reduce_io *io, cqb_error *err)
{
    maybe_die();
    const cqb_derive *d = io->d;
    const size_t nv = d->nvar, B = io->B, nbin = (size_t)CQB_QSEL_BINS + 2;
    const size_t a = B * (size_t)g_rank / (size_t)g_size, nmine = B * (size_t)(g_rank + 1) / (size_t)g_size - a;
    size_t chunk = ((size_t)32 << 20) / ((plan->nstat + nv + 1) * sizeof(double));
    if (chunk < 64) chunk = 64;
    if (chunk > 8192) chunk = 8192;
    if (chunk > nmine) chunk = nmine ? nmine : 1;
    double *st = malloc(chunk * plan->nstat * sizeof *st), *v = malloc(chunk * (nv ? nv : 1) * sizeof *v);
    cqb_status rc = CQB_OK;
    if (!st || !v) rc = cqb_error_set(err, CQB_ENOMEM, "out of memory for the bootstrap reduction");
    if (io->pass == 1) {
        const char *cm = getenv("CQB_MPI_CACHE_MIB");
        const double cache_mib = cm && *cm ? atof(cm) : 1024.0;
        free(g_cache.v);
        g_cache.v = NULL;
        g_cache.plan = plan;
        g_cache.nmine = nmine;
        if ((double)nmine * (double)nv * 8.0 <= cache_mib * 1048576.0 && nmine * nv > 0)
            g_cache.v = malloc(nmine * nv * sizeof *g_cache.v);
        cqb_reduce_io_zero(io);
        int ranged = 0;
        if (g_rank != 0) ranged = -1; /* waits for rank 0's range below */
        for (size_t c0 = 0; c0 < nmine || ranged <= 0; c0 += chunk) {
            const size_t nb = c0 < nmine ? (nmine - c0 < chunk ? nmine - c0 : chunk) : 0;
            if (rc == CQB_OK && nb) rc = mine_values(b, plan, d, a + c0, nb, st, v, nb, err);
            if (ranged <= 0) {
                /* the range: rank 0's first chunk, for every rank */
                if (g_rank == 0)
                    for (size_t j = 0; j < nv; ++j) {
                        double mn = INFINITY, mx = -INFINITY;
                        for (size_t r = 0; rc == CQB_OK && r < nb; ++r) {
                            const double x = v[j * nb + r];
                            if (isfinite(x)) {
                                if (x < mn) mn = x;
                                if (x > mx) mx = x;
                            }
                        }
                        cqb_qsel_range_hd(mn, mx, &io->lo[j], &io->width[j]);
                    }
                MPI_Bcast(io->lo, (int)nv, MPI_DOUBLE, 0, MPI_COMM_WORLD);
                MPI_Bcast(io->width, (int)nv, MPI_DOUBLE, 0, MPI_COMM_WORLD);
                ranged = 1;
            }
            if (rc != CQB_OK || !nb) continue;
            for (size_t j = 0; j < nv; ++j) {
                const double *x = v + j * nb;
                const double ref = io->pv_ref[j];
                uint32_t *h = io->hist + j * nbin;
                for (size_t r = 0; r < nb; ++r) {
                    io->pv_count[j] += (io->pv_abs ? fabs(x[r]) : x[r]) >= ref;
                    if (io->et_ref) {
                        io->et_lo[j] += x[r] <= io->et_ref[j];
                        io->et_hi[j] += x[r] >= io->et_ref[j];
                    }
                    if (!isfinite(x[r])) continue;
                    ++io->valid[j];
                    h[cqb_qsel_bin_hd(io->lo[j], io->width[j], x[r])]++;
                }
                if (g_cache.v) memcpy(g_cache.v + j * nmine + c0, x, nb * sizeof *x);
            }
        }
    } else {
        /* pass 2: this rank's values in the target bins */
        size_t *lc = calloc(nv ? nv : 1, sizeof *lc), cap = 0, used = 0;
        double *mine = NULL;
        if (!lc) rc = cqb_error_set(err, CQB_ENOMEM, "out of memory for the bootstrap reduction");
        /* two sweeps: count, then copy in var-major order */
        for (int sweep = 0; sweep < 2 && rc == CQB_OK; ++sweep) {
            if (sweep == 1) {
                for (size_t j = 0; j < nv; ++j) cap += lc[j];
                mine = malloc((cap ? cap : 1) * sizeof *mine);
                if (!mine) {
                    rc = cqb_error_set(err, CQB_ENOMEM, "out of memory for the collected bootstrap values");
                    break;
                }
            }
            size_t *pos = NULL;
            if (sweep == 1) {
                pos = calloc(nv ? nv : 1, sizeof *pos);
                if (!pos) {
                    rc = cqb_error_set(err, CQB_ENOMEM, "out of memory");
                    break;
                }
                for (size_t j = 1; j < nv; ++j) pos[j] = pos[j - 1] + lc[j - 1];
            }
            for (size_t c0 = 0; c0 < nmine && rc == CQB_OK; c0 += chunk) {
                const size_t nb = nmine - c0 < chunk ? nmine - c0 : chunk;
                const double *vv;
                size_t ld;
                if (g_cache.v && g_cache.plan == plan) {
                    vv = g_cache.v + c0;
                    ld = nmine;
                } else {
                    if ((rc = mine_values(b, plan, d, a + c0, nb, st, v, nb, err)) != CQB_OK) break;
                    vv = v;
                    ld = nb;
                }
                for (size_t j = 0; j < nv; ++j) {
                    const uint32_t *tb = io->tbin + j * CQB_QSEL_MAX_TARGETS;
                    for (size_t r = 0; r < nb; ++r) {
                        const double x = vv[j * ld + r];
                        if (!isfinite(x)) continue;
                        const uint32_t bin = cqb_qsel_bin_hd(io->lo[j], io->width[j], x);
                        for (int t = 0; t < io->ntarget[j]; ++t)
                            if (tb[t] == bin) {
                                if (sweep == 0) ++lc[j];
                                else mine[pos[j]++] = x;
                                break;
                            }
                    }
                }
            }
            free(pos);
            used = cap;
        }
        /* every rank's counts, then the values (rank-major), then var-major */
        idle_barrier();
        int bad = rc != CQB_OK, anybad = 0;
        MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (!anybad) {
            unsigned long long *all = malloc((size_t)g_size * (nv ? nv : 1) * sizeof *all);
            unsigned long long *l64 = malloc((nv ? nv : 1) * sizeof *l64);
            int *cnt = malloc(2 * (size_t)g_size * sizeof *cnt);
            double *recv = NULL;
            if (!all || !l64 || !cnt) rc = cqb_error_set(err, CQB_ENOMEM, "out of memory");
            if (rc == CQB_OK) {
                for (size_t j = 0; j < nv; ++j) l64[j] = lc[j];
                MPI_Allgather(l64, (int)nv, MPI_UNSIGNED_LONG_LONG, all, (int)nv, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
                size_t tot = 0;
                for (int r = 0; r < g_size; ++r) {
                    size_t sr = 0;
                    for (size_t j = 0; j < nv; ++j) sr += (size_t)all[(size_t)r * nv + j];
                    cnt[r] = (int)sr;
                    cnt[g_size + r] = (int)tot;
                    tot += sr;
                }
                recv = malloc((tot ? tot : 1) * sizeof *recv);
                if (!recv || tot > (size_t)INT_MAX) {
                    rc = cqb_error_set(err, CQB_ENOMEM, "too many collected bootstrap values (%zu)", tot);
                    MPI_Abort(MPI_COMM_WORLD, 5);
                }
                MPI_Allgatherv(mine, (int)used, MPI_DOUBLE, recv, cnt, cnt + g_size, MPI_DOUBLE, MPI_COMM_WORLD);
                size_t off = 0;
                for (size_t j = 0; j < nv && rc == CQB_OK; ++j) {
                    size_t got = 0;
                    for (int r = 0; r < g_size; ++r) {
                        size_t before = 0;
                        for (size_t q = 0; q < j; ++q) before += (size_t)all[(size_t)r * nv + q];
                        const size_t k = (size_t)all[(size_t)r * nv + j];
                        memcpy(io->coll + off + got, recv + cnt[g_size + r] + before, k * sizeof *recv);
                        got += k;
                    }
                    if (got != io->cap[j])
                        rc = cqb_error_set(err, CQB_EINTERNAL, "MPI reduction: %zu values collected for statistic %zu, "
                                                               "%zu expected", got, j, io->cap[j]);
                    off += io->cap[j];
                }
            }
            free(all);
            free(l64);
            free(cnt);
            free(recv);
        } else if (rc == CQB_OK) {
            rc = cqb_error_set(err, CQB_EBACKEND, "another MPI rank failed (its message is above)");
        }
        free(lc);
        free(mine);
        free(g_cache.v);
        g_cache.v = NULL;
        g_cache.plan = NULL;
        free(st);
        free(v);
        return rc;
    }
    free(st);
    free(v);
    /* pass 1: sum over the ranks (a failure anywhere stops every rank) */
    idle_barrier();
    int bad = rc != CQB_OK, anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (anybad) {
        free(g_cache.v);
        g_cache.v = NULL;
        return rc != CQB_OK ? rc : cqb_error_set(err, CQB_EBACKEND, "another MPI rank failed (its message is above)");
    }
    _Static_assert(sizeof(size_t) == sizeof(unsigned long long) || sizeof(size_t) == sizeof(unsigned long),
                   "size_t counters");
    MPI_Datatype szt = sizeof(size_t) == sizeof(unsigned long) ? MPI_UNSIGNED_LONG : MPI_UNSIGNED_LONG_LONG;
    MPI_Allreduce(MPI_IN_PLACE, io->pv_count, (int)nv, szt, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, io->valid, (int)nv, szt, MPI_SUM, MPI_COMM_WORLD);
    if (io->et_ref) {
        MPI_Allreduce(MPI_IN_PLACE, io->et_lo, (int)nv, szt, MPI_SUM, MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, io->et_hi, (int)nv, szt, MPI_SUM, MPI_COMM_WORLD);
    }
    /* histograms in slices (MPI counts are ints) */
    const size_t nh = nv * nbin, step = (size_t)1 << 28;
    for (size_t o = 0; o < nh; o += step)
        MPI_Allreduce(MPI_IN_PLACE, io->hist + o, (int)(nh - o < step ? nh - o : step), MPI_UINT32_T, MPI_SUM,
                      MPI_COMM_WORLD);
    return CQB_OK;
}

static int mpi_collect(char *txt, size_t n, char **json, char **csv)
{
    size_t len = strlen(txt);
    if (len > (size_t)INT_MAX / 2) {
        free(txt);
        cqb_error e = {CQB_OK, ""};
        cqb_error_set(&e, CQB_ENOMEM, "a rank's pair results exceed 1 GiB; use more ranks or shards");
        return H->fail("cq", &e);
    }
    int l = (int)len;
    idle_barrier();
    /* every rank gets every pair (a rank > 0 inside cqboot run writes its
     * own, discarded, copy of the study's outputs) */
    int *lens = calloc((size_t)g_size * 2, sizeof *lens);
    if (!lens) MPI_Abort(MPI_COMM_WORLD, 5);
    MPI_Allgather(&l, 1, MPI_INT, lens, 1, MPI_INT, MPI_COMM_WORLD);
    char *all = NULL;
    int *dis = lens + g_size;
    {
        size_t tot = 0;
        for (int r = 0; r < g_size; ++r) {
            dis[r] = (int)tot;
            tot += (size_t)lens[r];
        }
        if (tot > (size_t)INT_MAX || !(all = malloc(tot + 1))) MPI_Abort(MPI_COMM_WORLD, 5);
    }
    MPI_Allgatherv(txt, l, MPI_CHAR, all, lens, dis, MPI_CHAR, MPI_COMM_WORLD);
    free(txt);
    int rc = 0;
    {
        for (int r = 0; r < g_size && !rc; ++r) {
            if (r == g_rank) continue;
            char *piece = malloc((size_t)lens[r] + 1);
            if (!piece) MPI_Abort(MPI_COMM_WORLD, 5);
            memcpy(piece, all + dis[r], (size_t)lens[r]);
            piece[lens[r]] = 0;
            cJSON *arr = cJSON_Parse(piece);
            free(piece);
            for (cJSON *o = arr ? arr->child : NULL; o; o = o->next) {
                const cJSON *ix = cJSON_GetObjectItemCaseSensitive(o, "index");
                size_t p = cJSON_IsNumber(ix) ? (size_t)ix->valuedouble : n;
                const char *j = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "json"));
                const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "csv"));
                if (p >= n || !j || json[p]) continue;
                json[p] = strdup(j);
                csv[p] = c ? strdup(c) : NULL;
            }
            cJSON_Delete(arr);
        }
        free(all);
        free(lens);
    }
    return rc;
}

__attribute__((visibility("default"))) const cli_mpi_ops *cli_mpi_module(unsigned abi, const cli_mpi_host *host);
const cli_mpi_ops *cli_mpi_module(unsigned abi, const cli_mpi_host *host)
{
    static const cli_mpi_ops ops = {mpi_init, mpi_finish, mpi_call, mpi_reduce, mpi_collect};
    if (abi != CLI_MPI_MODULE_ABI || !host) return NULL;
    H = host;
    return &ops;
}
#else
/* no MPI: nothing here (ISO C wants a declaration in every file) */
typedef int cli_scale_mpi_absent;
#endif
