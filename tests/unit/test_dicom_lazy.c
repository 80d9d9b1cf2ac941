/* Reaching frame K of a multi-frame file reads only the header and that
 * frame's bytes: a counting byte-range reader proves it, for the Extended
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

int main(void)
{
    struct stat st;
    if (stat(TESTDATA "/generated/dicom/CT_enhanced_16f_htj2k_eot.dcm", &st) != 0) {
        printf("test_dicom_lazy: %s is absent: skipped\n", TESTDATA);
        return 77;
    }
    check_file("generated/dicom/CT_enhanced_16f_htj2k_eot.dcm", 11);
    check_file("generated/dicom/CT_enhanced_16f_htj2k_eot.dcm", 0);
    check_file("generated/dicom/CT_enhanced_16f_htj2k_eot.dcm", 15);
    check_file("dicom/other/emri_small_RLE.dcm", 6);
    check_file("dicom/other/emri_small_RLE.dcm", 9);
    check_file("dicom/other/emri_small.dcm", 4);
    return test_summary("dicom_lazy");
}
