/* htcodec DICOM layer: walking the element tree and reading values. */
#include <stdio.h>
#include <stdlib.h>

#include "dcm_internal.h"

static const DcmNode *node_at(const HtcDicom *d, int32_t n)
{
    return d && n >= 0 && (uint32_t)n < d->num_nodes ? &d->nodes[n] : NULL;
}

int32_t htc_dicom_first(HtcDicom *d, int32_t parent)
{
    if (!d)
        return DCM_NONE;
    if (parent == DCM_NONE)
        return d->top_first;
    const DcmNode *p = node_at(d, parent);
    return p ? p->first_child : DCM_NONE;
}

int32_t htc_dicom_next(const HtcDicom *d, int32_t n)
{
    const DcmNode *p = node_at(d, n);
    return p ? p->next : DCM_NONE;
}

int htc_dicom_element(const HtcDicom *d, int32_t n, HtcDicomElement *e)
{
    const DcmNode *p = node_at(d, n);
    if (!p || !e)
        return dcm_fail(NULL, HTC_EINVAL, "no element %d", (int)n);
    memset(e, 0, sizeof(*e));
    e->tag = p->tag;
    if (p->vr) {
        e->vr[0] = (char)(p->vr >> 8);
        e->vr[1] = (char)(p->vr & 0xFF);
    }
    e->length = p->length;
    e->offset = p->offset;
    e->value = dcm_node_value(d, p);
    e->value_size = p->loaded ? p->val_size : 0;
    e->big_endian = p->big_endian;
    e->num_children = p->num_children;
    e->depth = p->depth;
    return 0;
}

int32_t htc_dicom_find(HtcDicom *d, int32_t parent, uint32_t tag)
{
    if (!d)
        return DCM_NONE;
    for (int32_t n = htc_dicom_first(d, parent); n != DCM_NONE; n = d->nodes[n].next) {
        if (d->nodes[n].tag == tag)
            return n;
    }
    if (parent == DCM_NONE && tag > DCM_TAG_PIXEL_DATA && !d->fragments_scanned) {
        /* Elements after the pixel data are read on demand. */
        if (dcm_parse_rest(d) < 0)
            return DCM_NONE;
        for (int32_t n = d->top_first; n != DCM_NONE; n = d->nodes[n].next)
            if (d->nodes[n].tag == tag)
                return n;
    }
    return DCM_NONE;
}

static int vr_is_text(uint16_t vr)
{
    switch (vr) {
    case DCM_VR('A', 'E'): case DCM_VR('A', 'S'): case DCM_VR('C', 'S'): case DCM_VR('D', 'A'):
    case DCM_VR('D', 'S'): case DCM_VR('D', 'T'): case DCM_VR('I', 'S'): case DCM_VR('L', 'O'):
    case DCM_VR('L', 'T'): case DCM_VR('P', 'N'): case DCM_VR('S', 'H'): case DCM_VR('S', 'T'):
    case DCM_VR('T', 'M'): case DCM_VR('U', 'C'): case DCM_VR('U', 'I'): case DCM_VR('U', 'R'):
    case DCM_VR('U', 'T'):
        return 1;
    default:
        return 0;
    }
}

static int vr_single_text(uint16_t vr)
{
    return vr == DCM_VR('L', 'T') || vr == DCM_VR('S', 'T') || vr == DCM_VR('U', 'T') || vr == DCM_VR('U', 'R');
}

static uint32_t vr_binary_size(uint16_t vr)
{
    switch (vr) {
    case DCM_VR('U', 'S'): case DCM_VR('S', 'S'): case DCM_VR('x', 's'): return 2;
    case DCM_VR('U', 'L'): case DCM_VR('S', 'L'): case DCM_VR('F', 'L'): case DCM_VR('A', 'T'): return 4;
    case DCM_VR('F', 'D'): case DCM_VR('S', 'V'): case DCM_VR('U', 'V'): return 8;
    default: return 0;
    }
}

