/* htcodec DICOM layer: the DICOM JSON model (PS3.18 F.2) of a data set.
 * Each attribute becomes "GGGGEEEE": {"vr": ..., "Value": [...]} with numbers
 * as JSON numbers, PN as objects (Alphabetic, Ideographic, Phonetic), AT as
 * hex strings, SQ items as nested objects, binary values as InlineBinary
 * (base64) or a BulkDataURI. Text padding is removed as PS3.5 6.2 allows,
 * per VR, the way pydicom does, so the two can be compared value for value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dcm_internal.h"

typedef struct Out {
    const DcmCtx *ctx;
    char *buf;
    size_t len, cap;
    int failed;
} Out;

static void put(Out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *b = dcm_malloc(o->ctx, cap);
        if (!b) {
            o->failed = 1;
            return;
        }
        if (o->buf)
            memcpy(b, o->buf, o->len);
        dcm_free(o->ctx, o->buf);
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

static void puts_(Out *o, const char *s) { put(o, s, strlen(s)); }

/* A JSON string from bytes: Latin-1 unless utf8, control characters escaped. */
static void put_str(Out *o, const uint8_t *s, size_t n, int utf8)
{
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        const uint8_t c = s[i];
        char tmp[8];
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            put(o, tmp, 2);
        } else if (c < 0x20 || c == 0x7F) {
            snprintf(tmp, sizeof(tmp), "\\u%04x", c);
            put(o, tmp, 6);
        } else if (c >= 0x80 && !utf8) {
            tmp[0] = (char)(0xC0 | c >> 6);
            tmp[1] = (char)(0x80 | (c & 0x3F));
            put(o, tmp, 2);
        } else {
            put(o, (const char *)&c, 1);
        }
    }
    put(o, "\"", 1);
}

/* The shortest text that reads back as the same double. */
static void put_double(Out *o, double v)
{
    if (!isfinite(v)) {
        puts_(o, "null");
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    puts_(o, tmp);
}

static int is_space_or_nul(uint8_t c) { return c == ' ' || c == 0; }

/* Splits [s, s+n) at '\' into components; calls f for each. */
typedef void (*CompFn)(Out *o, const uint8_t *s, size_t n, uint16_t vr, int utf8, int first);

static void strip(const uint8_t **s, size_t *n, int lead, int trail)
{
    while (trail && *n && is_space_or_nul((*s)[*n - 1]))
        (*n)--;
    while (lead && *n && ((*s)[0] == ' '))
        (*s)++, (*n)--;
}

static void comp_string(Out *o, const uint8_t *s, size_t n, uint16_t vr, int utf8, int first)
{
    if (!first)
        put(o, ",", 1);
    if (vr == DCM_VR('A', 'E'))
        strip(&s, &n, 1, 1);
    else if (vr == DCM_VR('S', 'H') || vr == DCM_VR('L', 'O') || vr == DCM_VR('U', 'C'))
        strip(&s, &n, 0, 1);
    put_str(o, s, n, utf8);
}

static void comp_number(Out *o, const uint8_t *s, size_t n, uint16_t vr, int utf8, int first)
{
    (void)utf8;
    if (!first)
        put(o, ",", 1);
    char tmp[80];
    strip(&s, &n, 1, 1);
    if (n == 0 || n >= sizeof(tmp)) {
        puts_(o, "null");
        return;
    }
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    const double v = strtod(tmp, &end);
    while (*end == ' ')
        end++;
    if (end == tmp || *end) {
        put_str(o, s, n, 0); /* not a number: keep the text */
        return;
    }
    if (vr == DCM_VR('I', 'S')) {
        snprintf(tmp, sizeof(tmp), "%.0f", trunc(v));
        puts_(o, tmp);
    } else {
        put_double(o, v);
    }
}

static void comp_pn(Out *o, const uint8_t *s, size_t n, uint16_t vr, int utf8, int first)
{
    (void)vr;
    if (!first)
        put(o, ",", 1);
    static const char *const names[3] = { "Alphabetic", "Ideographic", "Phonetic" };
    puts_(o, "{");
    size_t start = 0;
    for (int g = 0; g < 3; g++) {
        size_t end = start;
        while (end < n && s[end] != '=')
            end++;
        if (g)
            put(o, ",", 1);
        put(o, "\"", 1);
        puts_(o, names[g]);
        put(o, "\":", 2);
        put_str(o, s + start, end - start, utf8);
        if (end >= n)
            break;
        start = end + 1;
    }
    puts_(o, "}");
}

static void split(Out *o, const uint8_t *s, size_t n, uint16_t vr, int utf8, CompFn f)
{
    size_t start = 0;
    int first = 1;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '\\') {
            f(o, s + start, i - start, vr, utf8, first);
            first = 0;
            start = i + 1;
        }
    }
}

static uint64_t rdn(const uint8_t *p, uint32_t n, int be)
{
    uint64_t v = 0;
    for (uint32_t k = 0; k < n; k++)
        v |= (uint64_t)p[be ? n - 1 - k : k] << (8 * k);
    return v;
}

