/* libcycle_b.so: NEEDED libcycle_a.so. */
int a_fn(void);
int b_fn(void) { return a_fn() + 10; }
