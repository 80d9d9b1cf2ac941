/* htcodec: the decoder object and the decode entry points. Tiles touching
 * the asked area are decoded one after another and cut into the picture. */
#include <unistd.h>

#include "decode.h"
#include "cuda/gpu.h"

#include "transform/transform.h"

void htc_decoder_default_settings(HtcDecoderSettings *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->threads = 0;
    s->device = HTC_DEVICE_CPU;
    s->device_id = 0;
    s->num_devices = 1;
    s->cpu_mask = HTC_CPU_ALL;
    s->picture_cache = (uint64_t)256 << 20;
    htc_limits_default(&s->limits);
}

int htc_decoder_open(HtcDecoder **out, const HtcDecoderSettings *s)
{
    if (!out)
        return htc_fail(NULL, HTC_EINVAL, "htc_decoder_open: NULL handle");
    *out = NULL;
    HtcDecoderSettings def;
    if (!s) {
        htc_decoder_default_settings(&def);
        s = &def;
    }
    if (s->device != HTC_DEVICE_CPU && s->device != HTC_DEVICE_GPU)
        return htc_fail(NULL, HTC_EINVAL, "device %d", s->device);
    if (s->device == HTC_DEVICE_GPU && htc_cuda_device_count() <= 0)
        return htc_fail(NULL, HTC_ENODEVICE, "no usable CUDA device");
    HtcContext ctx;
    htc_context_init(&ctx, &s->allocator, s->log, s->log_opaque, &s->limits);
    HtcDecoder *d = htc_calloc(&ctx, 1, sizeof(*d));
    if (!d)
        return htc_fail(&ctx, HTC_ENOMEM, "decoder");
    d->settings = *s;
    d->ctx = ctx;
    d->num_threads = s->threads;
    if (d->num_threads == 0) {
        const long n = sysconf(_SC_NPROCESSORS_ONLN);
        d->num_threads = n > 0 ? (uint32_t)n : 1;
    }
    if (d->num_threads > 64)
        d->num_threads = 64;
    htc_job_table_init(&d->jobs);
    *out = d;
    return 0;
}

void htc_decoder_close(HtcDecoder **pd)
{
    if (!pd || !*pd)
        return;
    HtcDecoder *d = *pd;
    const HtcContext ctx = d->ctx;
    htc_job_table_free(&ctx, &d->jobs);
    htc_gpu_close(d);
    htc_pool_close(d);
    htc_batch_close(d);
    if (d->pic_cache_shared)
        htc_pic_cache_unref(d->pic_cache);
    else
        htc_pic_cache_close(d->pic_cache);
    htc_workbuf_free(&ctx, &d->work);
    htc_free(&ctx, d->dwt_tmp);
    htc_decoder_buffers_free(d);
    htc_free(&ctx, d);
    *pd = NULL;
}

HtcPicCache *htc_decoder_pic_cache(HtcDecoder *d)
{
    /* never more than one decode may use (limits.max_memory, 0 = no limit) */
    uint64_t cap = HTC_MIN(d->settings.picture_cache, (uint64_t)SIZE_MAX / 2);
    if (d->settings.limits.max_memory)
        cap = HTC_MIN(cap, d->settings.limits.max_memory);
    if (!d->pic_cache && cap && !d->settings.allocator.alloc)
        d->pic_cache = htc_pic_cache_open((size_t)cap);
    return d->pic_cache;
}

void htc_decode_default_params(HtcDecodeParams *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof(*p));
    p->tile = -1;
    p->sample_type = HTC_SAMPLE_AUTO;
    p->layout = HTC_LAYOUT_PLANAR;
    p->memory = HTC_MEMORY_HOST;
    p->apply_mct = 1;
}

int htc_decode_layout(const HtcStream *s, const HtcDecodeParams *p, HtcPicture *pic)
{
    if (!s || !pic)
        return htc_fail(NULL, HTC_EINVAL, "htc_decode_layout: NULL argument");
    HtcDecodeParams def;
    if (!p) {
        htc_decode_default_params(&def);
        p = &def;
    }
    uint32_t *comps = htc_calloc(&s->ctx, s->num_components ? s->num_components : 1, sizeof(uint32_t));
    if (!comps)
        return htc_fail(&s->ctx, HTC_ENOMEM, "component list");
    HtcDecodeGeom g;
    int rc = htc_decode_geometry(s, p, comps, &g);
    if (rc >= 0)
        rc = htc_picture_setup(s, &g, NULL, pic, 0, NULL);
    htc_free(&s->ctx, comps);
    return rc;
}

