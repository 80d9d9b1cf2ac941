/* Decodes every codestream (and JPEG 2000 DICOM frame) listed in
 * ../shared/testdata/reference/SHA256SUMS and compares the sha256 of the
 * samples, in the .raw layout of the corpus README, with the reference.
 * Lossy (9/7) streams that do not match bit for bit pass when a stored
 * reference decode is within the corpus tolerance. A status of
 * HTC_EUNSUPPORTED is listed, not failed; wrong pixels and other errors fail.
 * HTC_CORPUS_FILTER=substring limits the files; HTC_CORPUS_MAX_MB (default
 * 64, 2 in sanitizer builds) skips images with more output bytes (32-bit samples). Exit 77 without the corpus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "htc/htc.h"
#include "htc_dicom.h"
#include "sha256.h"
#include "test.h"
#include "read_file.h"

/* Reference samples from a .pgm/.ppm (interleaved, big-endian past 8 bits) or
 * .raw (planar, as the README says, given the decoded planes' geometry). */
static int32_t ref_sample(const uint8_t *ref, size_t ref_size, int pnm, size_t hdr, uint32_t maxval,
                          const HtcPicture *pic, uint32_t c, uint32_t x, uint32_t y, int *ok)
{
    const HtcPlane *pl = &pic->planes[c];
    if (pnm) {
        const size_t bps = maxval > 255 ? 2 : 1;
        const size_t i = hdr + (((size_t)y * pl->width + x) * pic->num_planes + c) * bps;
        if (i + bps > ref_size) {
            *ok = 0;
            return 0;
        }
        return bps == 2 ? (ref[i] << 8 | ref[i + 1]) : ref[i];
    }
    size_t off = 0;
    for (uint32_t k = 0; k < c; k++)
        off += (size_t)pic->planes[k].width * pic->planes[k].height * (pic->planes[k].precision <= 8 ? 1 : 2);
    const int bps = pl->precision <= 8 ? 1 : 2;
    const size_t i = off + ((size_t)y * pl->width + x) * bps;
    if (i + bps > ref_size) {
        *ok = 0;
        return 0;
    }
    if (bps == 1)
        return pl->is_signed ? (int8_t)ref[i] : ref[i];
    const uint16_t v = (uint16_t)(ref[i] | ref[i + 1] << 8);
    return pl->is_signed ? (int16_t)v : v;
}

/* Peak absolute error against a stored reference decode; -1 if unusable. */
static long compare_reference(const char *path, const HtcPicture *pic)
{
    size_t n = 0;
    uint8_t *ref = htc_test_read_file(path, &n);
    if (!ref)
        return -1;
    int pnm = 0;
    size_t hdr = 0;
    unsigned maxval = 0;
    if (n > 2 && ref[0] == 'P' && (ref[1] == '5' || ref[1] == '6')) {
        unsigned w, h;
        int used = 0;
        char tmp[64];
        memcpy(tmp, ref, n < 63 ? n : 63);
        tmp[63] = 0;
        if (sscanf(tmp, "P%*c %u %u %u%n", &w, &h, &maxval, &used) != 3) {
            free(ref);
            return -1;
        }
        pnm = 1;
        hdr = (size_t)used + 1;
    }
    long pae = 0;
    int ok = 1;
    for (uint32_t c = 0; c < pic->num_planes && ok; c++) {
        const HtcPlane *pl = &pic->planes[c];
        for (uint32_t y = 0; y < pl->height && ok; y++)
            for (uint32_t x = 0; x < pl->width; x++) {
                const int32_t v = ((const int32_t *)((const uint8_t *)pl->data + y * pl->row_stride))[x];
                const int32_t r = ref_sample(ref, n, pnm, hdr, maxval, pic, c, x, y, &ok);
                const long d = labs((long)v - r);
                if (d > pae)
                    pae = d;
            }
    }
    free(ref);
    return ok ? pae : -1;
}

