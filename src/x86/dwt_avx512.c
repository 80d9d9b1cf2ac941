/* htcodec: inverse DWT kernels, AVX-512 (none yet: the AVX2 ones stay). */
#include "transform/transform.h"

void htc_dwt_init_avx512(HtcTransformDSP *dsp) { (void)dsp; }
