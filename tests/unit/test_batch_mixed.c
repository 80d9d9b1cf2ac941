/* 500 mixed items in two submitted batches on several threads:
 * small corpus files (HTJ2K and Part 1, 1 to 16 bits, 1 or 3 components,
 * tiled or not) and images encoded at test time with ojph_compress and
 * opj_compress (sizes 1x1 .. 320x200, 8, 12 and 16 bits, 5/3 and 9/7),
 * some with a region or a reduce level, and a tenth of them damaged.
 *
 * What each item must give (the batch's status against a single decode
 * of the same bytes and parameters on a one-thread decoder):
 *   - good items: status 0, message "", samples identical to the single
 *     decode (which itself is checked against references elsewhere);
 *   - garbage (random bytes, no SOC or JP2 signature) and streams cut
 *     inside the main header (before the first SOT): a negative HTC_E*
 *     status with a message;
 *   - streams cut inside the tile data, or with bytes flipped anywhere:
 *     the same status as the single decode; an error has a message; a
 *     success (damage that the decoder tolerates: a missing tile left as
 *     zero, a flipped bit in entropy-coded data, a marker segment it does
 *     not use) gives samples identical to the single decode, so the batch
 *     is deterministic and one item's damage never touches another's.
 * No crash, no leak: this runs under ASan too (smaller corpus share under
 * HTC_SANITIZED=1). Exit 77 without the corpus and the encoders. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "htc/htc.h"
#include "test.h"
#include "read_file.h"

#define NUM_ITEMS 500
#define MAX_SOURCES 128

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static uint32_t rnd_below(uint32_t n) { return n ? rnd() % n : 0; }

typedef struct Source {
    char name[300];
    uint8_t *data;
    size_t size;
    size_t main_header_end;    /* offset of the first SOT in data */
    uint32_t width, height, levels;
    int is_ht;
} Source;

static Source sources[MAX_SOURCES];
static uint32_t num_sources;

/* Adds a file as a source when it decodes whole on its own. */
static void add_source(const char *path, HtcDecoder *d)
{
    if (num_sources >= MAX_SOURCES)
        return;
    Source *src = &sources[num_sources];
    src->data = htc_test_read_file(path, &src->size);
    if (!src->data)
        return;
    HtcStream *s = NULL;
    int ok = htc_stream_open_memory(&s, src->data, src->size, NULL) >= 0;
    HtcImageInfo info;
    HtcTilePartInfo tp;
    const uint8_t *cs;
    size_t cs_size;
    ok = ok && htc_stream_get_info(s, &info) >= 0 && htc_stream_get_tile_part(s, 0, &tp) >= 0 &&
         htc_stream_get_codestream(s, &cs, &cs_size) >= 0 && info.num_components <= 4 &&
         (uint64_t)info.width * info.height <= 600000;
    if (ok) {
        HtcPicture pic;
        memset(&pic, 0, sizeof(pic));
        ok = htc_decode(d, s, NULL, &pic) >= 0;
        htc_picture_release(&pic);
    }
    if (ok) {
        HtcCodingInfo ci;
        src->levels = htc_stream_get_coding(s, HTC_TILE_MAIN, 0, &ci) >= 0 ? ci.levels : 0;
        src->is_ht = info.is_ht;
        src->width = info.width;
        src->height = info.height;
        src->main_header_end = (size_t)(cs - src->data) + tp.sot_offset;
        snprintf(src->name, sizeof(src->name), "%s", path);
        num_sources++;
    } else {
        free(src->data);
        src->data = NULL;
    }
    htc_stream_close(&s);
}

static void walk(const char *dir, HtcDecoder *d, size_t max_bytes, uint32_t every)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    char *names[512];
    uint32_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) && n < 512)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(dp);
    for (uint32_t i = 0; i < n; i++) /* sorted, so the choice repeats */
        for (uint32_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (uint32_t i = 0; i < n; i++) {
        char path[600];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        const char *ext = strrchr(names[i], '.');
        struct stat st;
        if (stat(path, &st) == 0 && ext && (size_t)st.st_size <= max_bytes && i % every == 0 &&
            (!strcmp(ext, ".j2k") || !strcmp(ext, ".j2c") || !strcmp(ext, ".jph") || !strcmp(ext, ".jp2")))
            add_source(path, d);
        free(names[i]);
    }
}