/* A PGX file (the conformance suite's format) as int32 samples. */
static int32_t *read_pgx(const char *path, uint32_t *w, uint32_t *h)
{
    size_t n = 0;
    uint8_t *d = htc_test_read_file(path, &n);
    if (!d)
        return NULL;
    char hdr[128];
    size_t i = 0;
    while (i < n && i < sizeof(hdr) - 1 && d[i] != '\n') {
        hdr[i] = (char)d[i];
        i++;
    }
    hdr[i] = 0;
    char e0, e1, sign = '+';
    unsigned depth = 0;
    int32_t *out = NULL;
    char *q = hdr + 2;
    while (*q == ' ')
        q++;
    e0 = q[0];
    e1 = q[1];
    q += 2;
    while (*q == ' ')
        q++;
    if (*q == '+' || *q == '-')
        sign = *q++;
    if (sscanf(q, "%u %u %u", &depth, w, h) == 3 && depth >= 1 && depth <= 32) {
        const int big = e0 == 'M' && e1 == 'L';
        const size_t bps = depth <= 8 ? 1 : depth <= 16 ? 2 : 4;
        const size_t cnt = (size_t)*w * *h;
        if (i + 1 + cnt * bps <= n && (out = malloc(cnt * sizeof(int32_t) + 1))) {
            const uint8_t *p = d + i + 1;
            for (size_t k = 0; k < cnt; k++, p += bps) {
                uint32_t v = 0;
                for (size_t b = 0; b < bps; b++)
                    v |= (uint32_t)p[big ? bps - 1 - b : b] << (8 * b);
                int32_t sv = (int32_t)v;
                if (sign == '-' && bps < 4 && (v >> (8 * bps - 1)) & 1)
                    sv = (int32_t)(v | ~((1u << (8 * bps)) - 1u));
                out[k] = sv;
            }
        }
    }
    free(d);
    return out;
}

/* ISO/IEC 15444-4 check of a decode (at reduce) against the rows of
 * conformance_tolerances.tsv: -1 when the file has no rows, else 1 pass,
 * 0 fail (printed). */
static int iso_check(const char *file, uint32_t reduce, const HtcPicture *pic)
{
    FILE *f = fopen(TESTDATA "/conformance_tolerances.tsv", "r");
    if (!f)
        return -1;
    char line[1024];
    int rows = 0, ok = 1;
    while (fgets(line, sizeof(line), f)) {
        char cs[512], iso[512];
        unsigned comp, red;
        long pae_max;
        double mse_max;
        if (line[0] == '#' ||
            sscanf(line, "%511[^\t]\t%u\t%511[^\t]\t%u\t%ld\t%lf", cs, &comp, iso, &red, &pae_max, &mse_max) != 6)
            continue;
        if (strcmp(cs, file) != 0 || red != reduce)
            continue;
        rows++;
        char path[700];
        snprintf(path, sizeof(path), "%s/%s", TESTDATA, iso);
        uint32_t w = 0, h = 0;
        int32_t *ref = read_pgx(path, &w, &h);
        if (!ref || comp >= pic->num_planes || pic->planes[comp].width != w || pic->planes[comp].height != h) {
            printf("  ISO %s c%u reduce %u: reference %s unusable or size differs (%ux%u)\n", file, comp, reduce, iso, w, h);
            free(ref);
            ok = 0;
            continue;
        }
        const HtcPlane *pl = &pic->planes[comp];
        long pae = 0;
        double se = 0;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                const int32_t v = ((const int32_t *)((const uint8_t *)pl->data + y * pl->row_stride))[x];
                const long dd = labs((long)v - ref[(size_t)y * w + x]);
                pae = dd > pae ? dd : pae;
                se += (double)dd * dd;
            }
        const double mse = se / ((double)w * h);
        if (pae > pae_max || mse > mse_max) {
            printf("  ISO %s c%u reduce %u: PAE %ld (max %ld) MSE %.4g (max %.4g)\n", file, comp, reduce, pae,
                   pae_max, mse, mse_max);
            ok = 0;
        }
        free(ref);
    }
    fclose(f);
    return rows ? ok : -1;
}

/* OpenJPH's own expectations (htj2k/openjph/mse_pae.txt: per component the
 * MSE and PAE against the original): 1 pass, 0 fail, -1 not listed. The
 * missing Malamute original is replaced by the lossless decode, as the
 * corpus README says. */
