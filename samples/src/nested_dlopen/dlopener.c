/* libdlopener.so: wasm code that calls the dl API itself.  dlopen, dlsym and dlclose are imported
 * from env (in a real program the main module's libc provides them; dldbg's debugger host
 * provides them to side modules), so a load started here runs inside a host import, with this
 * module's frames live below it.  notify_started() is an import a test host uses to learn that
 * spin() is running. */
void *dlopen(const char *filename, int flags);
void *dlsym(void *handle, const char *symbol);
int dlclose(void *handle);
void notify_started(void);

#define RTLD_NOW 2
#define RTLD_GLOBAL 256

typedef int (*twice_fn)(int);

/* Loads libnested_target.so, looks up target_twice and calls it: 2 * x. */
int open_and_call(int x) {
    void *handle = dlopen("libnested_target.so", RTLD_NOW | RTLD_GLOBAL);
    if (!handle) return -1;
    twice_fn twice = (twice_fn)dlsym(handle, "target_twice");
    if (!twice) return -2;
    return twice(x);
}

/* dlopen of a library that is not there: 0 (NULL) comes back, nothing traps. */
int open_missing(void) {
    return dlopen("libnot_here.so", RTLD_NOW) == 0 ? 1 : 0;
}

/* dlopen of a name the caller passes (a string argument): the handle, or 0. */
int open_named(const char *name) {
    return (int)(long)dlopen(name, RTLD_NOW | RTLD_GLOBAL);
}

/* The length of a C string, counted in wasm. */
int string_length(const char *s) {
    int n = 0;
    while (s[n]) n++;
    return n;
}

int opener_id(void) { return 7; }

/* Never returns: for interrupting running wasm (Ctrl-C). */
int spin(void) {
    volatile int n = 0;
    notify_started();
    for (;;) n++;
    return n;
}
