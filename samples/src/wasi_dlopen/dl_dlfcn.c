/* The dl shim of main_dlfcn / main_nopic: env.dlopen/dlsym/dlerror/dlclose with wasi-libc's
 * <dlfcn.h> values (the `dylink` / CoWasm convention). */
#include "dl.h"

#define RTLD_NOW 2
#define RTLD_GLOBAL 0x100

extern void *dlopen(const char *name, int mode);
extern void *dlsym(void *handle, const char *name);
extern const char *dlerror(void);
extern int dlclose(void *handle);

const int dl_full_api = 1;
const char dl_api_name[] = "env.dlopen/dlsym/dlerror/dlclose";

void *dl_open(const char *name) { return dlopen(name, RTLD_NOW | RTLD_GLOBAL); }
void *dl_open_self(void) { return dlopen(0, RTLD_NOW); }
void *dl_sym(void *handle, const char *name) { return dlsym(handle, name); }
const char *dl_error(void) { return dlerror(); }
int dl_close(void *handle) { return dlclose(handle); }