/* Cuts tile-component tc into output plane i where they overlap. */
static int put_tile(const HtcStream *s, const HtcDecodeGeom *g, HtcPicture *pic, uint32_t i,
                    const HtcTileComp *tc)
{
    const uint32_t c = g->comps[i];
    uint32_t px0, py0, px1, py1;
    htc_decode_comp_rect(s, g, c, &px0, &py0, &px1, &py1);
    const uint32_t x0 = HTC_MAX(px0, tc->x0), y0 = HTC_MAX(py0, tc->y0);
    const uint32_t x1 = HTC_MIN(px1, tc->x1), y1 = HTC_MIN(py1, tc->y1);
    if (x0 >= x1 || y0 >= y1)
        return 0;
    if (tc->written)
        return 0; /* converted with the last DWT level (decode_tile.c) */
    const HtcPlane *pl = &pic->planes[i];
    const size_t src_off = (size_t)(y0 - tc->y0) * tc->stride + (x0 - tc->x0);
    uint8_t *dst = (uint8_t *)pl->data + (size_t)(y0 - py0) * pl->row_stride +
                   (size_t)(x0 - px0) * pl->pixel_stride * g->bytes_per_sample;
    const HtcComponent *cp = &s->comps[c];
    int rc;
    if (tc->is_float)
        rc = htc_convert_f32((const float *)tc->data + src_off, tc->stride, x1 - x0, y1 - y0,
                             cp->precision, cp->is_signed, g->sample_type, dst, pl->row_stride,
                             pl->pixel_stride);
    else
        rc = htc_convert_i32(tc->data + src_off, tc->stride, x1 - x0, y1 - y0, cp->precision,
                             cp->is_signed, g->sample_type, dst, pl->row_stride, pl->pixel_stride);
    if (rc < 0)
        return htc_fail(&s->ctx, rc, "output conversion of component %u (%u bits)", c, cp->precision);
    return 0;
}

/* Whether a tile has all the tile-parts its SOT markers announce (TNsot;
 * any tile-part when none says how many). */
static int tile_present(const HtcDecoder *d, const HtcStream *s, uint32_t ti)
{
    const HtcTile *t = &s->tiles[ti];
    if (t->num_parts == 0)
        return 0;
    if (d->settings.allow_truncated)
        return 1;
    uint32_t declared = 0;
    for (uint32_t i = 0; i < t->num_parts; i++)
        declared = HTC_MAX(declared, (uint32_t)s->parts[t->parts[i]].num_parts);
    return declared == 0 || t->num_parts >= declared;
}

