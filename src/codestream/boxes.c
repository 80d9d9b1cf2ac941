/* htcodec: the JP2 (15444-1 Annex I) and JPH (15444-15 Annex D) file
 * formats: signature, ftyp and its brands, the jp2h header (ihdr, colr,
 * bpcc, pclr, cmap, cdef, res) and the first jp2c box, whose contents are
 * the codestream. Unknown boxes are listed and skipped. */
#include "codestream/parse.h"

#define BOX(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

enum {
    BOX_JP = BOX('j', 'P', ' ', ' '), BOX_FTYP = BOX('f', 't', 'y', 'p'),
    BOX_JP2H = BOX('j', 'p', '2', 'h'), BOX_IHDR = BOX('i', 'h', 'd', 'r'),
    BOX_COLR = BOX('c', 'o', 'l', 'r'), BOX_BPCC = BOX('b', 'p', 'c', 'c'),
    BOX_PCLR = BOX('p', 'c', 'l', 'r'), BOX_CMAP = BOX('c', 'm', 'a', 'p'),
    BOX_CDEF = BOX('c', 'd', 'e', 'f'), BOX_RES = BOX('r', 'e', 's', ' '),
    BOX_RESC = BOX('r', 'e', 's', 'c'), BOX_RESD = BOX('r', 'e', 's', 'd'),
    BOX_JP2C = BOX('j', 'p', '2', 'c'), BOX_UINF = BOX('u', 'i', 'n', 'f'),
    BRAND_JP2 = BOX('j', 'p', '2', ' '), BRAND_JPH = BOX('j', 'p', 'h', ' '),
};

/* "jp2h" from a box type, with non-printable bytes as '?'. */
static void fourcc(uint32_t t, char out[5])
{
    for (int i = 0; i < 4; i++) {
        const char ch = (char)(t >> (24 - 8 * i));
        out[i] = ch >= 32 && ch < 127 ? ch : '?';
    }
    out[4] = 0;
}

static int box_fail(HtcStream *s, int status, uint32_t type, uint64_t off, const char *msg, uint64_t v)
{
    char cc[5];
    fourcc(type, cc);
    return htc_fail(&s->ctx, status, "box '%s' at offset %llu: %s %llu", cc, (unsigned long long)off, msg,
                    (unsigned long long)v);
}

static int add_box(HtcStream *s, uint32_t type, uint32_t depth, uint64_t off, uint64_t len)
{
    HtcStreamPriv *p = s->priv;
    if (p->num_boxes == p->cap_boxes) {
        const uint32_t ncap = p->cap_boxes ? p->cap_boxes * 2 : 16;
        HtcBoxRec *q = htc_realloc(&s->ctx, p->boxes, (size_t)p->cap_boxes * sizeof(HtcBoxRec),
                                   (size_t)ncap * sizeof(HtcBoxRec));
        if (!q)
            return htc_fail(&s->ctx, HTC_ENOMEM, "boxes: out of memory");
        p->boxes = q;
        p->cap_boxes = ncap;
    }
    HtcBoxRec *b = &p->boxes[p->num_boxes++];
    b->type = type;
    b->depth = depth;
    b->offset = off;
    b->length = len;
    return 0;
}

/* Reads the box header at off inside [.., end): type, header size and the
 * contents' extent. A box running past end is an error, except jp2c, which
 * is cut short (a truncated codestream) unless strict. */
static int box_header(HtcStream *s, uint64_t off, uint64_t end, uint32_t *type, uint64_t *hdr,
                      uint64_t *len)
{
    const uint8_t *f = s->file;
    if (end - off < 8)
        return box_fail(s, HTC_ETRUNCATED, 0, off, "box header cut short, bytes left:", end - off);
    uint64_t l = htc_rd32(f + off);
    *type = htc_rd32(f + off + 4);
    *hdr = 8;
    if (l == 1) {
        if (end - off < 16)
            return box_fail(s, HTC_ETRUNCATED, *type, off, "XLBox cut short, bytes left:", end - off);
        l = htc_rd64(f + off + 8);
        *hdr = 16;
    } else if (l == 0) {
        l = end - off;
    }
    if (l < *hdr)
        return box_fail(s, HTC_EBOX, *type, off, "length is smaller than its header:", l);
    if (l > end - off) {
        if (*type != BOX_JP2C || s->priv->strict)
            return box_fail(s, HTC_EBOX, *type, off, "runs past its container; length", l);
        htc_log(&s->ctx, HTC_LOG_WARNING, "box 'jp2c' at offset %llu: %llu bytes announced, %llu present",
                (unsigned long long)off, (unsigned long long)l, (unsigned long long)(end - off));
        l = end - off;
        s->priv->truncated = 1;
    }
    *len = l;
    return 0;
}

