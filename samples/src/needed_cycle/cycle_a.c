/* libcycle_a.so: NEEDED libcycle_b.so, which NEEDS libcycle_a.so back. */
int b_fn(void);
int a_fn(void) { return 1; }
int a_calls_b(void) { return b_fn() + 1; }
