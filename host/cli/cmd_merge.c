/* cmd_merge.c — `cqboot merge`: combines the part files of a sharded run
 * (--shard I/N --part FILE) into exactly the single process's results.
 *
 * The parts hold every replicate value of every resampling plan, each shard
 * its own range (scale.h). merge checks that the parts belong together and
 * are complete and intact, then reruns the analysis with the parts as the
 * source of the replicates: the same reductions see the same values in the
 * same order, so the JSON results and qtests are byte-identical to a run in
 * one process. simulate's parts hold replication records, replayed in
 * order (cli_scale_simulate); run's parts hold whole analyses, which
 * cmd_run takes from them (cli_scale_run_part) to write the study folder. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "cqboot/hash.h"
#include "scale.h"

static const char *const MERGE_HELP =
    "Usage: cqboot merge PART... [--json FILE] [--csv FILE] [--out DIR] [--threads N]\n"
    "Combines the part files of a sharded run (cqboot cq|wmc|wmcc|wlmc|wlmcc|\n"
    "simulate|run --shard I/N --part FILE, one per shard) into the results the\n"
    "single process gives, byte for byte (docs/scale-out.md); parts of cqboot run\n"
    "make the study's folder (--out). The data file is read again at the path\n"
    "the shards were given and must be unchanged.\n"
    "\n"
    "  --json FILE         results as JSON ('-' for stdout)\n"
    "  --csv FILE          results as CSV ('-' for stdout)\n"
    "  --out DIR           cqboot run parts: the study's output folder (default\n"
    "                      out/NAME, as cqboot run)\n"
    "  --threads N         CPU threads for what is not in the parts\n"
    "  --help              this help\n"
    "Without --json/--csv the command's table is printed.\n"
    "\n"
    "Refused (exit 3, one line): a truncated or corrupt part, parts of\n"
    "different runs (options, seed, data, shard count), a shard given twice,\n"
    "missing shards (named), a data file changed since the shards ran.\n"
    "Exit status: 0 ok, 2 usage, 3 data or file, 5 out of memory.\n";

typedef struct pentry {
    unsigned char sig[32];
    uint32_t kind;
    uint64_t nstat, lo, n, off;
} pentry;

typedef struct part {
    const char *path;
    int fd;
    cJSON *hd;
    uint32_t shard, shards;
    const char *opt_hash, *data_hash, *command, *version;
    double B;
    pentry *e;
    uint32_t ne;
} part;

typedef struct merge_ctx {
    part *p;
    size_t np;
} merge_ctx;

static uint32_t get_u32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get_u64(const unsigned char *b) { return (uint64_t)get_u32(b) | (uint64_t)get_u32(b + 4) << 32; }

static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Opens and checks one part: magic, format, checksum, header, plan table. */
static cqb_status part_open(part *pt, cqb_error *err)
{
    const char *path = pt->path;
    pt->fd = open(path, O_RDONLY);
    if (pt->fd < 0) return cqb_error_set(err, CQB_EDATA, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(pt->fd, &sb) || !S_ISREG(sb.st_mode))
        return cqb_error_set(err, CQB_EDATA, "%s: not a regular file", path);
    const uint64_t size = (uint64_t)sb.st_size;
    unsigned char h[16];
    if (size < 12 + 4 + 4 + 32 || read_at(pt->fd, h, 12, 0) || memcmp(h, CLI_PART_MAGIC, 8))
        return cqb_error_set(err, CQB_EDATA, "%s: not a cqboot part file (or truncated)", path);
    if (get_u32(h + 8) != CLI_PART_VERSION)
        return cqb_error_set(err, CQB_EDATA, "%s: part format %u, this cqboot reads format %u", path, get_u32(h + 8),
                             CLI_PART_VERSION);
    /* the checksum covers every byte before it */
    {
        cqb_sha256_ctx c;
        cqb_sha256_init(&c);
        unsigned char buf[1 << 16];
        uint64_t off = 0, end = size - 32;
        while (off < end) {
            size_t n = end - off < sizeof buf ? (size_t)(end - off) : sizeof buf;
            if (read_at(pt->fd, buf, n, off)) return cqb_error_set(err, CQB_EDATA, "%s: read error", path);
            cqb_sha256_update(&c, buf, n);
            off += n;
            if (cli_interrupted) return cqb_error_set(err, CQB_EUSAGE, "interrupted");
        }
        unsigned char dg[32], want[32];
        cqb_sha256_final(&c, dg);
        if (read_at(pt->fd, want, 32, end) || memcmp(dg, want, 32))
            return cqb_error_set(err, CQB_EDATA, "%s: truncated or corrupt part file (checksum mismatch)", path);
    }
    /* the trailer: header, its length, the checksum */
    unsigned char hl[4];
    if (read_at(pt->fd, hl, 4, size - 36)) return cqb_error_set(err, CQB_EDATA, "%s: read error", path);
    const uint32_t hlen = get_u32(hl);
    if ((uint64_t)hlen + 12 + 4 + 4 + 32 > size) return cqb_error_set(err, CQB_EDATA, "%s: corrupt header", path);
    const uint64_t hoff = size - 36 - hlen, rend = hoff - 4;
    char *txt = malloc((size_t)hlen + 1);
    if (!txt) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    if (read_at(pt->fd, txt, hlen, hoff)) {
        free(txt);
        return cqb_error_set(err, CQB_EDATA, "%s: read error", path);
    }
    txt[hlen] = 0;
    pt->hd = cJSON_Parse(txt);
    free(txt);
    const cJSON *hd = pt->hd;
#define STR(k) cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hd, k))
#define NUM(k) cJSON_GetObjectItemCaseSensitive(hd, k)
    if (!hd || !STR("command") || !STR("options_sha256") || !STR("data_sha256") || !STR("version") ||
        !cJSON_IsNumber(NUM("shard")) || !cJSON_IsNumber(NUM("shards")) || !cJSON_IsNumber(NUM("B")) ||
        !cJSON_IsArray(NUM("argv")))
        return cqb_error_set(err, CQB_EDATA, "%s: corrupt header", path);
    pt->command = STR("command");
    pt->opt_hash = STR("options_sha256");
    pt->data_hash = STR("data_sha256");
    pt->version = STR("version");
    pt->shard = (uint32_t)NUM("shard")->valuedouble;
    pt->shards = (uint32_t)NUM("shards")->valuedouble;
    pt->B = NUM("B")->valuedouble;
#undef STR
#undef NUM
    /* the records: one index entry each (the values stay on disk) */
    uint64_t off = 12;
    uint32_t cap = 0;
    for (;;) {
        unsigned char b[64];
        if (off + 4 > rend + 4 || read_at(pt->fd, b, 4, off))
            return cqb_error_set(err, CQB_EDATA, "%s: corrupt record at byte %llu", path, (unsigned long long)off);
        const uint32_t tag = get_u32(b);
        if (tag == 0) {
            if (off != rend)
                return cqb_error_set(err, CQB_EDATA, "%s: corrupt record at byte %llu", path, (unsigned long long)off);
            break;
        }
        if (tag != 'R' || off + 64 > rend || read_at(pt->fd, b, 64, off))
            return cqb_error_set(err, CQB_EDATA, "%s: corrupt record at byte %llu", path, (unsigned long long)off);
        if (pt->ne == cap) {
            cap = cap ? 2 * cap : 64;
            pentry *ne = realloc(pt->e, cap * sizeof *ne);
            if (!ne) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
            pt->e = ne;
        }
        pentry *e = &pt->e[pt->ne];
        e->kind = get_u32(b + 4);
        memcpy(e->sig, b + 8, 32);
        e->nstat = get_u64(b + 40);
        e->lo = get_u64(b + 48);
        e->n = get_u64(b + 56);
        e->off = off + 64;
        if ((e->nstat && e->n > (rend - e->off) / 8 / e->nstat) || (!e->nstat && e->n))
            return cqb_error_set(err, CQB_EDATA, "%s: corrupt record at byte %llu", path, (unsigned long long)off);
        off = e->off + e->n * e->nstat * 8;
        ++pt->ne;
    }
    return CQB_OK;
}

