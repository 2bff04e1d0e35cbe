/* An emscripten program that dlopens each of its arguments and prints `NAME: loaded` or
 * `NAME: failed: DLERROR` (test_emscripten_sandbox.py builds it with emcc -sMAIN_MODULE=2). */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (dlopen(argv[i], RTLD_NOW))
            printf("%s: loaded\n", argv[i]);
        else
            printf("%s: failed: %s\n", argv[i], dlerror());
    }
    return 0;
}
