/* fault.h — fault injection for the test build (-DCQB_FAULT=ON): forced
 * into every library and CLI source with -include, it routes the C
 * library's allocation and output calls through counting wrappers
 * (fault.c). With CQB_FAULT_ALLOC=k the k-th allocation (malloc, calloc,
 * realloc, strdup; cJSON's too, through
 * cli_json_init's hooks, which call malloc) fails; with CQB_FAULT_IO=k the k-th output
 * step (fopen for writing, mkstemp, fflush, fsync, fclose, rename, mkdir)
 * fails with ENOSPC/EIO. CQB_FAULT_REPORT=1 prints the counts at exit
 * ("cqb_fault: allocations N, output steps M") so that a sweep knows the
 * range of k. Without those variables nothing changes. */
#ifndef CQB_FAULT_H
#define CQB_FAULT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

void *cqb_fault_malloc(size_t n);
void *cqb_fault_calloc(size_t a, size_t b);
void *cqb_fault_realloc(void *p, size_t n);
char *cqb_fault_strdup(const char *s);
FILE *cqb_fault_fopen(const char *path, const char *mode);
int cqb_fault_mkstemp(char *tmpl);
int cqb_fault_fflush(FILE *f);
int cqb_fault_fsync(int fd);
int cqb_fault_fclose(FILE *f);
int cqb_fault_rename(const char *from, const char *to);
int cqb_fault_mkdir(const char *path, mode_t mode);

#define malloc(n) cqb_fault_malloc(n)
#define calloc(a, b) cqb_fault_calloc(a, b)
#define realloc(p, n) cqb_fault_realloc(p, n)
#define strdup(s) cqb_fault_strdup(s)
#define fopen(p, m) cqb_fault_fopen(p, m)
#define mkstemp(t) cqb_fault_mkstemp(t)
#define fflush(f) cqb_fault_fflush(f)
#define fsync(d) cqb_fault_fsync(d)
#define fclose(f) cqb_fault_fclose(f)
#define rename(a, b) cqb_fault_rename(a, b)
#define mkdir(p, m) cqb_fault_mkdir(p, m)

#endif