static int parse_ihdr(HtcStream *s, uint64_t off, const uint8_t *d, uint64_t n)
{
    HtcJp2Info *j = &s->priv->jp2;
    if (n != 14)
        return box_fail(s, HTC_EBOX, BOX_IHDR, off, "contents must be 14 bytes, found", n);
    j->height = htc_rd32(d);
    j->width = htc_rd32(d + 4);
    j->num_components = htc_rd16(d + 8);
    j->bpc = d[10];
    j->compression = d[11];
    j->unknown_cs = d[12];
    j->ipr = d[13];
    if (j->num_components == 0 || j->num_components > 16384)
        return box_fail(s, HTC_EBOX, BOX_IHDR, off, "component count out of range:", j->num_components);
    if (j->compression != 7)
        return box_fail(s, HTC_EBOX, BOX_IHDR, off, "compression type is not 7:", j->compression);
    return 0;
}

static int parse_colr(HtcStream *s, uint64_t off, const uint8_t *d, uint64_t n)
{
    HtcJp2Info *j = &s->priv->jp2;
    if (n < 3)
        return box_fail(s, HTC_EBOX, BOX_COLR, off, "contents too short:", n);
    if (j->num_colr++ > 0)
        return 0; /* I.5.3.3: readers use the first one they understand */
    j->colr_method = d[0];
    j->colr_precedence = (int8_t)d[1];
    j->colr_approx = d[2];
    if (d[0] == 1) {
        if (n < 7)
            return box_fail(s, HTC_EBOX, BOX_COLR, off, "enumerated colourspace too short:", n);
        j->enum_cs = htc_rd32(d + 3);
        s->colourspace = j->enum_cs;
    } else if (d[0] == 2 || d[0] == 3) {
        j->icc_offset = (uint64_t)(d + 3 - s->file);
        j->icc_size = n - 3;
        s->has_icc = 1;
    }
    return 0;
}

static int parse_jp2h_child(HtcStream *s, uint32_t type, uint64_t off, const uint8_t *d, uint64_t n)
{
    HtcJp2Info *j = &s->priv->jp2;
    switch (type) {
    case BOX_IHDR:
        return parse_ihdr(s, off, d, n);
    case BOX_COLR:
        return parse_colr(s, off, d, n);
    case BOX_BPCC:
        j->has_bpcc = 1;
        memcpy(j->bpcc, d, (size_t)HTC_MIN(n, (uint64_t)sizeof(j->bpcc)));
        return 0;
    case BOX_PCLR: {
        if (n < 3)
            return box_fail(s, HTC_EBOX, type, off, "contents too short:", n);
        const uint32_t ne = htc_rd16(d), npc = d[2];
        if (ne == 0 || ne > 1024 || npc == 0)
            return box_fail(s, HTC_EBOX, type, off, "entries or columns out of range; entries", ne);
        uint64_t row = 0;
        if (n < 3 + (uint64_t)npc)
            return box_fail(s, HTC_EBOX, type, off, "column depths cut short:", n);
        for (uint32_t i = 0; i < npc; i++) {
            const uint32_t bits = (d[3 + i] & 0x7f) + 1u;
            if (bits > 38)
                return box_fail(s, HTC_EBOX, type, off, "column depth over 38 bits:", bits);
            row += (bits + 7) / 8;
        }
        if (n < 3 + npc + row * ne)
            return box_fail(s, HTC_EBOX, type, off, "palette entries cut short; bytes", n);
        j->pclr_entries = ne;
        j->pclr_columns = npc;
        s->has_palette = 1;
        return 0;
    }
    case BOX_CMAP:
        if (n % 4)
            return box_fail(s, HTC_EBOX, type, off, "length is not a multiple of 4:", n);
        j->cmap_channels = (uint32_t)(n / 4);
        return 0;
    case BOX_CDEF: {
        if (n < 2)
            return box_fail(s, HTC_EBOX, type, off, "contents too short:", n);
        const uint32_t cn = htc_rd16(d);
        if (n != 2 + 6 * (uint64_t)cn)
            return box_fail(s, HTC_EBOX, type, off, "length does not match channel count", cn);
        j->cdef_channels = cn;
        for (uint32_t i = 0; i < cn && i < 16; i++)
            for (int k = 0; k < 3; k++)
                j->cdef[i][k] = htc_rd16(d + 2 + 6 * i + 2 * k);
        return 0;
    }
    case BOX_RESC:
    case BOX_RESD: {
        if (n != 10)
            return box_fail(s, HTC_EBOX, type, off, "contents must be 10 bytes, found", n);
        uint32_t *r = type == BOX_RESC ? j->resc : j->resd;
        r[0] = htc_rd16(d);
        r[1] = htc_rd16(d + 2);
        r[2] = htc_rd16(d + 4);
        r[3] = htc_rd16(d + 6);
        r[4] = d[8];
        r[5] = d[9];
        if (type == BOX_RESC)
            j->has_resc = 1;
        else
            j->has_resd = 1;
        return 0;
    }
    default:
        return 0;
    }
}

