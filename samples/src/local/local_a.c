/* liblocal_a.so */
int shared_name(void) { return 1; }
int local_a_id(void) { return 1; }
