/*
 * A scan of WebP lossless (VP8L) streams that finds how many Huffman groups the decoder will
 * build, without decoding the picture (internal to src/image).  libwebp 1.2 allocates the
 * Huffman tables of all groups at once, about 20 KB each, and a small hostile file can name tens
 * of thousands of groups; the WebP backend refuses streams with more groups than
 * toon_vp8l_max_groups() allows for their size, which is what its plan counts on.
 */
#ifndef TOON_IMAGE_VP8L_SCAN_H
#define TOON_IMAGE_VP8L_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/status.h"

/* The most Huffman groups a w x h lossless stream may use. */
int toon_vp8l_max_groups(int w, int h);

/* Heap the scan itself may hold for a w x h image. */
size_t toon_vp8l_scan_plan_bytes(int w, int h);

/* Scans a VP8L stream: with has_header, a VP8L chunk body (signature and size first); without,
 * an ALPH image stream of a w x h alpha plane.  *groups gets the number of Huffman groups the
 * decoder will allocate for the main image: the highest group index plus one, which bounds the
 * distinct groups from above.  A stream the scan cannot follow is reported as corrupt. */
enum toon_status toon_vp8l_groups(const uint8_t *data, size_t len, int has_header, int w, int h,
                                  int *groups, struct toon_err *err);

#endif
