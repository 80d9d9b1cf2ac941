#!/usr/bin/env python3
"""Partial decodes against whole decodes (issue 5): how much faster a small region of a
large tiled image and a reduced-resolution decode of a large radiograph are.

    bench/region_bench.py [--build build] [--repeat R] [--threads N] [--json OUT.json]

Targets: a small region of the 8192x8192 WSI (512x512 tiles) at least 20x faster than the
whole image; reduce 3 of the 3064x4774 mammogram (HTJ2K and Part 1) at least 5x faster
than the full decode.

How it is timed: through the Python package (PYTHONPATH=<build>/python), one Decoder with
`max_num_cpu_threads=N` on the CPU, samples as they are (ColorSpec.UNCHANGED,
allow_any_depth=True, so no scaling). Two figures per case, each the median of R runs after
one untimed warm-up:
  decode  the stream parsed once (htcodec.CodeStream), then decode only: what a viewer that
          keeps the file open pays per request;
  parse+decode  the file's bytes each run (parse boxes, main and tile-part headers, decode).
Both sides of a ratio pay the same Python call and output-image overhead (small next to the
whole image, a visible share of the smallest requests, so the ratios are if anything low).
Each partial decode is also checked against the same cut of the whole decode (numpy).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "testdata"))

WSI = ["generated/wsi/wsi_8192x8192_rgb_htj2k_lossy.j2c",
       "generated/wsi/wsi_8192x8192_rgb_j2k_lossy.jp2"]
MAMMO = ["generated/mammo/RG2_mirror_3064x4774_htj2k_rpcl_tlm.j2c",
         "generated/mammo/RG2_mirror_3064x4774_j2k_rpcl_tlm.j2k"]
# (name, y0, x0, y1, x1): inside one tile, across four tiles, a larger viewport
REGIONS = [("256x256 in one tile", 1100, 1100, 1356, 1356),
           ("256x256 over 4 tiles", 3968, 3968, 4224, 4224),
           ("1024x768 viewport", 2000, 5000, 2768, 6024)]
TARGET_REGION, TARGET_REDUCE = 20.0, 5.0


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn, repeat):
    fn()  # warm-up: buffers, thread pool, page cache
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="decoder threads (0 = all cores)")
    ap.add_argument("--json")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.abspath(a.build), "python"))
    import htcodec as h
    import numpy as np

    dec = h.Decoder(backends=[h.BackendKind.CPU_ONLY], max_num_cpu_threads=a.threads)
    rows = []

    def params(reduce=0):
        return h.DecodeParams(color_spec=h.ColorSpec.UNCHANGED, allow_any_depth=True, reduce=reduce)

    def case(path, kind, target, full_src, part_src, full_p, part_p, check):
        name = os.path.relpath(path, DATA)
        raw = open(path, "rb").read()
        whole = np.asarray(dec.decode(full_src, full_p))
        part = np.asarray(dec.decode(part_src, part_p))
        same = bool(np.array_equal(check(whole), part))
        full_ms = timed(lambda: dec.decode(full_src, full_p), a.repeat)
        part_ms = timed(lambda: dec.decode(part_src, part_p), a.repeat)
        if isinstance(part_src, h.DecodeSource):
            reg = part_src.region
            bytes_src = h.DecodeSource(h.CodeStream(raw), reg)
        else:
            bytes_src = raw
        full_pd = timed(lambda: dec.decode(raw, full_p), a.repeat)
        part_pd = timed(lambda: dec.decode(bytes_src, part_p), a.repeat)
        r = {"file": name, "case": kind, "full_ms": round(full_ms, 2), "part_ms": round(part_ms, 2),
             "ratio": round(full_ms / part_ms, 1), "full_parse_ms": round(full_pd, 2),
             "part_parse_ms": round(part_pd, 2), "ratio_parse": round(full_pd / part_pd, 1),
             "target": target, "same_as_cut": same}
        r["ok"] = same and r["ratio"] >= target and r["ratio_parse"] >= target
        rows.append(r)
        print(f"{name:60s} {kind:22s} full {full_ms:9.1f} ms  part {part_ms:8.2f} ms  x{r['ratio']:7.1f}"
              f"  (parse+decode x{r['ratio_parse']:6.1f})  target x{target:g}  "
              f"{'ok' if r['ok'] else 'MISSED' if same else 'WRONG SAMPLES'}", flush=True)

    for rel in WSI:
        path = os.path.join(DATA, rel)
        if not os.path.exists(path):
            print(f"{rel}: not found, skipped")
            continue
        cs = h.CodeStream(path)
        for kind, y0, x0, y1, x1 in REGIONS:
            case(path, kind, TARGET_REGION, cs, h.DecodeSource(cs, h.Region(y0, x0, y1, x1)), params(), params(),
                 lambda im, y0=y0, x0=x0, y1=y1, x1=x1: im[y0:y1, x0:x1])
    for rel in MAMMO:
        path = os.path.join(DATA, rel)
        if not os.path.exists(path):
            print(f"{rel}: not found, skipped")
            continue
        cs = h.CodeStream(path)
        for red in (3,):
            def cut(im, red=red):  # the reduced decode is checked against the reduced decode
                return np.asarray(dec.decode(cs, params(red)))
            case(path, f"reduce {red}", TARGET_REDUCE, cs, cs, params(), params(red), cut)
        # a region of the reduced image too (a thumbnail's corner), for the record
        case(path, "reduce 2 + region", TARGET_REDUCE, cs, h.DecodeSource(cs, h.Region(0, 0, 1200, 1200)),
             params(), params(2),
             lambda im: np.asarray(dec.decode(cs, params(2)))[:300, :300])

    load = os.getloadavg()
    meta = {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": a.threads, "repeat": a.repeat,
            "loadavg": [round(x, 2) for x in load], "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(f"machine: {meta['cpu']}, {meta['cores']} cores, decoder threads {a.threads}, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {meta['date']}")
    missed = [r for r in rows if not r["ok"]]
    print(f"{len(rows) - len(missed)} of {len(rows)} cases meet their target")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
