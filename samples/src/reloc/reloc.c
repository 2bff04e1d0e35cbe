/* libreloc.so (NEEDED libreloc_dep.so): pointers in static data that the loader must relocate.
 *
 * `tbl` is initialised with addresses, so the linker turns every field into a data relocation
 * (applied by __wasm_apply_data_relocs, or by the start function with LLD 14).  Fields point at:
 * data of the dependency (plus an addend), a function of the dependency, own data (exported and
 * static), own functions (exported and static) and a string literal.  Every getter returns 1 when
 * its pointer is right, so a wrong relocation shows up as 0 (or as a trap when a bad function
 * pointer is called).
 */
extern int dep_data;
extern int dep_array[4];
int dep_square(int x);

int own_data = 7;
static int own_static = 11;

int own_fn(int x) { return x + 1000; }
static int triple(int x) { return 3 * x; }

/* bss: must read as zero after loading.  bss_touch() exists so the compiler cannot assume the
 * static array stays zero. */
int bss_array[64];
static int bss_static[16];

struct table {
    int *p_dep;          /* &dep_data                 -> 42 */
    int *p_dep_elem;     /* &dep_array[2] (addend 8)  -> 30 */
    int (*f_dep)(int);   /* dep_square                -> f(3) == 9 */
    int *p_own;          /* &own_data                 -> 7 */
    int *p_static;       /* &own_static               -> 11 */
    int (*f_own)(int);   /* own_fn                    -> f(1) == 1001 */
    int (*f_static)(int);/* triple                    -> f(5) == 15 */
    const char *str;     /* "hello" */
};

struct table tbl = {
    &dep_data, &dep_array[2], dep_square, &own_data, &own_static, own_fn, triple, "hello",
};

/* Set by the constructor, reading through two relocated pointers: 42 + dep_square(2) = 46.
 * It is 46 only if the data relocations ran before the constructor. */
static int ctor_state;
static int ctor_runs;

__attribute__((constructor)) static void reloc_ctor(void) {
    ctor_state = *tbl.p_dep + tbl.f_dep(2);
    ctor_runs++;
}

int get_dep_data_ptr_ok(void) { return *tbl.p_dep == 42 && tbl.p_dep == &dep_data; }
int get_dep_elem_ptr_ok(void) { return *tbl.p_dep_elem == 30 && tbl.p_dep_elem == &dep_array[2]; }
int get_dep_fn_ptr_ok(void) { return tbl.f_dep(3) == 9 && tbl.f_dep == dep_square; }
int get_own_data_ptr_ok(void) { return *tbl.p_own == 7 && tbl.p_own == &own_data; }
int get_own_static_ptr_ok(void) { return *tbl.p_static == 11; }
int get_own_fn_ptr_ok(void) { return tbl.f_own(1) == 1001 && tbl.f_own == own_fn; }
int get_static_fn_ptr_ok(void) { return tbl.f_static(5) == 15; }
int get_str_ptr_ok(void) {
    const char *s = tbl.str;
    return s[0] == 'h' && s[1] == 'e' && s[4] == 'o' && s[5] == 0;
}

int get_bss_ok(void) {
    for (int i = 0; i < 64; i++)
        if (bss_array[i] != 0) return 0;
    for (int i = 0; i < 16; i++)
        if (bss_static[i] != 0) return 0;
    return 1;
}
void bss_touch(int i, int v) { bss_static[i & 15] = v; }

int get_ctor_ok(void) { return ctor_state == 46 && ctor_runs == 1; }
int get_ctor_state(void) { return ctor_state; }
int get_ctor_runs(void) { return ctor_runs; }

/* Raw values and other result types. */
int get_dep_value(void) { return *tbl.p_dep; }                  /* 42 */
int apply_dep_fn(int x) { return tbl.f_dep(x); }               /* x * x */
int apply_own_fn(int x) { return tbl.f_own(x); }               /* x + 1000 */
float get_half_own(void) { return *tbl.p_own / 2.0f; }          /* 3.5 */
double get_dep_eighth(void) { return *tbl.p_dep / 8.0; }        /* 5.25 */
long long get_dep_shifted(void) { return (long long)*tbl.p_dep << 33; } /* 360777252864 */
