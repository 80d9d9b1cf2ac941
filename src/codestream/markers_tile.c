/* htcodec: the tile-parts of a codestream (A.4.2): SOT, the tile-part
 * headers, SOD and the packet data up to Psot; then everything that needs
 * all tile-parts: per-tile coding in force, tile-parts ordered by TPsot,
 * packed packet headers from PPM or PPT. */
#include <stdio.h>

#include "codestream/parse.h"

/* Parses one tile-part starting at the SOT at pos; *next is where the next
 * one starts. */
static int tile_part(HtcParser *P, size_t pos, size_t *next)
{
    HtcStream *s = P->s;
    const uint16_t M = HTC_MK_SOT;
    uint16_t code;
    size_t len;
    HTC_CHECK(htc_mk_read_marker(P, pos, &code, &len));
    if (len != 10)
        return htc_mk_fail(P, HTC_EMARKER, M, pos, "Lsot %zu is not 10", len);
    const uint8_t *d = P->cs + pos + 4;
    const uint32_t isot = htc_rd16(d), psot = htc_rd32(d + 2), tpsot = d[6], tnsot = d[7];
    if (isot >= P->ntiles)
        return htc_mk_fail(P, HTC_EMARKER, M, pos, "tile %u, but the image has %u tiles", isot, P->ntiles);
    if (psot != 0 && psot < 14)
        return htc_mk_fail(P, HTC_EMARKER, M, pos, "Psot %u is too small", psot);
    if (tnsot != 0 && tpsot >= tnsot)
        HTC_CHECK(htc_mk_odd(P, M, pos, "TPsot %u is not below TNsot %u", tpsot, tnsot));
    HTC_CHECK(htc_mk_record(P, M, pos, len));
    HTC_CHECK(htc_mk_grow(P, (void **)&s->parts, &P->cap_parts, s->num_parts, sizeof(HtcTilePart)));
    const uint32_t pi = s->num_parts++;
    HtcTilePart *tp = &s->parts[pi];
    tp->tile = isot;
    tp->part = (uint8_t)tpsot;
    tp->num_parts = (uint8_t)tnsot;
    tp->sot_offset = pos;
    tp->first_plt = UINT32_MAX;
    tp->num_plt = 0;
    P->num_plt_seg = 0;

    size_t h = pos + 12;
    for (;;) {
        HTC_CHECK(htc_mk_read_marker(P, h, &code, &len));
        if (code == HTC_MK_SOT || code == HTC_MK_EOC || code == HTC_MK_SOC)
            return htc_mk_fail(P, HTC_EMARKER, code, h, "tile-part header of tile %u has no SOD", isot);
        HTC_CHECK(htc_mk_record(P, code, h, len));
        if (code == HTC_MK_SOD)
            break;
        if (len == 0) {
            h += 2;
            continue;
        }
        HTC_CHECK(htc_mk_segment(P, code, h, P->cs + h + 4, len - 2, (int32_t)isot, pi));
        h += 2 + len;
        tp = &s->parts[pi];
    }
    HTC_CHECK(htc_mk_plt_decode(P, pi, h));
    tp = &s->parts[pi];
    const size_t data = h + 2;
    size_t end;
    if (psot == 0) {
        /* To the EOC: only for the last tile-part of the codestream. */
        end = P->size;
        if (end >= data + 2 && htc_rd16(P->cs + end - 2) == HTC_MK_EOC)
            end -= 2;
    } else {
        end = pos + (size_t)psot;
        if (end < data)
            return htc_mk_fail(P, HTC_EMARKER, M, pos, "Psot %u ends inside the tile-part header (SOD at %zu)",
                               psot, h);
        if (end > P->size) {
            if (P->p->strict)
                return htc_mk_fail(P, HTC_ETRUNCATED, M, pos,
                                   "Psot %u runs past the end of the codestream (%zu bytes)", psot, P->size);
            htc_log(&s->ctx, HTC_LOG_WARNING, "SOT at offset %zu: Psot %u runs past the end (%zu bytes); truncated",
                    pos, psot, P->size);
            P->p->truncated = 1;
            end = P->size;
            if (end >= data + 2 && htc_rd16(P->cs + end - 2) == HTC_MK_EOC)
                end -= 2;
        }
    }
    tp->data.offset = data;
    tp->data.length = end - data;
    *next = end;
    return 0;
}

