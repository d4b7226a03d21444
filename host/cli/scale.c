/* scale.c — shards, merge replay and MPI ranks below the CLI's analyses
 * (scale.h, docs/scale-out.md). */
#include "scale.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cqboot/cqreduce.h"
#include "cqboot/hash.h"
#include "cqboot/nullboot.h"
#include "cqboot/version.h"
#include "cqboot/wnull.h"


/* ------------------------------------------------------------- state ---- */

static cli_scale_mode g_mode = CLI_SCALE_NONE;
static int g_silent;
/* shard */
static uint32_t g_shard_i, g_shard_n;
static const char *g_part_path;
static cli_out g_part;
static int g_part_open;
static char **g_argv_copy; /* the command's argv without --shard/--part */
static int g_argc_copy;
static char g_opt_hash[CQB_SHA256_HEX_SIZE], g_data_hash[CQB_SHA256_HEX_SIZE];
static uint64_t g_B;
static int g_B_set;
/* replay */
static cli_replay g_replay;
/* MPI */
static int g_rank, g_size = 1;
static int g_same_fail; /* every rank refused in cli_scale_take() */
static char g_rank_dir[4096], g_rank_out[4200]; /* run on ranks > 0: a private --out */
static int g_mpi_on;
const cli_mpi_ops *cli_mpi; /* set by cli_scale_mpi_load() under mpirun (scale_mpi.c) */
int cli_mpi_module_built;
/* the backend as opened, before the wrap (its ctx pointers stay in place) */
static cqb_backend g_inner;
/* pairs mode: the pairs are split, not the replicates; the shard's pairs */
static int g_pairs;
static cJSON *g_pairs_hd;
/* run: a shard's analyses (its part header's "run"); merge: every part's header */
static cJSON *g_run_hd;
static cJSON *const *g_run_parts;
static size_t g_run_np;
static int g_run_merge;
static int g_run_shard; /* a run shard: its analyses (pairs too) run whole */

int cli_scale_silent(void) { return g_silent; }

int cli_scale_mpi_built(void) { return cli_mpi_module_built; }

int cli_scale_launched_by_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

int cli_scale_mpi_load(char *why, size_t why_size)
{
    static const cli_mpi_host host = {cli_scale_launched_by_mpi, cli_cleanup_now, cli_fail, cli_scale_inner_eval};
    if (cli_mpi || !cli_scale_launched_by_mpi()) return 0;
    void *h = cli_module_open("CQB_MPI_MODULE", CLI_MPI_MODULE_FILE, why, why_size);
    if (!h) return -1;
    cli_mpi_module_fn get;
    *(void **)&get = dlsym(h, CLI_MPI_MODULE_SYMBOL);
    const cli_mpi_ops *ops = get ? get(CLI_MPI_MODULE_ABI, &host) : NULL;
    if (!ops) {
        snprintf(why, why_size, "%s is from another build of cqboot", CLI_MPI_MODULE_FILE);
        return -1;
    }
    cli_mpi = ops;
    return 0;
}

void cli_scale_set_replay(const cli_replay *r)
{
    g_replay = *r;
    g_mode = CLI_SCALE_REPLAY;
}

void cli_shard_range(uint64_t B, uint32_t I, uint32_t N, uint64_t *lo, uint64_t *hi)
{
    *lo = B * (uint64_t)(I - 1) / N;
    *hi = I == N ? UINT64_MAX : B * (uint64_t)I / N;
}

/* ------------------------------------------------------- plan identity -- */

/* A plan's signature: SHA-256 of everything its replicate values depend on,
 * so that the same plan built by another process (a shard, merge, a rank)
 * has the same signature, and two plans with equal signatures have equal
 * replicates. */
#define HV(c, x) cqb_sha256_update((c), &(x), sizeof(x))
#define HA(c, p, n) cqb_sha256_update((c), (p), (n) * sizeof *(p))

static void sig_sb(const cqb_plan *p, unsigned char sig[32])
{
    cqb_sha256_ctx c;
    cqb_sha256_init(&c);
    uint32_t kind = CLI_PLAN_SB;
    HV(&c, kind);
    HV(&c, p->N);
    HV(&c, p->seed);
    HV(&c, p->tag);
    HV(&c, p->thr);
    int conv = (int)p->conv;
    HV(&c, conv);
    HV(&c, p->ncol);
    for (int i = 0; i < p->ncol; ++i) {
        const cqb_plan_col *col = &p->col[i];
        HV(&c, col->var);
        HV(&c, col->shift);
        HV(&c, col->nlev);
        HA(&c, col->lev, (size_t)col->nlev);
        HA(&c, col->v, p->N);
    }
    HV(&c, p->nunit);
    for (int u = 0; u < p->nunit; ++u) {
        const cqb_plan_unit *un = &p->unit[u];
        HV(&c, un->col_y);
        HV(&c, un->col_x);
        HV(&c, un->nz);
        HA(&c, un->col_z, (size_t)un->nz);
        HV(&c, un->out);
    }
    HV(&c, p->ny);
    HV(&c, p->nx);
    HV(&c, p->nstat);
    cqb_sha256_final(&c, sig);
}

static void sig_null(const cqb_null_plan *p, unsigned char sig[32])
{
    cqb_sha256_ctx c;
    cqb_sha256_init(&c);
    uint32_t kind = CLI_PLAN_NULL;
    HV(&c, kind);
    int scheme = (int)p->scheme;
    HV(&c, scheme);
    HV(&c, p->T);
    HV(&c, p->seed);
    HV(&c, p->thr_y);
    HV(&c, p->thr_x);
    HV(&c, p->gamma_y);
    HV(&c, p->gamma_x);
    HV(&c, p->margin);
    HV(&c, p->ny);
    HV(&c, p->nx);
    HA(&c, p->ay, (size_t)p->ny);
    HA(&c, p->ax, (size_t)p->nx);
    HV(&c, p->nlag);
    HA(&c, p->lag, p->nlag);
    HA(&c, p->r0, p->nlag);
    HA(&c, p->N, p->nlag);
    HA(&c, p->rank_y, p->T);
    HA(&c, p->rank_x, p->T);
    HV(&c, p->nrep);
    HV(&c, p->nstat);
    HV(&c, p->nz);
    cqb_sha256_final(&c, sig);
}

