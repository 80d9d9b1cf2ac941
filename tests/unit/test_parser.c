/* The box and marker parsers on small codestreams built here, one feature
 * at a time: derived quantisation, A.6.1 precedence of COD/COC/QCD/QCC in
 * main and tile headers, tile-parts out of order, PPM, PPT, PLT, TLM, POC,
 * RGN, CAP, COM, Psot 0, JP2/JPH boxes with XL lengths, limits, and the
 * status and message of malformed input. */
#include <stdlib.h>
#include <string.h>

#include "codestream/codestream.h"
#include "test.h"

typedef struct Buf {
    uint8_t b[16384];
    size_t n;
} Buf;

static void u8(Buf *b, uint32_t v) { b->b[b->n++] = (uint8_t)v; }
static void u16(Buf *b, uint32_t v) { u8(b, v >> 8); u8(b, v); }
static void u32(Buf *b, uint32_t v) { u16(b, v >> 16); u16(b, v); }
static size_t seg(Buf *b, uint32_t marker) { u16(b, marker); u16(b, 0); return b->n - 2; }
static void end(Buf *b, size_t at) { b->b[at] = (uint8_t)((b->n - at) >> 8); b->b[at + 1] = (uint8_t)(b->n - at); }

/* SOC + SIZ: image w x h at (x0,y0), tiles tw x th at the origin, nc components. */
static void siz(Buf *b, uint32_t rsiz, uint32_t w, uint32_t h, uint32_t x0, uint32_t y0, uint32_t tw,
                uint32_t th, uint32_t nc, uint32_t ssiz)
{
    u16(b, 0xFF4F);
    size_t at = seg(b, 0xFF51);
    u16(b, rsiz);
    u32(b, x0 + w);
    u32(b, y0 + h);
    u32(b, x0);
    u32(b, y0);
    u32(b, tw);
    u32(b, th);
    u32(b, 0);
    u32(b, 0);
    u16(b, nc);
    for (uint32_t c = 0; c < nc; c++) {
        u8(b, ssiz);
        u8(b, 1);
        u8(b, 1);
    }
    end(b, at);
}

static uint32_t lg(uint32_t v)
{
    uint32_t e = 0;
    while ((1u << e) < v)
        e++;
    return e;
}

static void cod(Buf *b, uint32_t scod, uint32_t prog, uint32_t layers, uint32_t mct, uint32_t nl,
                uint32_t xcb, uint32_t ycb, uint32_t style, uint32_t wt)
{
    size_t at = seg(b, 0xFF52);
    u8(b, scod);
    u8(b, prog);
    u16(b, layers);
    u8(b, mct);
    u8(b, nl);
    u8(b, lg(xcb) - 2);
    u8(b, lg(ycb) - 2);
    u8(b, style);
    u8(b, wt);
    if (scod & 1)
        for (uint32_t r = 0; r <= nl; r++)
            u8(b, r == 0 ? 0x77 : 0x88);
    end(b, at);
}

static void coc(Buf *b, uint32_t comp, uint32_t nl, uint32_t xcb, uint32_t wt)
{
    size_t at = seg(b, 0xFF53);
    u8(b, comp);
    u8(b, 0);
    u8(b, nl);
    u8(b, lg(xcb) - 2);
    u8(b, 4);
    u8(b, 0);
    u8(b, wt);
    end(b, at);
}

static void qcd_derived(Buf *b, uint32_t guard, uint32_t e, uint32_t m)
{
    size_t at = seg(b, 0xFF5C);
    u8(b, guard << 5 | 1);
    u16(b, e << 11 | m);
    end(b, at);
}

/* No quantisation: exponents e0, e0+1, ... for n bands (marker QCD or QCC). */
static void qcx_none(Buf *b, int comp, uint32_t guard, uint32_t e0, uint32_t n)
{
    size_t at = seg(b, comp < 0 ? 0xFF5C : 0xFF5D);
    if (comp >= 0)
        u8(b, (uint32_t)comp);
    u8(b, guard << 5);
    for (uint32_t i = 0; i < n; i++)
        u8(b, (e0 + i) << 3);
    end(b, at);
}

static void qcd_expounded(Buf *b, uint32_t guard, uint32_t n)
{
    size_t at = seg(b, 0xFF5C);
    u8(b, guard << 5 | 2);
    for (uint32_t i = 0; i < n; i++)
        u16(b, (20 - i / 3) << 11 | (100 + i));
    end(b, at);
}

/* SOT with Psot patched by sod(); returns the SOT position. */
static size_t sot(Buf *b, uint32_t tile, uint32_t tp, uint32_t tn)
{
    size_t at = b->n;
    size_t l = seg(b, 0xFF90);
    u16(b, tile);
    u32(b, 0);
    u8(b, tp);
    u8(b, tn);
    end(b, l);
    return at;
}

/* SOD and n bytes of data; sets Psot (or leaves 0 when psot0). */
static void sod(Buf *b, size_t sot_at, uint32_t n, int psot0)
{
    u16(b, 0xFF93);
    for (uint32_t i = 0; i < n; i++)
        u8(b, 0x10 + i);
    if (!psot0) {
        const uint32_t psot = (uint32_t)(b->n - sot_at);
        b->b[sot_at + 6] = (uint8_t)(psot >> 24);
        b->b[sot_at + 7] = (uint8_t)(psot >> 16);
        b->b[sot_at + 8] = (uint8_t)(psot >> 8);
        b->b[sot_at + 9] = (uint8_t)psot;
    }
}

