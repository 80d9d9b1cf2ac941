/* DICOM layer on files built here byte by byte: every encoding (explicit and
 * implicit VR little endian, explicit VR big endian), sequences and items of
 * defined and undefined length, UN of undefined length, native frames
 * (1-bit not byte-aligned, planar colour, 16-bit big endian), encapsulated
 * frames through the Basic and Extended Offset Tables and through codestream
 * starts, RLE, JSON, rescale, volume geometry; and the errors bad input must
 * give: truncation at every byte, lengths past the end, offset tables pointing
 * outside the data, fragment counts that do not match Number of Frames. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htc_dicom.h"
#include "test.h"

typedef struct Buf {
    uint8_t d[1 << 16];
    size_t n;
    int be, implicit;
} Buf;

static void put8(Buf *b, uint8_t v) { b->d[b->n++] = v; }
static void put16(Buf *b, uint16_t v)
{
    if (b->be) {
        put8(b, (uint8_t)(v >> 8));
        put8(b, (uint8_t)v);
    } else {
        put8(b, (uint8_t)v);
        put8(b, (uint8_t)(v >> 8));
    }
}
static void put32(Buf *b, uint32_t v)
{
    if (b->be) {
        put16(b, (uint16_t)(v >> 16));
        put16(b, (uint16_t)v);
    } else {
        put16(b, (uint16_t)v);
        put16(b, (uint16_t)(v >> 16));
    }
}
static void putn(Buf *b, const void *p, size_t n)
{
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static int is_long(const char *vr)
{
    static const char *const l[] = { "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" };
    for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
        if (!strcmp(vr, l[i]))
            return 1;
    return 0;
}

/* Element header; len may be 0xFFFFFFFF. */
static void hdr(Buf *b, uint16_t g, uint16_t e, const char *vr, uint32_t len)
{
    put16(b, g);
    put16(b, e);
    if (b->implicit || g == 0xFFFE) {
        put32(b, len);
        return;
    }
    putn(b, vr, 2);
    if (is_long(vr)) {
        put16(b, 0);
        put32(b, len);
    } else {
        put16(b, (uint16_t)len);
    }
}

static void el_str(Buf *b, uint16_t g, uint16_t e, const char *vr, const char *s)
{
    size_t n = strlen(s);
    hdr(b, g, e, vr, (uint32_t)(n + (n & 1)));
    putn(b, s, n);
    if (n & 1)
        put8(b, !strcmp(vr, "UI") ? 0 : ' ');
}

static void el_us(Buf *b, uint16_t g, uint16_t e, uint16_t v)
{
    hdr(b, g, e, "US", 2);
    put16(b, v);
}

/* Preamble, DICM and a file meta group naming ts. */
static void file_start(Buf *b, const char *ts)
{
    memset(b, 0, sizeof(*b));
    b->n = 128;
    putn(b, "DICM", 4);
    el_str(b, 0x0002, 0x0001, "OB", "\x00\x01");
    el_str(b, 0x0002, 0x0010, "UI", ts);
    b->implicit = !strcmp(ts, "1.2.840.10008.1.2");
    b->be = !strcmp(ts, "1.2.840.10008.1.2.2");
}

static void image_attrs(Buf *b, uint16_t rows, uint16_t cols, const char *frames, uint16_t spp, uint16_t ba,
                        uint16_t pr, const char *phot, int planar)
{
    el_us(b, 0x0028, 0x0002, spp);
    el_str(b, 0x0028, 0x0004, "CS", phot);
    if (spp > 1)
        el_us(b, 0x0028, 0x0006, (uint16_t)planar);
    if (frames)
        el_str(b, 0x0028, 0x0008, "IS", frames);
    el_us(b, 0x0028, 0x0010, rows);
    el_us(b, 0x0028, 0x0011, cols);
    el_us(b, 0x0028, 0x0100, ba);
    el_us(b, 0x0028, 0x0101, ba);
    el_us(b, 0x0028, 0x0102, (uint16_t)(ba - 1));
    el_us(b, 0x0028, 0x0103, pr);
}

static HtcDicom *open_buf(const Buf *b, int expect)
{
    HtcDicom *d = NULL;
    const int rc = htc_dicom_open_memory(&d, b->d, b->n, NULL);
    if (rc != expect)
        fprintf(stderr, "open: %d (%s), expected %d\n", rc, htc_dicom_last_error(), expect);
    CHECK_EQ_INT(rc, expect);
    return d;
}