/* A PGM/PPM test image: gradients, edges and noise. */
static void write_pnm(const char *path, uint32_t w, uint32_t h, uint32_t nc, uint32_t bits)
{
    FILE *f = fopen(path, "wb");
    const uint32_t maxv = (1u << bits) - 1;
    fprintf(f, "P%c\n%u %u\n%u\n", nc == 3 ? '6' : '5', w, h, maxv);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t c = 0; c < nc; c++) {
                uint32_t v = ((x + y / 3) / 9 + c) % 4 == 0 ? rnd() : (x * 7 + y * 5 + c * 50) << (bits > 8 ? bits - 8 : 0);
                v &= maxv;
                if (bits > 8)
                    fputc((int)(v >> 8), f);
                fputc((int)(v & 0xFF), f);
            }
    fclose(f);
}

static void encode_sources(const char *tmp, HtcDecoder *d)
{
    static const struct {
        uint32_t w, h, nc, bits;
        const char *tool, *args;
    } enc[] = {
        { 1, 1, 1, 8, "ojph", "-num_decomps 0" },
        { 33, 17, 1, 8, "ojph", "-num_decomps 3 -block_size {16,16}" },
        { 320, 200, 1, 16, "ojph", "-num_decomps 5" },
        { 200, 150, 3, 8, "ojph", "-num_decomps 4 -tile_size {64,64}" },
        { 257, 129, 1, 12, "ojph", "-num_decomps 2 -reversible false -qstep 0.01" },
        { 128, 128, 3, 8, "ojph", "-num_decomps 5 -reversible false -qstep 0.005 -prog_order LRCP" },
        { 1, 77, 1, 16, "opj", "-n 1" },
        { 64, 64, 1, 8, "opj", "-n 4 -b 16,16" },
        { 300, 180, 1, 12, "opj", "-n 5 -t 100,100 -p RLCP" },
        { 160, 120, 3, 8, "opj", "-n 3 -I -r 20,5,1" },
        { 240, 100, 1, 16, "opj", "-n 6 -r 40,10,1 -p PCRL" },
        { 99, 101, 3, 12, "opj", "-n 2 -t 50,40 -SOP -EPH" },
    };
    for (uint32_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
        char in[400], out[400], cmd[1200];
        snprintf(in, sizeof(in), "%s/e%u.%s", tmp, i, enc[i].nc == 3 ? "ppm" : "pgm");
        snprintf(out, sizeof(out), "%s/e%u.%s", tmp, i, enc[i].tool[1] == 'j' ? "j2c" : "j2k");
        write_pnm(in, enc[i].w, enc[i].h, enc[i].nc, enc[i].bits);
        if (enc[i].tool[1] == 'j')
            snprintf(cmd, sizeof(cmd), "ojph_compress -i %s -o %s %s >/dev/null 2>&1", in, out, enc[i].args);
        else
            snprintf(cmd, sizeof(cmd), "opj_compress -i %s -o %s %s >/dev/null 2>&1", in, out, enc[i].args);
        if (system(cmd) == 0)
            add_source(out, d);
        else
            fprintf(stderr, "encoder failed: %s\n", cmd);
    }
}

enum Damage { DAMAGE_NONE, DAMAGE_GARBAGE, DAMAGE_CUT_HEADER, DAMAGE_CUT_DATA, DAMAGE_FLIP };

typedef struct Case {
    const Source *src;
    enum Damage damage;
    uint8_t *bytes;            /* the item's own copy */
    size_t size;
    HtcDecodeParams params;
    HtcPicture single;
    int single_status;
} Case;

static int same_samples(const HtcPicture *a, const HtcPicture *b)
{
    if (a->num_planes != b->num_planes || a->sample_type != b->sample_type)
        return 0;
    const size_t bps = htc_sample_size(a->sample_type);
    for (uint32_t c = 0; c < a->num_planes; c++) {
        const HtcPlane *p = &a->planes[c], *q = &b->planes[c];
        if (p->width != q->width || p->height != q->height)
            return 0;
        for (uint32_t y = 0; y < p->height; y++)
            if (memcmp((const uint8_t *)p->data + (size_t)y * p->row_stride,
                       (const uint8_t *)q->data + (size_t)y * q->row_stride, (size_t)p->width * bps))
                return 0;
    }
    return 1;
}

