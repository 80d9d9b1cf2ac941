/* htcodec: the job table that tier 2 fills, and the working memory it
 * keeps for tier 2. */
#include "codestream/tier2_internal.h"

void htc_job_table_init(HtcJobTable *t) { memset(t, 0, sizeof(*t)); }

void htc_job_table_reset(HtcJobTable *t)
{
    t->num_jobs = 0;
    t->num_chunks = 0;
    t->num_segs = 0;
    t->max_block_bytes = 0;
}

void *htc_t2_mem_get(const HtcContext *ctx, HtcT2Mem *m, size_t bytes)
{
    if (!bytes)
        bytes = 1;
    if (bytes > m->size) {
        htc_free(ctx, m->p);
        m->size = 0;
        m->p = htc_malloc(ctx, bytes);
        if (m->p)
            m->size = bytes;
    }
    return m->p;
}

HtcT2Scratch *htc_t2_scratch(const HtcContext *ctx, HtcJobTable *jt)
{
    if (!jt->scratch)
        jt->scratch = htc_calloc(ctx, 1, sizeof(HtcT2Scratch));
    return jt->scratch;
}

static void scratch_free(const HtcContext *ctx, HtcT2Scratch *sc)
{
    if (!sc)
        return;
    HtcT2Mem *mems[] = { &sc->comps, &sc->res, &sc->precs, &sc->blocks, &sc->nodes,
                         &sc->done,  &sc->keys, &sc->spans };
    for (size_t i = 0; i < sizeof(mems) / sizeof(mems[0]); i++)
        htc_free(ctx, mems[i]->p);
    htc_free(ctx, sc->segs);
    htc_free(ctx, sc->chunks);
    htc_free(ctx, sc->pend);
    htc_free(ctx, sc);
}

void htc_job_table_free(const HtcContext *ctx, HtcJobTable *t)
{
    htc_free(ctx, t->jobs);
    htc_free(ctx, t->chunks);
    htc_free(ctx, t->segs);
    scratch_free(ctx, t->scratch);
    memset(t, 0, sizeof(*t));
}