/* HTC_PARSER_DUMP=folder writes every stream built here (fuzzing seeds). */
static void dump(const uint8_t *d, size_t n)
{
    static int count;
    const char *dir = getenv("HTC_PARSER_DUMP");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/parser_%03d.j2k", dir, count++);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(d, 1, n, f);
        fclose(f);
    }
}

static int open_buf(HtcStream **s, const Buf *b, int strict)
{
    dump(b->b, b->n);
    HtcStreamSettings st;
    htc_stream_default_settings(&st);
    st.strict = strict;
    const int rc = htc_stream_open_memory(s, b->b, b->n, &st);
    if (rc < 0)
        fprintf(stderr, "(open: %s)\n", htc_last_error());
    return rc;
}

static void test_derived(void)
{
    Buf b = {.n = 0};
    siz(&b, 0, 64, 48, 0, 0, 64, 48, 1, 7);
    cod(&b, 0, 2, 3, 0, 3, 64, 32, 0, 0);
    qcd_derived(&b, 2, 10, 100);
    size_t t = sot(&b, 0, 0, 1);
    sod(&b, t, 5, 0);
    u16(&b, 0xFFD9);
    HtcStream *s;
    CHECK_EQ_INT(open_buf(&s, &b, 1), 0);
    if (!s)
        return;
    HtcCodingInfo ci;
    CHECK_EQ_INT(htc_stream_get_coding(s, 0, 0, &ci), 0);
    CHECK_EQ_INT(ci.quant_style, HTC_QUANT_DERIVED);
    CHECK_EQ_INT(ci.num_steps, 1);
    CHECK_EQ_INT(ci.guard_bits, 2);
    CHECK_EQ_INT(ci.levels, 3);
    CHECK_EQ_INT(ci.cblk_width, 64);
    CHECK_EQ_INT(ci.cblk_height, 32);
    CHECK_EQ_INT(ci.progression, HTC_RPCL);
    CHECK_EQ_INT(ci.layers, 3);
    CHECK_EQ_INT(ci.reversible, 0);
    /* E.8.1: band b at resolution r gets exponent e0 - (r - 1), same mantissa. */
    static const int exps[10] = {10, 10, 10, 10, 9, 9, 9, 8, 8, 8};
    for (int k = 0; k < 10; k++) {
        CHECK_EQ_INT(ci.steps[k] >> 11, exps[k]);
        CHECK_EQ_INT(ci.steps[k] & 0x7ff, 100);
        CHECK_EQ_INT(s->tiles[0].qcd[0].exponent[k], exps[k]);
    }
    HtcComponentInfo comp;
    CHECK_EQ_INT(htc_stream_get_component(s, 0, &comp), 0);
    CHECK_EQ_INT(comp.precision, 8);
    CHECK_EQ_INT(comp.is_signed, 0);
    HtcTilePartInfo tp;
    CHECK_EQ_INT(htc_stream_get_tile_part(s, 0, &tp), 0);
    CHECK_EQ_INT(tp.data_length, 5);
    CHECK_EQ_INT(tp.data_offset, t + 14);
    CHECK(!strcmp(htc_stream_markers(s), "SOC,SIZ,COD,QCD,SOT,SOD,EOC"));
    static const uint16_t codes[7] = {0xFF4F, 0xFF51, 0xFF52, 0xFF5C, 0xFF90, 0xFF93, 0xFFD9};
    CHECK_EQ_INT(htc_stream_num_markers(s), 7);
    for (uint32_t i = 0; i < 7 && i < htc_stream_num_markers(s); i++) {
        uint16_t code;
        uint64_t off;
        uint32_t len;
        CHECK_EQ_INT(htc_stream_get_marker(s, i, &code, &off, &len), 0);
        CHECK_EQ_INT(code, codes[i]);
        if (i == 1) {
            CHECK_EQ_INT(off, 2);
            CHECK_EQ_INT(len, 2 + 38 + 3);
        }
        if (i == 4) {
            CHECK_EQ_INT(off, t);
            CHECK_EQ_INT(len, 12);
        }
        if (i == 6)
            CHECK_EQ_INT(off, b.n - 2);
    }
    htc_stream_close(&s);
}

/* A.6.1: tile COC > tile COD > main COC > main COD, same for QCC/QCD; the
 * tile-parts of tile 1 come out of order; a COD in a later tile-part is
 * ignored (an error when strict). */