typedef struct JsonCtx {
    HtcDicom *d;
    Out *o;
    int bulk;
    const char *uri;
    int utf8;
    int pixel_rep;
    int bits_allocated;
} JsonCtx;

static int write_dataset(JsonCtx *j, int32_t parent, int top);

static uint16_t resolve_vr(const JsonCtx *j, const DcmNode *n)
{
    switch (n->vr) {
    case DCM_VR('x', 's'):
        return j->pixel_rep ? DCM_VR('S', 'S') : DCM_VR('U', 'S');
    case DCM_VR('x', 'w'):
    case DCM_VR('u', 'w'):
        return n->val_size > 8 || !n->loaded ? DCM_VR('O', 'W') : DCM_VR('U', 'S');
    case DCM_VR('o', 'x'):
        if (n->tag == DCM_TAG_PIXEL_DATA)
            return j->bits_allocated > 8 ? DCM_VR('O', 'W') : DCM_VR('O', 'B');
        return DCM_VR('O', 'W');
    case DCM_VR('N', 'O'):
        return DCM_VR('U', 'N');
    default:
        return n->vr;
    }
}

static int is_binary_vr(uint16_t vr)
{
    switch (vr) {
    case DCM_VR('O', 'B'): case DCM_VR('O', 'D'): case DCM_VR('O', 'F'): case DCM_VR('O', 'L'):
    case DCM_VR('O', 'V'): case DCM_VR('O', 'W'): case DCM_VR('U', 'N'):
        return 1;
    default:
        return 0;
    }
}

static int write_element(JsonCtx *j, int32_t id)
{
    HtcDicom *d = j->d;
    Out *o = j->o;
    const DcmNode *n = &d->nodes[id];
    const uint16_t vr = resolve_vr(j, n);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "\"%08X\":{\"vr\":\"%c%c\"", n->tag, vr >> 8, vr & 0xFF);
    puts_(o, tmp);
    if (vr == DCM_VR('S', 'Q')) {
        puts_(o, ",\"Value\":[");
        int first = 1;
        for (int32_t it = d->nodes[id].first_child; it != DCM_NONE; it = d->nodes[it].next) {
            if (!first)
                put(o, ",", 1);
            first = 0;
            HTC_DICOM_RC(write_dataset(j, it, 0));
        }
        puts_(o, "]}");
        return 0;
    }
    if (n->length == 0 || n->length == HTC_DICOM_UNDEFINED) {
        puts_(o, "}");
        return 0;
    }
    if (is_binary_vr(vr)) {
        if (j->bulk == HTC_DICOM_BULK_URI) {
            snprintf(tmp, sizeof(tmp), "?offset=%llu&length=%u", (unsigned long long)n->offset, n->length);
            puts_(o, ",\"BulkDataURI\":");
            char *u = NULL;
            const size_t ul = strlen(j->uri ? j->uri : "") + strlen(tmp) + 1;
            u = dcm_malloc(&d->ctx, ul);
            if (!u)
                return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for a BulkDataURI");
            snprintf(u, ul, "%s%s", j->uri ? j->uri : "", tmp);
            put_str(o, (const uint8_t *)u, strlen(u), 1);
            dcm_free(&d->ctx, u);
            puts_(o, "}");
            return 0;
        }
        uint8_t *v;
        size_t size;
        HTC_DICOM_RC(htc_dicom_read_value(d, id, &v, &size));
        if (size > (SIZE_MAX - 8) / 4 * 3) {
            dcm_free(&d->ctx, v);
            return dcm_fail(&d->ctx, HTC_ELIMIT, "value too large");
        }
        char *b = dcm_malloc(&d->ctx, (size + 2) / 3 * 4 + 1);
        if (!b) {
            dcm_free(&d->ctx, v);
            return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for base64 of %zu bytes", size);
        }
        const size_t bl = dcm_base64(v, size, b);
        puts_(o, ",\"InlineBinary\":\"");
        put(o, b, bl);
        puts_(o, "\"}");
        dcm_free(&d->ctx, b);
        dcm_free(&d->ctx, v);
        return 0;
    }
    if (!n->loaded) {
        puts_(o, "}");
        return 0;
    }
    const uint8_t *v = dcm_node_value(d, n);
    size_t size = n->val_size;
    uint32_t bs = 0;
    switch (vr) {
    case DCM_VR('U', 'S'): case DCM_VR('S', 'S'): bs = 2; break;
    case DCM_VR('U', 'L'): case DCM_VR('S', 'L'): case DCM_VR('F', 'L'): case DCM_VR('A', 'T'): bs = 4; break;
    case DCM_VR('F', 'D'): case DCM_VR('S', 'V'): case DCM_VR('U', 'V'): bs = 8; break;
    default: break;
    }
    if (bs) {
        const size_t count = size / bs;
        if (count == 0) {
            puts_(o, "}");
            return 0;
        }
        puts_(o, ",\"Value\":[");
        for (size_t i = 0; i < count; i++) {
            const uint8_t *p = v + i * bs;
            if (i)
                put(o, ",", 1);
            const uint64_t raw = rdn(p, bs, n->big_endian);
            switch (vr) {
            case DCM_VR('U', 'S'): case DCM_VR('U', 'L'): case DCM_VR('U', 'V'):
                snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)raw);
                break;
            case DCM_VR('S', 'S'): snprintf(tmp, sizeof(tmp), "%d", (int)(int16_t)raw); break;
            case DCM_VR('S', 'L'): snprintf(tmp, sizeof(tmp), "%d", (int)(int32_t)raw); break;
            case DCM_VR('S', 'V'): snprintf(tmp, sizeof(tmp), "%lld", (long long)(int64_t)raw); break;
            case DCM_VR('A', 'T'):
                snprintf(tmp, sizeof(tmp), "\"%04X%04X\"", (unsigned)rdn(p, 2, n->big_endian),
                         (unsigned)rdn(p + 2, 2, n->big_endian));
                break;
            case DCM_VR('F', 'L'): {
                float f;
                const uint32_t r = (uint32_t)raw;
                memcpy(&f, &r, 4);
                tmp[0] = 0;
                put_double(o, (double)f);
                break;
            }
            default: {
                double f;
                memcpy(&f, &raw, 8);
                tmp[0] = 0;
                put_double(o, f);
                break;
            }
            }
            puts_(o, tmp);
        }
        puts_(o, "]}");
        return 0;
    }
    /* Text: padding removed as pydicom does, per VR. */
    const uint8_t *s = v;
    switch (vr) {
    case DCM_VR('L', 'T'): case DCM_VR('S', 'T'): case DCM_VR('U', 'T'): case DCM_VR('U', 'R'):
        strip(&s, &size, 0, 1);
        if (vr == DCM_VR('U', 'R'))
            while (size && (s[size - 1] == '\t' || s[size - 1] == '\n' || s[size - 1] == '\r'))
                size--;
        if (!size)
            break;
        puts_(o, ",\"Value\":[");
        put_str(o, s, size, j->utf8);
        puts_(o, "]");
        break;
    case DCM_VR('S', 'H'): case DCM_VR('L', 'O'): case DCM_VR('U', 'C'): case DCM_VR('A', 'E'): {
        /* Components are stripped one by one; empty means no Value at all. */
        const uint8_t *t = s;
        size_t tn = size;
        strip(&t, &tn, vr == DCM_VR('A', 'E'), 1);
        int only = 1;
        for (size_t i = 0; i < size; i++)
            only &= s[i] != '\\';
        if (only && tn == 0)
            break;
        puts_(o, ",\"Value\":[");
        split(o, s, size, vr, j->utf8, comp_string);
        puts_(o, "]");
        break;
    }
    default:
        strip(&s, &size, 0, 1);
        if (!size)
            break;
        puts_(o, ",\"Value\":[");
        if (vr == DCM_VR('P', 'N'))
            split(o, s, size, vr, j->utf8, comp_pn);
        else if (vr == DCM_VR('I', 'S') || vr == DCM_VR('D', 'S'))
            split(o, s, size, vr, j->utf8, comp_number);
        else
            split(o, s, size, vr, j->utf8, comp_string);
        puts_(o, "]");
        break;
    }
    puts_(o, "}");
    return 0;
}

