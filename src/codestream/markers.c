/* htcodec: marker segments of the main header and of tile-part headers
 * (15444-1 Annex A; CAP and CPF from 15444-15 A.3 / 15444-1 AMD).
 * Every field is range-checked here; tier 2 trusts what it finds in
 * HtcStream. Tile-parts themselves are walked in markers_tile.c. */
#include <stdarg.h>
#include <stdio.h>

#include "codestream/parse.h"

const char *htc_marker_name(uint16_t code)
{
    switch (code) {
    case HTC_MK_SOC: return "SOC";
    case HTC_MK_SOT: return "SOT";
    case HTC_MK_SOD: return "SOD";
    case HTC_MK_EOC: return "EOC";
    case HTC_MK_SIZ: return "SIZ";
    case HTC_MK_CAP: return "CAP";
    case HTC_MK_CPF: return "CPF";
    case HTC_MK_COD: return "COD";
    case HTC_MK_COC: return "COC";
    case HTC_MK_RGN: return "RGN";
    case HTC_MK_QCD: return "QCD";
    case HTC_MK_QCC: return "QCC";
    case HTC_MK_POC: return "POC";
    case HTC_MK_TLM: return "TLM";
    case HTC_MK_PLM: return "PLM";
    case HTC_MK_PLT: return "PLT";
    case HTC_MK_PPM: return "PPM";
    case HTC_MK_PPT: return "PPT";
    case HTC_MK_SOP: return "SOP";
    case HTC_MK_EPH: return "EPH";
    case HTC_MK_CRG: return "CRG";
    case HTC_MK_COM: return "COM";
    default: return "marker";
    }
}

/* "SIZ at offset 2" or "marker 0xFF6F at offset 51": codestream offsets,
 * with the file offset too inside a JP2/JPH file. */
static void where(const HtcParser *P, char *buf, size_t size, uint16_t marker, uint64_t offset)
{
    int n;
    if (!strcmp(htc_marker_name(marker), "marker"))
        n = snprintf(buf, size, "marker 0x%04X at offset %llu", marker, (unsigned long long)offset);
    else
        n = snprintf(buf, size, "%s at offset %llu", htc_marker_name(marker), (unsigned long long)offset);
    if (P->s->format != HTC_FORMAT_CODESTREAM && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " (file offset %llu)",
                 (unsigned long long)(offset + (uint64_t)(P->cs - P->s->file)));
}

