/* deps/libchain_b.so: NEEDED libchain_c.so, found through RUNTIME_PATH "${ORIGIN}". */
int chain_next_seq(void);
int c_value(void);
extern int c_data;

static int b_order;

__attribute__((constructor)) static void chain_b_ctor(void) { b_order = chain_next_seq(); }

int b_value(void) { return c_value() * c_data; } /* 7 * 6 = 42 */
int b_order_value(void) { return b_order; }
