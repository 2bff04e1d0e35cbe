// An emscripten C++ main (-sMAIN_MODULE=2 -fwasm-exceptions) linked with libeh_thrower.so:
// exceptions thrown in one module and caught in the other (through the main's lazily bound
// imports of the side module's functions), destructors on the way, and a module catching its
// own.  Both modules use the legacy exception-handling encoding.
#include <stdio.h>

struct SideError {
    int code;
};

extern "C" void side_throw(int code);
extern "C" int side_catch(int code);
extern "C" int side_self(int n);

void main_throws(int code) {
    if (code) throw code * 100;
}

int main() {
    for (int code = 0; code < 3; code++) {
        try {
            side_throw(code);
            printf("code %d: no exception\n", code);
        } catch (const SideError &e) {
            printf("code %d: main caught SideError %d\n", code, e.code);
        }
    }
    try {
        side_throw(7);
    } catch (...) {
        printf("main caught something\n");
    }
    printf("side_catch -> %d\n", side_catch(4));
    printf("side_self -> %d %d\n", side_self(1), side_self(5));
    try {
        main_throws(1);
    } catch (int value) {
        printf("main caught its own %d\n", value);
    }
    return 0;
}