static Buf precedence_stream(void)
{
    Buf b = {.n = 0};
    siz(&b, 0, 100, 50, 0, 0, 50, 50, 2, 0x8b); /* 2 tiles, 12-bit signed */
    cod(&b, 0, 0, 1, 0, 5, 32, 32, 0, 1);
    coc(&b, 1, 2, 16, 1);
    qcx_none(&b, -1, 1, 8, 16);
    qcx_none(&b, 1, 3, 9, 7);
    size_t t = sot(&b, 0, 0, 1);
    sod(&b, t, 3, 0);
    t = sot(&b, 1, 1, 2); /* tile 1's second tile-part first */
    {
        size_t at = seg(&b, 0xFF52); /* not allowed here: ignored */
        u8(&b, 0); u8(&b, 0); u16(&b, 1); u8(&b, 0); u8(&b, 4); u8(&b, 2); u8(&b, 2); u8(&b, 0); u8(&b, 1);
        end(&b, at);
    }
    sod(&b, t, 4, 0);
    t = sot(&b, 1, 0, 2);
    cod(&b, 0, 4, 2, 0, 1, 8, 16, HTC_CBLK_HT, 1);
    qcx_none(&b, -1, 2, 5, 4);
    sod(&b, t, 6, 0);
    u16(&b, 0xFFD9);
    return b;
}

static void test_precedence(void)
{
    Buf b = precedence_stream();
    HtcStream *s;
    CHECK_EQ_INT(open_buf(&s, &b, 0), 0);
    if (!s)
        return;
    HtcCodingInfo ci;
    /* Tile 0: the main header. */
    CHECK_EQ_INT(htc_stream_get_coding(s, 0, 0, &ci), 0);
    CHECK_EQ_INT(ci.levels, 5);
    CHECK_EQ_INT(ci.cblk_width, 32);
    CHECK_EQ_INT(ci.guard_bits, 1);
    CHECK_EQ_INT(ci.steps[15] >> 11, 23);
    CHECK_EQ_INT(htc_stream_get_coding(s, 0, 1, &ci), 0);
    CHECK_EQ_INT(ci.levels, 2);
    CHECK_EQ_INT(ci.cblk_width, 16);
    CHECK_EQ_INT(ci.guard_bits, 3);
    CHECK_EQ_INT(ci.steps[6] >> 11, 15);
    /* Tile 1: its COD and QCD replace main COC and QCC too. */
    for (uint32_t c = 0; c < 2; c++) {
        CHECK_EQ_INT(htc_stream_get_coding(s, 1, c, &ci), 0);
        CHECK_EQ_INT(ci.levels, 1);
        CHECK_EQ_INT(ci.cblk_width, 8);
        CHECK_EQ_INT(ci.cblk_height, 16);
        CHECK_EQ_INT(ci.cblk_style, HTC_CBLK_HT);
        CHECK_EQ_INT(ci.progression, HTC_CPRL);
        CHECK_EQ_INT(ci.layers, 2);
        CHECK_EQ_INT(ci.guard_bits, 2);
        CHECK_EQ_INT(ci.steps[3] >> 11, 8);
    }
    HtcImageInfo in;
    CHECK_EQ_INT(htc_stream_get_info(s, &in), 0);
    CHECK_EQ_INT(in.is_ht, 1);
    CHECK_EQ_INT(in.num_tiles_x, 2);
    HtcComponentInfo comp;
    CHECK_EQ_INT(htc_stream_get_component(s, 1, &comp), 0);
    CHECK_EQ_INT(comp.precision, 12);
    CHECK_EQ_INT(comp.is_signed, 1);
    /* Tile-parts in TPsot order: codestream indices 2 then 1. */
    CHECK_EQ_INT(s->tiles[1].num_parts, 2);
    CHECK_EQ_INT(s->tiles[1].parts[0], 2);
    CHECK_EQ_INT(s->tiles[1].parts[1], 1);
    HtcTileInfo ti;
    CHECK_EQ_INT(htc_stream_get_tile(s, 1, &ti), 0);
    CHECK_EQ_INT(ti.num_tile_parts, 2);
    CHECK_EQ_INT(ti.declared_tile_parts, 2);
    CHECK_EQ_INT(ti.x0, 50);
    CHECK_EQ_INT(ti.x1, 100);
    CHECK_EQ_INT(ti.first_offset, s->parts[1].sot_offset);
    htc_stream_close(&s);
    /* Strict: the COD in tile 1's second tile-part is an error. */
    CHECK_EQ_INT(open_buf(&s, &b, 1), HTC_EMARKER);
    CHECK(s == NULL);
    CHECK(strstr(htc_last_error(), "COD at offset") != NULL);
}

/* PPT in two tile-parts, PLT with multi-byte lengths, TLM, POC, RGN, COM. */
static void put32(Buf *b, size_t at, uint32_t v)
{
    const size_t n = b->n;
    b->n = at;
    u32(b, v);
    b->n = n;
}

