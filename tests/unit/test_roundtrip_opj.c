/* Round trips through public Part-1 encoders (tests/scripts/roundtrip_codecs.py --suite part1):
 * images generated at test time, encoded with random options, decoded by the htc
 * command line of this build, checked exactly (lossless) or within 1 of opj_decompress
 * (lossy). Exit 77 (skip) when python3, numpy, the encoders or htc are missing, or
 * when htc does not support any case yet. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roundtrip_driver.h"

int main(void)
{
    return roundtrip_run("part1", "test_roundtrip_opj");
}
