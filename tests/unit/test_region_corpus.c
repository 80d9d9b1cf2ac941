/* Region, tile, reduce and layer decodes over the corpus: for every
 * decodable codestream, JP2 or JPH file of ../shared/testdata (htj2k/, j2k/
 * but not j2k/malformed/, generated/) small enough to stay fast, the result
 * of a partial decode must equal the same cut of the full decode with the
 * same reduce and layer count, sample for sample:
 *   - random regions (seeded, so a failure repeats), at reduce 0 and at
 *     every reduce level 1 .. the stream's levels;
 *   - every tile (a random sample of them past 64 tiles);
 *   - layer counts 1 .. layers-1, each with a region and a tile;
 *   - one reduce level per bare codestream against opj_decompress -r N
 *     (exact for 5/3, within 1 for 9/7), where opj's full decode agrees
 *     with ours (it cannot read every file the same way).
 * Files above a sample count, and the work after a time budget, are
 * skipped (smaller limits under HTC_SANITIZED=1, as run_all.sh sets for
 * ASan). Every other file is decoded on three threads. HTC_REGION_FILTER=substring limits the files. Exit 77 without
 * the corpus. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "htc/htc.h"
#include "test.h"

#define HTC_MIN_U(a, b) ((a) < (b) ? (a) : (b))
#define HTC_MAX_U(a, b) ((a) > (b) ? (a) : (b))
#define HTC_MAX(a, b) ((a) > (b) ? (a) : (b))

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static uint32_t rnd_below(uint32_t n) { return n ? rnd() % n : 0; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t ceil_div(uint32_t a, uint32_t b) { return (uint32_t)(((uint64_t)a + b - 1) / b); }
static uint32_t ceil_shift(uint32_t a, uint32_t r) { return (uint32_t)(((uint64_t)a + (1ull << r) - 1) >> r); }

typedef struct File {
    const char *path;
    HtcStream *s;
    HtcImageInfo info;
    HtcComponentInfo comp[16];
    uint32_t nc;               /* components checked (at most 16) */
    uint32_t levels;           /* smallest over tile-components */
    uint32_t layers;           /* smallest over tile-components */
    int reversible;            /* all tile-components 5/3 */
} File;

/* The component rectangle (reduced grid) for a reference-grid area. */
static void comp_rect(const File *f, uint32_t c, uint32_t r, uint32_t gx0, uint32_t gy0, uint32_t gx1,
                      uint32_t gy1, uint32_t rect[4])
{
    rect[0] = ceil_shift(ceil_div(gx0, f->comp[c].dx), r);
    rect[1] = ceil_shift(ceil_div(gy0, f->comp[c].dy), r);
    rect[2] = ceil_shift(ceil_div(gx1, f->comp[c].dx), r);
    rect[3] = ceil_shift(ceil_div(gy1, f->comp[c].dy), r);
}

static int decode(HtcDecoder *d, const File *f, const HtcDecodeParams *p, HtcPicture *pic)
{
    memset(pic, 0, sizeof(*pic));
    return htc_decode(d, f->s, p, pic);
}

/* Compares part (an area gx0.. of the reference grid, decoded with p) with
 * the same cut of full (decoded with p's reduce and layers). Returns the
 * number of differing samples (after printing the first). */
