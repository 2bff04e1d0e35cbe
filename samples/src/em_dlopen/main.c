/* An emscripten main module that opens side modules at run time: dlopen/dlsym/dlerror/dlclose
 * and emscripten_dlopen, whose callback runs from the event loop after main() returns. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <emscripten.h>

static int twice(int x) { return 2 * x; }

EMSCRIPTEN_KEEPALIVE int main_exported(void) { return 1234; }

static void on_loaded(void *user, void *handle) {
    int (*answer)(void) = (int (*)(void))dlsym(handle, "async_answer");
    printf("async loaded: %s, answer %d\n", (const char *)user, answer ? answer() : -1);
}

static void on_error(void *user) {
    printf("async error: %s: %s\n", (const char *)user, dlerror());
}

int main(void) {
    void *missing = dlopen("libnot_there.so", RTLD_NOW);
    printf("missing: %p\n", missing);
    printf("dlerror: %s\n", dlerror());

    void *h = dlopen("libem_plugin.so", RTLD_NOW);
    if (!h) { printf("dlopen failed: %s\n", dlerror()); return 1; }
    const char *(*name)(void) = (const char *(*)(void))dlsym(h, "plugin_name");
    int (*apply)(int (*)(int), int) = (int (*)(int (*)(int), int))dlsym(h, "plugin_apply");
    int *value = (int *)dlsym(h, "plugin_value");
    printf("name %s, apply %d, value %d\n", name(), apply(twice, 5), *value);
    *value = 50;
    printf("apply after write %d\n", apply(twice, 5));

    void *sym = dlsym(h, "no_such_symbol");
    printf("no_such_symbol: %p, dlerror: %s\n", sym, dlerror());
    printf("dlerror again: %s\n", dlerror() ? "set" : "(null)");

    void *again = dlopen("libem_plugin.so", RTLD_NOW);
    int (*loads)(void) = (int (*)(void))dlsym(again, "plugin_loads");
    printf("same handle: %s, loads %d\n", again == h ? "yes" : "no", loads());

    void *self = dlopen(NULL, RTLD_NOW);
    int (*exported)(void) = (int (*)(void))dlsym(self, "main_exported");
    printf("main_exported via dlopen(NULL): %d\n", exported ? exported() : -1);
    printf("dlclose: %d\n", dlclose(h));

    emscripten_dlopen("libem_async.so", RTLD_NOW, "libem_async.so", on_loaded, on_error);
    emscripten_dlopen("libnot_there_either.so", RTLD_NOW, "libnot_there_either.so", on_loaded, on_error);
    printf("main returns\n");
    return 0;
}
