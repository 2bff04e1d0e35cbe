/* The dl shim of main_dyld: toywasm's dyld.load_object / dyld.resolve_symbol host functions
 * (libdyld/dyld_dlfcn.c), used the way toywasm's examples/libdl does. */
#include "dl.h"
#include "wasi_io.h"

#define DYLD_SYMBOL_TYPE_FUNC 1
#define DYLD_SYMBOL_TYPE_MEMORY 2

__attribute__((import_module("dyld"), import_name("load_object")))
int dyld_load_object(const char *name, size_t len, int mode, void **handle);
__attribute__((import_module("dyld"), import_name("resolve_symbol")))
int dyld_resolve_symbol(void *handle, int type, const char *name, size_t len, void **addr);

const int dl_full_api = 0;
const char dl_api_name[] = "dyld.load_object/resolve_symbol";

void *dl_open(const char *name)
{
    void *handle;
    return dyld_load_object(name, str_len(name), 0, &handle) ? 0 : handle;
}

void *dl_open_self(void) { return 0; }

void *dl_sym(void *handle, const char *name)
{
    void *addr;
    if (!dyld_resolve_symbol(handle, DYLD_SYMBOL_TYPE_FUNC, name, str_len(name), &addr))
        return addr;
    if (!dyld_resolve_symbol(handle, DYLD_SYMBOL_TYPE_MEMORY, name, str_len(name), &addr))
        return addr;
    return 0;
}

const char *dl_error(void) { return 0; }
int dl_close(void *handle) { (void)handle; return 0; }