int htc_mk_fail(HtcParser *P, int status, uint16_t marker, uint64_t offset, const char *fmt, ...)
{
    char msg[400], at[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    where(P, at, sizeof(at), marker, offset);
    return htc_fail(&P->s->ctx, status, "%s: %s", at, msg);
}

int htc_mk_odd(HtcParser *P, uint16_t marker, uint64_t offset, const char *fmt, ...)
{
    char msg[400], at[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    where(P, at, sizeof(at), marker, offset);
    if (P->p->strict)
        return htc_fail(&P->s->ctx, HTC_EMARKER, "%s: %s", at, msg);
    htc_log(&P->s->ctx, HTC_LOG_WARNING, "%s: %s", at, msg);
    return 0;
}

int htc_mk_record(HtcParser *P, uint16_t code, size_t offset, size_t seg_len)
{
    HtcStreamPriv *p = P->p;
    HTC_CHECK(htc_mk_grow(P, (void **)&p->marks, &p->cap_marks, p->num_marks, sizeof(HtcMarkerRec)));
    HtcMarkerRec *m = &p->marks[p->num_marks++];
    m->code = code;
    m->offset = offset;
    m->length = (uint32_t)(seg_len + 2);
    return 0;
}

int htc_mk_grow(HtcParser *P, void **arr, uint32_t *cap, uint32_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    if (*cap >= UINT32_MAX / 2)
        return htc_fail(&P->s->ctx, HTC_ENOMEM, "too many entries");
    const uint32_t ncap = *cap ? *cap * 2 : 16;
    void *q = htc_realloc(&P->s->ctx, *arr, (size_t)*cap * elem, (size_t)ncap * elem);
    if (!q)
        return htc_fail(&P->s->ctx, HTC_ENOMEM, "out of memory growing a table of %u entries", ncap);
    memset((uint8_t *)q + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
    *arr = q;
    *cap = ncap;
    return 0;
}

void *htc_parse_alloc(HtcStream *s, size_t n, size_t size, const char *what, uint64_t offset)
{
    HtcStreamPriv *p = s->priv;
    if (size && n > SIZE_MAX / size) {
        p->alloc_status = HTC_ELIMIT;
        htc_fail(&s->ctx, HTC_ELIMIT, "%s at offset %llu: table size overflows", what,
                 (unsigned long long)offset);
        return NULL;
    }
    const uint64_t bytes = (uint64_t)n * size;
    if (s->ctx.limits.max_memory && p->memory + bytes > s->ctx.limits.max_memory) {
        p->alloc_status = HTC_ELIMIT;
        htc_fail(&s->ctx, HTC_ELIMIT,
                 "%s at offset %llu: header tables need %llu bytes, over the memory limit %llu", what,
                 (unsigned long long)offset, (unsigned long long)(p->memory + bytes),
                 (unsigned long long)s->ctx.limits.max_memory);
        return NULL;
    }
    void *q = htc_calloc(&s->ctx, n ? n : 1, size ? size : 1);
    if (!q) {
        p->alloc_status = HTC_ENOMEM;
        htc_fail(&s->ctx, HTC_ENOMEM, "%s at offset %llu: out of memory (%llu bytes)", what,
                 (unsigned long long)offset, (unsigned long long)bytes);
        return NULL;
    }
    p->memory += bytes;
    return q;
}

/* ---- SIZ (A.5.1) ---- */

static int parse_siz(HtcParser *P, uint64_t off, const uint8_t *d, size_t n)
{
    HtcStream *s = P->s;
    const HtcLimits *lim = &s->ctx.limits;
    const uint16_t M = HTC_MK_SIZ;
    if (n < 36)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "Lsiz %zu is too small", n + 2);
    s->rsiz = htc_rd16(d);
    s->x1 = htc_rd32(d + 2);
    s->y1 = htc_rd32(d + 6);
    s->x0 = htc_rd32(d + 10);
    s->y0 = htc_rd32(d + 14);
    s->tw = htc_rd32(d + 18);
    s->th = htc_rd32(d + 22);
    s->tx0 = htc_rd32(d + 26);
    s->ty0 = htc_rd32(d + 30);
    const uint32_t nc = htc_rd16(d + 34);
    if (nc == 0 || nc > 16384)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "Csiz %u is out of range", nc);
    if (lim->max_components && nc > lim->max_components)
        return htc_mk_fail(P, HTC_ELIMIT, M, off, "Csiz %u exceeds the limit of %u components", nc,
                           lim->max_components);
    if (n != 36 + 3 * (size_t)nc)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "Lsiz %zu does not match Csiz %u (expected %u)",
                           n + 2, nc, 38 + 3 * nc);
    if (s->x1 <= s->x0 || s->y1 <= s->y0)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "empty image area (%u,%u)-(%u,%u)", s->x0,
                           s->y0, s->x1, s->y1);
    if (s->tw == 0 || s->th == 0)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "tile size %ux%u is zero", s->tw, s->th);
    if (s->tx0 > s->x0 || s->ty0 > s->y0 || (uint64_t)s->tx0 + s->tw <= s->x0 ||
        (uint64_t)s->ty0 + s->th <= s->y0)
        return htc_mk_fail(P, HTC_EMARKER, M, off,
                           "tile origin (%u,%u) with tiles %ux%u does not cover the image origin (%u,%u)",
                           s->tx0, s->ty0, s->tw, s->th, s->x0, s->y0);
    const uint64_t pixels = (uint64_t)(s->x1 - s->x0) * (s->y1 - s->y0);
    if (lim->max_pixels && pixels > lim->max_pixels)
        return htc_mk_fail(P, HTC_ELIMIT, M, off, "image %ux%u exceeds the limit of %llu pixels",
                           s->x1 - s->x0, s->y1 - s->y0, (unsigned long long)lim->max_pixels);
    s->ntx = htc_ceil_div_u32(s->x1 - s->tx0, s->tw);
    s->nty = htc_ceil_div_u32(s->y1 - s->ty0, s->th);
    const uint64_t ntiles = (uint64_t)s->ntx * s->nty;
    if (ntiles > 65535)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "%llu tiles, more than Isot can index (65535)",
                           (unsigned long long)ntiles);
    if (lim->max_tiles && ntiles > lim->max_tiles)
        return htc_mk_fail(P, HTC_ELIMIT, M, off, "%llu tiles exceed the limit of %u",
                           (unsigned long long)ntiles, lim->max_tiles);
    P->ntiles = (uint32_t)ntiles;
    s->comps = htc_parse_alloc(s, nc, sizeof(HtcComponent), "SIZ", off);
    if (!s->comps)
        return s->priv->alloc_status;
    s->num_components = nc;
    for (uint32_t c = 0; c < nc; c++) {
        const uint8_t *e = d + 36 + 3 * c;
        const uint32_t prec = (e[0] & 0x7f) + 1u;
        if (prec > 38)
            return htc_mk_fail(P, HTC_EMARKER, M, off, "component %u: precision %u exceeds 38 bits",
                               c, prec);
        if (e[1] == 0 || e[2] == 0)
            return htc_mk_fail(P, HTC_EMARKER, M, off, "component %u: sub-sampling %ux%u is zero", c,
                               e[1], e[2]);
        s->comps[c].precision = (uint8_t)prec;
        s->comps[c].is_signed = e[0] >> 7;
        s->comps[c].dx = e[1];
        s->comps[c].dy = e[2];
    }
    s->main_cod = htc_parse_alloc(s, nc, sizeof(HtcCod), "SIZ", off);
    s->main_qcd = htc_parse_alloc(s, nc, sizeof(HtcQcd), "SIZ", off);
    s->main_roi = htc_parse_alloc(s, nc, 1, "SIZ", off);
    P->main.flags = htc_parse_alloc(s, nc, 1, "SIZ", off);
    s->tiles = htc_parse_alloc(s, ntiles, sizeof(HtcTile), "SIZ", off);
    P->tile_state = htc_parse_alloc(s, ntiles, sizeof(HtcHdrState *), "SIZ", off);
    P->cap_tile_poc = htc_parse_alloc(s, ntiles, sizeof(uint32_t), "SIZ", off);
    if (!s->main_cod || !s->main_qcd || !s->main_roi || !P->main.flags || !s->tiles ||
        !P->tile_state || !P->cap_tile_poc)
        return s->priv->alloc_status;
    P->main.cod = s->main_cod;
    P->main.qcd = s->main_qcd;
    P->main.roi = s->main_roi;
    for (uint32_t t = 0; t < ntiles; t++) {
        HtcTile *tile = &s->tiles[t];
        const uint32_t p = t % s->ntx, q = t / s->ntx;
        tile->index = t;
        tile->x0 = HTC_MAX(s->tx0 + p * s->tw, s->x0);
        tile->y0 = HTC_MAX(s->ty0 + q * s->th, s->y0);
        tile->x1 = (uint32_t)HTC_MIN((uint64_t)s->tx0 + (uint64_t)(p + 1) * s->tw, s->x1);
        tile->y1 = (uint32_t)HTC_MIN((uint64_t)s->ty0 + (uint64_t)(q + 1) * s->th, s->y1);
    }
    return 0;
}

