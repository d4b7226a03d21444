/* hash.c — SHA-256 after FIPS 180-4 §6.2, written from the standard. */
#include "cqboot/hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define CQB_HAVE_SHANI_PATH 1
#endif

static const uint32_t K256[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

/* The portable compression function: nblocks consecutive 64-byte blocks. */
static void compress_c(uint32_t st[8], const unsigned char *blk, size_t nblocks)
{
    for (; nblocks > 0; --nblocks, blk += 64) {
        uint32_t w[64];
        for (unsigned i = 0; i < 16; ++i)
            w[i] = ((uint32_t)blk[4 * i] << 24) | ((uint32_t)blk[4 * i + 1] << 16) |
                   ((uint32_t)blk[4 * i + 2] << 8) | (uint32_t)blk[4 * i + 3];
        for (unsigned i = 16; i < 64; ++i) {
            uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
        uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
        for (unsigned i = 0; i < 64; ++i) {
            uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            uint32_t ch = (e & f) ^ (~e & g);
            uint32_t t1 = h + S1 + ch + K256[i] + w[i];
            uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            uint32_t t2 = S0 + maj;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        st[0] += a;
        st[1] += b;
        st[2] += c;
        st[3] += d;
        st[4] += e;
        st[5] += f;
        st[6] += g;
        st[7] += h;
    }
}

#ifdef CQB_HAVE_SHANI_PATH
/* The same function on the SHA extensions (Intel since Goldmont/Ice Lake,
 * AMD since Zen): about five times the portable path's throughput, which
 * matters because every input file is hashed for the provenance record
 * (a tenth of a small command's CPU time; seconds for a 1 GiB input).
 * Written from the instructions' definitions (Intel SDM, SHA256RNDS2,
 * SHA256MSG1, SHA256MSG2): the state is held as ABEF and CDGH; each group g
 * of four rounds takes message words W[4g..4g+3] in m[g % 4] and, for
 * g >= 4, forms them from the previous 16 words with msg1/alignr/msg2. */
__attribute__((target("sha,sse4.1"))) static void compress_shani(uint32_t st[8], const unsigned char *blk,
                                                                  size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i t = _mm_loadu_si128((const __m128i *)(const void *)&st[0]);  /* D C B A */
    __m128i s1 = _mm_loadu_si128((const __m128i *)(const void *)&st[4]); /* H G F E */
    t = _mm_shuffle_epi32(t, 0xB1);                                       /* C D A B */
    s1 = _mm_shuffle_epi32(s1, 0x1B);                                     /* E F G H */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                               /* A B E F */
    s1 = _mm_blend_epi16(s1, t, 0xF0);                                    /* C D G H */
    for (; nblocks > 0; --nblocks, blk += 64) {
        const __m128i save0 = s0, save1 = s1;
        __m128i m[4];
        for (unsigned g = 0; g < 16; ++g) {
            if (g < 4) m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(blk + 16 * g)), bswap);
            __m128i msg = _mm_add_epi32(m[g % 4], _mm_loadu_si128((const __m128i *)(const void *)&K256[4 * g]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
            if (g >= 3 && g < 15) { /* W for group g + 1 */
                __m128i w7 = _mm_alignr_epi8(m[g % 4], m[(g + 3) % 4], 4);
                m[(g + 1) % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(m[(g + 1) % 4], w7), m[g % 4]);
            }
            msg = _mm_shuffle_epi32(msg, 0x0E);
            s0 = _mm_sha256rnds2_epu32(s0, s1, msg);
            if (g >= 1 && g < 13) m[(g + 3) % 4] = _mm_sha256msg1_epu32(m[(g + 3) % 4], m[g % 4]);
        }
        s0 = _mm_add_epi32(s0, save0);
        s1 = _mm_add_epi32(s1, save1);
    }
    t = _mm_shuffle_epi32(s0, 0x1B);      /* F E B A */
    s1 = _mm_shuffle_epi32(s1, 0xB1);     /* D C H G */
    s0 = _mm_blend_epi16(t, s1, 0xF0);    /* D C B A */
    s1 = _mm_alignr_epi8(s1, t, 8);       /* H G F E */
    _mm_storeu_si128((__m128i *)(void *)&st[0], s0);
    _mm_storeu_si128((__m128i *)(void *)&st[4], s1);
}
#endif

/* Which compression function this CPU runs; CQB_SHA256_PORTABLE=1 in the
 * environment forces the portable one (the tests compare the two). */
static void compress(uint32_t st[8], const unsigned char *blk, size_t nblocks)
{
#ifdef CQB_HAVE_SHANI_PATH
    static int use_shani = -1; /* racy first call is harmless: every thread computes the same value */
    if (use_shani < 0) {
        /* CPUID directly: clang 14's __builtin_cpu_supports() knows no "sha".
         * Leaf 7 EBX bit 29: SHA; leaf 1 ECX bits 19 and 9: SSE4.1, SSSE3. */
        const char *force = getenv("CQB_SHA256_PORTABLE");
        unsigned a, b, c, d, sha = 0, sse = 0;
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) sha = (b >> 29) & 1u;
        if (__get_cpuid(1, &a, &b, &c, &d)) sse = ((c >> 19) & 1u) && ((c >> 9) & 1u);
        use_shani = !(force && *force == '1') && sha && sse;
    }
    if (use_shani) {
        compress_shani(st, blk, nblocks);
        return;
    }
#endif
    compress_c(st, blk, nblocks);
}

void cqb_sha256_init(cqb_sha256_ctx *c)
{
    static const uint32_t H0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    memcpy(c->state, H0, sizeof H0);
    c->nbytes = 0;
    c->used = 0;
}

void cqb_sha256_update(cqb_sha256_ctx *c, const void *data, size_t n)
{
    const unsigned char *p = data;
    c->nbytes += (uint64_t)n;
    if (c->used > 0) {
        size_t take = 64 - c->used;
        if (take > n) take = n;
        memcpy(c->block + c->used, p, take);
        c->used += take;
        p += take;
        n -= take;
        if (c->used < 64) return;
        compress(c->state, c->block, 1);
        c->used = 0;
    }
    if (n >= 64) {
        compress(c->state, p, n / 64);
        p += n / 64 * 64;
        n %= 64;
    }
    if (n > 0) {
        memcpy(c->block, p, n);
        c->used = n;
    }
}

void cqb_sha256_final(cqb_sha256_ctx *c, unsigned char digest[CQB_SHA256_DIGEST_LEN])
{
    uint64_t bits = c->nbytes * 8u;
    c->block[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->block + c->used, 0, 64 - c->used);
        compress(c->state, c->block, 1);
        c->used = 0;
    }
    memset(c->block + c->used, 0, 56 - c->used);
    for (unsigned i = 0; i < 8; ++i) c->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    compress(c->state, c->block, 1);
    for (unsigned i = 0; i < 8; ++i) {
        digest[4 * i] = (unsigned char)(c->state[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(c->state[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(c->state[i] >> 8);
        digest[4 * i + 3] = (unsigned char)c->state[i];
    }
    memset(c->block, 0, sizeof c->block);
    c->used = 0;
}

void cqb_sha256_hex(const unsigned char digest[CQB_SHA256_DIGEST_LEN],
                    char hex[CQB_SHA256_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < CQB_SHA256_DIGEST_LEN; ++i) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15u];
    }
    hex[2 * CQB_SHA256_DIGEST_LEN] = '\0';
}

void cqb_sha256_string(const void *data, size_t n, char hex[CQB_SHA256_HEX_SIZE])
{
    cqb_sha256_ctx c;
    unsigned char d[CQB_SHA256_DIGEST_LEN];
    cqb_sha256_init(&c);
    cqb_sha256_update(&c, data, n);
    cqb_sha256_final(&c, d);
    cqb_sha256_hex(d, hex);
}

cqb_status cqb_sha256_file(const char *path, char hex[CQB_SHA256_HEX_SIZE], cqb_error *err)
{
    if (!path || !hex) return cqb_error_set(err, CQB_EUSAGE, "sha256: no file name given");
    FILE *fp = fopen(path, "rb");
    if (!fp) return cqb_error_set(err, CQB_EDATA, "%s: cannot open: %s", path, strerror(errno));
    cqb_sha256_ctx c;
    unsigned char buf[65536];
    unsigned char d[CQB_SHA256_DIGEST_LEN];
    size_t n;
    cqb_sha256_init(&c);
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) cqb_sha256_update(&c, buf, n);
    if (ferror(fp)) {
        int e = errno;
        fclose(fp);
        return cqb_error_set(err, CQB_EDATA, "%s: read error: %s", path, strerror(e));
    }
    fclose(fp);
    cqb_sha256_final(&c, d);
    cqb_sha256_hex(d, hex);
    return CQB_OK;
}
