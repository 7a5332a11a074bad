/* Looks URL paths up in the table of embedded page files. */
#include <string.h>

#include "service/assets.h"

const struct toon_asset *toon_asset_find(const char *url)
{
    if (strcmp(url, "/") == 0) url = "/index.html";
    for (const struct toon_asset *a = toon_assets; a->path; a++)
        if (strcmp(a->path, url) == 0) return a;
    return NULL;
}
