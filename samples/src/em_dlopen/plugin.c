/* libem_plugin.so: opened at run time with dlopen. */
#include <stdio.h>

int plugin_value = 42;
static int loads;

__attribute__((constructor)) static void plugin_init(void) {
    loads++;
    printf("plugin ctor (load %d)\n", loads);
}

const char *plugin_name(void) { return "em_plugin"; }

/* Calls a function pointer that lives in the main module. */
int plugin_apply(int (*fn)(int), int x) { return fn(x) + plugin_value; }

int plugin_loads(void) { return loads; }