static int openjph_check(const char *file, const HtcPicture *pic)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    FILE *f = fopen(TESTDATA "/htj2k/openjph/mse_pae.txt", "r");
    if (!f)
        return -1;
    char line[512], name[256], ref[256];
    int found = 0, ok = 1;
    while (!found && fgets(line, sizeof(line), f))
        if (sscanf(line, "%255s %255s", name, ref) == 2 && strcmp(name, base) == 0)
            found = 1;
    if (!found) {
        fclose(f);
        return -1;
    }
    char path[700];
    const char *rb = strrchr(ref, '/');
    rb = rb ? rb + 1 : ref;
    if (strcmp(rb, "Malamute.ppm") == 0)
        snprintf(path, sizeof(path), "%s/reference/htj2k/openjph/simple_dec_rev53_64x64.ppm", TESTDATA);
    else
        snprintf(path, sizeof(path), "%s/raw/openjph/%s", TESTDATA, rb);
    size_t n = 0;
    uint8_t *d = htc_test_read_file(path, &n);
    if (!d) {
        fclose(f);
        return -1;
    }
    int pnm = 0;
    size_t hdr = 0;
    unsigned maxval = 255;
    if (n > 2 && d[0] == 'P') {
        unsigned vals[3];
        int k = 0;
        size_t i = 2;
        while (k < 3 && i < n) {
            if (d[i] == '#') {
                while (i < n && d[i] != '\n')
                    i++;
            } else if (d[i] >= '0' && d[i] <= '9') {
                unsigned v = 0;
                while (i < n && d[i] >= '0' && d[i] <= '9')
                    v = v * 10 + (unsigned)(d[i++] - '0');
                vals[k++] = v;
                continue;
            }
            i++;
        }
        pnm = 1;
        maxval = vals[2];
        hdr = i + 1; /* past the single whitespace after maxval */
    }
    for (uint32_t c = 0; c < pic->num_planes && ok; c++) {
        double mse_exp;
        long pae_exp;
        if (!fgets(line, sizeof(line), f) || sscanf(line, "%lf %ld", &mse_exp, &pae_exp) != 2)
            break;
        const HtcPlane *pl = &pic->planes[c];
        size_t off = 0;
        for (uint32_t k = 0; k < c; k++)
            off += (size_t)pic->planes[k].width * pic->planes[k].height * (maxval > 255 ? 2 : 1);
        double se = 0;
        long pae = 0;
        for (uint32_t y = 0; y < pl->height && ok; y++)
            for (uint32_t x = 0; x < pl->width; x++) {
                size_t i;
                const size_t bps = maxval > 255 ? 2 : 1;
                if (pnm)
                    i = hdr + (((size_t)y * pl->width + x) * pic->num_planes + c) * bps;
                else
                    i = off + ((size_t)y * pl->width + x) * bps;
                if (i + bps > n) {
                    ok = 0;
                    break;
                }
                const int32_t r = bps == 2 ? (pnm ? d[i] << 8 | d[i + 1] : d[i] | d[i + 1] << 8) : d[i];
                const int32_t v = ((const int32_t *)((const uint8_t *)pl->data + y * pl->row_stride))[x];
                const long dd = labs((long)v - r);
                pae = dd > pae ? dd : pae;
                se += (double)dd * dd;
            }
        const double mse = se / ((double)pl->width * pl->height);
        if (!ok || pae > pae_exp + 1 || mse > mse_exp * 1.01 + 0.01) {
            printf("  OpenJPH expectation %s c%u: MSE %.4f (expected %.4f), PAE %ld (expected %ld)\n", base, c,
                   mse, mse_exp, pae, pae_exp);
            ok = 0;
        }
    }
    free(d);
    fclose(f);
    return ok;
}