static int write_dataset(JsonCtx *j, int32_t parent, int top)
{
    HtcDicom *d = j->d;
    puts_(j->o, "{");
    int first = 1;
    for (int32_t n = htc_dicom_first(d, parent); n != DCM_NONE; n = d->nodes[n].next) {
        const uint32_t tag = d->nodes[n].tag;
        if (top && ((tag >> 16) == 0x0002 || tag == DCM_TAG_PIXEL_DATA))
            continue;
        if (!first)
            put(j->o, ",", 1);
        first = 0;
        HTC_DICOM_RC(write_element(j, n));
    }
    puts_(j->o, "}");
    return j->o->failed ? dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for the JSON text") : 0;
}

int htc_dicom_to_json(HtcDicom *d, int bulk, const char *uri, char **json, size_t *size)
{
    if (!d || !json)
        return dcm_fail(NULL, HTC_EINVAL, "NULL argument");
    *json = NULL;
    if (size)
        *size = 0;
    HTC_DICOM_RC(dcm_parse_rest(d));
    Out o = { &d->ctx, NULL, 0, 0, 0 };
    JsonCtx j = { d, &o, bulk, uri, 0, 0, 0 };
    char cs[80];
    for (uint32_t i = 0; htc_dicom_tag_string(d, 0x00080005u, i, cs, sizeof(cs)) == 0; i++)
        if (strstr(cs, "ISO_IR 192"))
            j.utf8 = 1;
    int64_t v;
    if (htc_dicom_tag_int(d, 0x00280103u, 0, &v) == 0)
        j.pixel_rep = (int)v;
    if (htc_dicom_tag_int(d, 0x00280100u, 0, &v) == 0)
        j.bits_allocated = (int)v;
    const int rc = write_dataset(&j, DCM_NONE, 1);
    if (rc < 0) {
        dcm_free(&d->ctx, o.buf);
        return rc;
    }
    *json = o.buf;
    if (size)
        *size = o.len;
    return 0;
}