static void make_case(Case *k, uint32_t i)
{
    k->src = &sources[rnd_below(num_sources)];
    htc_decode_default_params(&k->params);
    const uint32_t kind = rnd_below(20);
    if (kind == 0 && k->src->width > 1 && k->src->height > 1) {
        k->params.use_region = 1;
        k->params.region_x0 = rnd_below(k->src->width / 2);
        k->params.region_y0 = rnd_below(k->src->height / 2);
        k->params.region_x1 = k->params.region_x0 + 1 + rnd_below(k->src->width - k->params.region_x0);
        k->params.region_y1 = k->params.region_y0 + 1 + rnd_below(k->src->height - k->params.region_y0);
    } else if (kind == 1 && k->src->levels) {
        k->params.reduce = 1 + rnd_below(k->src->levels);
    }
    /* a tenth damaged, spread over the batch */
    k->damage = i % 10 != 7 ? DAMAGE_NONE : (enum Damage)(1 + rnd_below(4));
    const size_t n = k->src->size;
    switch (k->damage) {
    case DAMAGE_NONE:
    case DAMAGE_FLIP:
        k->size = n;
        break;
    case DAMAGE_GARBAGE:
        k->size = 1 + rnd_below(4096);
        break;
    case DAMAGE_CUT_HEADER:
        k->size = rnd_below((uint32_t)k->src->main_header_end);
        break;
    case DAMAGE_CUT_DATA:
        k->size = k->src->main_header_end + 1 + rnd_below((uint32_t)(n - k->src->main_header_end - 1));
        break;
    }
    k->bytes = malloc(k->size ? k->size : 1);
    if (k->damage == DAMAGE_GARBAGE) {
        for (size_t j = 0; j < k->size; j++)
            k->bytes[j] = (uint8_t)rnd();
        k->bytes[0] = 0x00; /* neither SOC (FF 4F) nor a JP2 signature box */
    } else {
        memcpy(k->bytes, k->src->data, k->size);
    }
    if (k->damage == DAMAGE_FLIP) {
        const uint32_t flips = 1 + rnd_below(8);
        for (uint32_t j = 0; j < flips; j++)
            k->bytes[rnd_below((uint32_t)k->size)] ^= (uint8_t)(1u << rnd_below(8));
    }
}

