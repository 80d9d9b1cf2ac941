/* htcodec DICOM layer: Part 10 files into a tree of elements and items.
 * Preamble, "DICM", the file meta group (explicit VR little endian), then the
 * data set in the transfer syntax's encoding; sequences and items of defined
 * and undefined length. Values up to DCM_LOAD_MAX are copied into the arena;
 * the pixel data's fragments are left in the file until a frame is asked for. */
#include <stdio.h>

#include "dcm_internal.h"

typedef struct Parser {
    HtcDicom *d;
    DcmSource *src;
    int explicit_vr, big_endian;
} Parser;

#define TAG_ARGS(t) (unsigned)((t) >> 16), (unsigned)((t)&0xFFFF)

static uint16_t rd16(const uint8_t *p, int be) { return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]); }
static uint32_t rd32(const uint8_t *p, int be)
{
    return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
              : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int add_node(HtcDicom *d, int32_t parent, const DcmNode *tmpl)
{
    if (d->num_nodes >= d->max_elements)
        return dcm_fail(&d->ctx, HTC_ELIMIT, "more than %u elements and items (tag (%04X,%04X) at offset %llu)",
                        d->max_elements, TAG_ARGS(tmpl->tag), (unsigned long long)tmpl->offset);
    if (d->num_nodes == d->cap_nodes) {
        const uint32_t cap = d->cap_nodes ? d->cap_nodes * 2 : 256;
        DcmNode *n = dcm_malloc(&d->ctx, (size_t)cap * sizeof(*n));
        if (!n)
            return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for %u elements", cap);
        if (d->nodes)
            memcpy(n, d->nodes, (size_t)d->num_nodes * sizeof(*n));
        dcm_free(&d->ctx, d->nodes);
        d->nodes = n;
        d->cap_nodes = cap;
    }
    const int32_t id = (int32_t)d->num_nodes++;
    DcmNode *n = &d->nodes[id];
    *n = *tmpl;
    n->parent = parent;
    n->first_child = n->last_child = n->next = DCM_NONE;
    n->num_children = 0;
    if (parent == DCM_NONE) {
        if (d->top_last == DCM_NONE)
            d->top_first = id;
        else
            d->nodes[d->top_last].next = id;
        d->top_last = id;
    } else {
        DcmNode *p = &d->nodes[parent];
        if (p->last_child == DCM_NONE)
            p->first_child = id;
        else
            d->nodes[p->last_child].next = id;
        p->last_child = id;
        p->num_children++;
    }
    return id;
}

/* Copies n bytes at off of the source into the arena. */
static int load_value(Parser *p, int32_t id, uint64_t off, uint32_t n)
{
    HtcDicom *d = p->d;
    if (d->arena_size + n > d->arena_cap) {
        uint64_t cap = d->arena_cap ? d->arena_cap : 4096;
        while (cap < d->arena_size + n)
            cap *= 2;
        if (cap > SIZE_MAX)
            return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for element values");
        uint8_t *a = dcm_malloc(&d->ctx, (size_t)cap);
        if (!a)
            return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for %llu bytes of element values", (unsigned long long)cap);
        if (d->arena)
            memcpy(a, d->arena, (size_t)d->arena_size);
        dcm_free(&d->ctx, d->arena);
        d->arena = a;
        d->arena_cap = cap;
    }
    const int rc = dcm_read(p->src, &d->ctx, off, d->arena + d->arena_size, n);
    if (rc < 0)
        return rc;
    DcmNode *node = &d->nodes[id];
    node->val = d->arena_size;
    node->val_size = n;
    node->loaded = 1;
    d->arena_size += n;
    return 0;
}

/* Reads an element or item header at pos. */
static int read_header(Parser *p, uint64_t pos, uint64_t end, int explicit_vr, uint32_t *tag,
                       uint16_t *vr, uint32_t *len, uint32_t *hsize)
{
    HtcDicom *d = p->d;
    uint8_t h[12];
    if (end < pos || end - pos < 8)
        return dcm_fail(&d->ctx, HTC_EDICOM, "data ends inside an element header at offset %llu",
                        (unsigned long long)pos);
    int rc = dcm_read(p->src, &d->ctx, pos, h, 8);
    if (rc < 0)
        return rc;
    const int be = p->big_endian;
    *tag = (uint32_t)rd16(h, be) << 16 | rd16(h + 2, be);
    if ((*tag >> 16) == 0xFFFE || !explicit_vr) {
        *len = rd32(h + 4, be);
        *hsize = 8;
        *vr = (*tag >> 16) == 0xFFFE ? 0 : dcm_dict_vr(*tag);
        if (!explicit_vr && *vr == 0)
            *vr = DCM_VR('U', 'N');
        return 0;
    }
    *vr = DCM_VR(h[4], h[5]);
    if (!dcm_vr_known(*vr)) {
        /* Some writers put an unknown VR; a long-form header is the only way to go on
         * when the two bytes after it are zero (as PS3.5 7.1.2 reserves them). */
        if (h[6] == 0 && h[7] == 0 && end - pos >= 12) {
            rc = dcm_read(p->src, &d->ctx, pos + 8, h + 8, 4);
            if (rc < 0)
                return rc;
            *len = rd32(h + 8, be);
            *hsize = 12;
            *vr = DCM_VR('U', 'N');
            return 0;
        }
        return dcm_fail(&d->ctx, HTC_EDICOM, "tag (%04X,%04X) at offset %llu: invalid VR 0x%02X%02X",
                        TAG_ARGS(*tag), (unsigned long long)pos, h[4], h[5]);
    }
    if (dcm_vr_is_long(*vr)) {
        if (end - pos < 12)
            return dcm_fail(&d->ctx, HTC_EDICOM, "data ends inside the header of (%04X,%04X) at offset %llu",
                            TAG_ARGS(*tag), (unsigned long long)pos);
        rc = dcm_read(p->src, &d->ctx, pos + 8, h + 8, 4);
        if (rc < 0)
            return rc;
        *len = rd32(h + 8, be);
        *hsize = 12;
    } else {
        *len = rd16(h + 6, be);
        *hsize = 8;
    }
    return 0;
}

static int parse_dataset(Parser *p, int32_t parent, uint64_t pos, uint64_t end, int until_item_end,
                         uint32_t depth, uint64_t *out_pos);

/* Items of a sequence (or of an undefined-length UN, read as implicit VR LE). */
static int parse_sequence(Parser *p, int32_t sq, uint64_t pos, uint32_t len, uint32_t depth,
                          uint64_t *out_pos)
{
    HtcDicom *d = p->d;
    const uint32_t sq_tag = d->nodes[sq].tag;
    if (depth >= d->max_depth)
        return dcm_fail(&d->ctx, HTC_ELIMIT, "sequence (%04X,%04X) at offset %llu nests deeper than %u",
                        TAG_ARGS(sq_tag), (unsigned long long)pos, d->max_depth);
    const int undefined = len == HTC_DICOM_UNDEFINED;
    uint64_t end = p->src->size;
    if (!undefined) {
        if (len > end - pos)
            return dcm_fail(&d->ctx, HTC_EDICOM, "sequence (%04X,%04X) at offset %llu: length %u past the end of the data",
                            TAG_ARGS(sq_tag), (unsigned long long)pos, len);
        end = pos + len;
    }
    for (;;) {
        if (!undefined && pos >= end)
            break;
        uint32_t tag = 0, ilen = 0, hs = 0;
        uint16_t vr;
        if (end - pos < 8)
            return dcm_fail(&d->ctx, HTC_EDICOM, "sequence (%04X,%04X): data ends at offset %llu before %s",
                            TAG_ARGS(sq_tag), (unsigned long long)pos,
                            undefined ? "its Sequence Delimitation Item" : "its last item");
        int rc = read_header(p, pos, end, 0, &tag, &vr, &ilen, &hs);
        if (rc < 0)
            return rc;
        if (tag == DCM_TAG_SEQ_END) {
            pos += 8;
            break;
        }
        if (tag != DCM_TAG_ITEM)
            return dcm_fail(&d->ctx, HTC_EDICOM, "sequence (%04X,%04X): tag (%04X,%04X) at offset %llu where an item was expected",
                            TAG_ARGS(sq_tag), TAG_ARGS(tag), (unsigned long long)pos);
        DcmNode t = { .tag = DCM_TAG_ITEM, .length = ilen, .offset = pos + 8, .depth = depth + 1,
                      .big_endian = (uint8_t)p->big_endian };
        const int id = add_node(d, sq, &t);
        if (id < 0)
            return id;
        pos += 8;
        if (ilen == HTC_DICOM_UNDEFINED) {
            rc = parse_dataset(p, id, pos, end, 1, depth + 1, &pos);
        } else {
            if (ilen > end - pos)
                return dcm_fail(&d->ctx, HTC_EDICOM, "item of (%04X,%04X) at offset %llu: length %u past the end of its sequence",
                                TAG_ARGS(sq_tag), (unsigned long long)(pos - 8), ilen);
            rc = parse_dataset(p, id, pos, pos + ilen, 0, depth + 1, NULL);
            pos += ilen;
        }
        if (rc < 0)
            return rc;
    }
    *out_pos = pos;
    return 0;
}

/* Skips the items of an undefined-length value that is not a sequence
 * (encapsulated pixel data of an icon image and the like). */
static int skip_fragments(Parser *p, uint32_t tag0, uint64_t pos, uint64_t *out_pos)
{
    HtcDicom *d = p->d;
    const uint64_t end = p->src->size;
    for (;;) {
        uint32_t tag = 0, len = 0, hs = 0;
        uint16_t vr;
        if (end - pos < 8)
            return dcm_fail(&d->ctx, HTC_EDICOM, "(%04X,%04X): data ends at offset %llu before the Sequence Delimitation Item",
                            TAG_ARGS(tag0), (unsigned long long)pos);
        const int rc = read_header(p, pos, end, 0, &tag, &vr, &len, &hs);
        if (rc < 0)
            return rc;
        pos += 8;
        if (tag == DCM_TAG_SEQ_END)
            break;
        if (tag != DCM_TAG_ITEM || len == HTC_DICOM_UNDEFINED || len > end - pos)
            return dcm_fail(&d->ctx, HTC_EDICOM, "(%04X,%04X): bad fragment (%04X,%04X) length %u at offset %llu",
                            TAG_ARGS(tag0), TAG_ARGS(tag), len, (unsigned long long)(pos - 8));
        pos += len;
    }
    *out_pos = pos;
    return 0;
}

/* The Basic Offset Table item at pos; sets frag_start. */
static int read_bot(Parser *p, uint64_t pos)
{
    HtcDicom *d = p->d;
    uint32_t tag = 0, len = 0, hs = 0;
    uint16_t vr;
    int rc = read_header(p, pos, p->src->size, 0, &tag, &vr, &len, &hs);
    if (rc < 0)
        return rc;
    if (tag != DCM_TAG_ITEM)
        return dcm_fail(&d->ctx, HTC_EDICOM, "encapsulated Pixel Data: tag (%04X,%04X) at offset %llu where the Basic Offset Table item was expected",
                        TAG_ARGS(tag), (unsigned long long)pos);
    if (len == HTC_DICOM_UNDEFINED || len % 4 || len > p->src->size - pos - 8)
        return dcm_fail(&d->ctx, HTC_EDICOM, "Basic Offset Table at offset %llu: bad length %u",
                        (unsigned long long)pos, len);
    if (len) {
        d->bot = dcm_malloc(&d->ctx, len);
        if (!d->bot)
            return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for the Basic Offset Table (%u bytes)", len);
        uint8_t *raw = (uint8_t *)d->bot;
        rc = dcm_read(p->src, &d->ctx, pos + 8, raw, len);
        if (rc < 0)
            return rc;
        d->bot_entries = len / 4;
        for (uint32_t i = 0; i < d->bot_entries; i++)
            d->bot[i] = rd32(raw + 4 * i, 0);
    }
    d->frag_start = pos + 8 + len;
    return 0;
}

/* Lists the fragments from frag_start; returns the position after the delimiter. */
static int scan_fragments(Parser *p, uint64_t *out_pos)
{
    HtcDicom *d = p->d;
    uint64_t pos = d->frag_start;
    const uint64_t end = p->src->size;
    uint32_t cap = 0;
    for (;;) {
        uint32_t tag = 0, len = 0, hs = 0;
        uint16_t vr;
        if (end - pos < 8)
            return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010): data ends at offset %llu before the Sequence Delimitation Item (%u fragments read)",
                            (unsigned long long)pos, d->num_frags);
        const int rc = read_header(p, pos, end, 0, &tag, &vr, &len, &hs);
        if (rc < 0)
            return rc;
        pos += 8;
        if (tag == DCM_TAG_SEQ_END)
            break;
        if (tag != DCM_TAG_ITEM)
            return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010): tag (%04X,%04X) at offset %llu where a fragment item was expected",
                            TAG_ARGS(tag), (unsigned long long)(pos - 8));
        if (len == HTC_DICOM_UNDEFINED || len > end - pos)
            return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010): fragment %u at offset %llu has length %u past the end of the data",
                            d->num_frags, (unsigned long long)(pos - 8), len);
        if (d->num_frags == cap) {
            if (cap >= d->max_elements)
                return dcm_fail(&d->ctx, HTC_ELIMIT, "Pixel Data (7FE0,0010): more than %u fragments", d->max_elements);
            const uint32_t nc = cap ? cap * 2 : 64;
            DcmFragment *f = dcm_malloc(&d->ctx, (size_t)nc * sizeof(*f));
            if (!f)
                return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for %u fragments", nc);
            if (d->frags)
                memcpy(f, d->frags, (size_t)d->num_frags * sizeof(*f));
            dcm_free(&d->ctx, d->frags);
            d->frags = f;
            cap = nc;
        }
        d->frags[d->num_frags].offset = pos;
        d->frags[d->num_frags].length = len;
        d->num_frags++;
        pos += len;
    }
    d->fragments_scanned = 1;
    *out_pos = pos;
    return 0;
}