static void sig_wav(const cqb_wplan *p, unsigned char sig[32])
{
    const cqb_wtest_spec *s = p->spec;
    cqb_sha256_ctx c;
    cqb_sha256_init(&c);
    uint32_t kind = CLI_PLAN_WAVELET;
    HV(&c, kind);
    HV(&c, s->n);
    HV(&c, s->d);
    for (size_t k = 0; k < s->d; ++k) HA(&c, s->x + k * s->ldx, s->n);
    int wf = (int)s->wf, bnd = (int)s->boundary, stat = (int)s->stat, nul = (int)s->null, mode = (int)s->opts.mode;
    int win = (int)s->opts.window;
    HV(&c, wf);
    HV(&c, s->J);
    HV(&c, bnd);
    HV(&c, stat);
    HV(&c, nul);
    HV(&c, mode);
    HV(&c, s->opts.p);
    HV(&c, s->opts.ymaxr);
    HV(&c, s->opts.nobs);
    HV(&c, s->opts.lag_max);
    HV(&c, win);
    HV(&c, s->opts.M);
    HV(&c, s->opts.weight_power);
    HV(&c, s->opts.min_mass);
    HV(&c, s->opts.fast);
    HV(&c, s->seed);
    HV(&c, p->len);
    HV(&c, p->ncell);
    HV(&c, p->lm);
    HV(&c, p->align);
    HV(&c, p->gamma);
    HV(&c, p->thr);
    cqb_sha256_final(&c, sig);
}

/* ------------------------------------------------ inner computations ---- */

/* Replicates rep0 .. rep0+n-1 of a plan on the opened backend (or the CPU,
 * where the single process would have used it). */
cqb_status cli_scale_inner_eval(const cqb_backend *b, uint32_t kind, const void *plan, uint64_t rep0, size_t n,
                                double *out, cqb_error *err)
{
    if (n == 0) return CQB_OK;
    if (kind == CLI_PLAN_SIM) {
        const cli_sim_job *job = plan;
        return job->eval(job, rep0, n, out, err);
    }
    if (kind == CLI_PLAN_SB) {
        if (g_inner.run) return g_inner.run(b, (const cqb_plan *)plan, (uint32_t)rep0, n, out, err);
        return cqb_plan_run_cpu((const cqb_plan *)plan, (uint32_t)rep0, n, out, b->threads, err);
    }
    if (kind == CLI_PLAN_NULL) {
        if (g_inner.null_eval) return g_inner.null_eval(b, (const cqb_null_plan *)plan, (uint32_t)rep0, n, out, err);
        return cqb_null_run_cpu((const cqb_null_plan *)plan, (uint32_t)rep0, n, out, b->threads, err);
    }
    const cqb_wplan *wp = (const cqb_wplan *)plan;
    if (g_inner.wavelet_eval) {
        cqb_error qe = {CQB_OK, ""};
        if (g_inner.wavelet_eval(b, wp, 0, 0, NULL, &qe) == CQB_OK)
            return g_inner.wavelet_eval(b, wp, (uint32_t)rep0, n, out, err);
    }
    return cqb_wplan_eval_cpu(wp, (uint32_t)rep0, n, out, wp->spec->threads, err);
}

/* ----------------------------------------------------------- shards ---- */

/* The part file is written as the shard computes (docs/scale-out.md, "Part
 * files"): magic and format, then one record per run of new replicates
 * ("R", plan kind, plan signature, statistics per replicate, first
 * replicate, count, the values as little-endian IEEE doubles), an end tag,
 * the JSON header, its length, and a SHA-256 of every byte before it. The
 * shard holds only which of its replicates are written (a byte each). */
typedef struct hw {
    FILE *f;
    cqb_sha256_ctx c;
    int bad;
} hw;
static hw g_hw;

static void hw_put(hw *h, const void *p, size_t n)
{
    cqb_sha256_update(&h->c, p, n);
    if (n && fwrite(p, 1, n, h->f) != n) h->bad = 1;
}

static void put_u32(hw *h, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; ++i) b[i] = (unsigned char)(v >> (8 * i));
    hw_put(h, b, 4);
}

static void put_u64(hw *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = (unsigned char)(v >> (8 * i));
    hw_put(h, b, 8);
}

static void put_doubles(hw *h, const double *v, size_t n)
{
    unsigned char blk[8 * 1024];
    size_t k = 0;
    for (size_t j = 0; j < n; ++j) {
        uint64_t bits;
        memcpy(&bits, &v[j], 8);
        for (int q = 0; q < 8; ++q) blk[k++] = (unsigned char)(bits >> (8 * q));
        if (k == sizeof blk) {
            hw_put(h, blk, k);
            k = 0;
        }
    }
    if (k) hw_put(h, blk, k);
}

typedef struct rec {
    unsigned char sig[32];
    uint32_t kind;
    uint64_t nstat;
    uint64_t lo, hi;  /* this shard's range for the plan */
    uint64_t end;     /* one past the largest replicate asked for */
    unsigned char *have; /* rows lo .. lo + cap written */
    size_t cap;
} rec;
static rec *g_rec;
static size_t g_nrec, g_caprec;

static rec *rec_find(const unsigned char sig[32], uint32_t kind, uint64_t nstat)
{
    for (size_t i = 0; i < g_nrec; ++i)
        if (!memcmp(g_rec[i].sig, sig, 32)) return &g_rec[i];
    if (g_nrec == g_caprec) {
        size_t nc = g_caprec ? 2 * g_caprec : 16;
        rec *r = realloc(g_rec, nc * sizeof *r);
        if (!r) return NULL;
        g_rec = r;
        g_caprec = nc;
    }
    rec *r = &g_rec[g_nrec++];
    memset(r, 0, sizeof *r);
    memcpy(r->sig, sig, 32);
    r->kind = kind;
    r->nstat = nstat;
    cli_shard_range(g_B, g_shard_i, g_shard_n, &r->lo, &r->hi);
    return r;
}