static void test_pointer_markers(void)
{
    Buf b = {.n = 0};
    size_t tlm_at = 0;
    siz(&b, 0, 32, 32, 0, 0, 32, 32, 3, 7);
    cod(&b, 1, 0, 1, 1, 2, 64, 64, 0, 1);
    qcx_none(&b, -1, 2, 8, 7);
    {
        size_t at = seg(&b, 0xFF55); /* TLM: 16-bit tile index, 32-bit lengths */
        u8(&b, 0);
        u8(&b, 0x60);
        tlm_at = b.n;
        u16(&b, 0);
        u32(&b, 0);
        u16(&b, 0);
        u32(&b, 0);
        end(&b, at);
    }
    {
        size_t at = seg(&b, 0xFF5F); /* POC: two entries */
        u8(&b, 0); u8(&b, 0); u16(&b, 1); u8(&b, 2); u8(&b, 3); u8(&b, 2);
        u8(&b, 2); u8(&b, 1); u16(&b, 1); u8(&b, 3); u8(&b, 0); u8(&b, 4);
        end(&b, at);
    }
    {
        size_t at = seg(&b, 0xFF5E); /* RGN comp 2 shift 7 */
        u8(&b, 2); u8(&b, 0); u8(&b, 7);
        end(&b, at);
    }
    {
        size_t at = seg(&b, 0xFF64);
        u16(&b, 1);
        memcpy(b.b + b.n, "hello", 5);
        b.n += 5;
        end(&b, at);
    }
    const size_t t0 = b.n;
    size_t t = sot(&b, 0, 0, 2);
    {
        size_t at = seg(&b, 0xFF58); /* PLT: 200, 5, 16384 */
        u8(&b, 0);
        u8(&b, 0x81); u8(&b, 0x48); u8(&b, 5); u8(&b, 0x81); u8(&b, 0x80); u8(&b, 0x00);
        end(&b, at);
    }
    {
        size_t at = seg(&b, 0xFF61);
        u8(&b, 0); u8(&b, 0xA1); u8(&b, 0xA2);
        end(&b, at);
    }
    {
        size_t at = seg(&b, 0xFF61);
        u8(&b, 1); u8(&b, 0xA3);
        end(&b, at);
    }
    sod(&b, t, 7, 0);
    t = sot(&b, 0, 1, 2);
    {
        size_t at = seg(&b, 0xFF58);
        u8(&b, 1); u8(&b, 9);
        end(&b, at);
    }
    {
        size_t at = seg(&b, 0xFF61);
        u8(&b, 2); u8(&b, 0xB1);
        end(&b, at);
    }
    sod(&b, t, 9, 1); /* Psot 0: up to EOC */
    put32(&b, tlm_at + 2, (uint32_t)(t - t0));
    put32(&b, tlm_at + 8, (uint32_t)(b.n - t));
    u16(&b, 0xFFD9);
    HtcStream *s;
    CHECK_EQ_INT(open_buf(&s, &b, 1), 0);
    if (!s)
        return;
    const HtcTile *tile = &s->tiles[0];
    CHECK_EQ_INT(tile->packed_headers_size, 4);
    if (tile->packed_headers_size == 4) {
        CHECK_EQ_INT(tile->packed_headers[0], 0xA1);
        CHECK_EQ_INT(tile->packed_headers[2], 0xA3);
        CHECK_EQ_INT(tile->packed_headers[3], 0xB1);
    }
    CHECK_EQ_INT(s->num_plt_lengths, 4);
    CHECK_EQ_INT(s->plt_lengths[0], 200);
    CHECK_EQ_INT(s->plt_lengths[1], 5);
    CHECK_EQ_INT(s->plt_lengths[2], 16384);
    CHECK_EQ_INT(s->plt_lengths[3], 9);
    CHECK_EQ_INT(s->parts[0].num_plt, 3);
    CHECK_EQ_INT(s->parts[1].first_plt, 3);
    CHECK_EQ_INT(s->has_plt_all, 1);
    CHECK_EQ_INT(s->parts[1].data.length, 9);
    CHECK_EQ_INT(tile->num_poc, 2);
    CHECK_EQ_INT(tile->poc[1].rs, 2);
    CHECK_EQ_INT(tile->poc[1].ce, 3); /* CEpoc 0 = 256, clipped to Csiz */
    CHECK_EQ_INT(tile->poc[1].progression, HTC_CPRL);
    CHECK_EQ_INT(tile->roi_shift[2], 7);
    CHECK_EQ_INT(tile->roi_shift[0], 0);
    HtcImageInfo in;
    htc_stream_get_info(s, &in);
    CHECK_EQ_INT(in.has_tlm, 1);
    CHECK_EQ_INT(in.has_ppt, 1);
    CHECK_EQ_INT(in.has_poc, 1);
    CHECK_EQ_INT(in.num_comments, 1);
    int rcom;
    const uint8_t *d;
    size_t n;
    CHECK_EQ_INT(htc_stream_get_comment(s, 0, &rcom, &d, &n), 0);
    CHECK_EQ_INT(rcom, 1);
    CHECK(n == 5 && !memcmp(d, "hello", 5));
    HtcCodingInfo ci;
    htc_stream_get_coding(s, 0, 0, &ci);
    CHECK_EQ_INT(ci.mct, 1);
    CHECK_EQ_INT(ci.use_precincts, 1);
    CHECK_EQ_INT(ci.precinct_w_exp[0], 7);
    CHECK_EQ_INT(ci.precinct_h_exp[2], 8);
    htc_stream_close(&s);
    /* A TLM length that disagrees with Psot: a warning, an error when strict. */
    put32(&b, tlm_at + 2, 99);
    CHECK_EQ_INT(open_buf(&s, &b, 1), HTC_EMARKER);
    CHECK(strstr(htc_last_error(), "TLM") != NULL);
    CHECK_EQ_INT(open_buf(&s, &b, 0), 0);
    htc_stream_close(&s);
}