/* The replay source: rows of plan sig from the part that holds them. */
static int serve(void *vctx, const unsigned char sig[32], uint32_t kind, uint64_t nstat, uint64_t rep0,
                 uint64_t nrep, double *out, char *msg, size_t msgsz)
{
    merge_ctx *m = vctx;
    uint64_t r = rep0, end = rep0 + nrep;
    while (r < end) {
        const part *hit = NULL;
        const pentry *he = NULL;
        for (size_t i = 0; i < m->np && !he; ++i)
            for (uint32_t j = 0; j < m->p[i].ne; ++j) {
                const pentry *e = &m->p[i].e[j];
                if (e->kind == kind && e->nstat == nstat && r >= e->lo && r < e->lo + e->n &&
                    !memcmp(e->sig, sig, 32)) {
                    hit = &m->p[i];
                    he = e;
                    break;
                }
            }
        if (!he) {
            snprintf(msg, msgsz,
                     "the parts hold no replicate %llu of a resampling plan of this analysis (parts of another "
                     "cqboot version?)",
                     (unsigned long long)r);
            return -1;
        }
        uint64_t z = he->lo + he->n < end ? he->lo + he->n : end;
        const uint64_t nv = (z - r) * nstat;
        unsigned char buf[8 * 4096];
        uint64_t done = 0, off = he->off + (r - he->lo) * nstat * 8;
        while (done < nv) {
            size_t k = nv - done < 4096 ? (size_t)(nv - done) : 4096;
            if (read_at(hit->fd, buf, k * 8, off + done * 8)) {
                snprintf(msg, msgsz, "%s: read error", hit->path);
                return -1;
            }
            for (size_t q = 0; q < k; ++q) {
                uint64_t bits = get_u64(buf + 8 * q);
                memcpy(&out[(r - rep0) * nstat + done + q], &bits, 8);
            }
            done += k;
        }
        r = z;
    }
    return 0;
}

