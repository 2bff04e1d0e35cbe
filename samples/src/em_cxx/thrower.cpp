// libem_thrower.so: C++ exceptions and longjmp that cross the module boundary.
#include <setjmp.h>
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

extern "C" void side_longjmp(jmp_buf env, int value) {
    printf("side_longjmp(%d)\n", value);
    longjmp(env, value);
}