static cqb_status shard_call(const cqb_backend *b, uint32_t kind, const void *plan, const unsigned char sig[32],
                             uint64_t nstat, uint32_t rep0, size_t nrep, double *out, cqb_error *err)
{
    rec *r = rec_find(sig, kind, nstat);
    if (!r) return cqb_error_set(err, CQB_ENOMEM, "out of memory for the shard's replicates");
    /* replicates of other shards are zeros here: this process's own results
     * are never shown, only the part file is */
    memset(out, 0, nrep * nstat * sizeof *out);
    const uint64_t a = rep0 > r->lo ? rep0 : r->lo;
    const uint64_t e = (uint64_t)rep0 + nrep;
    const uint64_t z = e < r->hi ? e : r->hi;
    if (e > r->end) r->end = e;
    if (a >= z) return CQB_OK;
    double *dst = out + (a - rep0) * nstat;
    cqb_status st = cli_scale_inner_eval(b, kind, plan, a, (size_t)(z - a), dst, err);
    if (st != CQB_OK) return st;
    const size_t need = (size_t)(z - r->lo);
    if (need > r->cap) {
        size_t nc = r->cap ? r->cap : 1024;
        while (nc < need) nc *= 2;
        unsigned char *nh = realloc(r->have, nc);
        if (!nh) return cqb_error_set(err, CQB_ENOMEM, "out of memory for the shard's replicates");
        memset(nh + r->cap, 0, nc - r->cap);
        r->have = nh;
        r->cap = nc;
    }
    /* the runs of replicates not yet written (a plan may be run twice) */
    for (uint64_t k = a; k < z;) {
        if (r->have[k - r->lo]) {
            ++k;
            continue;
        }
        uint64_t j = k;
        while (j < z && !r->have[j - r->lo]) ++j;
        put_u32(&g_hw, 'R');
        put_u32(&g_hw, kind);
        hw_put(&g_hw, sig, 32);
        put_u64(&g_hw, nstat);
        put_u64(&g_hw, k);
        put_u64(&g_hw, j - k);
        put_doubles(&g_hw, dst + (k - a) * nstat, (size_t)((j - k) * nstat));
        memset(r->have + (k - r->lo), 1, (size_t)(j - k));
        k = j;
    }
    if (g_hw.bad) return cqb_error_set(err, CQB_EIO, "%s: write error: %s", g_part_path, strerror(errno));
    return CQB_OK;
}

static cqb_status write_part(cqb_error *err)
{
    for (size_t i = 0; i < g_nrec; ++i) {
        const rec *r = &g_rec[i];
        const uint64_t top = r->end < r->hi ? r->end : r->hi;
        for (uint64_t k = r->lo; k < top; ++k)
            if (!r->have[k - r->lo])
                return cqb_error_set(err, CQB_EINTERNAL, "shard: replicate %llu of a plan was never computed",
                                     (unsigned long long)k);
    }
    cJSON *hd = cJSON_CreateObject();
    cJSON_AddNumberToObject(hd, "format", CLI_PART_VERSION);
    cJSON_AddStringToObject(hd, "version", CQB_VERSION);
    cJSON_AddStringToObject(hd, "command", g_argv_copy[0]);
    cJSON *av = cJSON_AddArrayToObject(hd, "argv");
    for (int i = 0; i < g_argc_copy; ++i) cJSON_AddItemToArray(av, cJSON_CreateString(g_argv_copy[i]));
    cJSON_AddStringToObject(hd, "options_sha256", g_opt_hash);
    cJSON_AddStringToObject(hd, "data_sha256", g_data_hash);
    cJSON_AddNumberToObject(hd, "shard", g_shard_i);
    cJSON_AddNumberToObject(hd, "shards", g_shard_n);
    char bbuf[32];
    snprintf(bbuf, sizeof bbuf, "%llu", (unsigned long long)g_B);
    cJSON_AddRawToObject(hd, "B", bbuf);
    cJSON_AddNumberToObject(hd, "plans", (double)g_nrec);
    if (g_pairs_hd) {
        cJSON_AddItemToObject(hd, "pairs", g_pairs_hd);
        g_pairs_hd = NULL;
    }
    if (g_run_hd) {
        cJSON_AddItemToObject(hd, "run", g_run_hd);
        g_run_hd = NULL;
    }
    char *txt = cJSON_PrintUnformatted(hd);
    cJSON_Delete(hd);
    if (!txt) return cqb_error_set(err, CQB_ENOMEM, "out of memory writing the part file");
    const uint32_t hlen = (uint32_t)strlen(txt);
    put_u32(&g_hw, 0); /* end of the records */
    hw_put(&g_hw, txt, hlen);
    free(txt);
    put_u32(&g_hw, hlen);
    unsigned char dg[32];
    cqb_sha256_final(&g_hw.c, dg);
    if (fwrite(dg, 1, 32, g_hw.f) != 32) g_hw.bad = 1;
    if (g_hw.bad) return cqb_error_set(err, CQB_EIO, "%s: write error", g_part_path);
    return CQB_OK;
}

/* A shard's reduction: its own results are discarded, so instead of
 * reducing B values per statistic (mostly zeros) it only computes and
 * records its replicate range of the plan, and reports no values (the
 * backend's `reduce` entry, cqboot/backend.h). */
