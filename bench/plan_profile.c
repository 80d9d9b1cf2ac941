/* bench/plan_profile: the CPU part of the GPU backend's host plan, timed by
 * phase on one thread, without a GPU: what src/cuda/gpu_decode.cu does per
 * item before anything reaches the device (parse, output layout, tier 2 of
 * each tile, the HT code-blocks' bytes gathered into one pool and a job
 * record each). Files may be raw codestreams or DICOM files (the first
 * codestream found in them is used).
 *
 *   cc -O2 -Iinclude -Isrc bench/plan_profile.c build/libhtc.a -lpthread -lm -o build/plan_profile
 *   build/plan_profile [--repeat R] FILE...
 *
 * Prints, per file, the median over R runs of each phase in microseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include "htc/htc.h"
#include "coding/block.h"
#include "codestream/tier2.h"
#include "decode.h"
#include "../tests/read_file.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* The codestream inside a DICOM file: SOC SIZ up to the last EOC. */
static const uint8_t *find_codestream(const uint8_t *b, size_t n, size_t *len)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (b[i] == 0xff && b[i + 1] == 0x4f && b[i + 2] == 0xff && b[i + 3] == 0x51) {
            size_t e = n;
            for (size_t k = n; k >= i + 2; k--)
                if (b[k - 2] == 0xff && b[k - 1] == 0xd9) {
                    e = k;
                    break;
                }
            *len = e - i;
            return b + i;
        }
    *len = n;
    return b;
}

