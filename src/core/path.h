/* What a path names, following links: a regular file, a directory. */
#ifndef TOON_CORE_PATH_H
#define TOON_CORE_PATH_H

int toon_is_file(const char *path); /* 1 for a regular file */
int toon_is_dir(const char *path);  /* 1 for a directory */

#endif
