/* Tier 2 on hand-made codestreams: one 4x4 code-block, no DWT, packet
 * headers written bit by bit here, so that the job table can be checked
 * exactly: HT placeholder passes, a cleanup segment and a SigProp/MagRef
 * segment spread over layers, the layer limit; Part 1 BYPASS and TERMALL
 * segmentation; SOP/EPH; a packet cut short; empty packets. */
#include <stdlib.h>
#include <string.h>

#include "codestream/tier2.h"
#include "test.h"

typedef struct Writer {
    uint8_t buf[4096];
    size_t n;
    uint32_t acc;
    int nbits;                 /* bits in acc */
    int limit;                 /* 8, or 7 after 0xFF */
} Writer;

static void put_byte(Writer *w, uint8_t b) { w->buf[w->n++] = b; }

static void put_u16(Writer *w, uint16_t v)
{
    put_byte(w, (uint8_t)(v >> 8));
    put_byte(w, (uint8_t)v);
}

static void put_u32(Writer *w, uint32_t v)
{
    put_u16(w, (uint16_t)(v >> 16));
    put_u16(w, (uint16_t)v);
}

/* Packet header bits (B.10.1 stuffing). */
static void bit(Writer *w, int b)
{
    if (w->limit == 0)
        w->limit = 8;
    w->acc = w->acc << 1 | (uint32_t)(b & 1);
    if (++w->nbits == w->limit) {
        const uint8_t v = (uint8_t)w->acc;
        put_byte(w, v);
        w->limit = v == 0xFF ? 7 : 8;
        w->acc = 0;
        w->nbits = 0;
    }
}

static void bits(Writer *w, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--)
        bit(w, (int)(v >> i) & 1);
}

static void flush_header(Writer *w)
{
    while (w->nbits)
        bit(w, 0);
    if (w->limit == 7) /* a header never ends on 0xFF */
        bits(w, 0, 7);
    w->limit = 8;
}

/* Main header for a 4x4 one-component 8-bit image, one tile, no DWT,
 * code-blocks 4x4, `layers` layers, code-block style `style`, Scod. */
static void main_header(Writer *w, uint32_t layers, uint8_t style, uint8_t scod)
{
    put_u16(w, 0xFF4F);
    put_u16(w, 0xFF51); /* SIZ */
    put_u16(w, 41);
    put_u16(w, style & 0x40 ? 0x4000 : 0);
    put_u32(w, 4);
    put_u32(w, 4);
    put_u32(w, 0);
    put_u32(w, 0);
    put_u32(w, 4);
    put_u32(w, 4);
    put_u32(w, 0);
    put_u32(w, 0);
    put_u16(w, 1);
    put_byte(w, 7);
    put_byte(w, 1);
    put_byte(w, 1);
    if (style & 0x40) { /* CAP: Part 15 */
        put_u16(w, 0xFF50);
        put_u16(w, 8);
        put_u32(w, 0x00020000);
        put_u16(w, style & 0x80 ? 0xC000 : 0);
    }
    put_u16(w, 0xFF52); /* COD */
    put_u16(w, 12);
    put_byte(w, scod);
    put_byte(w, 0);          /* LRCP */
    put_u16(w, (uint16_t)layers);
    put_byte(w, 0);          /* no MCT */
    put_byte(w, 0);          /* 0 levels */
    put_byte(w, 0);          /* xcb = 2 */
    put_byte(w, 0);          /* ycb = 2 */
    put_byte(w, style);
    put_byte(w, 1);          /* 5/3 */
    put_u16(w, 0xFF5C);      /* QCD: none, 1 guard bit, exponent 8 */
    put_u16(w, 4);
    put_byte(w, 1 << 5);
    put_byte(w, 8 << 3);
}

typedef struct Built {
    Writer w;
    size_t sot;
} Built;

static void start_tile(Built *b)
{
    b->sot = b->w.n;
    put_u16(&b->w, 0xFF90);
    put_u16(&b->w, 10);
    put_u16(&b->w, 0);
    put_u32(&b->w, 0); /* Psot, patched */
    put_byte(&b->w, 0);
    put_byte(&b->w, 1);
    put_u16(&b->w, 0xFF93);
}

static void end_tile(Built *b)
{
    const uint32_t psot = (uint32_t)(b->w.n - b->sot);
    b->w.buf[b->sot + 6] = (uint8_t)(psot >> 24);
    b->w.buf[b->sot + 7] = (uint8_t)(psot >> 16);
    b->w.buf[b->sot + 8] = (uint8_t)(psot >> 8);
    b->w.buf[b->sot + 9] = (uint8_t)psot;
    put_u16(&b->w, 0xFFD9);
}