static cqb_status shard_reduce(const cqb_backend *b, const cqb_plan *plan, cqb_reduce_io *io, cqb_error *err)
{
    const size_t nv = io->d->nvar;
    if (io->pass == 2) return CQB_OK; /* no target values: cap[] is all zero */
    cqb_reduce_io_zero(io);
    for (size_t j = 0; j < nv; ++j) cqb_qsel_range_hd(INFINITY, -INFINITY, &io->lo[j], &io->width[j]);
    unsigned char sig[32];
    sig_sb(plan, sig);
    rec *r = rec_find(sig, CLI_PLAN_SB, plan->nstat);
    if (!r) return cqb_error_set(err, CQB_ENOMEM, "out of memory for the shard's replicates");
    const uint64_t lo = r->lo, hi = r->hi < io->B ? r->hi : io->B;
    if (lo >= hi) {
        if (io->B > r->end) r->end = io->B;
        return CQB_OK;
    }
    size_t chunk = ((size_t)32 << 20) / (plan->nstat * sizeof(double) + 1);
    if (chunk < 64) chunk = 64;
    if (chunk > 8192) chunk = 8192;
    double *st = malloc(chunk * plan->nstat * sizeof *st);
    if (!st) return cqb_error_set(err, CQB_ENOMEM, "out of memory for a bootstrap chunk");
    cqb_status rc = CQB_OK;
    for (uint64_t c0 = lo; c0 < hi && rc == CQB_OK; c0 += chunk) {
        const size_t nb = hi - c0 < chunk ? (size_t)(hi - c0) : chunk;
        if (cli_interrupted) rc = cqb_error_set(err, CQB_EUSAGE, "interrupted");
        else rc = shard_call(b, CLI_PLAN_SB, plan, sig, plan->nstat, (uint32_t)c0, nb, st, err);
    }
    if (io->B > r->end) r->end = io->B;
    free(st);
    return rc;
}

/* --------------------------------------------------------- simulate ---- */

/* Records of cqboot simulate: the "replicates" are the replications (index
 * i = replication id - --rep0), each a record of cqb_sim_record_len()
 * doubles. A shard writes them in runs of up to 8 MiB as part records of
 * kind CLI_PLAN_SIM; the options hash in the part header already binds them
 * to the study, so the signature only names the kind and record length. */
typedef struct sim_ctx {
    unsigned char sig[32];
    size_t len;
    uint64_t rep0;          /* replication id of index 0 (of buf[0] for MPI ranges) */
    double *buf;            /* shard: records not yet written; MPI: the records */
    uint64_t first, n, cap; /* shard: index of buf's first record, records held, capacity */
} sim_ctx;

static void sim_sig(size_t len, unsigned char sig[32])
{
    cqb_sha256_ctx c;
    cqb_sha256_init(&c);
    uint32_t kind = CLI_PLAN_SIM;
    uint64_t l = len;
    HV(&c, kind);
    HV(&c, l);
    cqb_sha256_final(&c, sig);
}

static cqb_status sim_flush(sim_ctx *c, cqb_error *err)
{
    if (!c->n) return CQB_OK;
    put_u32(&g_hw, 'R');
    put_u32(&g_hw, CLI_PLAN_SIM);
    hw_put(&g_hw, c->sig, 32);
    put_u64(&g_hw, c->len);
    put_u64(&g_hw, c->first);
    put_u64(&g_hw, c->n);
    put_doubles(&g_hw, c->buf, (size_t)(c->n * c->len));
    c->first += c->n;
    c->n = 0;
    if (g_hw.bad) return cqb_error_set(err, CQB_EIO, "%s: write error: %s", g_part_path, strerror(errno));
    return CQB_OK;
}

/* shard: records arrive in replication order (cqb_sim_opts.record) */
static cqb_status sim_shard_record(uint64_t rep, const double *row, size_t len, void *user, cqb_error *err)
{
    sim_ctx *c = user;
    if (rep - c->rep0 != c->first + c->n)
        return cqb_error_set(err, CQB_EINTERNAL, "shard: replication %llu out of order", (unsigned long long)rep);
    memcpy(c->buf + c->n * len, row, len * sizeof *row);
    return ++c->n == c->cap ? sim_flush(c, err) : CQB_OK;
}

/* merge: each replication's record from the parts */
static cqb_status sim_part_replay(uint64_t rep, double *row, size_t len, void *user, cqb_error *err)
{
    const sim_ctx *c = user;
    char msg[CQB_ERROR_MAX];
    if (g_replay.serve(g_replay.ctx, c->sig, CLI_PLAN_SIM, len, rep - c->rep0, 1, row, msg, sizeof msg))
        return cqb_error_set(err, CQB_EDATA, "%s", msg);
    return CQB_OK;
}

/* MPI: a rank's range into its slice of the gathered records, then every
 * record from there */
static cqb_status sim_mem_record(uint64_t rep, const double *row, size_t len, void *user, cqb_error *err)
{
    (void)err;
    const sim_ctx *c = user;
    memcpy(c->buf + (rep - c->rep0) * len, row, len * sizeof *row);
    return CQB_OK;
}

static cqb_status sim_mem_replay(uint64_t rep, double *row, size_t len, void *user, cqb_error *err)
{
    (void)err;
    const sim_ctx *c = user;
    memcpy(row, c->buf + (rep - c->rep0) * len, len * sizeof *row);
    return CQB_OK;
}

static cqb_status sim_eval(const cli_sim_job *job, uint64_t i0, size_t n, double *out, cqb_error *err)
{
    cqb_sim_opts o = *job->opts;
    sim_ctx c;
    memset(&c, 0, sizeof c);
    o.rep0 += i0;
    o.reps = n;
    c.rep0 = o.rep0;
    c.buf = out;
    o.record = sim_mem_record;
    o.replay = NULL;
    o.scale_user = &c;
    cqb_sim_result r;
    cqb_status st = cqb_simulate(job->spec, &o, &r, err);
    if (st == CQB_OK) cqb_sim_result_free(&r);
    return st;
}

