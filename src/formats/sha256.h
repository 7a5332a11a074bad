/*
 * SHA-256 (FIPS 180-4), written for toonify so that model files can be recognised by their
 * published checksums (formats/modeldir.c) without another dependency.  One-shot and incremental
 * forms; a context is a plain value owned by one thread.
 */
#ifndef TOON_FORMATS_SHA256_H
#define TOON_FORMATS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/status.h"

struct toon_sha256 {
    uint32_t h[8];     /* the running hash */
    uint64_t n_bytes;  /* message length so far */
    uint8_t block[64]; /* a partial block */
    size_t n_block;    /* bytes in block */
};

void toon_sha256_init(struct toon_sha256 *s);
void toon_sha256_update(struct toon_sha256 *s, const void *data, size_t n_bytes);
void toon_sha256_final(struct toon_sha256 *s, uint8_t out[32]);

/* One-shot digest of a buffer. */
void toon_sha256(const void *data, size_t n_bytes, uint8_t out[32]);
/* 64 lowercase hex digits and a NUL. */
void toon_sha256_hex(const uint8_t digest[32], char hex_out[65]);
/* Digest of a whole file, read in chunks, as lowercase hex. */
enum toon_status toon_sha256_file(const char *path, char hex_out[65], struct toon_err *err);

#endif
