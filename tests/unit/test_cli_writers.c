/* The CLI's SHA-256 (FIPS 180-4 test vectors), output writers (exact bytes of
 * .pgm/.ppm/.pgx/.raw for small pictures of every sample type) and progress bar. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "../../tools/sha256.c"
#include "../../tools/writers.c"
#include "../../tools/progress.c"

/* The bar forced on, drawn into a file instead of a terminal. */
static void check_progress(void)
{
    char path[] = "/tmp/htc_progress_XXXXXX";
    const int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    fflush(stderr);
    const int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    HtcProgress bar;
    htc_progress_start(&bar, 4, 1);
    htc_progress_update(&bar, 0, "first.j2k");
    htc_progress_message(&bar, "a failure");
    htc_progress_update(&bar, 4, "");
    htc_progress_end(&bar);
    HtcProgress off;
    htc_progress_start(&off, 4, 0); /* stderr is a file: no bar */
    htc_progress_update(&off, 1, "never.j2k");
    htc_progress_end(&off);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buf[4096] = {0};
    FILE *f = fdopen(fd, "rb");
    rewind(f);
    const size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    unlink(path);
    CHECK(n > 0);
    CHECK(strstr(buf, "] 0/4 ") != NULL);
    CHECK(strstr(buf, "first.j2k") != NULL);
    CHECK(strstr(buf, "\r\033[Ka failure\n") != NULL);
    CHECK(strstr(buf, "[########################] 4/4") != NULL);
    CHECK(strstr(buf, "never.j2k") == NULL);
}

static void check_sha(const void *data, size_t size, const char *want)
{
    HtcSha256 c;
    uint8_t d[32];
    char hex[65];
    htc_sha256_init(&c);
    /* in uneven pieces, to exercise the block buffering */
    const uint8_t *p = data;
    size_t step = 1;
    while (size) {
        size_t n = step < size ? step : size;
        htc_sha256_update(&c, p, n);
        p += n;
        size -= n;
        step = step * 3 + 1;
    }
    htc_sha256_final(&c, d);
    htc_sha256_hex(d, hex);
    CHECK(!strcmp(hex, want));
    if (strcmp(hex, want))
        fprintf(stderr, "sha256 %s, expected %s\n", hex, want);
}

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 16);
    *size = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void check_file(const char *path, const void *want, size_t want_size)
{
    size_t n = 0;
    uint8_t *got = slurp(path, &n);
    CHECK(got != NULL);
    CHECK_EQ_INT(n, want_size);
    CHECK(got && n == want_size && !memcmp(got, want, n));
    free(got);
    unlink(path);
}

static int collect(void *opaque, const void *data, size_t size)
{
    HtcSha256 *c = opaque;
    htc_sha256_update(c, data, size);
    return 0;
}