/* ---- encodings, sequences ---- */
static void test_sequences(int implicit)
{
    Buf *b = calloc(1, sizeof(Buf));
    file_start(b, implicit ? "1.2.840.10008.1.2" : "1.2.840.10008.1.2.1");
    el_str(b, 0x0008, 0x0005, "CS", "ISO_IR 100");
    el_str(b, 0x0010, 0x0010, "PN", "Doe^John=Ideo^X");
    /* Referenced Series Sequence (0008,1115): undefined length, two items:
     * one of undefined length holding a nested defined-length sequence, one defined. */
    hdr(b, 0x0008, 0x1115, "SQ", 0xFFFFFFFFu);
    hdr(b, 0xFFFE, 0xE000, "", 0xFFFFFFFFu);
    el_str(b, 0x0020, 0x000E, "UI", "1.2.3.4");
    {
        Buf inner = { .implicit = b->implicit };
        hdr(&inner, 0xFFFE, 0xE000, "", 14);
        el_str(&inner, 0x0008, 0x1155, "UI", "1.2.5");
        hdr(b, 0x0008, 0x1140, "SQ", (uint32_t)inner.n);
        putn(b, inner.d, inner.n);
    }
    hdr(b, 0xFFFE, 0xE00D, "", 0);
    hdr(b, 0xFFFE, 0xE000, "", 18);
    el_str(b, 0x0020, 0x000E, "UI", "9.8.7.6.5");
    hdr(b, 0xFFFE, 0xE0DD, "", 0);
    el_str(b, 0x0018, 0x0050, "DS", "2.5");
    el_str(b, 0x0020, 0x0032, "DS", "-10\\ 20.5\\1e1");
    hdr(b, 0x0020, 0x5000, "AT", 8);
    put16(b, 0x0010);
    put16(b, 0x0020);
    put16(b, 0x7FE0);
    put16(b, 0x0010);
    el_str(b, 0x0029, 0x0010, "LO", "MY CREATOR");
    el_str(b, 0x0029, 0x1001, "UN", "abcd");
    HtcDicom *d = open_buf(b, 0);
    if (d) {
        const int32_t sq = htc_dicom_find(d, -1, 0x00081115u);
        CHECK(sq >= 0);
        HtcDicomElement e;
        htc_dicom_element(d, sq, &e);
        CHECK_EQ_INT(e.num_children, 2);
        CHECK(!strcmp(e.vr, "SQ"));
        const int32_t it1 = htc_dicom_first(d, sq), it2 = htc_dicom_next(d, it1);
        char s[64];
        CHECK_EQ_INT(htc_dicom_get_string(d, htc_dicom_find(d, it1, 0x0020000Eu), 0, s, sizeof(s)), 0);
        CHECK(!strcmp(s, "1.2.3.4"));
        CHECK_EQ_INT(htc_dicom_get_string(d, htc_dicom_find(d, it2, 0x0020000Eu), 0, s, sizeof(s)), 0);
        CHECK(!strcmp(s, "9.8.7.6.5"));
        const int32_t nested = htc_dicom_find(d, it1, 0x00081140u);
        CHECK(nested >= 0);
        CHECK_EQ_INT(htc_dicom_get_string(d, htc_dicom_find(d, htc_dicom_first(d, nested), 0x00081155u), 0, s,
                                          sizeof(s)), 0);
        CHECK(!strcmp(s, "1.2.5"));
        double v;
        CHECK_EQ_INT(htc_dicom_tag_double(d, 0x00200032u, 1, &v), 0);
        CHECK(v == 20.5);
        CHECK_EQ_INT(htc_dicom_tag_double(d, 0x00200032u, 2, &v), 0);
        CHECK(v == 10);
        CHECK_EQ_INT(htc_dicom_tag_double(d, 0x00200032u, 3, &v), HTC_ERANGE);
        int64_t at;
        CHECK_EQ_INT(htc_dicom_tag_int(d, 0x00205000u, 1, &at), 0);
        CHECK_EQ_INT(at, 0x7FE00010);
        CHECK_EQ_INT(htc_dicom_get_image(d, &(HtcDicomImage){ 0 }), HTC_EDICOM); /* no pixel data */
        char *json;
        size_t n;
        CHECK_EQ_INT(htc_dicom_to_json(d, HTC_DICOM_BULK_INLINE, NULL, &json, &n), 0);
        if (json) {
            CHECK(strstr(json, "\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Doe^John\",\"Ideographic\":\"Ideo^X\"}]}") != NULL);
            CHECK(strstr(json, "\"00205000\":{\"vr\":\"AT\",\"Value\":[\"00100020\",\"7FE00010\"]}") != NULL);
            CHECK(strstr(json, "\"00200032\":{\"vr\":\"DS\",\"Value\":[-10,20.5,10]}") != NULL);
            CHECK(strstr(json, "\"00081115\":{\"vr\":\"SQ\",\"Value\":[{\"0020000E\":{\"vr\":\"UI\",\"Value\":[\"1.2.3.4\"]},"
                               "\"00081140\":{\"vr\":\"SQ\",\"Value\":[{\"00081155\":{\"vr\":\"UI\",\"Value\":[\"1.2.5\"]}}]}},"
                               "{\"0020000E\":{\"vr\":\"UI\",\"Value\":[\"9.8.7.6.5\"]}}]}") != NULL);
            CHECK(strstr(json, "\"00291001\":{\"vr\":\"UN\",\"InlineBinary\":\"YWJjZA==\"}") != NULL);
            CHECK(strstr(json, "\"00020010\"") == NULL); /* no file meta */
            htc_dicom_free(d, json);
        }
        htc_dicom_close(&d);
    }
    /* Truncated at every byte: an error, never a crash or a read past the end. */
    int bad = 0;
    for (size_t cut = 0; cut < b->n; cut++) {
        HtcDicom *t = NULL;
        Buf *c = malloc(sizeof(Buf));
        memcpy(c->d, b->d, cut);
        const int rc = htc_dicom_open_memory(&t, c->d, cut, NULL);
        if (rc == 0) {
            /* Cutting exactly between top-level elements leaves a valid (shorter) file. */
            htc_dicom_close(&t);
        } else {
            bad += rc == HTC_EDICOM || rc == HTC_EFORMAT;
            CHECK(rc == HTC_EDICOM || rc == HTC_EFORMAT);
            CHECK(t == NULL);
        }
        free(c);
    }
    CHECK(bad > (int)b->n / 2);
    free(b);
}

