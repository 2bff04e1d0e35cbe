/* libselfimport.so: a module that imports its own exports.
 * The weak definition self_f is both imported (env.self_f, called through the import) and
 * exported (self_f); self_data is defined here and read through GOT.mem.self_data.  The loader
 * must resolve the imports from the module's own exports after instantiation. */
__attribute__((weak)) int self_f(void) { return 77; }
int self_data = 5;

int call_self(void) { return self_f(); }                   /* 77 */
int read_self_data(void) { return self_data; }             /* 5 */
/* volatile keeps the indirect call, so the address really comes from GOT.func.self_f */
int self_ptr_call(void) { int (*volatile p)(void) = self_f; return p(); } /* 77 */
int *self_data_addr(void) { return &self_data; }
