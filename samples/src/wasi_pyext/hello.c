/* hello.cpython-311-wasm32-wasi.so: a library shaped like a CPython extension module, built the
 * way CoWasm builds them (zig cc -target wasm32-wasi -fPIC -shared): PyInit_hello() returns a
 * PyModuleDef whose method table holds function pointers, and the module uses its own copy of
 * wasi-libc (printf -> WASI fd_write, imported by the library itself).  The "Python API" comes
 * from the main program (main_pyext.c). */
#include <stdio.h>
#include <string.h>

typedef struct _object PyObject;
typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);

typedef struct PyMethodDef {
    const char *ml_name;
    PyCFunction ml_meth;
    int ml_flags;
    const char *ml_doc;
} PyMethodDef;

typedef struct PyModuleDef {
    int m_base[5];
    const char *m_name;
    const char *m_doc;
    long m_size;
    PyMethodDef *m_methods;
} PyModuleDef;

#define METH_O 0x0008

extern PyObject *PyModuleDef_Init(PyModuleDef *def);
extern PyObject *PyLong_FromLong(long value);
extern long PyLong_AsLong(PyObject *obj);
extern const char *PyUnicode_AsUTF8(PyObject *obj);

static PyObject *hello_greet(PyObject *self, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg);
    (void)self;
    printf("hello, %s (printf of the extension module's own libc)\n", name);
    fflush(stdout);
    return PyLong_FromLong((long)strlen(name));
}

static PyObject *hello_square(PyObject *self, PyObject *arg)
{
    long v = PyLong_AsLong(arg);
    (void)self;
    return PyLong_FromLong(v * v);
}

static PyMethodDef hello_methods[] = {
    {"greet", hello_greet, METH_O, "print a greeting, return the name's length"},
    {"square", hello_square, METH_O, "the square of an integer"},
    {0, 0, 0, 0},
};

static PyModuleDef hello_module = {{0}, "hello", "an extension module built with zig", -1, hello_methods};

PyObject *PyInit_hello(void)
{
    return PyModuleDef_Init(&hello_module);
}
