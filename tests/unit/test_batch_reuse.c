/* htc_decode_batch called again and again on one decoder, whose per-thread
 * decoders and their scratch persist between calls (src/decode_batch.c),
 * and whose released pictures come back from its picture cache
 * (src/picture_cache.c) with the previous image's bytes in them: every item
 * of every call must give the bytes of a single one-thread decode (without
 * a cache) of the same data, whether the picture comes from the library or
 * from the caller's buffer, after a call with a large image (whose scratch
 * the threads must give back: at most 32 MiB kept each), with damaged items
 * (a multi-tile stream cut short decodes to zeros where its tiles are
 * missing) in between, with caches of 0, 1 MiB and the default size; pictures
 * released after the decoder closed; no leaks (ASan). */
#include <stdlib.h>
#include <string.h>

#include "htc/htc.h"
#include "decode.h"
#include "read_file.h"
#include "test.h"

static const char *const FILES[] = {
    "htj2k/medical/CT1.j2c", "htj2k/medical/CT2.j2c", "htj2k/medical/MR1.j2c",
    "htj2k/medical/NM1.j2c", "htj2k/medical/XA1.j2c", "j2k/medical/CT1.j2k",
    "j2k/medical/US1.j2k", "htj2k/openjph/simple_dec_irv97_64x64_tiles_CPRL33x33.jph",
};
#define NUM_FILES (sizeof(FILES) / sizeof(FILES[0]))
#define BIG "generated/mammo/RG2_mirror_3064x4774_htj2k_rpcl_tlm.j2c"

typedef struct Src {
    uint8_t *data;
    size_t size;
    int status;        /* of the single decode */
    uint8_t *ref;      /* samples of the single decode */
    size_t ref_size;
} Src;

static uint8_t *read_file(const char *name, size_t *size)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TESTDATA, name);
    return htc_test_read_file(path, size);
}

/* The single decode of s->data[0 .. s->size - 1]. */
static void reference(Src *s, HtcDecoder *one)
{
    HtcStream *st = NULL;
    HtcPicture pic;
    memset(&pic, 0, sizeof(pic));
    int rc = htc_stream_open_memory(&st, s->data, s->size, NULL);
    if (rc >= 0)
        rc = htc_decode(one, st, NULL, &pic);
    htc_stream_close(&st);
    s->status = rc < 0 ? rc : 0;
    if (rc >= 0 && (s->ref = malloc(pic.buffer_size)) != NULL) {
        s->ref_size = pic.buffer_size;
        memcpy(s->ref, pic.buffer, pic.buffer_size);
    }
    htc_picture_release(&pic);
}

static int load(Src *s, const char *name, HtcDecoder *one)
{
    memset(s, 0, sizeof(*s));
    s->data = read_file(name, &s->size);
    if (!s->data)
        return -1;
    HtcStream *st = NULL;
    HtcPicture pic;
    memset(&pic, 0, sizeof(pic));
    int rc = htc_stream_open_memory(&st, s->data, s->size, NULL);
    if (rc >= 0)
        rc = htc_decode(one, st, NULL, &pic);
    htc_stream_close(&st);
    CHECK_EQ_INT(rc, 0);
    if (rc >= 0) {
        s->ref = malloc(pic.buffer_size);
        s->ref_size = pic.buffer_size;
        if (s->ref)
            memcpy(s->ref, pic.buffer, pic.buffer_size);
    }
    htc_picture_release(&pic);
    return rc < 0 ? -1 : 0;
}

/* One batch call: item i decodes srcs[pick[i]]; caller buffers for odd
 * items when `own`. Returns the number of items whose result is not as
 * expected. */
static int run_batch(HtcDecoder *d, const Src *srcs, const int *pick, size_t n, int own)
{
    HtcBatchItem *items = calloc(n, sizeof(*items));
    uint8_t **bufs = calloc(n, sizeof(*bufs));
    if (!items || !bufs) {
        free(items);
        free(bufs);
        return (int)n;
    }
    for (size_t i = 0; i < n; i++) {
        const Src *s = &srcs[pick[i]];
        items[i].data = s->data;
        items[i].size = s->size;
        if (own && (i & 1) && s->status == 0) {
            bufs[i] = malloc(s->ref_size + 1);
            items[i].picture.buffer = bufs[i];
            items[i].picture.buffer_size = s->ref_size;
        }
    }
    CHECK_EQ_INT(htc_decode_batch(d, items, n), 0);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const HtcPicture *p = &items[i].picture;
        const Src *s = &srcs[pick[i]];
        const int ok = s->status < 0 ? items[i].status == s->status && items[i].message[0]
                                     : items[i].status == 0 && p->buffer && p->buffer_size == s->ref_size &&
                                       !memcmp(p->buffer, s->ref, s->ref_size) &&
                                       (!bufs[i] || (p->buffer == bufs[i] && p->caller_owned));
        if (!ok)
            fprintf(stderr, "item %zu (file %d): status %d \"%s\", want %d\n", i, pick[i],
                    items[i].status, items[i].message, s->status);
        bad += !ok;
        htc_picture_release(&items[i].picture);
        free(bufs[i]);
    }
    free(items);
    free(bufs);
    return bad;
}