cqb_status cli_scale_simulate(const cqb_sim_spec *spec, const cqb_sim_opts *opts, cqb_sim_result *res,
                              cqb_error *err)
{
    if (g_mode == CLI_SCALE_NONE || cli_check_only || g_pairs || (g_mode == CLI_SCALE_MPI && !cli_mpi))
        return cqb_simulate(spec, opts, res, err);
    cqb_sim_opts o = *opts;
    sim_ctx c;
    memset(&c, 0, sizeof c);
    c.len = cqb_sim_record_len(spec);
    c.rep0 = opts->rep0;
    sim_sig(c.len, c.sig);
    o.scale_user = &c;
    cqb_status st;
    if (g_mode == CLI_SCALE_SHARD) {
        g_B = opts->reps;
        g_B_set = 1;
        uint64_t lo, hi;
        cli_shard_range(opts->reps, g_shard_i, g_shard_n, &lo, &hi);
        if (hi > opts->reps) hi = opts->reps;
        memset(res, 0, sizeof *res);
        if (lo >= hi) return CQB_OK; /* more shards than replications: an empty part */
        c.cap = ((size_t)8 << 20) / (c.len * sizeof(double) + 1);
        if (c.cap < 1) c.cap = 1;
        if (c.cap > hi - lo) c.cap = hi - lo;
        c.first = lo;
        c.buf = malloc((size_t)c.cap * c.len * sizeof *c.buf);
        if (!c.buf) return cqb_error_set(err, CQB_ENOMEM, "out of memory for the shard's records");
        o.rep0 += lo;
        o.reps = hi - lo;
        o.record = sim_shard_record;
        st = cqb_simulate(spec, &o, res, err);
        if (st == CQB_OK) st = sim_flush(&c, err);
        free(c.buf);
        return st;
    }
    if (g_mode == CLI_SCALE_REPLAY) {
        o.replay = sim_part_replay;
        return cqb_simulate(spec, &o, res, err);
    }
    /* MPI: every rank gets every record (reps x len doubles) */
    if (c.len && opts->reps > SIZE_MAX / sizeof(double) / c.len)
        return cqb_error_set(err, CQB_ENOMEM, "too many replications for the ranks' records");
    c.buf = malloc((size_t)opts->reps * (c.len ? c.len : 1) * sizeof *c.buf);
    if (!c.buf)
        return cqb_error_set(err, CQB_ENOMEM, "out of memory for %llu replication records of %zu values",
                             (unsigned long long)opts->reps, c.len);
    const cli_sim_job job = {sim_eval, spec, opts};
    static const cqb_backend none;
    st = cli_mpi->call(&none, CLI_PLAN_SIM, &job, c.len, 0, (size_t)opts->reps, c.buf, err);
    if (st == CQB_OK) {
        o.replay = sim_mem_replay;
        o.progress = NULL;
        st = cqb_simulate(spec, &o, res, err);
    }
    free(c.buf);
    return st;
}

/* ------------------------------------------------------------- MPI ---- */


/* -------------------------------------------------------- the wrap ---- */

static cqb_status dispatch(const cqb_backend *b, uint32_t kind, const void *plan, uint64_t nstat, uint32_t rep0,
                           size_t nrep, double *out, cqb_error *err)
{
    if (nrep == 0) return CQB_OK;
    unsigned char sig[32];
    if (g_mode == CLI_SCALE_SHARD || g_mode == CLI_SCALE_REPLAY) {
        if (kind == CLI_PLAN_SB) sig_sb((const cqb_plan *)plan, sig);
        else if (kind == CLI_PLAN_NULL) sig_null((const cqb_null_plan *)plan, sig);
        else sig_wav((const cqb_wplan *)plan, sig);
    }
    if (g_mode == CLI_SCALE_SHARD) return shard_call(b, kind, plan, sig, nstat, rep0, nrep, out, err);
    if (g_mode == CLI_SCALE_REPLAY) {
        char msg[CQB_ERROR_MAX];
        if (g_replay.serve(g_replay.ctx, sig, kind, nstat, rep0, nrep, out, msg, sizeof msg))
            return cqb_error_set(err, CQB_EDATA, "%s", msg);
        return CQB_OK;
    }
    if (g_mode == CLI_SCALE_MPI && cli_mpi) return cli_mpi->call(b, kind, plan, nstat, rep0, nrep, out, err);
    return cli_scale_inner_eval(b, kind, plan, rep0, nrep, out, err);
}

static cqb_status w_run(const cqb_backend *b, const cqb_plan *plan, uint32_t rep0, size_t nrep, double *out,
                        cqb_error *err)
{
    return dispatch(b, CLI_PLAN_SB, plan, plan->nstat, rep0, nrep, out, err);
}

static cqb_status w_null(const cqb_backend *b, const cqb_null_plan *plan, uint32_t rep0, size_t nrep, double *out,
                         cqb_error *err)
{
    return dispatch(b, CLI_PLAN_NULL, plan, plan->nstat, rep0, nrep, out, err);
}

static cqb_status w_wav(const cqb_backend *b, const cqb_wplan *plan, uint32_t rep0, size_t nrep, double *out,
                        cqb_error *err)
{
    if (nrep == 0 && !out) return CQB_OK; /* covers every plan: the CPU is the fallback */
    return dispatch(b, CLI_PLAN_WAVELET, plan, plan->ncell, rep0, nrep, out, err);
}

void cli_scale_wrap(cqb_backend *be, uint64_t B)
{
    if (g_mode == CLI_SCALE_NONE || cli_check_only || g_pairs) return;
    if (!g_B_set || g_mode != CLI_SCALE_SHARD) {
        g_B = B;
        g_B_set = 1;
    }
    g_inner = *be;
    be->run = w_run;
    be->null_eval = w_null;
    be->wavelet_eval = w_wav;
    /* the host reduces the values (the same code as the single process);
     * MPI ranks reduce their own ranges and combine the counts, histograms
     * and target-bin values (the distributed two-pass selection) unless
     * CQB_MPI_REDUCE=gather asks for all values on every rank */
    be->reduce = g_mode == CLI_SCALE_SHARD ? shard_reduce : NULL;
    const char *how = getenv("CQB_MPI_REDUCE");
    if (g_mode == CLI_SCALE_MPI && cli_mpi && !(how && !strcmp(how, "gather"))) be->reduce = cli_mpi->reduce;
}

