/* htcodec: the pointer marker segments (15444-1 A.7): TLM, PLT, PPM, PPT
 * as they are read, and the Z-index order of PLT, PPM and PPT segments.
 * The packed headers are assembled in markers_tile.c once all tile-parts
 * are known. */
#include "codestream/parse.h"

int htc_mk_tlm(HtcParser *P, uint64_t off, const uint8_t *d, size_t n)
{
    const uint16_t M = HTC_MK_TLM;
    if (n < 2)
        return htc_mk_odd(P, M, off, "Ltlm %zu is too small; ignored", n + 2);
    const uint32_t st = (d[1] >> 4) & 3, sp = (d[1] >> 6) & 1;
    if (st == 3 || (d[1] & 0x8f))
        return htc_mk_odd(P, M, off, "Stlm 0x%02X is not defined; TLM ignored", d[1]);
    const size_t esz = st + (sp ? 4 : 2);
    if ((n - 2) % esz)
        return htc_mk_odd(P, M, off, "Ltlm %zu is not a whole number of %zu-byte entries; ignored",
                           n + 2, esz);
    HtcStreamPriv *p = P->p;
    for (size_t i = 0; i < (n - 2) / esz; i++) {
        const uint8_t *e = d + 2 + i * esz;
        HTC_CHECK(htc_mk_grow(P, (void **)&p->tlm, &P->cap_tlm, p->num_tlm, sizeof(HtcTlmRec)));
        p->tlm[p->num_tlm].tile = st == 0 ? -1 : st == 1 ? e[0] : htc_rd16(e);
        p->tlm[p->num_tlm].length = sp ? htc_rd32(e + st) : htc_rd16(e + st);
        p->num_tlm++;
    }
    P->s->has_tlm = 1;
    p->markers_seen |= HTC_SEEN_TLM;
    return 0;
}

int htc_mk_plt(HtcParser *P, uint64_t off, const uint8_t *d, size_t n)
{
    if (n < 1)
        return htc_mk_fail(P, HTC_EMARKER, HTC_MK_PLT, off, "Lplt %zu is too small", n + 2);
    HTC_CHECK(htc_mk_grow(P, (void **)&P->plt_seg, &P->cap_plt_seg, P->num_plt_seg, sizeof(HtcPptRec)));
    HtcPptRec *r = &P->plt_seg[P->num_plt_seg++];
    r->zppt = d[0];
    r->span.offset = (uint64_t)(d + 1 - P->cs);
    r->span.length = n - 1;
    P->p->markers_seen |= HTC_SEEN_PLT;
    return 0;
}

int htc_mk_order_by_z(const HtcPptRec *recs, const uint32_t *idx, uint32_t n, uint32_t *out)
{
    uint32_t at[256];
    memset(at, 0xff, sizeof(at));
    int distinct = n <= 256;
    for (uint32_t i = 0; i < n && distinct; i++) {
        const uint32_t z = recs[idx ? idx[i] : i].zppt;
        if (at[z] != UINT32_MAX)
            distinct = 0;
        at[z] = idx ? idx[i] : i;
    }
    if (!distinct) {
        for (uint32_t i = 0; i < n; i++)
            out[i] = idx ? idx[i] : i;
        return 0;
    }
    uint32_t k = 0;
    for (uint32_t z = 0; z < 256; z++)
        if (at[z] != UINT32_MAX)
            out[k++] = at[z];
    return 1;
}

int htc_mk_plt_decode(HtcParser *P, uint32_t part, uint64_t offset)
{
    HtcStream *s = P->s;
    const uint32_t n = P->num_plt_seg;
    P->num_plt_seg = 0;
    if (n == 0)
        return 0;
    HtcTilePart *tp = &s->parts[part];
    uint32_t *order = htc_malloc(&s->ctx, (size_t)n * sizeof(uint32_t));
    if (!order)
        return htc_fail(&s->ctx, HTC_ENOMEM, "PLT: out of memory");
    int rc = 0;
    if (!htc_mk_order_by_z(P->plt_seg, NULL, n, order) && n > 1 &&
        (rc = htc_mk_odd(P, HTC_MK_PLT, offset, "tile-part %u: repeated Zplt; PLT read in order of appearance",
                         part)) < 0)
        goto done;
    tp->first_plt = s->num_plt_lengths;
    uint32_t v = 0;
    int pending = 0;
    for (uint32_t k = 0; k < n; k++) {
        const HtcPptRec *r = &P->plt_seg[order[k]];
        const uint8_t *d = P->cs + r->span.offset;
        for (uint64_t i = 0; i < r->span.length; i++) {
            if (v > (UINT32_MAX >> 7)) {
                rc = htc_mk_fail(P, HTC_EMARKER, HTC_MK_PLT, r->span.offset - 5,
                                 "packet length overflows 32 bits");
                goto done;
            }
            v = v << 7 | (d[i] & 0x7f);
            pending = 1;
            if (!(d[i] & 0x80)) {
                if ((rc = htc_mk_grow(P, (void **)&s->plt_lengths, &P->cap_plt, s->num_plt_lengths,
                                      sizeof(uint32_t))) < 0)
                    goto done;
                s->plt_lengths[s->num_plt_lengths++] = v;
                tp->num_plt++;
                v = 0;
                pending = 0;
            }
        }
    }
    if (pending) {
        /* The lengths are hints; an unfinished one drops them all. */
        if ((rc = htc_mk_odd(P, HTC_MK_PLT, offset, "tile-part %u: the last packet length is unfinished", part)) < 0)
            goto done;
        s->num_plt_lengths = tp->first_plt;
        tp->num_plt = 0;
    }
done:
    if (tp->num_plt == 0)
        tp->first_plt = UINT32_MAX;
    htc_free(&s->ctx, order);
    return rc;
}

int htc_mk_ppm(HtcParser *P, uint64_t off, const uint8_t *d, size_t n)
{
    if (n < 1)
        return htc_mk_fail(P, HTC_EMARKER, HTC_MK_PPM, off, "Lppm %zu is too small", n + 2);
    HTC_CHECK(htc_mk_grow(P, (void **)&P->ppm, &P->cap_ppm, P->num_ppm, sizeof(HtcPptRec)));
    P->ppm[P->num_ppm].zppt = d[0];
    P->ppm[P->num_ppm].span.offset = (uint64_t)(d + 1 - P->cs);
    P->ppm[P->num_ppm].span.length = n - 1;
    P->num_ppm++;
    P->s->has_ppm = 1;
    P->p->markers_seen |= HTC_SEEN_PPM;
    return 0;
}

int htc_mk_ppt(HtcParser *P, uint64_t off, const uint8_t *d, size_t n, int32_t tile,
                     uint32_t part)
{
    if (n < 1)
        return htc_mk_fail(P, HTC_EMARKER, HTC_MK_PPT, off, "Lppt %zu is too small", n + 2);
    HTC_CHECK(htc_mk_grow(P, (void **)&P->ppt, &P->cap_ppt, P->num_ppt, sizeof(HtcPptRec)));
    HtcPptRec *r = &P->ppt[P->num_ppt++];
    r->tile = (uint32_t)tile;
    r->part = part;
    r->zppt = d[0];
    r->span.offset = (uint64_t)(d + 1 - P->cs);
    r->span.length = n - 1;
    P->s->has_ppt = 1;
    P->p->markers_seen |= HTC_SEEN_PPT;
    return 0;
}