/* ---- COD / COC (A.6.1, A.6.2) ---- */

/* SPcod / SPcoc: decomposition levels, code-block size and style, wavelet,
 * precinct sizes. Writes the component part of c (scod bit 0 included). */
static int parse_spcod(HtcParser *P, uint16_t M, uint64_t off, const uint8_t *d, size_t n,
                       uint8_t scod, HtcCod *c)
{
    if (n < 5)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "segment too short for SPcod (%zu bytes)", n);
    const uint32_t nl = d[0], xcb = d[1], ycb = d[2], style = d[3], wt = d[4];
    if (nl > HTC_MAX_LEVELS)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "%u decomposition levels (at most 32)", nl);
    if (xcb > 8 || ycb > 8 || xcb + ycb > 8)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "code-block size exponents %u,%u are out of range",
                           xcb + 2, ycb + 2);
    if (wt > 1)
        return htc_mk_fail(P, HTC_EUNSUPPORTED, M, off,
                           "wavelet transform %u (Part 2 kernels are not supported)", wt);
    if ((style & HTC_CBLK_HT_MIXED) && !(style & HTC_CBLK_HT))
        HTC_CHECK(htc_mk_odd(P, M, off, "code-block style 0x%02X: bit 7 without bit 6", style));
    const size_t need = 5 + ((scod & 1) ? nl + 1 : 0);
    if (n < need)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "%zu bytes, %u levels with precincts need %zu", n,
                           nl, need);
    if (n > need)
        HTC_CHECK(htc_mk_odd(P, M, off, "%zu bytes after the coding style are ignored", n - need));
    c->scod = (uint8_t)((c->scod & ~1u) | (scod & 1));
    c->levels = (uint8_t)nl;
    c->cblk_w_exp = (uint8_t)(xcb + 2);
    c->cblk_h_exp = (uint8_t)(ycb + 2);
    c->cblk_style = (uint8_t)style;
    c->reversible = (uint8_t)wt;
    for (uint32_t r = 0; r <= HTC_MAX_LEVELS; r++)
        c->ppx[r] = c->ppy[r] = 15;
    if (scod & 1) {
        for (uint32_t r = 0; r <= nl; r++) {
            const uint32_t ppx = d[5 + r] & 15, ppy = d[5 + r] >> 4;
            if (r > 0 && (ppx == 0 || ppy == 0))
                return htc_mk_fail(P, HTC_EMARKER, M, off,
                                   "precinct size exponents %u,%u at resolution %u (only resolution 0 may use 0)",
                                   ppx, ppy, r);
            c->ppx[r] = (uint8_t)ppx;
            c->ppy[r] = (uint8_t)ppy;
        }
    }
    return 0;
}

