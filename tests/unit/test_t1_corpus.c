/* The Part 1 block decoder on the corpus: every Part 1 code-block of the
 * conformance and medical codestreams, through tier 2, hashed as OpenJPEG
 * holds its decoded blocks (twice the reconstruction point: 2|q| + 2^U,
 * signed). The hashes below were taken when the output of every block of
 * these files had been compared, block by block, with an OpenJPEG 2.5 build
 * that dumps its tier-1 output, and found identical; they pin that
 * behaviour for later speed work. The hash is a sum of per-block hashes,
 * so it does not depend on the order of the jobs.
 * HTC_T1_CORPUS_PRINT=1 prints the table instead. Exit 77 without the
 * corpus. Both builds of the decoder (plain C, and AVX2 where the CPU has
 * it) must give these hashes. `test_t1_corpus --bench R FILE...` times
 * tier 1 alone (htc_t1_decode_block: the build the CPU flags and
 * HTC_CPUMASK select). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "cpu.h"
#include "codestream/codestream.h"
#include "codestream/tier2.h"
#include "coding/block.h"
#include "test.h"

static const struct {
    const char *path;
    uint32_t blocks;
    uint64_t hash;
} files[] = {
#include "t1_corpus_hashes.inc"
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

/* The Part 1 blocks of a file, gathered through tier 2 once: each block's
 * parameters, its data copied with the padding the decoder expects, and the
 * fields the hash keys on. */
typedef struct Blk {
    HtcBlockParams bp;
    int32_t key[7];
} Blk;

typedef struct Blocks {
    Blk *b;
    uint8_t **data;
    uint32_t n, cap;
} Blocks;

static void blocks_free(Blocks *bs)
{
    for (uint32_t i = 0; i < bs->n; i++)
        free(bs->data[i]);
    free(bs->data);
    free(bs->b);
    memset(bs, 0, sizeof(*bs));
}

/* 0, or -1 on a parse or tier-2 error. */
static int gather(const char *path, Blocks *bs)
{
    memset(bs, 0, sizeof(*bs));
    HtcStream *s;
    if (htc_stream_open_file(&s, path, NULL) < 0)
        return -1;
    int rc = 0;
    for (uint32_t t = 0; t < s->ntx * s->nty && rc == 0; t++) {
        HtcJobTable jt;
        htc_job_table_init(&jt);
        HtcT2Options o;
        memset(&o, 0, sizeof(o));
        if (htc_t2_decode_tile(s, t, &o, &jt) < 0) {
            rc = -1;
            break;
        }
        for (uint32_t i = 0; i < jt.num_jobs; i++) {
            const HtcBlockJob *j = &jt.jobs[i];
            if (j->is_ht)
                continue;
            if (bs->n == bs->cap) {
                bs->cap = bs->cap ? 2 * bs->cap : 256;
                bs->b = realloc(bs->b, bs->cap * sizeof(*bs->b));
                bs->data = realloc(bs->data, bs->cap * sizeof(*bs->data));
            }
            Blk *b = &bs->b[bs->n];
            uint8_t *buf = malloc((size_t)j->data_length + HTC_BLOCK_PAD);
            bs->data[bs->n++] = buf;
            HtcBlockParams *bp = &b->bp;
            memset(bp, 0, sizeof(*bp));
            uint8_t *dst = buf;
            for (uint32_t c = 0; c < j->num_chunks; c++) {
                const HtcChunk *ch = &jt.chunks[j->first_chunk + c];
                memcpy(dst, s->cs + ch->offset, ch->length);
                dst += ch->length;
            }
            memset(dst, 0, HTC_BLOCK_PAD);
            bp->data = buf;
            bp->num_segments = j->num_segs;
            for (uint32_t k = 0; k < j->num_segs && k < HTC_MAX_SEGMENTS; k++) {
                bp->seg_len[k] = jt.segs[j->first_seg + k].length;
                bp->seg_passes[k] = jt.segs[j->first_seg + k].passes;
            }
            bp->num_passes = j->num_passes;
            bp->zero_planes = j->zero_planes;
            bp->mb = j->mb;
            bp->width = j->x1 - j->x0;
            bp->height = j->y1 - j->y0;
            bp->cblk_style = j->cblk_style;
            bp->band = j->band;
            const int32_t key[7] = { j->res, j->band, (int32_t)j->comp, (int32_t)j->x0,
                                     (int32_t)j->y0, (int32_t)bp->width, (int32_t)bp->height };
            memcpy(b->key, key, sizeof(key));
        }
        htc_job_table_free(&s->ctx, &jt);
    }
    htc_stream_close(&s);
    return rc;
}

/* Decodes every block; the sum of per-block hashes of the output (twice
 * the reconstruction points, as OpenJPEG holds them). */