static long compare_cut(const File *f, const HtcPicture *full, const HtcPicture *part, uint32_t r,
                        uint32_t gx0, uint32_t gy0, uint32_t gx1, uint32_t gy1, const char *what)
{
    if (part->num_planes != full->num_planes || part->sample_type != full->sample_type) {
        fprintf(stderr, "%s: %s: %u planes type %d, full decode %u planes type %d\n", f->path, what,
                part->num_planes, part->sample_type, full->num_planes, full->sample_type);
        return 1;
    }
    const size_t bps = htc_sample_size(full->sample_type);
    long bad = 0;
    for (uint32_t c = 0; c < full->num_planes && c < f->nc; c++) {
        uint32_t fr[4], pr[4];
        comp_rect(f, c, r, f->info.x0, f->info.y0, f->info.x1, f->info.y1, fr);
        comp_rect(f, c, r, gx0, gy0, gx1, gy1, pr);
        const HtcPlane *fp = &full->planes[c], *pp = &part->planes[c];
        if (pp->width != pr[2] - pr[0] || pp->height != pr[3] - pr[1] || fp->width != fr[2] - fr[0] ||
            fp->height != fr[3] - fr[1]) {
            fprintf(stderr, "%s: %s: component %u is %ux%u (full %ux%u), expected %ux%u (full %ux%u)\n",
                    f->path, what, c, pp->width, pp->height, fp->width, fp->height, pr[2] - pr[0],
                    pr[3] - pr[1], fr[2] - fr[0], fr[3] - fr[1]);
            return bad + 1;
        }
        for (uint32_t y = 0; y < pp->height; y++) {
            const uint8_t *a = (const uint8_t *)pp->data + (size_t)y * pp->row_stride;
            const uint8_t *b = (const uint8_t *)fp->data + (size_t)(y + pr[1] - fr[1]) * fp->row_stride +
                               (size_t)(pr[0] - fr[0]) * fp->pixel_stride * bps;
            if (pp->pixel_stride == 1 && fp->pixel_stride == 1 &&
                memcmp(a, b, (size_t)pp->width * bps) == 0)
                continue;
            for (uint32_t x = 0; x < pp->width; x++) {
                if (memcmp(a + (size_t)x * pp->pixel_stride * bps, b + (size_t)x * fp->pixel_stride * bps,
                           bps) != 0) {
                    if (!bad)
                        fprintf(stderr, "%s: %s: component %u differs at (%u,%u) of the cut\n", f->path,
                                what, c, x, y);
                    bad++;
                }
            }
        }
    }
    return bad;
}

/* A random region (image coordinates relative to the origin): mostly small,
 * sometimes a line or a column, sometimes touching the edges. */
static void random_region(const File *f, uint32_t rg[4])
{
    const uint32_t w = f->info.width, h = f->info.height;
    uint32_t rw, rh;
    switch (rnd_below(4)) {
    case 0: rw = 1 + rnd_below(w); rh = 1 + rnd_below(h); break;
    case 1: rw = 1 + rnd_below(HTC_MIN_U(w, 40)); rh = 1 + rnd_below(HTC_MIN_U(h, 40)); break;
    case 2: rw = 1; rh = 1 + rnd_below(h); break;
    default: rw = 1 + rnd_below(w); rh = 1 + rnd_below(HTC_MIN_U(h, 3)); break;
    }
    rg[0] = rnd_below(w - rw + 1);
    rg[1] = rnd_below(h - rh + 1);
    if (rnd_below(8) == 0)
        rg[0] = w - rw;
    if (rnd_below(8) == 0)
        rg[1] = 0;
    rg[2] = rg[0] + rw;
    rg[3] = rg[1] + rh;
}

/* Random regions and every (or a sample of the) tile against full, which
 * was decoded with base's reduce and layers. */
static void check_cuts(HtcDecoder *d, const File *f, const HtcDecodeParams *base, const HtcPicture *full,
                       uint32_t regions, uint32_t max_tiles, double deadline)
{
    char what[160];
    for (uint32_t i = 0; i < regions && now() < deadline; i++) {
        uint32_t rg[4];
        random_region(f, rg);
        HtcDecodeParams p = *base;
        p.use_region = 1;
        p.region_x0 = rg[0];
        p.region_y0 = rg[1];
        p.region_x1 = rg[2];
        p.region_y1 = rg[3];
        snprintf(what, sizeof(what), "region %u,%u,%u,%u reduce %u layers %u", rg[0], rg[1], rg[2], rg[3],
                 base->reduce, base->layers);
        HtcPicture pic;
        const int rc = decode(d, f, &p, &pic);
        if (rc < 0) {
            fprintf(stderr, "%s: %s: %s\n", f->path, what, htc_last_error());
            CHECK_EQ_INT(rc, 0);
            continue;
        }
        CHECK_EQ_INT(compare_cut(f, full, &pic, base->reduce, f->info.x0 + rg[0], f->info.y0 + rg[1],
                                 f->info.x0 + rg[2], f->info.y0 + rg[3], what),
                     0);
        htc_picture_release(&pic);
    }
    const uint32_t nt = f->info.num_tiles_x * f->info.num_tiles_y;
    for (uint32_t k = 0; k < HTC_MIN_U(nt, max_tiles) && now() < deadline; k++) {
        const uint32_t ti = nt <= max_tiles ? k : rnd_below(nt);
        HtcTileInfo tinfo;
        if (htc_stream_get_tile(f->s, ti, &tinfo) < 0)
            continue;
        HtcDecodeParams p = *base;
        p.tile = (int32_t)ti;
        HtcPicture pic;
        snprintf(what, sizeof(what), "tile %u reduce %u layers %u", ti, base->reduce, base->layers);
        const int rc = decode(d, f, &p, &pic);
        /* A tile smaller than the reduced grid's step may vanish. */
        if (rc == HTC_ERANGE)
            continue;
        if (rc < 0) {
            fprintf(stderr, "%s: %s: %s\n", f->path, what, htc_last_error());
            CHECK_EQ_INT(rc, 0);
            continue;
        }
        CHECK_EQ_INT(compare_cut(f, full, &pic, base->reduce, tinfo.x0, tinfo.y0, tinfo.x1, tinfo.y1, what), 0);
        htc_picture_release(&pic);
    }
}

