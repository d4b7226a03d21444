/* study.h — the study file of `cqboot run`: schema, validation and the
 * translation of each analysis into its subcommand's arguments (private to
 * the CLI). The schema is documented in the README and shipped as
 * data/study.schema.json for editors. */
#ifndef CQBOOT_STUDY_H
#define CQBOOT_STUDY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cqboot/error.h"

#define STUDY_MAX_ARGS 256

typedef struct study_dataset {
    const char *id;
    char *path;        /* resolved against the study file's directory */
    const cJSON *spec; /* the dataset object */
    char sha256[65];
} study_dataset;

typedef struct study_analysis {
    const char *name, *kind;
    const cJSON *spec;     /* the analysis object */
    int dataset;           /* index into datasets */
    char *argv[STUDY_MAX_ARGS];
    int argc;              /* argv[0] = subcommand */
    char hash[65];         /* of everything that determines the result */
} study_analysis;

typedef struct study {
    cJSON *root;
    char *path, *dir;
    const char *name;
    study_dataset *ds;
    size_t nds;
    study_analysis *an;
    size_t nan;
} study;

/*! study_load() : parses and validates a study file; every fault is
 *  reported as `FILE: PATH: message` with the JSON path of the value
 *  (`analyses[3].alpha_y[1]: must be in (0,1)`), before anything runs. The
 *  datasets are read to check column names and hashed. threads/backend
 *  override the study's defaults when given (NULL: keep). */
cqb_status study_load(const char *path, const char *threads, const char *backend, study *s, cqb_error *err);
void study_free(study *s);

#endif
