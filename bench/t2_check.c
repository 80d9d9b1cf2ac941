/* bench/t2_check: a fingerprint of tier 2's results, to compare two builds
 * of the library (a change to tier 2 must leave every job table and every
 * status as it was). For each file it runs htc_t2_decode_tile on every tile
 * with a few option sets, on the file as given, on copies cut short and on
 * copies with bytes changed near the start of each tile-part's data (where
 * the packet headers are), and prints one line per file: a hash of every
 * status, truncation flag and job table field, and the number of runs.
 *
 *   cc -O2 -Iinclude -Isrc bench/t2_check.c build/libhtc.a -lpthread -lm -o build/t2_check
 *   build/t2_check FILE... > new.txt   (then diff with the old build's output)
 *
 * Files may be raw codestreams, JP2/JPH files or DICOM files (the first
 * codestream found in a DICOM file is used). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htc/htc.h"
#include "codestream/tier2.h"
#include "../tests/read_file.h"

static int is_dicom(const uint8_t *b, size_t n)
{
    return n > 132 && !memcmp(b + 128, "DICM", 4);
}

/* The codestream inside a DICOM file: SOC SIZ up to the end of the file. */
static const uint8_t *find_codestream(const uint8_t *b, size_t n, size_t *len)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (b[i] == 0xff && b[i + 1] == 0x4f && b[i + 2] == 0xff && b[i + 3] == 0x51) {
            *len = n - i;
            return b + i;
        }
    *len = n;
    return b;
}

static uint64_t hash;

static void mix(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        hash ^= (v >> (8 * i)) & 0xFF;
        hash *= 0x100000001B3ull;
    }
}

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static HtcJobTable jt;
static long runs;

/* Tier 2 of every tile under several option sets; everything into the hash. */
static void check_bytes(const uint8_t *data, size_t len)
{
    HtcStream *s = NULL;
    HtcStreamSettings ss;
    htc_stream_default_settings(&ss);
    ss.limits.max_memory = (uint64_t)1 << 30;
    const int orc = htc_stream_open_memory(&s, data, len, &ss);
    mix((uint64_t)(int64_t)orc);
    if (orc < 0)
        return;
    const uint32_t ntiles = s->ntx * s->nty;
    uint8_t keep[4] = { 1, 0, 1, 0 };
    for (int o = 0; o < 4; o++) {
        for (uint32_t ti = 0; ti < ntiles && ti < 512; ti++) {
            HtcT2Options opt;
            memset(&opt, 0, sizeof(opt));
            opt.allow_truncated = o != 0;
            if (o == 2) {
                opt.max_layers = 1;
                opt.reduce = 1;
                opt.emit_empty = 1;
            }
            if (o == 3) {
                opt.max_layers = 2;
                opt.comp_keep = s->num_components <= 4 ? keep : NULL;
            }
            htc_job_table_reset(&jt);
            const int rc = htc_t2_decode_tile(s, ti, &opt, &jt);
            runs++;
            mix((uint64_t)(int64_t)rc);
            mix((uint64_t)opt.truncated);
            if (rc < 0)
                continue;
            mix(jt.num_jobs);
            mix(jt.num_segs);
            mix(jt.num_chunks);
            mix(jt.max_block_bytes);
            for (uint32_t k = 0; k < jt.num_jobs; k++) {
                const HtcBlockJob *j = &jt.jobs[k];
                mix(j->tile);
                mix(j->comp);
                mix(j->res);
                mix(j->band);
                mix(j->band_index);
                mix(j->is_ht);
                mix(j->reversible);
                mix(j->cblk_style);
                mix(j->x0);
                mix(j->y0);
                mix(j->x1);
                mix(j->y1);
                mix(j->out_x);
                mix(j->out_y);
                mix(j->mb);
                mix(j->roi_shift);
                mix(j->zero_planes);
                mix(j->num_passes);
                mix(j->first_chunk);
                mix(j->num_chunks);
                mix(j->first_seg);
                mix(j->num_segs);
                mix(j->data_length);
                uint32_t d;
                memcpy(&d, &j->delta, 4);
                mix(d);
            }
            for (uint32_t k = 0; k < jt.num_segs; k++) {
                mix(jt.segs[k].length);
                mix(jt.segs[k].passes);
                mix(jt.segs[k].num_chunks);
            }
            for (uint32_t k = 0; k < jt.num_chunks; k++) {
                mix(jt.chunks[k].offset);
                mix(jt.chunks[k].length);
            }
        }
    }
    htc_stream_close(&s);
}

int main(int argc, char **argv)
{
    int mutations = 12;
    int a = 1;
    if (a + 1 < argc && !strcmp(argv[a], "--mutations")) {
        mutations = atoi(argv[a + 1]);
        a += 2;
    }
    htc_job_table_init(&jt);
    for (; a < argc; a++) {
        size_t fsize = 0, len = 0;
        uint8_t *file = htc_test_read_file(argv[a], &fsize);
        if (!file) {
            printf("%s unreadable\n", argv[a]);
            continue;
        }
        const uint8_t *cs = file;
        len = fsize;
        if (is_dicom(file, fsize))
            cs = find_codestream(file, fsize, &len);
        hash = 0xCBF29CE484222325ull;
        runs = 0;
        rng = 88172645463325252ull ^ fsize;
        check_bytes(cs, len);

        /* Where the tile-parts' data starts, in the bytes given. */
        size_t starts[64];
        int nstarts = 0;
        HtcStream *s = NULL;
        if (htc_stream_open_memory(&s, cs, len, NULL) >= 0) {
            const size_t base = (size_t)(s->cs - cs);
            for (uint32_t i = 0; i < s->num_parts && nstarts < 64; i++)
                starts[nstarts++] = base + (size_t)s->parts[i].data.offset;
            htc_stream_close(&s);
        }
        uint8_t *copy = malloc(len ? len : 1);
        /* Cut short. */
        for (int k = 1; k <= 6 && copy; k++) {
            size_t n = nstarts ? starts[rnd() % (uint32_t)nstarts] + rnd() % 600 : len * (size_t)k / 7;
            if (n > len)
                n = len;
            memcpy(copy, cs, n);
            check_bytes(copy, n);
        }
        /* Bytes changed near the packet headers. */
        for (int k = 0; k < mutations && copy && nstarts; k++) {
            memcpy(copy, cs, len);
            const int nm = 1 + (int)(rnd() % 3);
            for (int m = 0; m < nm; m++) {
                const size_t at = starts[rnd() % (uint32_t)nstarts] + rnd() % 256;
                if (at < len)
                    copy[at] = (rnd() & 3) == 0 ? 0xFF : (uint8_t)rnd();
            }
            check_bytes(copy, len);
        }
        free(copy);
        printf("%s %016llx %ld\n", argv[a], (unsigned long long)hash, runs);
        free(file);
    }
    htc_job_table_free(NULL, &jt);
    return 0;
}
