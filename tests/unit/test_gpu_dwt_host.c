/* The GPU's inverse DWT lines (src/cuda/gpu_dwt.cuh), compiled for the CPU,
 * against the C reference lines of src/transform/: identical bits, floats
 * included, for every length and parity, contiguous and strided. */
#include <stdlib.h>
#include <string.h>

#define __host__
#define __device__
#include "cuda/gpu_dwt.cuh"
#include "test.h"
#include "transform/transform.h"

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

int main(void)
{
    enum { N = 300, S = 3 };
    static int32_t in[N], ref[N], ins[N * S], outs[N * S];
    static float fin[N], fref[N], fins[N * S], fouts[N * S];
    int mismatches = 0;
    for (uint32_t n = 1; n <= 67; n++)
        for (int odd = 0; odd < 2; odd++)
            for (int trial = 0; trial < 20; trial++) {
                const int extreme = trial % 5 == 0;
                for (uint32_t i = 0; i < n; i++) {
                    in[i] = extreme ? (int32_t)(next() & 1 ? 0x7fffffff : 0x80000000u) : (int32_t)(next() % 131072) - 65536;
                    fin[i] = (float)((int32_t)(next() % 2000001) - 1000000) / 37.0f;
                    ins[i * S] = in[i];
                    fins[i * S] = fin[i];
                }
                htc_idwt53_line(in, ref, n, odd);
                gpu_idwt53_line(ins, S, outs, S, n, odd);
                htc_idwt97_line(fin, fref, n, odd);
                gpu_idwt97_line(fins, S, fouts, S, n, odd);
                for (uint32_t i = 0; i < n; i++) {
                    if (outs[i * S] != ref[i])
                        mismatches++;
                    if (memcmp(&fouts[i * S], &fref[i], 4) != 0)
                        mismatches++;
                }
            }
    CHECK_EQ_INT(mismatches, 0);
    return test_summary("gpu_dwt_host");
}
