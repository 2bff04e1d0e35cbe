/* libneeded.so: NEEDED by the PIE mains (linked against it); also dlopen'd by name. */
int needed_value = 40;

int needed_add(int a, int b)
{
    return a + b;
}

/* -1 for NULL: a main whose data sits at address 0 (toywasm) passes NULL here. */
int needed_strlen(const char *s)
{
    int n = 0;
    if (!s)
        return -1;
    while (s[n])
        n++;
    return n;
}