/* ---------------------------------------------------- argv handling ---- */

/* Options that do not change any result and may differ between shards. */
static int exec_only(const char *arg, int *takes_value)
{
    static const char *const names[] = {"--backend", "--threads", "--progress", "--json", "--csv", "--mem-limit"};
    *takes_value = 1;
    if (!strcmp(arg, "--quiet")) {
        *takes_value = 0;
        return 1;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        size_t l = strlen(names[i]);
        if (!strncmp(arg, names[i], l)) {
            if (arg[l] == 0) return 1;
            if (arg[l] == '=') {
                *takes_value = 0;
                return 1;
            }
        }
    }
    return 0;
}

/* SHA-256 of the command and its result-relevant options, and of the data
 * files (--data) they read. */
static void hash_options(int argc, char **argv)
{
    cqb_sha256_ctx c, d;
    cqb_sha256_init(&c);
    cqb_sha256_init(&d);
    for (int i = 0; i < argc; ++i) {
        int tv = 0;
        if (i > 0 && exec_only(argv[i], &tv)) {
            if (tv) ++i;
            continue;
        }
        cqb_sha256_update(&c, argv[i], strlen(argv[i]) + 1);
        const char *data = NULL;
        if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[i + 1];
        else if (!strncmp(argv[i], "--data=", 7)) data = argv[i] + 7;
        if (data) {
            char hex[CQB_SHA256_HEX_SIZE];
            cqb_error e = {CQB_OK, ""};
            if (cqb_sha256_file(data, hex, &e) == CQB_OK) cqb_sha256_update(&d, hex, 64);
        }
    }
    unsigned char dg[32];
    cqb_sha256_final(&c, dg);
    cqb_sha256_hex(dg, g_opt_hash);
    cqb_sha256_final(&d, dg);
    cqb_sha256_hex(dg, g_data_hash);
}

int cli_scale_data_hash(int argc, char **argv, char out[CQB_SHA256_HEX_SIZE])
{
    hash_options(argc, argv);
    memcpy(out, g_data_hash, CQB_SHA256_HEX_SIZE);
    return 0;
}

static int splittable(const char *cmd)
{
    return !strcmp(cmd, "cq") || !strcmp(cmd, "wmc") || !strcmp(cmd, "wmcc") || !strcmp(cmd, "wlmc") ||
           !strcmp(cmd, "wlmcc") || !strcmp(cmd, "simulate") || !strcmp(cmd, "run");
}

static int parse_shard(const char *s, uint32_t *i, uint32_t *n)
{
    char *e1 = NULL, *e2 = NULL;
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    errno = 0;
    unsigned long a = strtoul(s, &e1, 10);
    if (e1 == s || *e1 != '/' || errno) return -1;
    const char *t = e1 + 1;
    if (!*t || *t == '-' || *t == '+') return -1;
    unsigned long b = strtoul(t, &e2, 10);
    if (e2 == t || *e2 || errno) return -1;
    if (a > 1000000 || b > 1000000) return -1;
    *i = (uint32_t)a;
    *n = (uint32_t)b;
    return 0;
}


static int copy_argv(int argc, char **argv)
{
    g_argv_copy = calloc((size_t)argc + 1, sizeof *g_argv_copy);
    if (!g_argv_copy) return -1;
    for (int i = 0; i < argc; ++i)
        if (!(g_argv_copy[i] = strdup(argv[i]))) return -1;
    g_argc_copy = argc;
    return 0;
}

/* A private temporary folder (under TMPDIR) for the outputs of a process
 * whose results go elsewhere (MPI ranks > 0, run shards): g_rank_out. */
static int private_dir(const char *cmd)
{
    const char *td = getenv("TMPDIR");
    snprintf(g_rank_dir, sizeof g_rank_dir, "%s/cqboot-rank-XXXXXX",
             td && *td && strlen(td) < sizeof g_rank_dir - 40 ? td : "/tmp");
    if (!mkdtemp(g_rank_dir)) {
        g_rank_dir[0] = 0;
        cqb_error e = {CQB_OK, ""};
        cqb_error_set(&e, CQB_EIO, "cannot create a temporary folder: %s", strerror(errno));
        return cli_fail(cmd, &e);
    }
    snprintf(g_rank_out, sizeof g_rank_out, "%s/out", g_rank_dir);
    return 0;
}

