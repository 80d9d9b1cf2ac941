/* The GPU backend. Without CUDA or without a device: asking for the GPU
 * gives HTC_ENODEVICE with a message, nothing else changes, and the rest is
 * skipped with a clear message. With a device: every HTJ2K file of the
 * corpus decodes on the GPU to the CPU decoder's bytes, one by one and all
 * in one batch, to host and to device memory. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htc/htc.h"
#include "test.h"
#include "read_file.h"

#define MAX_FILES 256
static char *files[MAX_FILES];
static int nfiles;

static void collect(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && nfiles < MAX_FILES) {
        const char *x = strrchr(e->d_name, '.');
        if (!x || (strcmp(x, ".j2k") && strcmp(x, ".j2c") && strcmp(x, ".jph") && strcmp(x, ".jhc")))
            continue;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        files[nfiles++] = strdup(p);
    }
    closedir(d);
}

int main(void)
{
    HtcDecoderSettings gs;
    htc_decoder_default_settings(&gs);
    gs.device = HTC_DEVICE_GPU;
    HtcDecoder *gpu = NULL;
    const int devices = htc_cuda_device_count();
    if (devices <= 0) {
        const int rc = htc_decoder_open(&gpu, &gs);
        CHECK_EQ_INT(rc, HTC_ENODEVICE);
        CHECK(gpu == NULL);
        CHECK(strlen(htc_last_error()) > 0);
        printf("test_gpu: %s; no CUDA device here (%s): GPU decoding not tested\n",
               htc_cuda_built() ? "built with CUDA" : "built without CUDA", htc_last_error());
        if (test_failed)
            return test_summary("gpu");
        return 77;
    }
    /* HTJ2K, and Part 1 (EBCOT) streams, decoded on the GPU too */
    static const char *dirs[] = { "htj2k/conformance", "htj2k/medical", "htj2k/openjph", "htj2k/openjpeg",
                                  "htj2k/misc", "j2k/conformance", "j2k/medical", "j2k/nonregression",
                                  "j2k/grok" };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", TESTDATA, dirs[i]);
        collect(p);
    }
    if (!nfiles) {
        printf("test_gpu: no corpus at %s; skipped\n", TESTDATA);
        return 77;
    }
    CHECK_EQ_INT(htc_decoder_open(&gpu, &gs), 0);
    HtcDecoder *cpu = NULL;
    CHECK_EQ_INT(htc_decoder_open(&cpu, NULL), 0);
    HtcBatchItem *items = calloc((size_t)nfiles, sizeof(*items));
    uint8_t **data = calloc((size_t)nfiles, sizeof(*data));
    size_t *size = calloc((size_t)nfiles, sizeof(*size));
    HtcPicture *ref = calloc((size_t)nfiles, sizeof(*ref));
    int compared = 0;
    for (int i = 0; i < nfiles; i++) {
        data[i] = htc_test_read_file(files[i], &size[i]);
        HtcStream *s = NULL;
        if (!data[i] || htc_stream_open_memory(&s, data[i], size[i], NULL) < 0 ||
            htc_decode(cpu, s, NULL, &ref[i]) < 0) {
            printf("  %s: the CPU refuses it (%s); GPU must refuse too\n", files[i], htc_last_error());
            memset(&ref[i], 0, sizeof(ref[i]));
        }
        /* one by one, host output */
        HtcPicture g;
        memset(&g, 0, sizeof(g));
        const int rc = s ? htc_decode(gpu, s, NULL, &g) : HTC_EFORMAT;
        if (ref[i].buffer) {
            CHECK_EQ_INT(rc, 0);
            const int same = rc == 0 && g.buffer_size == ref[i].buffer_size &&
                             !memcmp(g.buffer, ref[i].buffer, g.buffer_size);
            if (!same)
                printf("  MISMATCH %s (GPU status %d: %s)\n", files[i], rc, htc_last_error());
            CHECK(same);
            compared++;
        } else {
            CHECK(rc < 0);
        }
        htc_picture_release(&g);
        htc_stream_close(&s);
    }
    /* all in one batch, device output, copied back */
    HtcDecodeParams dp;
    htc_decode_default_params(&dp);
    dp.memory = HTC_MEMORY_DEVICE;
    for (int i = 0; i < nfiles; i++) {
        items[i].data = data[i];
        items[i].size = size[i];
        items[i].params = &dp;
    }
    CHECK_EQ_INT(htc_decode_batch(gpu, items, (size_t)nfiles), 0);
    for (int i = 0; i < nfiles; i++) {
        if (!ref[i].buffer) {
            CHECK(items[i].status < 0 && items[i].message[0]);
            continue;
        }
        CHECK_EQ_INT(items[i].status, 0);
        CHECK_EQ_INT(items[i].picture.memory, HTC_MEMORY_DEVICE);
        uint8_t *h = malloc(items[i].picture.buffer_size + 1);
        CHECK_EQ_INT(htc_cuda_copy_to_host(h, items[i].picture.buffer, items[i].picture.buffer_size), 0);
        CHECK(items[i].picture.buffer_size == ref[i].buffer_size &&
              !memcmp(h, ref[i].buffer, ref[i].buffer_size));
        free(h);
        htc_picture_release(&items[i].picture);
    }
    printf("test_gpu: %d files compared GPU vs CPU\n", compared);

    /* A stream of submitted batches: A and C into device memory, B (two
     * items, fewer chunks than the pipeline has slots) into host memory.
     * Waiting for A's ticket makes A final while B is in flight; a
     * synchronous call finishes B and C; closing a decoder finishes what
     * was submitted to it. Then again over two devices where there are two
     * (A and C go to the per-device worker threads, B of two items to one
     * device). */
    for (int pass = 0; pass < 2; pass++) {
        HtcDecoderSettings ss = gs;
        HtcDecoder *dec = gpu;
        if (pass == 1) {
            if (htc_cuda_device_count() < 2) {
                printf("test_gpu: one CUDA device: submitted batches over two devices not run\n");
                break;
            }
            ss.num_devices = 2;
            dec = NULL;
            CHECK_EQ_INT(htc_decoder_open(&dec, &ss), 0);
            if (!dec)
                break;
        }
        HtcBatchItem *sb[3];
        const size_t count[3] = { (size_t)nfiles, 2, (size_t)nfiles };
        uint64_t ticket[3] = { 0, 0, 0 };
        int streamed = 0;
        for (int k = 0; k < 3; k++) {
            sb[k] = calloc((size_t)nfiles, sizeof(HtcBatchItem));
            for (size_t i = 0; i < count[k]; i++) {
                sb[k][i].data = data[i];
                sb[k][i].size = size[i];
                sb[k][i].params = k == 1 ? NULL : &dp;
            }
        }
        for (int k = 0; k < 3; k++) {
            CHECK_EQ_INT(htc_decode_batch_submit(dec, sb[k], count[k], &ticket[k]), 0);
            if (k == 1) {
                CHECK(ticket[0] < ticket[1]);
                CHECK_EQ_INT(htc_decode_batch_wait(dec, ticket[0]), 0);
            }
        }
        CHECK(ticket[1] < ticket[2]);
        for (int k = 0; k < 3; k++) {
            if (k == 1) {
                /* a synchronous batch finishes every earlier one */
                HtcBatchItem one;
                memset(&one, 0, sizeof(one));
                one.data = data[0];
                one.size = size[0];
                CHECK_EQ_INT(htc_decode_batch(dec, &one, 1), 0);
                CHECK_EQ_INT(one.status, ref[0].buffer ? 0 : one.status);
                htc_picture_release(&one.picture);
            }
            for (size_t i = 0; i < count[k]; i++) {
                HtcBatchItem *it = &sb[k][i];
                if (!ref[i].buffer) {
                    CHECK(it->status < 0 && it->message[0]);
                    continue;
                }
                CHECK_EQ_INT(it->status, 0);
                CHECK_EQ_INT(it->picture.memory, k == 1 ? HTC_MEMORY_HOST : HTC_MEMORY_DEVICE);
                uint8_t *h = malloc(ref[i].buffer_size + 1);
                const int sized = it->status == 0 && it->picture.buffer_size == ref[i].buffer_size;
                const int copied = sized && (k == 1 ? (memcpy(h, it->picture.buffer, ref[i].buffer_size), 0)
                                                    : htc_cuda_copy_to_host(h, it->picture.buffer,
                                                                            ref[i].buffer_size)) == 0;
                const int same = copied && !memcmp(h, ref[i].buffer, ref[i].buffer_size);
                if (!same)
                    printf("  MISMATCH %s in submitted batch %d\n", files[i], k);
                CHECK(same);
                streamed += same;
                free(h);
                htc_picture_release(&it->picture);
            }
        }
        CHECK_EQ_INT(htc_decode_batch_wait(dec, UINT64_MAX), 0);
        /* closing with a batch in flight */
        HtcDecoder *g2 = NULL;
        CHECK_EQ_INT(htc_decoder_open(&g2, &ss), 0);
        CHECK_EQ_INT(htc_decode_batch_submit(g2, sb[0], (size_t)nfiles, NULL), 0);
        htc_decoder_close(&g2);
        for (int i = 0; i < nfiles; i++) {
            if (!ref[i].buffer)
                continue;
            uint8_t *h = malloc(ref[i].buffer_size + 1);
            CHECK(sb[0][i].status == 0 && sb[0][i].picture.buffer_size == ref[i].buffer_size &&
                  htc_cuda_copy_to_host(h, sb[0][i].picture.buffer, ref[i].buffer_size) == 0 &&
                  !memcmp(h, ref[i].buffer, ref[i].buffer_size));
            free(h);
            htc_picture_release(&sb[0][i].picture);
        }
        for (int k = 0; k < 3; k++)
            free(sb[k]);
        printf("test_gpu: %d items of three submitted batches compared (%u device%s)\n", streamed,
               ss.num_devices ? ss.num_devices : 1, ss.num_devices > 1 ? "s" : "");
        if (dec != gpu)
            htc_decoder_close(&dec);
    }

    /* A device output into a buffer no GPU can write (pageable host memory)
     * is that item's clear error; the batch's other items decode. */
    for (int i = 0; i < nfiles; i++) {
        if (!ref[i].buffer)
            continue;
        HtcBatchItem two[2];
        memset(two, 0, sizeof(two));
        uint8_t *pageable = malloc(ref[i].buffer_size + 1);
        for (int k = 0; k < 2; k++) {
            two[k].data = data[i];
            two[k].size = size[i];
            two[k].params = &dp;
        }
        two[1].picture.buffer = pageable;
        two[1].picture.buffer_size = ref[i].buffer_size;
        CHECK_EQ_INT(htc_decode_batch(gpu, two, 2), 0);
        CHECK_EQ_INT(two[0].status, 0);
        CHECK_EQ_INT(two[1].status, HTC_EINVAL);
        CHECK(strstr(two[1].message, "not memory a CUDA device can write") != NULL);
        uint8_t *h = malloc(ref[i].buffer_size + 1);
        CHECK(two[0].status == 0 && two[0].picture.buffer_size == ref[i].buffer_size &&
              htc_cuda_copy_to_host(h, two[0].picture.buffer, ref[i].buffer_size) == 0 &&
              !memcmp(h, ref[i].buffer, ref[i].buffer_size));
        free(h);
        htc_picture_release(&two[0].picture);
        htc_picture_release(&two[1].picture);
        free(pageable);
        break;
    }

    /* Partial decodes: a region, a reduced resolution, the first layer, one
     * tile, three components of a different type and interleaved; the GPU
     * gives the CPU's bytes (or refuses where the CPU refuses). */
    {
        int partial = 0;
        for (int i = 0; i < nfiles; i++) {
            HtcStream *s = NULL;
            if (!data[i] || !ref[i].buffer || htc_stream_open_memory(&s, data[i], size[i], NULL) < 0)
                continue;
            const uint32_t w = ref[i].width, h = ref[i].height;
            for (int v = 0; v < 5; v++) {
                HtcDecodeParams q;
                htc_decode_default_params(&q);
                if (v == 0) {
                    q.use_region = 1;
                    q.region_x0 = w / 4;
                    q.region_y0 = h / 3;
                    q.region_x1 = w / 4 + (w + 1) / 2;
                    q.region_y1 = h / 3 + (h + 2) / 3;
                } else if (v == 1) {
                    q.reduce = 1;
                } else if (v == 2) {
                    q.layers = 1;
                } else if (v == 3) {
                    q.tile = 0;
                } else {
                    q.sample_type = HTC_SAMPLE_F32;
                    q.layout = HTC_LAYOUT_INTERLEAVED;
                }
                HtcPicture a, b;
                memset(&a, 0, sizeof(a));
                memset(&b, 0, sizeof(b));
                const int rc = htc_decode(cpu, s, &q, &a);
                const int rg = htc_decode(gpu, s, &q, &b);
                if (rc < 0) {
                    CHECK(rg < 0);
                } else {
                    const int same = rg == rc && a.buffer_size == b.buffer_size &&
                                     !memcmp(a.buffer, b.buffer, a.buffer_size);
                    if (!same)
                        printf("  MISMATCH %s, partial decode %d (CPU %d, GPU %d: %s)\n", files[i], v, rc, rg,
                               htc_last_error());
                    CHECK(same);
                    partial++;
                }
                htc_picture_release(&a);
                htc_picture_release(&b);
            }
            htc_stream_close(&s);
        }
        printf("test_gpu: %d partial decodes compared GPU vs CPU\n", partial);
    }

    /* Damaged copies (bytes changed past the first fifth of the file, where
     * the packets and code-blocks are): the GPU gives what the CPU gives,
     * byte for byte where the CPU decodes, an error where it refuses. The
     * block kernels meet every kind of corrupt code-block here.
     * HTC_TEST_GPU_ROUNDS=R: R rounds of such copies, each its own batch
     * (the later ones also cut short), for longer runs under a sanitizer. */
    const char *rounds_env = getenv("HTC_TEST_GPU_ROUNDS");
    const int rounds = rounds_env ? atoi(rounds_env) : 1;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < rounds; round++) {
        enum { VARIANTS = 4 };
        const int nd = nfiles * VARIANTS;
        HtcBatchItem *bad = calloc((size_t)nd, sizeof(*bad));
        uint8_t **bdata = calloc((size_t)nd, sizeof(*bdata));
        HtcPicture *bref = calloc((size_t)nd, sizeof(*bref));
        int *brc = calloc((size_t)nd, sizeof(*brc));
        int damaged = 0, decoded = 0;
        for (int i = 0; i < nfiles; i++) {
            for (int v = 0; v < VARIANTS && data[i] && size[i] > 64; v++) {
                const int k = damaged++;
                bdata[k] = malloc(size[i]);
                memcpy(bdata[k], data[i], size[i]);
                const int flips = 1 + v + round % 8;
                for (int f = 0; f < flips; f++) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    const size_t at = size[i] / 5 + (size_t)(rng >> 33) % (size[i] - size[i] / 5);
                    bdata[k][at] ^= (uint8_t)(1 + (rng >> 13) % 255);
                }
                size_t len = size[i];
                if (round && v % 2) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    len = size[i] / 5 + (size_t)(rng >> 33) % (size[i] - size[i] / 5);
                }
                bad[k].data = bdata[k];
                bad[k].size = len;
                HtcStream *s = NULL;
                brc[k] = htc_stream_open_memory(&s, bdata[k], len, NULL);
                if (brc[k] >= 0)
                    brc[k] = htc_decode(cpu, s, NULL, &bref[k]);
                htc_stream_close(&s);
            }
        }
        CHECK_EQ_INT(htc_decode_batch(gpu, bad, (size_t)damaged), 0);
        for (int k = 0; k < damaged; k++) {
            if (brc[k] < 0 || !bref[k].buffer) {
                CHECK(bad[k].status < 0);
            } else {
                decoded++;
                const int same = bad[k].status == brc[k] && bad[k].picture.buffer_size == bref[k].buffer_size &&
                                 !memcmp(bad[k].picture.buffer, bref[k].buffer, bref[k].buffer_size);
                if (!same)
                    printf("  MISMATCH damaged copy %d (CPU status %d, GPU status %d: %s)\n", k, brc[k],
                           bad[k].status, bad[k].message);
                CHECK(same);
            }
            htc_picture_release(&bad[k].picture);
            htc_picture_release(&bref[k]);
            free(bdata[k]);
        }
        printf("test_gpu: %d damaged copies, %d of them decoded by the CPU and compared\n", damaged, decoded);
        free(bad);
        free(bdata);
        free(bref);
        free(brc);
    }
    for (int i = 0; i < nfiles; i++) {
        htc_picture_release(&ref[i]);
        free(data[i]);
        free(files[i]);
    }
    free(items);
    free(data);
    free(size);
    free(ref);
    htc_decoder_close(&gpu);
    htc_decoder_close(&cpu);
    return test_summary("gpu");
}
