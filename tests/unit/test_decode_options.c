/* The decode pipeline against public encoders over their options: images
 * generated at test time (never committed) in a temporary folder, encoded
 * losslessly with opj_compress (Part 1) and ojph_compress (HTJ2K) over
 * decomposition levels, code-block sizes, progression orders, POC, tiles,
 * tile-parts, precincts, layers, SOP/EPH, code-block styles and image/tile
 * origins; each decode must equal the source exactly. Also checks reduce
 * (against opj_decompress -r), region and tile decodes (against crops of
 * the full decode), the layer limit and a caller's buffer.
 * Exit 77 when neither encoder is installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htc/htc.h"
#include "test.h"

static char dir[256];

static int have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

/* Writes a w x h image of nc components (1 or 3), 8 or 16 bits, with
 * smooth areas, edges and noise; returns the samples (planar, uint16). */
static uint16_t *make_image(const char *path, uint32_t w, uint32_t h, uint32_t nc, uint32_t bits,
                            uint32_t seed)
{
    uint16_t *s = malloc(sizeof(uint16_t) * w * h * nc);
    const uint32_t maxv = (1u << bits) - 1;
    srand(seed);
    for (uint32_t c = 0; c < nc; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                uint32_t v;
                if (((x / 13) + (y / 7) + c) % 3 == 0)
                    v = (uint32_t)rand() & maxv;
                else
                    v = ((x * 5 + y * 3 + c * 40) << (bits - 8)) & maxv;
                s[((size_t)c * h + y) * w + x] = (uint16_t)v;
            }
    FILE *f = fopen(path, "wb");
    fprintf(f, "P%c\n%u %u\n%u\n", nc == 3 ? '6' : '5', w, h, maxv);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < nc; c++) {
                const uint16_t v = s[((size_t)c * h + y) * w + x];
                if (bits > 8)
                    fputc(v >> 8, f);
                fputc(v & 0xFF, f);
            }
    fclose(f);
    return s;
}

/* An 8-bit binary PGM (comments allowed), as opj_decompress writes it. */
static uint8_t *read_pgm8(const char *path, unsigned *w, unsigned *h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned v[3];
    int n = 0, c = fgetc(f);
    if (c != 'P' || fgetc(f) != '5') {
        fclose(f);
        return NULL;
    }
    while (n < 3) {
        c = fgetc(f);
        if (c == '#') {
            while (c != '\n' && c != EOF)
                c = fgetc(f);
        } else if (c >= '0' && c <= '9') {
            unsigned x = 0;
            while (c >= '0' && c <= '9') {
                x = x * 10 + (unsigned)(c - '0');
                c = fgetc(f);
            }
            v[n++] = x;
        } else if (c == EOF) {
            fclose(f);
            return NULL;
        }
    }
    *w = v[0];
    *h = v[1];
    uint8_t *d = v[2] == 255 ? malloc((size_t)v[0] * v[1]) : NULL;
    if (d && fread(d, 1, (size_t)v[0] * v[1], f) != (size_t)v[0] * v[1]) {
        free(d);
        d = NULL;
    }
    fclose(f);
    return d;
}

static int decode(const char *path, const HtcDecodeParams *p, HtcPicture *pic)
{
    HtcStream *s = NULL;
    int rc = htc_stream_open_file(&s, path, NULL);
    if (rc < 0)
        return rc;
    HtcDecoder *d = NULL;
    htc_decoder_open(&d, NULL);
    rc = htc_decode(d, s, p, pic);
    htc_decoder_close(&d);
    htc_stream_close(&s);
    return rc;
}

static uint32_t sample(const HtcPicture *pic, uint32_t c, uint32_t x, uint32_t y)
{
    const HtcPlane *pl = &pic->planes[c];
    const uint8_t *row = (const uint8_t *)pl->data + (size_t)y * pl->row_stride;
    const size_t i = (size_t)x * pl->pixel_stride;
    return htc_sample_size(pic->sample_type) == 1 ? row[i] : ((const uint16_t *)row)[i];
}