/* UN of undefined length: an implicit VR sequence (PS3.5 6.2.2). */
static void test_un_undefined(void)
{
    Buf *b = calloc(1, sizeof(Buf));
    file_start(b, "1.2.840.10008.1.2.1");
    hdr(b, 0x0009, 0x0010, "LO", 4);
    putn(b, "ABCD", 4);
    hdr(b, 0x0009, 0x1000, "UN", 0xFFFFFFFFu);
    hdr(b, 0xFFFE, 0xE000, "", 0xFFFFFFFFu);
    b->implicit = 1;
    el_str(b, 0x0010, 0x0020, "LO", "ID42");
    b->implicit = 0;
    hdr(b, 0xFFFE, 0xE00D, "", 0);
    hdr(b, 0xFFFE, 0xE0DD, "", 0);
    el_str(b, 0x0010, 0x0030, "DA", "20240102");
    HtcDicom *d = open_buf(b, 0);
    if (d) {
        const int32_t un = htc_dicom_find(d, -1, 0x00091000u);
        HtcDicomElement e;
        CHECK_EQ_INT(htc_dicom_element(d, un, &e), 0);
        CHECK(!strcmp(e.vr, "SQ"));
        CHECK_EQ_INT(e.num_children, 1);
        char s[32];
        CHECK_EQ_INT(htc_dicom_get_string(d, htc_dicom_find(d, htc_dicom_first(d, un), 0x00100020u), 0, s, sizeof(s)), 0);
        CHECK(!strcmp(s, "ID42"));
        CHECK_EQ_INT(htc_dicom_tag_string(d, 0x00100030u, 0, s, sizeof(s)), 0);
        CHECK(!strcmp(s, "20240102"));
        htc_dicom_close(&d);
    }
    free(b);
}

