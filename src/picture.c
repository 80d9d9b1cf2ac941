/* htcodec: output pictures: the area and sample type of a decode, plane
 * layout, allocation and release. */
#include <stdlib.h>

#include "decode.h"
#include "cuda/gpu.h"

size_t htc_sample_size(int sample_type)
{
    switch (sample_type) {
    case HTC_SAMPLE_U8:
    case HTC_SAMPLE_I8: return 1;
    case HTC_SAMPLE_U16:
    case HTC_SAMPLE_I16: return 2;
    case HTC_SAMPLE_U32:
    case HTC_SAMPLE_I32:
    case HTC_SAMPLE_F32: return 4;
    default: return 0;
    }
}

int htc_decode_geometry(const HtcStream *s, const HtcDecodeParams *p, uint32_t *comps_buf,
                        HtcDecodeGeom *g)
{
    const HtcContext *ctx = &s->ctx;
    memset(g, 0, sizeof(*g));
    if (p->reduce > HTC_MAX_LEVELS)
        return htc_fail(ctx, HTC_ERANGE, "reduce %u", p->reduce);
    g->reduce = p->reduce;
    g->gx0 = s->x0;
    g->gy0 = s->y0;
    g->gx1 = s->x1;
    g->gy1 = s->y1;
    if (p->tile >= 0) {
        if ((uint32_t)p->tile >= s->ntx * s->nty)
            return htc_fail(ctx, HTC_ERANGE, "tile %d of %u", p->tile, s->ntx * s->nty);
        const HtcTile *t = &s->tiles[p->tile];
        g->gx0 = t->x0;
        g->gy0 = t->y0;
        g->gx1 = t->x1;
        g->gy1 = t->y1;
    }
    if (p->use_region) {
        if (p->region_x0 >= p->region_x1 || p->region_y0 >= p->region_y1)
            return htc_fail(ctx, HTC_ERANGE, "empty region %u,%u,%u,%u", p->region_x0, p->region_y0,
                            p->region_x1, p->region_y1);
        const uint64_t rx0 = (uint64_t)s->x0 + p->region_x0, ry0 = (uint64_t)s->y0 + p->region_y0;
        const uint64_t rx1 = (uint64_t)s->x0 + p->region_x1, ry1 = (uint64_t)s->y0 + p->region_y1;
        g->gx0 = (uint32_t)HTC_MAX((uint64_t)g->gx0, rx0);
        g->gy0 = (uint32_t)HTC_MAX((uint64_t)g->gy0, ry0);
        g->gx1 = (uint32_t)HTC_MIN((uint64_t)g->gx1, rx1);
        g->gy1 = (uint32_t)HTC_MIN((uint64_t)g->gy1, ry1);
        if (g->gx0 >= g->gx1 || g->gy0 >= g->gy1)
            return htc_fail(ctx, HTC_ERANGE, "region %u,%u,%u,%u outside the image (or tile)",
                            p->region_x0, p->region_y0, p->region_x1, p->region_y1);
    }
    if (p->num_components) {
        if (p->num_components > 16)
            return htc_fail(ctx, HTC_EINVAL, "%u components asked, at most 16", p->num_components);
        for (uint32_t i = 0; i < p->num_components; i++)
            if (p->components[i] >= s->num_components)
                return htc_fail(ctx, HTC_ERANGE, "component %u of %u", p->components[i],
                                s->num_components);
        g->num_out = p->num_components;
        g->comps = p->components;
    } else {
        for (uint32_t c = 0; c < s->num_components; c++)
            comps_buf[c] = c;
        g->num_out = s->num_components;
        g->comps = comps_buf;
    }
    uint32_t prec = 0;
    int sgn = 0;
    for (uint32_t i = 0; i < g->num_out; i++) {
        prec = HTC_MAX(prec, (uint32_t)s->comps[g->comps[i]].precision);
        sgn |= s->comps[g->comps[i]].is_signed;
    }
    int st = p->sample_type;
    if (st == HTC_SAMPLE_AUTO) {
        if (prec > 32)
            return htc_fail(ctx, HTC_EUNSUPPORTED, "%u-bit samples", prec);
        st = prec <= 8 ? (sgn ? HTC_SAMPLE_I8 : HTC_SAMPLE_U8)
           : prec <= 16 ? (sgn ? HTC_SAMPLE_I16 : HTC_SAMPLE_U16)
                        : (sgn ? HTC_SAMPLE_I32 : HTC_SAMPLE_U32);
    }
    if (htc_sample_size(st) == 0)
        return htc_fail(ctx, HTC_EINVAL, "sample type %d", p->sample_type);
    if (p->layout != HTC_LAYOUT_PLANAR && p->layout != HTC_LAYOUT_INTERLEAVED)
        return htc_fail(ctx, HTC_EINVAL, "layout %d", p->layout);
    if (p->memory == HTC_MEMORY_DEVICE && !htc_cuda_built())
        return htc_fail(ctx, HTC_ENODEVICE, "device memory output is not available in this build");
    if (p->memory != HTC_MEMORY_HOST && p->memory != HTC_MEMORY_DEVICE)
        return htc_fail(ctx, HTC_EINVAL, "memory %d", p->memory);
    g->sample_type = st;
    g->layout = p->layout;
    g->bytes_per_sample = htc_sample_size(st);
    return 0;
}

