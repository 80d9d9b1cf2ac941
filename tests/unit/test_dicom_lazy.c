/* Reaching frame K of a multi-frame file reads only the header and that
 * frame's bytes: 2 GiB files (native and encapsulated, written sparse) through
 * mmap and the counter; then a counting byte-range reader, for the Extended
 * Offset Table (generated/dicom/CT_enhanced_16f_htj2k_eot.dcm), the Basic
 * Offset Table (dicom/other/emri_small_RLE.dcm) and native pixel data
 * (dicom/other/emri_small.dcm), through a reader and through mmap. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "htc_dicom.h"
#include "test.h"

typedef struct Counter {
    int fd;
    uint64_t size;
    uint64_t bytes;
    uint32_t calls;
    uint64_t max_end;      /* furthest byte touched */
    uint8_t *touched;      /* one flag per byte */
} Counter;

static int count_read(void *opaque, uint64_t off, void *dst, size_t n)
{
    Counter *c = opaque;
    c->bytes += n;
    c->calls++;
    if (off + n > c->max_end)
        c->max_end = off + n;
    memset(c->touched + off, 1, n);
    return pread(c->fd, dst, n, (off_t)off) == (ssize_t)n ? 0 : HTC_EIO;
}

static uint64_t touched_in(const Counter *c, uint64_t a, uint64_t b)
{
    uint64_t n = 0;
    for (uint64_t i = a; i < b && i < c->size; i++)
        n += c->touched[i];
    return n;
}

static void check_file(const char *rel, uint32_t k)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TESTDATA, rel);
    Counter c = { 0 };
    c.fd = open(path, O_RDONLY);
    CHECK(c.fd >= 0);
    if (c.fd < 0)
        return;
    struct stat st;
    fstat(c.fd, &st);
    c.size = (uint64_t)st.st_size;
    c.touched = calloc(c.size + 1, 1);
    HtcDicomReader r = { &c, c.size, count_read };
    HtcDicom *d = NULL;
    CHECK_EQ_INT(htc_dicom_open_reader(&d, &r, NULL), 0);
    if (!d) {
        close(c.fd);
        free(c.touched);
        return;
    }
    HtcDicomImage img;
    CHECK_EQ_INT(htc_dicom_get_image(d, &img), 0);
    CHECK(k < img.frames);
    const uint64_t header_bytes = c.bytes;
    /* Opening reads the header: nothing past the pixel data's offset table. */
    const uint64_t table_end = img.encapsulated ? img.pixel_data_offset + 8 + 4ull * img.bot_entries : img.pixel_data_offset;
    CHECK(c.max_end <= table_end);
    CHECK_EQ_INT(htc_dicom_bytes_read(d), header_bytes);

    uint64_t offs[64], lens[64];
    uint32_t n = 0;
    CHECK_EQ_INT(htc_dicom_frame_ranges(d, k, offs, lens, 64, &n), 0);
    CHECK(n >= 1 && n <= 64);
    uint64_t frame_bytes = 0;
    for (uint32_t i = 0; i < n; i++)
        frame_bytes += lens[i];
    memset(c.touched, 0, c.size);
    const uint64_t before = c.bytes;
    uint8_t *data;
    size_t size;
    CHECK_EQ_INT(htc_dicom_frame_data(d, k, &data, &size), 0);
    const uint64_t used = c.bytes - before;
    /* The frame's bytes, read once, plus the item headers of its fragments and,
     * for the last frame of a Basic Offset Table, the Sequence Delimitation Item. */
    CHECK(used >= frame_bytes);
    CHECK(used <= frame_bytes + 8 * (uint64_t)n + 8);
    /* Nothing outside the frame's fragments and their item headers, but that delimiter. */
    uint64_t inside = 0;
    for (uint32_t i = 0; i < n; i++)
        inside += touched_in(&c, offs[i] - (img.encapsulated ? 8 : 0), offs[i] + lens[i]);
    CHECK(touched_in(&c, 0, c.size) - inside <= 8);
    CHECK_EQ_INT(size, img.encapsulated ? frame_bytes : size);
    /* The whole file is much more than what was read. */
    CHECK(header_bytes + used < c.size / 2);
    printf("%s frame %u: %llu header bytes + %llu frame bytes read of %llu\n", rel, k + 1,
           (unsigned long long)header_bytes, (unsigned long long)used, (unsigned long long)c.size);
    htc_dicom_free(d, data);
    htc_dicom_close(&d);

    /* Through mmap: the same counts. */
    CHECK_EQ_INT(htc_dicom_open_file(&d, path, NULL), 0);
    if (d) {
        CHECK_EQ_INT(htc_dicom_bytes_read(d), header_bytes);
        CHECK_EQ_INT(htc_dicom_frame_data(d, k, &data, &size), 0);
        CHECK_EQ_INT(htc_dicom_bytes_read(d), header_bytes + used);
        htc_dicom_free(d, data);
        htc_dicom_close(&d);
    }
    close(c.fd);
    free(c.touched);
}

