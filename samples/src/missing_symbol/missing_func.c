/* libmissing_func.so: calls a function nobody defines.  Function imports are bound lazily, so
 * loading succeeds; only calling call_missing() traps. */
int does_not_exist(void);
int call_missing(void) { return does_not_exist() + 1; }
int no_call(void) { return 5; }
