#!/usr/bin/env python3
"""htcodec against the anchors (OpenJPH, OpenJPEG, Grok) on the same files.

    bench/bench.py [--htc build/htc] [--sets ct,mammo,wsi] [--files F ...] [--repeat R]
                   [--threads N] [--device cpu|gpu] [--no-anchors] [--json OUT.json]

How each decoder is timed (read this before quoting a ratio):
  htc    `htc bench --json`: in one process, each file read into memory once, then R timed
         runs of parse + decode into a picture (no file writing, no process start), median.
  ojph_expand, opj_decompress, grk_decompress: no in-process loop exists for them, so each
         is run R times as a process on the file, writing its output to tmpfs (/dev/shm); the
         median wall time minus a start-up estimate, the median wall time of the same command
         on an 8x8 image of the same kind (HTJ2K for ojph, Part 1 otherwise), is its decode
         time. That still includes reading the file and writing the decoded image to tmpfs,
         which htc's figure does not: a small handicap for the anchors (a memory copy of the
         output, tens of ms for the 200 MB WSI), worth remembering on small ratios.
         Their own printed timers (ojph "Elapsed time", opj/grk "decode time") are recorded
         in the JSON too.
  OpenJPH in process (preferred when available): bench/ojph_inproc.cpp, our own small
         program on OpenJPH's public API, decodes each file from memory R times in one process
         into a buffer in htc's .raw layout, as `htc bench` does (no start-up to subtract),
         median wall and CPU time, right after htc's one-thread run of the same file (back to
         back); its sha256 is checked against htc's. It needs OpenJPH's
         headers (libopenjph-dev 0.9): --ojph-root DIR or $HTC_OJPH_ROOT names an unpacked
         root (DIR/usr/include/openjph, and libopenjph.so.0.9 under DIR/usr/lib/x86_64-linux-gnu
         or installed; bench/ojph_setup makes one under build/ojph), else / is tried. The
         program is built with g++ into the htc binary's folder. Without it, ojph_expand
         processes as above; the first lines of the output say which was used.
  Threads: htc and grk/opj run with 1 thread and with N (default: all cores);
         OpenJPH is single-threaded.
  CPU time: on a loaded machine wall times swing; the single-thread table compares CPU time
         (user + system; htc's from CLOCK_PROCESS_CPUTIME_ID in process, the anchors' from
         wait4() minus their start-up's), which contention hardly moves.
Ratios are anchor time / htc time at the same thread count: above 1 means htc is faster.
The sha256 column checks htc's samples against the corpus (reference/SHA256SUMS): "ok" or
"DIFF" (lossy 9/7 files may differ by 1 LSB from the reference decoder and say "lossy").
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "testdata"))

SETS = {
    "ct": ["htj2k/medical/CT1.j2c", "htj2k/medical/CT2.j2c", "htj2k/medical/MR1.j2c",
           "j2k/medical/CT1.j2k", "j2k/medical/MR1.j2k", "j2k/medical/MR3.j2k"],
    "mammo": ["generated/mammo/RG2_mirror_3064x4774_htj2k_rpcl_tlm.j2c",
              "generated/mammo/RG2_mirror_3064x4774_j2k_rpcl_tlm.j2k"],
    "wsi": ["generated/wsi/wsi_8192x8192_rgb_htj2k_lossy.j2c",
            "generated/wsi/wsi_8192x8192_rgb_j2k_lossy.jp2"],
}
LOSSY = ("wsi_8192x8192_rgb_htj2k_lossy.j2c", "wsi_8192x8192_rgb_j2k_lossy.jp2", "image.j2k")


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def is_ht(path):
    """HTJ2K when the codestream's SIZ Rsiz has bit 14 or a COD's SPcod style has bit 6."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    i = data.find(b"\xff\x51")
    if i >= 0 and i + 6 <= len(data) and (data[i + 4] << 8 | data[i + 5]) & 0x4000:
        return True
    i = data.find(b"\xff\x52")
    return i >= 0 and i + 12 <= len(data) and bool(data[i + 12] & 0x40)


