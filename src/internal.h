/* htcodec: what every file of the library shares: allocation, logging,
 * error reporting, small helpers. */
#ifndef HTC_INTERNAL_H
#define HTC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "htc/htc.h"

/* The allocator and logger one operation works with. */
typedef struct HtcContext {
    HtcAllocator allocator;
    HtcLogCallback log;
    void *log_opaque;
    HtcLimits limits;
} HtcContext;

void htc_context_init(HtcContext *ctx, const HtcAllocator *a, HtcLogCallback log,
                      void *log_opaque, const HtcLimits *limits);

/* All library allocations go through these (src/mem.c). Sizes are checked
 * for overflow; htc_calloc zeroes. Memory is 64-byte aligned. */
void *htc_malloc(const HtcContext *ctx, size_t size);
void *htc_calloc(const HtcContext *ctx, size_t n, size_t size);
void *htc_realloc(const HtcContext *ctx, void *ptr, size_t old_size, size_t new_size);
void htc_free(const HtcContext *ctx, void *ptr);

/* memcpy for destinations the CPU will not read again soon (pinned staging
 * for DMA): non-temporal stores where the CPU has them (src/copy_nt.c). */
void htc_copy_nt(void *dst, const void *src, size_t n);
/* Writes back the cache lines of [p, p + n) that the CPU holds modified,
 * before a DMA reads them (src/copy_nt.c); nothing where the CPU cannot. */
void htc_writeback(const void *p, size_t n);

/* Logging through the callback (src/log.c). */
void htc_log(const HtcContext *ctx, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Records the message of a failure for htc_last_error() (thread-local) and
 * returns status, so that `return htc_fail(ctx, HTC_EMARKER, "...")` reads well.
 * Also logs it as an error. */
int htc_fail(const HtcContext *ctx, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void htc_clear_error(void);
/* Copies the current thread's last error message (for batch items). */
void htc_copy_last_error(char *buf, size_t size);

/* Returns status from the enclosing function when it is negative. */
#define HTC_CHECK(expr)                \
    do {                               \
        const int htc_check_rc = (expr); \
        if (htc_check_rc < 0)          \
            return htc_check_rc;       \
    } while (0)

#define HTC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define HTC_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline uint32_t htc_ceil_div_u32(uint32_t a, uint32_t b) { return (uint32_t)(((uint64_t)a + b - 1) / b); }
static inline uint32_t htc_ceil_div_pow2(uint32_t a, uint32_t e) { return (uint32_t)(((uint64_t)a + ((uint64_t)1 << e) - 1) >> e); }

static inline uint16_t htc_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t htc_rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t htc_rd64(const uint8_t *p) { return (uint64_t)htc_rd32(p) << 32 | htc_rd32(p + 4); }

#endif /* HTC_INTERNAL_H */
