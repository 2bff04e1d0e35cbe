/* libem_async.so: opened with emscripten_dlopen; its callback runs after main() returned. */
#include <stdio.h>

__attribute__((constructor)) static void async_init(void) { printf("async ctor\n"); }

int async_answer(void) { return 7 * 6; }