/* ---- native frames ---- */
static void test_native_1bit(void)
{
    /* 3x3, 3 frames: 9 bits a frame, so frames 2 and 3 start inside a byte. */
    Buf *b = calloc(1, sizeof(Buf));
    file_start(b, "1.2.840.10008.1.2.1");
    image_attrs(b, 3, 3, "3", 1, 1, 0, "MONOCHROME2", 0);
    uint8_t bits[27];
    for (int i = 0; i < 27; i++)
        bits[i] = (uint8_t)((i * 7 + i / 5) % 3 == 0);
    uint8_t packed[4] = { 0 };
    for (int i = 0; i < 27; i++)
        packed[i / 8] |= (uint8_t)(bits[i] << (i % 8));
    hdr(b, 0x7FE0, 0x0010, "OB", 4);
    putn(b, packed, 4);
    HtcDicom *d = open_buf(b, 0);
    for (uint32_t k = 0; d && k < 3; k++) {
        HtcDicomFrame f;
        CHECK_EQ_INT(htc_dicom_decode_frame(d, NULL, k, NULL, &f), 0);
        CHECK_EQ_INT(f.sample_type, HTC_SAMPLE_U8);
        CHECK_EQ_INT(f.size, 9);
        if (f.data)
            CHECK(!memcmp(f.data, bits + 9 * k, 9));
        htc_dicom_frame_release(&f);
    }
    HtcDicomFrame f;
    if (d)
        CHECK_EQ_INT(htc_dicom_decode_frame(d, NULL, 3, NULL, &f), HTC_ERANGE);
    htc_dicom_close(&d);
    free(b);
}

static void test_native_be_planar(void)
{
    /* Big endian, 16-bit signed, 2 frames of 2x3, with rescale. */
    Buf *b = calloc(1, sizeof(Buf));
    file_start(b, "1.2.840.10008.1.2.2");
    image_attrs(b, 2, 3, "2", 1, 16, 1, "MONOCHROME2", 0);
    el_str(b, 0x0028, 0x1052, "DS", "-1024");
    el_str(b, 0x0028, 0x1053, "DS", "2");
    hdr(b, 0x7FE0, 0x0010, "OW", 24);
    const int16_t px[12] = { -3, 0, 1, 1000, -32768, 32767, 5, 6, 7, 8, 9, -10 };
    for (int i = 0; i < 12; i++)
        put16(b, (uint16_t)px[i]);
    HtcDicom *d = open_buf(b, 0);
    if (d) {
        HtcDicomFrame f;
        CHECK_EQ_INT(htc_dicom_decode_frame(d, NULL, 1, NULL, &f), 0);
        CHECK_EQ_INT(f.sample_type, HTC_SAMPLE_I16);
        if (f.data) {
            int16_t got[6];
            memcpy(got, f.data, 12); /* little-endian host */
            CHECK(!memcmp(got, px + 6, 12));
        }
        htc_dicom_frame_release(&f);
        HtcDicomDecodeParams p;
        htc_dicom_default_decode_params(&p);
        p.apply_rescale = 1;
        CHECK_EQ_INT(htc_dicom_decode_frame(d, NULL, 0, &p, &f), 0);
        CHECK_EQ_INT(f.sample_type, HTC_SAMPLE_F32);
        if (f.data) {
            const float *v = f.data;
            CHECK(v[0] == -1030.0f && v[3] == 976.0f && v[4] == -66560.0f);
        }
        htc_dicom_frame_release(&f);
        htc_dicom_close(&d);
    }
    /* RGB, planar configuration 0 and 1, give the same planar output. */
    const uint8_t r[4] = { 1, 2, 3, 4 }, g[4] = { 10, 20, 30, 40 }, bl[4] = { 100, 110, 120, 130 };
    for (int planar = 0; planar < 2; planar++) {
        file_start(b, "1.2.840.10008.1.2");
        image_attrs(b, 2, 2, NULL, 3, 8, 0, "RGB", planar);
        hdr(b, 0x7FE0, 0x0010, "OB", 12);
        for (int i = 0; i < 12; i++) {
            const int s = planar ? i / 4 : i % 3, p = planar ? i % 4 : i / 3;
            put8(b, s == 0 ? r[p] : s == 1 ? g[p] : bl[p]);
        }
        d = open_buf(b, 0);
        HtcDicomFrame f;
        CHECK_EQ_INT(d ? htc_dicom_decode_frame(d, NULL, 0, NULL, &f) : -1, 0);
        if (d && f.data) {
            CHECK(!memcmp(f.data, r, 4) && !memcmp((uint8_t *)f.data + 4, g, 4) && !memcmp((uint8_t *)f.data + 8, bl, 4));
            CHECK(!strcmp(f.photometric, "RGB"));
            htc_dicom_frame_release(&f);
        }
        htc_dicom_close(&d);
    }
    /* Pixel Data shorter than the frames need. */
    file_start(b, "1.2.840.10008.1.2.1");
    image_attrs(b, 4, 4, "2", 1, 16, 0, "MONOCHROME2", 0);
    hdr(b, 0x7FE0, 0x0010, "OW", 40);
    b->n += 40;
    d = open_buf(b, 0);
    if (d) {
        HtcDicomFrame f;
        CHECK_EQ_INT(htc_dicom_decode_frame(d, NULL, 0, NULL, &f), HTC_EDICOM);
        CHECK(strstr(htc_dicom_last_error(), "Pixel Data (7FE0,0010)") != NULL);
        htc_dicom_close(&d);
    }
    /* A length past the end names the tag and the offset. */
    file_start(b, "1.2.840.10008.1.2.1");
    hdr(b, 0x0010, 0x0010, "PN", 200);
    putn(b, "Doe^Jane", 8);
    open_buf(b, HTC_EDICOM);
    CHECK(strstr(htc_dicom_last_error(), "(0010,0010)") && strstr(htc_dicom_last_error(), "offset"));
    free(b);
}

