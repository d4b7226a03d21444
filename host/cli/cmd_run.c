/* cmd_run.c — `cqboot run STUDY.json`: a whole study as one batch job.
 *
 * Each analysis runs through its subcommand in-process (so a study gives
 * exactly the single-command outputs), into OUT/NAME.csv and a state file
 * OUT/.state/NAME.json that records the hash of everything that determines
 * the result (tool version, data-set hash, resolved options). With --resume
 * an analysis whose state hash matches is reused; anything else is rerun.
 * Then results.json, the figures, report.md and index.html are written.
 * With --shard I/N (docs/scale-out.md) only analyses i with i mod N = I-1
 * run, and their state and CSV go to the part file instead of a report;
 * cqboot merge then runs the study again with every analysis taken from
 * the parts (written into OUT as a --resume would find them).
 * Every file is written to a temporary name and renamed: an error or Ctrl-C
 * leaves finished analyses (reusable with --resume) and no partial file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "report.h"
#include "scale.h"
#include "study.h"
#include "cqboot/version.h"

static const char *const RUN_HELP =
    "Usage: cqboot run STUDY.json [OPTION]...\n"
    "Runs every analysis of a study file (data sets, defaults and a list of cq,\n"
    "blocklen, modwt, wmc, wmcc, wlmc and wlmcc analyses; schema in docs/studies.md and\n"
    "data/study.schema.json) and\n"
    "writes results.json, one CSV per analysis, figures (PNG and SVG), report.md\n"
    "and index.html into the output directory.\n"
    "\n"
    "  --out DIR           output directory (default: out/NAME, NAME from the study)\n"
    "  --resume            reuse analyses already finished with the same inputs and\n"
    "                      options (recorded with a hash); rerun the others\n"
    "  --threads N         CPU threads for every analysis, 0: all cores (overrides\n"
    "                      the study)\n"
    "  --backend NAME      auto, cpu or cuda (overrides the study)\n"
    "  --progress MODE     auto (a bar if stderr is a terminal), plain, none\n"
    "  --quiet             no progress and no notices\n"
    "  --no-figures        no figures (the tables, report.md and index.html only;\n"
    "                      needs neither cairo nor the figure module)\n"
    "  --shard I/N --part FILE  analyses i with i mod N = I-1 into the part FILE\n"
    "                      (cqboot merge PARTS --out DIR writes the study folder;\n"
    "                      docs/scale-out.md)\n"
    "  --help              this help\n"
    "\n"
    "Exit status: 0 ok, 2 usage or invalid study (the message names the JSON\n"
    "path), 3 data or file, 4 backend unavailable, 5 out of memory,\n"
    "130 interrupted (SIGINT), 143 terminated (SIGTERM). One run at a time per\n"
    "--out (a lock); --max-input SIZE bounds what is read (docs/safety.md).\n";

enum { OPT_OUT = 256, OPT_RESUME, OPT_THREADS, OPT_BACKEND, OPT_PROGRESS, OPT_QUIET, OPT_NO_FIGURES, OPT_HELP };

static const struct option RUN_OPTS[] = {
    {"out", required_argument, 0, OPT_OUT},           {"resume", no_argument, 0, OPT_RESUME},
    {"threads", required_argument, 0, OPT_THREADS},   {"backend", required_argument, 0, OPT_BACKEND},
    {"progress", required_argument, 0, OPT_PROGRESS}, {"quiet", no_argument, 0, OPT_QUIET},
    {"no-figures", no_argument, 0, OPT_NO_FIGURES},
    {"help", no_argument, 0, OPT_HELP},               {0, 0, 0, 0}};

static int mkdirs(const char *path)
{
    char *p = strdup(path);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    for (char *s = p + 1; *s; ++s) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0777) && errno != EEXIST) {
                free(p);
                return -1;
            }
            *s = '/';
        }
    }
    int rc = mkdir(p, 0777) && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

static char *read_text(const char *path)
{
    size_t n;
    cqb_error e;
    char *t = cli_read_text(path, &n, &e);
    if (!t && e.status == CQB_ENOMEM) errno = ENOMEM; /* the caller tells it from a missing file */
    return t;
}

