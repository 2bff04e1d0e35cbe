/* libweak_strong.so: strong definitions of the same two symbols. */
int wfunc(void) { return 2; }
int wdata = 2;

int strong_id(void) { return 2; }