/* Component i of a text value: [*s, *s + *n). */
static int text_component(const DcmNode *p, const uint8_t *v, uint32_t i, const uint8_t **s, size_t *n)
{
    size_t start = 0, k = 0;
    const size_t size = p->val_size;
    if (!vr_single_text(p->vr)) {
        for (; k < i; k++) {
            const uint8_t *bs = memchr(v + start, '\\', size - start);
            if (!bs)
                return HTC_ERANGE;
            start = (size_t)(bs - v) + 1;
        }
    } else if (i > 0) {
        return HTC_ERANGE;
    }
    size_t end = size;
    if (!vr_single_text(p->vr)) {
        const uint8_t *bs = memchr(v + start, '\\', size - start);
        if (bs)
            end = (size_t)(bs - v);
    }
    while (end > start && (v[end - 1] == ' ' || v[end - 1] == 0))
        end--;
    if (p->vr != DCM_VR('L', 'T') && p->vr != DCM_VR('S', 'T') && p->vr != DCM_VR('U', 'T'))
        while (start < end && v[start] == ' ')
            start++;
    *s = v + start;
    *n = end - start;
    return 0;
}

uint32_t htc_dicom_value_count(const HtcDicom *d, int32_t n)
{
    const DcmNode *p = node_at(d, n);
    if (!p)
        return 0;
    if (p->vr == DCM_VR('S', 'Q'))
        return p->num_children;
    if (!p->loaded)
        return p->length && p->length != HTC_DICOM_UNDEFINED ? 1 : 0;
    if (p->val_size == 0)
        return 0;
    if (vr_is_text(p->vr)) {
        if (vr_single_text(p->vr))
            return 1;
        uint32_t c = 1;
        const uint8_t *v = dcm_node_value(d, p);
        for (uint32_t k = 0; k < p->val_size; k++)
            c += v[k] == '\\';
        return c;
    }
    const uint32_t bs = vr_binary_size(p->vr);
    return bs ? p->val_size / bs : 1;
}

int htc_dicom_get_string(const HtcDicom *d, int32_t n, uint32_t i, char *buf, size_t size)
{
    const DcmNode *p = node_at(d, n);
    if (!p || !buf || !size)
        return HTC_EINVAL;
    buf[0] = 0;
    if (!p->loaded)
        return HTC_ERANGE;
    const uint8_t *v = dcm_node_value(d, p);
    if (!vr_is_text(p->vr)) {
        int64_t x;
        double f;
        if (p->vr == DCM_VR('F', 'L') || p->vr == DCM_VR('F', 'D')) {
            HTC_DICOM_RC(htc_dicom_get_double(d, n, i, &f));
            snprintf(buf, size, "%.17g", f);
        } else {
            HTC_DICOM_RC(htc_dicom_get_int(d, n, i, &x));
            snprintf(buf, size, "%lld", (long long)x);
        }
        return 0;
    }
    const uint8_t *s;
    size_t len;
    if (text_component(p, v, i, &s, &len) < 0)
        return HTC_ERANGE;
    if (len >= size)
        len = size - 1;
    memcpy(buf, s, len);
    buf[len] = 0;
    return 0;
}

static uint64_t rdn(const uint8_t *p, uint32_t n, int be)
{
    uint64_t v = 0;
    for (uint32_t k = 0; k < n; k++)
        v |= (uint64_t)p[be ? n - 1 - k : k] << (8 * k);
    return v;
}

