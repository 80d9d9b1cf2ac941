/* htcodec: the stream object: opening from memory or a file, closing,
 * and the public getters of include/htc/stream.h. */
#include <stdio.h>
#include <sys/stat.h>

#include "codestream/parse.h"

void htc_stream_default_settings(HtcStreamSettings *s)
{
    memset(s, 0, sizeof(*s));
    htc_limits_default(&s->limits);
}

void htc_stream_free_parsed(HtcStream *s)
{
    const HtcContext *ctx = &s->ctx;
    if (s->tiles) {
        for (uint32_t t = 0; t < s->ntx * s->nty; t++) {
            HtcTile *tile = &s->tiles[t];
            if (tile->owns_coding) {
                htc_free(ctx, tile->cod);
                htc_free(ctx, tile->qcd);
                htc_free(ctx, tile->roi_shift);
            }
            if (tile->owns_poc)
                htc_free(ctx, tile->poc);
            htc_free(ctx, tile->packed_headers);
        }
    }
    htc_free(ctx, s->tiles);
    htc_free(ctx, s->comps);
    htc_free(ctx, s->main_cod);
    htc_free(ctx, s->main_qcd);
    htc_free(ctx, s->main_roi);
    htc_free(ctx, s->main_poc);
    htc_free(ctx, s->parts);
    htc_free(ctx, s->plt_lengths);
    htc_free(ctx, s->comments);
    htc_free(ctx, s->comment_rcom);
    if (s->priv) {
        htc_free(ctx, s->priv->boxes);
        htc_free(ctx, s->priv->part_pool);
        htc_free(ctx, s->priv->tlm);
        htc_free(ctx, s->priv->marks);
        htc_free(ctx, s->priv);
    }
    s->tiles = NULL;
    s->comps = NULL;
    s->priv = NULL;
}

void htc_stream_close(HtcStream **ps)
{
    if (!ps || !*ps)
        return;
    HtcStream *s = *ps;
    const HtcContext ctx = s->ctx;
    htc_stream_free_parsed(s);
    htc_free(&ctx, s->owned);
    htc_free(&ctx, s);
    *ps = NULL;
}

/* A stream with its context and bookkeeping, nothing parsed yet. */
static int stream_new(HtcStream **out, const HtcStreamSettings *settings)
{
    HtcStreamSettings def;
    if (!settings) {
        htc_stream_default_settings(&def);
        settings = &def;
    }
    HtcContext ctx;
    htc_context_init(&ctx, &settings->allocator, settings->log, settings->log_opaque, &settings->limits);
    HtcStream *s = htc_calloc(&ctx, 1, sizeof(HtcStream));
    if (!s)
        return htc_fail(&ctx, HTC_ENOMEM, "out of memory");
    s->ctx = ctx;
    s->priv = htc_calloc(&ctx, 1, sizeof(HtcStreamPriv));
    if (!s->priv) {
        htc_free(&ctx, s);
        return htc_fail(&ctx, HTC_ENOMEM, "out of memory");
    }
    s->priv->strict = settings->strict != 0;
    *out = s;
    return 0;
}

static int stream_parse(HtcStream *s)
{
    if (s->ctx.limits.max_bytes && s->file_size > s->ctx.limits.max_bytes)
        return htc_fail(&s->ctx, HTC_ELIMIT, "input of %zu bytes exceeds the limit of %llu", s->file_size,
                        (unsigned long long)s->ctx.limits.max_bytes);
    HTC_CHECK(htc_boxes_parse(s));
    HTC_CHECK(htc_markers_parse(s));
    const HtcJp2Info *j = &s->priv->jp2;
    if (s->format != HTC_FORMAT_CODESTREAM && j->width &&
        (j->width != s->x1 - s->x0 || j->height != s->y1 - s->y0 || j->num_components != s->num_components)) {
        /* The codestream is what gets decoded; ihdr only describes it. */
        if (s->priv->strict)
            return htc_fail(&s->ctx, HTC_ECONTRADICT, "ihdr says %ux%u with %u components, SIZ %ux%u with %u",
                            j->width, j->height, j->num_components, s->x1 - s->x0, s->y1 - s->y0,
                            s->num_components);
        htc_log(&s->ctx, HTC_LOG_WARNING, "ihdr says %ux%u with %u components, SIZ %ux%u with %u; SIZ is used",
                j->width, j->height, j->num_components, s->x1 - s->x0, s->y1 - s->y0, s->num_components);
    }
    return 0;
}