def components(path):
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    i = data.find(b"\xff\x51")
    return data[i + 38] << 8 | data[i + 39] if i >= 0 and i + 40 <= len(data) else 1  # Csiz


def load_sums():
    sums = {}
    try:
        with open(os.path.join(DATA, "reference", "SHA256SUMS")) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                h, name = line.split(None, 1)
                sums[name.strip()] = h
    except OSError:
        pass
    return sums


def run_timed(cmd, repeat, spread=None):
    """Median wall seconds of repeat runs, and the last run's output. spread, a list,
    receives the interquartile range of the runs."""
    times, cpus, out = [], [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        with tempfile.TemporaryFile() as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            _, status, ru = os.wait4(proc.pid, 0)
            times.append(time.perf_counter() - t0)
            cpus.append(ru.ru_utime + ru.ru_stime)
            proc.returncode = os.waitstatus_to_exitcode(status)
            log.seek(0)
            out = log.read().decode(errors="replace")
        if proc.returncode != 0:
            return None, out
    if spread is not None:
        q = statistics.quantiles(times, n=4) if len(times) >= 2 else [times[0]] * 3
        spread.append(q[2] - q[0])
        spread.append(statistics.median(cpus))
    return statistics.median(times), out


def self_reported_ms(tool, out):
    for line in out.splitlines():
        line = line.strip()
        if tool == "ojph" and line.startswith("Elapsed time"):
            return 1e3 * float(line.split("=")[1])
        if tool in ("opj", "grk") and line.startswith("decode time:"):
            return float(line.split(":")[1].split()[0])
    return None


def anchor_cmds(tool, src, tmp, threads, ncomp, ht):
    """Command line for an anchor, or None when it does not read this file."""
    ext = os.path.splitext(src)[1]
    if tool == "ojph":
        if not ht or ext not in (".j2c", ".jph"):
            return None
        return ["ojph_expand", "-i", src, "-o", os.path.join(tmp, "out." + ("ppm" if ncomp == 3 else "pgm"))]
    # opj/grk pick the parser by extension: .j2k for codestreams, .jp2 for JP2
    if ext not in (".j2k", ".jp2"):
        link = os.path.join(tmp, "in_%s.j2k" % os.path.basename(src).replace(".", "_"))
        if not os.path.exists(link):
            os.symlink(src, link)
        src = link
    if tool == "opj":
        return ["opj_decompress", "-i", src, "-o", os.path.join(tmp, "out.raw"), "-threads", str(threads)]
    return ["grk_decompress", "-i", src, "-o", os.path.join(tmp, "out.raw"), "-H", str(threads)]


def ojph_inproc_build(root, outdir):
    """Builds bench/ojph_inproc.cpp against OpenJPH under root (an unpacked libopenjph-dev,
    or /); returns (path of the program, a description) or (None, why not)."""
    inc = os.path.join(root, "usr", "include")
    if not os.path.exists(os.path.join(inc, "openjph", "ojph_codestream.h")):
        return None, "no OpenJPH headers under %s" % os.path.join(inc, "openjph")
    lib = None
    for d in (os.path.join(root, "usr", "lib", "x86_64-linux-gnu"), os.path.join(root, "usr", "lib"),
              "/usr/lib/x86_64-linux-gnu", "/usr/lib", "/usr/local/lib"):
        if os.path.exists(os.path.join(d, "libopenjph.so.0.9")):
            lib = os.path.join(d, "libopenjph.so.0.9")
            break
    if not lib:
        return None, "no libopenjph.so.0.9 (libopenjph0.9) under %s or the system's folders" % root
    src = os.path.join(ROOT, "bench", "ojph_inproc.cpp")
    exe = os.path.join(outdir, "ojph_inproc")
    stamp = exe + ".from"
    what = "%s %s" % (os.path.realpath(inc), os.path.realpath(lib))
    fresh = (os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src) and
             os.path.exists(stamp) and open(stamp).read() == what)
    if not fresh:
        cxx = shutil.which("g++") or shutil.which("c++")
        if not cxx:
            return None, "no C++ compiler"
        cmd = [cxx, "-O2", "-std=c++14", "-I" + inc, src, lib, "-Wl,-rpath," + os.path.dirname(lib),
               "-o", exe]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            return None, "build failed: %s" % r.stdout.strip()[-300:]
        with open(stamp, "w") as f:
            f.write(what)
    return exe, "bench/ojph_inproc (OpenJPH's headers %s, library %s)" % (inc, lib)