static void body(Writer *w, uint32_t n, uint8_t fill)
{
    for (uint32_t i = 0; i < n; i++)
        put_byte(w, (uint8_t)(fill + i));
}

static int run(const Built *b, uint32_t max_layers, HtcJobTable *jt, HtcStream **ps)
{
    HtcStream *s = NULL;
    int rc = htc_stream_open_memory(&s, b->w.buf, b->w.n, NULL);
    if (rc < 0) {
        printf("open: %s\n", htc_last_error());
        return rc;
    }
    HtcT2Options o;
    memset(&o, 0, sizeof(o));
    o.max_layers = max_layers;
    htc_job_table_init(jt);
    rc = htc_t2_decode_tile(s, 0, &o, jt);
    if (rc < 0)
        printf("tier 2: %s\n", htc_last_error());
    *ps = s;
    return rc;
}

/* Number of passes codeword (B.10.6) for n <= 36. */
static void npasses(Writer *w, uint32_t n)
{
    if (n == 1)
        bits(w, 0, 1);
    else if (n == 2)
        bits(w, 2, 2);
    else if (n <= 5)
        bits(w, 0xC | (n - 3), 4);
    else
        bits(w, (0xF << 5) | (n - 6), 9);
}

static void test_ht_layers(void)
{
    /* layer 0: 3 placeholder passes; layer 1: cleanup (5 bytes) + SigProp
     * (2 bytes); layer 2: MagRef (3 bytes). P = 2. */
    for (uint32_t limit = 0; limit <= 2; limit++) {
        Built b;
        memset(&b, 0, sizeof(b));
        main_header(&b.w, 3, 0x40, 0);
        start_tile(&b);
        /* packet 0 */
        bit(&b.w, 1);           /* not empty */
        bit(&b.w, 1);           /* inclusion tag tree: included in layer 0 */
        bits(&b.w, 1, 3);       /* zero bit-planes: 0 0 1 -> 2 */
        npasses(&b.w, 3);
        bit(&b.w, 0);           /* Lblock stays 3 */
        bits(&b.w, 0, 4);       /* 3 + floor(log2 3) bits of zero length */
        flush_header(&b.w);
        /* packet 1 */
        bit(&b.w, 1);
        bit(&b.w, 1);           /* included */
        npasses(&b.w, 2);
        bit(&b.w, 0);
        bits(&b.w, 5, 3);       /* cleanup: 5 bytes */
        bits(&b.w, 2, 3);       /* SigProp: 2 bytes */
        flush_header(&b.w);
        body(&b.w, 7, 0x10);
        /* packet 2 */
        bit(&b.w, 1);
        bit(&b.w, 1);
        npasses(&b.w, 1);
        bit(&b.w, 0);
        bits(&b.w, 3, 3);       /* MagRef: 3 bytes */
        flush_header(&b.w);
        body(&b.w, 3, 0x40);
        end_tile(&b);
        HtcJobTable jt;
        HtcStream *s = NULL;
        CHECK_EQ_INT(run(&b, limit, &jt, &s), 0);
        if (limit == 1) {
            CHECK_EQ_INT(jt.num_jobs, 0); /* placeholders only */
        } else {
            CHECK_EQ_INT(jt.num_jobs, 1);
        }
        if (jt.num_jobs == 1) {
            const HtcBlockJob *j = &jt.jobs[0];
            CHECK_EQ_INT(j->is_ht, 1);
            CHECK_EQ_INT(j->zero_planes, 2);
            CHECK_EQ_INT(j->mb, 8);
            CHECK_EQ_INT(j->x1 - j->x0, 4);
            CHECK_EQ_INT(j->num_segs, 2);
            CHECK_EQ_INT(jt.segs[j->first_seg].passes, 4);  /* 3 placeholders + cleanup */
            CHECK_EQ_INT(jt.segs[j->first_seg].length, 5);
            CHECK_EQ_INT(jt.segs[j->first_seg + 1].passes, limit == 2 ? 1 : 2);
            CHECK_EQ_INT(jt.segs[j->first_seg + 1].length, limit == 2 ? 2 : 5);
            CHECK_EQ_INT(j->num_passes, limit == 2 ? 5 : 6);
            CHECK_EQ_INT(j->num_chunks, limit == 2 ? 2 : 3);
            const uint8_t *cs;
            size_t cs_size;
            htc_stream_get_codestream(s, &cs, &cs_size);
            CHECK_EQ_INT(cs[jt.chunks[j->first_chunk].offset], 0x10);
            CHECK_EQ_INT(cs[jt.chunks[j->first_chunk + 1].offset], 0x15);
            if (limit != 2)
                CHECK_EQ_INT(cs[jt.chunks[j->first_chunk + 2].offset], 0x40);
        }
        htc_job_table_free(NULL, &jt);
        htc_stream_close(&s);
    }
}

