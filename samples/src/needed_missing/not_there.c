/* libnot_there.so: linked against, then deleted from the output. */
int not_there_fn(void) { return 9; }
