/* Freestanding output for the WASI sample programs: fd_write and proc_exit, no libc. */
#ifndef WASI_IO_H
#define WASI_IO_H

typedef __SIZE_TYPE__ size_t;

struct wasi_ciovec {
    const void *buf;
    size_t len;
};

__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write")))
int wasi_fd_write(int fd, const struct wasi_ciovec *iovs, size_t count, size_t *written);

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_exit"), noreturn))
void wasi_proc_exit(int code);

static size_t str_len(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static int str_contains(const char *haystack, const char *needle)
{
    size_t n = str_len(needle);
    for (; *haystack; haystack++) {
        size_t i = 0;
        while (i < n && haystack[i] == needle[i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static void put(const char *s)
{
    struct wasi_ciovec iov = {s, str_len(s)};
    size_t written;
    wasi_fd_write(1, &iov, 1, &written);
}

static void put_int(long value)
{
    char buf[24];
    int i = sizeof buf - 1;
    int negative = value < 0;
    unsigned long v = negative ? -(unsigned long)value : (unsigned long)value;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (negative)
        buf[--i] = '-';
    put(buf + i);
}

#endif