int cli_scale_take(int *argc, char ***argvp)
{
    char **argv = *argvp;
    const char *cmd = argv[0];
    const char *shard = NULL;
    int w = 1, has_out = 0;
    for (int r = 1; r < *argc; ++r) {
        if (!strcmp(argv[r], "--")) {
            while (r < *argc) argv[w++] = argv[r++];
            break;
        }
        const char **slot = NULL;
        const char *val = NULL;
        if (!strcmp(argv[r], "--shard") || !strcmp(argv[r], "--part")) {
            slot = argv[r][2] == 's' ? &shard : &g_part_path;
            if (r + 1 >= *argc) {
                fprintf(stderr, "cqboot %s: option '%s' needs a value (see 'cqboot %s --help')\n", cmd, argv[r], cmd);
                return 2;
            }
            val = argv[++r];
        } else if (!strncmp(argv[r], "--shard=", 8)) {
            slot = &shard;
            val = argv[r] + 8;
        } else if (!strncmp(argv[r], "--part=", 7)) {
            slot = &g_part_path;
            val = argv[r] + 7;
        } else {
            if (!strcmp(argv[r], "--json") || !strcmp(argv[r], "--csv") || !strncmp(argv[r], "--json=", 7) ||
                !strncmp(argv[r], "--csv=", 6))
                has_out = 1;
            if (!strcmp(cmd, "run") && (!strcmp(argv[r], "--out") || !strncmp(argv[r], "--out=", 6)))
                has_out = 2;
            if (!strcmp(cmd, "run") && !strcmp(argv[r], "--resume")) has_out = 3;
            argv[w++] = argv[r];
            continue;
        }
        *slot = val;
    }
    argv[w] = NULL;
    *argc = w;
    for (int r = 1; r < *argc; ++r)
        if (!strcmp(argv[r], "--help") || !strcmp(argv[r], "-h")) return 0; /* help only: no part, no MPI */
    if (shard || g_part_path) {
        if (!shard) return cli_usage_error(cmd, "--part needs --shard I/N");
        if (!g_part_path) return cli_usage_error(cmd, "--shard needs --part FILE (the shard's partial results)");
        if (!splittable(cmd))
            return cli_usage_error(cmd, "--shard: not offered by cqboot %s (cq, wmc, wmcc, wlmc, wlmcc, simulate and run are)", cmd);
        if (parse_shard(shard, &g_shard_i, &g_shard_n))
            return cli_usage_error(cmd, "--shard: '%s' is not I/N (shard I of N, 1 <= I <= N)", shard);
        if (g_shard_n < 1) return cli_usage_error(cmd, "--shard %s: N must be at least 1", shard);
        if (g_shard_i < 1 || g_shard_i > g_shard_n)
            return cli_usage_error(cmd, "--shard %s: I must be in 1..%u", shard, g_shard_n);
        if (has_out == 3) return cli_usage_error(cmd, "--resume: not with --shard (a shard is simply rerun)");
        if (has_out == 2) return cli_usage_error(cmd, "--shard writes only its part file; give --out to cqboot merge");
        if (has_out)
            return cli_usage_error(cmd, "--shard writes only its part file; give --json/--csv to cqboot merge");
        if (copy_argv(*argc, argv)) return cli_oom(cmd);
        hash_options(*argc, argv);
        {
            const char *in[] = {NULL}, *in_opt[] = {"--data"}, *out[] = {g_part_path}, *out_opt[] = {"--part"};
            for (int i = 1; i + 1 < *argc; ++i)
                if (!strcmp(argv[i], "--data")) in[0] = argv[i + 1];
            int rc = cli_check_outputs(cmd, in, in_opt, 1, out, out_opt, 1);
            if (rc) return rc;
        }
        cqb_error err = {CQB_OK, ""};
        if (cli_out_open(&g_part, g_part_path, "--part", &err) != CQB_OK) return cli_fail(cmd, &err);
        g_part_open = 1;
        g_hw.f = g_part.f;
        g_hw.bad = 0;
        cqb_sha256_init(&g_hw.c);
        hw_put(&g_hw, CLI_PART_MAGIC, 8);
        put_u32(&g_hw, CLI_PART_VERSION);
        g_mode = CLI_SCALE_SHARD;
        g_silent = 1;
        if (!strcmp(cmd, "run")) {
            /* the shard's analyses go to a private folder, removed at the end;
             * its part keeps what merge needs */
            static char **nargv;
            nargv = calloc((size_t)*argc + 3, sizeof *nargv);
            if (!nargv) return cli_oom(cmd);
            int prc = private_dir(cmd);
            if (prc) return prc;
            for (int r = 0; r < *argc; ++r) nargv[r] = argv[r];
            nargv[*argc] = (char *)"--out";
            nargv[*argc + 1] = g_rank_out;
            *argc += 2;
            *argvp = nargv;
            argv = nargv;
        }
    }
    int local = 0, mj = cli_mpi ? cli_mpi->init(&g_rank, &g_size, &local) : 1;
    if (mj < 0) {
        fprintf(stderr, "cqboot %s: MPI_Init failed\n", cmd);
        return 4;
    }
    if (!cli_mpi) {
        /* mpirun/srun over a build without MPI: every rank would run the
         * whole job and write the same outputs */
        const char *ws = getenv("OMPI_COMM_WORLD_SIZE");
        if (!ws) ws = getenv("PMI_SIZE");
        if (ws && atoi(ws) > 1)
            return cli_usage_error(cmd, "started by mpirun with %d ranks, but this cqboot was built without MPI "
                                        "(cmake -DCQB_MPI=ON; docs/scale-out.md)", atoi(ws));
    }
    if (mj == 0) {
        g_mpi_on = 1;
        if (g_size > 1) {
            char msg[256];
            const int is_run = !strcmp(cmd, "run");
            msg[0] = 0;
            if (g_mode == CLI_SCALE_SHARD)
                snprintf(msg, sizeof msg, "--shard: not under mpirun with %d ranks (the ranks already split the work)",
                         g_size);
            else if (!splittable(cmd) && !is_run)
                snprintf(msg, sizeof msg, "under MPI with %d ranks: cqboot %s is not split across ranks (cq, wmc, "
                                          "wmcc, wlmc, wlmcc, simulate and run are); run it with one rank", g_size, cmd);
            for (int r = 1; is_run && r < *argc; ++r)
                if (!strcmp(argv[r], "--resume"))
                    snprintf(msg, sizeof msg, "--resume: not under MPI with %d ranks (ranks must run the same "
                                              "analyses); run it with one rank", g_size);
            if (msg[0]) {
                /* every rank refuses alike: rank 0 says it, no abort needed */
                g_same_fail = 1;
                if (g_rank == 0) return cli_usage_error(cmd, "%s", msg);
                return 2;
            }
            (void)local; /* the GPU was chosen from it by init */
            g_mode = CLI_SCALE_MPI;
            if (g_rank > 0) {
                /* only rank 0 writes results and talks */
                static char **nargv;
                nargv = calloc((size_t)*argc + 6, sizeof *nargv);
                if (!nargv) return cli_oom(cmd);
                nargv[0] = argv[0];
                int k = 1;
                for (int r = 1; r < *argc; ++r) {
                    int tv = 0;
                    if (exec_only(argv[r], &tv) && (!strncmp(argv[r], "--json", 6) || !strncmp(argv[r], "--csv", 5))) {
                        if (tv) ++r;
                        continue;
                    }
                    if (is_run && (!strcmp(argv[r], "--out") || !strncmp(argv[r], "--out=", 6))) {
                        if (argv[r][5] == 0) ++r;
                        continue;
                    }
                    nargv[k++] = argv[r];
                }
                if (is_run) {
                    /* cqboot run writes a folder: the other ranks write theirs
                     * in a private temporary folder, removed at the end */
                    int prc = private_dir(cmd);
                    if (prc) return prc;
                    nargv[k++] = (char *)"--out";
                    nargv[k++] = g_rank_out;
                }
                nargv[k++] = (char *)"--progress";
                nargv[k++] = (char *)"none";
                nargv[k++] = (char *)"--quiet";
                nargv[k] = NULL;
                *argc = k;
                *argvp = nargv;
                g_silent = 1;
            }
        }
    }
    return 0;
}

