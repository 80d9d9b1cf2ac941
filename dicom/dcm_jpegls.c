/* htcodec DICOM layer: JPEG-LS (ITU-T T.87 | ISO/IEC 14495-1), the .4.80 and
 * .4.81 transfer syntaxes: regular mode (gradient contexts, bias correction,
 * limited-length Golomb codes), run mode with run interruption, lossless and
 * near-lossless, interleave modes none / line / sample, LSE preset
 * parameters. Components must not be sub-sampled. */
#include <stdio.h>
#include <stdlib.h>

#include "dcm_internal.h"

#define LS_MAX_COMP 4

static const uint8_t J[32] = { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                               4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

typedef struct LsBits {
    const uint8_t *p, *end;
    uint64_t acc;
    int n;
    int ended;                 /* a marker or the end was reached */
} LsBits;

typedef struct LsState {
    LsBits b;
    int prev_ff;               /* the last byte taken was 0xFF: the next carries 7 bits */
    int32_t maxval, near, range, qbpp, limit, reset, t1, t2, t3;
    int32_t A[367], B[365], C[365], N[367], Nn[2];
    int bad;
} LsState;

/* Bits with JPEG-LS stuffing: after 0xFF, the next byte's top bit is a 0 to skip. */
static uint32_t rd_bits(LsState *s, int n)
{
    LsBits *b = &s->b;
    while (b->n < n) {
        uint32_t v = 0;
        int nb = 8;
        if (!b->ended && b->p < b->end) {
            if (s->prev_ff) {
                if (*b->p >= 0x80) {
                    b->ended = 1;
                } else {
                    v = *b->p++;
                    nb = 7;
                }
                s->prev_ff = 0;
            } else {
                v = *b->p++;
                s->prev_ff = v == 0xFF;
            }
        } else {
            s->bad = 1;
        }
        b->acc = b->acc << nb | (v & ((1u << nb) - 1));
        b->n += nb;
    }
    b->n -= n;
    return (uint32_t)(b->acc >> b->n) & (uint32_t)((1ull << n) - 1);
}

static int rd_bit(LsState *s) { return (int)rd_bits(s, 1); }

/* Limited-length Golomb code (A.5.3). */
static int32_t rd_golomb(LsState *s, int k, int32_t limit)
{
    int32_t q = 0;
    while (!rd_bit(s)) {
        if (++q > 4096 || s->bad) {
            s->bad = 1;
            return 0;
        }
    }
    if (q >= limit - s->qbpp - 1)
        return (int32_t)rd_bits(s, s->qbpp) + 1;
    return k ? (int32_t)((uint32_t)q << k | rd_bits(s, k)) : q;
}

static int32_t quantize(const LsState *s, int32_t d)
{
    if (d <= -s->t3) return -4;
    if (d <= -s->t2) return -3;
    if (d <= -s->t1) return -2;
    if (d < -s->near) return -1;
    if (d <= s->near) return 0;
    if (d < s->t1) return 1;
    if (d < s->t2) return 2;
    if (d < s->t3) return 3;
    return 4;
}

static int32_t fix(const LsState *s, int32_t x)
{
    const int32_t step = 2 * s->near + 1;
    if (x < -s->near)
        x += s->range * step;
    else if (x > s->maxval + s->near)
        x -= s->range * step;
    return x < 0 ? 0 : x > s->maxval ? s->maxval : x;
}

static int32_t regular(LsState *s, int32_t qs, int32_t ra, int32_t rb, int32_t rc)
{
    const int sign = qs < 0 ? -1 : 1;
    const int32_t q = qs < 0 ? -qs : qs;
    int32_t px = rc >= (ra > rb ? ra : rb) ? (ra < rb ? ra : rb) : rc <= (ra < rb ? ra : rb) ? (ra > rb ? ra : rb) : ra + rb - rc;
    px += sign * s->C[q];
    px = px < 0 ? 0 : px > s->maxval ? s->maxval : px;
    int k = 0;
    while ((s->N[q] << k) < s->A[q] && k < 24)
        k++;
    const int32_t m = rd_golomb(s, k, s->limit);
    int32_t err;
    if (s->near == 0 && k == 0 && 2 * s->B[q] <= -s->N[q])
        err = (m & 1) ? (m - 1) / 2 : -(m / 2) - 1;
    else
        err = (m & 1) ? -((m + 1) / 2) : m / 2;
    /* context update (A.6) */
    s->B[q] += err * (2 * s->near + 1);
    s->A[q] += err < 0 ? -err : err;
    if (s->N[q] == s->reset) {
        s->A[q] >>= 1;
        s->B[q] = s->B[q] >= 0 ? s->B[q] / 2 : -((1 - s->B[q]) / 2);
        s->N[q] >>= 1;
    }
    s->N[q]++;
    if (s->B[q] <= -s->N[q]) {
        s->B[q] += s->N[q];
        if (s->C[q] > -128)
            s->C[q]--;
        if (s->B[q] <= -s->N[q])
            s->B[q] = -s->N[q] + 1;
    } else if (s->B[q] > 0) {
        s->B[q] -= s->N[q];
        if (s->C[q] < 127)
            s->C[q]++;
        if (s->B[q] > 0)
            s->B[q] = 0;
    }
    return fix(s, px + sign * err * (2 * s->near + 1));
}

/* Run interruption error (A.7.2). */
static int32_t ri_error(LsState *s, int ritype, int runindex)
{
    const int q = 365 + ritype;
    const int32_t temp = ritype ? s->A[q] + (s->N[q] >> 1) : s->A[q];
    int k = 0;
    while ((s->N[q] << k) < temp && k < 24)
        k++;
    const int32_t em = rd_golomb(s, k, s->limit - J[runindex] - 1);
    const int32_t t = em + ritype;
    const int map = t & 1;
    const int32_t abs_err = (t + map) / 2;
    const int32_t err = ((k != 0 || 2 * s->Nn[ritype] >= s->N[q]) == map) ? -abs_err : abs_err;
    if (err < 0)
        s->Nn[ritype]++;
    s->A[q] += (em + 1 - ritype) >> 1;
    if (s->N[q] == s->reset) {
        s->A[q] >>= 1;
        s->N[q] >>= 1;
        s->Nn[ritype] >>= 1;
    }
    s->N[q]++;
    return err;
}

static int32_t iabs(int32_t v) { return v < 0 ? -v : v; }

/* One line of one component (interleave none or line). line[1..w] is the
 * line, line[0] and line[w+1] its borders; prev likewise. */
static void decode_line(LsState *s, int32_t *prev, int32_t *cur, uint32_t w, int *runindex)
{
    cur[0] = prev[1];
    prev[w + 1] = prev[w];
    for (uint32_t x = 1; x <= w && !s->bad;) {
        const int32_t ra = cur[x - 1], rb = prev[x], rc = prev[x - 1], rd = prev[x + 1];
        const int32_t q1 = quantize(s, rd - rb), q2 = quantize(s, rb - rc), q3 = quantize(s, rc - ra);
        if (q1 == 0 && q2 == 0 && q3 == 0) {
            /* run mode */
            uint32_t left = w - x + 1, count = 0;
            while (rd_bit(s) && !s->bad) {
                const uint32_t n = HTC_MIN_U64(1u << J[*runindex], left - count);
                count += n;
                if (n == 1u << J[*runindex] && *runindex < 31)
                    (*runindex)++;
                if (count == left)
                    break;
            }
            if (count < left && J[*runindex])
                count += rd_bits(s, J[*runindex]);
            if (count > left) {
                s->bad = 1;
                return;
            }
            for (uint32_t i = 0; i < count; i++)
                cur[x + i] = ra;
            x += count;
            if (x > w)
                break;
            /* run interruption sample */
            const int32_t rb2 = prev[x];
            int32_t v;
            if (iabs(ra - rb2) <= s->near)
                v = fix(s, ra + ri_error(s, 1, *runindex) * (2 * s->near + 1));
            else
                v = fix(s, rb2 + ri_error(s, 0, *runindex) * (2 * s->near + 1) * (rb2 - ra >= 0 ? 1 : -1));
            cur[x++] = v;
            if (*runindex > 0)
                (*runindex)--;
            continue;
        }
        int32_t qs = 81 * q1 + 9 * q2 + q3;
        cur[x] = regular(s, qs, ra, rb, rc);
        x++;
    }
}

/* One line of all components together (sample interleave). */
static void decode_line_interleaved(LsState *s, int32_t **prev, int32_t **cur, int nc, uint32_t w, int *runindex)
{
    for (int c = 0; c < nc; c++) {
        cur[c][0] = prev[c][1];
        prev[c][w + 1] = prev[c][w];
    }
    for (uint32_t x = 1; x <= w && !s->bad;) {
        int32_t qs[LS_MAX_COMP];
        int all_zero = 1;
        for (int c = 0; c < nc; c++) {
            const int32_t ra = cur[c][x - 1], rb = prev[c][x], rc = prev[c][x - 1], rd = prev[c][x + 1];
            qs[c] = 81 * quantize(s, rd - rb) + 9 * quantize(s, rb - rc) + quantize(s, rc - ra);
            all_zero &= qs[c] == 0;
        }
        if (all_zero) {
            uint32_t left = w - x + 1, count = 0;
            while (rd_bit(s) && !s->bad) {
                const uint32_t n = HTC_MIN_U64(1u << J[*runindex], left - count);
                count += n;
                if (n == 1u << J[*runindex] && *runindex < 31)
                    (*runindex)++;
                if (count == left)
                    break;
            }
            if (count < left && J[*runindex])
                count += rd_bits(s, J[*runindex]);
            if (count > left) {
                s->bad = 1;
                return;
            }
            for (uint32_t i = 0; i < count; i++)
                for (int c = 0; c < nc; c++)
                    cur[c][x + i] = cur[c][x - 1];
            x += count;
            if (x > w)
                break;
            for (int c = 0; c < nc; c++) {
                const int32_t ra = cur[c][x - 1], rb = prev[c][x];
                cur[c][x] = fix(s, rb + ri_error(s, 0, *runindex) * (2 * s->near + 1) * (rb - ra >= 0 ? 1 : -1));
            }
            x++;
            if (*runindex > 0)
                (*runindex)--;
            continue;
        }
        for (int c = 0; c < nc; c++)
            cur[c][x] = regular(s, qs[c], cur[c][x - 1], prev[c][x], prev[c][x - 1]);
        x++;
    }
}

static int32_t clampt(int32_t i, int32_t j, int32_t maxval) { return i > maxval || i < j ? j : i; }

int dcm_jpegls_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img,
                      HtcDicomFrame *out)
{
    if (size < 4 || src[0] != 0xFF || src[1] != 0xD8)
        return dcm_fail(c, HTC_ECORRUPT, "JPEG-LS frame does not start with SOI");
    int precision = 0, ncomp = 0, have_sof = 0, scans = 0, rc = 0;
    int ids[LS_MAX_COMP] = { 0 };
    uint32_t width = 0, height = 0;
    int32_t p_maxval = 0, p_t1 = 0, p_t2 = 0, p_t3 = 0, p_reset = 0;
    uint16_t *samples = NULL;
    int32_t *lines = NULL;
    LsState *s = dcm_calloc(c, 1, sizeof(LsState));
    if (!s)
        return dcm_fail(c, HTC_ENOMEM, "no memory for JPEG-LS state");
    size_t i = 2;
    while (i + 4 <= size && rc == 0) {
        if (src[i] != 0xFF) {
            i++;
            continue;
        }
        const uint8_t m = src[i + 1];
        if (m == 0xFF) {
            i++;
            continue;
        }
        if (m == 0xD9)
            break;
        if (m >= 0xD0 && m <= 0xD7) {
            i += 2;
            continue;
        }
        const size_t len = (size_t)(src[i + 2] << 8 | src[i + 3]);
        if (len < 2 || i + 2 + len > size) {
            rc = dcm_fail(c, HTC_ECORRUPT, "JPEG-LS marker 0xFF%02X at frame offset %zu: length %zu past the end", m, i, len);
            break;
        }
        const uint8_t *p = src + i + 4;
        const size_t pl = len - 2;
        if (m == 0xF7) { /* SOF55 */
            if (have_sof || pl < 6) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG-LS SOF55 at frame offset %zu: repeated or too short", i);
                break;
            }
            precision = p[0];
            height = (uint32_t)(p[1] << 8 | p[2]);
            width = (uint32_t)(p[3] << 8 | p[4]);
            ncomp = p[5];
            if (precision < 2 || precision > 16 || !width || !height || ncomp < 1 || ncomp > LS_MAX_COMP ||
                pl < 6 + 3 * (size_t)ncomp) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG-LS SOF55: precision %d, %ux%u, %d components", precision, width,
                              height, ncomp);
                break;
            }
            for (int k = 0; k < ncomp; k++) {
                ids[k] = p[6 + 3 * k];
                if (p[7 + 3 * k] != 0x11) {
                    rc = dcm_fail(c, HTC_EUNSUPPORTED, "JPEG-LS with sub-sampled components");
                    break;
                }
            }
            if (rc)
                break;
            if (width != img->columns || height != img->rows || (uint32_t)ncomp != img->samples_per_pixel) {
                rc = dcm_fail(c, HTC_ECONTRADICT, "JPEG-LS frame is %ux%u with %d components, the header says %ux%u with %u samples",
                              width, height, ncomp, img->columns, img->rows, img->samples_per_pixel);
                break;
            }
            const uint64_t n = (uint64_t)width * height * (uint64_t)ncomp;
            const uint64_t limit = c->limits.max_memory ? c->limits.max_memory : UINT64_MAX;
            if (n * 2 + ((uint64_t)width + 2) * 8 * LS_MAX_COMP > limit || n * 2 > SIZE_MAX) {
                rc = dcm_fail(c, HTC_ELIMIT, "JPEG-LS frame of %llu samples exceeds the memory limit", (unsigned long long)n);
                break;
            }
            samples = dcm_calloc(c, (size_t)n, 2);
            lines = dcm_calloc(c, ((size_t)width + 2) * 2 * LS_MAX_COMP, sizeof(int32_t));
            if (!samples || !lines) {
                rc = dcm_fail(c, HTC_ENOMEM, "no memory for a JPEG-LS frame");
                break;
            }
            have_sof = 1;
        } else if (m == 0xF8) { /* LSE */
            if (pl >= 11 && p[0] == 1) {
                p_maxval = p[1] << 8 | p[2];
                p_t1 = p[3] << 8 | p[4];
                p_t2 = p[5] << 8 | p[6];
                p_t3 = p[7] << 8 | p[8];
                p_reset = p[9] << 8 | p[10];
            } else if (pl >= 1 && p[0] != 1) {
                rc = dcm_fail(c, HTC_EUNSUPPORTED, "JPEG-LS LSE of type %d (mapping tables)", p[0]);
                break;
            }
        } else if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            rc = dcm_fail(c, HTC_EUNSUPPORTED, "JPEG SOF 0xFF%02X in a JPEG-LS transfer syntax", m);
            break;
        } else if (m == 0xDA) { /* SOS */
            if (!have_sof || pl < 1 || pl < 1 + 2 * (size_t)p[0] + 3) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG-LS SOS at frame offset %zu before SOF55 or too short", i);
                break;
            }
            const int ns = p[0];
            int idx[LS_MAX_COMP];
            if (ns < 1 || ns > ncomp) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG-LS SOS: %d components", ns);
                break;
            }
            for (int k = 0; k < ns; k++) {
                idx[k] = -1;
                for (int q = 0; q < ncomp; q++)
                    if (ids[q] == p[1 + 2 * k])
                        idx[k] = q;
                if (idx[k] < 0) {
                    rc = dcm_fail(c, HTC_ECORRUPT, "JPEG-LS SOS: unknown component %d", p[1 + 2 * k]);
                    break;
                }
            }
            if (rc)
                break;
            const int near = p[1 + 2 * ns], ilv = p[2 + 2 * ns], al = p[3 + 2 * ns] & 15;
            const int32_t maxval = p_maxval ? p_maxval : (int32_t)((1u << precision) - 1);
            if (ilv > 2 || (ns > 1 && ilv == 0) || near > (maxval < 510 ? maxval / 2 : 255) || maxval < 1) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG-LS SOS: NEAR %d, ILV %d, %d components", near, ilv, ns);
                break;
            }
            memset(s, 0, sizeof(*s));
            s->maxval = maxval;
            s->near = near;
            s->range = (maxval + 2 * near) / (2 * near + 1) + 1;
            int qbpp = 0, bpp = 0;
            while ((1 << qbpp) < s->range)
                qbpp++;
            while ((1 << bpp) < maxval + 1)
                bpp++;
            if (bpp < 2)
                bpp = 2;
            s->qbpp = qbpp;
            s->limit = 2 * (bpp + (bpp > 8 ? bpp : 8));
            s->reset = p_reset ? p_reset : 64;
            /* default thresholds (C.2.4.1.1) */
            int32_t t1, t2, t3;
            if (maxval >= 128) {
                const int32_t f = ((maxval < 4095 ? maxval : 4095) + 128) / 256;
                t1 = clampt(f * (3 - 2) + 2 + 3 * near, near + 1, maxval);
                t2 = clampt(f * (7 - 3) + 3 + 5 * near, t1, maxval);
                t3 = clampt(f * (21 - 4) + 4 + 7 * near, t2, maxval);
            } else {
                const int32_t f = 256 / (maxval + 1);
                t1 = clampt((3 / f > 2 ? 3 / f : 2) + 3 * near, near + 1, maxval);
                t2 = clampt((7 / f > 3 ? 7 / f : 3) + 5 * near, t1, maxval);
                t3 = clampt((21 / f > 4 ? 21 / f : 4) + 7 * near, t2, maxval);
            }
            s->t1 = p_t1 ? p_t1 : t1;
            s->t2 = p_t2 ? p_t2 : t2;
            s->t3 = p_t3 ? p_t3 : t3;
            const int32_t a0 = (s->range + 32) / 64 > 2 ? (s->range + 32) / 64 : 2;
            for (int q = 0; q < 367; q++) {
                s->A[q] = a0;
                s->N[q] = 1;
            }
            s->b.p = src + i + 2 + len;
            s->b.end = src + size;
            const size_t plane = (size_t)width * height;
            int runindex[LS_MAX_COMP] = { 0 };
            memset(lines, 0, ((size_t)width + 2) * 2 * LS_MAX_COMP * sizeof(int32_t));
            int32_t *pv[LS_MAX_COMP], *cu[LS_MAX_COMP];
            for (int k = 0; k < ns; k++) {
                pv[k] = lines + (size_t)(2 * k) * (width + 2);
                cu[k] = lines + (size_t)(2 * k + 1) * (width + 2);
            }
            for (uint32_t y = 0; y < height && !s->bad; y++) {
                if (ilv == 2) {
                    decode_line_interleaved(s, pv, cu, ns, width, &runindex[0]);
                } else {
                    for (int k = 0; k < ns; k++)
                        decode_line(s, pv[k], cu[k], width, &runindex[k]);
                }
                for (int k = 0; k < ns; k++) {
                    uint16_t *o = samples + (size_t)idx[k] * plane + (size_t)y * width;
                    for (uint32_t x = 0; x < width; x++)
                        o[x] = (uint16_t)(cu[k][x + 1] << al);
                    int32_t *t = pv[k];
                    pv[k] = cu[k];
                    cu[k] = t;
                }
            }
            if (s->bad) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG-LS scan %d: the coded data ends early or is corrupt", scans + 1);
                break;
            }
            scans++;
            /* continue at the next marker */
            const uint8_t *e = s->b.p;
            while (e + 1 < s->b.end && !(e[0] == 0xFF && e[1] >= 0x80))
                e++;
            i = (size_t)(e - src);
            continue;
        }
        i += 2 + len;
    }
    if (rc == 0 && (!have_sof || scans == 0))
        rc = dcm_fail(c, HTC_ECORRUPT, "JPEG-LS frame has no %s", have_sof ? "scan" : "SOF55");
    if (rc == 0) {
        const uint32_t bytes = img->bits_allocated <= 8 ? 1 : 2;
        const size_t n = (size_t)width * height * (size_t)ncomp;
        out->width = width;
        out->height = height;
        out->components = (uint32_t)ncomp;
        out->is_signed = img->pixel_representation;
        out->precision = bytes == 1 ? 8 : (uint32_t)(precision > 8 ? precision : 9);
        out->sample_type = bytes == 1 ? (out->is_signed ? HTC_SAMPLE_I8 : HTC_SAMPLE_U8)
                                      : (out->is_signed ? HTC_SAMPLE_I16 : HTC_SAMPLE_U16);
        out->data = dcm_malloc(c, n * bytes);
        if (!out->data) {
            rc = dcm_fail(c, HTC_ENOMEM, "no memory for a JPEG-LS frame");
        } else {
            uint8_t *o = out->data;
            for (size_t q = 0; q < n; q++) {
                if (bytes == 1) {
                    o[q] = (uint8_t)samples[q];
                } else {
                    o[2 * q] = (uint8_t)samples[q];
                    o[2 * q + 1] = (uint8_t)(samples[q] >> 8);
                }
            }
            out->size = n * bytes;
            out->allocator = c->allocator;
        }
    }
    dcm_free(c, samples);
    dcm_free(c, lines);
    dcm_free(c, s);
    return rc;
}