/* ---- encapsulated ---- */
static void frag(Buf *b, const uint8_t *p, uint32_t n)
{
    hdr(b, 0xFFFE, 0xE000, "", n);
    putn(b, p, n);
}

static const uint8_t soc_a[6] = { 0xFF, 0x4F, 0xFF, 0x51, 1, 2 }, tail_a[4] = { 3, 4, 5, 6 };
static const uint8_t soc_b[4] = { 0xFF, 0x4F, 9, 9 }, tail_b[2] = { 7, 7 };

static void encapsulated(Buf *b, const char *frames, int bot, int eot, int nfrag_mode)
{
    file_start(b, "1.2.840.10008.1.2.4.90");
    image_attrs(b, 1, 1, frames, 1, 8, 0, "MONOCHROME2", 0);
    if (eot) {
        hdr(b, 0x7FE0, 0x0001, "OV", 16);
        put32(b, 0), put32(b, 0), put32(b, 8 + 10), put32(b, 0);
        hdr(b, 0x7FE0, 0x0002, "OV", 16);
        put32(b, 10), put32(b, 0), put32(b, 6), put32(b, 0);
    }
    hdr(b, 0x7FE0, 0x0010, "OB", 0xFFFFFFFFu);
    if (bot) {
        hdr(b, 0xFFFE, 0xE000, "", 8);
        put32(b, 0);
        put32(b, bot == 2 ? 100000 : nfrag_mode == 1 ? 8 + 10 : 8 + 6 + 8 + 4);
    } else {
        hdr(b, 0xFFFE, 0xE000, "", 0);
    }
    if (nfrag_mode == 1) { /* one fragment a frame */
        uint8_t f1[10];
        memcpy(f1, soc_a, 6);
        memcpy(f1 + 6, tail_a, 4);
        frag(b, f1, 10);
        frag(b, soc_b, 4);
        frag(b, tail_b, 2);
        b->n -= 8 + 2; /* drop the third: 2 fragments */
        uint8_t f2[6];
        memcpy(f2, soc_b, 4);
        memcpy(f2 + 4, tail_b, 2);
        b->n -= 8 + 4;
        frag(b, f2, 6);
    } else { /* two fragments a frame */
        frag(b, soc_a, 6);
        frag(b, tail_a, 4);
        frag(b, soc_b, 4);
        frag(b, tail_b, 2);
    }
    hdr(b, 0xFFFE, 0xE0DD, "", 0);
}

static void check_two_frames(HtcDicom *d)
{
    uint8_t *p;
    size_t n;
    CHECK_EQ_INT(htc_dicom_frame_data(d, 0, &p, &n), 0);
    CHECK_EQ_INT(n, 10);
    if (p) {
        CHECK(!memcmp(p, soc_a, 6) && !memcmp(p + 6, tail_a, 4));
        htc_dicom_free(d, p);
    }
    CHECK_EQ_INT(htc_dicom_frame_data(d, 1, &p, &n), 0);
    CHECK_EQ_INT(n, 6);
    if (p) {
        CHECK(!memcmp(p, soc_b, 4) && !memcmp(p + 4, tail_b, 2));
        htc_dicom_free(d, p);
    }
    CHECK_EQ_INT(htc_dicom_frame_data(d, 2, &p, &n), HTC_ERANGE);
}

