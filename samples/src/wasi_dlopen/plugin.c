/* libplugin.so: dlopen'd by the mains.  Calls back into the main program, takes the address of
 * a main function (function pointer identity), and has 4096 bytes of data that must not land
 * in memory the program grew itself (toywasm placed them there: peer-loaders §1.5 defect 2). */
extern int main_callback(int);
__attribute__((weak)) extern int plugin_weak_missing(void);

int plugin_counter;
unsigned char plugin_big[4096];

__attribute__((constructor)) static void plugin_init(void)
{
    plugin_counter = 100 + (plugin_weak_missing ? plugin_weak_missing() : 0);
    plugin_big[sizeof plugin_big - 1] = 1;
}

int plugin_calls_main(int x)
{
    return main_callback(x) + 1;
}

void *plugin_main_callback_address(void)
{
    return (void *)&main_callback;
}
