/* libtls_user.so (NEEDED libtls.so): reads the other module's thread-local through GOT.mem. */
extern _Thread_local int tls_counter;
int tls_get(void);
int *tls_addr(void);

int user_get(void) { return tls_counter; }                  /* 5 */
int user_inc(void) { return ++tls_counter; }                /* 6 */
/* Increment here, read back through the owner: 6 only if both see the same variable. */
int user_shared_ok(void) { ++tls_counter; return tls_get() == 6; }
int user_addr_equal(void) { return &tls_counter == tls_addr(); }
