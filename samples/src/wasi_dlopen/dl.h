/* What main.c needs from a dl API; dl_dlfcn.c and dl_dyld.c implement it. */
extern const char dl_api_name[];
extern const int dl_full_api;  /* dlerror, dlopen(NULL) and dlclose exist */
void *dl_open(const char *name);
void *dl_open_self(void);  /* dlopen(NULL); 0 where the API has no such thing */
void *dl_sym(void *handle, const char *name);
const char *dl_error(void);  /* 0 where the API has no dlerror */
int dl_close(void *handle);