/* The VR the private dictionary gives tag, by the creator in the same data set. */
static uint16_t private_vr(Parser *p, int32_t parent, uint32_t tag)
{
    HtcDicom *d = p->d;
    const uint32_t ctag = (tag & 0xFFFF0000u) | (tag >> 8 & 0xFF);
    const int32_t first = parent == DCM_NONE ? d->top_first : d->nodes[parent].first_child;
    for (int32_t n = first; n != DCM_NONE; n = d->nodes[n].next) {
        if (d->nodes[n].tag != ctag)
            continue;
        char creator[80];
        if (htc_dicom_get_string(d, n, 0, creator, sizeof(creator)) < 0 || !creator[0])
            return 0;
        return dcm_private_vr(creator, tag);
    }
    return 0;
}

static int parse_dataset(Parser *p, int32_t parent, uint64_t pos, uint64_t end, int until_item_end,
                         uint32_t depth, uint64_t *out_pos)
{
    HtcDicom *d = p->d;
    for (;;) {
        if (pos >= end) {
            if (until_item_end)
                return dcm_fail(&d->ctx, HTC_EDICOM, "item at depth %u: data ends at offset %llu before its Item Delimitation Item",
                                depth, (unsigned long long)pos);
            break;
        }
        if (parent == DCM_NONE && end - pos < 8) {
            /* A few stray bytes after the last element: ignored, as other readers do. */
            dcm_warn(&d->ctx, "%llu trailing bytes at offset %llu ignored", (unsigned long long)(end - pos),
                     (unsigned long long)pos);
            pos = end;
            break;
        }
        uint32_t tag = 0, len = 0, hs = 0;
        uint16_t vr;
        int rc = read_header(p, pos, end, p->explicit_vr, &tag, &vr, &len, &hs);
        if (rc < 0)
            return rc;
        if (tag == DCM_TAG_ITEM_END) {
            if (!until_item_end)
                return dcm_fail(&d->ctx, HTC_EDICOM, "Item Delimitation Item at offset %llu outside an undefined-length item",
                                (unsigned long long)pos);
            pos += 8;
            break;
        }
        if (tag == DCM_TAG_SEQ_END || tag == DCM_TAG_ITEM)
            return dcm_fail(&d->ctx, HTC_EDICOM, "unexpected (%04X,%04X) at offset %llu", TAG_ARGS(tag),
                            (unsigned long long)pos);
        int un_sq = 0;
        if (vr == DCM_VR('U', 'N') && (tag >> 16 & 1) && (tag & 0xFFFF) >= 0x10 && (tag & 0xFFFF) <= 0xFF) {
            vr = DCM_VR('L', 'O'); /* private creator */
        } else if (vr == DCM_VR('U', 'N') && (tag >> 16 & 1) && (tag & 0xFF00)) {
            /* A private element: its VR from the private dictionary by its creator. */
            const uint16_t pv = private_vr(p, parent, tag);
            if (pv && (pv >> 8) >= 'A' && (pv >> 8) <= 'Z' && pv != DCM_VR('U', 'N')) {
                vr = pv;
                un_sq = pv == DCM_VR('S', 'Q');
            }
        } else if (p->explicit_vr && vr == DCM_VR('U', 'N') && !(tag >> 16 & 1) && len < 0xFFFF) {
            /* A public tag sent as UN gets its dictionary VR back (as pydicom does);
             * a sequence inside is implicit VR little endian (PS3.5 6.2.2). */
            const uint16_t dv = dcm_dict_vr(tag);
            if (dv && dv != DCM_VR('U', 'N') && dv != DCM_VR('N', 'O') && (dv >> 8) >= 'A' && (dv >> 8) <= 'Z') {
                vr = dv;
                un_sq = dv == DCM_VR('S', 'Q');
            }
        }
        pos += hs;
        DcmNode t = { .tag = tag, .vr = vr, .length = len, .offset = pos, .depth = depth,
                      .big_endian = (uint8_t)p->big_endian };
        const int id = add_node(d, parent, &t);
        if (id < 0)
            return id;
        if (len == HTC_DICOM_UNDEFINED) {
            if (tag == DCM_TAG_PIXEL_DATA && parent == DCM_NONE && d->pixel_node == DCM_NONE) {
                d->pixel_node = id;
                d->encapsulated = 1;
                rc = read_bot(p, pos);
                if (rc < 0)
                    return rc;
                int has_eot = 0;
                for (int32_t n = d->top_first; n != DCM_NONE; n = d->nodes[n].next)
                    has_eot |= d->nodes[n].tag == DCM_TAG_EOT;
                if (d->bot_entries || has_eot) {
                    /* Frames can be found without the fragments: stop here. */
                    d->rest_offset = d->frag_start;
                    if (out_pos)
                        *out_pos = end;
                    return 0;
                }
                rc = scan_fragments(p, &pos);
            } else if (vr == DCM_VR('S', 'Q') || vr == DCM_VR('U', 'N') || vr == 0) {
                d->nodes[id].vr = DCM_VR('S', 'Q');
                const int ev = p->explicit_vr;
                if (vr == DCM_VR('U', 'N'))
                    p->explicit_vr = 0; /* PS3.5 6.2.2: UN of undefined length is implicit VR LE */
                rc = parse_sequence(p, id, pos, len, depth, &pos);
                p->explicit_vr = ev;
            } else if (vr == DCM_VR('O', 'B') || vr == DCM_VR('O', 'W') || vr == DCM_VR('o', 'x')) {
                rc = skip_fragments(p, tag, pos, &pos);
            } else {
                rc = dcm_fail(&d->ctx, HTC_EDICOM, "(%04X,%04X) at offset %llu: undefined length for VR %c%c",
                              TAG_ARGS(tag), (unsigned long long)(pos - hs), vr >> 8, vr & 0xFF);
            }
            if (rc < 0)
                return rc;
            continue;
        }
        if (len > end - pos)
            return dcm_fail(&d->ctx, HTC_EDICOM, "(%04X,%04X) at offset %llu: length %u past the end of the %s (%llu bytes left)",
                            TAG_ARGS(tag), (unsigned long long)(pos - hs), len,
                            until_item_end || end != p->src->size ? "item" : "data",
                            (unsigned long long)(end - pos));
        if (vr == DCM_VR('S', 'Q')) {
            uint64_t after;
            const int ev = p->explicit_vr;
            if (un_sq)
                p->explicit_vr = 0;
            rc = parse_sequence(p, id, pos, len, depth, &after);
            p->explicit_vr = ev;
            if (rc < 0)
                return rc;
        } else if (tag == DCM_TAG_PIXEL_DATA && parent == DCM_NONE && d->pixel_node == DCM_NONE) {
            d->pixel_node = id; /* native: stays in the file */
        } else if (len <= DCM_LOAD_MAX) {
            rc = load_value(p, id, pos, len);
            if (rc < 0)
                return rc;
        }
        pos += len;
    }
    if (out_pos)
        *out_pos = pos;
    return 0;
}

