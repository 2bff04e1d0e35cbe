/* libmissing_data.so: takes the address of data nobody defines (GOT.mem.missing_data, not weak).
 * Data addresses are bound eagerly, so loading fails. */
extern int missing_data;
int *get_missing_addr(void) { return &missing_data; }
int read_missing(void) { return missing_data; }
