/* The page's files, embedded at build time (build.cmake generates the table). */
#ifndef TOON_SERVICE_ASSETS_H
#define TOON_SERVICE_ASSETS_H

#include <stddef.h>

struct toon_asset {
    const char *path; /* "/index.html" */
    const char *content_type;
    const unsigned char *data; /* [n_bytes] */
    size_t n_bytes;
};

/* Ends with an entry whose path is NULL. */
extern const struct toon_asset toon_assets[];

/* The asset served at a URL path ("/" is "/index.html"), or NULL. */
const struct toon_asset *toon_asset_find(const char *url);

#endif
