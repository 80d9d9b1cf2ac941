/* htcodec: the job table that tier 2 fills. */
#include "codestream/tier2.h"

void htc_job_table_init(HtcJobTable *t) { memset(t, 0, sizeof(*t)); }

void htc_job_table_reset(HtcJobTable *t)
{
    t->num_jobs = 0;
    t->num_chunks = 0;
    t->num_segs = 0;
    t->max_block_bytes = 0;
}

void htc_job_table_free(const HtcContext *ctx, HtcJobTable *t)
{
    htc_free(ctx, t->jobs);
    htc_free(ctx, t->chunks);
    htc_free(ctx, t->segs);
    memset(t, 0, sizeof(*t));
}