static void test_encapsulated(void)
{
    Buf *b = calloc(1, sizeof(Buf));
    /* empty BOT, 4 fragments, 2 frames: split at the SOC markers */
    encapsulated(b, "2", 0, 0, 2);
    HtcDicom *d = open_buf(b, 0);
    if (d) {
        check_two_frames(d);
        HtcDicomImage img;
        CHECK_EQ_INT(htc_dicom_get_image(d, &img), 0);
        CHECK_EQ_INT(img.num_fragments, 4);
        htc_dicom_close(&d);
    }
    /* full BOT, 2 fragments a frame */
    encapsulated(b, "2", 1, 0, 2);
    if ((d = open_buf(b, 0))) {
        check_two_frames(d);
        htc_dicom_close(&d);
    }
    /* Extended Offset Table, one fragment a frame */
    encapsulated(b, "2", 0, 1, 1);
    if ((d = open_buf(b, 0))) {
        check_two_frames(d);
        htc_dicom_close(&d);
    }
    /* one fragment a frame, empty BOT */
    encapsulated(b, "2", 0, 0, 1);
    if ((d = open_buf(b, 0))) {
        check_two_frames(d);
        htc_dicom_close(&d);
    }
    /* BOT pointing outside the data */
    encapsulated(b, "2", 2, 0, 2);
    if ((d = open_buf(b, 0))) {
        uint8_t *p;
        size_t n;
        CHECK_EQ_INT(htc_dicom_frame_data(d, 0, &p, &n), HTC_EDICOM);
        CHECK(strstr(htc_dicom_last_error(), "Basic Offset Table") != NULL);
        CHECK_EQ_INT(htc_dicom_frame_data(d, 1, &p, &n), HTC_EDICOM);
        CHECK(strstr(htc_dicom_last_error(), "Basic Offset Table") != NULL);
        htc_dicom_close(&d);
    }
    /* BOT entries not matching Number of Frames */
    encapsulated(b, "3", 1, 0, 2);
    if ((d = open_buf(b, 0))) {
        uint8_t *p;
        size_t n;
        CHECK_EQ_INT(htc_dicom_frame_data(d, 0, &p, &n), HTC_EDICOM);
        CHECK(strstr(htc_dicom_last_error(), "Number of Frames") != NULL);
        htc_dicom_close(&d);
    }
    /* 2 fragments for 3 frames, empty BOT */
    encapsulated(b, "3", 0, 0, 1);
    if ((d = open_buf(b, 0))) {
        uint8_t *p;
        size_t n;
        CHECK_EQ_INT(htc_dicom_frame_data(d, 0, &p, &n), HTC_EDICOM);
        CHECK(strstr(htc_dicom_last_error(), "fragments") != NULL);
        htc_dicom_close(&d);
    }
    /* 4 fragments with 2 codestream starts for 3 frames */
    encapsulated(b, "3", 0, 0, 2);
    if ((d = open_buf(b, 0))) {
        uint8_t *p;
        size_t n;
        CHECK_EQ_INT(htc_dicom_frame_data(d, 2, &p, &n), HTC_EDICOM);
        htc_dicom_close(&d);
    }
    /* no Sequence Delimitation Item: the data just ends */
    encapsulated(b, "2", 0, 0, 2);
    b->n -= 8;
    open_buf(b, HTC_EDICOM);
    CHECK(strstr(htc_dicom_last_error(), "Pixel Data") != NULL);
    /* a fragment longer than the data */
    encapsulated(b, "2", 0, 0, 2);
    b->d[b->n - 8 - 2 - 4] = 0x40;
    open_buf(b, HTC_EDICOM);
    /* The whole of it, cut at every byte: errors, never crashes. */
    encapsulated(b, "2", 1, 0, 2);
    const size_t full = b->n;
    for (size_t cut = 132; cut < full; cut++) {
        HtcDicom *t = NULL;
        uint8_t *c = malloc(cut);
        memcpy(c, b->d, cut);
        int rc = htc_dicom_open_memory(&t, c, cut, NULL);
        if (rc == 0) {
            uint8_t *p;
            size_t n;
            for (uint32_t k = 0; k < 2; k++) {
                rc = htc_dicom_frame_data(t, k, &p, &n);
                CHECK(rc == 0 || rc == HTC_EDICOM);
                if (rc == 0)
                    htc_dicom_free(t, p);
            }
            htc_dicom_close(&t);
        } else {
            CHECK(rc == HTC_EDICOM || rc == HTC_EFORMAT);
        }
        free(c);
    }
    free(b);
}