/* A name that may name files in OUT: letters, digits, '_', '.', '-', no
 * leading '.', no "..", no '/'. */
static int safe_name(const char *s)
{
    if (!s || !*s || *s == '.' || strstr(s, "..")) return 0;
    for (const char *p = s; *p; ++p)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '.' || *p == '-'))
            return 0;
    return 1;
}

/* Takes the exclusive lock of OUT (OUT/.cqboot.lock, held until the process
 * ends); returns the descriptor, or -1 with err set. */
static int lock_outdir(const char *outdir, cqb_error *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/.cqboot.lock", outdir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        cqb_error_set(err, CQB_EIO, "%s: cannot create the lock file: %s", path, strerror(errno));
        return -1;
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) == 0) {
        char pid[32];
        int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) != n) { /* informative only */
        }
        return fd;
    }
    int e = errno;
    long holder = 0;
    if (e == EACCES || e == EAGAIN) {
        struct flock q;
        memset(&q, 0, sizeof q);
        q.l_type = F_WRLCK;
        q.l_whence = SEEK_SET;
        if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK) holder = (long)q.l_pid;
        close(fd);
        if (holder > 0)
            cqb_error_set(err, CQB_EIO, "%s is in use by process %ld (another cqboot run); wait for it or use another --out",
                          outdir, holder);
        else
            cqb_error_set(err, CQB_EIO, "%s is in use by another process (another cqboot run); wait for it or use another --out",
                          outdir);
        return -1;
    }
    close(fd);
    cqb_error_set(err, CQB_EIO, "%s: cannot lock: %s", path, strerror(e));
    return -1;
}

/* Removes what a killed run left in dir: temporary outputs, and (in the
 * state folder) the analyses' interim JSON. Returns the number removed. */
static int remove_leftovers(const char *dir, int state)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int interim = state && len > 9 && !strcmp(e->d_name + len - 9, ".run.json");
        if (!cqb_output_is_temp_name(e->d_name) && !interim) continue;
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0) ++n;
    }
    closedir(d);
    return n;
}

/* Writes text to path atomically. */
static cqb_status write_atomic(const char *path, const char *text, cqb_error *err)
{
    cli_out o;
    cqb_status st = cli_out_open(&o, path, "output", err);
    if (st != CQB_OK) return st;
    fputs(text, o.f);
    if ((st = cli_out_finish(&o, err)) != CQB_OK || (st = cli_out_commit(&o, err)) != CQB_OK) {
        cli_out_abort(&o);
        return st;
    }
    return CQB_OK;
}

/* The state of a finished analysis, or NULL when absent, unreadable or made
 * from other inputs. */
static cJSON *load_state(const char *path, const char *hash)
{
    char *t = read_text(path);
    if (!t) return NULL;
    cJSON *j = cJSON_Parse(t);
    free(t);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "hash");
    if (!cJSON_IsString(h) || strcmp(h->valuestring, hash) || !cJSON_GetObjectItemCaseSensitive(j, "result")) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* blocklen has no --csv: its CSV comes from its JSON. */
