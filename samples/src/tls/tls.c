/* libtls.so: an exported thread-local variable.  Without shared memory the linker lowers TLS
 * to ordinary data (one copy, __tls_base is a constant); with shared memory (tls_mt) the export
 * is an offset from __tls_base and EXPORT_INFO flags it TLS. */
_Thread_local int tls_counter = 5;

int tls_get(void) { return tls_counter; }
int tls_inc(void) { return ++tls_counter; }
int *tls_addr(void) { return &tls_counter; }