static int parse_cod(HtcParser *P, uint64_t off, const uint8_t *d, size_t n, HtcHdrState *h)
{
    const uint16_t M = HTC_MK_COD;
    if (n < 5)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "Lcod %zu is too small", n + 2);
    if (h->has_cod)
        HTC_CHECK(htc_mk_odd(P, M, off, "a second COD in one header replaces the first"));
    HtcCod c;
    memset(&c, 0, sizeof(c));
    const uint32_t scod = d[0], prog = d[1], layers = htc_rd16(d + 2), mct = d[4];
    if (scod & ~7u)
        return htc_mk_fail(P, HTC_EUNSUPPORTED, M, off, "Scod 0x%02X uses Part 2 bits", scod);
    if (prog > 4)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "progression order %u is out of range", prog);
    if (layers == 0)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "zero quality layers");
    if (mct > 1)
        return htc_mk_fail(P, HTC_EUNSUPPORTED, M, off,
                           "multiple component transform %u (Part 2) is not supported", mct);
    if (mct && P->s->num_components < 3)
        HTC_CHECK(htc_mk_odd(P, M, off, "MCT with %u components is ignored", P->s->num_components));
    c.scod = (uint8_t)scod;
    c.progression = (uint8_t)prog;
    c.layers = (uint16_t)layers;
    c.mct = (uint8_t)(mct && P->s->num_components >= 3);
    HTC_CHECK(parse_spcod(P, M, off, d + 5, n - 5, (uint8_t)scod, &c));
    h->gcod = c;
    h->has_cod = 1;
    return 0;
}

/* Ccoc / Cqcc / Crgn: one byte below 257 components, else two. */
static int read_comp(HtcParser *P, uint16_t M, uint64_t off, const uint8_t **d, size_t *n,
                     uint32_t *comp)
{
    const size_t w = P->s->num_components < 257 ? 1 : 2;
    if (*n < w)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "segment too short for the component index");
    *comp = w == 1 ? (*d)[0] : htc_rd16(*d);
    if (*comp >= P->s->num_components)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "component %u, but Csiz is %u", *comp,
                           P->s->num_components);
    *d += w;
    *n -= w;
    return 0;
}

static int parse_coc(HtcParser *P, uint64_t off, const uint8_t *d, size_t n, HtcHdrState *h)
{
    const uint16_t M = HTC_MK_COC;
    uint32_t c = 0;
    HTC_CHECK(read_comp(P, M, off, &d, &n, &c));
    if (n < 1)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "segment too short for Scoc");
    if (d[0] & ~1u)
        HTC_CHECK(htc_mk_odd(P, M, off, "Scoc 0x%02X has reserved bits set", d[0]));
    if (h->flags[c] & HTC_HDR_COC)
        HTC_CHECK(htc_mk_odd(P, M, off, "a second COC for component %u replaces the first", c));
    HTC_CHECK(parse_spcod(P, M, off, d + 1, n - 1, d[0] & 1, &h->cod[c]));
    h->flags[c] |= HTC_HDR_COC;
    return 0;
}

/* ---- QCD / QCC (A.6.4, A.6.5) ---- */

static int parse_sqcd(HtcParser *P, uint16_t M, uint64_t off, const uint8_t *d, size_t n, HtcQcd *q)
{
    if (n < 1)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "segment too short for Sqcd");
    const uint32_t style = d[0] & 0x1f, guard = d[0] >> 5;
    d++;
    n--;
    memset(q, 0, sizeof(*q));
    q->guard_bits = (uint8_t)guard;
    if (style == 0) {
        if (n == 0 || n > HTC_MAX_BANDS)
            return htc_mk_fail(P, HTC_EMARKER, M, off, "%zu exponents (1 to 97 allowed)", n);
        q->style = HTC_QUANT_NONE;
        q->num_steps = (uint16_t)n;
        for (size_t b = 0; b < n; b++)
            q->exponent[b] = d[b] >> 3;
    } else if (style == 1 || style == 2) {
        if (n < 2 || (n & 1))
            return htc_mk_fail(P, HTC_EMARKER, M, off, "%zu bytes of step sizes is not a whole number",
                               n);
        size_t count = n / 2;
        if (style == 1 && count > 1) {
            HTC_CHECK(htc_mk_odd(P, M, off, "derived quantisation with %zu step sizes; the first is used",
                                 count));
            count = 1;
        }
        if (count > HTC_MAX_BANDS)
            return htc_mk_fail(P, HTC_EMARKER, M, off, "%zu step sizes (at most 97)", count);
        q->style = style == 1 ? HTC_QUANT_DERIVED : HTC_QUANT_EXPOUNDED;
        q->num_steps = (uint16_t)count;
        for (size_t b = 0; b < count; b++) {
            const uint32_t v = htc_rd16(d + 2 * b);
            q->exponent[b] = (uint8_t)(v >> 11);
            q->mantissa[b] = (uint16_t)(v & 0x7ff);
        }
    } else {
        return htc_mk_fail(P, HTC_EMARKER, M, off, "quantisation style %u is not defined", style);
    }
    return 0;
}

static int parse_qcd(HtcParser *P, uint64_t off, const uint8_t *d, size_t n, HtcHdrState *h)
{
    if (h->has_qcd)
        HTC_CHECK(htc_mk_odd(P, HTC_MK_QCD, off, "a second QCD in one header replaces the first"));
    HTC_CHECK(parse_sqcd(P, HTC_MK_QCD, off, d, n, &h->gqcd));
    h->has_qcd = 1;
    return 0;
}