static cqb_status blocklen_csv(const char *path, const cJSON *res, cqb_error *err)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) return cqb_error_set(err, CQB_ENOMEM, "out of memory");
    len += (size_t)snprintf(buf, cap, "column,n,b_sb,b_cb\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(res, "results"))
    {
        char line[512], a[40], b[40];
        cli_fmt_num(a, sizeof a, cJSON_GetObjectItemCaseSensitive(r, "b_sb")->valuedouble);
        cli_fmt_num(b, sizeof b, cJSON_GetObjectItemCaseSensitive(r, "b_cb")->valuedouble);
        int n = snprintf(line, sizeof line, "%s,%.0f,%s,%s\n", cJSON_GetObjectItemCaseSensitive(r, "column")->valuestring,
                         cJSON_GetObjectItemCaseSensitive(r, "n")->valuedouble, a, b);
        if (len + (size_t)n + 1 > cap) {
            cap = 2 * (len + (size_t)n + 1);
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return cqb_error_set(err, CQB_ENOMEM, "out of memory");
            }
            buf = nb;
        }
        memcpy(buf + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    cqb_status st = write_atomic(path, buf, err);
    free(buf);
    return st;
}

int cmd_run(int argc, char **argv)
{
    const char *out = NULL, *threads = NULL, *backend = NULL, *progress = "auto";
    int resume = 0, quiet = 0, figures = 1, c, rc = 0;
    optind = 0; /* 0: glibc forgets the previous parse (in-process runs, fuzzing) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", RUN_OPTS, NULL)) != -1 && !rc) {
        long tv;
        switch (c) {
        case OPT_OUT: out = optarg; break;
        case OPT_RESUME: resume = 1; break;
        case OPT_THREADS:
            if (cli_parse_int(optarg, 0, 4096, &tv)) rc = cli_usage_error("run", "--threads: '%s' is not a thread count in 0..4096 (0: all cores)", optarg);
            threads = optarg;
            break;
        case OPT_BACKEND:
            if (strcmp(optarg, "auto") && strcmp(optarg, "cpu") && strcmp(optarg, "cuda"))
                rc = cli_usage_error("run", "--backend: unknown backend '%s' (auto, cpu, cuda)", optarg);
            backend = optarg;
            break;
        case OPT_PROGRESS: {
            int m;
            if (cli_progress_mode(optarg, &m)) rc = cli_usage_error("run", "--progress: unknown mode '%s' (auto, plain, none)", optarg);
            progress = optarg;
            break;
        }
        case OPT_QUIET: quiet = 1; break;
        case OPT_NO_FIGURES: figures = 0; break;
        case OPT_HELP: fputs(RUN_HELP, stdout); return 0;
        default: rc = cli_getopt_error("run", c, argv); break;
        }
    }
    if (rc) return rc;
    if (optind >= argc) return cli_usage_error("run", "STUDY.json is required");
    if (optind + 1 < argc) return cli_usage_error("run", "unexpected argument '%s'", argv[optind + 1]);
    const char *study_path = argv[optind];
    if (cli_check_only) return 0;
    int pmode = 0;
    cli_progress_mode(progress, &pmode);
    if (quiet) pmode = 0;

    cqb_error err = {CQB_OK, ""};
    const double t_run = cli_now();
    if (quiet) cli_quiet = 1;
    study s;
    cqb_status st = study_load(study_path, threads, backend, &s, &err);
    char *outdir = NULL, *statedir = NULL;
    cJSON *results = NULL, *timing = NULL;
    int lockfd = -1;
    if (st != CQB_OK) goto fail;
    /* names become file names in OUT: confined to it */
    if (!out && !safe_name(s.name)) {
        st = cqb_error_set(&err, CQB_EUSAGE,
                           "%s: name: '%s' cannot name the output folder out/NAME (letters, digits, '_', '.', '-'; no "
                           "leading '.', no '..'); give --out",
                           study_path, s.name);
        goto fail;
    }
    for (size_t i = 0; i < s.nan; ++i) {
        if (!safe_name(s.an[i].name)) {
            st = cqb_error_set(&err, CQB_EUSAGE,
                               "%s: analyses[%zu].name: '%s' must be letters, digits, '_', '.', '-' (no leading '.', "
                               "no '..'): it names files in the output folder",
                               study_path, i, s.an[i].name);
            goto fail;
        }
    }
    if (out) {
        outdir = strdup(out);
    } else {
        outdir = malloc(strlen(s.name) + 8);
        if (outdir) sprintf(outdir, "out/%s", s.name);
    }
    statedir = outdir ? malloc(strlen(outdir) + 8) : NULL;
    if (!outdir || !statedir) {
        st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
        goto fail;
    }
    sprintf(statedir, "%s/.state", outdir);
    /* no output may replace the study file or a data set: checked for every
     * named output now, before anything runs, and again (cqboot/output.h)
     * whenever any file is written */
    if (cqb_output_protect(study_path) != 0) {
        st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < s.nds; ++i) {
        if (cqb_output_protect(s.ds[i].path) != 0) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
    }
    {
        static const char *const FIXED[] = {"results.json", "report.md", "index.html"};
        for (size_t i = 0; i < s.nan + 3; ++i) {
            char p[1100];
            if (i < s.nan) snprintf(p, sizeof p, "%s/%s.csv", outdir, s.an[i].name);
            else snprintf(p, sizeof p, "%s/%s", outdir, FIXED[i - s.nan]);
            const char *in = cqb_output_protected(p);
            if (in) {
                st = cqb_error_set(&err, CQB_EUSAGE, "output %s is the same file as the input %s (refusing to replace it)%s",
                                   p, in, i < s.nan ? "; rename the analysis or choose another --out" : "; choose another --out");
                goto fail;
            }
        }
    }
    if (mkdirs(statedir)) {
        st = errno == ENOMEM ? cqb_error_set(&err, CQB_ENOMEM, "out of memory")
                             : cqb_error_set(&err, CQB_EIO, "%s: cannot create the output directory: %s", outdir,
                                             strerror(errno));
        goto fail;
    }
    /* one run per output folder at a time */
    if ((lockfd = lock_outdir(outdir, &err)) < 0) {
        st = err.status;
        goto fail;
    }
    {
        int nleft = remove_leftovers(outdir, 0) + remove_leftovers(statedir, 1);
        if (nleft && pmode)
            fprintf(stderr, "cqboot run: removed %d temporary file%s left by an interrupted run\n", nleft,
                    nleft == 1 ? "" : "s");
    }

    results = cJSON_CreateObject();
    timing = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    uint32_t shard_k, shard_n;
    const int shard = cli_scale_run_share(&shard_k, &shard_n);
    cJSON *kept = shard ? cJSON_CreateArray() : NULL; /* a shard's analyses, for its part */
    for (size_t i = 0; i < s.nan; ++i) {
        study_analysis *a = &s.an[i];
        if (shard && i % shard_n != shard_k) continue;
        if (cli_interrupted) {
            st = cqb_error_set(&err, CQB_EUSAGE, "interrupted");
            goto fail_arr;
        }
        char state[1024], csv[1024], tmpjson[1100];
        snprintf(state, sizeof state, "%s/%s.json", statedir, a->name);
        snprintf(csv, sizeof csv, "%s/%s.csv", outdir, a->name);
        snprintf(tmpjson, sizeof tmpjson, "%s/%s.run.json", statedir, a->name);
        cJSON *rec = NULL;
        int merging = 0;
        const cJSON *part = cli_scale_run_part(i, &merging);
        if (merging) {
            /* cqboot merge: the analysis as a shard ran it, for the same
             * study, options and data (the hash covers them) */
            const char *ph = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part, "hash"));
            const char *pn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part, "name"));
            const char *ps = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part, "state"));
            const char *pc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part, "csv"));
            if (!part || !ph || !pn || !ps || !pc || strcmp(pn, a->name)) {
                st = cqb_error_set(&err, CQB_EDATA, "the parts hold no analysis '%s' (analyses[%zu]): parts of another study?",
                                   a->name, i);
                goto fail_arr;
            }
            if (strcmp(ph, a->hash)) {
                st = cqb_error_set(&err, CQB_EDATA,
                                   "analysis '%s': the study, its options or its data changed since the shards ran", a->name);
                goto fail_arr;
            }
            if ((st = write_atomic(csv, pc, &err)) != CQB_OK || (st = write_atomic(state, ps, &err)) != CQB_OK)
                goto fail_arr;
            if (!(rec = load_state(state, a->hash))) {
                st = cqb_error_set(&err, CQB_EDATA, "analysis '%s': corrupt state in the parts", a->name);
                goto fail_arr;
            }
        } else if (resume && access(csv, R_OK) == 0) rec = load_state(state, a->hash);
        const int rec_reused = rec != NULL;
        double t0 = cli_now();
        if (rec) {
            if (pmode) fprintf(stderr, "cqboot run: [%zu/%zu] %s (%s): reused\n", i + 1, s.nan, a->name, a->kind);
        } else {
            if (pmode) fprintf(stderr, "cqboot run: [%zu/%zu] %s (%s)\n", i + 1, s.nan, a->name, a->kind);
            char *av[STUDY_MAX_ARGS + 10];
            int ac = 0;
            for (int j = 0; j < a->argc; ++j) av[ac++] = a->argv[j];
            av[ac++] = "--json";
            av[ac++] = tmpjson;
            const int is_cq = !strcmp(a->kind, "cq"), is_bl = !strcmp(a->kind, "blocklen");
            const int is_sim = !strcmp(a->kind, "simulate");
            if (!is_bl) {
                av[ac++] = "--csv";
                av[ac++] = csv;
            }
            if (!is_bl) {
                /* long runs: their own progress (every command but blocklen
                 * takes the same modes); --quiet silences their notices */
                av[ac++] = "--progress";
                av[ac++] = pmode == 2 ? "plain" : pmode == 1 ? "bar" : "none";
                if (quiet) av[ac++] = "--quiet";
            }
            (void)is_cq;
            av[ac] = NULL;
            cli_cleanup_add(tmpjson); /* until it is read and removed */
            int sub = is_cq ? cmd_cq(ac, av) : is_bl ? cmd_blocklen(ac, av) : is_sim ? cmd_simulate(ac, av)
                                                                                      : cmd_wavelet(ac, av);
            if (sub != 0) {
                unlink(tmpjson);
                cli_cleanup_remove(tmpjson);
                fprintf(stderr, "cqboot run: analysis '%s' (analyses[%zu]) failed; finished analyses are kept for --resume\n",
                        a->name, i);
                cJSON_Delete(arr);
                cJSON_Delete(kept);
                study_free(&s);
                cJSON_Delete(results);
                cJSON_Delete(timing);
                free(outdir);
                free(statedir);
                if (lockfd >= 0) close(lockfd);
                return sub;
            }
            errno = 0;
            char *t = read_text(tmpjson);
            const int t_nomem = !t && errno == ENOMEM;
            cJSON *res = t ? cJSON_Parse(t) : NULL;
            free(t);
            unlink(tmpjson);
            cli_cleanup_remove(tmpjson);
            if (!res) {
                st = t_nomem ? cqb_error_set(&err, CQB_ENOMEM, "out of memory")
                             : cqb_error_set(&err, CQB_EINTERNAL, "%s: the analysis wrote no readable JSON", a->name);
                goto fail_arr;
            }
            if (is_bl && (st = blocklen_csv(csv, res, &err)) != CQB_OK) {
                cJSON_Delete(res);
                goto fail_arr;
            }
            /* timings vary from run to run: keep them out of the record */
            cJSON *tm = cJSON_DetachItemFromObjectCaseSensitive(res, "timing");
            cJSON_Delete(tm);
            rec = cJSON_CreateObject();
            cJSON_AddStringToObject(rec, "hash", a->hash);
            cJSON_AddItemToObject(rec, "result", res);
            char *txt = cJSON_Print(rec);
            if (!txt || (st = write_atomic(state, txt, &err)) != CQB_OK) {
                free(txt);
                cJSON_Delete(rec);
                if (st == CQB_OK) st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
                goto fail_arr;
            }
            free(txt);
        }
        const double dt = cli_now() - t0;
        if (shard) {
            cJSON *k = cJSON_CreateObject();
            char *stt = read_text(state), *cst = read_text(csv);
            cJSON_AddNumberToObject(k, "index", (double)i);
            cJSON_AddStringToObject(k, "name", a->name);
            cJSON_AddStringToObject(k, "hash", a->hash);
            if (stt) cJSON_AddStringToObject(k, "state", stt);
            if (cst) cJSON_AddStringToObject(k, "csv", cst);
            free(stt);
            free(cst);
            cJSON_AddItemToArray(kept, k);
            cJSON_Delete(rec);
            if (!stt || !cst) {
                st = cqb_error_set(&err, CQB_EIO, "%s: cannot read back the analysis' outputs", a->name);
                goto fail_arr;
            }
            continue;
        }
        cJSON_AddNumberToObject(timing, a->name, dt);
        if (pmode && !rec_reused)
            fprintf(stderr, "cqboot run: [%zu/%zu] %s: done in %.1f s (%.1f s since the start)\n", i + 1, s.nan, a->name,
                    dt, cli_now() - t_run);
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "name", a->name);
        cJSON_AddStringToObject(entry, "kind", a->kind);
        cJSON_AddStringToObject(entry, "hash", a->hash);
        cJSON_AddStringToObject(entry, "csv", strrchr(csv, '/') + 1);
        cJSON_AddItemToObject(entry, "spec", cJSON_Duplicate(a->spec, 1));
        cJSON_AddItemToObject(entry, "result", cJSON_DetachItemFromObjectCaseSensitive(rec, "result"));
        cJSON_Delete(rec);
        cJSON_AddItemToArray(arr, entry);
    }
    if (shard) {
        /* a shard: its part file says the rest (written by cli_scale_finish) */
        cli_scale_run_keep(kept);
        kept = NULL;
        cJSON_Delete(arr);
        cJSON_Delete(results);
        cJSON_Delete(timing);
        if (lockfd >= 0) close(lockfd);
        study_free(&s);
        free(outdir);
        free(statedir);
        return 0;
    }
    cJSON_AddStringToObject(results, "tool", "cqboot run");
    cJSON_AddStringToObject(results, "version", CQB_VERSION);
    cJSON_AddStringToObject(results, "study", s.name);
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(s.root, "title");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(s.root, "description");
    if (title) cJSON_AddStringToObject(results, "title", title->valuestring);
    if (desc) cJSON_AddStringToObject(results, "description", desc->valuestring);
    cJSON *dsj = cJSON_AddObjectToObject(results, "datasets");
    for (size_t i = 0; i < s.nds; ++i) {
        cJSON *d = cJSON_Duplicate(s.ds[i].spec, 1);
        cJSON_AddStringToObject(d, "sha256", s.ds[i].sha256);
        cJSON_AddItemToObject(dsj, s.ds[i].id, d);
    }
    cJSON_AddItemToObject(results, "analyses", arr);
    arr = NULL;

    /* figures, report.md and index.html */
    if ((st = report_write(outdir, results, figures, &err)) != CQB_OK) goto fail;
    {
        cJSON_AddNumberToObject(timing, "total_s", cli_now() - t_run);
        cJSON_AddItemToObject(results, "timing", timing);
        timing = NULL;
        char path[1100];
        snprintf(path, sizeof path, "%s/results.json", outdir);
        char *txt = cJSON_Print(results);
        if (!txt) {
            st = cqb_error_set(&err, CQB_ENOMEM, "out of memory");
            goto fail;
        }
        st = write_atomic(path, txt, &err);
        free(txt);
        if (st != CQB_OK) goto fail;
    }
    if (pmode)
        fprintf(stderr, "cqboot run: done in %.1f s: %s/report.md, %s/index.html, %s/results.json\n", cli_now() - t_run,
                outdir, outdir, outdir);
    if (lockfd >= 0) close(lockfd);
    cJSON_Delete(results);
    study_free(&s);
    free(outdir);
    free(statedir);
    return 0;
fail_arr:
    cJSON_Delete(arr);
    cJSON_Delete(kept);
fail:
    rc = cli_fail("run", &err);
    if (lockfd >= 0) close(lockfd);
    cJSON_Delete(results);
    cJSON_Delete(timing);
    study_free(&s);
    free(outdir);
    free(statedir);
    return rc;
}