int htc_stream_open_memory(HtcStream **out, const void *data, size_t size, const HtcStreamSettings *settings)
{
    if (!out)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_open_memory: out is NULL");
    *out = NULL;
    if (!data && size)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_open_memory: data is NULL");
    htc_clear_error();
    HtcStream *s;
    HTC_CHECK(stream_new(&s, settings));
    s->file = data;
    s->file_size = size;
    const int rc = stream_parse(s);
    if (rc < 0) {
        htc_stream_close(&s);
        return rc;
    }
    *out = s;
    return 0;
}

int htc_stream_open_file(HtcStream **out, const char *path, const HtcStreamSettings *settings)
{
    if (!out)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_open_file: out is NULL");
    *out = NULL;
    if (!path)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_open_file: path is NULL");
    htc_clear_error();
    HtcStream *s;
    HTC_CHECK(stream_new(&s, settings));
    FILE *f = fopen(path, "rb");
    int rc = 0;
    if (!f) {
        rc = htc_fail(&s->ctx, HTC_EIO, "%s: cannot open", path);
        goto fail;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        rc = htc_fail(&s->ctx, HTC_EIO, "%s: not a regular file", path);
        goto fail;
    }
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        rc = htc_fail(&s->ctx, HTC_EIO, "%s: cannot read its size", path);
        goto fail;
    }
    if (s->ctx.limits.max_bytes && (uint64_t)n > s->ctx.limits.max_bytes) {
        fclose(f);
        rc = htc_fail(&s->ctx, HTC_ELIMIT, "%s: %ld bytes exceed the limit of %llu", path, n,
                      (unsigned long long)s->ctx.limits.max_bytes);
        goto fail;
    }
    s->owned = htc_malloc(&s->ctx, (size_t)n);
    if (!s->owned) {
        fclose(f);
        rc = htc_fail(&s->ctx, HTC_ENOMEM, "%s: out of memory for %ld bytes", path, n);
        goto fail;
    }
    if (fread(s->owned, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        rc = htc_fail(&s->ctx, HTC_EIO, "%s: read error", path);
        goto fail;
    }
    fclose(f);
    s->file = s->owned;
    s->file_size = (size_t)n;
    if ((rc = stream_parse(s)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    htc_stream_close(&s);
    return rc;
}

/* ---- getters ---- */

int htc_stream_get_info(const HtcStream *s, HtcImageInfo *info)
{
    if (!s || !info)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_info: NULL argument");
    memset(info, 0, sizeof(*info));
    info->format = s->format;
    info->x0 = s->x0;
    info->y0 = s->y0;
    info->x1 = s->x1;
    info->y1 = s->y1;
    info->width = s->x1 - s->x0;
    info->height = s->y1 - s->y0;
    info->num_components = s->num_components;
    info->tile_x0 = s->tx0;
    info->tile_y0 = s->ty0;
    info->tile_width = s->tw;
    info->tile_height = s->th;
    info->num_tiles_x = s->ntx;
    info->num_tiles_y = s->nty;
    info->rsiz = s->rsiz;
    info->is_ht = (s->rsiz & 0x4000) != 0;
    for (uint32_t c = 0; c < s->num_components; c++)
        if (s->main_cod[c].cblk_style & HTC_CBLK_HT)
            info->is_ht = 1;
    /* Tiles with their own coding style (bounded by max_memory). */
    for (uint32_t t = 0; t < s->ntx * s->nty && !info->is_ht; t++) {
        if (!s->tiles[t].owns_coding)
            continue;
        for (uint32_t c = 0; c < s->num_components; c++)
            if (s->tiles[t].cod[c].cblk_style & HTC_CBLK_HT)
                info->is_ht = 1;
    }
    info->has_tlm = s->has_tlm;
    info->has_plt = s->has_plt_all;
    info->has_plm = s->has_plm;
    info->has_ppm = s->has_ppm;
    info->has_ppt = s->has_ppt;
    info->has_poc = s->has_poc;
    info->cap_pcap = s->cap_pcap;
    info->cap_ccap15 = s->cap_ccap15;
    info->colourspace = s->colourspace;
    info->has_icc = s->has_icc;
    info->has_palette = s->has_palette;
    info->num_comments = s->num_comments;
    return 0;
}

int htc_stream_get_component(const HtcStream *s, uint32_t comp, HtcComponentInfo *info)
{
    if (!s || !info)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_component: NULL argument");
    if (comp >= s->num_components)
        return htc_fail(&s->ctx, HTC_ERANGE, "component %u of %u", comp, s->num_components);
    const HtcComponent *c = &s->comps[comp];
    memset(info, 0, sizeof(*info));
    info->precision = c->precision;
    info->is_signed = c->is_signed;
    info->dx = c->dx;
    info->dy = c->dy;
    info->width = htc_comp_x(s->x1, c->dx) - htc_comp_x(s->x0, c->dx);
    info->height = htc_comp_x(s->y1, c->dy) - htc_comp_x(s->y0, c->dy);
    return 0;
}

int htc_stream_get_tile(const HtcStream *s, uint32_t tile, HtcTileInfo *info)
{
    if (!s || !info)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_tile: NULL argument");
    if (tile >= s->ntx * s->nty)
        return htc_fail(&s->ctx, HTC_ERANGE, "tile %u of %u", tile, s->ntx * s->nty);
    const HtcTile *t = &s->tiles[tile];
    memset(info, 0, sizeof(*info));
    info->index = tile;
    info->x0 = t->x0;
    info->y0 = t->y0;
    info->x1 = t->x1;
    info->y1 = t->y1;
    info->num_tile_parts = t->num_parts;
    info->first_offset = UINT64_MAX;
    for (uint32_t k = 0; k < t->num_parts; k++) {
        const HtcTilePart *tp = &s->parts[t->parts[k]];
        if (tp->num_parts && !info->declared_tile_parts)
            info->declared_tile_parts = tp->num_parts;
        if (tp->sot_offset < info->first_offset)
            info->first_offset = tp->sot_offset;
        info->num_bytes += tp->data.offset + tp->data.length - tp->sot_offset;
    }
    if (t->num_parts == 0)
        info->first_offset = 0;
    return 0;
}

uint32_t htc_stream_num_tile_parts(const HtcStream *s) { return s ? s->num_parts : 0; }

int htc_stream_get_tile_part(const HtcStream *s, uint32_t n, HtcTilePartInfo *info)
{
    if (!s || !info)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_tile_part: NULL argument");
    if (n >= s->num_parts)
        return htc_fail(&s->ctx, HTC_ERANGE, "tile-part %u of %u", n, s->num_parts);
    const HtcTilePart *tp = &s->parts[n];
    memset(info, 0, sizeof(*info));
    info->tile_index = tp->tile;
    info->part_index = tp->part;
    info->sot_offset = tp->sot_offset;
    info->data_offset = tp->data.offset;
    info->data_length = tp->data.length;
    return 0;
}

int htc_stream_get_coding(const HtcStream *s, uint32_t tile, uint32_t comp, HtcCodingInfo *info)
{
    if (!s || !info)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_coding: NULL argument");
    if (tile >= s->ntx * s->nty && tile != HTC_TILE_MAIN)
        return htc_fail(&s->ctx, HTC_ERANGE, "tile %u of %u", tile, s->ntx * s->nty);
    if (comp >= s->num_components)
        return htc_fail(&s->ctx, HTC_ERANGE, "component %u of %u", comp, s->num_components);
    const int main_hdr = tile == HTC_TILE_MAIN;
    const HtcCod *c = main_hdr ? &s->main_cod[comp] : &s->tiles[tile].cod[comp];
    const HtcQcd *q = main_hdr ? &s->main_qcd[comp] : &s->tiles[tile].qcd[comp];
    memset(info, 0, sizeof(*info));
    info->levels = c->levels;
    info->cblk_width = 1u << c->cblk_w_exp;
    info->cblk_height = 1u << c->cblk_h_exp;
    info->cblk_style = c->cblk_style;
    info->reversible = c->reversible;
    info->progression = c->progression;
    info->layers = c->layers;
    info->mct = c->mct;
    info->use_precincts = c->scod & 1;
    info->sop = (c->scod >> 1) & 1;
    info->eph = (c->scod >> 2) & 1;
    for (uint32_t r = 0; r <= HTC_MAX_LEVELS; r++) {
        info->precinct_w_exp[r] = c->ppx[r];
        info->precinct_h_exp[r] = c->ppy[r];
    }
    info->quant_style = q->style;
    info->guard_bits = q->guard_bits;
    info->num_steps = q->num_steps;
    const uint32_t nb = 3u * c->levels + 1;
    for (uint32_t b = 0; b < nb && b < HTC_MAX_BANDS; b++)
        info->steps[b] = (uint16_t)(q->exponent[b] << 11 | q->mantissa[b]);
    info->roi_shift = main_hdr ? s->main_roi[comp] : s->tiles[tile].roi_shift[comp];
    return 0;
}

int htc_stream_get_comment(const HtcStream *s, uint32_t n, int *rcom, const uint8_t **data, size_t *size)
{
    if (!s || !rcom || !data || !size)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_comment: NULL argument");
    if (n >= s->num_comments)
        return htc_fail(&s->ctx, HTC_ERANGE, "comment %u of %u", n, s->num_comments);
    *rcom = s->comment_rcom[n];
    *data = s->cs + s->comments[n].offset;
    *size = (size_t)s->comments[n].length;
    return 0;
}

int htc_stream_get_codestream(const HtcStream *s, const uint8_t **data, size_t *size)
{
    if (!s || !data || !size)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_codestream: NULL argument");
    *data = s->cs;
    *size = s->cs_size;
    return 0;
}

int htc_stream_get_jp2(const HtcStream *s, HtcJp2Info *info)
{
    if (!s || !info)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_jp2: NULL argument");
    memset(info, 0, sizeof(*info));
    if (s->format == HTC_FORMAT_CODESTREAM)
        return htc_fail(&s->ctx, HTC_EINVAL, "a bare codestream has no JP2 boxes");
    *info = s->priv->jp2;
    return 0;
}

int htc_stream_get_box(const HtcStream *s, uint32_t n, uint32_t *type, uint32_t *depth, uint64_t *offset,
                       uint64_t *length)
{
    if (!s || !type || !depth || !offset || !length)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_box: NULL argument");
    if (n >= s->priv->num_boxes)
        return htc_fail(&s->ctx, HTC_ERANGE, "box %u of %u", n, s->priv->num_boxes);
    const HtcBoxRec *b = &s->priv->boxes[n];
    *type = b->type;
    *depth = b->depth;
    *offset = b->offset;
    *length = b->length;
    return 0;
}

const char *htc_stream_markers(const HtcStream *s)
{
    return s && s->priv ? s->priv->markers : "";
}

uint32_t htc_stream_num_markers(const HtcStream *s) { return s && s->priv ? s->priv->num_marks : 0; }

int htc_stream_get_marker(const HtcStream *s, uint32_t n, uint16_t *code, uint64_t *offset, uint32_t *length)
{
    if (!s || !code || !offset || !length)
        return htc_fail(NULL, HTC_EINVAL, "htc_stream_get_marker: NULL argument");
    if (n >= s->priv->num_marks)
        return htc_fail(&s->ctx, HTC_ERANGE, "marker %u of %u", n, s->priv->num_marks);
    const HtcMarkerRec *m = &s->priv->marks[n];
    *code = m->code;
    *offset = m->offset;
    *length = m->length;
    return 0;
}