static int cmp_d(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The job record the GPU backend builds (same size: 64 bytes). */
typedef struct Job {
    uint64_t data_off, coef_off;
    uint32_t stride;
    uint16_t w, h;
    uint32_t num_passes, cblk_style;
    uint32_t seg_len[4];
    uint8_t seg_passes[4];
    uint8_t num_segs, reversible, mb, zero_planes;
    uint8_t band, pad[3];
    float delta;
} Job;

enum { P_OPEN, P_LAYOUT, P_T2, P_COPY, P_CLOSE, P_N };
static const char *pname[P_N] = { "parse", "layout", "tier2", "bytes+jobs", "close" };

/* One item's plan, as the GPU backend does it; phase times into tt
 * (P_*). copy_bytes: gather the blocks' bytes into the pool (the GPU path
 * sends raw codestreams instead and only writes job records). Returns the
 * blocks planned, or -1. */
static long plan_once(const uint8_t *cs, size_t len, HtcJobTable *jt, uint8_t *pool, size_t pool_cap, Job *jobs,
                      size_t max_jobs, int copy_bytes, double *tt, size_t *bytes_out)
{
    HtcAllocator no_alloc;
    memset(&no_alloc, 0, sizeof(no_alloc));
    double t0 = now_us();
    HtcStream *s = NULL;
    HtcStreamSettings ss;
    htc_stream_default_settings(&ss);
    if (htc_stream_open_memory(&s, cs, len, &ss) < 0)
        return -1;
    double t1 = now_us();
    tt[P_OPEN] = t1 - t0;
    HtcDecodeParams p;
    htc_decode_default_params(&p);
    HtcPicture lay;
    memset(&lay, 0, sizeof(lay));
    uint32_t comps[64];
    HtcDecodeGeom geo;
    HtcPicture pic;
    memset(&pic, 0, sizeof(pic));
    int rc = htc_decode_layout(s, &p, &lay);
    if (rc >= 0) {
        /* device output into a caller's buffer: no samples allocated */
        pic.buffer = pool;
        pic.buffer_size = lay.buffer_size;
        rc = htc_decode_geometry(s, &p, comps, &geo);
    }
    if (rc >= 0)
        rc = htc_picture_setup(s, &geo, &no_alloc, &pic, 1, NULL);
    htc_picture_release(&lay);
    double t2 = now_us();
    tt[P_LAYOUT] = t2 - t1;
    double t2sum = 0, cpsum = 0;
    size_t used = 0, nj = 0;
    for (uint32_t ti = 0; ti < s->ntx * s->nty && rc >= 0; ti++) {
        const double a0 = now_us();
        HtcT2Options opt;
        memset(&opt, 0, sizeof(opt));
        htc_job_table_reset(jt);
        rc = htc_t2_decode_tile(s, ti, &opt, jt);
        const double a1 = now_us();
        for (uint32_t k = 0; k < jt->num_jobs && rc >= 0; k++) {
            const HtcBlockJob *j = &jt->jobs[k];
            if (j->num_passes == 0 || j->data_length == 0)
                continue;
            const size_t need = ((size_t)j->data_length + HTC_BLOCK_PAD + 15) & ~(size_t)15;
            if (used + need > pool_cap || nj >= max_jobs) {
                rc = -1;
                break;
            }
            if (copy_bytes) {
                uint8_t *b = pool + used;
                for (uint32_t q = 0; q < j->num_chunks; q++) {
                    const HtcChunk *ch = &jt->chunks[j->first_chunk + q];
                    memcpy(b, s->cs + ch->offset, ch->length);
                    b += ch->length;
                }
                memset(b, 0, need - j->data_length);
            }
            Job job;
            memset(&job, 0, sizeof(job));
            job.data_off = used;
            used += need;
            job.w = (uint16_t)(j->x1 - j->x0);
            job.h = (uint16_t)(j->y1 - j->y0);
            job.num_passes = j->num_passes;
            job.num_segs = (uint8_t)j->num_segs;
            for (uint32_t q = 0; q < j->num_segs && q < 4; q++)
                job.seg_len[q] = jt->segs[j->first_seg + q].length;
            job.delta = j->delta;
            jobs[nj++] = job;
        }
        const double a2 = now_us();
        t2sum += a1 - a0;
        cpsum += a2 - a1;
    }
    tt[P_T2] = t2sum;
    tt[P_COPY] = cpsum;
    const double t3 = now_us();
    htc_picture_release(&pic);
    htc_stream_close(&s);
    tt[P_CLOSE] = now_us() - t3;
    *bytes_out = used;
    return rc < 0 ? -1 : (long)nj;
}

/* --threads: T threads plan `count` items (the files in turn) without
 * copying their bytes, as the GPU path's planning tasks do. */
typedef struct Files {
    const uint8_t **cs;
    size_t *len;
    int n;
    size_t count;
    size_t next; /* atomic */
    double phase[P_N];
    long fails;
} Files;

static void *plan_thread(void *arg)
{
    Files *f = arg;
    HtcJobTable jt;
    htc_job_table_init(&jt);
    const size_t pool_cap = (size_t)8 << 20;
    uint8_t *pool = malloc(pool_cap);
    Job *jobs = malloc(sizeof(Job) * 20000);
    double sum[P_N] = { 0 };
    long fails = 0;
    for (;;) {
        const size_t i = __atomic_fetch_add(&f->next, 1, __ATOMIC_RELAXED);
        if (i >= f->count || !pool || !jobs)
            break;
        double tt[P_N] = { 0 };
        size_t bytes;
        if (plan_once(f->cs[i % f->n], f->len[i % f->n], &jt, pool, pool_cap, jobs, 20000, 0, tt, &bytes) < 0)
            fails++;
        for (int q = 0; q < P_N; q++)
            sum[q] += tt[q];
    }
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    for (int q = 0; q < P_N; q++)
        f->phase[q] += sum[q];
    f->fails += fails;
    pthread_mutex_unlock(&mu);
    htc_job_table_free(NULL, &jt);
    free(pool);
    free(jobs);
    return NULL;
}

static int run_threads(int threads, size_t count, int nfiles, char **names)
{
    Files f;
    memset(&f, 0, sizeof(f));
    f.cs = calloc((size_t)nfiles, sizeof(*f.cs));
    f.len = calloc((size_t)nfiles, sizeof(*f.len));
    if (!f.cs || !f.len)
        return 1;
    for (int i = 0; i < nfiles; i++) {
        size_t fsize = 0;
        uint8_t *file = htc_test_read_file(names[i], &fsize);
        if (!file) {
            fprintf(stderr, "%s: cannot read\n", names[i]);
            return 1;
        }
        f.cs[f.n] = find_codestream(file, fsize, &f.len[f.n]);
        f.n++;
    }
    f.count = count;
    pthread_t *th = calloc((size_t)threads, sizeof(pthread_t));
    if (!th)
        return 1;
    const double t0 = now_us();
    for (int k = 0; k < threads; k++)
        if (pthread_create(&th[k], NULL, plan_thread, &f) != 0)
            return 1;
    for (int k = 0; k < threads; k++)
        pthread_join(th[k], NULL);
    const double wall = now_us() - t0;
    printf("%d threads, %zu items: %.3f ms wall = %.3f us an item; per item on a thread: parse %.2f, layout %.2f, "
           "tier2 %.2f, jobs %.2f, close %.2f us; %ld failed\n",
           threads, count, wall / 1e3, wall / count, f.phase[P_OPEN] / count, f.phase[P_LAYOUT] / count,
           f.phase[P_T2] / count, f.phase[P_COPY] / count, f.phase[P_CLOSE] / count, f.fails);
    free(th);
    return f.fails != 0;
}

int main(int argc, char **argv)
{
    int repeat = 20, threads = 0;
    size_t count = 8192;
    int a = 1;
    for (;;) {
        if (a + 1 < argc && !strcmp(argv[a], "--repeat"))
            repeat = atoi(argv[a + 1]);
        else if (a + 1 < argc && !strcmp(argv[a], "--threads"))
            threads = atoi(argv[a + 1]);
        else if (a + 1 < argc && !strcmp(argv[a], "--count"))
            count = (size_t)atol(argv[a + 1]);
        else
            break;
        a += 2;
    }
    if (a >= argc || repeat < 1 || threads < 0 || !count) {
        fprintf(stderr, "usage: plan_profile [--repeat R] FILE...\n"
                        "       plan_profile --threads T [--count N] FILE...\n");
        return 2;
    }
    if (threads)
        return run_threads(threads, count, argc - a, argv + a);
    size_t pool_cap = (size_t)64 << 20;
    uint8_t *pool = malloc(pool_cap);
    Job *jobs = malloc(sizeof(Job) * 200000);
    double *t = malloc(sizeof(double) * P_N * (size_t)repeat);
    if (!pool || !jobs || !t)
        return 1;
    memset(pool, 0, pool_cap); /* touched once, as a kept pinned pool is */
    HtcJobTable jt;
    htc_job_table_init(&jt);
    printf("%-40s %8s %8s %8s %8s %10s %8s %8s  (us, median of %d)\n", "file", pname[0], pname[1], pname[2],
           pname[3], pname[4], "blocks", "MB", repeat);
    for (; a < argc; a++) {
        size_t fsize = 0, len = 0;
        uint8_t *file = htc_test_read_file(argv[a], &fsize);
        if (!file) {
            fprintf(stderr, "%s: cannot read\n", argv[a]);
            continue;
        }
        const uint8_t *cs = find_codestream(file, fsize, &len);
        long nblocks = 0;
        size_t bytes = 0;
        int bad = 0;
        for (int r = 0; r < repeat && !bad; r++) {
            nblocks = plan_once(cs, len, &jt, pool, pool_cap, jobs, 200000, 1, t + (size_t)r * P_N, &bytes);
            if (nblocks < 0) {
                fprintf(stderr, "%s: plan failed: %s\n", argv[a], htc_last_error());
                bad = 1;
            }
        }
        if (!bad) {
            double med[P_N];
            double *col = malloc(sizeof(double) * (size_t)repeat);
            for (int q = 0; q < P_N && col; q++) {
                for (int r = 0; r < repeat; r++)
                    col[r] = t[(size_t)r * P_N + q];
                qsort(col, (size_t)repeat, sizeof(double), cmp_d);
                med[q] = col[repeat / 2];
            }
            free(col);
            const char *base = strrchr(argv[a], '/');
            printf("%-40s %8.1f %8.1f %8.1f %8.1f %10.1f %8ld %8.2f\n", base ? base + 1 : argv[a], med[0], med[1],
                   med[2], med[3], med[4], nblocks, bytes / 1e6);
        }
        free(file);
    }
    htc_job_table_free(NULL, &jt);
    free(t);
    free(jobs);
    free(pool);
    return 0;
}
