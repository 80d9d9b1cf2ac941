/* htcodec: the log callback and the per-thread last error message. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local char last_error[512];

void htc_log(const HtcContext *ctx, int level, const char *fmt, ...)
{
    if (!ctx || !ctx->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_opaque, level, msg);
}

int htc_fail(const HtcContext *ctx, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    if (ctx && ctx->log)
        ctx->log(ctx->log_opaque, HTC_LOG_ERROR, last_error);
    return status;
}

void htc_clear_error(void) { last_error[0] = 0; }

void htc_copy_last_error(char *buf, size_t size)
{
    if (size == 0)
        return;
    snprintf(buf, size, "%s", last_error);
}

const char *htc_last_error(void) { return last_error; }
