/*
 * libspng's allocator callbacks, routed to toon_malloc (internal to src/image).  spng reports
 * some allocation failures as stream or zlib errors (zlib allocates inside inflate/deflate), so
 * the callbacks also note each failure in a per-thread flag that the PNG backends check to turn
 * such errors into TOON_STATUS_NO_MEMORY.
 */
#ifndef TOON_IMAGE_PNG_ALLOC_H
#define TOON_IMAGE_PNG_ALLOC_H

#include <spng.h>

struct spng_alloc *toon_png_alloc(void);
/* Clears the failure flag of this thread; call before a series of spng calls. */
void toon_png_oom_clear(void);
/* Whether an allocation failed on this thread since the last clear. */
int toon_png_oom(void);

#endif
