/* htcodec: the decoder's worker threads, for code-block jobs and for batch
 * items (decode_batch.c). The caller works too; workers sleep between runs
 * and live as long as the decoder. Jobs write disjoint rectangles of the
 * tile buffers, so the result does not depend on the thread count. */
#include <pthread.h>
#include <stdatomic.h>

#include "decode.h"

#define HTC_POOL_MIN_JOBS 8    /* fewer jobs run inline */

typedef struct HtcWorker {
    struct HtcPool *pool;
    pthread_t thread;
    HtcWorkBuf buf;
    int started;
} HtcWorker;

typedef struct HtcPool {
    HtcDecoder *d;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t generation;
    int quit;
    uint32_t active;           /* workers still in the current run */
    /* The current run. */
    const HtcStream *s;
    const HtcJobTable *jt;
    const uint32_t *list;
    uint32_t n;
    HtcTileComp *tc;
    void (*fn)(void *arg, uint32_t index); /* a run of htc_pool_run_each, else NULL */
    void *fn_arg;
    atomic_uint next;
    atomic_int failed;
    int err;
    char msg[256];
    uint32_t num_workers;
    HtcWorker workers[];
} HtcPool;

static void run_jobs(HtcPool *p, HtcWorkBuf *buf)
{
    for (;;) {
        const unsigned i = atomic_fetch_add(&p->next, 1u);
        if (i >= p->n || atomic_load(&p->failed))
            return;
        const int rc = htc_decode_job(p->s, p->jt, &p->jt->jobs[p->list[i]], p->tc, buf);
        if (rc < 0) {
            pthread_mutex_lock(&p->mu);
            if (!p->err) {
                p->err = rc;
                htc_copy_last_error(p->msg, sizeof(p->msg));
            }
            pthread_mutex_unlock(&p->mu);
            atomic_store(&p->failed, 1);
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    HtcWorker *w = arg;
    HtcPool *p = w->pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->generation == seen && !p->quit)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        if (p->fn)
            p->fn(p->fn_arg, (uint32_t)(w - p->workers) + 1);
        else
            run_jobs(p, &w->buf);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static HtcPool *pool_open(HtcDecoder *d)
{
    const uint32_t nw = d->num_threads - 1;
    HtcPool *p = htc_calloc(&d->ctx, 1, sizeof(HtcPool) + nw * sizeof(HtcWorker));
    if (!p)
        return NULL;
    p->d = d;
    p->num_workers = 0;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        htc_free(&d->ctx, p);
        return NULL;
    }
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (uint32_t i = 0; i < nw; i++) {
        HtcWorker *w = &p->workers[i];
        w->pool = p;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            break;
        w->started = 1;
        p->num_workers++;
    }
    return p;
}

void htc_pool_close(HtcDecoder *d)
{
    HtcPool *p = d->pool;
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (uint32_t i = 0; i < p->num_workers; i++) {
        pthread_join(p->workers[i].thread, NULL);
        htc_workbuf_free(&d->ctx, &p->workers[i].buf);
    }
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    htc_free(&d->ctx, p);
    d->pool = NULL;
}

int htc_pool_run(HtcDecoder *d, const HtcStream *s, const HtcJobTable *jt, const uint32_t *list,
                 uint32_t n, HtcTileComp *tc)
{
    if (d->num_threads > 1 && n >= HTC_POOL_MIN_JOBS && !d->pool)
        d->pool = pool_open(d);
    HtcPool *p = d->pool;
    if (d->num_threads <= 1 || n < HTC_POOL_MIN_JOBS || !p || p->num_workers == 0) {
        for (uint32_t i = 0; i < n; i++)
            HTC_CHECK(htc_decode_job(s, jt, &jt->jobs[list[i]], tc, &d->work));
        return 0;
    }
    pthread_mutex_lock(&p->mu);
    p->s = s;
    p->jt = jt;
    p->list = list;
    p->n = n;
    p->tc = tc;
    p->fn = NULL;
    atomic_store(&p->next, 0u);
    atomic_store(&p->failed, 0);
    p->err = 0;
    p->msg[0] = 0;
    p->active = p->num_workers;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    run_jobs(p, &d->work);

    pthread_mutex_lock(&p->mu);
    while (p->active > 0)
        pthread_cond_wait(&p->done, &p->mu);
    const int err = p->err;
    pthread_mutex_unlock(&p->mu);
    if (err < 0)
        return htc_fail(&s->ctx, err, "%s", p->msg);
    return 0;
}

uint32_t htc_pool_run_each(HtcDecoder *d, void (*fn)(void *arg, uint32_t index), void *arg)
{
    if (d->num_threads > 1 && !d->pool)
        d->pool = pool_open(d);
    HtcPool *p = d->pool;
    if (!p || p->num_workers == 0) {
        fn(arg, 0);
        return 1;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->fn_arg = arg;
    p->active = p->num_workers;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);

    fn(arg, 0);

    pthread_mutex_lock(&p->mu);
    while (p->active > 0)
        pthread_cond_wait(&p->done, &p->mu);
    p->fn = NULL;
    const uint32_t n = p->num_workers + 1;
    pthread_mutex_unlock(&p->mu);
    return n;
}