/* The reference decoder named in INDEX.tsv for a row ("opj", "grk" ...). */
static int ref_decoder_is(const char *name, const char *dec)
{
    FILE *f = fopen(TESTDATA "/reference/INDEX.tsv", "r");
    if (!f)
        return 0;
    char line[4096];
    int res = 0;
    const size_t n = strlen(name);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, name, n) != 0 || line[n] != '\t')
            continue;
        char *t1 = strchr(line + n + 1, '\t');
        res = t1 && strncmp(t1 + 1, dec, strlen(dec)) == 0 && t1[1 + strlen(dec)] == '\t';
        break;
    }
    fclose(f);
    return res;
}

/* Peak error against opj_decompress run now on the codestream bytes, one
 * component at a time (-c, so that sub-sampled components are not
 * up-sampled), written as PGX; -1 when not possible. */
static long compare_opj_now(const uint8_t *cs, size_t size, const HtcPicture *pic)
{
    if (system("command -v opj_decompress >/dev/null 2>&1") != 0)
        return -1;
    char dir[] = "/tmp/htc_corpus_XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char in[64], out[64], got[64], cmd[256];
    snprintf(in, sizeof(in), "%s/in.j2k", dir);
    snprintf(out, sizeof(out), "%s/out.pgx", dir);
    snprintf(got, sizeof(got), "%s/out_0.pgx", dir);
    FILE *f = fopen(in, "wb");
    long pae = -1;
    int same = 1;
    for (uint32_t c = 1; c < pic->num_planes; c++)
        same &= pic->planes[c].width == pic->planes[0].width && pic->planes[c].height == pic->planes[0].height;
    if (f && fwrite(cs, 1, size, f) == size && same) {
        /* Equal sizes: one decode (with the colour transform), raw little-endian. */
        fclose(f);
        f = NULL;
        snprintf(out, sizeof(out), "%s/out.rawl", dir);
        snprintf(cmd, sizeof(cmd), "opj_decompress -i %s -o %s >/dev/null 2>&1", in, out);
        size_t n = 0;
        uint8_t *ref = system(cmd) == 0 ? htc_test_read_file(out, &n) : NULL;
        if (ref) {
            pae = 0;
            size_t off = 0;
            for (uint32_t c = 0; c < pic->num_planes && pae >= 0; c++) {
                const HtcPlane *pl = &pic->planes[c];
                const size_t bps = pl->precision <= 8 ? 1 : 2;
                for (uint32_t y = 0; y < pl->height && pae >= 0; y++)
                    for (uint32_t x = 0; x < pl->width; x++, off += bps) {
                        if (off + bps > n) {
                            pae = -1;
                            break;
                        }
                        int32_t r = bps == 1 ? ref[off] : (ref[off] | ref[off + 1] << 8);
                        if (pl->is_signed)
                            r = bps == 1 ? (int8_t)r : (int16_t)r;
                        const int32_t v = ((const int32_t *)((const uint8_t *)pl->data + y * pl->row_stride))[x];
                        const long dd = labs((long)v - r);
                        pae = dd > pae ? dd : pae;
                    }
            }
            free(ref);
        }
        remove(out);
    } else if (f && !ferror(f)) {
        /* Sub-sampled components (no colour transform applies): one by one. */
        fclose(f);
        f = NULL;
        pae = 0;
        for (uint32_t c = 0; c < pic->num_planes && pae >= 0; c++) {
            snprintf(cmd, sizeof(cmd), "opj_decompress -i %s -o %s -c %u >/dev/null 2>&1", in, out, c);
            uint32_t w = 0, h = 0;
            int32_t *ref = system(cmd) == 0 ? read_pgx(got, &w, &h) : NULL;
            const HtcPlane *pl = &pic->planes[c];
            if (!ref || w != pl->width || h != pl->height) {
                free(ref);
                pae = -1;
                break;
            }
            for (uint32_t y = 0; y < h; y++)
                for (uint32_t x = 0; x < w; x++) {
                    const int32_t v = ((const int32_t *)((const uint8_t *)pl->data + y * pl->row_stride))[x];
                    const long dd = labs((long)v - ref[(size_t)y * w + x]);
                    pae = dd > pae ? dd : pae;
                }
            free(ref);
            remove(got);
        }
    }
    if (f)
        fclose(f);
    remove(in);
    rmdir(dir);
    return pae;
}