/* PPM: Nppm/Ippm for three tile-parts, split across two PPM segments. */
static void test_ppm(void)
{
    Buf b = {.n = 0};
    siz(&b, 0, 64, 32, 0, 0, 32, 32, 1, 7);
    cod(&b, 0, 0, 1, 0, 1, 64, 64, 0, 1);
    qcx_none(&b, -1, 2, 8, 4);
    size_t at = seg(&b, 0xFF60);
    u8(&b, 0);
    u32(&b, 2); u8(&b, 0xC1); u8(&b, 0xC2); /* tile-part 0 (tile 0) */
    u32(&b, 1);                             /* tile-part 1 (tile 1) ... */
    end(&b, at);
    at = seg(&b, 0xFF60);
    u8(&b, 1);
    u8(&b, 0xD1);                           /* ... its byte in the next PPM */
    u32(&b, 1); u8(&b, 0xC3);               /* tile-part 2 (tile 0, part 1) */
    end(&b, at);
    size_t t = sot(&b, 0, 0, 0);
    sod(&b, t, 2, 0);
    t = sot(&b, 1, 0, 1);
    sod(&b, t, 2, 0);
    t = sot(&b, 0, 1, 0);
    sod(&b, t, 2, 0);
    u16(&b, 0xFFD9);
    HtcStream *s;
    CHECK_EQ_INT(open_buf(&s, &b, 1), 0);
    if (!s)
        return;
    CHECK_EQ_INT(s->tiles[0].packed_headers_size, 3);
    CHECK_EQ_INT(s->tiles[1].packed_headers_size, 1);
    if (s->tiles[0].packed_headers_size == 3) {
        CHECK_EQ_INT(s->tiles[0].packed_headers[1], 0xC2);
        CHECK_EQ_INT(s->tiles[0].packed_headers[2], 0xC3);
    }
    if (s->tiles[1].packed_headers_size == 1)
        CHECK_EQ_INT(s->tiles[1].packed_headers[0], 0xD1);
    htc_stream_close(&s);
    /* Too few Nppm: an error naming PPM. */
    b.n = 0;
    siz(&b, 0, 64, 32, 0, 0, 32, 32, 1, 7);
    cod(&b, 0, 0, 1, 0, 1, 64, 64, 0, 1);
    qcx_none(&b, -1, 2, 8, 4);
    at = seg(&b, 0xFF60);
    u8(&b, 0);
    u32(&b, 1); u8(&b, 0xC1);
    end(&b, at);
    t = sot(&b, 0, 0, 1);
    sod(&b, t, 2, 0);
    t = sot(&b, 1, 0, 1);
    sod(&b, t, 2, 0);
    u16(&b, 0xFFD9);
    CHECK_EQ_INT(open_buf(&s, &b, 0), HTC_EMARKER);
    CHECK(strstr(htc_last_error(), "PPM") != NULL);
}

/* Z indices order PPT, PPM and PLT segments, whatever their order in the
 * codestream (g4_colr writes PPT backwards). */
static void test_z_order(void)
{
    Buf b = {.n = 0};
    siz(&b, 0, 32, 32, 0, 0, 32, 32, 1, 7);
    cod(&b, 0, 0, 1, 0, 1, 64, 64, 0, 1);
    qcx_none(&b, -1, 2, 8, 4);
    size_t t = sot(&b, 0, 0, 2);
    size_t at = seg(&b, 0xFF61);
    u8(&b, 1); u8(&b, 0xB1); u8(&b, 0xB2);
    end(&b, at);
    at = seg(&b, 0xFF58); /* Zplt 1: lengths 7, 8 */
    u8(&b, 1); u8(&b, 7); u8(&b, 8);
    end(&b, at);
    at = seg(&b, 0xFF61);
    u8(&b, 0); u8(&b, 0xA1);
    end(&b, at);
    at = seg(&b, 0xFF58); /* Zplt 0: length 300 */
    u8(&b, 0); u8(&b, 0x82); u8(&b, 0x2C);
    end(&b, at);
    sod(&b, t, 4, 0);
    t = sot(&b, 0, 1, 2);
    at = seg(&b, 0xFF61);
    u8(&b, 2); u8(&b, 0xC1);
    end(&b, at);
    sod(&b, t, 4, 0);
    u16(&b, 0xFFD9);
    HtcStream *s;
    CHECK_EQ_INT(open_buf(&s, &b, 1), 0);
    if (!s)
        return;
    static const uint8_t want[4] = {0xA1, 0xB1, 0xB2, 0xC1};
    CHECK_EQ_INT(s->tiles[0].packed_headers_size, 4);
    if (s->tiles[0].packed_headers_size == 4)
        CHECK(!memcmp(s->tiles[0].packed_headers, want, 4));
    CHECK_EQ_INT(s->parts[0].num_plt, 3);
    CHECK_EQ_INT(s->parts[1].num_plt, 0);
    CHECK_EQ_INT(s->parts[1].first_plt, UINT32_MAX);
    CHECK_EQ_INT(s->has_plt_all, 0);
    if (s->num_plt_lengths == 3) {
        CHECK_EQ_INT(s->plt_lengths[0], 300);
        CHECK_EQ_INT(s->plt_lengths[1], 7);
        CHECK_EQ_INT(s->plt_lengths[2], 8);
    }
    htc_stream_close(&s);

    /* PPM segments given as Zppm 1, then 0. */
    b.n = 0;
    siz(&b, 0, 32, 32, 0, 0, 32, 32, 1, 7);
    cod(&b, 0, 0, 1, 0, 1, 64, 64, 0, 1);
    qcx_none(&b, -1, 2, 8, 4);
    at = seg(&b, 0xFF60);
    u8(&b, 1);
    u8(&b, 0xE2); u32(&b, 1); u8(&b, 0xE3);
    end(&b, at);
    at = seg(&b, 0xFF60);
    u8(&b, 0);
    u32(&b, 2); u8(&b, 0xE1);
    end(&b, at);
    t = sot(&b, 0, 0, 2);
    sod(&b, t, 2, 0);
    t = sot(&b, 0, 1, 2);
    sod(&b, t, 2, 0);
    u16(&b, 0xFFD9);
    CHECK_EQ_INT(open_buf(&s, &b, 1), 0);
    if (!s)
        return;
    static const uint8_t want2[3] = {0xE1, 0xE2, 0xE3};
    CHECK_EQ_INT(s->tiles[0].packed_headers_size, 3);
    if (s->tiles[0].packed_headers_size == 3)
        CHECK(!memcmp(s->tiles[0].packed_headers, want2, 3));
    htc_stream_close(&s);
}

