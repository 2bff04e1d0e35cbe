/* libfptr_a.so: exports fa and hands out its address; stores and calls pointers given to it. */
typedef int (*fn_t)(int);

int fa(int x) { return x + 100; }

fn_t get_fa_ptr(void) { return fa; }
int is_fa(fn_t f) { return f == fa; }

static fn_t stored;
void a_store(fn_t f) { stored = f; }
fn_t a_load(void) { return stored; }
int a_call_stored(int x) { return stored(x); }
