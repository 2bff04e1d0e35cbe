/* libweak_undef.so: weak UNDEFINED function and data that nobody defines.
 * IMPORT_INFO marks them weak, so the loader resolves their addresses to 0 instead of failing. */
extern int wu_func(void) __attribute__((weak));
extern int wu_data __attribute__((weak));

int undef_func_is_null(void) { return wu_func == 0; }
int undef_data_is_null(void) { return &wu_data == 0; }
/* -1 when the function is absent (it is never called then). */
int call_wu_func_if_present(void) { return wu_func ? wu_func() : -1; }
int read_wu_data_if_present(void) { return &wu_data ? wu_data : -1; }