/* CAP with Part 15, Rsiz HT bit. */
static void test_cap(void)
{
    Buf b = {.n = 0};
    siz(&b, 0x4000, 16, 16, 3, 5, 16, 16, 1, 15);
    size_t at = seg(&b, 0xFF50);
    u32(&b, 0x00020000);
    u16(&b, 0x0003);
    end(&b, at);
    cod(&b, 0, 0, 1, 0, 0, 16, 16, HTC_CBLK_HT, 1);
    qcx_none(&b, -1, 1, 16, 1);
    size_t t = sot(&b, 0, 0, 1);
    sod(&b, t, 1, 0);
    u16(&b, 0xFFD9);
    HtcStream *s;
    CHECK_EQ_INT(open_buf(&s, &b, 1), 0);
    if (!s)
        return;
    HtcImageInfo in;
    htc_stream_get_info(s, &in);
    CHECK_EQ_INT(in.cap_pcap, 0x00020000);
    CHECK_EQ_INT(in.cap_ccap15, 3);
    CHECK_EQ_INT(in.is_ht, 1);
    CHECK_EQ_INT(in.x0, 3);
    CHECK_EQ_INT(in.y1, 21);
    CHECK_EQ_INT(in.num_tiles_x, 2); /* tiles from 0: 0..16, 16..19 */
    CHECK_EQ_INT(in.num_tiles_y, 2);
    HtcTileInfo ti;
    htc_stream_get_tile(s, 3, &ti);
    CHECK_EQ_INT(ti.x0, 16);
    CHECK_EQ_INT(ti.x1, 19);
    CHECK_EQ_INT(ti.y0, 16);
    CHECK_EQ_INT(ti.y1, 21);
    HtcComponentInfo comp;
    htc_stream_get_component(s, 0, &comp);
    CHECK_EQ_INT(comp.precision, 16);
    htc_stream_close(&s);
}

static void wrap_box(Buf *out, uint32_t type, const Buf *in, int xl)
{
    if (xl) {
        u32(out, 1);
        u32(out, type);
        u32(out, 0);
        u32(out, (uint32_t)in->n + 16);
    } else {
        u32(out, (uint32_t)in->n + 8);
        u32(out, type);
    }
    memcpy(out->b + out->n, in->b, in->n);
    out->n += in->n;
}

