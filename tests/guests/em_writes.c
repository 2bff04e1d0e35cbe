/* An emscripten program that changes its own folder (`/`) and `/data`, then prints what it
 * sees.  test_emscripten_sandbox.py builds it with emcc -sMAIN_MODULE=2 and checks that the
 * host folder behind `/` is never changed (writes go to the program's private layer) while a
 * `--dir` folder is. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *path)
{
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("%s: %s\n", path, strerror(errno));
        return;
    }
    fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    printf("%s: %s\n", path, buf);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        printf("write %s: %s\n", path, strerror(errno));
        return;
    }
    fputs(text, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "";
    char path[256];
    snprintf(path, sizeof path, "%s/new.txt", base);
    put(path, "created by the guest");
    show(path);
    snprintf(path, sizeof path, "%s/existing.txt", base);
    put(path, "overwritten by the guest");
    show(path);
    snprintf(path, sizeof path, "%s/hostlink.txt", base);
    put(path, "written through a host link");
    snprintf(path, sizeof path, "%s/guestlink", base);
    printf("symlink: %d\n", symlink("/etc/passwd", path));
    show(path);
    snprintf(path, sizeof path, "%s/gone.txt", base);
    printf("unlink: %d\n", unlink(path));
    show(path);
    char to[256];
    snprintf(path, sizeof path, "%s/old.txt", base);
    snprintf(to, sizeof to, "%s/renamed.txt", base);
    printf("rename: %d\n", rename(path, to));
    show(to);
    snprintf(path, sizeof path, "%s/newdir", base);
    printf("mkdir: %d\n", mkdir(path, 0755));
    snprintf(path, sizeof path, "%s/newdir/inner.txt", base);
    put(path, "inner");
    show(path);
    DIR *dir = opendir(base[0] ? base : "/");
    struct dirent *entry;
    printf("listing:");
    while (dir && (entry = readdir(dir)))
        if (strstr(entry->d_name, ".txt") || !strcmp(entry->d_name, "newdir") || !strcmp(entry->d_name, "guestlink"))
            printf(" %s", entry->d_name);
    printf("\n");
    return 0;
}