def tiny_files(tmp):
    """8x8 HTJ2K and Part 1 streams for the start-up estimate."""
    pgm = os.path.join(tmp, "tiny.pgm")
    with open(pgm, "wb") as f:
        f.write(b"P5\n8 8\n255\n" + bytes(range(64)))
    ht, p1 = os.path.join(tmp, "tiny_ht.j2c"), os.path.join(tmp, "tiny_p1.j2k")
    subprocess.run(["ojph_compress", "-i", pgm, "-o", ht, "-reversible", "true", "-num_decomps", "2"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["opj_compress", "-i", pgm, "-o", p1, "-n", "3"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ht, p1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--htc", default=os.path.join(ROOT, "build", "htc"))
    ap.add_argument("--sets", default="ct,mammo,wsi")
    ap.add_argument("--files", nargs="*", help="files instead of the sets")
    ap.add_argument("--repeat", type=int, default=0, help="runs per file (default: by size, 3 to 20)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--device", default="cpu", choices=["cpu", "gpu"], help="htc's device")
    ap.add_argument("--no-anchors", action="store_true")
    ap.add_argument("--ojph-root", default=os.environ.get("HTC_OJPH_ROOT", ""),
                    help="unpacked libopenjph-dev (+ libopenjph0.9) root for the in-process OpenJPH "
                         "timing (default $HTC_OJPH_ROOT, else /)")
    ap.add_argument("--ojph-expand", action="store_true",
                    help="time OpenJPH with ojph_expand processes even when the in-process tool builds")
    ap.add_argument("--json", help="write every figure here")
    args = ap.parse_args()

    if args.files:
        files = [os.path.abspath(f) for f in args.files]
    else:
        if not os.path.isdir(DATA):
            print("bench: the corpus is not at %s" % DATA)
            return 77
        files = [os.path.join(DATA, f) for s in args.sets.split(",") for f in SETS[s]]
    files = [f for f in files if os.path.exists(f)]
    if not files:
        print("bench: no files")
        return 1
    sums = load_sums()
    tmp = tempfile.mkdtemp(prefix="htc_bench_", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    machine = {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "loadavg_start": os.getloadavg()[0]}
    print("machine: %s, %d cores (%s), load average %.1f" % (machine["cpu"], machine["cores"],
                                                              machine["date"], machine["loadavg_start"]))
    thread_counts = [1] if args.threads == 1 else [1, args.threads]

    def reps(path):
        if args.repeat:
            return args.repeat
        mb = os.path.getsize(path) / 1e6
        return 20 if mb < 1 else 5 if mb < 8 else 3

    results = {f: {"file": os.path.relpath(f, DATA) if f.startswith(DATA) else f} for f in files}
    # OpenJPH in process: built first, run right after htc on each file (back to back)
    inproc = None
    if not args.no_anchors and not args.ojph_expand:
        outdir = os.path.dirname(os.path.abspath(args.htc)) if os.path.isdir(
            os.path.dirname(os.path.abspath(args.htc))) else tmp
        inproc, why = ojph_inproc_build(args.ojph_root or "/", outdir)
        if not inproc and args.ojph_root:
            print("OpenJPH in process: not available (%s)" % why)
    if inproc:
        print("OpenJPH: timed in process by %s" % why)
    elif not args.no_anchors and shutil.which("ojph_expand"):
        print("OpenJPH: timed as ojph_expand processes minus a start-up estimate"
              " (no in-process tool: see --ojph-root)")
    machine["ojph_method"] = "in-process" if inproc else "ojph_expand"
    tools = [] if args.no_anchors else [t for t, exe in (("ojph", "ojph_expand"), ("opj", "opj_decompress"),
                                                           ("grk", "grk_decompress"))
                                        if shutil.which(exe) or (t == "ojph" and inproc)]
    # htc: one process per thread count and repeat class
    for t in thread_counts:
        for f in files:
            cmd = [args.htc, "bench", f, "--json", "--threads", str(t), "--repeat", str(reps(f)),
                   "--device", args.device]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                obj = json.loads(r.stdout)[0]
            except (ValueError, IndexError):
                obj = {"error": (r.stderr or r.stdout).strip()[-200:] or "htc bench failed"}
            results[f]["htc_%d" % t] = obj
            if "sha256" in obj and "width" not in results[f]:
                for k in ("width", "height", "components", "precision", "samples"):
                    results[f][k] = obj.get(k)
                ref = sums.get(results[f]["file"])
                results[f]["sha_check"] = ("ok" if ref == obj["sha256"] else
                                           "lossy" if os.path.basename(f) in LOSSY else
                                           "DIFF" if ref else "n/a")
            if t == 1 and inproc and is_ht(f) and os.path.splitext(f)[1] == ".j2c":
                r = subprocess.run([inproc, f, "--json", "--repeat", str(reps(f))], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
                try:
                    o = json.loads(r.stdout)[0]
                except (ValueError, IndexError):
                    o = {"error": (r.stderr or r.stdout).strip()[-200:] or "ojph_inproc failed"}
                if "sha256" in o:
                    o["same_as_htc"] = o["sha256"] == obj.get("sha256")
                    if not o["same_as_htc"]:
                        print("warning: OpenJPH's samples differ from htc's on %s" % os.path.basename(f))
                o["method"] = "in-process"
                results[f]["ojph_1"] = o
    # anchors
    startup, startup_iqr, startup_cpu = {}, {}, {}
    if tools:
        tiny_ht, tiny_p1 = tiny_files(tmp)
        for tool in tools:
            if tool == "ojph" and inproc:
                continue
            for t in ([1] if tool == "ojph" else thread_counts):
                for kind, tiny in (("ht", tiny_ht), ("p1", tiny_p1)):
                    cmd = anchor_cmds(tool, tiny, tmp, t, 1, kind == "ht")
                    if cmd and os.path.exists(tiny):
                        iqr = []
                        s, _ = run_timed(cmd, 21, iqr)
                        if s is not None:
                            startup[(tool, t, kind)] = s
                            startup_iqr[(tool, t, kind)] = iqr[0]
                            startup_cpu[(tool, t, kind)] = iqr[1]
        for f in files:
            ht, nc = is_ht(f), components(f)
            for tool in tools:
                for t in ([1] if tool == "ojph" else thread_counts):
                    if tool == "ojph" and "ojph_1" in results[f]:
                        continue  # timed in process
                    cmd = anchor_cmds(tool, f, tmp, t, nc, ht)
                    if not cmd or not shutil.which(cmd[0]):
                        continue
                    extra = []
                    s, out = run_timed(cmd, reps(f), extra)
                    key = "%s_%d" % (tool, t)
                    if s is None:
                        results[f][key] = {"error": out.strip()[-200:]}
                        continue
                    k = (tool, t, "ht" if ht else "p1")
                    st, noise = startup.get(k, 0.0), startup_iqr.get(k, 0.0)
                    res = {"wall_ms": 1e3 * s, "startup_ms": 1e3 * st, "startup_iqr_ms": 1e3 * noise,
                           "self_ms": self_reported_ms(tool, out),
                           "cpu_ms": 1e3 * (extra[1] - startup_cpu.get(k, 0.0))}
                    # below the start-up's own spread the difference means nothing
                    if s - st > max(noise, 0.05 * st):
                        res["median_ms"] = 1e3 * (s - st)
                    else:
                        res["below_noise"] = True
                    results[f][key] = res
    shutil.rmtree(tmp, ignore_errors=True)

    # the table
    cols = [("htc_%d" % t, "htc %dT" % t) for t in thread_counts]
    for tool in tools:
        for t in ([1] if tool == "ojph" else thread_counts):
            cols.append(("%s_%d" % (tool, t), "%s %dT" % (tool, t)))
    print("\nmedian decode time, ms (anchors: wall time minus start-up%s; see the header of bench/bench.py)"
          % (", OpenJPH in process" if inproc else ""))
    head = "%-44s %-16s" % ("file", "size") + "".join("%11s" % c[1] for c in cols) + "  sha256"
    print(head)
    for f in files:
        r = results[f]
        size = "%sx%sx%s %sb" % (r.get("width", "?"), r.get("height", "?"), r.get("components", "?"),
                                 r.get("precision", "?"))
        cells = []
        for key, _ in cols:
            v = r.get(key)
            cells.append("%11.2f" % v["median_ms"] if v and "median_ms" in v else "%11s" %
                         ("noise" if v and v.get("below_noise") else "err" if v else "-"))
        print("%-44s %-16s" % (os.path.basename(r["file"])[-44:], size) + "".join(cells) + "  " + r.get("sha_check", "-"))
    print("\nratio anchor / htc at the same thread count (> 1: htc faster)")
    rcols = [c for c in cols if not c[0].startswith("htc")]
    print("%-44s" % "file" + "".join("%11s" % c[1] for c in rcols))
    for f in files:
        r = results[f]
        cells = []
        for key, _ in rcols:
            t = key.split("_")[1]
            a, h = r.get(key), r.get("htc_" + t)
            if a and h and "median_ms" in a and "median_ms" in h and h["median_ms"] > 0:
                cells.append("%11.2f" % (a["median_ms"] / h["median_ms"]))
            else:
                cells.append("%11s" % "-")
        print("%-44s" % os.path.basename(r["file"])[-44:] + "".join(cells))
    print("\nsingle thread by CPU time, ms (user + system; anchors minus the start-up's): the figure"
          " to trust on a loaded machine")
    ccols = [c for c in cols if c[0].endswith("_1")]
    print("%-44s" % "file" + "".join("%11s" % c[1] for c in ccols) + "".join(
        "%11s" % ("/" + c[1].split()[0]) for c in ccols[1:]))
    for f in files:
        r = results[f]
        vals = []
        for key, _ in ccols:
            v = r.get(key) or {}
            vals.append(v.get("median_cpu_ms", v.get("cpu_ms")))
        cells = ["%11.2f" % v if v is not None else "%11s" % "-" for v in vals]
        ratios = ["%11.2f" % (v / vals[0]) if v is not None and vals[0] else "%11s" % "-" for v in vals[1:]]
        print("%-44s" % os.path.basename(r["file"])[-44:] + "".join(cells) + "".join(ratios))
    if tools:
        print("\nthe anchors' own timers, ms (ojph_expand \"Elapsed time\" is CPU time of its whole run;"
              " opj/grk \"decode time\")")
        print("%-44s" % "file" + "".join("%11s" % c[1] for c in rcols))
        for f in files:
            r = results[f]
            cells = []
            for key, _ in rcols:
                v = r.get(key)
                cells.append("%11.2f" % v["self_ms"] if v and v.get("self_ms") is not None else "%11s" % "-")
            print("%-44s" % os.path.basename(r["file"])[-44:] + "".join(cells))
    errors = [(r["file"], k, v["error"]) for r in results.values() for k, v in r.items()
              if isinstance(v, dict) and "error" in v]
    for name, key, msg in errors:
        print("error: %s (%s): %s" % (name, key, msg.splitlines()[-1] if msg else ""))
    machine["loadavg_end"] = os.getloadavg()[0]
    print("load average at the end: %.1f (above the core count, wall times are inflated)" %
          machine["loadavg_end"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "startup_s": {"%s_%d_%s" % k: v for k, v in startup.items()},
                       "results": list(results.values())}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