/* Decodes path with defaults and compares with src (planar). */
static int check_lossless(const char *what, const char *path, const uint16_t *src, uint32_t w,
                          uint32_t h, uint32_t nc)
{
    HtcDecodeParams p;
    htc_decode_default_params(&p);
    HtcPicture pic;
    memset(&pic, 0, sizeof(pic));
    const int rc = decode(path, &p, &pic);
    if (rc < 0) {
        printf("FAIL %s: %s (%s)\n", what, htc_strerror(rc), htc_last_error());
        CHECK_EQ_INT(rc, 0);
        return 0;
    }
    long bad = 0;
    if (pic.num_planes != nc || pic.width != w || pic.height != h)
        bad = -1;
    for (uint32_t c = 0; c < nc && bad >= 0; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                bad += sample(&pic, c, x, y) != src[((size_t)c * h + y) * w + x];
    printf("%s %s\n", bad ? "FAIL" : "PASS", what);
    if (bad)
        printf("  %ld samples differ\n", bad);
    CHECK_EQ_INT(bad, 0);
    htc_picture_release(&pic);
    return bad == 0;
}

typedef struct Case {
    const char *tool;          /* "opj" or "ojph" */
    uint32_t w, h, nc, bits;
    const char *args;
} Case;

static const Case cases[] = {
    { "opj", 67, 45, 1, 8, "-n 1" },
    { "opj", 67, 45, 1, 8, "-n 6" },
    { "opj", 67, 45, 3, 8, "-n 4 -mct 1" },
    { "opj", 64, 64, 3, 8, "-n 3 -mct 0" },
    { "opj", 130, 75, 1, 16, "-n 5" },
    { "opj", 100, 80, 1, 8, "-b 16,16" },
    { "opj", 100, 80, 1, 8, "-b 4,64" },
    { "opj", 100, 80, 1, 8, "-b 32,8 -p RLCP" },
    { "opj", 100, 80, 3, 8, "-p RPCL -c [32,32],[16,16]" },
    { "opj", 100, 80, 3, 8, "-p PCRL -c [64,32],[32,16],[16,16]" },
    { "opj", 100, 80, 3, 8, "-p CPRL -c [16,16] -b 16,16 -n 4" },
    { "opj", 100, 80, 1, 8, "-p LRCP -c [16,16] -b 8,8 -r 8,4,1 -n 4" },
    { "opj", 100, 80, 3, 8, "-p RLCP -r 10,5,2,1 -SOP -EPH" },
    { "opj", 100, 80, 1, 8, "-t 32,32" },
    { "opj", 100, 80, 3, 8, "-t 40,24 -p RPCL -c [32,32] -TP R -n 3" },
    { "opj", 100, 80, 1, 8, "-t 33,17 -d 7,3 -T 5,1 -n 3" },
    { "opj", 100, 80, 1, 8, "-d 1,1 -n 5" },
    { "opj", 100, 80, 1, 8, "-M 1" },
    { "opj", 100, 80, 1, 8, "-M 4 -r 4,2,1" },
    { "opj", 100, 80, 1, 8, "-M 1 -r 20,5,1" },
    { "opj", 100, 80, 1, 8, "-M 63 -r 6,3,1" },
    { "opj", 100, 80, 1, 8, "-M 2 -M 8 -M 16 -M 32" },
    { "opj", 100, 80, 3, 8, "-POC T0=0,0,2,3,1,RPCL/T0=0,0,6,3,1,LRCP -n 5" },
    { "opj", 100, 80, 3, 8, "-r 4,2,1 -POC T0=0,0,3,3,2,CPRL/T0=0,0,6,3,3,LRCP -n 5" },
    { "ojph", 67, 45, 1, 8, "-num_decomps 0" },
    { "ojph", 67, 45, 1, 8, "-num_decomps 5" },
    { "ojph", 130, 75, 1, 16, "-num_decomps 5" },
    { "ojph", 100, 80, 3, 8, "-colour_trans true" },
    { "ojph", 100, 80, 3, 8, "-colour_trans false -prog_order RPCL" },
    { "ojph", 100, 80, 1, 8, "-block_size {16,16}" },
    { "ojph", 100, 80, 1, 8, "-block_size {4,128}" },
    { "ojph", 100, 80, 3, 8, "-prog_order PCRL -precincts {32,32},{16,16}" },
    { "ojph", 100, 80, 3, 8, "-prog_order CPRL -precincts {16,16} -block_size {16,16}" },
    { "ojph", 100, 80, 1, 8, "-prog_order RLCP -tile_size {33,17}" },
    { "ojph", 100, 80, 3, 8, "-prog_order RPCL -tile_size {40,24} -num_decomps 3" },
    { "ojph", 100, 80, 1, 8, "-image_offset {7,3} -tile_offset {5,1} -tile_size {32,32}" },
    { "ojph", 100, 80, 3, 8, "-tile_size {32,32} -prog_order CPRL -num_decomps 4" },
};

int main(void)
{
    const int opj = have("opj_compress"), ojph = have("ojph_compress");
    if (!opj && !ojph) {
        printf("test_decode_options: neither opj_compress nor ojph_compress installed; skipped\n");
        return 77;
    }
    snprintf(dir, sizeof(dir), "/tmp/htc_opts_XXXXXX");
    if (!mkdtemp(dir)) {
        printf("cannot make a temporary folder\n");
        return 1;
    }
    char cmd[1024], img[300], cs[300];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const Case *k = &cases[i];
        const int is_opj = strcmp(k->tool, "opj") == 0;
        if ((is_opj && !opj) || (!is_opj && !ojph))
            continue;
        snprintf(img, sizeof(img), "%s/img%zu.%s", dir, i, k->nc == 3 ? "ppm" : "pgm");
        snprintf(cs, sizeof(cs), "%s/img%zu.%s", dir, i, is_opj ? "j2k" : "j2c");
        uint16_t *src = make_image(img, k->w, k->h, k->nc, k->bits, (uint32_t)i + 1);
        if (is_opj)
            snprintf(cmd, sizeof(cmd), "opj_compress -i %s -o %s %s >/dev/null 2>&1", img, cs, k->args);
        else
            snprintf(cmd, sizeof(cmd), "ojph_compress -i %s -o %s -reversible true %s >/dev/null 2>&1",
                     img, cs, k->args);
        if (system(cmd) != 0) {
            printf("SKIP %s %s: the encoder refused\n", k->tool, k->args);
            free(src);
            continue;
        }
        char what[400];
        snprintf(what, sizeof(what), "%s %ux%ux%u %u-bit %s", k->tool, k->w, k->h, k->nc, k->bits, k->args);
        check_lossless(what, cs, src, k->w, k->h, k->nc);
        free(src);
    }

    /* reduce, region, tile, layers, caller's buffer on one multi-tile stream. */
    if (opj && have("opj_decompress")) {
        snprintf(img, sizeof(img), "%s/r.pgm", dir);
        snprintf(cs, sizeof(cs), "%s/r.j2k", dir);
        uint16_t *src = make_image(img, 150, 99, 1, 8, 77);
        snprintf(cmd, sizeof(cmd), "opj_compress -i %s -o %s -n 4 -t 64,48 -d 3,5 -r 6,3,1 >/dev/null 2>&1", img, cs);
        CHECK(system(cmd) == 0);
        HtcDecodeParams p;
        HtcPicture full, pic;
        htc_decode_default_params(&p);
        memset(&full, 0, sizeof(full));
        CHECK_EQ_INT(decode(cs, &p, &full), 0);
        for (uint32_t red = 1; red <= 3; red++) {
            char out[300];
            snprintf(out, sizeof(out), "%s/r%u.pgm", dir, red);
            snprintf(cmd, sizeof(cmd), "opj_decompress -i %s -o %s -r %u >/dev/null 2>&1", cs, out, red);
            if (system(cmd) != 0)
                continue;
            unsigned w = 0, h = 0;
            uint8_t *ref = read_pgm8(out, &w, &h);
            CHECK(ref != NULL);
            if (!ref)
                continue;
            htc_decode_default_params(&p);
            p.reduce = red;
            memset(&pic, 0, sizeof(pic));
            CHECK_EQ_INT(decode(cs, &p, &pic), 0);
            CHECK_EQ_INT(pic.width, w);
            CHECK_EQ_INT(pic.height, h);
            long bad = 0;
            for (uint32_t y = 0; y < h && pic.buffer; y++)
                for (uint32_t x = 0; x < w; x++)
                    bad += ref[(size_t)y * w + x] != sample(&pic, 0, x, y);
            printf("%s reduce %u against opj_decompress -r %u\n", bad ? "FAIL" : "PASS", red, red);
            CHECK_EQ_INT(bad, 0);
            free(ref);
            htc_picture_release(&pic);
        }
        /* a region: the crop of the full decode */
        htc_decode_default_params(&p);
        p.use_region = 1;
        p.region_x0 = 30;
        p.region_y0 = 20;
        p.region_x1 = 101;
        p.region_y1 = 77;
        memset(&pic, 0, sizeof(pic));
        CHECK_EQ_INT(decode(cs, &p, &pic), 0);
        CHECK_EQ_INT(pic.width, 71);
        CHECK_EQ_INT(pic.height, 57);
        long bad = 0;
        for (uint32_t y = 0; y < pic.height && pic.buffer; y++)
            for (uint32_t x = 0; x < pic.width; x++)
                bad += sample(&pic, 0, x, y) != sample(&full, 0, x + 30, y + 20);
        printf("%s region 30,20,101,77\n", bad ? "FAIL" : "PASS");
        CHECK_EQ_INT(bad, 0);
        htc_picture_release(&pic);
        /* tile 4 (second row, second column): image origin (3,5), tiles 64x48 from (0,0) */
        htc_decode_default_params(&p);
        p.tile = 4;
        memset(&pic, 0, sizeof(pic));
        CHECK_EQ_INT(decode(cs, &p, &pic), 0);
        CHECK_EQ_INT(pic.width, 64);
        CHECK_EQ_INT(pic.height, 48);
        bad = 0;
        for (uint32_t y = 0; y < pic.height && pic.buffer; y++)
            for (uint32_t x = 0; x < pic.width; x++)
                bad += sample(&pic, 0, x, y) != sample(&full, 0, x + 64 - 3, y + 48 - 5);
        printf("%s tile 4\n", bad ? "FAIL" : "PASS");
        CHECK_EQ_INT(bad, 0);
        htc_picture_release(&pic);
        /* full decode equals the source; caller's buffer, 16-bit, interleaved */
        bad = 0;
        for (uint32_t y = 0; y < 99; y++)
            for (uint32_t x = 0; x < 150; x++)
                bad += sample(&full, 0, x, y) != src[y * 150 + x];
        CHECK_EQ_INT(bad, 0);
        htc_decode_default_params(&p);
        p.sample_type = HTC_SAMPLE_U16;
        p.layout = HTC_LAYOUT_INTERLEAVED;
        uint16_t *mine = calloc(150 * 99, 2);
        memset(&pic, 0, sizeof(pic));
        pic.buffer = mine;
        pic.buffer_size = 150 * 99 * 2;
        CHECK_EQ_INT(decode(cs, &p, &pic), 0);
        CHECK(pic.buffer == mine);
        bad = 0;
        for (uint32_t i = 0; i < 150 * 99; i++)
            bad += mine[i] != src[i];
        CHECK_EQ_INT(bad, 0);
        htc_picture_release(&pic);
        free(mine);
        /* too small a caller's buffer */
        uint8_t small[16];
        memset(&pic, 0, sizeof(pic));
        pic.buffer = small;
        pic.buffer_size = sizeof(small);
        htc_decode_default_params(&p);
        CHECK_EQ_INT(decode(cs, &p, &pic), HTC_EINVAL);
        /* layers: 1 of 3 is lossy, so it differs from the source but not everywhere */
        htc_decode_default_params(&p);
        p.layers = 1;
        memset(&pic, 0, sizeof(pic));
        CHECK_EQ_INT(decode(cs, &p, &pic), 0);
        bad = 0;
        for (uint32_t y = 0; y < 99 && pic.buffer; y++)
            for (uint32_t x = 0; x < 150; x++)
                bad += sample(&pic, 0, x, y) != src[y * 150 + x];
        printf("layers 1: %ld of %d samples differ from the source\n", bad, 150 * 99);
        CHECK(bad > 0 && bad < 150 * 99);
        htc_picture_release(&pic);
        /* bad parameters */
        htc_decode_default_params(&p);
        p.tile = 1000;
        CHECK_EQ_INT(decode(cs, &p, &pic), HTC_ERANGE);
        htc_decode_default_params(&p);
        p.reduce = 5;
        CHECK_EQ_INT(decode(cs, &p, &pic), HTC_ERANGE);
        htc_decode_default_params(&p);
        p.use_region = 1;
        p.region_x0 = 200;
        p.region_x1 = 300;
        p.region_y1 = 10;
        CHECK_EQ_INT(decode(cs, &p, &pic), HTC_ERANGE);
        /* a batch: the stream from memory, garbage, and the stream with a region */
        FILE *f = fopen(cs, "rb");
        static uint8_t bytes[1 << 20];
        const size_t nb = f ? fread(bytes, 1, sizeof(bytes), f) : 0;
        if (f)
            fclose(f);
        static const uint8_t junk[40] = { 0xFF, 0x4F, 0xFF, 0x51, 0, 2 };
        HtcDecodeParams rp;
        htc_decode_default_params(&rp);
        rp.use_region = 1;
        rp.region_x0 = 10;
        rp.region_y0 = 10;
        rp.region_x1 = 20;
        rp.region_y1 = 30;
        HtcBatchItem items[3];
        memset(items, 0, sizeof(items));
        items[0].data = bytes;
        items[0].size = nb;
        items[1].data = junk;
        items[1].size = sizeof(junk);
        items[2].data = bytes;
        items[2].size = nb;
        items[2].params = &rp;
        HtcDecoder *d = NULL;
        CHECK_EQ_INT(htc_decoder_open(&d, NULL), 0);
        CHECK_EQ_INT(htc_decode_batch(d, items, 3), 0);
        CHECK_EQ_INT(items[0].status, 0);
        CHECK(items[1].status < 0 && items[1].message[0] != 0);
        CHECK_EQ_INT(items[2].status, 0);
        CHECK_EQ_INT(items[2].picture.width, 10);
        CHECK_EQ_INT(items[2].picture.height, 20);
        bad = 0;
        for (uint32_t y = 0; y < 99 && items[0].picture.buffer; y++)
            for (uint32_t x = 0; x < 150; x++)
                bad += sample(&items[0].picture, 0, x, y) != src[y * 150 + x];
        for (uint32_t y = 0; y < 20 && items[2].picture.buffer; y++)
            for (uint32_t x = 0; x < 10; x++)
                bad += sample(&items[2].picture, 0, x, y) != src[(y + 10) * 150 + x + 10];
        CHECK_EQ_INT(bad, 0);
        for (int i = 0; i < 3; i++)
            htc_picture_release(&items[i].picture);
        htc_decoder_close(&d);
        CHECK(d == NULL);
        htc_picture_release(&full);
        free(src);
    }
    /* Regions of one big tile, 5/3 and 9/7, full and reduced: the region
     * decode (which skips code-blocks) equals the crop of the full decode. */
    for (int irr = 0; opj && irr < 2; irr++) {
        snprintf(img, sizeof(img), "%s/big.ppm", dir);
        snprintf(cs, sizeof(cs), "%s/big%d.j2k", dir, irr);
        uint16_t *src = make_image(img, 300, 220, 3, 8, 99);
        snprintf(cmd, sizeof(cmd), "opj_compress -i %s -o %s -n 5 -b 16,16 %s >/dev/null 2>&1", img, cs,
                 irr ? "-I -r 10" : "");
        CHECK(system(cmd) == 0);
        for (uint32_t red = 0; red < 2; red++) {
            HtcDecodeParams p;
            htc_decode_default_params(&p);
            p.reduce = red;
            HtcPicture full;
            memset(&full, 0, sizeof(full));
            CHECK_EQ_INT(decode(cs, &p, &full), 0);
            long bad = 0;
            srand(11);
            for (int k = 0; k < 8 && full.buffer; k++) {
                const uint32_t x0 = (uint32_t)rand() % 300, y0 = (uint32_t)rand() % 220;
                const uint32_t x1 = x0 + 1 + (uint32_t)rand() % (300 - x0), y1 = y0 + 1 + (uint32_t)rand() % (220 - y0);
                HtcDecodeParams q = p;
                q.use_region = 1;
                q.region_x0 = x0;
                q.region_y0 = y0;
                q.region_x1 = x1;
                q.region_y1 = y1;
                HtcPicture pic;
                memset(&pic, 0, sizeof(pic));
                CHECK_EQ_INT(decode(cs, &q, &pic), 0);
                const uint32_t ox = (x0 + (1u << red) - 1) >> red, oy = (y0 + (1u << red) - 1) >> red;
                for (uint32_t c = 0; c < 3 && pic.buffer; c++)
                    for (uint32_t y = 0; y < pic.planes[c].height; y++)
                        for (uint32_t x = 0; x < pic.planes[c].width; x++)
                            bad += sample(&pic, c, x, y) != sample(&full, c, x + ox, y + oy);
                htc_picture_release(&pic);
            }
            printf("%s regions of one tile, %s, reduce %u\n", bad ? "FAIL" : "PASS", irr ? "9/7" : "5/3", red);
            CHECK_EQ_INT(bad, 0);
            htc_picture_release(&full);
        }
        free(src);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
    return test_summary("test_decode_options");
}
