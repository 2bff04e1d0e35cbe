/* An emscripten main module (-sMAIN_MODULE=2) linked with libem_greet.so, which is loaded
 * (with its NEEDED libem_util.so) before main(): load-time dynamic linking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <emscripten.h>

extern char *greet(const char *who);
extern void *greet_scale_address(void);
extern int greet_sum(int n);
extern int util_scale(int);
extern int util_counter;

static int calls;

EMSCRIPTEN_KEEPALIVE int main_callback(int x) {
    calls++;
    return x * 10;
}

__attribute__((constructor)) static void main_init(void) {
    printf("main ctor\n");
}

int main(int argc, char **argv) {
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++) printf("arg %d: %s\n", i, argv[i]);
    char *text = greet(argc > 1 ? argv[1] : "world");
    printf("%s\n", text);
    free(text);
    printf("same util_scale in main and side: %s\n",
           greet_scale_address() == (void *)util_scale ? "yes" : "no");
    printf("sum %d, counter %d, callbacks %d\n", greet_sum(4), util_counter, calls);

    FILE *f = fopen("/tmp/em_loadtime.txt", "w");
    if (!f) { perror("fopen"); return 1; }
    fprintf(f, "written by main: %d\n", util_scale(14));
    fclose(f);
    f = fopen("/tmp/em_loadtime.txt", "r");
    char line[64] = {0};
    if (!f || !fgets(line, sizeof line, f)) { printf("reading back failed\n"); return 1; }
    fclose(f);
    printf("read back: %s", line);
    printf("HOME=%s\n", getenv("HOME"));
    fprintf(stderr, "done, exiting with 3\n");
    return 3;
}
