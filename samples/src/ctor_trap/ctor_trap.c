/* libctor_trap.so: a constructor that traps. */
static volatile int ctor_reached;
__attribute__((constructor)) static void trapping_ctor(void) {
    ctor_reached = 1;
    __builtin_trap();
}
int after_ctor(void) { return 1; }
