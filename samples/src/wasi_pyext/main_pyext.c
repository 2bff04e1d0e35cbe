/* A miniature of CPython's importer for hello.cpython-311-wasm32-wasi.so: dlopen it (RTLD_NOW,
 * RTLD_LOCAL as Python does), dlsym PyInit_hello, call it, then call every method of the returned
 * module definition through its function pointer.  Provides the four "Python API" functions the
 * module imports.  Freestanding; prints with WASI fd_write; exits with the number of failures. */
#include "../wasi_dlopen/wasi_io.h"

#define RTLD_NOW 2
#define RTLD_LOCAL 8

extern void *dlopen(const char *name, int mode);
extern void *dlsym(void *handle, const char *name);
extern const char *dlerror(void);
extern void __wasm_call_ctors(void);

typedef struct _object {
    int is_str;
    long value;
    const char *str;
} PyObject;
typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);
typedef struct {
    const char *ml_name;
    PyCFunction ml_meth;
    int ml_flags;
    const char *ml_doc;
} PyMethodDef;
typedef struct {
    int m_base[5];
    const char *m_name;
    const char *m_doc;
    long m_size;
    PyMethodDef *m_methods;
} PyModuleDef;

static PyObject pool[16];
static int used;

PyObject *PyModuleDef_Init(PyModuleDef *def) { return (PyObject *)def; }
PyObject *PyLong_FromLong(long value) { PyObject *o = &pool[used++ % 16]; o->is_str = 0; o->value = value; return o; }
long PyLong_AsLong(PyObject *o) { return o->value; }
const char *PyUnicode_AsUTF8(PyObject *o) { return o->str; }

static PyObject *str(const char *s) { PyObject *o = &pool[used++ % 16]; o->is_str = 1; o->str = s; return o; }

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

void _start(void)
{
    int failures = 0;
    __wasm_call_ctors();
    void *handle = dlopen("hello.cpython-311-wasm32-wasi.so", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        put("dlopen failed: ");
        put(dlerror());
        put("\n");
        wasi_proc_exit(100);
    }
    PyObject *(*init)(void) = (PyObject * (*)(void)) dlsym(handle, "PyInit_hello");
    if (!init || dlsym(0, "PyInit_hello")) {  /* RTLD_LOCAL: not in the global scope */
        put("dlsym PyInit_hello: wrong\n");
        wasi_proc_exit(101);
    }
    PyModuleDef *def = (PyModuleDef *)init();
    put("module ");
    put(def->m_name);
    put(": ");
    put(def->m_doc);
    put("\n");
    for (PyMethodDef *m = def->m_methods; m->ml_name; m++) {
        put("method ");
        put(m->ml_name);
        put(": ");
        put(m->ml_doc);
        put("\n");
        if (streq(m->ml_name, "greet")) {
            PyObject *r = m->ml_meth(0, str("dldbg"));
            put("greet('dldbg') = ");
            put_int(r->value);
            put("\n");
            failures += r->value != 5;
        } else if (streq(m->ml_name, "square")) {
            PyObject *r = m->ml_meth(0, PyLong_FromLong(7));
            put("square(7) = ");
            put_int(r->value);
            put("\n");
            failures += r->value != 49;
        }
    }
    put(failures ? "FAILED\n" : "PASSED\n");
    wasi_proc_exit(failures);
}
