/* libem_util.so: data, a function and a constructor; NEEDED by libem_greet.so. */
#include <stdio.h>

int util_counter = 100;
const char util_label[] = "util";

int util_scale(int x) { return x * 3; }

__attribute__((constructor)) static void util_init(void) {
    util_counter += 1;
    printf("util ctor: counter %d\n", util_counter);
}