static int is_ts(const char *ts, const char *uid) { return !strcmp(ts, uid); }

int dcm_parse_file(HtcDicom *d)
{
    DcmSource *f = &d->file;
    uint8_t pre[132];
    if (f->size < 132)
        return dcm_fail(&d->ctx, HTC_EFORMAT, "not a DICOM Part 10 file: %llu bytes, no \"DICM\" at offset 128",
                        (unsigned long long)f->size);
    int rc = dcm_read(f, &d->ctx, 128, pre + 128, 4);
    if (rc < 0)
        return rc;
    if (memcmp(pre + 128, "DICM", 4))
        return dcm_fail(&d->ctx, HTC_EFORMAT, "not a DICOM Part 10 file: no \"DICM\" at offset 128");
    Parser p = { d, f, 1, 0 };
    d->ds = f;
    d->ds_start = UINT64_MAX;
    /* File meta: explicit VR little endian, as long as the group is 0002. */
    uint64_t pos = 132;
    while (f->size - pos >= 8) {
        uint8_t g[2];
        rc = dcm_read(f, &d->ctx, pos, g, 2);
        if (rc < 0)
            return rc;
        if ((g[0] | g[1] << 8) != 0x0002)
            break;
        uint32_t tag = 0, len = 0, hs = 0;
        uint16_t vr;
        rc = read_header(&p, pos, f->size, 1, &tag, &vr, &len, &hs);
        if (rc < 0)
            return rc;
        if (len == HTC_DICOM_UNDEFINED || len > f->size - pos - hs || len > DCM_LOAD_MAX)
            return dcm_fail(&d->ctx, HTC_EDICOM, "file meta element (%04X,%04X) at offset %llu: bad length %u",
                            TAG_ARGS(tag), (unsigned long long)pos, len);
        DcmNode t = { .tag = tag, .vr = vr, .length = len, .offset = pos + hs };
        const int id = add_node(d, DCM_NONE, &t);
        if (id < 0)
            return id;
        rc = load_value(&p, id, pos + hs, len);
        if (rc < 0)
            return rc;
        pos += hs + len;
    }
    const uint64_t meta_end = pos;
    char ts[65] = "";
    const int32_t tsn = htc_dicom_find(d, DCM_NONE, DCM_TAG_TS);
    if (tsn == DCM_NONE)
        return dcm_fail(&d->ctx, HTC_EDICOM, "file meta information has no Transfer Syntax UID (0002,0010)");
    htc_dicom_get_string(d, tsn, 0, ts, sizeof(ts));
    memcpy(d->ts, ts, sizeof(ts));
    d->explicit_vr = !is_ts(ts, "1.2.840.10008.1.2");
    d->big_endian = is_ts(ts, "1.2.840.10008.1.2.2");
    d->deflated = is_ts(ts, "1.2.840.10008.1.2.1.99") || is_ts(ts, "1.2.840.10008.1.2.4.95");
    if (d->deflated) {
        rc = dcm_inflate(&d->ctx, f, meta_end, &d->inflated);
        if (rc < 0)
            return rc;
        d->ds = &d->inflated;
        d->ds_start = 0;
    } else {
        d->ds_start = meta_end;
    }
    p.src = d->ds;
    p.explicit_vr = d->explicit_vr;
    p.big_endian = d->big_endian;
    uint64_t after;
    rc = parse_dataset(&p, DCM_NONE, d->ds_start, d->ds->size, 0, 0, &after);
    if (rc < 0)
        return rc;
    if (!d->encapsulated || !d->rest_offset)
        d->fragments_scanned = 1;
    return 0;
}