void htc_decode_comp_rect(const HtcStream *s, const HtcDecodeGeom *g, uint32_t c, uint32_t *x0,
                          uint32_t *y0, uint32_t *x1, uint32_t *y1)
{
    const HtcComponent *cp = &s->comps[c];
    *x0 = htc_ceil_div_pow2(htc_ceil_div_u32(g->gx0, cp->dx), g->reduce);
    *y0 = htc_ceil_div_pow2(htc_ceil_div_u32(g->gy0, cp->dy), g->reduce);
    *x1 = htc_ceil_div_pow2(htc_ceil_div_u32(g->gx1, cp->dx), g->reduce);
    *y1 = htc_ceil_div_pow2(htc_ceil_div_u32(g->gy1, cp->dy), g->reduce);
}

/* With the C library, calloc: large pictures come as untouched zero pages,
 * so parts never written (missing tiles, failed decodes) cost nothing.
 * *base gets the 64-byte aligned start. With a cache (the C library's
 * allocator only), a kept block when one fits: its bytes are the last
 * picture's, so *zeroed stays 0 and the caller clears what it needs.
 * *release gets the allocator that frees the block. */
static void *pic_alloc(const HtcAllocator *a, HtcPicCache *cache, size_t size, int want_zero,
                       uint8_t **base, int *zeroed, HtcAllocator *release)
{
    if (a)
        *release = *a;
    if (cache && !(a && a->alloc)) {
        int reused = 0;
        void *ref = htc_pic_cache_get(cache, size, base, &reused, release);
        if (ref) {
            *zeroed = !reused && want_zero;
            if (*zeroed)
                memset(*base, 0, size);
            return ref;
        }
    }
    if (a && a->alloc) {
        *zeroed = 0;
        *base = a->alloc(a->opaque, size, 64);
        return *base;
    }
    if (size > SIZE_MAX - 64)
        return NULL;
    /* calloc only when zeros may be wanted: once glibc serves a large
     * block from its heap (after a first one was freed it raises its mmap
     * threshold), calloc clears it, a 29 MB memset for a mammogram. */
    uint8_t *p = want_zero ? calloc(1, size + 64) : malloc(size + 64);
    *zeroed = want_zero;
    *base = p ? (uint8_t *)(((uintptr_t)p + 63) & ~(uintptr_t)63) : NULL;
    return p;
}

static void pic_free(const HtcAllocator *a, void *ptr)
{
    if (!ptr)
        return;
    if (a && a->alloc)
        a->free(a->opaque, ptr);
    else
        free(ptr);
}

int htc_picture_setup(const HtcStream *s, const HtcDecodeGeom *g, const HtcAllocator *a,
                      HtcPicture *pic, int alloc_samples, int *samples_zeroed)
{
    return htc_picture_setup_cached(s, g, a, NULL, pic, alloc_samples, samples_zeroed);
}