/* ---- a 2 GiB multi-frame file, written sparse so it costs no disk ---- */
static size_t le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); return 2; }
static size_t le32(uint8_t *p, uint32_t v) { le16(p, (uint16_t)v); le16(p + 2, (uint16_t)(v >> 16)); return 4; }

static size_t el(uint8_t *p, uint16_t g, uint16_t e, const char *vr, const void *v, uint16_t n)
{
    size_t o = le16(p, g);
    o += le16(p + o, e);
    memcpy(p + o, vr, 2);
    o += 2;
    o += le16(p + o, n);
    memcpy(p + o, v, n);
    return o + n;
}

static size_t us(uint8_t *p, uint16_t e, uint16_t v)
{
    uint8_t b[2];
    le16(b, v);
    return el(p, 0x0028, e, "US", b, 2);
}

/* Header of a file of nf frames of 512x512 16-bit; encapsulated (one fragment a
 * frame, full Basic Offset Table) or native. Returns the header's size. */
static size_t big_header(uint8_t *h, uint32_t nf, int encapsulated)
{
    memset(h, 0, 128);
    size_t o = 128;
    memcpy(h + o, "DICM", 4);
    o += 4;
    static const char ts_j2k[22] = "1.2.840.10008.1.2.4.90", ts_native[22] = "1.2.840.10008.1.2.1";
    o += el(h + o, 0x0002, 0x0010, "UI", encapsulated ? ts_j2k : ts_native, 22);
    char frames[16];
    snprintf(frames, sizeof(frames), "%u ", nf);
    o += us(h + o, 0x0002, 1);
    o += el(h + o, 0x0028, 0x0004, "CS", "MONOCHROME2 ", 12);
    o += el(h + o, 0x0028, 0x0008, "IS", frames, (uint16_t)(strlen(frames) & ~1u));
    o += us(h + o, 0x0010, 512);
    o += us(h + o, 0x0011, 512);
    o += us(h + o, 0x0100, 16);
    o += us(h + o, 0x0101, 16);
    o += us(h + o, 0x0102, 15);
    o += us(h + o, 0x0103, 0);
    o += le16(h + o, 0x7FE0);
    o += le16(h + o, 0x0010);
    memcpy(h + o, encapsulated ? "OB" : "OW", 2);
    o += 2;
    o += le16(h + o, 0);
    o += le32(h + o, encapsulated ? 0xFFFFFFFFu : nf * 524288u);
    return o;
}