static void test_jp2(void)
{
    Buf cs = {.n = 0};
    siz(&cs, 0, 20, 10, 0, 0, 20, 10, 3, 7);
    cod(&cs, 0, 0, 1, 1, 1, 64, 64, 0, 1);
    qcx_none(&cs, -1, 1, 8, 4);
    size_t t = sot(&cs, 0, 0, 1);
    sod(&cs, t, 3, 0);
    u16(&cs, 0xFFD9);
    for (int jph = 0; jph <= 1; jph++) {
        Buf f = {.n = 0}, h = {.n = 0}, tmp = {.n = 0};
        u32(&f, 12); u32(&f, 0x6A502020); u32(&f, 0x0D0A870A);
        tmp.n = 0;
        u32(&tmp, jph ? 0x6A706820 : 0x6A703220); u32(&tmp, 0); u32(&tmp, jph ? 0x6A706820 : 0x6A703220);
        wrap_box(&f, 0x66747970, &tmp, 0); /* ftyp */
        tmp.n = 0;
        u32(&tmp, 10); u32(&tmp, 20); u16(&tmp, 3); u8(&tmp, 7); u8(&tmp, 7); u8(&tmp, 0); u8(&tmp, 0);
        wrap_box(&h, 0x69686472, &tmp, 0); /* ihdr */
        tmp.n = 0;
        u8(&tmp, 1); u8(&tmp, 0); u8(&tmp, 0); u32(&tmp, 16);
        wrap_box(&h, 0x636F6C72, &tmp, 0); /* colr sRGB */
        wrap_box(&f, 0x6A703268, &h, 0);   /* jp2h */
        tmp.n = 0;
        u32(&tmp, 0xDEADBEEF);
        wrap_box(&f, 0x75756964, &tmp, 0); /* uuid, skipped */
        wrap_box(&f, 0x6A703263, &cs, 1);  /* jp2c with XLBox */
        HtcStream *s;
        dump(f.b, f.n);
        CHECK_EQ_INT(htc_stream_open_memory(&s, f.b, f.n, NULL), 0);
        if (!s)
            continue;
        HtcImageInfo in;
        htc_stream_get_info(s, &in);
        CHECK_EQ_INT(in.format, jph ? HTC_FORMAT_JPH : HTC_FORMAT_JP2);
        CHECK_EQ_INT(in.colourspace, 16);
        CHECK_EQ_INT(in.width, 20);
        HtcJp2Info j;
        CHECK_EQ_INT(htc_stream_get_jp2(s, &j), 0);
        CHECK_EQ_INT(j.width, 20);
        CHECK_EQ_INT(j.height, 10);
        CHECK_EQ_INT(j.num_components, 3);
        CHECK_EQ_INT(j.enum_cs, 16);
        CHECK_EQ_INT(j.num_boxes, 7);
        const uint8_t *d;
        size_t n;
        htc_stream_get_codestream(s, &d, &n);
        CHECK_EQ_INT(n, cs.n);
        CHECK_EQ_INT(j.jp2c_offset, f.n - cs.n);
        uint32_t type, depth;
        uint64_t off, len;
        CHECK_EQ_INT(htc_stream_get_box(s, 3, &type, &depth, &off, &len), 0);
        CHECK_EQ_INT(type, 0x69686472);
        CHECK_EQ_INT(depth, 1);
        CHECK_EQ_INT(htc_stream_get_box(s, 6, &type, &depth, &off, &len), 0);
        CHECK_EQ_INT(type, 0x6A703263);
        CHECK_EQ_INT(len, cs.n + 16);
        htc_stream_close(&s);
        /* A box longer than the file (not jp2c) is an error. */
        f.b[32] = 0x7F;
        CHECK(htc_stream_open_memory(&s, f.b, f.n, NULL) < 0);
        CHECK(s == NULL);
    }
}

