/* benchmarks/growth.py's program: dlopen()s each library named on the command line, in order
 * (RTLD_NOW | RTLD_GLOBAL), timing each dlopen with emscripten_get_now(); then calls the
 * `sum` function of the libraries that export one.  The same program runs under node
 * (emscripten's loader) and dldbg, so both time the same thing: the load itself. */
#include <dlfcn.h>
#include <emscripten.h>
#include <stdio.h>

int main(int argc, char **argv) {
    void *handles[16];
    for (int i = 1; i < argc && i < 16; i++) {
        double began = emscripten_get_now();
        handles[i] = dlopen(argv[i], RTLD_NOW | RTLD_GLOBAL);
        double ms = emscripten_get_now() - began;
        if (!handles[i]) { printf("dlopen %s: %s\n", argv[i], dlerror()); return 1; }
        printf("load %s %.3f ms\n", argv[i], ms);
    }
    for (int i = 1; i < argc && i < 16; i++) {
        int (*sum)(void) = (int (*)(void))dlsym(handles[i], "sum");
        if (sum) printf("sum %s %d\n", argv[i], sum());
    }
    return 0;
}
