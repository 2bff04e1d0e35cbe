/* liblocal_b.so: the same symbol name with another value. */
int shared_name(void) { return 2; }
int local_b_id(void) { return 2; }
