/* The GPU's 5/3 column kernel computes runs of output pairs apart from each
 * other (gpu_idwt53_pairs_to): against the line it stands for
 * (gpu_idwt53_line), for every length and parity, runs of 1 to 5 pairs,
 * random and extreme inputs. Compiled for the CPU. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define __host__
#define __device__
#include "cuda/gpu_dwt.cuh"
#include "test.h"

static uint32_t rng = 2024;
static uint32_t next(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

struct PutInto {
    int32_t *out;
    int *hits;
    void operator()(uint32_t r, int32_t v) const
    {
        out[r] = v;
        hits[r]++;
    }
};

int main(void)
{
    enum { N = 80 };
    static int32_t in[N], ref[N], got[N];
    static int hits[N];
    int bad = 0;
    for (uint32_t n = 1; n <= 67; n++)
        for (int odd = 0; odd < 2; odd++)
            for (int trial = 0; trial < 12; trial++) {
                for (uint32_t i = 0; i < n; i++) {
                    const uint32_t r = next();
                    in[i] = trial % 4 == 0 ? (r & 1 ? INT32_MAX - (int32_t)(r & 7) : INT32_MIN + (int32_t)(r & 7))
                                           : (int32_t)(r & 0xFFFF) - 0x8000;
                }
                gpu_idwt53_line(in, 1, ref, 1, n, odd);
                const uint32_t pairs = (n + 1) / 2;
                /* every pair alone, then runs of 2..5 pairs */
                for (uint32_t run = 1; run <= 5; run++) {
                    memset(got, 0x55, sizeof(got));
                    memset(hits, 0, sizeof(hits));
                    const PutInto put = { got, hits };
                    for (uint32_t k = 0; k < pairs; k += run)
                        gpu_idwt53_pairs_to(in, 1, n, odd, k, k + run, put);
                    int ok = 1;
                    for (uint32_t i = 0; i < n; i++)
                        ok &= got[i] == ref[i] && hits[i] == 1;
                    if (!ok && bad++ < 5)
                        fprintf(stderr, "n %u odd %d trial %d run %u: mismatch\n", n, odd, trial, run);
                    CHECK(ok);
                }
            }
    return test_summary("gpu_dwt_pairs");
}