/* ---- RLE ---- */
static void test_rle(void)
{
    /* 2x2, 16-bit, 2 samples (planar output): 4 segments, MSB plane first. */
    const uint16_t s0[4] = { 0x0102, 0x0304, 0xFFFF, 0x0000 }, s1[4] = { 0x1111, 0x1111, 0x1111, 0x1122 };
    uint8_t fr[256];
    memset(fr, 0, 64);
    size_t n = 64;
    const uint16_t *src[2] = { s0, s1 };
    uint32_t seg = 0;
    for (int s = 0; s < 2; s++)
        for (int byte = 1; byte >= 0; byte--) {
            fr[4 + 4 * seg] = (uint8_t)n;
            seg++;
            if (s == 1 && byte == 1) {
                fr[n++] = (uint8_t)(int8_t)-3; /* run of 4 */
                fr[n++] = 0x11;
                continue;
            }
            fr[n++] = 3; /* literal of 4 */
            for (int i = 0; i < 4; i++)
                fr[n++] = (uint8_t)(src[s][i] >> (8 * byte));
        }
    fr[0] = 4;
    Buf *b = calloc(1, sizeof(Buf));
    file_start(b, "1.2.840.10008.1.2.5");
    image_attrs(b, 2, 2, NULL, 2, 16, 0, "MONOCHROME2", 1);
    hdr(b, 0x7FE0, 0x0010, "OB", 0xFFFFFFFFu);
    hdr(b, 0xFFFE, 0xE000, "", 0);
    frag(b, fr, (uint32_t)(n + (n & 1)));
    hdr(b, 0xFFFE, 0xE0DD, "", 0);
    HtcDicom *d = open_buf(b, 0);
    if (d) {
        HtcDicomFrame f;
        CHECK_EQ_INT(htc_dicom_decode_frame(d, NULL, 0, NULL, &f), 0);
        if (f.data) {
            CHECK_EQ_INT(f.size, 16);
            uint16_t got[8];
            memcpy(got, f.data, 16);
            CHECK(!memcmp(got, s0, 8) && !memcmp(got + 4, s1, 8));
        }
        htc_dicom_frame_release(&f);
        htc_dicom_close(&d);
    }
    /* a segment that ends early */
    fr[4 + 12] = (uint8_t)(n - 2);
    file_start(b, "1.2.840.10008.1.2.5");
    image_attrs(b, 2, 2, NULL, 2, 16, 0, "MONOCHROME2", 1);
    hdr(b, 0x7FE0, 0x0010, "OB", 0xFFFFFFFFu);
    hdr(b, 0xFFFE, 0xE000, "", 0);
    frag(b, fr, (uint32_t)(n + (n & 1)));
    hdr(b, 0xFFFE, 0xE0DD, "", 0);
    if ((d = open_buf(b, 0))) {
        HtcDicomFrame f;
        CHECK_EQ_INT(htc_dicom_decode_frame(d, NULL, 0, NULL, &f), HTC_EDICOM);
        CHECK(strstr(htc_dicom_last_error(), "RLE") != NULL);
        htc_dicom_close(&d);
    }
    /* transfer syntaxes without a decoder name themselves */
    static const char *const tsx[2] = { "1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.80" };
    for (int t = 0; t < 2; t++) {
        file_start(b, tsx[t]);
        image_attrs(b, 2, 2, NULL, 1, 8, 0, "MONOCHROME2", 0);
        hdr(b, 0x7FE0, 0x0010, "OB", 0xFFFFFFFFu);
        hdr(b, 0xFFFE, 0xE000, "", 0);
        frag(b, (const uint8_t *)"\xFF\xD8\xFF\xD9", 4);
        hdr(b, 0xFFFE, 0xE0DD, "", 0);
        if ((d = open_buf(b, 0))) {
            HtcDicomFrame f;
            /* MPEG-2 has no decoder here; a JPEG-LS frame without SOF55 is corrupt */
            CHECK_EQ_INT(htc_dicom_decode_frame(d, NULL, 0, NULL, &f), t == 0 ? HTC_ETSYNTAX : HTC_ECORRUPT);
            if (t == 0)
                CHECK(strstr(htc_dicom_last_error(), "1.2.840.10008.1.2.4.100") != NULL);
            htc_dicom_close(&d);
        }
    }
    free(b);
}

