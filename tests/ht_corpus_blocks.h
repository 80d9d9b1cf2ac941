/* Test helper: runs tier 2 over every tile of a codestream file and keeps
 * each HT code-block as an HtcBlockParams with its own copy of the bytes
 * (followed by HTC_BLOCK_PAD zero bytes). For the HT kernel tests and
 * their bench mode. Test-only code. */
#ifndef HTC_TEST_HT_CORPUS_BLOCKS_H
#define HTC_TEST_HT_CORPUS_BLOCKS_H

#include <stdlib.h>
#include <string.h>

#include "codestream/codestream.h"
#include "codestream/tier2.h"
#include "coding/block.h"
#include "htc/htc.h"

typedef struct HtBlockSet {
    HtcBlockParams *blocks;
    uint8_t **data;
    uint32_t count;
    uint64_t samples;
} HtBlockSet;

static void ht_blocks_free(HtBlockSet *set)
{
    for (uint32_t i = 0; i < set->count; i++)
        free(set->data[i]);
    free(set->data);
    free(set->blocks);
    memset(set, 0, sizeof(*set));
}

/* Returns the number of HT blocks kept (0 if the file cannot be read). */
static uint32_t ht_blocks_load(const char *path, HtBlockSet *set)
{
    memset(set, 0, sizeof(*set));
    HtcStream *s = NULL;
    if (htc_stream_open_file(&s, path, NULL) < 0)
        return 0;
    HtcJobTable jt;
    htc_job_table_init(&jt);
    const uint32_t ntiles = s->ntx * s->nty;
    for (uint32_t t = 0; t < ntiles; t++) {
        HtcT2Options opt;
        memset(&opt, 0, sizeof(opt));
        opt.allow_truncated = 1;
        if (htc_t2_decode_tile(s, t, &opt, &jt) < 0)
            break;
    }
    set->blocks = calloc(jt.num_jobs + 1, sizeof(*set->blocks));
    set->data = calloc(jt.num_jobs + 1, sizeof(*set->data));
    for (uint32_t i = 0; i < jt.num_jobs; i++) {
        const HtcBlockJob *j = &jt.jobs[i];
        if (!j->is_ht || j->num_segs > HTC_MAX_SEGMENTS || !j->num_passes)
            continue;
        HtcBlockParams *bp = &set->blocks[set->count];
        uint8_t *d = malloc((size_t)j->data_length + HTC_BLOCK_PAD);
        uint8_t *dst = d;
        for (uint32_t c = 0; c < j->num_chunks; c++) {
            const HtcChunk *ch = &jt.chunks[j->first_chunk + c];
            memcpy(dst, s->cs + ch->offset, ch->length);
            dst += ch->length;
        }
        memset(dst, 0, HTC_BLOCK_PAD);
        bp->data = d;
        bp->num_segments = j->num_segs;
        for (uint32_t k = 0; k < j->num_segs; k++) {
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
        bp->roi_shift = j->roi_shift;
        set->data[set->count++] = d;
        set->samples += (uint64_t)bp->width * bp->height;
    }
    htc_job_table_free(&s->ctx, &jt);
    htc_stream_close(&s);
    return set->count;
}

#endif /* HTC_TEST_HT_CORPUS_BLOCKS_H */
