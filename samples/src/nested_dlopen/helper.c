/* libhelper.so: defines what libneeds_helper.so uses. */
int helper_data = 37;
int helper_counter = 0;

int helper_get(void) { return helper_data; }
