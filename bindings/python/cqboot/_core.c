/* _core.c — the CPython extension of the cqboot package: one function, run(),
 * that hands a subcommand, its options and an in-memory data set to
 * cqb_embed_run (cqboot/embed.h) with the GIL released, and returns the
 * exit status, the --json and --csv texts and the message.
 *
 * Columns come in as objects with the buffer protocol holding C-contiguous
 * float64 (numpy arrays made so by the Python layer): no NumPy headers are
 * needed at build time, so one build serves NumPy 1 and 2.
 *
 * Ctrl-C: the run polls a cancel flag; the progress callback (called by the
 * engine from the calling thread, about every chunk of replicates) takes
 * the GIL, runs PyErr_CheckSignals (Python's SIGINT handler raises
 * KeyboardInterrupt there) and the user's progress callable; an exception
 * from either sets the flag, and run() re-raises it once the engine has
 * returned and freed everything. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cqboot/embed.h"
#include "cqboot/version.h"

typedef struct progress_ctx {
    PyObject *callable; /* or NULL */
    volatile int cancel;
    PyObject *exc_type, *exc_value, *exc_tb; /* the exception that cancelled */
    double last_t, last_f;
} progress_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_progress(double fraction, void *user)
{
    progress_ctx *c = user;
    if (c->cancel) return;
    /* at most 20 times a second (and at the end): taking the GIL costs */
    double t = now_s();
    if (t - c->last_t < 0.05 && fraction < 1.0) return;
    c->last_t = t;
    PyGILState_STATE g = PyGILState_Ensure();
    int failed = PyErr_CheckSignals() != 0;
    if (!failed && c->callable && fraction != c->last_f) {
        c->last_f = fraction;
        PyObject *r = PyObject_CallFunction(c->callable, "d", fraction);
        if (!r) failed = 1;
        Py_XDECREF(r);
    }
    if (failed) {
        PyErr_Fetch(&c->exc_type, &c->exc_value, &c->exc_tb);
        c->cancel = 1;
    }
    PyGILState_Release(g);
}

/* A list of str -> a NULL-terminated array of UTF-8 pointers (owned by the
 * str objects, kept alive by the list). */
static const char **str_array(PyObject *list, Py_ssize_t *n, const char *what)
{
    if (!PyList_Check(list)) {
        PyErr_Format(PyExc_TypeError, "%s must be a list of str", what);
        return NULL;
    }
    *n = PyList_GET_SIZE(list);
    const char **a = calloc((size_t)*n + 1, sizeof *a);
    if (!a) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *n; ++i) {
        PyObject *s = PyList_GET_ITEM(list, i);
        Py_ssize_t len = 0;
        if (!PyUnicode_Check(s) || !(a[i] = PyUnicode_AsUTF8AndSize(s, &len))) {
            if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "%s[%zd] is not a str", what, i);
            free(a);
            return NULL;
        }
        if (strlen(a[i]) != (size_t)len) { /* C strings end at the first NUL */
            free(a);
            PyErr_Format(PyExc_ValueError, "%s[%zd] holds a NUL character", what, i);
            return NULL;
        }
    }
    return a;
}

PyDoc_STRVAR(run_doc,
             "run(command, argv, names=None, columns=None, labels=None, name=None, progress=None)\n"
             "-> (status, json, csv, message)\n\n"
             "Runs the cqboot subcommand with the CLI options argv (a list of str) on the\n"
             "data set given by names (list of str), columns (list of C-contiguous float64\n"
             "buffers, all of one length) and labels (list of str, or None), with the GIL\n"
             "released. progress(fraction) is called now and then. Used by cqboot's\n"
             "functions; not a public interface.");

