/* bench_util.h — option parsing shared by the benchmark programs (header
 * only: every bench/NAME.c is its own executable). */
#ifndef CQBOOT_BENCH_UTIL_H
#define CQBOOT_BENCH_UTIL_H

#include <errno.h>
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

#endif
