#!/usr/bin/env bash
# tests/mock_cuda/run.sh: the GPU backend's host side against a stand-in CUDA
# runtime (fake_cudart.cpp), on a machine without a GPU: test_gpu (every
# HTJ2K corpus file, GPU output vs the CPU decoder) with several chunk sizes,
# one and two devices, and htc_gpu_bench --check on a repeated CT batch (its
# codestreams in pageable, pinned, and mixed memory; output buffers on the
# other device than their share's; streams of submitted batches).
#
#   tests/mock_cuda/run.sh [BUILD_DIR]          (default build-mock)
#   SAN=address|thread tests/mock_cuda/run.sh   (sanitizer build)
#   HTC_TEST_GPU_ROUNDS=R ...                   (test_gpu: R rounds of damaged copies)
#
# Needs nvcc (the library's .cu files are compiled as for a real device) and
# ../shared/testdata. Exit status: 0 when every run passed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
B=${1:-build-mock${SAN:+-$SAN}}
FLAGS=""
[ -n "${SAN:-}" ] && FLAGS="-fsanitize=$SAN -fno-omit-frame-pointer"
cmake -S . -B "$B" -DHTC_CUDA=ON -DHTC_PYTHON=OFF -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CUDA_FLAGS="${FLAGS:+-Xcompiler=${FLAGS// /,}}" \
  -DCMAKE_EXE_LINKER_FLAGS="${SAN:+-fsanitize=$SAN}" -DCMAKE_SHARED_LINKER_FLAGS="${SAN:+-fsanitize=$SAN}" >/dev/null || exit 1
cmake --build "$B" -j2 --target htc htcdicom test_gpu htc_gpu_bench >"$B/mock_build.log" 2>&1 || { tail -30 "$B/mock_build.log"; exit 1; }
g++ -O1 -g $FLAGS -ffp-contract=off -Iinclude -Isrc -I/usr/local/cuda/include -c tests/mock_cuda/fake_cudart.cpp \
  -o "$B/fake_cudart.o" || exit 1