int main(void)
{
    struct stat st;
    const int have_ojph = system("command -v ojph_compress >/dev/null 2>&1") == 0;
    const int have_opj = system("command -v opj_compress >/dev/null 2>&1") == 0;
    if (stat(TESTDATA "/htj2k", &st) != 0 || !have_ojph || !have_opj) {
        printf("test_batch_mixed: needs %s, ojph_compress and opj_compress; skipped\n", TESTDATA);
        return 77;
    }
    const int sanitized = getenv("HTC_SANITIZED") != NULL;
    char tmp[] = "/tmp/htc_batch_XXXXXX";
    if (!mkdtemp(tmp)) {
        printf("test_batch_mixed: no temporary folder\n");
        return 1;
    }
    HtcDecoderSettings ds;
    htc_decoder_default_settings(&ds);
    ds.threads = 1;
    HtcDecoder *one = NULL;
    CHECK_EQ_INT(htc_decoder_open(&one, &ds), 0);
    if (!one)
        return test_summary("test_batch_mixed");

    const size_t max_bytes = sanitized ? 96u << 10 : 160u << 10;
    const uint32_t every = sanitized ? 2 : 1;
    encode_sources(tmp, one);
    walk(TESTDATA "/htj2k/conformance", one, max_bytes, every);
    walk(TESTDATA "/htj2k/openjph", one, max_bytes, every);
    walk(TESTDATA "/j2k/conformance", one, max_bytes, every);
    walk(TESTDATA "/j2k/jp2_conformance", one, max_bytes, every);
    walk(TESTDATA "/j2k/nonregression", one, max_bytes, 2 * every);
    uint32_t num_ht = 0;
    for (uint32_t i = 0; i < num_sources; i++)
        num_ht += sources[i].is_ht != 0;
    printf("test_batch_mixed: %u sources, %u HTJ2K, %u Part 1\n", num_sources, num_ht, num_sources - num_ht);
    CHECK(num_sources >= 20);
    CHECK(num_ht >= 5 && num_sources - num_ht >= 5);

    static Case cases[NUM_ITEMS];
    static HtcBatchItem items[NUM_ITEMS];
    uint32_t counts[5] = { 0 };
    for (uint32_t i = 0; i < NUM_ITEMS && num_sources; i++) {
        Case *k = &cases[i];
        make_case(k, i);
        counts[k->damage]++;
        /* the single decode of the same bytes, for comparison */
        HtcStream *s = NULL;
        memset(&k->single, 0, sizeof(k->single));
        k->single_status = htc_stream_open_memory(&s, k->bytes, k->size, NULL);
        if (k->single_status >= 0)
            k->single_status = htc_decode(one, s, &k->params, &k->single);
        if (k->single_status > 0)
            k->single_status = 0;
        htc_stream_close(&s);
        memset(&items[i], 0, sizeof(items[i]));
        items[i].data = k->bytes;
        items[i].size = k->size;
        items[i].params = &k->params;
        items[i].status = 12345;
    }
    printf("test_batch_mixed: %u good, %u garbage, %u cut in the main header, %u cut in tile data, "
           "%u with flipped bytes\n", counts[0], counts[1], counts[2], counts[3], counts[4]);

    ds.threads = 4;
    HtcDecoder *many = NULL;
    CHECK_EQ_INT(htc_decoder_open(&many, &ds), 0);
    /* as two submitted batches (a CPU decoder decodes each within its
     * submit; the GPU's streams of batches are tested in test_gpu) */
    uint64_t t1 = 0, t2 = 0;
    CHECK_EQ_INT(htc_decode_batch_submit(many, items, NUM_ITEMS / 2, &t1), 0);
    CHECK_EQ_INT(htc_decode_batch_submit(many, items + NUM_ITEMS / 2, NUM_ITEMS - NUM_ITEMS / 2, &t2), 0);
    CHECK(t1 > 0 && t2 == t1 + 1);
    CHECK_EQ_INT(htc_decode_batch_wait(many, t2), 0);
    CHECK_EQ_INT(htc_decode_batch_wait(NULL, t2), HTC_EINVAL);
    CHECK_EQ_INT(htc_decode_batch_submit(many, NULL, 1, NULL), HTC_EINVAL);

    uint32_t tolerated = 0, failed_damaged = 0;
    for (uint32_t i = 0; i < NUM_ITEMS && num_sources; i++) {
        const Case *k = &cases[i];
        const HtcBatchItem *it = &items[i];
        int ok = 1;
        switch (k->damage) {
        case DAMAGE_NONE:
            ok = it->status == 0 && k->single_status == 0 && it->message[0] == 0 &&
                 same_samples(&it->picture, &k->single);
            break;
        case DAMAGE_GARBAGE:
        case DAMAGE_CUT_HEADER:
            ok = it->status < 0 && it->status > -1000 && it->message[0] != 0;
            break;
        default:
            ok = it->status == k->single_status &&
                 (it->status < 0 ? it->message[0] != 0 : same_samples(&it->picture, &k->single));
            break;
        }
        if (k->damage != DAMAGE_NONE) {
            if (it->status < 0)
                failed_damaged++;
            else
                tolerated++;
        }
        if (!ok)
            fprintf(stderr, "item %u (%s, damage %d, %zu bytes): batch status %d \"%s\", single status %d\n", i,
                    k->src->name, (int)k->damage, k->size, it->status, it->message, k->single_status);
        CHECK(ok);
    }
    printf("test_batch_mixed: damaged items: %u failed with a message, %u decoded as a single decode does\n",
           failed_damaged, tolerated);

    for (uint32_t i = 0; i < NUM_ITEMS; i++) {
        htc_picture_release(&items[i].picture);
        htc_picture_release(&cases[i].single);
        free(cases[i].bytes);
    }
    for (uint32_t i = 0; i < num_sources; i++)
        free(sources[i].data);
    htc_decoder_close(&many);
    htc_decoder_close(&one);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return test_summary("test_batch_mixed");
}