/* Reads one PGX file as opj_decompress writes it ("PG ML +|- prec w h",
 * big-endian samples of 1, 2 or 4 bytes). */
static int32_t *read_pgx(const char *path, uint32_t *w, uint32_t *h)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char line[256];
    if (!fgets(line, sizeof(line), fp)) {
        fclose(fp);
        return NULL;
    }
    char e1, e2, sgn = '+';
    int prec;
    unsigned ww, hh;
    char *q = line;
    if (sscanf(q, "PG %c%c", &e1, &e2) != 2) {
        fclose(fp);
        return NULL;
    }
    q += 5;
    while (*q == ' ')
        q++;
    if (*q == '+' || *q == '-')
        sgn = *q++;
    if (sscanf(q, "%d %u %u", &prec, &ww, &hh) != 3 || prec < 1 || prec > 32 || ww > 65536 ||
        hh > 65536) {
        fclose(fp);
        return NULL;
    }
    const int bytes = prec <= 8 ? 1 : prec <= 16 ? 2 : 4;
    int32_t *v = malloc(sizeof(int32_t) * ((size_t)ww * hh + 1));
    for (size_t i = 0; i < (size_t)ww * hh; i++) {
        uint32_t x = 0;
        for (int b = 0; b < bytes; b++) {
            const int ch = fgetc(fp);
            x = e1 == 'M' ? (x << 8) | (uint32_t)(ch & 0xFF) : x | (uint32_t)(ch & 0xFF) << (8 * b);
        }
        int32_t s = (int32_t)x;
        if (sgn == '-' && bytes < 4 && (x >> (8 * bytes - 1)) & 1)
            s = (int32_t)(x | ~((1u << (8 * bytes)) - 1));
        v[i] = s;
    }
    fclose(fp);
    *w = ww;
    *h = hh;
    return v;
}

static int64_t sample_at(const HtcPicture *pic, uint32_t c, uint32_t x, uint32_t y)
{
    const HtcPlane *pl = &pic->planes[c];
    const size_t bps = htc_sample_size(pic->sample_type);
    const uint8_t *p = (const uint8_t *)pl->data + (size_t)y * pl->row_stride + (size_t)x * pl->pixel_stride * bps;
    switch (pic->sample_type) {
    case HTC_SAMPLE_U8: return *p;
    case HTC_SAMPLE_I8: return *(const int8_t *)p;
    case HTC_SAMPLE_U16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case HTC_SAMPLE_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case HTC_SAMPLE_U32: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { int32_t v; memcpy(&v, p, 4); return v; }
    }
}

/* opj_decompress -r r into PGX files; compares each component with pic.
 * Returns -1 when opj failed, else the largest absolute difference. */
static long opj_diff(const File *f, const HtcPicture *pic, uint32_t r, const char *tmp)
{
    char cmd[1024], path[512];
    snprintf(cmd, sizeof(cmd), "rm -f %s/o*.pgx; opj_decompress -i '%s' -o %s/o.pgx -r %u >/dev/null 2>&1",
             tmp, f->path, tmp, r);
    if (system(cmd) != 0)
        return -1;
    long worst = 0;
    for (uint32_t c = 0; c < pic->num_planes && c < f->nc; c++) {
        if (pic->num_planes == 1)
            snprintf(path, sizeof(path), "%s/o.pgx", tmp);
        else
            snprintf(path, sizeof(path), "%s/o_%u.pgx", tmp, c);
        uint32_t w, h;
        int32_t *v = read_pgx(path, &w, &h);
        if (!v && pic->num_planes == 1) {
            snprintf(path, sizeof(path), "%s/o_0.pgx", tmp);
            v = read_pgx(path, &w, &h);
        }
        if (!v)
            return -1;
        if (w != pic->planes[c].width || h != pic->planes[c].height) {
            free(v);
            return -1;
        }
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                const long dd = labs((long)(sample_at(pic, c, x, y) - v[(size_t)y * w + x]));
                if (dd > worst)
                    worst = dd;
            }
        free(v);
    }
    return worst;
}

