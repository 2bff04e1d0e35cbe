/* libchain_a.so: NEEDED libchain_b.so, found through RUNTIME_PATH "$ORIGIN/deps". */
int chain_next_seq(void);
int b_value(void);
int b_order_value(void);
int c_order_value(void);

static int a_order;

__attribute__((constructor)) static void chain_a_ctor(void) { a_order = chain_next_seq(); }

int a_value(void) { return b_value() + 58; } /* 42 + 58 = 100 */
int a_order_value(void) { return a_order; }

/* 100 * c + 10 * b + a: 123 when the constructors ran c, then b, then a. */
int order_code(void) { return 100 * c_order_value() + 10 * b_order_value() + a_order; }