static void test_ht_second_set(void)
{
    /* layer 0: cleanup (4 bytes), SigProp + MagRef (3 bytes); layer 1: a
     * second HT set's cleanup (6 bytes) supersedes the first set. */
    Built b;
    memset(&b, 0, sizeof(b));
    main_header(&b.w, 2, 0x40, 0);
    start_tile(&b);
    bit(&b.w, 1);
    bit(&b.w, 1);
    bits(&b.w, 1, 1);        /* P = 0 */
    npasses(&b.w, 3);
    bit(&b.w, 0);
    bits(&b.w, 4, 3);        /* cleanup: 3 bits (one pass up to it) */
    bits(&b.w, 3, 4);        /* SigProp + MagRef: Lblock + 1 bits */
    flush_header(&b.w);
    body(&b.w, 7, 0x10);
    bit(&b.w, 1);
    bit(&b.w, 1);
    npasses(&b.w, 1);
    bit(&b.w, 0);
    bits(&b.w, 6, 3);
    flush_header(&b.w);
    body(&b.w, 6, 0x50);
    end_tile(&b);
    for (uint32_t limit = 0; limit <= 1; limit++) {
        HtcJobTable jt;
        HtcStream *s = NULL;
        CHECK_EQ_INT(run(&b, limit, &jt, &s), 0);
        CHECK_EQ_INT(jt.num_jobs, 1);
        if (jt.num_jobs == 1) {
            const HtcBlockJob *j = &jt.jobs[0];
            const uint8_t *cs;
            size_t cs_size;
            htc_stream_get_codestream(s, &cs, &cs_size);
            if (limit == 0) {
                CHECK_EQ_INT(j->num_segs, 1);
                CHECK_EQ_INT(jt.segs[j->first_seg].passes, 4);
                CHECK_EQ_INT(jt.segs[j->first_seg].length, 6);
                CHECK_EQ_INT(cs[jt.chunks[j->first_chunk].offset], 0x50);
            } else {
                CHECK_EQ_INT(j->num_segs, 2);
                CHECK_EQ_INT(j->num_passes, 3);
                CHECK_EQ_INT(jt.segs[j->first_seg].length, 4);
                CHECK_EQ_INT(jt.segs[j->first_seg + 1].length, 3);
                CHECK_EQ_INT(cs[jt.chunks[j->first_chunk].offset], 0x10);
            }
        }
        htc_job_table_free(NULL, &jt);
        htc_stream_close(&s);
    }
}

