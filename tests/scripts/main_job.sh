#!/usr/bin/env bash
# `make run`: the main job, on a sample the project makes itself.
# A CT phantom series (120 slices of 512x512, int16 HU) as HTJ2K Lossless RPCL
# DICOM files, decoded into one volume by `htc dicom volume` on the GPU when
# one is present and on all CPU cores otherwise, checked voxel for voxel
# against the phantom; a table and build/main_job/montage.png.
# Arguments after the build folder go to tests/scripts/main_job.py
# (e.g. --size 256 256 40, --device cpu, --encoder ojph, --keep).
set -eu
BUILD=${1:-build}
shift || true
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
bash tests/install_deps.sh >/dev/null
echo "htcodec main job: $("$BUILD/htc" version)"
exec python3 tests/scripts/main_job.py --htc "$BUILD/htc" --out "$BUILD/main_job" "$@"
