/* Every codestream, JP2 and JPH file of the corpus (htj2k/, j2k/,
 * generated/; not dicom/) parses, and its header facts are coherent.
 * Files in j2k/malformed/ may fail, but only with a negative status and a
 * message. With an argument, parses just those files and prints a line each. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "htc/htc.h"
#include "test.h"

static int num_ok, num_bad_ok, num_bad_err;

static int is_stream(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    static const char *const ext[] = {".j2k", ".j2c", ".jp2", ".jph", ".jhc", ".jpc", ".jpx"};
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
        if (!strcmp(dot, ext[i]))
            return 1;
    return 0;
}

/* Checks a parsed stream's facts against each other. */
static void check_coherent(const HtcStream *s, const char *path)
{
    HtcImageInfo info;
    CHECK_EQ_INT(htc_stream_get_info(s, &info), 0);
    CHECK(info.width > 0 && info.height > 0);
    CHECK(info.num_components >= 1);
    uint32_t parts = 0;
    for (uint32_t t = 0; t < info.num_tiles_x * info.num_tiles_y; t++) {
        HtcTileInfo ti;
        CHECK_EQ_INT(htc_stream_get_tile(s, t, &ti), 0);
        CHECK(ti.x0 < ti.x1 && ti.y0 < ti.y1);
        parts += ti.num_tile_parts;
        for (uint32_t c = 0; c < info.num_components; c++) {
            HtcCodingInfo ci;
            CHECK_EQ_INT(htc_stream_get_coding(s, t, c, &ci), 0);
            CHECK(ci.levels <= 32 && ci.layers >= 1);
            CHECK(ci.cblk_width >= 4 && ci.cblk_width * ci.cblk_height <= 4096);
        }
    }
    CHECK_EQ_INT(parts, htc_stream_num_tile_parts(s));
    const uint8_t *cs;
    size_t cs_size;
    CHECK_EQ_INT(htc_stream_get_codestream(s, &cs, &cs_size), 0);
    for (uint32_t i = 0; i < htc_stream_num_tile_parts(s); i++) {
        HtcTilePartInfo tp;
        CHECK_EQ_INT(htc_stream_get_tile_part(s, i, &tp), 0);
        CHECK(tp.data_offset + tp.data_length <= cs_size);
        if (tp.data_offset + tp.data_length > cs_size)
            fprintf(stderr, "%s: tile-part %u beyond the codestream\n", path, i);
    }
}

static void parse_one(const char *path, int malformed, int verbose)
{
    HtcStream *s = NULL;
    const int rc = htc_stream_open_file(&s, path, NULL);
    if (verbose)
        printf("%s: %d %s\n", path, rc, rc < 0 ? htc_last_error() : "");
    if (malformed) {
        if (rc < 0) {
            CHECK(s == NULL);
            CHECK(htc_last_error()[0] != 0);
            num_bad_err++;
        } else {
            check_coherent(s, path);
            num_bad_ok++;
        }
    } else {
        if (rc < 0)
            fprintf(stderr, "%s: %s (%d): %s\n", path, htc_strerror(rc), rc, htc_last_error());
        CHECK_EQ_INT(rc, 0);
        if (rc == 0) {
            check_coherent(s, path);
            num_ok++;
        }
    }
    htc_stream_close(&s);
    CHECK(s == NULL);
}

/* Files outside j2k/malformed/ that MANIFEST.tsv describes as deliberately
 * broken (none so far: every other file must parse). */
static int known_broken(const char *path)
{
    (void)path;
    return 0;
}

static void walk(const char *dir, int malformed)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk(path, malformed || !strcmp(e->d_name, "malformed"));
        } else if (is_stream(e->d_name) || malformed) {
            parse_one(path, malformed || known_broken(path), 0);
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            parse_one(argv[i], 1, 1);
        return 0;
    }
    struct stat st;
    if (stat(TESTDATA "/MANIFEST.tsv", &st) != 0) {
        printf("test_parser_corpus: skipped, no test data at " TESTDATA "\n");
        return 77;
    }
    walk(TESTDATA "/htj2k", 0);
    walk(TESTDATA "/j2k", 0);
    walk(TESTDATA "/generated", 0);
    printf("parsed %d files; malformed: %d rejected, %d parsed\n", num_ok, num_bad_err, num_bad_ok);
    CHECK(num_ok >= 130);
    return test_summary("test_parser_corpus");
}
