// libeh_thrower.so: C++ exceptions with wasm exception handling (-fwasm-exceptions), which
// emscripten 3.1.6 emits in the legacy encoding (try/catch/catch_all/rethrow) that wasmtime
// rejects: dldbg translates it to exnref before compiling.
#include <stdio.h>

struct SideError {
    int code;
};

struct Guard {
    const char *name;
    ~Guard() { printf("~Guard(%s)\n", name); }
};

extern void main_throws(int);  // defined by the main program

extern "C" void side_throw(int code) {
    Guard g{"side_throw"};
    if (code > 0) throw SideError{code};
    printf("side_throw: nothing to throw\n");
}

extern "C" int side_catch(int code) {
    try {
        Guard g{"side_catch"};
        main_throws(code);
    } catch (int value) {
        printf("side caught int %d from main\n", value);
        return value + 1;
    } catch (...) {
        printf("side caught something else\n");
        return -1;
    }
    return 0;
}

// throws and catches inside this module
extern "C" int side_self(int n) {
    try {
        if (n > 2) throw n * 7;
        return n;
    } catch (int value) {
        return value + 1;
    }
}