static PyObject *core_run(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"command", "argv", "names", "columns", "labels", "name", "progress", NULL};
    const char *command, *name = NULL;
    PyObject *argv_list, *names = Py_None, *columns = Py_None, *labels = Py_None, *progress = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sO!|OOOzO", kwlist, &command, &PyList_Type, &argv_list, &names,
                                     &columns, &labels, &name, &progress))
        return NULL;
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "progress must be callable or None");
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t argc = 0, ncol = 0, nlab = 0;
    const char **argv = NULL, **cnames = NULL, **clabels = NULL;
    Py_buffer *bufs = NULL;
    const double **cols = NULL;
    Py_ssize_t nbufs = 0;
    cqb_embed_frame frame;
    memset(&frame, 0, sizeof frame);
    int have_frame = names != Py_None;

    if (!(argv = str_array(argv_list, &argc, "argv"))) goto done;
    if (have_frame) {
        if (!(cnames = str_array(names, &ncol, "names"))) goto done;
        if (!PyList_Check(columns) || PyList_GET_SIZE(columns) != ncol) {
            PyErr_SetString(PyExc_TypeError, "columns must be a list as long as names");
            goto done;
        }
        bufs = calloc((size_t)ncol + 1, sizeof *bufs);
        cols = calloc((size_t)ncol + 1, sizeof *cols);
        if (!bufs || !cols) {
            PyErr_NoMemory();
            goto done;
        }
        Py_ssize_t nrow = -1;
        for (Py_ssize_t j = 0; j < ncol; ++j) {
            if (PyObject_GetBuffer(PyList_GET_ITEM(columns, j), &bufs[j], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0)
                goto done;
            ++nbufs;
            if (bufs[j].itemsize != sizeof(double) || !bufs[j].format || strcmp(bufs[j].format, "d") ||
                bufs[j].ndim != 1) {
                PyErr_Format(PyExc_TypeError, "column '%s' is not a 1-D float64 buffer", cnames[j]);
                goto done;
            }
            Py_ssize_t n = bufs[j].len / (Py_ssize_t)sizeof(double);
            if (nrow >= 0 && n != nrow) {
                PyErr_Format(PyExc_ValueError, "column '%s' has %zd values, the others %zd", cnames[j], n, nrow);
                goto done;
            }
            nrow = n;
            cols[j] = bufs[j].buf;
        }
        if (labels != Py_None) {
            if (!(clabels = str_array(labels, &nlab, "labels"))) goto done;
            if (nlab != nrow) {
                PyErr_Format(PyExc_ValueError, "%zd labels for %zd rows", nlab, nrow);
                goto done;
            }
        }
        frame.nrow = nrow < 0 ? 0 : (size_t)nrow;
        frame.ncol = (size_t)ncol;
        frame.names = cnames;
        frame.cols = cols;
        frame.labels = clabels;
        frame.name = name;
    }

    progress_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.callable = progress == Py_None ? NULL : progress;
    ctx.last_f = -1.0;
    cqb_embed_call call = {command, (int)argc, argv, have_frame ? &frame : NULL, on_progress, &ctx, &ctx.cancel};
    cqb_embed_result res;
    Py_BEGIN_ALLOW_THREADS
    cqb_embed_run(&call, &res);
    Py_END_ALLOW_THREADS
    if (ctx.exc_type) { /* Ctrl-C or the callback's exception: re-raised, no result */
        PyErr_Restore(ctx.exc_type, ctx.exc_value, ctx.exc_tb);
        cqb_embed_result_free(&res);
        goto done;
    }
    if (res.status == 130 && PyErr_CheckSignals() != 0) { /* a signal that came after the last check */
        cqb_embed_result_free(&res);
        goto done;
    }
    result = Py_BuildValue("(izzs)", res.status, res.json, res.csv, res.message);
    cqb_embed_result_free(&res);
done:
    for (Py_ssize_t j = 0; j < nbufs; ++j) PyBuffer_Release(&bufs[j]);
    free(bufs);
    free(cols);
    free(argv);
    free(cnames);
    free(clabels);
    return result;
}

static PyMethodDef core_methods[] = {
    {"run", (PyCFunction)(void (*)(void))core_run, METH_VARARGS | METH_KEYWORDS, run_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {PyModuleDef_HEAD_INIT, "_core", "cqboot's engine (cqboot/embed.h).", -1,
                                         core_methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void);
PyMODINIT_FUNC PyInit__core(void)
{
    PyObject *m = PyModule_Create(&core_module);
    if (!m) return NULL;
    if (PyModule_AddStringConstant(m, "version", CQB_VERSION) || PyModule_AddIntConstant(m, "api_version", CQB_API_VERSION)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
