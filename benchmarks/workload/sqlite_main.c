/* The real workload of benchmarks/workload.py: an emscripten MAIN_MODULE program that
 * dlopen()s SQLite (built as a side module from the amalgamation npm's better-sqlite3 ships)
 * and works with it: a table of ROWS rows inserted through a prepared statement in one
 * transaction, an index, grouped aggregates, a join and a LIKE scan.  It prints what the
 * queries return, so that node and dldbg can be checked to give the same answers. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef int (*callback_t)(void *, int, char **, char **);

static int (*open_db)(const char *, sqlite3 **);
static int (*exec_sql)(sqlite3 *, const char *, callback_t, void *, char **);
static int (*prepare)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
static int (*bind_int)(sqlite3_stmt *, int, int);
static int (*bind_double)(sqlite3_stmt *, int, double);
static int (*bind_text)(sqlite3_stmt *, int, const char *, int, void (*)(void *));
static int (*step)(sqlite3_stmt *);
static int (*reset)(sqlite3_stmt *);
static int (*finalize)(sqlite3_stmt *);
static int (*close_db)(sqlite3 *);
static const char *(*libversion)(void);

static int print_row(void *label, int n, char **values, char **names) {
    printf("%s:", (const char *)label);
    for (int i = 0; i < n; i++) printf(" %s=%s", names[i], values[i] ? values[i] : "NULL");
    printf("\n");
    return 0;
}

static void *sym(void *lib, const char *name) {
    void *p = dlsym(lib, name);
    if (!p) { printf("dlsym %s: %s\n", name, dlerror()); exit(2); }
    return p;
}

static void run(sqlite3 *db, const char *label, const char *sql) {
    char *err = 0;
    if (exec_sql(db, sql, print_row, (void *)label, &err)) { printf("%s: error %s\n", label, err); exit(3); }
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "libsqlite3.so";
    int rows = argc > 2 ? atoi(argv[2]) : 20000;
    void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!lib) { printf("dlopen: %s\n", dlerror()); return 1; }
    open_db = sym(lib, "sqlite3_open"); exec_sql = sym(lib, "sqlite3_exec");
    prepare = sym(lib, "sqlite3_prepare_v2"); bind_int = sym(lib, "sqlite3_bind_int");
    bind_double = sym(lib, "sqlite3_bind_double"); bind_text = sym(lib, "sqlite3_bind_text");
    step = sym(lib, "sqlite3_step"); reset = sym(lib, "sqlite3_reset");
    finalize = sym(lib, "sqlite3_finalize"); close_db = sym(lib, "sqlite3_close");
    libversion = sym(lib, "sqlite3_libversion");
    printf("sqlite %s, %d rows\n", libversion(), rows);

    sqlite3 *db;
    if (open_db(":memory:", &db)) { printf("open failed\n"); return 1; }
    run(db, "create", "CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, price REAL);"
                      "CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);");
    run(db, "begin", "BEGIN");
    sqlite3_stmt *ins;
    prepare(db, "INSERT INTO item(grp, name, price) VALUES (?, ?, ?)", -1, &ins, 0);
    char name[32];
    unsigned seed = 12345;
    for (int i = 0; i < rows; i++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(name, sizeof name, "item-%u-%d", (seed >> 8) % 100000, i);
        bind_int(ins, 1, (int)((seed >> 16) % 97));
        bind_text(ins, 2, name, -1, (void (*)(void *))-1); /* SQLITE_TRANSIENT */
        bind_double(ins, 3, ((seed >> 4) % 100000) / 100.0);
        if (step(ins) != 101) { printf("insert failed at %d\n", i); return 1; }
        reset(ins);
    }
    finalize(ins);
    for (int g = 0; g < 97; g++) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO grp VALUES (%d, 'group %02d');", g, g);
        run(db, "grp", sql);
    }
    run(db, "commit", "COMMIT");
    run(db, "index", "CREATE INDEX item_grp ON item(grp, price)");
    run(db, "totals", "SELECT count(*) AS n, sum(grp) AS grps, printf('%.2f', sum(price)) AS total FROM item");
    run(db, "top", "SELECT g.label, count(*) AS n, printf('%.2f', avg(i.price)) AS avg FROM item i "
                   "JOIN grp g ON g.id = i.grp GROUP BY i.grp ORDER BY avg DESC, g.label LIMIT 5");
    run(db, "like", "SELECT count(*) AS n FROM item WHERE name LIKE 'item-9%'");
    run(db, "range", "SELECT count(*) AS n, printf('%.2f', max(price)) AS mx FROM item WHERE grp = 42 AND price < 500");
    run(db, "sorted", "SELECT name FROM item ORDER BY price DESC, id LIMIT 3");
    close_db(db);
    return 0;
}
