/* libnested_target.so: what libdlopener.so loads.  target_data is exported data, so the module
 * reaches it through GOT.mem.target_data (a GOT event of the nested load), and target_data_ptr
 * is initialised by a data relocation. */
int target_data = 21;
int *target_data_ptr = &target_data;

int target_twice(int x) { return 2 * x + *target_data_ptr - 21; }
int target_value(void) { return target_data; }
