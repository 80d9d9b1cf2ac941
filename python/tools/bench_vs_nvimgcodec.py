"""Decode the same files with htcodec and (when installed) nvImageCodec, on the
same machine, and print one table: median milliseconds per file and for the whole
list in one call, megapixels a second, and whether the samples agree.

    python3 bench_vs_nvimgcodec.py FILE_OR_FOLDER... [--repeat 10] [--params any|default]
                                   [--backend default|cpu] [--json OUT.json]

--params any: allow_any_depth=True, ColorSpec.UNCHANGED (native samples); default:
nvImageCodec's defaults (8-bit RGB). --backend cpu asks both for their CPU backends.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

import htcodec

EXTS = (".j2k", ".j2c", ".jp2", ".jph", ".jhc")


def files_of(args):
    out = []
    for a in args:
        if os.path.isdir(a):
            out += sorted(os.path.join(a, f) for f in os.listdir(a) if f.lower().endswith(EXTS))
        else:
            out.append(a)
    return out


def sync():
    try:
        import torch
        if torch.cuda.is_available():
            torch.cuda.synchronize()
    except ImportError:
        pass


def timed(fn, repeat):
    fn()  # warm-up
    sync()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        sync()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def host(img):
    return None if img is None else np.asarray(img.cpu())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--params", choices=("any", "default"), default="any")
    ap.add_argument("--backend", choices=("default", "cpu"), default="default")
    ap.add_argument("--json")
    a = ap.parse_args()
    files = files_of(a.paths)
    blobs = [open(f, "rb").read() for f in files]
    libs = [("htcodec", htcodec)]
    try:
        from nvidia import nvimgcodec
        libs.append(("nvimgcodec", nvimgcodec))
    except ImportError:
        print("nvImageCodec is not installed: htcodec alone", file=sys.stderr)
    rows, results = [], {}
    for name, lib in libs:
        kw = {}
        if a.backend == "cpu":
            kw["backends"] = [lib.Backend(lib.BackendKind.CPU_ONLY)] if name == "nvimgcodec" else \
                [lib.BackendKind.CPU_ONLY]
        dec = lib.Decoder(**kw)
        params = lib.DecodeParams(allow_any_depth=True, color_spec=lib.ColorSpec.UNCHANGED) \
            if a.params == "any" else lib.DecodeParams()
        streams = [lib.CodeStream(b) for b in blobs]
        per_file, outs = [], []
        for s in streams:
            per_file.append(timed(lambda s=s: dec.decode(s, params=params), a.repeat))
            outs.append(host(dec.decode(s, params=params)))
        batch = timed(lambda: dec.decode(streams, params=params), a.repeat)
        results[name] = (per_file, batch, outs, dec)
    ref = results["htcodec"][2]
    for i, f in enumerate(files):
        h, w = ref[i].shape[:2] if ref[i] is not None else (0, 0)
        row = {"file": os.path.basename(f), "pixels": h * w}
        for name in results:
            t = results[name][0][i]
            row[f"{name}_ms"] = round(1000 * t, 3)
            row[f"{name}_mpix_s"] = round(h * w / t / 1e6, 1) if t else None
        if "nvimgcodec" in results:
            o = results["nvimgcodec"][2][i]
            row["max_abs_diff"] = None if o is None or ref[i] is None or o.shape != ref[i].shape else \
                int(np.abs(o.astype(np.int64) - ref[i].astype(np.int64)).max())
        rows.append(row)
    total_pix = sum(r["pixels"] for r in rows)
    names = list(results)
    print(f"| file | Mpix | " + " | ".join(f"{n} ms | {n} Mpix/s" for n in names) +
          (" | max abs diff |" if "nvimgcodec" in results else " |"))
    print("|---" * (2 + 2 * len(names) + ("nvimgcodec" in results)) + "|")
    for r in rows:
        cells = [r["file"], f"{r['pixels'] / 1e6:.2f}"]
        for n in names:
            cells += [f"{r[n + '_ms']:.2f}", f"{r[n + '_mpix_s']}"]
        if "nvimgcodec" in results:
            cells.append(str(r["max_abs_diff"]))
        print("| " + " | ".join(cells) + " |")
    cells = [f"all {len(files)} in one call", f"{total_pix / 1e6:.2f}"]
    for n in names:
        t = results[n][1]
        cells += [f"{1000 * t:.2f}", f"{total_pix / t / 1e6:.1f}"]
    print("| " + " | ".join(cells) + (" | |" if "nvimgcodec" in results else " |"))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"params": a.params, "backend": a.backend, "files": rows,
                       "batch_ms": {n: 1000 * results[n][1] for n in names}}, fh, indent=1)


if __name__ == "__main__":
    main()
