/* Status strings, version, limits, allocator hook. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test.h"

static int hook_calls;
static void *hook_alloc(void *opaque, size_t size, size_t align)
{
    (void)opaque;
    hook_calls++;
    void *p = NULL;
    return posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) ? NULL : p;
}
static void hook_free(void *opaque, void *ptr)
{
    (void)opaque;
    hook_calls++;
    free(ptr);
}

int main(void)
{
    CHECK(strcmp(htc_strerror(HTC_OK), "success") == 0);
    for (int s = HTC_ETSYNTAX; s < 0; s++)
        CHECK(strcmp(htc_strerror(s), "unknown status") != 0);
    CHECK(strcmp(htc_strerror(-1000), "unknown status") == 0);
    CHECK(htc_version() == HTC_VERSION_NUMBER);
    CHECK(strcmp(htc_version_string(), HTC_VERSION_STRING) == 0);

    HtcLimits l;
    htc_limits_default(&l);
    CHECK(l.max_components == 16384);
    CHECK(l.max_tiles > 0 && l.max_pixels > 0);

    HtcAllocator a = { NULL, hook_alloc, hook_free };
    HtcContext ctx;
    htc_context_init(&ctx, &a, NULL, NULL, NULL);
    uint8_t *p = htc_malloc(&ctx, 100);
    CHECK(p != NULL && ((uintptr_t)p & 63) == 0);
    htc_free(&ctx, p);
    CHECK(hook_calls == 2);
    CHECK(htc_calloc(&ctx, SIZE_MAX / 2, 4) == NULL);

    CHECK(htc_fail(&ctx, HTC_EMARKER, "SIZ at offset %d", 2) == HTC_EMARKER);
    CHECK(strcmp(htc_last_error(), "SIZ at offset 2") == 0);
    return test_summary("common");
}
