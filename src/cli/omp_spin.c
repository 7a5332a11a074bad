/*
 * OpenMP's spinning, tamed for the command (see cli.h): libgomp reads GOMP_SPINCOUNT when it
 * is loaded, before main, so the command sets it and executes itself again, once.  This is
 * the program's business, not the library's: a program that embeds libtoonify chooses its own
 * OpenMP settings (the Python package sets the variable before loading the library).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

void toon_cli_omp_tame_spinning(char **argv)
{
    if (getenv("GOMP_SPINCOUNT") || getenv("OMP_WAIT_POLICY")) return;
    /* Under valgrind the new program would run outside it. */
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload")) return;
    if (setenv("GOMP_SPINCOUNT", "1000", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* Not executed again (no /proc): the default spinning stays. */
}