static void raw_sha(const HtcPicture *pic, char hex[65])
{
    TestSha256 sh;
    test_sha256_init(&sh);
    uint8_t row[8192];
    for (uint32_t c = 0; c < pic->num_planes; c++) {
        const HtcPlane *pl = &pic->planes[c];
        const int bps = pl->precision <= 8 ? 1 : 2;
        for (uint32_t y = 0; y < pl->height; y++) {
            const int32_t *src = (const int32_t *)((const uint8_t *)pl->data + y * pl->row_stride);
            uint32_t x = 0;
            while (x < pl->width) {
                size_t k = 0;
                for (; x < pl->width && k + 2 <= sizeof(row); x++) {
                    const uint32_t v = (uint32_t)src[x];
                    row[k++] = (uint8_t)v;
                    if (bps == 2)
                        row[k++] = (uint8_t)(v >> 8);
                }
                test_sha256_update(&sh, row, k);
            }
        }
    }
    test_sha256_final_hex(&sh, hex);
}

typedef struct Entry {
    char sha[65];
    char name[512];
} Entry;

static char *find_ref_file(const char *name)
{
    static char out[600];
    FILE *f = fopen(TESTDATA "/reference/INDEX.tsv", "r");
    if (!f)
        return NULL;
    char line[4096];
    char *res = NULL;
    while (fgets(line, sizeof(line), f)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        if (strcmp(line, name) != 0)
            continue;
        char *ref = tab + 1;
        char *t2 = strchr(ref, '\t');
        if (t2)
            *t2 = 0;
        if (strcmp(ref, "-") != 0) {
            snprintf(out, sizeof(out), "%s/%s", TESTDATA, ref);
            res = out;
        }
        break;
    }
    fclose(f);
    return res;
}

/* Whether the corpus MANIFEST describes the file as a corrupt input whose
 * reference only documents one decoder's concealment. */
static int only_no_crash(const char *file)
{
    FILE *f = fopen(TESTDATA "/MANIFEST.tsv", "r");
    if (!f)
        return 0;
    static char line[65536];
    int res = 0;
    const size_t n = strlen(file);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, file, n) == 0 && line[n] == '\t') {
            res = strstr(line, "decode without crashing") != NULL;
            break;
        }
    }
    fclose(f);
    return res;
}

static long tolerance_of(const char *name)
{
    FILE *f = fopen(TESTDATA "/conformance_tolerances.tsv", "r");
    if (!f)
        return 1;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    char line[1024];
    long tol = 1;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#')
            continue;
        char cs[512], comp[32], iso[512];
        int reduce;
        long pae;
        if (sscanf(line, "%511[^\t]\t%31[^\t]\t%511[^\t]\t%d\t%ld", cs, comp, iso, &reduce, &pae) == 5 &&
            reduce == 0 && strstr(cs, base) && pae > tol)
            tol = pae;
    }
    fclose(f);
    return tol;
}