static int parse_qcc(HtcParser *P, uint64_t off, const uint8_t *d, size_t n, HtcHdrState *h)
{
    uint32_t c = 0;
    HTC_CHECK(read_comp(P, HTC_MK_QCC, off, &d, &n, &c));
    if (h->flags[c] & HTC_HDR_QCC)
        HTC_CHECK(htc_mk_odd(P, HTC_MK_QCC, off, "a second QCC for component %u replaces the first", c));
    HTC_CHECK(parse_sqcd(P, HTC_MK_QCC, off, d, n, &h->qcd[c]));
    h->flags[c] |= HTC_HDR_QCC;
    return 0;
}

/* Fills every band of q for the levels of c (E.8.1 for derived) and checks
 * that enough step sizes were given. */
static int expand_qcd(HtcParser *P, const HtcCod *c, HtcQcd *q, int32_t tile, uint32_t comp)
{
    const uint32_t nb = 3u * c->levels + 1;
    char where[32] = "main header";
    if (tile >= 0)
        snprintf(where, sizeof(where), "tile %d", tile);
    if (q->style == HTC_QUANT_DERIVED) {
        const int e0 = q->exponent[0];
        for (uint32_t b = 1; b < nb; b++) {
            const int r = (int)(b - 1) / 3 + 1; /* resolution of band b */
            const int e = e0 - (r - 1);
            if (e < 0)
                return htc_fail(&P->s->ctx, HTC_ECONTRADICT,
                                "QCD/QCC: derived exponent %d of band %u is negative (%s, component %u)",
                                e, b, where, comp);
            q->exponent[b] = (uint8_t)e;
            q->mantissa[b] = q->mantissa[0];
        }
        return 0;
    }
    if (q->num_steps < nb)
        return htc_fail(&P->s->ctx, HTC_ECONTRADICT,
                        "QCD/QCC gives %u step sizes, but %u levels need %u (%s, component %u)",
                        q->num_steps, c->levels, nb, where, comp);
    return 0;
}

int htc_mk_finish_header(HtcParser *P, HtcHdrState *h, const HtcCod *base_cod,
                         const HtcQcd *base_qcd, const uint8_t *base_roi, int32_t tile)
{
    const uint32_t nc = P->s->num_components;
    for (uint32_t c = 0; c < nc; c++) {
        HtcCod *d = &h->cod[c];
        const HtcCod *g = h->has_cod ? &h->gcod : base_cod ? &base_cod[c] : NULL;
        if (!g)
            return htc_fail(&P->s->ctx, HTC_EMARKER, "main header: no COD marker segment");
        if (h->flags[c] & HTC_HDR_COC) {
            d->scod = (uint8_t)((d->scod & 1) | (g->scod & 6));
            d->progression = g->progression;
            d->layers = g->layers;
            d->mct = g->mct;
        } else {
            *d = *g;
        }
        if (!(h->flags[c] & HTC_HDR_QCC)) {
            const HtcQcd *gq = h->has_qcd ? &h->gqcd : base_qcd ? &base_qcd[c] : NULL;
            if (!gq)
                return htc_fail(&P->s->ctx, HTC_EMARKER, "main header: no QCD marker segment");
            h->qcd[c] = *gq;
        }
        if (!(h->flags[c] & HTC_HDR_RGN))
            h->roi[c] = base_roi ? base_roi[c] : 0;
        HTC_CHECK(expand_qcd(P, d, &h->qcd[c], tile, c));
    }
    return 0;
}

/* ---- RGN (A.6.3) ---- */

static int parse_rgn(HtcParser *P, uint64_t off, const uint8_t *d, size_t n, HtcHdrState *h)
{
    const uint16_t M = HTC_MK_RGN;
    uint32_t c = 0;
    HTC_CHECK(read_comp(P, M, off, &d, &n, &c));
    if (n < 2)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "segment too short for Srgn and SPrgn");
    if (d[0] != 0)
        return htc_mk_fail(P, HTC_EUNSUPPORTED, M, off, "ROI style %u (only max-shift, 0, is defined)",
                           d[0]);
    if (d[1] > 74)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "ROI shift %u is out of range", d[1]);
    h->roi[c] = d[1];
    h->flags[c] |= HTC_HDR_RGN;
    P->p->markers_seen |= HTC_SEEN_RGN;
    return 0;
}

/* ---- POC (A.6.6) ---- */