int dcm_parse_rest(HtcDicom *d)
{
    if (d->fragments_scanned)
        return 0;
    Parser p = { d, d->ds, d->explicit_vr, d->big_endian };
    uint64_t pos;
    int rc = scan_fragments(&p, &pos);
    if (rc < 0)
        return rc;
    return parse_dataset(&p, DCM_NONE, pos, d->ds->size, 0, 0, NULL);
}

const uint8_t *dcm_node_value(const HtcDicom *d, const DcmNode *n)
{
    return n->loaded ? d->arena + n->val : NULL;
}

void htc_dicom_default_settings(HtcDicomSettings *s)
{
    memset(s, 0, sizeof(*s));
    htc_limits_default(&s->limits);
    s->use_mmap = 1;
    s->max_depth = 64;
    s->max_elements = 1u << 22;
}

static int open_common(HtcDicom **out, const HtcDicomSettings *s, int (*init)(HtcDicom *, const void *, size_t),
                       const void *a, size_t b)
{
    if (!out)
        return dcm_fail(NULL, HTC_EINVAL, "NULL handle");
    *out = NULL;
    HtcDicomSettings def;
    if (!s) {
        htc_dicom_default_settings(&def);
        s = &def;
    }
    HtcDicom *d = dcm_alloc_with(&s->allocator, sizeof(*d));
    if (!d)
        return dcm_fail(NULL, HTC_ENOMEM, "no memory for a DICOM handle");
    memset(d, 0, sizeof(*d));
    d->ctx.allocator = s->allocator;
    d->ctx.log = s->log;
    d->ctx.log_opaque = s->log_opaque;
    d->ctx.limits = s->limits;
    d->max_depth = s->max_depth ? s->max_depth : 64;
    d->max_elements = s->max_elements ? s->max_elements : 1u << 22;
    d->top_first = d->top_last = DCM_NONE;
    d->pixel_node = DCM_NONE;
    d->file.fd = d->inflated.fd = -1;
    int rc = init(d, a, b);
    if (rc >= 0) {
        if (s->limits.max_bytes && d->file.size > s->limits.max_bytes)
            rc = dcm_fail(&d->ctx, HTC_ELIMIT, "file of %llu bytes exceeds the limit of %llu",
                          (unsigned long long)d->file.size, (unsigned long long)s->limits.max_bytes);
        else
            rc = dcm_parse_file(d);
    }
    if (rc < 0) {
        htc_dicom_close(&d);
        return rc;
    }
    *out = d;
    return 0;
}