static int get_number(const HtcDicom *d, int32_t n, uint32_t i, int64_t *iv, double *dv, int *is_float)
{
    const DcmNode *p = node_at(d, n);
    if (!p)
        return HTC_EINVAL;
    if (!p->loaded)
        return HTC_ERANGE;
    const uint8_t *v = dcm_node_value(d, p);
    *is_float = 0;
    if (p->vr == DCM_VR('I', 'S') || p->vr == DCM_VR('D', 'S')) {
        char tmp[80];
        const uint8_t *s;
        size_t len;
        if (text_component(p, v, i, &s, &len) < 0 || len == 0 || len >= sizeof(tmp))
            return HTC_ERANGE;
        memcpy(tmp, s, len);
        tmp[len] = 0;
        char *end;
        const double x = strtod(tmp, &end);
        if (end == tmp || *end)
            return HTC_ERANGE;
        *dv = x;
        *iv = (int64_t)x;
        *is_float = p->vr == DCM_VR('D', 'S');
        return 0;
    }
    const uint32_t bs = vr_binary_size(p->vr);
    if (!bs || (uint64_t)(i + 1) * bs > p->val_size)
        return HTC_ERANGE;
    const uint64_t raw = rdn(v + (size_t)i * bs, bs, p->big_endian);
    switch (p->vr) {
    case DCM_VR('U', 'S'): case DCM_VR('x', 's'): case DCM_VR('U', 'L'): case DCM_VR('U', 'V'):
        *iv = (int64_t)raw;
        *dv = (double)raw;
        break;
    case DCM_VR('A', 'T'):
        /* two 16-bit numbers, group first */
        *iv = (int64_t)(rdn(v + (size_t)i * 4, 2, p->big_endian) << 16 | rdn(v + (size_t)i * 4 + 2, 2, p->big_endian));
        *dv = (double)*iv;
        break;
    case DCM_VR('S', 'S'): *iv = (int16_t)raw; *dv = (double)*iv; break;
    case DCM_VR('S', 'L'): *iv = (int32_t)raw; *dv = (double)*iv; break;
    case DCM_VR('S', 'V'): *iv = (int64_t)raw; *dv = (double)*iv; break;
    case DCM_VR('F', 'L'): {
        float f;
        const uint32_t r32 = (uint32_t)raw;
        memcpy(&f, &r32, 4);
        *dv = f;
        *iv = (int64_t)f;
        *is_float = 1;
        break;
    }
    case DCM_VR('F', 'D'): {
        double f;
        memcpy(&f, &raw, 8);
        *dv = f;
        *iv = f == f && f > -9.2e18 && f < 9.2e18 ? (int64_t)f : 0;
        *is_float = 1;
        break;
    }
    default:
        return HTC_ERANGE;
    }
    return 0;
}

int htc_dicom_get_int(const HtcDicom *d, int32_t n, uint32_t i, int64_t *v)
{
    double f;
    int fl;
    return get_number(d, n, i, v, &f, &fl);
}

int htc_dicom_get_double(const HtcDicom *d, int32_t n, uint32_t i, double *v)
{
    int64_t x;
    int fl;
    return get_number(d, n, i, &x, v, &fl);
}

int htc_dicom_tag_int(HtcDicom *d, uint32_t tag, uint32_t i, int64_t *v)
{
    const int32_t n = htc_dicom_find(d, DCM_NONE, tag);
    return n == DCM_NONE ? HTC_ERANGE : htc_dicom_get_int(d, n, i, v);
}

int htc_dicom_tag_double(HtcDicom *d, uint32_t tag, uint32_t i, double *v)
{
    const int32_t n = htc_dicom_find(d, DCM_NONE, tag);
    return n == DCM_NONE ? HTC_ERANGE : htc_dicom_get_double(d, n, i, v);
}

int htc_dicom_tag_string(HtcDicom *d, uint32_t tag, uint32_t i, char *buf, size_t size)
{
    const int32_t n = htc_dicom_find(d, DCM_NONE, tag);
    if (n == DCM_NONE) {
        if (buf && size)
            buf[0] = 0;
        return HTC_ERANGE;
    }
    return htc_dicom_get_string(d, n, i, buf, size);
}

int htc_dicom_read_value(HtcDicom *d, int32_t n, uint8_t **data, size_t *size)
{
    const DcmNode *p = node_at(d, n);
    if (!p || !data || !size)
        return dcm_fail(NULL, HTC_EINVAL, "no element %d", (int)n);
    *data = NULL;
    *size = 0;
    if (p->length == HTC_DICOM_UNDEFINED)
        return dcm_fail(&d->ctx, HTC_EINVAL, "(%04X,%04X) has undefined length", (unsigned)(p->tag >> 16),
                        (unsigned)(p->tag & 0xFFFF));
    uint8_t *buf = dcm_malloc(&d->ctx, p->length);
    if (!buf)
        return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for %u bytes", p->length);
    if (p->loaded) {
        memcpy(buf, dcm_node_value(d, p), p->val_size);
    } else {
        const int rc = dcm_read(d->ds, &d->ctx, p->offset, buf, p->length);
        if (rc < 0) {
            dcm_free(&d->ctx, buf);
            return rc;
        }
    }
    *data = buf;
    *size = p->length;
    return 0;
}
