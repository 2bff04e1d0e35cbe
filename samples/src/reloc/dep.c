/* libreloc_dep.so: data and a function that libreloc.so points at from its static data. */
int dep_data = 42;
int dep_array[4] = {10, 20, 30, 40};

int dep_square(int x) { return x * x; }