/* Walks the boxes in [start, end) at one nesting depth. */
static int walk(HtcStream *s, uint64_t start, uint64_t end, uint32_t depth, uint32_t parent)
{
    HtcStreamPriv *p = s->priv;
    uint64_t off = start;
    while (off < end) {
        uint32_t type = 0;
        uint64_t hdr = 0, len = 0;
        const int rc = box_header(s, off, end, &type, &hdr, &len);
        if (rc < 0) {
            /* Damage after the codestream box does not hide the codestream. */
            if (depth == 0 && s->cs && !p->strict) {
                htc_log(&s->ctx, HTC_LOG_WARNING, "%s; ignored after the codestream", htc_last_error());
                htc_clear_error();
                return 0;
            }
            return rc;
        }
        HTC_CHECK(add_box(s, type, depth, off, len));
        const uint8_t *d = s->file + off + hdr;
        const uint64_t n = len - hdr;
        if (depth == 0) {
            if (p->num_boxes == 2 && type != BOX_FTYP)
                return box_fail(s, HTC_EBOX, type, off, "the second box must be 'ftyp'; box number", 2);
            if (type == BOX_FTYP) {
                if (n < 8 || (n - 8) % 4)
                    return box_fail(s, HTC_EBOX, type, off, "malformed contents, length", n);
                p->jp2.brand = htc_rd32(d);
                p->jp2.minor_version = htc_rd32(d + 4);
                p->jp2.num_compat = (uint32_t)((n - 8) / 4);
                int jp2 = p->jp2.brand == BRAND_JP2, jph = p->jp2.brand == BRAND_JPH;
                for (uint32_t i = 0; i < p->jp2.num_compat; i++) {
                    const uint32_t cl = htc_rd32(d + 8 + 4 * i);
                    if (i < 16)
                        p->jp2.compat[i] = cl;
                    jp2 |= cl == BRAND_JP2;
                    jph |= cl == BRAND_JPH;
                }
                if (!jp2 && !jph)
                    return box_fail(s, HTC_EFORMAT, type, off, "neither 'jp2 ' nor 'jph ' is listed; brands",
                                    p->jp2.num_compat);
                s->format = (p->jp2.brand == BRAND_JPH || (jph && p->jp2.brand != BRAND_JP2))
                                ? HTC_FORMAT_JPH
                                : HTC_FORMAT_JP2;
            } else if (type == BOX_JP2H || type == BOX_RES || type == BOX_UINF) {
                HTC_CHECK(walk(s, off + hdr, off + len, depth + 1, type));
            } else if (type == BOX_JP2C && !s->cs) {
                s->cs = d;
                s->cs_size = (size_t)n;
                p->jp2.jp2c_offset = off + hdr;
            }
        } else {
            if (parent == BOX_JP2H && type == BOX_RES)
                HTC_CHECK(walk(s, off + hdr, off + len, depth + 1, type));
            else if (parent == BOX_JP2H || parent == BOX_RES)
                HTC_CHECK(parse_jp2h_child(s, type, off, d, n));
        }
        off += len;
    }
    return 0;
}

int htc_boxes_parse(HtcStream *s)
{
    const uint8_t *f = s->file;
    const size_t n = s->file_size;
    if (n >= 2 && htc_rd16(f) == HTC_MK_SOC) {
        s->format = HTC_FORMAT_CODESTREAM;
        s->cs = f;
        s->cs_size = n;
        return 0;
    }
    if (n < 12 || htc_rd32(f) != 12 || htc_rd32(f + 4) != BOX_JP || htc_rd32(f + 8) != 0x0D0A870Au)
        return htc_fail(&s->ctx, HTC_EFORMAT,
                        "offset 0: neither a codestream (SOC 0xFF4F) nor a JP2/JPH file (signature box)");
    HTC_CHECK(walk(s, 0, n, 0, 0));
    if (!s->cs)
        return htc_fail(&s->ctx, HTC_EBOX, "JP2/JPH file without a 'jp2c' codestream box");
    if (s->priv->jp2.width == 0 && s->priv->strict)
        return htc_fail(&s->ctx, HTC_EBOX, "JP2/JPH file without an 'ihdr' box");
    s->priv->jp2.num_boxes = s->priv->num_boxes;
    return 0;
}
