/* libweak_user.so: plain (strong) references to wfunc and wdata.  It is linked against no
 * library, so what it sees depends only on which definition was published first. */
int wfunc(void);
extern int wdata;

int user_call_wfunc(void) { return wfunc(); }
int user_read_wdata(void) { return wdata; }