static void test_part1_styles(void)
{
    /* BYPASS: 12 passes in one packet -> segments of 10 (MQ) and 2 (raw);
     * TERMALL: 3 passes -> 3 segments; plain: one segment over 2 layers. */
    for (int mode = 0; mode < 3; mode++) {
        Built b;
        memset(&b, 0, sizeof(b));
        const uint8_t style = mode == 0 ? 0x01 : mode == 1 ? 0x04 : 0x00;
        const uint32_t layers = mode == 2 ? 2 : 1;
        main_header(&b.w, layers, style, 6); /* SOP and EPH */
        start_tile(&b);
        uint32_t lens[4];
        uint32_t nlens = 0;
        put_u16(&b.w, 0xFF91);
        put_u16(&b.w, 4);
        put_u16(&b.w, 0);
        bit(&b.w, 1);
        bit(&b.w, 1);
        bits(&b.w, 1, 1);       /* zero bit-planes: 0 */
        if (mode == 0) {
            npasses(&b.w, 12);
            bit(&b.w, 0);
            bits(&b.w, 9, 3 + 3);   /* 10 passes: Lblock + 3 bits */
            bits(&b.w, 4, 3 + 1);   /* 2 passes: Lblock + 1 bit */
            lens[nlens++] = 9;
            lens[nlens++] = 4;
        } else if (mode == 1) {
            npasses(&b.w, 3);
            bit(&b.w, 0);
            for (uint32_t i = 0; i < 3; i++) {
                bits(&b.w, 2 + i, 3);
                lens[nlens++] = 2 + i;
            }
        } else {
            npasses(&b.w, 4);
            bit(&b.w, 1);           /* Lblock 4 */
            bit(&b.w, 0);
            bits(&b.w, 6, 4 + 2);   /* 4 passes: Lblock + 2 bits */
            lens[nlens++] = 6;
        }
        flush_header(&b.w);
        put_u16(&b.w, 0xFF92);
        uint32_t total = 0;
        for (uint32_t i = 0; i < nlens; i++)
            total += lens[i];
        body(&b.w, total, 0x20);
        if (mode == 2) {
            put_u16(&b.w, 0xFF91);
            put_u16(&b.w, 4);
            put_u16(&b.w, 1);
            bit(&b.w, 1);
            bit(&b.w, 1);
            npasses(&b.w, 3);
            bit(&b.w, 0);
            bits(&b.w, 7, 4 + 1);   /* 3 passes: Lblock + 1 bit */
            flush_header(&b.w);
            put_u16(&b.w, 0xFF92);
            body(&b.w, 7, 0x60);
        }
        end_tile(&b);
        HtcJobTable jt;
        HtcStream *s = NULL;
        CHECK_EQ_INT(run(&b, 0, &jt, &s), 0);
        CHECK_EQ_INT(jt.num_jobs, 1);
        if (jt.num_jobs == 1) {
            const HtcBlockJob *j = &jt.jobs[0];
            CHECK_EQ_INT(j->is_ht, 0);
            CHECK_EQ_INT(j->zero_planes, 0);
            if (mode == 0) {
                CHECK_EQ_INT(j->num_segs, 2);
                CHECK_EQ_INT(jt.segs[j->first_seg].passes, 10);
                CHECK_EQ_INT(jt.segs[j->first_seg].length, 9);
                CHECK_EQ_INT(jt.segs[j->first_seg + 1].passes, 2);
                CHECK_EQ_INT(jt.segs[j->first_seg + 1].length, 4);
                CHECK_EQ_INT(j->num_passes, 12);
            } else if (mode == 1) {
                CHECK_EQ_INT(j->num_segs, 3);
                for (uint32_t i = 0; i < 3 && j->num_segs == 3; i++) {
                    CHECK_EQ_INT(jt.segs[j->first_seg + i].passes, 1);
                    CHECK_EQ_INT(jt.segs[j->first_seg + i].length, 2 + i);
                }
            } else {
                CHECK_EQ_INT(j->num_segs, 1);
                CHECK_EQ_INT(jt.segs[j->first_seg].passes, 7);
                CHECK_EQ_INT(jt.segs[j->first_seg].length, 13);
                CHECK_EQ_INT(jt.segs[j->first_seg].num_chunks, 2);
                CHECK_EQ_INT(j->num_chunks, 2);
                const uint8_t *cs;
                size_t cs_size;
                htc_stream_get_codestream(s, &cs, &cs_size);
                CHECK_EQ_INT(cs[jt.chunks[j->first_chunk + 1].offset], 0x60);
            }
        }
        htc_job_table_free(NULL, &jt);
        htc_stream_close(&s);
    }
}

static void test_empty_and_cut(void)
{
    /* Two layers: an empty packet, then a packet whose body is cut. */
    Built b;
    memset(&b, 0, sizeof(b));
    main_header(&b.w, 2, 0x00, 0);
    start_tile(&b);
    bit(&b.w, 0);
    flush_header(&b.w);
    bit(&b.w, 1);
    bit(&b.w, 0);            /* inclusion tag tree at layer 1: not yet ... */
    bit(&b.w, 1);            /* ... included in layer 1 */
    bits(&b.w, 1, 1);
    npasses(&b.w, 1);
    bit(&b.w, 0);
    bits(&b.w, 7, 3);        /* 7 bytes, but only 3 follow */
    flush_header(&b.w);
    body(&b.w, 3, 0x30);
    end_tile(&b);
    HtcJobTable jt;
    HtcStream *s = NULL;
    CHECK_EQ_INT(run(&b, 0, &jt, &s), HTC_ETRUNCATED);
    htc_job_table_free(NULL, &jt);
    if (s) {
        HtcT2Options o;
        memset(&o, 0, sizeof(o));
        o.allow_truncated = 1;
        htc_job_table_init(&jt);
        CHECK_EQ_INT(htc_t2_decode_tile(s, 0, &o, &jt), 0);
        CHECK_EQ_INT(o.truncated, 1);
        CHECK_EQ_INT(jt.num_jobs, 1);
        if (jt.num_jobs == 1)
            CHECK_EQ_INT(jt.jobs[0].data_length, 3);
        htc_job_table_free(NULL, &jt);
    }
    htc_stream_close(&s);
}

int main(void)
{
    test_ht_layers();
    test_ht_second_set();
    test_part1_styles();
    test_empty_and_cut();
    return test_summary("test_tier2_packets");
}