int htc_picture_setup_cached(const HtcStream *s, const HtcDecodeGeom *g, const HtcAllocator *a,
                             HtcPicCache *cache, HtcPicture *pic, int alloc_samples,
                             int *samples_zeroed)
{
    if (samples_zeroed)
        *samples_zeroed = 0;
    const HtcContext *ctx = &s->ctx;
    void *caller_buf = alloc_samples ? pic->buffer : NULL;
    const size_t caller_size = pic->buffer_size;
    memset(pic, 0, sizeof(*pic));
    const uint32_t n = g->num_out;
    const size_t bps = g->bytes_per_sample;
    uint32_t w0 = 0, h0 = 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x0, y0, x1, y1;
        htc_decode_comp_rect(s, g, g->comps[i], &x0, &y0, &x1, &y1);
        const uint32_t w = x1 - x0, h = y1 - y0;
        if (i == 0) {
            w0 = w;
            h0 = h;
        } else if (g->layout == HTC_LAYOUT_INTERLEAVED && (w != w0 || h != h0)) {
            return htc_fail(ctx, HTC_EINVAL, "interleaved output needs components of one size (%ux%u, %ux%u)",
                            w0, h0, w, h);
        }
        total += (uint64_t)w * h * bps;
    }
    if ((uint64_t)w0 * h0 > ctx->limits.max_pixels || total > ctx->limits.max_memory ||
        total > SIZE_MAX / 2)
        return htc_fail(ctx, HTC_ELIMIT, "output of %llu bytes", (unsigned long long)total);
    const size_t planes_bytes = ((size_t)n * sizeof(HtcPlane) + 63) & ~(size_t)63;
    const int own_samples = alloc_samples && !caller_buf;
    if (caller_buf && caller_size < total)
        return htc_fail(ctx, HTC_EINVAL, "caller's buffer of %zu bytes, %llu needed", caller_size,
                        (unsigned long long)total);
    uint8_t *block = NULL;
    int zeroed = 0;
    HtcAllocator release;
    memset(&release, 0, sizeof(release));
    void *ref = pic_alloc(a, cache, planes_bytes + (own_samples ? (size_t)total : 0),
                          alloc_samples != 2, &block, &zeroed, &release);
    if (!ref)
        return htc_fail(ctx, HTC_ENOMEM, "picture of %llu bytes", (unsigned long long)total);
    pic->planes = (HtcPlane *)block;
    memset(block, 0, planes_bytes);
    pic->alloc_ref = ref;
    if (samples_zeroed)
        *samples_zeroed = own_samples && zeroed;
    pic->allocator = release;
    pic->caller_owned = caller_buf != NULL;
    pic->buffer = own_samples ? block + planes_bytes : caller_buf;
    pic->buffer_size = (size_t)total;
    pic->num_planes = n;
    pic->sample_type = g->sample_type;
    pic->layout = g->layout;
    pic->memory = HTC_MEMORY_HOST;
    pic->x0 = htc_ceil_div_pow2(g->gx0, g->reduce);
    pic->y0 = htc_ceil_div_pow2(g->gy0, g->reduce);
    pic->width = w0;
    pic->height = h0;
    uint8_t *base = pic->buffer;
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        HtcPlane *pl = &pic->planes[i];
        const HtcComponent *cp = &s->comps[g->comps[i]];
        uint32_t x0, y0, x1, y1;
        htc_decode_comp_rect(s, g, g->comps[i], &x0, &y0, &x1, &y1);
        pl->width = x1 - x0;
        pl->height = y1 - y0;
        pl->precision = cp->precision;
        pl->is_signed = cp->is_signed;
        if (g->layout == HTC_LAYOUT_INTERLEAVED) {
            pl->pixel_stride = n;
            pl->row_stride = (ptrdiff_t)((size_t)w0 * n * bps);
            pl->data = base ? base + i * bps : NULL;
        } else {
            pl->pixel_stride = 1;
            pl->row_stride = (ptrdiff_t)((size_t)pl->width * bps);
            pl->data = base ? base + off : NULL;
            off += (size_t)pl->width * pl->height * bps;
        }
    }
    return 0;
}

void htc_picture_release(HtcPicture *p)
{
    if (!p)
        return;
    if (p->memory == HTC_MEMORY_DEVICE && !p->caller_owned)
        htc_gpu_free(p->buffer);
    pic_free(&p->allocator, p->alloc_ref);
    memset(p, 0, sizeof(*p));
}
