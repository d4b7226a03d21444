/* fuzz_study.c — the study parser and validator (study_load, which also
 * runs every analysis's subcommand checks in check-only mode) on arbitrary
 * JSON. The study is written to a private temporary directory holding a
 * small data set d.csv (and d2.csv); inputs with '/' or a \u escape are
 * skipped so that a study names only files in that directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"
#include "study.h"

static char g_study[300];

static void cleanup(void)
{
    char p[320];
    const char *dir = g_study[0] ? g_study : NULL;
    if (!dir) return;
    char d[300];
    snprintf(d, sizeof d, "%s", g_study);
    char *slash = strrchr(d, '/');
    if (!slash) return;
    *slash = 0;
    unlink(g_study);
    snprintf(p, sizeof p, "%s/d.csv", d);
    unlink(p);
    snprintf(p, sizeof p, "%s/d2.csv", d);
    unlink(p);
    rmdir(d);
}

static int init(void)
{
    if (g_study[0]) return 0;
    const char *tmp = getenv("TMPDIR");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/cqb_fuzz_study_XXXXXX", tmp && *tmp && strlen(tmp) < 200 ? tmp : "/tmp");
    if (!mkdtemp(dir)) return -1;
    char p[300];
    snprintf(p, sizeof p, "%s/d.csv", dir);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    fputs("date,a,b,c\n", f);
    for (int i = 0; i < 48; ++i)
        fprintf(f, "%d-%02d,%d.%d,%d,%d.5\n", 2000 + i / 12, i % 12 + 1, 10 + (i * 7) % 13, i % 10, 5 + (i * 5) % 11,
                (i * 3) % 17);
    fclose(f);
    snprintf(p, sizeof p, "%s/d2.csv", dir);
    f = fopen(p, "w");
    if (!f) return -1;
    fputs("d;x;y\n", f);
    for (int i = 0; i < 24; ++i) fprintf(f, "%02d/13/%d;%d,5;%d\n", i % 12 + 1, 2000 + i / 12, (i * 7) % 13, (i * 5) % 11 + 1);
    fclose(f);
    snprintf(g_study, sizeof g_study, "%s/s.json", dir);
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536 || init() != 0) return 0;
    if (memchr(data, '/', size)) return 0;
    for (size_t i = 0; i + 1 < size; ++i)
        if (data[i] == '\\' && data[i + 1] == 'u') return 0;
    FILE *f = fopen(g_study, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    study s;
    cqb_error err;
    study_load(g_study, NULL, NULL, &s, &err);
    study_free(&s); /* after a failure too, as cmd_run does */
    return 0;
}

/* LLVM's OpenMP runtime (libomp, with clang) keeps its thread structures
 * until exit by design: LeakSanitizer's exit-time check reports them
 * (103,680 bytes in 72 blocks after a long run); not cqboot's leaks. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libomp.so\nleak:libgomp.so\n"; }
