/* deps/libchain_c.so: the end of the chain.  It also owns the load-order counter (volatile, so
 * the compiler cannot evaluate this module's constructor at compile time). */
static volatile int load_seq;
static int c_order;

int chain_next_seq(void) { return ++load_seq; }

__attribute__((constructor)) static void chain_c_ctor(void) { c_order = chain_next_seq(); }

int c_data = 6;
int c_value(void) { return 7; }
int c_order_value(void) { return c_order; }
