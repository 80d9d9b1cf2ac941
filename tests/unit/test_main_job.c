/* The main job (`make run`, tests/scripts/main_job.py) in its quick mode: 16
 * slices of 128x128 of the CT phantom, int16 HU, encoded as HTJ2K Lossless
 * RPCL, wrapped as DICOM, decoded by `htc dicom volume` (CPU) and compared
 * voxel for voxel with the phantom; the script exits 0 only when every voxel,
 * the slice order along the normal and the spacing are right. With pydicom,
 * every other slice is written by the script's own DICOM writer and pydicom
 * must read both writers' files the same. Exit 77 (skip) without python3 +
 * numpy or without an HTJ2K encoder (grk_compress or ojph_compress). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roundtrip_driver.h"

int main(void)
{
    /* the output goes next to htc (build/main_job_quick), removed after a pass */
    return script_run("main_job.py", "--quick --device cpu", "test_main_job");
}
