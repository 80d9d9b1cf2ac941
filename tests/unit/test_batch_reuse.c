/* htc_decode_batch called again and again on one decoder, whose per-thread
 * decoders and their scratch persist between calls (src/decode_batch.c):
 * every item of every call must give the bytes of a single one-thread
 * decode of the same file, whether the picture comes from the library or
 * from the caller's buffer, after a call with a large image (whose scratch
 * the threads must give back: at most 32 MiB kept each) and with damaged
 * items in between; the decoder then closes without leaks (ASan). */
#include <stdlib.h>
#include <string.h>

#include "htc/htc.h"
#include "decode.h"
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
    uint8_t *ref;      /* samples of the single decode */
    size_t ref_size;
} Src;

static uint8_t *read_file(const char *name, size_t *size)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TESTDATA, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = n > 0 ? malloc((size_t)n) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return p;
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

/* One batch call: item i decodes srcs[pick[i]] (-1: a damaged copy of
 * srcs[0], cut in its tile data); caller buffers for odd items when
 * `own`. Returns the number of items whose result is not as expected. */
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
        const Src *s = &srcs[pick[i] < 0 ? 0 : pick[i]];
        items[i].data = s->data;
        items[i].size = pick[i] < 0 ? s->size / 3 : s->size;
        if (own && (i & 1) && pick[i] >= 0) {
            bufs[i] = malloc(s->ref_size + 1);
            items[i].picture.buffer = bufs[i];
            items[i].picture.buffer_size = s->ref_size;
        }
    }
    CHECK_EQ_INT(htc_decode_batch(d, items, n), 0);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const HtcPicture *p = &items[i].picture;
        if (pick[i] < 0) {
            /* a cut stream decodes to what it holds, or fails with a message */
            bad += items[i].status < 0 && !items[i].message[0];
        } else {
            const Src *s = &srcs[pick[i]];
            const int ok = items[i].status == 0 && p->buffer && p->buffer_size == s->ref_size &&
                           !memcmp(p->buffer, s->ref, s->ref_size) &&
                           (!bufs[i] || (p->buffer == bufs[i] && p->caller_owned));
            if (!ok)
                fprintf(stderr, "item %zu (file %d): status %d \"%s\"\n", i, pick[i], items[i].status,
                        items[i].message);
            bad += !ok;
        }
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
    HtcDecoder *one = NULL;
    CHECK_EQ_INT(htc_decoder_open(&one, &st), 0);
    Src srcs[NUM_FILES + 1];
    size_t nsrc = 0;
    for (size_t i = 0; i < NUM_FILES; i++)
        if (load(&srcs[nsrc], FILES[i], one) == 0)
            nsrc++;
    if (nsrc < 2) {
        printf("test_batch_reuse: needs %s; skipped\n", TESTDATA);
        htc_decoder_close(&one);
        return 77;
    }
    const int have_big = load(&srcs[nsrc], BIG, one) == 0;
    const size_t big = nsrc;
    htc_decoder_close(&one);

    for (uint32_t threads = 2; threads <= 5; threads += 3) {
        st.threads = threads;
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
        /* call 2: the large image among them, caller buffers for half */
        n = 0;
        if (have_big)
            pick[n++] = (int)big;
        for (size_t i = 0; i < nsrc; i++)
            pick[n++] = (int)i;
        CHECK_EQ_INT(run_batch(d, srcs, pick, n, 1), 0);
        check_kept(d, (size_t)32 << 20);
        /* call 3: damaged copies between good items */
        n = 0;
        for (size_t i = 0; i < nsrc; i++) {
            pick[n++] = (int)(nsrc - 1 - i);
            pick[n++] = -1;
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
        htc_picture_release(&pic);
        htc_stream_close(&cs);
        htc_decoder_close(&d);
        CHECK(d == NULL);
    }
    printf("test_batch_reuse: %zu files%s, 2 and 5 threads, 5 calls each\n", nsrc,
           have_big ? " and the mammogram" : "");
    for (size_t i = 0; i < nsrc + (have_big ? 1 : 0); i++) {
        free(srcs[i].data);
        free(srcs[i].ref);
    }
    return test_summary("test_batch_reuse");
}