typedef int (*DecodeFn)(const HtcBlockParams *, int32_t *, ptrdiff_t, uint32_t *, void *, size_t);

static uint64_t hash_blocks(const Blocks *bs, void *scratch, int32_t *out, DecodeFn decode)
{
    uint64_t hash = 0;
    for (uint32_t i = 0; i < bs->n; i++) {
        const HtcBlockParams *bp = &bs->b[i].bp;
        uint32_t und = 0;
        const int r = decode(bp, out, bp->width, &und, scratch, HTC_BLOCK_SCRATCH_SIZE);
        const uint32_t n = bp->width * bp->height;
        if (!(und & HTC_UNDECODED_HALVES)) {
            for (uint32_t k = 0; k < n; k++) {
                const int32_t q = out[k];
                const int32_t m = q < 0 ? -q : q;
                const int32_t d = q ? 2 * m + (int32_t)(1u << und) : 0;
                out[k] = q < 0 ? -d : d;
            }
        }
        int32_t key[8];
        key[0] = r;
        memcpy(key + 1, bs->b[i].key, sizeof(bs->b[i].key));
        uint64_t h = fnv(0xCBF29CE484222325ull, key, sizeof(key));
        h = fnv(h, out, n * sizeof(int32_t));
        hash += h;
    }
    return hash;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Bench mode: test_t1_corpus --bench R FILE...: tier 1 alone, every Part 1
 * block of each file decoded R times (CPU time of one pass over the blocks:
 * min and median), one thread. */
static int bench(int repeat, int nfiles, char **paths, void *scratch, int32_t *out)
{
    for (int f = 0; f < nfiles; f++) {
        Blocks bs;
        if (gather(paths[f], &bs) < 0) {
            fprintf(stderr, "%s: cannot gather its blocks\n", paths[f]);
            return 1;
        }
        double *ms = malloc((size_t)repeat * sizeof(double));
        uint64_t hash = hash_blocks(&bs, scratch, out, htc_t1_decode_block); /* warm-up */
        for (int r = 0; r < repeat; r++) {
            const double t0 = cpu_ms();
            for (uint32_t i = 0; i < bs.n; i++) {
                const HtcBlockParams *bp = &bs.b[i].bp;
                uint32_t und;
                htc_t1_decode_block(bp, out, bp->width, &und, scratch, HTC_BLOCK_SCRATCH_SIZE);
            }
            ms[r] = cpu_ms() - t0;
        }
        qsort(ms, (size_t)repeat, sizeof(double), cmp_double);
        printf("%-40s %5u blocks  min %8.3f ms  median %8.3f ms  hash %016llx\n", paths[f], bs.n, ms[0],
               ms[repeat / 2], (unsigned long long)hash);
        free(ms);
        blocks_free(&bs);
    }
    return 0;
}

int main(int argc, char **argv)
{
    void *scratch = malloc(HTC_BLOCK_SCRATCH_SIZE);
    int32_t *out = malloc(4096 * sizeof(int32_t));
    if (argc > 3 && !strcmp(argv[1], "--bench"))
        return bench(atoi(argv[2]) > 0 ? atoi(argv[2]) : 1, argc - 3, argv + 3, scratch, out);
    FILE *probe = fopen(TESTDATA "/README.md", "rb");
    if (!probe) {
        printf("t1_corpus: %s not found, skipped\n", TESTDATA);
        return 77;
    }
    fclose(probe);
    const int print = getenv("HTC_T1_CORPUS_PRINT") != NULL;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", TESTDATA, files[i].path);
        Blocks bs;
        const int rc = gather(path, &bs);
        const uint32_t blocks = bs.n;
        const uint64_t hash = rc == 0 ? hash_blocks(&bs, scratch, out, htc_t1_decode_block_c) : 0;
#if defined(__x86_64__)
        /* the AVX2 build of the same source, where the CPU has it */
        if (rc == 0 && !print && (htc_cpu_flags_raw() & HTC_CPU_AVX2))
            CHECK(hash_blocks(&bs, scratch, out, htc_t1_decode_block_avx2) == files[i].hash);
#endif
        blocks_free(&bs);
        if (print) {
            printf("    { \"%s\", %u, 0x%016llxull },\n", files[i].path, blocks, (unsigned long long)hash);
            continue;
        }
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(blocks, files[i].blocks);
        if (hash != files[i].hash)
            fprintf(stderr, "%s: tier-1 output differs (hash %016llx)\n", files[i].path,
                    (unsigned long long)hash);
        CHECK(hash == files[i].hash);
    }
    free(out);
    free(scratch);
    return print ? 0 : test_summary("t1_corpus");
}
