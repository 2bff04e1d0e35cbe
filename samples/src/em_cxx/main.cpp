// An emscripten C++ main (-sMAIN_MODULE=2 -fexceptions) linked with libem_thrower.so: exceptions
// thrown in one module and caught in the other, destructors on the way, and longjmp from the
// side module back to a setjmp in the main.
#include <setjmp.h>
#include <stdio.h>

struct SideError {
    int code;
};

extern "C" void side_throw(int code);
extern "C" int side_catch(int code);
extern "C" void side_longjmp(jmp_buf env, int value);

void main_throws(int code) {
    if (code) throw code * 100;
}

static jmp_buf env;

int main() {
    for (int code = 0; code < 3; code++) {
        try {
            side_throw(code);
            printf("code %d: no exception\n", code);
        } catch (const SideError &e) {
            printf("code %d: main caught SideError %d\n", code, e.code);
        }
    }
    printf("side_catch -> %d\n", side_catch(4));
    int jumped = setjmp(env);
    if (jumped == 0) {
        side_longjmp(env, 9);
        printf("not reached\n");
    } else {
        printf("back in main after longjmp: %d\n", jumped);
    }
    try {
        main_throws(1);
    } catch (int value) {
        printf("main caught its own %d\n", value);
    }
    return 0;
}
