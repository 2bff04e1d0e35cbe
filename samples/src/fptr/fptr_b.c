/* libfptr_b.so (NEEDED libfptr_a.so): function-pointer identity across modules.
 * A function has ONE address (table index) in the process, whichever module takes it. */
typedef int (*fn_t)(int);

int fa(int x);
fn_t get_fa_ptr(void);
int is_fa(fn_t f);
void a_store(fn_t f);
fn_t a_load(void);
int a_call_stored(int x);

int fb(int x) { return x * 2; }

/* The same address, taken at load time through a data relocation. */
fn_t fa_static = fa;

int fa_ptr_equal(void) { return get_fa_ptr() == fa; }            /* B's &fa == A's &fa */
int fa_ptr_equal_in_a(void) { return is_fa(fa); }                 /* compared inside A */
int fa_static_equal(void) { return fa_static == get_fa_ptr(); }   /* relocated copy */
int fa_call_through_ptr(void) { return get_fa_ptr()(5); }         /* 105 */

/* B's own function pointer stored in A's data, compared after the round trip, called from A. */
int fb_roundtrip_equal(void) {
    a_store(fb);
    return a_load() == fb;
}
int fb_called_from_a(void) {
    a_store(fb);
    return a_call_stored(21); /* 42 */
}
fn_t get_fb_ptr(void) { return fb; }
