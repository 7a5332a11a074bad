/*
 * Small questions about paths, asked by the model lookup, the model directory scanner and the
 * CLI's output naming alike.
 */
#include <sys/stat.h>

#include "core/path.h"

int toon_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int toon_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
