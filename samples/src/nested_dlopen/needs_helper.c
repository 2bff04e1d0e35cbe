/* libneeds_helper.so: static data of its own, and the address of helper_data, which
 * libhelper.so defines.  It is not linked against libhelper.so (no NEEDED entry), so its
 * dlopen fails in the imports stage (GOT.mem.helper_data, not weak) unless libhelper.so was
 * loaded RTLD_GLOBAL first. */
extern int helper_data;

int greeting_len = 5;
const char greeting[] = "hello";
const char *greeting_ptr = greeting;

int *helper_ptr(void) { return &helper_data; }
int helper_value(void) { return helper_data + greeting_len; }
