/* A WASI program that loads libraries: the checks of peer-loaders §1.5 (toywasm's defects)
 * and of the dl API it is linked with (dl_dlfcn.c or dl_dyld.c), one "ok"/"not ok" line each.
 * The exit status is the number of failed checks.
 *
 * Built as a PIE main (`wasm-ld -pie --import-memory --import-table`, NEEDED libneeded.so) and,
 * with -DNO_NEEDED, as a non-PIC main that imports memory and table (the `dylink` style). */
#include "dl.h"
#include "wasi_io.h"

#ifndef NO_NEEDED
extern int needed_add(int, int);
extern int needed_value;
extern int needed_strlen(const char *);
#endif
__attribute__((weak)) extern int weak_missing(int);
extern void __wasm_call_ctors(void);

char main_greeting[] = "hello";
int main_counter = 7;

int main_callback(int x)
{
    return x * 2 + 1;
}

int (*main_callback_ptr)(int) = main_callback;

static int failures;

static void check(int ok, const char *what)
{
    put(ok ? "ok " : "not ok ");
    put(what);
    put("\n");
    if (!ok)
        failures++;
}

#define GROWN_PAGES 4
#define PATTERN(i) ((unsigned char)((i) * 7 + 3))

void _start(void)
{
    __wasm_call_ctors();
    put("dl API: ");
    put(dl_api_name);
    put("\n");

    check((unsigned long)main_greeting >= 1024 && (unsigned long)&main_counter >= 1024
              && (unsigned long)&main_callback_ptr >= 1024,
          "the main program's data is not at address 0");
    check(main_callback_ptr == main_callback && main_callback_ptr(20) == 41,
          "a function pointer in the main's data is relocated");
    check(weak_missing == 0, "an undefined weak function is NULL");
#ifndef NO_NEEDED
    check(needed_strlen(main_greeting) == 5, "a NEEDED library reads the main's string");
    check(needed_add(2, 40) == 42, "the main calls a NEEDED library");
    check(needed_value == 40, "the main reads a NEEDED library's data (GOT.mem)");
#endif

    /* Memory the program grows itself (as sbrk does) must survive a later dlopen. */
    unsigned long grown = (unsigned long)__builtin_wasm_memory_grow(0, GROWN_PAGES) * 65536;
    unsigned char *mine = (unsigned char *)grown;
    for (unsigned long i = 0; i < GROWN_PAGES * 65536; i++)
        mine[i] = PATTERN(i);

    void *plugin = dl_open("libplugin.so");
    check(plugin != 0, "dlopen libplugin.so");
    if (!plugin) {
        const char *err = dl_error();
        if (err) {
            put(err);
            put("\n");
        }
        wasi_proc_exit(100);
    }
    int intact = 1;
    for (unsigned long i = 0; i < GROWN_PAGES * 65536; i++)
        intact &= mine[i] == PATTERN(i);
    check(intact, "dlopen leaves memory the program grew itself alone");
    unsigned char *big = dl_sym(plugin, "plugin_big");
    check(big && big[4095] == 1 && (big + 4096 <= mine || big >= mine + GROWN_PAGES * 65536),
          "the library's data lies outside the program's memory");

    int *counter = dl_sym(plugin, "plugin_counter");
    check(counter && *counter == 100, "the library's constructor ran (dlsym of data)");
    int (*calls_main)(int) = (int (*)(int))dl_sym(plugin, "plugin_calls_main");
    check(calls_main && calls_main(5) == 12, "the library calls back into the main (dlsym of a function)");
    void *(*address_of)(void) = (void *(*)(void))dl_sym(plugin, "plugin_main_callback_address");
    check(address_of && address_of() == (void *)&main_callback,
          "&main_callback is the same in the main and in the library");

    void *again = dl_open("libplugin.so");
    check(again == plugin, "a second dlopen gives the same handle");
    check(again && dl_sym(again, "plugin_counter") == counter, "... and the same data, not a second copy");
#ifndef NO_NEEDED
    void *needed = dl_open("libneeded.so");
    check(needed && dl_sym(needed, "needed_value") == &needed_value,
          "dlopen of a NEEDED library gives the instance already loaded");
#endif

    check(dl_sym(plugin, "no_such_symbol") == 0, "dlsym of a missing symbol fails");
    const char *err = dl_error();
    if (dl_full_api)
        check(err && str_contains(err, "no_such_symbol"), "dlerror names the missing symbol");
    check(dl_open("libmissing.so") == 0, "dlopen of a missing library fails");
    err = dl_error();
    if (dl_full_api) {
        check(err && str_contains(err, "libmissing.so"), "dlerror names the missing library");
        check(dl_error() == 0, "dlerror is cleared once read");
        void *self = dl_open_self();
        check(self && dl_sym(self, "main_callback") == (void *)&main_callback,
              "dlopen(NULL) finds the main's functions");
        check(dl_close(plugin) == 0, "dlclose");
    }

    put(failures ? "FAILED " : "PASSED ");
    put_int(failures);
    put(" failures\n");
    wasi_proc_exit(failures);
}