int main(void)
{
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_sha(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    check_sha(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);

    CHECK_EQ_INT(htc_out_format_from_path("a/b.c/x.PGM"), HTC_OUT_PGM);
    CHECK_EQ_INT(htc_out_format_from_path("x.ppm"), HTC_OUT_PPM);
    CHECK_EQ_INT(htc_out_format_from_path("x.pgx"), HTC_OUT_PGX);
    CHECK_EQ_INT(htc_out_format_from_path("x.raw"), HTC_OUT_RAW);
    CHECK_EQ_INT(htc_out_format_from_path("a.b/x"), HTC_OUT_UNKNOWN);
    CHECK_EQ_INT(htc_out_sample_bytes(8), 1);
    CHECK_EQ_INT(htc_out_sample_bytes(9), 2);
    CHECK_EQ_INT(htc_out_sample_bytes(16), 2);
    CHECK_EQ_INT(htc_out_sample_bytes(17), 4);

    char dir[] = "/tmp/htc_writers_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], err[256];

    /* 12-bit unsigned, 3x2, with a row stride wider than the row */
    uint16_t u12[2][4] = {{0, 1, 4095, 9}, {256, 4094, 3, 9}};
    HtcPlane pl = {u12, 3, 2, 8, 1, 12, 0};
    HtcPicture pic = {0};
    pic.width = 3, pic.height = 2, pic.num_planes = 1, pic.sample_type = HTC_SAMPLE_U16;
    pic.planes = &pl;
    snprintf(path, sizeof(path), "%s/a.pgm", dir);
    CHECK_EQ_INT(htc_write_picture(&pic, path, HTC_OUT_PGM, err, sizeof(err)), 0);
    const uint8_t pgm[] = "P5\n3 2\n4095\n\x00\x00\x00\x01\x0f\xff\x01\x00\x0f\xfe\x00\x03";
    check_file(path, pgm, sizeof(pgm) - 1);
    snprintf(path, sizeof(path), "%s/a.raw", dir);
    CHECK_EQ_INT(htc_write_picture(&pic, path, HTC_OUT_RAW, err, sizeof(err)), 0);
    const uint8_t raw12[] = {0, 0, 1, 0, 0xff, 0x0f, 0, 1, 0xfe, 0x0f, 3, 0};
    check_file(path, raw12, sizeof(raw12));
    CHECK_EQ_INT(htc_raw_size(&pic), 12);

    /* signed 8-bit in I8, and signed 16-bit in I32 (precision 16) */
    int8_t s8[2][2] = {{-128, 127}, {-1, 0}};
    int32_t s16[1][2] = {{-32768, 300}};
    HtcPlane two_planes[2] = {{s8, 2, 2, 2, 1, 8, 1}, {s16, 2, 1, 8, 1, 16, 1}};
    HtcPicture sp = {0};
    sp.num_planes = 2, sp.sample_type = HTC_SAMPLE_I8, sp.planes = two_planes;
    sp.num_planes = 1;
    snprintf(path, sizeof(path), "%s/s.pgx", dir);
    CHECK_EQ_INT(htc_write_picture(&sp, path, HTC_OUT_PGX, err, sizeof(err)), 0);
    const uint8_t pgx8[] = "PG ML - 8 2 2\n\x80\x7f\xff\x00";
    check_file(path, pgx8, sizeof(pgx8) - 1);
    snprintf(path, sizeof(path), "%s/s.pgm", dir);
    CHECK_EQ_INT(htc_write_picture(&sp, path, HTC_OUT_PGM, err, sizeof(err)), HTC_EUNSUPPORTED);
    CHECK(strstr(err, "signed") != NULL);
    HtcPicture sp32 = {0};
    sp32.num_planes = 1, sp32.sample_type = HTC_SAMPLE_I32, sp32.planes = &two_planes[1];
    snprintf(path, sizeof(path), "%s/t.raw", dir);
    CHECK_EQ_INT(htc_write_picture(&sp32, path, HTC_OUT_RAW, err, sizeof(err)), 0);
    const uint8_t raw16[] = {0x00, 0x80, 0x2c, 0x01};
    check_file(path, raw16, sizeof(raw16));
    snprintf(path, sizeof(path), "%s/t.pgx", dir);
    CHECK_EQ_INT(htc_write_picture(&sp32, path, HTC_OUT_PGX, err, sizeof(err)), 0);
    const uint8_t pgx16[] = "PG ML - 16 2 1\n\x80\x00\x01\x2c";
    check_file(path, pgx16, sizeof(pgx16) - 1);

    /* 3 interleaved 8-bit components: .ppm, .pgx per component, .raw planar */
    uint8_t rgb[2][6] = {{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12}};
    HtcPlane cp[3];
    for (int c = 0; c < 3; c++)
        cp[c] = (HtcPlane){&rgb[0][c], 2, 2, 6, 3, 8, 0};
    HtcPicture ip = {0};
    ip.num_planes = 3, ip.sample_type = HTC_SAMPLE_U8, ip.layout = HTC_LAYOUT_INTERLEAVED;
    ip.planes = cp;
    snprintf(path, sizeof(path), "%s/c.ppm", dir);
    CHECK_EQ_INT(htc_write_picture(&ip, path, HTC_OUT_PPM, err, sizeof(err)), 0);
    const uint8_t ppm[] = "P6\n2 2\n255\n\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c";
    check_file(path, ppm, sizeof(ppm) - 1);
    snprintf(path, sizeof(path), "%s/c.raw", dir);
    CHECK_EQ_INT(htc_write_picture(&ip, path, HTC_OUT_RAW, err, sizeof(err)), 0);
    const uint8_t rawp[] = {1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12};
    check_file(path, rawp, sizeof(rawp));
    snprintf(path, sizeof(path), "%s/c.pgx", dir);
    CHECK_EQ_INT(htc_write_picture(&ip, path, HTC_OUT_PGX, err, sizeof(err)), 0);
    const uint8_t pgx_g[] = "PG ML + 8 2 2\n\x02\x05\x08\x0b";
    snprintf(path, sizeof(path), "%s/c_1.pgx", dir);
    check_file(path, pgx_g, sizeof(pgx_g) - 1);
    snprintf(path, sizeof(path), "%s/c_0.pgx", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/c_2.pgx", dir);
    unlink(path);

    /* the .raw stream hashes as the file would */
    HtcSha256 c;
    uint8_t d[32], d2[32];
    htc_sha256_init(&c);
    CHECK_EQ_INT(htc_raw_stream(&ip, collect, &c), 0);
    htc_sha256_final(&c, d);
    htc_sha256_init(&c);
    htc_sha256_update(&c, rawp, sizeof(rawp));
    htc_sha256_final(&c, d2);
    CHECK(!memcmp(d, d2, 32));

    /* a .ppm of components of different sizes is refused */
    cp[2].width = 1;
    snprintf(path, sizeof(path), "%s/d.ppm", dir);
    CHECK_EQ_INT(htc_write_picture(&ip, path, HTC_OUT_PPM, err, sizeof(err)), HTC_EUNSUPPORTED);
    CHECK(access(path, F_OK) != 0);
    /* an unwritable path gives HTC_EIO and names the file */
    CHECK_EQ_INT(htc_write_picture(&pic, "/nonexistent-dir/x.raw", HTC_OUT_RAW, err, sizeof(err)),
                 HTC_EIO);
    CHECK(strstr(err, "/nonexistent-dir/x.raw") != NULL);
    rmdir(dir);
    check_progress();
    return test_summary("test_cli_writers");
}