/* pair parts (--pairs) list the same pairs */
static int same_pairs(const cJSON *a, const cJSON *b)
{
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(a, "pairs"), *pb = cJSON_GetObjectItemCaseSensitive(b, "pairs");
    if (!pa || !pb) return !pa && !pb;
    static const char *const k[] = {"y", "x", "series", "csv"};
    for (int i = 0; i < 4; ++i)
        if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(pa, k[i]), cJSON_GetObjectItemCaseSensitive(pb, k[i]), 1))
            return 0;
    return 1;
}

static int merge_fail(const cqb_error *err) { return cli_fail("merge", err); }

int cmd_merge(int argc, char **argv)
{
    enum { O_JSON = 1, O_CSV, O_THREADS, O_HELP, O_OUT };
    static const struct option opts[] = {{"json", required_argument, 0, O_JSON},
                                         {"csv", required_argument, 0, O_CSV},
                                         {"out", required_argument, 0, O_OUT},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"help", no_argument, 0, O_HELP},
                                         {0, 0, 0, 0}};
    const char *json = NULL, *csv = NULL, *threads = NULL, *outdir = NULL;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case O_JSON: json = optarg; break;
        case O_CSV: csv = optarg; break;
        case O_OUT: outdir = optarg; break;
        case O_THREADS: {
            long t;
            if (cli_parse_int(optarg, 0, 4096, &t))
                return cli_usage_error("merge", "--threads: '%s' is not a thread count in 0..4096", optarg);
            threads = optarg;
            break;
        }
        case O_HELP: fputs(MERGE_HELP, stdout); return 0;
        default: return cli_getopt_error("merge", c, argv);
        }
    }
    const int np = argc - optind;
    if (np < 1) return cli_usage_error("merge", "no part files given");
    if (cli_check_only) return 0;
    {
        const char **in_opt = malloc((size_t)np * sizeof *in_opt);
        if (!in_opt) return cli_oom("merge");
        for (int i = 0; i < np; ++i) in_opt[i] = "PART";
        const char *out[] = {json, csv}, *out_opt[] = {"--json", "--csv"};
        int rc = cli_check_outputs("merge", (const char *const *)(argv + optind), in_opt, (size_t)np, out, out_opt, 2);
        free(in_opt);
        if (rc) return rc;
    }
    merge_ctx m = {calloc((size_t)np, sizeof(part)), (size_t)np};
    if (!m.p) return cli_oom("merge");
    cqb_error err = {CQB_OK, ""};
    int rc = 0;
    char **nargv = NULL;
    for (int i = 0; i < np; ++i) {
        m.p[i].path = argv[optind + i];
        m.p[i].fd = -1;
    }
    for (int i = 0; i < np; ++i)
        if (part_open(&m.p[i], &err) != CQB_OK) goto fail;
    /* the parts belong together: one run, one shard count, every shard once */
    const part *p0 = &m.p[0];
    for (int i = 1; i < np; ++i) {
        const part *pi = &m.p[i];
        const char *what = strcmp(pi->command, p0->command)       ? "a different command"
                           : strcmp(pi->version, p0->version)     ? "a different cqboot version"
                           : strcmp(pi->opt_hash, p0->opt_hash)   ? "different options (or seed)"
                           : strcmp(pi->data_hash, p0->data_hash) ? "different data"
                           : pi->shards != p0->shards             ? "a different shard count"
                           : pi->B != p0->B                       ? "a different replicate count"
                           : !same_pairs(p0->hd, pi->hd)          ? "different pair lists"
                                                                  : NULL;
        if (what) {
            cqb_error_set(&err, CQB_EDATA, "%s and %s are parts of different runs: %s", p0->path, pi->path, what);
            goto fail;
        }
    }
    {
        const uint32_t N = p0->shards;
        if (N < 1) {
            cqb_error_set(&err, CQB_EDATA, "%s: corrupt header (0 shards)", p0->path);
            goto fail;
        }
        int *seen = calloc(N + 1, sizeof *seen);
        if (!seen) {
            cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        for (int i = 0; i < np; ++i) {
            uint32_t s = m.p[i].shard;
            if (s < 1 || s > N) {
                free(seen);
                cqb_error_set(&err, CQB_EDATA, "%s: corrupt header (shard %u of %u)", m.p[i].path, s, N);
                goto fail;
            }
            if (seen[s]) {
                cqb_error_set(&err, CQB_EDATA, "shard %u/%u given twice: %s and %s", s, N, m.p[seen[s] - 1].path,
                              m.p[i].path);
                free(seen);
                goto fail;
            }
            seen[s] = i + 1;
        }
        char list[CQB_ERROR_MAX / 2];
        size_t used = 0, nmiss = 0;
        list[0] = 0;
        for (uint32_t s = 1; s <= N; ++s) {
            if (seen[s]) continue;
            ++nmiss;
            if (used < sizeof list - 16) used += (size_t)snprintf(list + used, sizeof list - used, "%s%u", used ? ", " : "", s);
            else if (used < sizeof list - 4) used += (size_t)snprintf(list + used, sizeof list - used, ", ...");
        }
        free(seen);
        if (nmiss) {
            cqb_error_set(&err, CQB_EDATA, "missing shard%s %s of %u (run %s with --shard I/%u)", nmiss > 1 ? "s" : "",
                          list, N, nmiss > 1 ? "them" : "it", N);
            goto fail;
        }
    }
    /* pairs: each part holds its pairs' results; assembled in pair order */
    if (cJSON_GetObjectItemCaseSensitive(p0->hd, "pairs")) {
        cJSON **hds = malloc((size_t)np * sizeof *hds);
        if (!hds) {
            cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        for (int i = 0; i < np; ++i) hds[i] = m.p[i].hd;
        rc = cli_pairs_merge(hds, (size_t)np, json, csv);
        free(hds);
        goto done;
    }
    /* the analysis again, with the parts as the replicates' source */
    {
        const cJSON *av = cJSON_GetObjectItemCaseSensitive(p0->hd, "argv");
        const int na = cJSON_GetArraySize(av);
        nargv = calloc((size_t)na + 12, sizeof *nargv);
        if (!nargv) {
            cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        int k = 0;
        for (int i = 0; i < na; ++i) {
            char *s = cJSON_GetStringValue(cJSON_GetArrayItem(av, i));
            if (!s) {
                cqb_error_set(&err, CQB_EDATA, "%s: corrupt header", p0->path);
                goto fail;
            }
            nargv[k++] = s;
        }
        char dh[65];
        cli_scale_data_hash(k, nargv, dh);
        if (strcmp(dh, p0->data_hash)) {
            cqb_error_set(&err, CQB_EDATA,
                          "the data file (--data) differs from the one the shards read, or cannot be read: run "
                          "merge where the shards' data path holds the same file");
            goto fail;
        }
        if (strcmp(p0->command, "simulate")) { /* simulate has no --backend: it replays records */
            nargv[k++] = (char *)"--backend";
            nargv[k++] = (char *)"cpu";
        }
        const int is_run = !strcmp(p0->command, "run");
        if (is_run != (cJSON_GetObjectItemCaseSensitive(p0->hd, "run") != NULL)) {
            cqb_error_set(&err, CQB_EDATA, "%s: corrupt header", p0->path);
            goto fail;
        }
        if (is_run && (json || csv)) {
            cqb_error_set(&err, CQB_EUSAGE, "parts of cqboot run: give --out DIR (the study's folder), not --json/--csv");
            goto fail;
        }
        if (!is_run && outdir) {
            cqb_error_set(&err, CQB_EUSAGE, "--out: only for parts of cqboot run (use --json/--csv)");
            goto fail;
        }
        if (is_run && outdir) {
            nargv[k++] = (char *)"--out";
            nargv[k++] = (char *)outdir;
        }
        nargv[k++] = (char *)"--progress";
        nargv[k++] = (char *)"none";
        nargv[k++] = (char *)"--quiet";
        if (threads) {
            nargv[k++] = (char *)"--threads";
            nargv[k++] = (char *)threads;
        }
        if (json) {
            nargv[k++] = (char *)"--json";
            nargv[k++] = (char *)json;
        }
        if (csv) {
            nargv[k++] = (char *)"--csv";
            nargv[k++] = (char *)csv;
        }
        nargv[k] = NULL;
        cli_replay rp = {serve, &m};
        cli_scale_set_replay(&rp);
        const char *cmd = p0->command;
        cJSON **hds = NULL;
        if (is_run) {
            /* every analysis from the parts, written into the folder as a
             * --resume would find it; then the report as one run writes it */
            hds = malloc((size_t)np * sizeof *hds);
            if (!hds) {
                cqb_error_set(&err, CQB_ENOMEM, "out of memory");
                goto fail;
            }
            for (int i = 0; i < np; ++i) hds[i] = m.p[i].hd;
            cli_scale_set_run_parts(hds, (size_t)np);
            rc = cmd_run(k, nargv);
            cli_scale_set_run_parts(NULL, 0);
            free(hds);
            goto done;
        }
        if (!strcmp(cmd, "cq")) rc = cmd_cq(k, nargv);
        else if (!strcmp(cmd, "wmc") || !strcmp(cmd, "wmcc") || !strcmp(cmd, "wlmc") || !strcmp(cmd, "wlmcc"))
            rc = cmd_wavelet(k, nargv);
        else if (!strcmp(cmd, "simulate")) rc = cmd_simulate(k, nargv);
        else {
            cqb_error_set(&err, CQB_EDATA, "%s: parts of cqboot %s cannot be merged", p0->path, cmd);
            goto fail;
        }
    }
    goto done;
fail:
    rc = merge_fail(&err);
done:
    free(nargv);
    for (size_t i = 0; i < m.np; ++i) {
        if (m.p[i].fd >= 0) close(m.p[i].fd);
        cJSON_Delete(m.p[i].hd);
        free(m.p[i].e);
    }
    free(m.p);
    return rc;
}