/* Removes a folder this process made (mkdtemp) and what it wrote in it;
 * symbolic links are removed, never followed. */
static void rm_tree(const char *path, int depth)
{
    struct stat sb;
    if (depth > 32 || lstat(path, &sb)) return;
    if (!S_ISDIR(sb.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char sub[4400];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= sizeof sub) continue;
            rm_tree(sub, depth + 1);
        }
        closedir(d);
    }
    rmdir(path);
}

int cli_scale_pairs_share(uint32_t *k, uint32_t *n)
{
    g_pairs = 1;
    *k = 0;
    *n = 1;
    if (g_run_shard) return CLI_SCALE_NONE;
    if (g_mode == CLI_SCALE_SHARD) {
        *k = g_shard_i - 1;
        *n = g_shard_n;
    } else if (g_mode == CLI_SCALE_MPI) {
        *k = (uint32_t)g_rank;
        *n = (uint32_t)g_size;
    }
    return (int)g_mode;
}

void cli_scale_pairs_end(void) { g_pairs = g_run_shard; }

static cJSON *str_array(char **v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; ++i) cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

/* {"index": p, "json": ..., "csv": ...} for the pairs this process ran */
static cJSON *own_pairs(size_t n, char **json, char **csv)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t p = 0; p < n; ++p) {
        if (!json[p]) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", (double)p);
        cJSON_AddStringToObject(o, "json", json[p]);
        if (csv[p]) cJSON_AddStringToObject(o, "csv", csv[p]);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

int cli_scale_pairs_keep(size_t n, char **y, char **x, char **json, char **csv, char **series, size_t ns, int has_json,
                         int has_csv)
{
    (void)has_json;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "y", str_array(y, n));
    cJSON_AddItemToObject(o, "x", str_array(x, n));
    cJSON_AddItemToObject(o, "series", str_array(series, ns));
    cJSON_AddBoolToObject(o, "csv", has_csv);
    cJSON_AddItemToObject(o, "results", own_pairs(n, json, csv));
    cJSON_Delete(g_pairs_hd);
    g_pairs_hd = o;
    return 0;
}

int cli_scale_pairs_collect(size_t n, char **json, char **csv)
{
    if (g_mode != CLI_SCALE_MPI || !cli_mpi) {
        (void)n;
        (void)json;
        (void)csv;
        return 0;
    }
    cJSON *mine = own_pairs(n, json, csv);
    char *txt = cJSON_PrintUnformatted(mine);
    cJSON_Delete(mine);
    if (!txt) return cli_oom("cq");
    return cli_mpi->collect(txt, n, json, csv);
}

int cli_scale_run_share(uint32_t *k, uint32_t *n)
{
    *k = 0;
    *n = 1;
    if (g_mode != CLI_SCALE_SHARD) return 0;
    g_pairs = 1; /* analyses run whole */
    g_run_shard = 1;
    *k = g_shard_i - 1;
    *n = g_shard_n;
    return 1;
}

void cli_scale_run_keep(cJSON *analyses)
{
    cJSON_Delete(g_run_hd);
    g_run_hd = analyses;
}

void cli_scale_set_run_parts(cJSON *const *hd, size_t np)
{
    g_run_parts = hd;
    g_run_np = np;
    g_run_merge = hd != NULL;
}

const cJSON *cli_scale_run_part(size_t i, int *merging)
{
    *merging = g_run_merge;
    for (size_t p = 0; p < g_run_np; ++p) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g_run_parts[p], "run"))
        {
            const cJSON *ix = cJSON_GetObjectItemCaseSensitive(e, "index");
            if (cJSON_IsNumber(ix) && ix->valuedouble == (double)i) return e;
        }
    }
    return NULL;
}

int cli_scale_finish(int rc)
{
    if (g_mode == CLI_SCALE_SHARD && g_part_open) {
        cqb_error err = {CQB_OK, ""};
        if (rc == 0 && !cli_interrupted) {
            cqb_status st = write_part(&err);
            if (st == CQB_OK) st = cli_out_commit(&g_part, &err);
            if (st != CQB_OK) rc = cli_fail(g_argv_copy[0], &err);
        }
        if (rc != 0 || cli_interrupted) cli_out_abort(&g_part);
        g_part_open = 0;
    }
    for (size_t i = 0; i < g_nrec; ++i) free(g_rec[i].have);
    free(g_rec);
    g_rec = NULL;
    cJSON_Delete(g_pairs_hd);
    g_pairs_hd = NULL;
    cJSON_Delete(g_run_hd);
    g_run_hd = NULL;
    g_nrec = g_caprec = 0;
    if (g_rank_dir[0]) {
        rm_tree(g_rank_dir, 0);
        g_rank_dir[0] = 0;
    }
    if (g_argv_copy) {
        for (int i = 0; i < g_argc_copy; ++i) free(g_argv_copy[i]);
        free(g_argv_copy);
        g_argv_copy = NULL;
    }
    if (g_mpi_on) {
        /* a rank that failed alone ends the job (the others may wait in a
         * collective); a refusal shared by every rank just finalizes */
        cli_mpi->finish(rc, rc != 0 && g_size > 1 && !g_same_fail);
        g_mpi_on = 0;
    }
    return rc;
}