static void check_kept(const HtcDecoder *d, size_t limit)
{
    for (uint32_t i = 0; d->batch && i < d->num_threads; i++)
        if (d->batch[i])
            CHECK(htc_decoder_kept_bytes(d->batch[i]) <= limit);
}

int main(void)
{
    HtcDecoderSettings st;
    htc_decoder_default_settings(&st);
    st.threads = 1;
    st.picture_cache = 0;
    HtcDecoder *one = NULL;
    CHECK_EQ_INT(htc_decoder_open(&one, &st), 0);
    Src srcs[NUM_FILES + 3];
    size_t nsrc = 0;
    for (size_t i = 0; i < NUM_FILES; i++)
        if (load(&srcs[nsrc], FILES[i], one) == 0)
            nsrc++;
    /* damaged: the multi-tile stream (the last file) cut at a third, and
     * CT1 cut in its tile data */
    const size_t ngood = nsrc;
    for (size_t k = 0; k < 2 && ngood >= 2; k++) {
        const Src *from = &srcs[k ? 0 : ngood - 1];
        Src *s = &srcs[nsrc++];
        memset(s, 0, sizeof(*s));
        s->size = from->size / (k ? 2 : 3);
        if (!k) {
            /* at the next tile-part (SOT), then EOC: the later tiles are
             * missing, and their samples must be zero */
            while (s->size + 1 < from->size && !(from->data[s->size] == 0xFF && from->data[s->size + 1] == 0x90))
                s->size++;
            s->size += 2;
        }
        s->data = malloc(s->size);
        if (s->data) {
            memcpy(s->data, from->data, s->size);
            if (!k) {
                s->data[s->size - 2] = 0xFF;
                s->data[s->size - 1] = 0xD9;
            }
        }
        reference(s, one);
    }
    if (nsrc < 2) {
        printf("test_batch_reuse: needs %s; skipped\n", TESTDATA);
        htc_decoder_close(&one);
        return 77;
    }
    printf("test_batch_reuse: damaged copies decode with status %d and %d\n", srcs[ngood].status,
           srcs[ngood + 1].status);
    /* the stream without its last tiles decodes, with zeros there */
    CHECK_EQ_INT(srcs[ngood].status, 0);
    size_t zeros = 0;
    for (size_t i = 0; i < srcs[ngood].ref_size; i++)
        zeros += srcs[ngood].ref[i] == 0;
    CHECK(zeros > srcs[ngood].ref_size / 2);
    const int have_big = load(&srcs[nsrc], BIG, one) == 0;
    const size_t big = nsrc;
    htc_decoder_close(&one);

    /* a kept block holds the last picture's bytes: a stream with missing
     * tiles decoded into it after the whole stream must still get zeros */
    {
        HtcDecoder *d = NULL;
        htc_decoder_default_settings(&st);
        st.threads = 1;
        CHECK_EQ_INT(htc_decoder_open(&d, &st), 0);
        for (int k = 0; k < 3 && d; k++) {
            const Src *s = &srcs[k == 1 ? ngood : ngood - 1];
            HtcStream *cs = NULL;
            HtcPicture pic;
            memset(&pic, 0, sizeof(pic));
            CHECK_EQ_INT(htc_stream_open_memory(&cs, s->data, s->size, NULL), 0);
            CHECK_EQ_INT(htc_decode(d, cs, NULL, &pic), 0);
            CHECK(pic.buffer && pic.buffer_size == s->ref_size && !memcmp(pic.buffer, s->ref, s->ref_size));
            CHECK(d->pic_cache && (htc_pic_cache_kept(d->pic_cache) == 0)); /* the block is out */
            htc_picture_release(&pic);
            CHECK(d->pic_cache && htc_pic_cache_kept(d->pic_cache) >= s->ref_size); /* and back */
            htc_stream_close(&cs);
        }
        htc_decoder_close(&d);
    }
    /* the cache never keeps more than limits.max_memory: ten 512 KB
     * pictures released together, 4 MiB kept at most */
    {
        HtcDecoder *d = NULL;
        htc_decoder_default_settings(&st);
        st.threads = 2;
        st.limits.max_memory = (uint64_t)4 << 20;
        CHECK_EQ_INT(htc_decoder_open(&d, &st), 0);
        int pick[10] = { 0 };
        CHECK_EQ_INT(run_batch(d, srcs, pick, 10, 0), 0);
        CHECK(d->pic_cache && htc_pic_cache_kept(d->pic_cache) > 0 &&
              htc_pic_cache_kept(d->pic_cache) <= st.limits.max_memory);
        htc_decoder_close(&d);
    }
    static const uint64_t caches[3] = { (uint64_t)256 << 20, 0, (uint64_t)1 << 20 };
    for (uint32_t threads = 2, round = 0; threads <= 5; threads++, round++) {
        if (threads == 4)
            continue;
        st.threads = threads;
        htc_decoder_default_settings(&st);
        st.threads = threads;
        if (round < 3)
            st.picture_cache = caches[round];
        HtcDecoder *d = NULL;
        CHECK_EQ_INT(htc_decoder_open(&d, &st), 0);
        int pick[64];
        size_t n = 0;
        /* call 1: every file four times */
        for (int r = 0; r < 4; r++)
            for (size_t i = 0; i < nsrc; i++)
                pick[n++] = (int)i;
        CHECK_EQ_INT(run_batch(d, srcs, pick, n, 0), 0);
        check_kept(d, (size_t)32 << 20);
        CHECK(d->batch != NULL);
        /* call 2: the large image last (taken first: larger items go
         * first), caller buffers for half */
        n = 0;
        for (size_t i = 0; i < nsrc; i++)
            pick[n++] = (int)i;
        if (have_big)
            pick[n++] = (int)big;
        CHECK_EQ_INT(run_batch(d, srcs, pick, n, 1), 0);
        check_kept(d, (size_t)32 << 20);
        if (st.picture_cache && d->pic_cache)
            CHECK(htc_pic_cache_kept(d->pic_cache) > 0 &&
                  htc_pic_cache_kept(d->pic_cache) <= st.picture_cache);
        CHECK((d->pic_cache != NULL) == (st.picture_cache != 0));
        /* call 3: damaged copies between good items, pictures from blocks
         * the images of call 2 filled */
        n = 0;
        for (size_t i = 0; i < ngood; i++) {
            pick[n++] = (int)(ngood + (i & 1)); /* first: the cut stream takes the full one's block */
            pick[n++] = (int)(ngood - 1 - i);
        }
        CHECK_EQ_INT(run_batch(d, srcs, pick, n, 1), 0);
        /* call 4: one item (decoded inline with the pool's help), then two */
        pick[0] = 0;
        pick[1] = 1;
        CHECK_EQ_INT(run_batch(d, srcs, pick, 1, 0), 0);
        CHECK_EQ_INT(run_batch(d, srcs, pick, 2, 1), 0);
        CHECK_EQ_INT(run_batch(d, srcs, pick, 0, 0), 0);
        /* htc_decode on the same decoder after batches: its pool runs
         * code-block jobs again (the large image has enough of them) */
        const Src *s = &srcs[have_big ? big : 0];
        HtcStream *cs = NULL;
        HtcPicture pic;
        memset(&pic, 0, sizeof(pic));
        CHECK_EQ_INT(htc_stream_open_memory(&cs, s->data, s->size, NULL), 0);
        CHECK_EQ_INT(htc_decode(d, cs, NULL, &pic), 0);
        CHECK(pic.buffer && pic.buffer_size == s->ref_size && !memcmp(pic.buffer, s->ref, s->ref_size));
        htc_stream_close(&cs);
        /* a picture released after its decoder closed */
        htc_decoder_close(&d);
        CHECK(d == NULL);
        htc_picture_release(&pic);
    }
    printf("test_batch_reuse: %zu files%s, 2, 3 and 5 threads, picture caches 256 MiB, 0, 1 MiB\n",
           ngood, have_big ? " and the mammogram" : "");
    for (size_t i = 0; i < nsrc + (have_big ? 1 : 0); i++) {
        free(srcs[i].data);
        free(srcs[i].ref);
    }
    return test_summary("test_batch_reuse");
}
