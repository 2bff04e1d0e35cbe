/* libweak_def.so: weak DEFINITIONS of a function and of data.
 * In a -shared build a weak definition is both imported (env.wfunc, GOT.mem.wdata) and exported,
 * so the module itself sees whichever definition the loader published first. */
__attribute__((weak)) int wfunc(void) { return 1; }
__attribute__((weak)) int wdata = 1;

int def_call_wfunc(void) { return wfunc(); }
int def_read_wdata(void) { return wdata; }