/* Orders each tile's tile-parts by TPsot. */
static int order_parts(HtcParser *P)
{
    HtcStream *s = P->s;
    HtcStreamPriv *p = P->p;
    p->part_pool = htc_parse_alloc(s, s->num_parts ? s->num_parts : 1, sizeof(uint32_t), "SOT", 0);
    if (!p->part_pool)
        return s->priv->alloc_status;
    for (uint32_t i = 0; i < s->num_parts; i++)
        s->tiles[s->parts[i].tile].num_parts++;
    uint32_t at = 0;
    for (uint32_t t = 0; t < P->ntiles; t++) {
        HtcTile *tile = &s->tiles[t];
        if (tile->num_parts > 256)
            return htc_fail(&s->ctx, HTC_ECONTRADICT, "SOT: tile %u has %u tile-parts (at most 256)", t,
                            tile->num_parts);
        tile->parts = p->part_pool + at;
        at += tile->num_parts;
        tile->num_parts = 0;
    }
    for (uint32_t i = 0; i < s->num_parts; i++) {
        HtcTile *tile = &s->tiles[s->parts[i].tile];
        /* Insertion by TPsot, stable for equal ones (<= 256 per tile). */
        uint32_t k = tile->num_parts++;
        while (k > 0 && s->parts[tile->parts[k - 1]].part > s->parts[i].part) {
            tile->parts[k] = tile->parts[k - 1];
            k--;
        }
        tile->parts[k] = i;
    }
    for (uint32_t t = 0; t < P->ntiles; t++) {
        const HtcTile *tile = &s->tiles[t];
        uint32_t declared = 0;
        for (uint32_t k = 0; k < tile->num_parts; k++) {
            const HtcTilePart *tp = &s->parts[tile->parts[k]];
            if (tp->part != k)
                return htc_mk_fail(P, HTC_ECONTRADICT, HTC_MK_SOT, tp->sot_offset,
                                   "tile %u: tile-part %u found where %u was expected (missing or repeated)",
                                   t, tp->part, k);
            if (tp->num_parts) {
                if (declared && declared != tp->num_parts)
                    HTC_CHECK(htc_mk_odd(P, HTC_MK_SOT, tp->sot_offset, "tile %u: TNsot %u, earlier %u", t,
                                         tp->num_parts, declared));
                declared = tp->num_parts;
            }
        }
        if (declared && tile->num_parts > declared)
            HTC_CHECK(htc_mk_odd(P, HTC_MK_SOT, 0, "tile %u: %u tile-parts, TNsot says %u", t,
                                 tile->num_parts, declared));
    }
    return 0;
}

/* Copies the chunks of packed headers (one span per tile-part, in
 * codestream-order indices) into each tile's buffer, in TPsot order. */
static int gather_packed(HtcParser *P, const uint8_t *src, const uint64_t *chunk_off,
                         const uint64_t *chunk_len, const char *what)
{
    HtcStream *s = P->s;
    for (uint32_t t = 0; t < P->ntiles; t++) {
        HtcTile *tile = &s->tiles[t];
        uint64_t total = 0;
        for (uint32_t k = 0; k < tile->num_parts; k++)
            total += chunk_len[tile->parts[k]];
        if (total == 0)
            continue;
        tile->packed_headers = htc_parse_alloc(s, (size_t)total, 1, what, 0);
        if (!tile->packed_headers)
            return s->priv->alloc_status;
        size_t at = 0;
        for (uint32_t k = 0; k < tile->num_parts; k++) {
            const uint32_t i = tile->parts[k];
            if (chunk_len[i])
                memcpy(tile->packed_headers + at, src + chunk_off[i], (size_t)chunk_len[i]);
            at += (size_t)chunk_len[i];
        }
        tile->packed_headers_size = at;
    }
    return 0;
}

