/* libem_greet.so (NEEDED libem_util.so): uses the main's libc (printf, malloc, snprintf),
 * calls back into the main, and keeps relocated pointers to another module's data and code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int util_counter;
extern const char util_label[];
extern int util_scale(int);
extern int main_callback(int);          /* defined by the main program */

/* Static data pointing into libem_util.so: filled by relocations before any constructor. */
static int *counter_ptr = &util_counter;
static int (*scale_ptr)(int) = util_scale;
static const char *label_ptr = util_label;

static int greet_ready;

__attribute__((constructor)) static void greet_init(void) {
    greet_ready = *counter_ptr + scale_ptr(2);
    printf("greet ctor: %s counter %d, ready %d\n", label_ptr, *counter_ptr, greet_ready);
}

char *greet(const char *who) {
    size_t n = strlen(who) + 32;
    char *text = malloc(n);
    snprintf(text, n, "hello, %s (%d)", who, main_callback(greet_ready));
    return text;
}

void *greet_scale_address(void) { return (void *)util_scale; }

int greet_sum(int n) {
    int total = 0;
    for (int i = 1; i <= n; i++) total += scale_ptr(i);
    return total;
}
