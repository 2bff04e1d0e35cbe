/* A WASI program that dlopens each of its arguments and prints, one line per argument,
 * `NAME: loaded` or `NAME: failed: DLERROR` (newlines in the message as ` | `).  The sandbox
 * tests (test_wasi_sandbox.py) build it with clang-16 as a non-PIC main. */
#include "../../samples/src/wasi_dlopen/wasi_io.h"

#define RTLD_NOW 2

extern void *dlopen(const char *name, int mode);
extern const char *dlerror(void);

__attribute__((import_module("wasi_snapshot_preview1"), import_name("args_sizes_get")))
int wasi_args_sizes_get(size_t *argc, size_t *size);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("args_get")))
int wasi_args_get(char **argv, char *buf);

static char arg_buf[8192];
static char *args[128];

void _start(void)
{
    size_t argc, size;
    if (wasi_args_sizes_get(&argc, &size) || argc > 128 || size > sizeof arg_buf)
        wasi_proc_exit(2);
    wasi_args_get(args, arg_buf);
    int failures = 0;
    for (size_t i = 1; i < argc; i++) {
        put(args[i]);
        if (dlopen(args[i], RTLD_NOW)) {
            put(": loaded\n");
            continue;
        }
        failures++;
        put(": failed: ");
        const char *err = dlerror();
        for (; err && *err; err++) {
            char c[2] = {*err == '\n' ? '|' : *err, 0};
            put(c);
        }
        put("\n");
    }
    wasi_proc_exit(failures);
}