/* PPM (A.7.4): Nppm, Ippm for each tile-part in codestream order, the
 * data of all PPM segments read as one sequence. */
static int assemble_ppm(HtcParser *P)
{
    HtcStream *s = P->s;
    uint64_t total = 0;
    for (uint32_t i = 0; i < P->num_ppm; i++)
        total += P->ppm[i].span.length;
    uint8_t *buf = htc_malloc(&s->ctx, (size_t)total);
    uint64_t *off = htc_calloc(&s->ctx, s->num_parts ? s->num_parts : 1, sizeof(uint64_t));
    uint64_t *len = htc_calloc(&s->ctx, s->num_parts ? s->num_parts : 1, sizeof(uint64_t));
    uint32_t *order = htc_malloc(&s->ctx, (size_t)P->num_ppm * sizeof(uint32_t));
    int rc = 0;
    if (!buf || !off || !len || !order) {
        rc = htc_fail(&s->ctx, HTC_ENOMEM, "PPM: out of memory");
        goto done;
    }
    /* Segments in Zppm order (A.7.4), as they may come in any order. */
    if (!htc_mk_order_by_z(P->ppm, NULL, P->num_ppm, order) && P->num_ppm > 1 &&
        (rc = htc_mk_odd(P, HTC_MK_PPM, P->ppm[0].span.offset - 5,
                         "repeated Zppm; PPM read in order of appearance")) < 0)
        goto done;
    size_t at = 0;
    for (uint32_t k = 0; k < P->num_ppm; k++) {
        const HtcPptRec *r = &P->ppm[order[k]];
        memcpy(buf + at, P->cs + r->span.offset, (size_t)r->span.length);
        at += (size_t)r->span.length;
    }
    uint64_t pos = 0;
    for (uint32_t i = 0; i < s->num_parts; i++) {
        if (pos + 4 > total) {
            rc = htc_fail(&s->ctx, HTC_EMARKER,
                          "PPM: packed headers for %u tile-parts, the codestream has %u", i, s->num_parts);
            goto done;
        }
        const uint32_t n = htc_rd32(buf + pos);
        pos += 4;
        if (n > total - pos) {
            rc = htc_fail(&s->ctx, HTC_EMARKER, "PPM: Nppm %u of tile-part %u runs past the PPM data", n, i);
            goto done;
        }
        off[i] = pos;
        len[i] = n;
        pos += n;
    }
    if (pos < total)
        htc_log(&s->ctx, HTC_LOG_WARNING, "PPM: %llu bytes after the last tile-part's headers ignored",
                (unsigned long long)(total - pos));
    rc = gather_packed(P, buf, off, len, "PPM");
done:
    htc_free(&s->ctx, order);
    htc_free(&s->ctx, buf);
    htc_free(&s->ctx, off);
    htc_free(&s->ctx, len);
    return rc;
}

/* PPT (A.7.5): all PPT segments of a tile, from all its tile-parts, in
 * Zppt order (they may come in any order: g4_colr), concatenated. */