static int init_file(HtcDicom *d, const void *path, size_t use_mmap)
{
    return dcm_source_file(&d->file, &d->ctx, path, (int)use_mmap);
}

static int init_memory(HtcDicom *d, const void *data, size_t size)
{
    dcm_source_memory(&d->file, data, size);
    return 0;
}

static int init_reader(HtcDicom *d, const void *r, size_t unused)
{
    (void)unused;
    dcm_source_reader(&d->file, r);
    return 0;
}

int htc_dicom_open_file(HtcDicom **out, const char *path, const HtcDicomSettings *s)
{
    if (!path)
        return dcm_fail(NULL, HTC_EINVAL, "NULL path");
    return open_common(out, s, init_file, path, s ? (size_t)(s->use_mmap != 0) : 1);
}

int htc_dicom_open_memory(HtcDicom **out, const void *data, size_t size, const HtcDicomSettings *s)
{
    if (!data && size)
        return dcm_fail(NULL, HTC_EINVAL, "NULL data");
    return open_common(out, s, init_memory, data, size);
}

int htc_dicom_open_reader(HtcDicom **out, const HtcDicomReader *r, const HtcDicomSettings *s)
{
    if (!r || !r->read)
        return dcm_fail(NULL, HTC_EINVAL, "NULL reader");
    return open_common(out, s, init_reader, r, 0);
}

void htc_dicom_close(HtcDicom **pd)
{
    if (!pd || !*pd)
        return;
    HtcDicom *d = *pd;
    const DcmCtx c = d->ctx;
    dcm_source_close(&d->file, &c);
    dcm_source_close(&d->inflated, &c);
    dcm_free(&c, d->nodes);
    dcm_free(&c, d->arena);
    dcm_free(&c, d->bot);
    dcm_free(&c, d->frags);
    dcm_free(&c, d->frame_first);
    dcm_free_with(&c.allocator, d);
    *pd = NULL;
}

uint64_t htc_dicom_bytes_read(const HtcDicom *d)
{
    return d ? d->file.bytes_read : 0;
}

int htc_dicom_probe(const void *data, size_t size)
{
    return data && size >= 132 && !memcmp((const uint8_t *)data + 128, "DICM", 4);
}