static void check_big(int encapsulated)
{
    const uint32_t nf = 4100, frame = 524288, k = 3333; /* 4100 * 512 KiB > 2 GiB */
    char path[] = "/tmp/htc_dicom_bigXXXXXX";
    const int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    uint8_t *h = calloc(1, 4096 + 4 * (size_t)nf + 16);
    size_t o = big_header(h, nf, encapsulated);
    uint64_t end;
    if (encapsulated) {
        o += le16(h + o, 0xFFFE);
        o += le16(h + o, 0xE000);
        o += le32(h + o, 4 * nf);
        for (uint32_t i = 0; i < nf; i++)
            o += le32(h + o, i * (frame + 8));
        const uint64_t frags = o;
        /* item headers at their places; the fragments' bytes stay holes */
        for (uint32_t i = 0; i < nf; i++) {
            uint8_t ih[8];
            le16(ih, 0xFFFE);
            le16(ih + 2, 0xE000);
            le32(ih + 4, frame);
            CHECK(pwrite(fd, ih, 8, (off_t)(frags + (uint64_t)i * (frame + 8))) == 8);
        }
        uint8_t delim[8];
        le16(delim, 0xFFFE);
        le16(delim + 2, 0xE0DD);
        le32(delim + 4, 0);
        end = frags + (uint64_t)nf * (frame + 8);
        CHECK(pwrite(fd, delim, 8, (off_t)end) == 8);
        end += 8;
    } else {
        end = o + (uint64_t)nf * frame;
        CHECK(ftruncate(fd, (off_t)end) == 0);
    }
    CHECK(pwrite(fd, h, o, 0) == (ssize_t)o);
    close(fd);
    free(h);
    HtcDicom *d = NULL;
    CHECK_EQ_INT(htc_dicom_open_file(&d, path, NULL), 0);
    if (d) {
        HtcDicomImage img;
        CHECK_EQ_INT(htc_dicom_get_image(d, &img), 0);
        CHECK_EQ_INT(img.frames, nf);
        const uint64_t header = htc_dicom_bytes_read(d);
        CHECK(header <= o);
        if (encapsulated) { /* the fragments are holes, not codestreams: their bytes only */
            uint8_t *data;
            size_t size;
            CHECK_EQ_INT(htc_dicom_frame_data(d, k, &data, &size), 0);
            CHECK_EQ_INT(size, frame);
            htc_dicom_free(d, data);
        } else {
            HtcDicomFrame f;
            CHECK_EQ_INT(htc_dicom_decode_frame(d, NULL, k, NULL, &f), 0);
            CHECK_EQ_INT(f.size, frame);
            htc_dicom_frame_release(&f);
        }
        uint64_t offs[4], lens[4];
        uint32_t n = 0;
        CHECK_EQ_INT(htc_dicom_frame_ranges(d, k, offs, lens, 4, &n), 0);
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(lens[0], frame);
        CHECK_EQ_INT(offs[0], encapsulated ? o + (uint64_t)k * (frame + 8) + 8 : o + (uint64_t)k * frame);
        const uint64_t used = htc_dicom_bytes_read(d) - header;
        /* the decode read the frame once, frame_ranges its item header again */
        CHECK(used <= 2 * (uint64_t)frame + 64);
        printf("%s 2 GiB file, frame %u: %llu header bytes + %llu bytes read of %llu\n",
               encapsulated ? "encapsulated" : "native", k + 1, (unsigned long long)header, (unsigned long long)used,
               (unsigned long long)end);
        htc_dicom_close(&d);
    }
    unlink(path);
}

int main(void)
{
    check_big(0);
    check_big(1);
    struct stat st;
    if (stat(TESTDATA "/generated/dicom/CT_enhanced_16f_htj2k_eot.dcm", &st) != 0) {
        printf("test_dicom_lazy: %s is absent: corpus files skipped\n", TESTDATA);
        return test_summary("dicom_lazy");
    }
    check_file("generated/dicom/CT_enhanced_16f_htj2k_eot.dcm", 11);
    check_file("generated/dicom/CT_enhanced_16f_htj2k_eot.dcm", 0);
    check_file("generated/dicom/CT_enhanced_16f_htj2k_eot.dcm", 15);
    check_file("dicom/other/emri_small_RLE.dcm", 6);
    check_file("dicom/other/emri_small_RLE.dcm", 9);
    check_file("dicom/other/emri_small.dcm", 4);
    return test_summary("dicom_lazy");
}