static int assemble_ppt(HtcParser *P)
{
    HtcStream *s = P->s;
    const uint32_t n = P->num_ppt;
    uint32_t *first = htc_calloc(&s->ctx, (size_t)P->ntiles + 1, sizeof(uint32_t));
    uint32_t *by_tile = htc_malloc(&s->ctx, (size_t)n * sizeof(uint32_t));
    uint32_t *order = htc_malloc(&s->ctx, (size_t)n * sizeof(uint32_t));
    int rc = 0;
    if (!first || !by_tile || !order) {
        rc = htc_fail(&s->ctx, HTC_ENOMEM, "PPT: out of memory");
        goto done;
    }
    /* Counting sort of the segments by tile, stable. */
    for (uint32_t i = 0; i < n; i++)
        first[P->ppt[i].tile + 1]++;
    for (uint32_t t = 0; t < P->ntiles; t++)
        first[t + 1] += first[t];
    for (uint32_t i = 0; i < n; i++)
        by_tile[first[P->ppt[i].tile]++] = i;
    for (uint32_t t = P->ntiles; t > 0; t--)
        first[t] = first[t - 1];
    first[0] = 0;
    for (uint32_t t = 0; t < P->ntiles; t++) {
        const uint32_t k0 = first[t], k1 = first[t + 1];
        if (k0 == k1)
            continue;
        if (!htc_mk_order_by_z(P->ppt, by_tile + k0, k1 - k0, order + k0) && k1 - k0 > 1 &&
            (rc = htc_mk_odd(P, HTC_MK_PPT, P->ppt[by_tile[k0]].span.offset - 5,
                             "tile %u: repeated Zppt; PPT read in order of appearance", t)) < 0)
            goto done;
        uint64_t total = 0;
        for (uint32_t k = k0; k < k1; k++)
            total += P->ppt[order[k]].span.length;
        HtcTile *tile = &s->tiles[t];
        if (total == 0)
            continue;
        tile->packed_headers = htc_parse_alloc(s, (size_t)total, 1, "PPT", 0);
        if (!tile->packed_headers) {
            rc = s->priv->alloc_status;
            goto done;
        }
        size_t at = 0;
        for (uint32_t k = k0; k < k1; k++) {
            const HtcPptRec *r = &P->ppt[order[k]];
            memcpy(tile->packed_headers + at, P->cs + r->span.offset, (size_t)r->span.length);
            at += (size_t)r->span.length;
        }
        tile->packed_headers_size = at;
    }
done:
    htc_free(&s->ctx, first);
    htc_free(&s->ctx, by_tile);
    htc_free(&s->ctx, order);
    return rc;
}

/* TLM only describes the tile-parts that SOT already delimits: a
 * disagreement is a warning (an error when strict). */
static int check_tlm(HtcParser *P)
{
    const HtcStream *s = P->s;
    const HtcStreamPriv *p = P->p;
    if (!p->num_tlm)
        return 0;
    if (p->num_tlm != s->num_parts)
        return htc_mk_odd(P, HTC_MK_TLM, 0, "%u entries for %u tile-parts", p->num_tlm, s->num_parts);
    for (uint32_t i = 0; i < s->num_parts; i++) {
        const HtcTilePart *tp = &s->parts[i];
        const uint64_t len = tp->data.offset + tp->data.length - tp->sot_offset;
        const HtcTlmRec *r = &p->tlm[i];
        if ((r->tile >= 0 && (uint32_t)r->tile != tp->tile) || (r->length != len && !p->truncated))
            return htc_mk_odd(P, HTC_MK_TLM, 0,
                              "entry %u says tile %d, %u bytes; the tile-part at %llu is tile %u, %llu bytes", i,
                              r->tile, r->length, (unsigned long long)tp->sot_offset, tp->tile,
                              (unsigned long long)len);
    }
    return 0;
}

static void markers_string(HtcStream *s)
{
    HtcStreamPriv *p = s->priv;
    const uint32_t m = p->markers_seen;
    static const struct { uint32_t bit; const char *name; } names[] = {
        {HTC_SEEN_CAP, "CAP"}, {HTC_SEEN_CPF, "CPF"}, {0, "COD"}, {HTC_SEEN_COC, "COC"},
        {0, "QCD"}, {HTC_SEEN_QCC, "QCC"}, {HTC_SEEN_RGN, "RGN"}, {HTC_SEEN_POC, "POC"},
        {HTC_SEEN_TLM, "TLM"}, {HTC_SEEN_PLM, "PLM"}, {HTC_SEEN_PPM, "PPM"}, {HTC_SEEN_CRG, "CRG"},
        {HTC_SEEN_COM, "COM"}, {0, "SOT"}, {HTC_SEEN_PLT, "PLT"}, {HTC_SEEN_PPT, "PPT"},
        {0, "SOD"}, {HTC_SEEN_SOP, "SOP"}, {HTC_SEEN_EPH, "EPH"},
    };
    size_t at = (size_t)snprintf(p->markers, sizeof(p->markers), "SOC,SIZ");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].bit && !(m & names[i].bit))
            continue;
        if (!names[i].bit && !strcmp(names[i].name, "SOT") && s->num_parts == 0)
            continue;
        at += (size_t)snprintf(p->markers + at, sizeof(p->markers) - at, ",%s", names[i].name);
    }
    if (p->has_eoc)
        at += (size_t)snprintf(p->markers + at, sizeof(p->markers) - at, ",EOC");
    if (m & HTC_SEEN_UNKNOWN)
        snprintf(p->markers + at, sizeof(p->markers) - at, ",unknown");
}

