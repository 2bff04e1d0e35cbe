/* libneeds_missing.so: NEEDED libnot_there.so, which does not exist in the output folder. */
int not_there_fn(void);
int call_not_there(void) { return not_there_fn(); }
int needs_missing_id(void) { return 4; }
