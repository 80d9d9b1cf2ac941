/* htcodec DICOM layer: allocation through the caller's hook, the last error
 * of each thread, warnings through the log callback. The only file of the
 * DICOM layer that calls the C library's allocator. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "dcm_internal.h"

static _Thread_local char dcm_last_error[512];

void *dcm_alloc_with(const HtcAllocator *a, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - 64)
        return NULL;
    if (a && a->alloc)
        return a->alloc(a->opaque, size, 64);
    void *p = NULL;
    if (posix_memalign(&p, 64, size) != 0)
        return NULL;
    return p;
}

void dcm_free_with(const HtcAllocator *a, void *p)
{
    if (!p)
        return;
    if (a && a->free)
        a->free(a->opaque, p);
    else
        free(p);
}

void *dcm_malloc(const DcmCtx *c, size_t size) { return dcm_alloc_with(&c->allocator, size); }

void *dcm_calloc(const DcmCtx *c, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = dcm_malloc(c, n * size);
    if (p)
        memset(p, 0, (n * size) != 0 ? n * size : 1);
    return p;
}

void dcm_free(const DcmCtx *c, void *p) { dcm_free_with(&c->allocator, p); }

int dcm_fail(const DcmCtx *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dcm_last_error, sizeof(dcm_last_error), fmt, ap);
    va_end(ap);
    if (c && c->log)
        c->log(c->log_opaque, HTC_LOG_ERROR, dcm_last_error);
    return status;
}

void dcm_warn(const DcmCtx *c, const char *fmt, ...)
{
    if (!c || !c->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->log(c->log_opaque, HTC_LOG_WARNING, msg);
}

const char *htc_dicom_last_error(void) { return dcm_last_error; }

void htc_dicom_free(HtcDicom *d, void *p)
{
    if (d)
        dcm_free(&d->ctx, p);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t dcm_base64(const uint8_t *src, size_t n, char *dst)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        const uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        dst[o++] = b64[v >> 18];
        dst[o++] = b64[v >> 12 & 63];
        dst[o++] = b64[v >> 6 & 63];
        dst[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        const uint32_t v = (uint32_t)src[i] << 16;
        dst[o++] = b64[v >> 18];
        dst[o++] = b64[v >> 12 & 63];
        dst[o++] = '=';
        dst[o++] = '=';
    } else if (n - i == 2) {
        const uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
        dst[o++] = b64[v >> 18];
        dst[o++] = b64[v >> 12 & 63];
        dst[o++] = b64[v >> 6 & 63];
        dst[o++] = '=';
    }
    return o;
}