int main(void)
{
    FILE *sums = fopen(TESTDATA "/reference/SHA256SUMS", "r");
    if (!sums) {
        printf("test_corpus_decode: %s not found; skipped\n", TESTDATA "/reference/SHA256SUMS");
        return 77;
    }
    const char *filter = getenv("HTC_CORPUS_FILTER");
    const char *maxmb_s = getenv("HTC_CORPUS_MAX_MB");
#if defined(__SANITIZE_ADDRESS__)
#define HTC_CORPUS_DEFAULT_MB 2.0 /* sanitizer builds run ten times slower: small images only */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HTC_CORPUS_DEFAULT_MB 2.0
#endif
#endif
#ifndef HTC_CORPUS_DEFAULT_MB
#define HTC_CORPUS_DEFAULT_MB 64.0
#endif
    const double max_bytes = (maxmb_s ? atof(maxmb_s) : HTC_CORPUS_DEFAULT_MB) * 1048576.0;
    HtcDecoderSettings ds;
    htc_decoder_default_settings(&ds);
    ds.threads = 1;
    HtcDecoder *dec = NULL;
    if (htc_decoder_open(&dec, &ds) < 0) {
        printf("cannot open a decoder\n");
        return 1;
    }
    int npass = 0, nfail = 0, nunsup = 0, nskip = 0;
    char line[1024];
    while (fgets(line, sizeof(line), sums)) {
        if (line[0] == '#')
            continue;
        Entry e;
        if (sscanf(line, "%64s %511s", e.sha, e.name) != 2)
            continue;
        if (filter && !strstr(e.name, filter))
            continue;
        char path[700];
        uint32_t frame = 0;
        char *hash = strstr(e.name, "#f");
        char file[512];
        snprintf(file, sizeof(file), "%s", e.name);
        if (hash) {
            file[hash - e.name] = 0;
            frame = (uint32_t)atoi(hash + 2);
        }
        snprintf(path, sizeof(path), "%s/%s", TESTDATA, file);
        uint8_t *data = NULL;
        size_t size = 0;
        HtcDicom *dcm = NULL;
        if (strncmp(file, "dicom/", 6) == 0 || strstr(file, ".dcm")) {
            if (strncmp(file, "dicom/other/", 12) == 0) {
                nskip++;
                continue; /* not JPEG 2000 */
            }
            if (htc_dicom_open_file(&dcm, path, NULL) < 0 ||
                htc_dicom_frame_data(dcm, frame ? frame - 1 : 0, &data, &size) < 0) {
                printf("SKIP %s: DICOM layer: %s\n", e.name, htc_dicom_last_error());
                htc_dicom_close(&dcm);
                nskip++;
                continue;
            }
        } else {
            data = htc_test_read_file(path, &size);
            if (!data) {
                printf("SKIP %s: cannot read\n", e.name);
                nskip++;
                continue;
            }
        }
        HtcStream *s = NULL;
        int rc = htc_stream_open_memory(&s, data, size, NULL);
        HtcPicture pic;
        memset(&pic, 0, sizeof(pic));
        HtcDecodeParams p;
        htc_decode_default_params(&p);
        p.sample_type = HTC_SAMPLE_I32;
        if (rc >= 0) {
            rc = htc_decode_layout(s, &p, &pic);
            if (rc >= 0 && pic.buffer_size > max_bytes) {
                printf("SKIP %s: %zu output bytes (HTC_CORPUS_MAX_MB)\n", e.name, pic.buffer_size);
                nskip++;
                htc_picture_release(&pic);
                htc_stream_close(&s);
                if (dcm) {
                    htc_dicom_free(dcm, data);
                    data = NULL;
                    htc_dicom_close(&dcm);
                }
                free(data);
                continue;
            }
            htc_picture_release(&pic);
        }
        if (rc >= 0)
            rc = htc_decode(dec, s, &p, &pic);
        if (rc == HTC_EUNSUPPORTED) {
            printf("UNSUPPORTED %s: %s\n", e.name, htc_last_error());
            nunsup++;
        } else if (rc < 0) {
            printf("FAIL %s: %s: %s\n", e.name, htc_strerror(rc), htc_last_error());
            nfail++;
        } else {
            char hex[65];
            raw_sha(&pic, hex);
            if (strcmp(hex, e.sha) == 0) {
                printf("PASS %s\n", e.name);
                npass++;
            } else {
                int lossy = 0;
                HtcCodingInfo ci;
                for (uint32_t c = 0; c < pic.num_planes; c++)
                    if (htc_stream_get_coding(s, 0, c, &ci) >= 0 && !ci.reversible)
                        lossy = 1;
                const char *ref = find_ref_file(e.name);
                long pae = ref ? compare_reference(ref, &pic) : -1;
                const long tol = tolerance_of(file);
                const int iso = lossy ? iso_check(file, 0, &pic) : -1;
                if (lossy && pae >= 0 && pae <= tol) {
                    printf("PASS %s (9/7, peak error %ld against the stored reference)\n", e.name, pae);
                    npass++;
                } else if (lossy && pae < 0 && openjph_check(file, &pic) == 1) {
                    printf("PASS %s (9/7, within OpenJPH's MSE/PAE against the original)\n", e.name);
                    npass++;
                } else if (iso == 1) {
                    printf("PASS %s (9/7, within the ISO/IEC 15444-4 limits)\n", e.name);
                    npass++;
                } else if (!ref_decoder_is(e.name, "opj") &&
                           (pae = compare_opj_now(data, size, &pic)) >= 0 && pae <= (lossy ? tol : 0)) {
                    printf("PASS %s (peak error %ld against OpenJPEG run now; the stored reference, from another decoder, differs)\n",
                           e.name, pae);
                    npass++;
                } else if (only_no_crash(file)) {
                    printf("CONCEALED %s (corrupt input; the reference is one decoder's concealment, peak error %ld)\n",
                           e.name, pae);
                    nskip++;
                } else if (lossy && pae < 0 && ref_decoder_is(e.name, "opj") &&
                           (pae = compare_opj_now(data, size, &pic)) >= 0) {
                    if (pae <= tol) {
                        printf("PASS %s (9/7, peak error %ld against opj_decompress run now)\n", e.name, pae);
                        npass++;
                    } else {
                        printf("FAIL %s: peak error %ld against opj_decompress run now\n", e.name, pae);
                        nfail++;
                    }
                } else if (lossy && pae < 0) {
                    printf("UNVERIFIED %s (9/7, sha differs, no stored reference)\n", e.name);
                    nskip++;
                } else {
                    printf("FAIL %s: wrong samples (sha %.16s..., peak error %ld)\n", e.name, hex, pae);
                    nfail++;
                }
            }
            htc_picture_release(&pic);
        }
        htc_stream_close(&s);
        if (dcm) {
            htc_dicom_free(dcm, data);
            data = NULL;
            htc_dicom_close(&dcm);
        }
        free(data);
        fflush(stdout);
    }
    fclose(sums);

    /* Conformance rows with reduce > 0: the reduced decodes against ISO. */
    FILE *tol = fopen(TESTDATA "/conformance_tolerances.tsv", "r");
    char done[64][512];
    int ndone = 0;
    while (tol && fgets(line, sizeof(line), tol)) {
        char cs[512], iso[512];
        unsigned comp, red;
        if (line[0] == '#' || sscanf(line, "%511[^\t]\t%u\t%511[^\t]\t%u", cs, &comp, iso, &red) != 4 || red == 0)
            continue;
        if (filter && !strstr(cs, filter))
            continue;
        char key[600];
        snprintf(key, sizeof(key), "%s#%u", cs, red);
        int seen = 0;
        for (int i = 0; i < ndone; i++)
            seen |= strcmp(done[i], key) == 0;
        if (seen || ndone >= 64)
            continue;
        snprintf(done[ndone++], sizeof(done[0]), "%.511s", key);
        char path[700];
        snprintf(path, sizeof(path), "%s/%s", TESTDATA, cs);
        HtcStream *s = NULL;
        HtcPicture pic;
        memset(&pic, 0, sizeof(pic));
        HtcDecodeParams p;
        htc_decode_default_params(&p);
        p.sample_type = HTC_SAMPLE_I32;
        p.reduce = red;
        int rc = htc_stream_open_file(&s, path, NULL);
        if (rc >= 0)
            rc = htc_decode(dec, s, &p, &pic);
        if (rc == HTC_EUNSUPPORTED) {
            printf("UNSUPPORTED %s reduce %u: %s\n", cs, red, htc_last_error());
            nunsup++;
        } else if (rc < 0) {
            printf("FAIL %s reduce %u: %s: %s\n", cs, red, htc_strerror(rc), htc_last_error());
            nfail++;
        } else if (iso_check(cs, red, &pic) == 1) {
            printf("PASS %s reduce %u (ISO/IEC 15444-4 limits)\n", cs, red);
            npass++;
        } else {
            printf("FAIL %s reduce %u: outside the ISO/IEC 15444-4 limits\n", cs, red);
            nfail++;
        }
        htc_picture_release(&pic);
        htc_stream_close(&s);
    }
    if (tol)
        fclose(tol);
    htc_decoder_close(&dec);
    printf("corpus: %d passed, %d failed, %d unsupported, %d skipped\n", npass, nfail, nunsup, nskip);
    test_passed = npass;
    test_failed = nfail;
    return test_summary("test_corpus_decode");
}
