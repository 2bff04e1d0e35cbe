/* An emscripten main that calls a JS-library function dldbg does not implement (it would run
 * JavaScript): under dldbg the call traps, naming the import, with a wasm backtrace. */
#include <stdio.h>
#include <emscripten.h>

__attribute__((noinline)) int ask_javascript(const char *script) {
    printf("asking JavaScript: %s\n", script);
    return emscripten_run_script_int(script);
}

int main(void) {
    printf("answer %d\n", ask_javascript("6 * 7"));
    return 0;
}