int htc_mk_tile_parts(HtcParser *P, size_t pos)
{
    HtcStream *s = P->s;
    HtcStreamPriv *p = P->p;
    while (pos < P->size) {
        if (pos + 2 > P->size) {
            HTC_CHECK(htc_mk_odd(P, 0, pos, "one stray byte at the end"));
            break;
        }
        const uint16_t code = htc_rd16(P->cs + pos);
        if (code == HTC_MK_EOC) {
            p->has_eoc = 1;
            HTC_CHECK(htc_mk_record(P, HTC_MK_EOC, pos, 0));
            if (pos + 2 < P->size)
                HTC_CHECK(htc_mk_odd(P, HTC_MK_EOC, pos, "%zu bytes after EOC ignored", P->size - pos - 2));
            break;
        }
        if (code != HTC_MK_SOT) {
            if (s->num_parts == 0)
                return htc_fail(&s->ctx, HTC_EMARKER, "offset %zu: expected SOT, found 0x%04X", pos, code);
            if (p->strict)
                return htc_fail(&s->ctx, HTC_EMARKER, "offset %zu: expected SOT or EOC, found 0x%04X", pos,
                                code);
            /* As the reference decoders do (page_tlm.jp2 has zero fill and
             * stray tile-parts after it): stop here, keep what came before. */
            htc_log(&s->ctx, HTC_LOG_WARNING,
                    "offset %zu: expected SOT or EOC, found 0x%04X; the rest of the codestream is ignored",
                    pos, code);
            p->truncated = 1;
            break;
        }
        size_t next = pos;
        HTC_CHECK(tile_part(P, pos, &next));
        pos = next;
    }
    if (!p->has_eoc)
        htc_log(&s->ctx, HTC_LOG_WARNING, "the codestream has no EOC marker");
    if (s->num_parts == 0)
        return htc_fail(&s->ctx, HTC_ETRUNCATED, "the codestream has no tile-part");

    /* Coding in force per tile-component. */
    for (uint32_t t = 0; t < P->ntiles; t++) {
        HtcTile *tile = &s->tiles[t];
        if (P->tile_state[t]) {
            HTC_CHECK(htc_mk_finish_header(P, P->tile_state[t], s->main_cod, s->main_qcd, s->main_roi,
                                           (int32_t)t));
        } else {
            tile->cod = s->main_cod;
            tile->qcd = s->main_qcd;
            tile->roi_shift = s->main_roi;
            tile->owns_coding = 0;
        }
        if (!tile->owns_poc) {
            tile->poc = s->main_poc;
            tile->num_poc = s->num_main_poc;
        }
    }
    HTC_CHECK(order_parts(P));
    if (s->has_ppm && s->has_ppt)
        return htc_fail(&s->ctx, HTC_ECONTRADICT, "PPM and PPT are both present (A.7.4 forbids it)");
    if (s->has_ppm)
        HTC_CHECK(assemble_ppm(P));
    if (s->has_ppt)
        HTC_CHECK(assemble_ppt(P));
    HTC_CHECK(check_tlm(P));
    s->has_plt_all = s->num_parts > 0;
    for (uint32_t i = 0; i < s->num_parts; i++)
        if (s->parts[i].num_plt == 0)
            s->has_plt_all = 0;
    for (uint32_t c = 0; c < s->num_components; c++) {
        if (s->main_cod[c].scod & 2)
            p->markers_seen |= HTC_SEEN_SOP;
        if (s->main_cod[c].scod & 4)
            p->markers_seen |= HTC_SEEN_EPH;
    }
    markers_string(s);
    return 0;
}