link() { g++ $FLAGS -o "$B/$1.mock" "$2" "$B/libhtcdicom.a" "$B/libhtc.a" "$B/fake_cudart.o" -lpthread -lm || exit 1; }
link test_gpu "$B/CMakeFiles/test_gpu.dir/tests/unit/test_gpu.c.o"
link htc_gpu_bench "$B/CMakeFiles/htc_gpu_bench.dir/bench/gpu_bench.c.o"
fail=0
run() {
  echo "== $*"
  env "$@" > "$B/mock_run.log" 2>&1
  local rc=$?
  if [ $rc = 77 ]; then echo "SKIPPED (no corpus)"; elif [ $rc != 0 ]; then fail=1; echo "FAILED"; fi
  grep -E "passed|check:|MISMATCH|ERROR|WARNING: ThreadSanitizer|gpu batch of" "$B/mock_run.log" | head -8
}
run HTC_GPU_CHUNK= "$B/test_gpu.mock"
run HTC_GPU_CHUNK=1 FAKE_CUDA_DELAY_US=1000 "$B/test_gpu.mock"
run HTC_GPU_CHUNK=7 FAKE_CUDA_DELAY_US=3000 HTC_GPU_TIMING=1 "$B/test_gpu.mock"
run HTC_GPU_CHUNK=5 FAKE_CUDA_DEVICES=2 "$B/test_gpu.mock"
ct=$(ls ../shared/testdata/htj2k/medical/CT*.j2c ../shared/testdata/htj2k/openjph/*.j2c 2>/dev/null | head -6)
run ASAN_OPTIONS=detect_leaks=0 HTC_GPU_CHUNK=16 HTC_GPU_TIMING=1 "$B/htc_gpu_bench.mock" --check --count 100 --repeat 2 --threads 2 $ct
run ASAN_OPTIONS=detect_leaks=0 HTC_GPU_CHUNK=16 FAKE_CUDA_DEVICES=2 "$B/htc_gpu_bench.mock" --check --count 100 --repeat 2 --threads 3 --devices 2 $ct
# CT slices (HT, one layer): every job crosses in wire form, and the tables
# stay under 2.5% of the codestream bytes (they were 5% as whole jobs)
ctm=$(ls ../shared/testdata/htj2k/medical/CT*.j2c 2>/dev/null)
if [ -n "$ctm" ]; then
  run ASAN_OPTIONS=detect_leaks=0 HTC_GPU_TIMING=1 "$B/htc_gpu_bench.mock" --check --count 64 --repeat 1 --threads 2 --no-cpu $ctm
  tl=$(grep -E "tables .* MB of codestreams" "$B/mock_run.log")
  if [ -z "$tl" ] || echo "$tl" | grep -vq "(0 whole)" ||
     echo "$tl" | sed -n 's/.*codestreams (\([0-9.]*\)%).*/\1/p' | awk '$1 >= 2.5 { bad = 1 } END { exit !bad }'; then
    echo "FAILED: CT job tables not in wire form: ${tl:-no tables line}"; fail=1
  else
    echo "CT job tables: $(echo "$tl" | head -1 | sed 's/.*: tables/tables/')"
  fi
fi
# codestreams in pinned memory (sent without a copy), all or every other file
run ASAN_OPTIONS=detect_leaks=0 HTC_GPU_CHUNK=16 "$B/htc_gpu_bench.mock" --check --count 100 --repeat 2 --threads 3 --pinned-input $ct
run ASAN_OPTIONS=detect_leaks=0 HTC_GPU_CHUNK=9 FAKE_CUDA_DEVICES=2 "$B/htc_gpu_bench.mock" --check --count 100 --repeat 2 --threads 3 --devices 2 --pinned-some $ct
# caller buffers on the other device than their share's: routed to theirs
run ASAN_OPTIONS=detect_leaks=0 HTC_GPU_CHUNK=9 FAKE_CUDA_DEVICES=2 "$B/htc_gpu_bench.mock" --check --count 100 --repeat 2 --threads 3 --devices 2 --buffers-elsewhere $ct
run ASAN_OPTIONS=detect_leaks=0 FAKE_CUDA_DEVICES=2 "$B/htc_gpu_bench.mock" --check --count 3 --repeat 1 --threads 2 --devices 2 --buffers-elsewhere $ct
# a stream of submitted batches (two item arrays in turn), one and two devices
run ASAN_OPTIONS=detect_leaks=0 HTC_GPU_CHUNK=16 "$B/htc_gpu_bench.mock" --check --count 100 --repeat 1 --threads 3 --no-cpu --stream 5 $ct
run ASAN_OPTIONS=detect_leaks=0 HTC_GPU_CHUNK=9 FAKE_CUDA_DEVICES=2 "$B/htc_gpu_bench.mock" --check --count 100 --repeat 1 --threads 3 --devices 2 --no-cpu --pinned-some --stream 4 $ct
# outputs in one allocation a device, codestreams in one pinned buffer: the
# library asks the driver about each allocation once per call and thread,
# not about each item (2 devices, 3 threads, 8 decodes of 100 items)
run ASAN_OPTIONS=detect_leaks=0 FAKE_CUDA_QUERIES=1 FAKE_CUDA_DEVICES=2 HTC_GPU_CHUNK=16 "$B/htc_gpu_bench.mock" --check --count 100 --repeat 1 --threads 3 --devices 2 --pinned-input --no-cpu --one-allocation --stream 3 $ct
q=$(sed -n 's/^fake CUDA: \([0-9]*\) pointer queries/\1/p' "$B/mock_run.log")
if [ -n "$ct" ] && ! [ "${q:-999}" -le 64 ]; then echo "FAILED: ${q:-no} pointer queries for 800 items (at most 64 expected)"; fail=1; else echo "pointer queries: ${q:-not run}"; fi
[ $fail = 0 ] && echo "mock CUDA: all runs passed" || echo "mock CUDA: FAILURES (logs in $B)"
exit $fail