static int is_codestream_name(const char *n)
{
    const char *e = strrchr(n, '.');
    if (!e)
        return 0;
    return !strcmp(e, ".j2k") || !strcmp(e, ".j2c") || !strcmp(e, ".jhc") || !strcmp(e, ".jph") ||
           !strcmp(e, ".jp2") || !strcmp(e, ".J2K");
}

typedef struct Limits {
    uint64_t max_bytes, max_samples;
    double deadline;
    uint32_t regions;
    int use_opj;
    const char *filter;
    const char *tmp;
} Limits;

static uint32_t files_checked, files_skipped, opj_checked, opj_disagree;

static void check_file(HtcDecoder *d, const char *path, const Limits *lim)
{
    File f;
    memset(&f, 0, sizeof(f));
    f.path = path;
    if (htc_stream_open_file(&f.s, path, NULL) < 0) {
        files_skipped++;
        return;
    }
    if (htc_stream_get_info(f.s, &f.info) < 0 || f.info.num_components == 0) {
        htc_stream_close(&f.s);
        files_skipped++;
        return;
    }
    f.nc = HTC_MIN_U(f.info.num_components, 16);
    uint64_t samples = 0;
    for (uint32_t c = 0; c < f.nc; c++) {
        htc_stream_get_component(f.s, c, &f.comp[c]);
        samples += (uint64_t)f.comp[c].width * f.comp[c].height;
    }
    const uint32_t nt = f.info.num_tiles_x * f.info.num_tiles_y;
    if (samples > lim->max_samples || nt > 4096 || f.info.num_components > 16) {
        htc_stream_close(&f.s);
        files_skipped++;
        return;
    }
    f.levels = 33;
    f.layers = 0xFFFF;
    f.reversible = 1;
    for (uint32_t t = 0; t < nt; t++)
        for (uint32_t c = 0; c < f.info.num_components; c++) {
            HtcCodingInfo ci;
            if (htc_stream_get_coding(f.s, t, c, &ci) < 0)
                continue;
            f.levels = HTC_MIN_U(f.levels, ci.levels);
            f.layers = HTC_MIN_U(f.layers, ci.layers);
            f.reversible &= ci.reversible;
        }
    if (f.levels == 33)
        f.levels = 0;
    if (f.layers == 0xFFFF)
        f.layers = 1;

    HtcDecodeParams base;
    htc_decode_default_params(&base);
    HtcPicture full;
    if (decode(d, &f, &base, &full) < 0) { /* not decodable: other tests say why */
        htc_stream_close(&f.s);
        files_skipped++;
        return;
    }
    files_checked++;
    check_cuts(d, &f, &base, &full, lim->regions, 64, lim->deadline);

    /* Reduce levels: each against the full reduced decode. */
    const uint32_t opj_r = f.levels ? 1 + rnd_below(f.levels) : 0;
    const char *ext = strrchr(path, '.');
    const int bare = ext && strcmp(ext, ".jp2") && strcmp(ext, ".jph");
    long opj_full = -2;
    if (lim->use_opj && bare && opj_r) {
        opj_full = opj_diff(&f, &full, 0, lim->tmp);
        /* opj reads the file as we do (9/7: within 1) */
        if (opj_full > (f.reversible ? 0 : 1) || opj_full < 0) {
            opj_disagree++;
            opj_full = -1;
        }
    }
    for (uint32_t r = 1; r <= f.levels && now() < lim->deadline; r++) {
        HtcDecodeParams p = base;
        p.reduce = r;
        HtcPicture red;
        const int rc = decode(d, &f, &p, &red);
        if (rc < 0) {
            fprintf(stderr, "%s: reduce %u: %s\n", path, r, htc_last_error());
            CHECK_EQ_INT(rc, 0);
            continue;
        }
        check_cuts(d, &f, &p, &red, HTC_MAX_U(lim->regions / 4, 2), 8, lim->deadline);
        if (r == opj_r && opj_full >= 0) {
            const long dd = opj_diff(&f, &red, r, lim->tmp);
            if (dd >= 0) {
                if (dd > (f.reversible ? 0 : 1))
                    fprintf(stderr, "%s: reduce %u differs from opj_decompress -r %u by %ld\n", path, r,
                            r, dd);
                CHECK(dd <= (f.reversible ? 0 : 1));
                opj_checked++;
            }
        }
        htc_picture_release(&red);
    }

    /* Layer counts below the stream's, each with its own full decode. */
    for (uint32_t l = 1; l < f.layers && l <= 8 && now() < lim->deadline; l++) {
        HtcDecodeParams p = base;
        p.layers = l;
        if (f.levels && rnd_below(2))
            p.reduce = rnd_below(f.levels + 1);
        HtcPicture lay;
        const int rc = decode(d, &f, &p, &lay);
        if (rc < 0) {
            fprintf(stderr, "%s: layers %u: %s\n", path, l, htc_last_error());
            CHECK_EQ_INT(rc, 0);
            continue;
        }
        check_cuts(d, &f, &p, &lay, 2, 2, lim->deadline);
        htc_picture_release(&lay);
    }
    htc_picture_release(&full);
    htc_stream_close(&f.s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every candidate file under dir, sorted (so the random sequence repeats). */
static void walk(const char *dir, char ***list, size_t *n, size_t *cap, const Limits *lim)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (strcmp(e->d_name, "malformed") != 0)
                walk(path, list, n, cap, lim);
            continue;
        }
        if (!is_codestream_name(e->d_name) || (uint64_t)st.st_size > lim->max_bytes)
            continue;
        if (lim->filter && !strstr(path, lim->filter))
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *list = realloc(*list, *cap * sizeof(char *));
        }
        (*list)[(*n)++] = strdup(path);
    }
    closedir(dp);
}