static void test_limits(void)
{
    /* Sequences nested deeper than max_depth. */
    Buf *b = calloc(1, sizeof(Buf));
    file_start(b, "1.2.840.10008.1.2.1");
    for (int i = 0; i < 100; i++) {
        hdr(b, 0x0008, 0x1115, "SQ", 0xFFFFFFFFu);
        hdr(b, 0xFFFE, 0xE000, "", 0xFFFFFFFFu);
    }
    open_buf(b, HTC_ELIMIT);
    HtcDicomSettings s;
    htc_dicom_default_settings(&s);
    s.max_elements = 10;
    HtcDicom *d = NULL;
    CHECK_EQ_INT(htc_dicom_open_memory(&d, b->d, b->n, &s), HTC_ELIMIT);
    /* not DICOM */
    memset(b->d, 0, 200);
    CHECK_EQ_INT(htc_dicom_open_memory(&d, b->d, 200, NULL), HTC_EFORMAT);
    CHECK_EQ_INT(htc_dicom_probe(b->d, 200), 0);
    CHECK_EQ_INT(htc_dicom_open_file(&d, "/nonexistent/x.dcm", NULL), HTC_EIO);
    CHECK(d == NULL);
    htc_dicom_close(NULL);
    free(b);
}

static void test_volume(void)
{
    HtcDicomPlane pl[4];
    memset(pl, 0, sizeof(pl));
    /* axial slices given out of order, z = 10, 12.5, 5, 7.5 */
    const double z[4] = { 10, 12.5, 5, 7.5 };
    for (int i = 0; i < 4; i++) {
        const double o[6] = { 1, 0, 0, 0, 1, 0 };
        memcpy(pl[i].orientation, o, sizeof(o));
        pl[i].position[0] = -100;
        pl[i].position[1] = -120;
        pl[i].position[2] = z[i];
        pl[i].spacing[0] = 0.5;
        pl[i].spacing[1] = 0.75;
        pl[i].has_position = pl[i].has_orientation = pl[i].has_spacing = 1;
    }
    uint32_t order[4];
    HtcDicomVolume v;
    CHECK_EQ_INT(htc_dicom_volume_sort(pl, 4, order, &v), 0);
    CHECK(order[0] == 2 && order[1] == 3 && order[2] == 0 && order[3] == 1);
    CHECK(fabs(v.slice_spacing - 2.5) < 1e-12 && v.spacing_spread < 1e-12);
    CHECK(v.affine_lps[0] == 0.75 && v.affine_lps[5] == 0.5 && fabs(v.affine_lps[10] - 2.5) < 1e-12);
    CHECK(v.affine_lps[3] == -100 && v.affine_lps[7] == -120 && v.affine_lps[11] == 5 && v.affine_lps[15] == 1);
    CHECK(v.affine_ras[0] == -0.75 && v.affine_ras[3] == 100 && v.affine_ras[7] == 120 && v.affine_ras[11] == 5);
    pl[3].position[2] = 10;
    CHECK_EQ_INT(htc_dicom_volume_sort(pl, 4, order, &v), HTC_EDICOM);
    pl[3].position[2] = 7.5;
    pl[1].orientation[0] = 0.5;
    CHECK_EQ_INT(htc_dicom_volume_sort(pl, 4, order, &v), HTC_EDICOM);
}

/* A header that disagrees with the codestream: the codestream wins, with a warning. */
static int warnings;
static void count_warning(void *opaque, int level, const char *msg)
{
    (void)opaque;
    if (level == HTC_LOG_WARNING && strstr(msg, "codestream"))
        warnings++;
}

static void test_j2k_correction(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/dicom/j2k/J2K_pixelrep_mismatch.dcm", TESTDATA);
    HtcDicomSettings s;
    htc_dicom_default_settings(&s);
    s.log = count_warning;
    HtcDicom *d = NULL;
    if (htc_dicom_open_file(&d, path, &s) != 0) {
        printf("test_dicom_synth: %s absent, correction check skipped\n", path);
        return;
    }
    HtcDicomImage img;
    CHECK_EQ_INT(htc_dicom_get_image(d, &img), 0);
    CHECK_EQ_INT(img.pixel_representation, 1); /* the header says signed */
    HtcDicomFrame f;
    const int rc = htc_dicom_decode_frame(d, NULL, 0, NULL, &f);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0) {
        CHECK_EQ_INT(f.is_signed, 0); /* the codestream's unsigned samples */
        CHECK_EQ_INT(f.sample_type, HTC_SAMPLE_U16);
        CHECK_EQ_INT(f.corrected, 1);
        CHECK(warnings >= 1);
        htc_dicom_frame_release(&f);
    }
    htc_dicom_close(&d);
}

int main(void)
{
    test_j2k_correction();
    test_sequences(0);
    test_sequences(1);
    test_un_undefined();
    test_native_1bit();
    test_native_be_planar();
    test_encapsulated();
    test_rle();
    test_limits();
    test_volume();
    return test_summary("dicom_synth");
}