static void test_errors(void)
{
    Buf b = {.n = 0};
    HtcStream *s = (HtcStream *)&b; /* must be reset to NULL */
    siz(&b, 0, 64, 64, 0, 0, 64, 64, 1, 7);
    b.b[40] = 0; /* Csiz = 0 */
    b.b[41] = 0;
    CHECK_EQ_INT(htc_stream_open_memory(&s, b.b, b.n, NULL), HTC_EMARKER);
    CHECK(s == NULL);
    CHECK(strstr(htc_last_error(), "SIZ at offset 2") != NULL);
    CHECK(strstr(htc_last_error(), "Csiz 0") != NULL);

    CHECK_EQ_INT(htc_stream_open_memory(&s, "abcd", 4, NULL), HTC_EFORMAT);
    CHECK_EQ_INT(htc_stream_open_memory(&s, NULL, 0, NULL), HTC_EFORMAT);
    CHECK_EQ_INT(htc_stream_open_memory(NULL, "abcd", 4, NULL), HTC_EINVAL);

    Buf g = precedence_stream();
    /* Every truncation of a valid stream fails cleanly or parses. */
    for (size_t n = 0; n < g.n; n++) {
        int rc = htc_stream_open_memory(&s, g.b, n, NULL);
        if (rc == 0) {
            HtcTilePartInfo tp;
            for (uint32_t i = 0; i < htc_stream_num_tile_parts(s); i++) {
                htc_stream_get_tile_part(s, i, &tp);
                CHECK(tp.data_offset + tp.data_length <= n);
            }
            htc_stream_close(&s);
        } else {
            CHECK(rc < 0 && s == NULL && htc_last_error()[0]);
        }
    }
    /* Strict refuses a cut-short last tile-part. */
    CHECK_EQ_INT(open_buf(&s, &(Buf){.n = 0}, 1), HTC_EFORMAT);

    /* Limits. */
    HtcStreamSettings st;
    htc_stream_default_settings(&st);
    st.limits.max_pixels = 100 * 50 - 1;
    CHECK_EQ_INT(htc_stream_open_memory(&s, g.b, g.n, &st), HTC_ELIMIT);
    htc_stream_default_settings(&st);
    st.limits.max_tiles = 1;
    CHECK_EQ_INT(htc_stream_open_memory(&s, g.b, g.n, &st), HTC_ELIMIT);
    htc_stream_default_settings(&st);
    st.limits.max_components = 1;
    CHECK_EQ_INT(htc_stream_open_memory(&s, g.b, g.n, &st), HTC_ELIMIT);
    htc_stream_default_settings(&st);
    st.limits.max_bytes = 10;
    CHECK_EQ_INT(htc_stream_open_memory(&s, g.b, g.n, &st), HTC_ELIMIT);
    htc_stream_default_settings(&st);
    st.limits.max_memory = 64;
    CHECK_EQ_INT(htc_stream_open_memory(&s, g.b, g.n, &st), HTC_ELIMIT);
    CHECK(s == NULL);

    /* Too few step sizes for the levels: a contradiction. */
    b.n = 0;
    siz(&b, 0, 64, 64, 0, 0, 64, 64, 1, 7);
    cod(&b, 0, 0, 1, 0, 3, 64, 64, 0, 1);
    qcx_none(&b, -1, 1, 8, 4);
    size_t t = sot(&b, 0, 0, 1);
    sod(&b, t, 1, 0);
    CHECK_EQ_INT(htc_stream_open_memory(&s, b.b, b.n, NULL), HTC_ECONTRADICT);
    b.n = 0;
    siz(&b, 0, 64, 64, 0, 0, 64, 64, 1, 7);
    cod(&b, 0, 0, 1, 0, 3, 64, 64, 0, 0);
    qcd_expounded(&b, 1, 9);
    t = sot(&b, 0, 0, 1);
    sod(&b, t, 1, 0);
    CHECK_EQ_INT(htc_stream_open_memory(&s, b.b, b.n, NULL), HTC_ECONTRADICT);
    CHECK(strstr(htc_last_error(), "9 step sizes") != NULL);
    b.n = 0; /* again with all 10 steps */
    siz(&b, 0, 64, 64, 0, 0, 64, 64, 1, 7);
    cod(&b, 0, 0, 1, 0, 3, 64, 64, 0, 0);
    qcd_expounded(&b, 1, 10);
    t = sot(&b, 0, 0, 1);
    sod(&b, t, 1, 0);
    CHECK_EQ_INT(htc_stream_open_memory(&s, b.b, b.n, NULL), 0);
    if (s) {
        HtcCodingInfo ci;
        htc_stream_get_coding(s, 0, 0, &ci);
        CHECK_EQ_INT(ci.quant_style, HTC_QUANT_EXPOUNDED);
        CHECK_EQ_INT(ci.num_steps, 10);
        CHECK_EQ_INT(ci.steps[9], (17u << 11) | 109);
        htc_stream_close(&s);
    }
    /* Tile index beyond the grid. */
    b.n = 0;
    siz(&b, 0, 64, 64, 0, 0, 64, 64, 1, 7);
    cod(&b, 0, 0, 1, 0, 1, 64, 64, 0, 1);
    qcx_none(&b, -1, 1, 8, 4);
    t = sot(&b, 1, 0, 1);
    sod(&b, t, 1, 0);
    CHECK_EQ_INT(htc_stream_open_memory(&s, b.b, b.n, NULL), HTC_EMARKER);
    CHECK(strstr(htc_last_error(), "SOT at offset") != NULL);
    /* Missing COD. */
    b.n = 0;
    siz(&b, 0, 64, 64, 0, 0, 64, 64, 1, 7);
    qcx_none(&b, -1, 1, 8, 4);
    t = sot(&b, 0, 0, 1);
    sod(&b, t, 1, 0);
    CHECK_EQ_INT(htc_stream_open_memory(&s, b.b, b.n, NULL), HTC_EMARKER);
    CHECK(strstr(htc_last_error(), "COD") != NULL);
    /* Repeated tile-part index. */
    b.n = 0;
    siz(&b, 0, 64, 64, 0, 0, 64, 64, 1, 7);
    cod(&b, 0, 0, 1, 0, 1, 64, 64, 0, 1);
    qcx_none(&b, -1, 1, 8, 4);
    t = sot(&b, 0, 0, 2);
    sod(&b, t, 1, 0);
    t = sot(&b, 0, 0, 2);
    sod(&b, t, 1, 0);
    CHECK_EQ_INT(htc_stream_open_memory(&s, b.b, b.n, NULL), HTC_ECONTRADICT);
}

/* An allocator that fails at the n-th call and counts what is live: every
 * failure point gives a clean error and frees everything. */
typedef struct FailAlloc {
    int calls, fail_at, live;
} FailAlloc;

static void *fa_alloc(void *opaque, size_t size, size_t align)
{
    FailAlloc *f = opaque;
    if (f->calls++ == f->fail_at)
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size ? size : 1) != 0)
        return NULL;
    f->live++;
    return p;
}

static void fa_free(void *opaque, void *ptr)
{
    FailAlloc *f = opaque;
    f->live--;
    free(ptr);
}

static void test_alloc_failures(void)
{
    Buf b = precedence_stream();
    int succeeded = 0;
    for (int k = 0; k < 200 && !succeeded; k++) {
        FailAlloc fa = {0, k, 0};
        HtcStreamSettings st;
        htc_stream_default_settings(&st);
        st.allocator.opaque = &fa;
        st.allocator.alloc = fa_alloc;
        st.allocator.free = fa_free;
        HtcStream *s = NULL;
        const int rc = htc_stream_open_memory(&s, b.b, b.n, &st);
        if (rc == 0) {
            succeeded = 1;
            CHECK(fa.calls <= k);
            htc_stream_close(&s);
        } else {
            CHECK_EQ_INT(rc, HTC_ENOMEM);
            CHECK(s == NULL);
        }
        CHECK_EQ_INT(fa.live, 0);
    }
    CHECK(succeeded);
}

int main(void)
{
    test_derived();
    test_precedence();
    test_pointer_markers();
    test_ppm();
    test_z_order();
    test_cap();
    test_jp2();
    test_errors();
    test_alloc_failures();
    return test_summary("test_parser");
}