static int parse_poc(HtcParser *P, uint64_t off, const uint8_t *d, size_t n, int32_t tile)
{
    const uint16_t M = HTC_MK_POC;
    HtcStream *s = P->s;
    const size_t cw = s->num_components < 257 ? 1 : 2, esz = 5 + 2 * cw;
    if (n == 0 || n % esz)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "Lpoc %zu is not a whole number of %zu-byte entries",
                           n + 2, esz);
    HtcPoc **arr = tile < 0 ? &s->main_poc : &s->tiles[tile].poc;
    uint32_t *num = tile < 0 ? &s->num_main_poc : &s->tiles[tile].num_poc;
    uint32_t *cap = tile < 0 ? &P->cap_main_poc : &P->cap_tile_poc[tile];
    for (size_t i = 0; i < n / esz; i++) {
        const uint8_t *e = d + i * esz;
        const uint32_t rs = e[0];
        const uint32_t cs = cw == 1 ? e[1] : htc_rd16(e + 1);
        const uint32_t lye = htc_rd16(e + 1 + cw);
        const uint32_t re = e[3 + cw];
        uint32_t ce = cw == 1 ? e[4 + cw] : htc_rd16(e + 4 + cw);
        const uint32_t prog = e[4 + 2 * cw];
        if (ce == 0)
            ce = cw == 1 ? 256 : 16384;
        if (prog > 4)
            return htc_mk_fail(P, HTC_EMARKER, M, off, "entry %zu: progression order %u", i, prog);
        if (rs >= re || cs >= ce || lye == 0)
            HTC_CHECK(htc_mk_odd(P, M, off, "entry %zu is empty (RS %u RE %u CS %u CE %u LYE %u)", i, rs,
                                 re, cs, ce, lye));
        if (rs > HTC_MAX_LEVELS)
            HTC_CHECK(htc_mk_odd(P, M, off, "entry %zu: RSpoc %u beyond 32 levels", i, rs));
        if (tile >= 0 && !s->tiles[tile].owns_poc) {
            s->tiles[tile].poc = NULL;
            s->tiles[tile].num_poc = 0;
            s->tiles[tile].owns_poc = 1;
        }
        HTC_CHECK(htc_mk_grow(P, (void **)arr, cap, *num, sizeof(HtcPoc)));
        HtcPoc *o = &(*arr)[(*num)++];
        o->rs = (uint8_t)HTC_MIN(rs, 33u);
        o->re = (uint8_t)HTC_MIN(re, 33u);
        o->cs = (uint16_t)HTC_MIN(cs, s->num_components);
        o->ce = (uint16_t)HTC_MIN(ce, s->num_components);
        o->lye = (uint16_t)lye;
        o->progression = (uint8_t)prog;
    }
    s->has_poc = 1;
    P->p->markers_seen |= HTC_SEEN_POC;
    return 0;
}

/* ---- CAP (15444-15 A.3), CPF, CRG, COM ---- */

static int parse_cap(HtcParser *P, uint64_t off, const uint8_t *d, size_t n)
{
    const uint16_t M = HTC_MK_CAP;
    if (n < 4)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "Lcap %zu is too small", n + 2);
    const uint32_t pcap = htc_rd32(d);
    uint32_t bits = 0;
    for (uint32_t i = 0; i < 32; i++)
        bits += (pcap >> i) & 1;
    if (n != 4 + 2 * (size_t)bits)
        return htc_mk_fail(P, HTC_EMARKER, M, off, "Lcap %zu does not match %u bits set in Pcap 0x%08X",
                           n + 2, bits, pcap);
    P->s->cap_pcap = pcap;
    /* Pcap bit i (i = 1 .. 32, from the most significant) announces Part i. */
    uint32_t k = 0;
    for (uint32_t part = 1; part <= 32; part++) {
        if (pcap & (1u << (32 - part))) {
            P->p->ccap[part - 1] = htc_rd16(d + 4 + 2 * k);
            k++;
        }
    }
    P->s->cap_ccap15 = P->p->ccap[14];
    P->p->markers_seen |= HTC_SEEN_CAP;
    return 0;
}

static int parse_com(HtcParser *P, uint64_t off, const uint8_t *d, size_t n, int32_t tile)
{
    if (n < 2)
        return htc_mk_odd(P, HTC_MK_COM, off, "Lcom %zu is too small; ignored", n + 2);
    const uint32_t rcom = htc_rd16(d);
    if (rcom > 1)
        HTC_CHECK(htc_mk_odd(P, HTC_MK_COM, off, "Rcom %u is not defined", rcom));
    P->p->markers_seen |= HTC_SEEN_COM;
    if (tile >= 0) {
        P->p->num_tile_comments++;
        return 0;
    }
    HtcStream *s = P->s;
    uint32_t cap = P->cap_comments;
    HTC_CHECK(htc_mk_grow(P, (void **)&s->comments, &cap, s->num_comments, sizeof(HtcSpan)));
    cap = P->cap_comments;
    HTC_CHECK(htc_mk_grow(P, (void **)&s->comment_rcom, &cap, s->num_comments, sizeof(uint16_t)));
    P->cap_comments = cap;
    s->comments[s->num_comments].offset = (uint64_t)(d + 2 - P->cs);
    s->comments[s->num_comments].length = n - 2;
    s->comment_rcom[s->num_comments] = (uint16_t)rcom;
    s->num_comments++;
    return 0;
}

