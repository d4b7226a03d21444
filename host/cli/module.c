/* module.c — finding and opening cqboot's loadable modules (the figures,
 * libcqboot_plot.so; MPI, libcqboot_mpi.so): the program loads each only
 * when a command needs it, so that no command pays at start for cairo or
 * libmpi and their libraries. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Where cqboot's modules are looked for, in order: the path in the
 * environment variable env_var (when set: that path only), beside the
 * executable, in ../lib/cqboot and ../lib64/cqboot from it (an installed
 * tree), then by name through the dynamic loader's search path. The first
 * failure's message is kept in reason. */
void *cli_module_open(const char *env_var, const char *file, char *reason, size_t reason_size)
{
    void *h = NULL;
    reason[0] = 0;
    const char *env = env_var ? getenv(env_var) : NULL;
    if (env && *env) {
        h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!h) snprintf(reason, reason_size, "%s", dlerror());
        return h;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        static const char *const rel[] = {"", "/../lib/cqboot", "/../lib64/cqboot"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0] && !h; ++i) {
            char path[PATH_MAX + 64];
            snprintf(path, sizeof path, "%s%s/%s", exe, rel[i], file);
            if (access(path, R_OK) != 0) continue;
            h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (!h && !reason[0]) snprintf(reason, reason_size, "%s", dlerror());
        }
    }
    if (!h) {
        h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
        if (!h && !reason[0]) snprintf(reason, reason_size, "%s", dlerror());
    }
    return h;
}
