/* cqboot/hash.h — SHA-256 (FIPS 180-4) in plain C, for the content hash of
 * input files recorded in run metadata.
 *
 * Streaming use:   cqb_sha256_ctx c; cqb_sha256_init(&c);
 *                  cqb_sha256_update(&c, buf, n); ...
 *                  cqb_sha256_final(&c, digest); cqb_sha256_hex(digest, hex);
 * One-shot use:    cqb_sha256_string(data, n, hex);
 * A file:          cqb_sha256_file(path, hex, &err);
 * Hex strings are 64 lowercase hex digits plus a terminating NUL.
 */
#ifndef CQBOOT_HASH_H
#define CQBOOT_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "cqboot/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CQB_SHA256_DIGEST_LEN 32 /* bytes in a digest */
#define CQB_SHA256_HEX_SIZE 65   /* 64 hex digits + NUL */

typedef struct cqb_sha256_ctx {
    uint32_t state[8];
    uint64_t nbytes;          /* bytes hashed so far */
    unsigned char block[64];  /* pending partial block */
    size_t used;              /* bytes pending in block */
} cqb_sha256_ctx;

/*! cqb_sha256_init() : starts a new hash. */
void cqb_sha256_init(cqb_sha256_ctx *c);

/*! cqb_sha256_update() : hashes n more bytes (data may be NULL when n == 0). */
void cqb_sha256_update(cqb_sha256_ctx *c, const void *data, size_t n);

/*! cqb_sha256_final() : finishes the hash and writes the 32-byte digest. The
 *  context must be initialised again before reuse. */
void cqb_sha256_final(cqb_sha256_ctx *c, unsigned char digest[CQB_SHA256_DIGEST_LEN]);

/*! cqb_sha256_hex() : writes the digest as 64 lowercase hex digits + NUL. */
void cqb_sha256_hex(const unsigned char digest[CQB_SHA256_DIGEST_LEN],
                    char hex[CQB_SHA256_HEX_SIZE]);

/*! cqb_sha256_string() : one-shot hash of n bytes, as hex. */
void cqb_sha256_string(const void *data, size_t n, char hex[CQB_SHA256_HEX_SIZE]);

/*! cqb_sha256_file() : hash of a file's bytes, as hex. Returns CQB_EDATA with
 *  `FILE: cannot open: REASON` or `FILE: read error: REASON` on failure. */
cqb_status cqb_sha256_file(const char *path, char hex[CQB_SHA256_HEX_SIZE], cqb_error *err);

#ifdef __cplusplus
}
#endif
#endif