int htc_decode(HtcDecoder *d, const HtcStream *s, const HtcDecodeParams *p, HtcPicture *pic)
{
    if (!d || !s || !pic)
        return htc_fail(NULL, HTC_EINVAL, "htc_decode: NULL argument");
    HtcDecodeParams def;
    if (!p) {
        htc_decode_default_params(&def);
        p = &def;
    }
    htc_clear_error();
    if (d->settings.device == HTC_DEVICE_GPU) {
        /* The GPU backend takes one item as a batch of one. */
        HtcBatchItem it;
        memset(&it, 0, sizeof(it));
        it.stream = s;
        it.params = p;
        it.picture = *pic;
        const int brc = htc_gpu_decode_batch(d, &it, 1, ++d->batches, 0);
        if (brc < 0)
            return brc;
        *pic = it.picture;
        if (it.status < 0)
            return htc_fail(&s->ctx, it.status, "%s", it.message);
        return 0;
    }
    if (p->memory == HTC_MEMORY_DEVICE)
        return htc_fail(&s->ctx, HTC_EINVAL,
                        "device memory output needs a GPU decoder (settings.device = HTC_DEVICE_GPU)");
    const HtcContext *ctx = &s->ctx;
    const uint32_t nc = s->num_components;
    uint32_t *comps = htc_calloc(ctx, nc ? nc : 1, sizeof(uint32_t));
    HtcTileComp *tc = htc_calloc(ctx, nc ? nc : 1, sizeof(HtcTileComp));
    int rc = 0;
    int pic_ready = 0;
    if (!comps || !tc) {
        rc = htc_fail(ctx, HTC_ENOMEM, "component tables");
        goto done;
    }
    HtcDecodeGeom g;
    rc = htc_decode_geometry(s, p, comps, &g);
    if (rc < 0)
        goto done;
    if (s->ntx == 0 || s->nty == 0 || !s->tiles) {
        rc = htc_fail(ctx, HTC_ECORRUPT, "no tiles");
        goto done;
    }

    /* Tiles that overlap the area. A tile without its tile-parts (a cut
     * stream) is left as zero samples, as Grok does, unless the settings
     * allow truncated data: then what is there is decoded. */
    const uint32_t tx0 = (g.gx0 - s->tx0) / s->tw, tx1 = (g.gx1 - 1 - s->tx0) / s->tw + 1;
    const uint32_t ty0 = (g.gy0 - s->ty0) / s->th, ty1 = (g.gy1 - 1 - s->ty0) / s->th + 1;
    int missing = 0;
    for (uint32_t ty = ty0; ty < HTC_MIN(ty1, s->nty); ty++)
        for (uint32_t tx = tx0; tx < HTC_MIN(tx1, s->ntx); tx++)
            missing |= !tile_present(d, s, ty * s->ntx + tx);
    /* Without missing tiles every sample gets written (a corrupt block is
     * cleared, a failed decode releases the picture): no zeroed samples. */
    int zeroed = 0;
    rc = htc_picture_setup_cached(s, &g, &d->settings.allocator,
                                  pic->buffer ? NULL : htc_decoder_pic_cache(d), pic,
                                  missing ? 1 : 2, &zeroed);
    if (rc < 0)
        goto done;
    pic_ready = 1;
    if (missing && !zeroed)
        memset(pic->buffer, 0, pic->buffer_size);
    for (uint32_t ty = ty0; ty < HTC_MIN(ty1, s->nty); ty++) {
        for (uint32_t tx = tx0; tx < HTC_MIN(tx1, s->ntx); tx++) {
            const uint32_t ti = ty * s->ntx + tx;
            if (!tile_present(d, s, ti))
                continue;
            for (uint32_t c = 0; c < nc; c++) {
                tc[c].needed = 0;
                tc[c].out_base = NULL;
            }
            for (uint32_t i = 0; i < g.num_out; i++) {
                HtcTileComp *o = &tc[g.comps[i]];
                /* a component in one output plane may go straight there */
                o->out_base = o->needed ? NULL : (uint8_t *)pic->planes[i].data;
                o->needed = 1;
                if (o->out_base) {
                    const HtcComponent *cp = &s->comps[g.comps[i]];
                    uint32_t px0, py0, px1, py1;
                    htc_decode_comp_rect(s, &g, g.comps[i], &px0, &py0, &px1, &py1);
                    o->out_row_stride = pic->planes[i].row_stride;
                    o->out_pixel_stride = pic->planes[i].pixel_stride;
                    o->out_bytes = (uint32_t)g.bytes_per_sample;
                    o->out_x0 = px0;
                    o->out_y0 = py0;
                    o->out_w = px1 - px0;
                    o->out_h = py1 - py0;
                    o->precision = cp->precision;
                    o->is_signed = cp->is_signed;
                    o->sample_type = g.sample_type;
                }
            }
            const HtcTile *t = &s->tiles[ti];
            if (p->apply_mct && nc >= 3 && t->cod[0].mct &&
                (tc[0].needed || tc[1].needed || tc[2].needed))
                tc[0].needed = tc[1].needed = tc[2].needed = 1;
            rc = htc_decode_tile(d, s, ti, p, &g, tc);
            if (rc >= 0)
                for (uint32_t i = 0; i < g.num_out && rc >= 0; i++)
                    rc = put_tile(s, &g, pic, i, &tc[g.comps[i]]);
            if (rc < 0)
                goto done;
        }
    }
done:
    if (rc < 0 && pic_ready)
        htc_picture_release(pic);
    htc_free(ctx, comps);
    htc_free(ctx, tc);
    return rc;
}

int htc_decode_batch(HtcDecoder *d, HtcBatchItem *items, size_t n)
{
    if (!d || (!items && n))
        return htc_fail(NULL, HTC_EINVAL, "htc_decode_batch: NULL argument");
    if (d->settings.device == HTC_DEVICE_GPU)
        return htc_gpu_decode_batch(d, items, n, ++d->batches, 0); /* one plan, one set of launches */
    d->batches++;
    return htc_decode_batch_cpu(d, items, n);
}

int htc_decode_batch_submit(HtcDecoder *d, HtcBatchItem *items, size_t n, uint64_t *ticket)
{
    if (!d || (!items && n))
        return htc_fail(NULL, HTC_EINVAL, "htc_decode_batch_submit: NULL argument");
    const uint64_t seq = ++d->batches;
    if (ticket)
        *ticket = seq;
    if (d->settings.device == HTC_DEVICE_GPU)
        return htc_gpu_decode_batch(d, items, n, seq, 1);
    return htc_decode_batch_cpu(d, items, n);
}

int htc_decode_batch_wait(HtcDecoder *d, uint64_t ticket)
{
    if (!d)
        return htc_fail(NULL, HTC_EINVAL, "htc_decode_batch_wait: NULL decoder");
    if (d->settings.device == HTC_DEVICE_GPU)
        return htc_gpu_wait(d, ticket);
    return 0;
}