int main(void)
{
    struct stat st;
    if (stat(TESTDATA "/htj2k", &st) != 0) {
        printf("test_region_corpus: %s not found, skipped\n", TESTDATA);
        return 77;
    }
    const int sanitized = getenv("HTC_SANITIZED") != NULL;
    Limits lim;
    memset(&lim, 0, sizeof(lim));
    lim.max_bytes = sanitized ? 1u << 20 : 4u << 20;
    lim.max_samples = sanitized ? 2u << 20 : 6u << 20;
    lim.regions = sanitized ? 8 : 16;
    lim.filter = getenv("HTC_REGION_FILTER");
    const double budget = sanitized ? 200.0 : 150.0;
    const double start = now();
    lim.deadline = start + budget;
    char tmp[] = "/tmp/htc_region_XXXXXX";
    lim.use_opj = system("command -v opj_decompress >/dev/null 2>&1") == 0 && mkdtemp(tmp) != NULL;
    lim.tmp = tmp;

    char **list = NULL;
    size_t n = 0, cap = 0;
    walk(TESTDATA "/htj2k", &list, &n, &cap, &lim);
    walk(TESTDATA "/j2k", &list, &n, &cap, &lim);
    walk(TESTDATA "/generated", &list, &n, &cap, &lim);
    qsort(list, n, sizeof(char *), cmp_str);

    /* Every other file on three threads (the code-block pool), the rest inline. */
    HtcDecoderSettings ds;
    htc_decoder_default_settings(&ds);
    ds.threads = 1;
    HtcDecoder *d1 = NULL, *d3 = NULL;
    CHECK_EQ_INT(htc_decoder_open(&d1, &ds), 0);
    ds.threads = 3;
    CHECK_EQ_INT(htc_decoder_open(&d3, &ds), 0);
    HtcDecoder *d = d1 && d3 ? d1 : NULL;
    size_t done = 0;
    /* Each file gets a fair share of what is left of the budget. */
    for (size_t i = 0; i < n && d; i++) {
        const double left = lim.deadline - now();
        if (left <= 0)
            break;
        Limits fl = lim;
        fl.deadline = now() + HTC_MAX(left / (double)(n - i), 0.05) * 3.0;
        if (fl.deadline > lim.deadline)
            fl.deadline = lim.deadline;
        rng_state = 0x9E3779B97F4A7C15ull ^ (uint64_t)i * 0x100000001B3ull;
        check_file(i % 2 ? d3 : d1, list[i], &fl);
        done++;
    }
    htc_decoder_close(&d1);
    htc_decoder_close(&d3);
    if (lim.use_opj) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmp);
    }
    printf("test_region_corpus: %zu of %zu files visited in %.0f s: %u checked, %u skipped "
           "(not decodable or too big), %u reduce decodes compared with opj_decompress "
           "(%u files left out: opj failed or its full decode differs from ours)\n",
           done, n, now() - start, files_checked, files_skipped, opj_checked, opj_disagree);
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
    CHECK(files_checked > 0);
    return test_summary("test_region_corpus");
}