/* A tile's header state, made when its first tile-part header carries
 * a coding marker. */
static int tile_state(HtcParser *P, int32_t tile, uint64_t off, HtcHdrState **out)
{
    HtcStream *s = P->s;
    if (P->tile_state[tile]) {
        *out = P->tile_state[tile];
        return 0;
    }
    const uint32_t nc = s->num_components;
    HtcHdrState *h = htc_parse_alloc(s, 1, sizeof(HtcHdrState), "tile header", off);
    if (!h)
        return s->priv->alloc_status;
    P->tile_state[tile] = h;
    HtcTile *t = &s->tiles[tile];
    t->cod = htc_parse_alloc(s, nc, sizeof(HtcCod), "tile header", off);
    t->qcd = htc_parse_alloc(s, nc, sizeof(HtcQcd), "tile header", off);
    t->roi_shift = htc_parse_alloc(s, nc, 1, "tile header", off);
    h->flags = htc_parse_alloc(s, nc, 1, "tile header", off);
    t->owns_coding = 1;
    if (!t->cod || !t->qcd || !t->roi_shift || !h->flags)
        return s->priv->alloc_status;
    h->cod = t->cod;
    h->qcd = t->qcd;
    h->roi = t->roi_shift;
    *out = h;
    return 0;
}

int htc_mk_segment(HtcParser *P, uint16_t M, uint64_t off, const uint8_t *d, size_t n, int32_t tile,
                   uint32_t part)
{
    HtcStreamPriv *p = P->p;
    const int main_hdr = tile < 0;
    const int first_part = !main_hdr && P->s->parts[part].part == 0;
    switch (M) {
    case HTC_MK_SIZ:
        return htc_mk_fail(P, HTC_EMARKER, M, off, "a second SIZ");
    case HTC_MK_CAP:
    case HTC_MK_CPF:
    case HTC_MK_CRG:
    case HTC_MK_TLM:
    case HTC_MK_PLM:
    case HTC_MK_PPM:
        if (!main_hdr)
            return htc_mk_odd(P, M, off, "only allowed in the main header; ignored");
        if (M == HTC_MK_CAP)
            return parse_cap(P, off, d, n);
        if (M == HTC_MK_TLM)
            return htc_mk_tlm(P, off, d, n);
        if (M == HTC_MK_PPM)
            return htc_mk_ppm(P, off, d, n);
        if (M == HTC_MK_CPF) {
            if (n < 2 || (n & 1))
                return htc_mk_odd(P, M, off, "Lcpf %zu is malformed; ignored", n + 2);
            p->markers_seen |= HTC_SEEN_CPF;
            return 0;
        }
        if (M == HTC_MK_CRG) {
            if (n != 4 * (size_t)P->s->num_components)
                return htc_mk_odd(P, M, off, "Lcrg %zu does not match Csiz %u; ignored", n + 2,
                                   P->s->num_components);
            p->markers_seen |= HTC_SEEN_CRG;
            return 0;
        }
        if (n < 1)
            return htc_mk_odd(P, M, off, "Lplm %zu is too small; ignored", n + 2);
        P->s->has_plm = 1;
        p->markers_seen |= HTC_SEEN_PLM;
        return 0;
    case HTC_MK_COD:
    case HTC_MK_COC:
    case HTC_MK_QCD:
    case HTC_MK_QCC:
    case HTC_MK_RGN: {
        HtcHdrState *h = &P->main;
        if (!main_hdr) {
            if (!first_part)
                return htc_mk_odd(P, M, off, "only allowed in a tile's first tile-part; ignored");
            HTC_CHECK(tile_state(P, tile, off, &h));
            if (M == HTC_MK_COD)
                p->markers_seen |= HTC_SEEN_TILE_COD;
            if (M == HTC_MK_QCD)
                p->markers_seen |= HTC_SEEN_TILE_QCD;
        }
        if (M == HTC_MK_COC)
            p->markers_seen |= HTC_SEEN_COC;
        if (M == HTC_MK_QCC)
            p->markers_seen |= HTC_SEEN_QCC;
        switch (M) {
        case HTC_MK_COD: return parse_cod(P, off, d, n, h);
        case HTC_MK_COC: return parse_coc(P, off, d, n, h);
        case HTC_MK_QCD: return parse_qcd(P, off, d, n, h);
        case HTC_MK_QCC: return parse_qcc(P, off, d, n, h);
        default: return parse_rgn(P, off, d, n, h);
        }
    }
    case HTC_MK_POC:
        return parse_poc(P, off, d, n, tile);
    case HTC_MK_COM:
        return parse_com(P, off, d, n, tile);
    case HTC_MK_PLT:
    case HTC_MK_PPT:
        if (main_hdr)
            return htc_mk_odd(P, M, off, "only allowed in tile-part headers; ignored");
        if (M == HTC_MK_PLT)
            return htc_mk_plt(P, off, d, n);
        return htc_mk_ppt(P, off, d, n, tile, part);
    case HTC_MK_SOP:
    case HTC_MK_EPH:
    case HTC_MK_SOC:
        return htc_mk_fail(P, HTC_EMARKER, M, off, "not allowed in a header");
    default:
        p->markers_seen |= HTC_SEEN_UNKNOWN;
        if (M < 0xFF30)
            return htc_mk_fail(P, HTC_EMARKER, M, off, "not a marker");
        return htc_mk_odd(P, M, off, "unknown marker segment of %zu bytes skipped", n + 2);
    }
}

