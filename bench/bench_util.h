/* bench_util.h — option parsing shared by the benchmark programs (header
 * only: every bench/NAME.c is its own executable). */
#ifndef CQBOOT_BENCH_UTIL_H
#define CQBOOT_BENCH_UTIL_H

#include <ctype.h>
#include <errno.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "--name V" or "--name=V": returns V and advances *i, or NULL if argv[*i]
 * is not this option. Exits with a usage error (status 2) when the value is
 * missing. prog names the program in messages. */
static inline const char *bench_opt_value(const char *prog, int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return NULL;
    if (argv[*i][n] == '=') return argv[*i] + n + 1;
    if (argv[*i][n] != 0) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", prog, name);
        exit(2);
    }
    return argv[++*i];
}

/* An integer >= lo, or a usage error (status 2). */
static inline unsigned long long bench_parse_count(const char *prog, const char *name, const char *s,
                                                   unsigned long long lo)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo) {
        fprintf(stderr, "%s: %s: expected an integer >= %llu, got '%s'\n", prog, name, lo, s);
        exit(2);
    }
    return v;
}

/* Timing, order statistics and a description of the build and machine. */

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorted in place). */
static inline double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* First line of a shell command's stdout, trailing space removed; "" on
 * failure. */
static inline void command_line(const char *cmd, char *out, size_t n)
{
    out[0] = 0;
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (!fgets(out, (int)n, p)) out[0] = 0;
    pclose(p);
    size_t l = strlen(out);
    while (l && isspace((unsigned char)out[l - 1])) out[--l] = 0;
}

static inline void git_describe(char *out, size_t n)
{
    char sha[64], dirty[32];
    command_line("git -C '" CQB_SOURCE_DIR "' rev-parse --short HEAD 2>/dev/null", sha, sizeof sha);
    if (!sha[0]) {
        snprintf(out, n, "unknown");
        return;
    }
    command_line("git -C '" CQB_SOURCE_DIR "' status --porcelain --untracked-files=no 2>/dev/null | wc -l",
                 dirty, sizeof dirty);
    snprintf(out, n, "%s%s", sha, atoi(dirty) > 0 ? " (uncommitted changes)" : "");
}

static inline const char *build_type(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return "sanitizer build (ASan): timings are not representative";
#elif defined(__OPTIMIZE__) && defined(NDEBUG)
    return "optimised, NDEBUG (Release / RelWithDebInfo)";
#elif defined(__OPTIMIZE__)
    return "optimised, assertions on";
#else
    return "unoptimised (Debug): timings are not representative";
#endif
}

static inline void cpu_model(char *out, size_t n)
{
    snprintf(out, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *p = strchr(line, ':');
        if (!p) continue;
        ++p;
        while (*p == ' ' || *p == '\t') ++p;
        snprintf(out, n, "%s", p);
        size_t l = strlen(out);
        while (l && isspace((unsigned char)out[l - 1])) out[--l] = 0;
        break;
    }
    fclose(f);
}

#endif