/* Reads one marker at pos: its code, and for segments the length, checked
 * against the codestream's end. *seg_len is 0 for markers without one. */
int htc_mk_read_marker(HtcParser *P, size_t pos, uint16_t *code, size_t *seg_len)
{
    if (pos + 2 > P->size)
        return htc_fail(&P->s->ctx, HTC_ETRUNCATED, "offset %zu: the codestream ends inside a header", pos);
    *code = htc_rd16(P->cs + pos);
    *seg_len = 0;
    if ((*code >> 8) != 0xFF)
        return htc_fail(&P->s->ctx, HTC_EMARKER, "expected a marker at offset %zu, found 0x%04X", pos,
                        *code);
    if (*code == HTC_MK_SOD || *code == HTC_MK_EOC || *code == HTC_MK_SOC ||
        (*code >= 0xFF30 && *code <= 0xFF3F))
        return 0;
    if (pos + 4 > P->size)
        return htc_mk_fail(P, HTC_ETRUNCATED, *code, pos, "codestream ends inside the marker");
    const size_t l = htc_rd16(P->cs + pos + 2);
    if (l < 2)
        return htc_mk_fail(P, HTC_EMARKER, *code, pos, "segment length %zu is too small", l);
    if (pos + 2 + l > P->size)
        return htc_mk_fail(P, HTC_ETRUNCATED, *code, pos,
                           "segment of %zu bytes runs past the end of the codestream (%zu bytes)", l,
                           P->size);
    *seg_len = l;
    return 0;
}

int htc_markers_parse(HtcStream *s)
{
    HtcParser P;
    memset(&P, 0, sizeof(P));
    P.s = s;
    P.p = s->priv;
    P.cs = s->cs;
    P.size = s->cs_size;
    int rc = 0;
    if (P.size < 2 || htc_rd16(P.cs) != HTC_MK_SOC) {
        rc = htc_fail(&s->ctx, HTC_EFORMAT, "offset 0: no SOC marker (0xFF4F)");
        goto done;
    }
    uint16_t code;
    size_t len;
    if ((rc = htc_mk_read_marker(&P, 2, &code, &len)) < 0)
        goto done;
    if (code != HTC_MK_SIZ) {
        rc = htc_fail(&s->ctx, HTC_EMARKER, "offset 2: expected SIZ after SOC, found 0x%04X", code);
        goto done;
    }
    if ((rc = htc_mk_record(&P, HTC_MK_SOC, 0, 0)) < 0 || (rc = htc_mk_record(&P, HTC_MK_SIZ, 2, len)) < 0)
        goto done;
    if ((rc = parse_siz(&P, 2, P.cs + 6, len - 2)) < 0)
        goto done;
    size_t pos = 4 + len;
    for (;;) {
        if ((rc = htc_mk_read_marker(&P, pos, &code, &len)) < 0)
            goto done;
        if (code == HTC_MK_SOT)
            break;
        if (code == HTC_MK_EOC || code == HTC_MK_SOD || code == HTC_MK_SOC) {
            rc = htc_mk_fail(&P, code == HTC_MK_EOC ? HTC_ETRUNCATED : HTC_EMARKER, code, pos,
                             "main header ends without a tile-part");
            goto done;
        }
        if ((rc = htc_mk_record(&P, code, pos, len)) < 0)
            goto done;
        if (len == 0) {
            pos += 2;
            continue;
        }
        if ((rc = htc_mk_segment(&P, code, pos, P.cs + pos + 4, len - 2, -1, 0)) < 0)
            goto done;
        pos += 2 + len;
    }
    P.p->main_header_end = pos;
    if ((rc = htc_mk_finish_header(&P, &P.main, NULL, NULL, NULL, -1)) < 0)
        goto done;
    rc = htc_mk_tile_parts(&P, pos);
done:
    if (P.tile_state) {
        for (uint32_t t = 0; t < P.ntiles; t++) {
            if (P.tile_state[t]) {
                htc_free(&s->ctx, P.tile_state[t]->flags);
                htc_free(&s->ctx, P.tile_state[t]);
            }
        }
    }
    htc_free(&s->ctx, P.tile_state);
    htc_free(&s->ctx, P.main.flags);
    htc_free(&s->ctx, P.cap_tile_poc);
    htc_free(&s->ctx, P.ppm);
    htc_free(&s->ctx, P.ppt);
    htc_free(&s->ctx, P.plt_seg);
    return rc;
}
