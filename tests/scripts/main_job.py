#!/usr/bin/env python3
"""The main job (`make run`): a CT series as HTJ2K Lossless RPCL DICOM files,
decoded back into one volume by `htc dicom volume`, checked voxel for voxel.

1. A 3D phantom in HU, int16 signed (make_phantom.py), 120 slices of 512x512.
2. Each slice encoded as HTJ2K, reversible 5/3, RPCL. The route that keeps the
   samples signed is grk_compress with signed little-endian raw input
   (-F W,H,1,16,s -M 64 -p RPCL): our decoder, OpenJPEG and Grok decode it to
   the input exactly. (Debian's ojph_compress 0.9 writes negative samples of
   signed .raw input as 32767 in the codestream, only ojph_expand undoing it,
   so ojph is used only with --encoder ojph: HU + 1024 as uint16, Pixel
   Representation 0, Rescale Intercept -1024, as many scanners store CT.)
3. Each codestream wrapped as a DICOM Part 10 CT image (ct_dicom.py: pydicom
   when importable, else our own small writer; --quick writes every other
   slice with each and checks that pydicom reads both the same), transfer
   syntax 1.2.840.10008.1.2.4.202, one fragment behind a Basic Offset Table.
   Instance 1 is the top slice, as scanners number them, so the volume
   command must sort along the slice normal to give the phantom's order.
4. `htc dicom volume --device auto` (the GPU when present, else all cores)
   decodes the series; the volume must equal the phantom voxel for voxel.
5. A table, and a 4x4 PNG montage (window 40/400 HU).

main_job.py --htc build/htc [--out DIR] [--size W H SLICES] [--quick]
            [--device auto|cpu|gpu] [--encoder grk|ojph] [--threads N]
            [--writer auto|pydicom|own|mixed] [--keep]
Exit 0 when the check passes, 1 when it fails, 77 when a tool is missing.
"""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

WINDOW = (40, 400)  # center, width (HU)


def skip(msg):
    print("main job: %s; skipped" % msg)
    sys.exit(77)


def png_gray8(path, img):
    """A tiny PNG writer: 8-bit grayscale, no filtering, one IDAT chunk."""
    h, w = img.shape

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def montage(np, vol, path, tiles=4, max_px=2048):
    n, h, w = vol.shape
    k = min(tiles * tiles, n)
    idx = [round(i * (n - 1) / max(k - 1, 1)) for i in range(k)]
    step = 1
    while tiles * w // step > max_px:
        step *= 2
    lo = WINDOW[0] - WINDOW[1] / 2.0
    th, tw = (h + step - 1) // step, (w + step - 1) // step
    rows = (k + tiles - 1) // tiles
    out = np.zeros((rows * th, tiles * tw), dtype=np.uint8)
    for j, z in enumerate(idx):
        # slices shown head first (top-left), anterior up, patient's right on the image left
        sl = vol[n - 1 - z, ::step, ::step].astype(np.float32)
        g = np.clip((sl - lo) * (255.0 / WINDOW[1]), 0, 255).astype(np.uint8)
        r, c = divmod(j, tiles)
        out[r * th:(r + 1) * th, c * tw:(c + 1) * tw] = g
    png_gray8(path, out)
    return out.shape


def anchor_decode(np, tmp, j2c):
    """One codestream decoded by OpenJPEG (opj_decompress, PGX out), so the
    check does not rest on our decoder alone: an encoder and decoder that
    err in the same way (as ojph 0.9 does with signed raw input) would agree."""
    src, dst = os.path.join(tmp, "anchor.j2c"), os.path.join(tmp, "anchor.pgx")
    with open(src, "wb") as f:
        f.write(j2c)
    r = subprocess.run(["opj_decompress", "-i", src, "-o", dst], capture_output=True, text=True)
    out = dst if os.path.exists(dst) else os.path.join(tmp, "anchor_0.pgx")
    if r.returncode != 0 or not os.path.exists(out):
        return None
    with open(out, "rb") as f:
        data = f.read()
    head, _, body = data.partition(b"\n")
    t = head.split()  # PG ML|LM +|- depth width height
    if len(t) != 6 or t[0] != b"PG" or int(t[3]) > 16:
        return None
    dt = (">" if t[1] == b"ML" else "<") + ("i2" if t[2] == b"-" else "u2")
    return np.frombuffer(body, dtype=dt).reshape(int(t[5]), int(t[4]))


def encode_slice(encoder, tmp, k, sl, np):
    h, w = sl.shape
    j2c = os.path.join(tmp, "s%04d.j2c" % k)
    if encoder == "grk":
        src = os.path.join(tmp, "s%04d.rawl" % k)
        sl.astype("<i2").tofile(src)
        cmd = ["grk_compress", "-i", src, "-o", j2c, "-F", "%d,%d,1,16,s" % (w, h), "-M", "64", "-p", "RPCL",
               "-n", "6" if min(w, h) >= 64 else "3"]
    else:
        src = os.path.join(tmp, "s%04d.pgm" % k)
        with open(src, "wb") as f:
            f.write(b"P5\n%d %d\n65535\n" % (w, h))
            f.write((sl.astype(np.int32) + 1024).astype(">u2").tobytes())
        cmd = ["ojph_compress", "-i", src, "-o", j2c, "-reversible", "true", "-prog_order", "RPCL",
               "-num_decomps", "5" if min(w, h) >= 64 else "2"]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    os.unlink(src)
    if r.returncode != 0 or not os.path.exists(j2c):
        raise RuntimeError("%s failed on slice %d: %s" % (cmd[0], k, r.stderr.strip()[-300:]))
    with open(j2c, "rb") as f:
        data = f.read()
    os.unlink(j2c)
    return data


def main():
    ap = argparse.ArgumentParser(description="htcodec main job")
    ap.add_argument("--htc", default="build/htc")
    ap.add_argument("--out", default=None, help="output folder (default: next to htc, main_job/)")
    ap.add_argument("--size", nargs=3, type=int, metavar=("W", "H", "SLICES"), default=[512, 512, 120])
    ap.add_argument("--quick", action="store_true", help="16 slices of 128x128 (the ctest)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    ap.add_argument("--encoder", default=None, choices=["grk", "ojph"])
    ap.add_argument("--threads", type=int, default=0, help="decoder threads (0: all cores)")
    ap.add_argument("--writer", default="auto", choices=["auto", "pydicom", "own", "mixed"],
                    help="DICOM writer (auto: pydicom when importable, mixed with --quick)")
    ap.add_argument("--keep", action="store_true", help="keep the DICOM series and the volume (--quick)")
    a = ap.parse_args()
    w, h, n = (128, 128, 16) if a.quick else a.size
    if not (16 <= w <= 4096 and 16 <= h <= 4096 and 2 <= n <= 2000):
        print("main job: --size out of range (16..4096, 16..4096, 2..2000)")
        return 2
    try:
        import numpy as np
    except ImportError:
        skip("numpy is missing (tests/install_deps.sh installs it)")
    try:
        import pydicom
    except ImportError:
        pydicom = None
    writer = a.writer
    if writer == "auto":
        writer = ("mixed" if a.quick else "pydicom") if pydicom else "own"
    if writer in ("pydicom", "mixed") and not pydicom:
        skip("pydicom is missing (tests/install_deps.sh installs it); --writer own works without it")
    if not os.access(a.htc, os.X_OK):
        skip("%s not found (build first)" % a.htc)
    encoder = a.encoder or ("grk" if shutil.which("grk_compress") else "ojph" if shutil.which("ojph_compress") else None)
    if not encoder or not shutil.which(encoder + "_compress"):
        skip("no HTJ2K encoder (apt-get install grokj2k-tools or openjph-tools)")
    import ct_dicom
    import make_phantom

    out = a.out or os.path.join(os.path.dirname(os.path.abspath(a.htc)), "main_job" + ("_quick" if a.quick else ""))
    series = os.path.join(out, "series")
    tmp = os.path.join(out, "tmp")
    shutil.rmtree(series, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(series)
    os.makedirs(tmp)
    cores = os.cpu_count() or 1

    t = time.perf_counter()
    vol = make_phantom.phantom_volume(w, h, n)
    t_gen = time.perf_counter() - t
    print("phantom: %d slices of %dx%d, int16 HU %d..%d (%.1f s)" % (n, w, h, vol.min(), vol.max(), t_gen))

    t = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=cores) as ex:
        streams = list(ex.map(lambda k: encode_slice(encoder, tmp, k, vol[k], np), range(n)))
    t_enc = time.perf_counter() - t
    unsigned = encoder == "ojph"
    anchor = None
    if shutil.which("opj_decompress"):
        k = n // 2
        img = anchor_decode(np, tmp, streams[k])
        anchor = img is not None and img.shape == vol[k].shape and bool(
            np.array_equal(img.astype(np.int32) - (1024 if unsigned else 0), vol[k]))
    print("encoded: %d HTJ2K lossless RPCL codestreams with %s_compress (%s samples, %.1f s)"
          % (n, encoder, "HU+1024 unsigned" if unsigned else "signed HU", t_enc))

    t = time.perf_counter()
    thick = 2.5
    ser = ct_dicom.Series(w, h, n, 384.0 / w, thick, WINDOW, unsigned)
    files = []
    for k in range(n):
        path = os.path.join(series, "IM%05d.dcm" % ser.instance(k))
        own = writer == "own" or (writer == "mixed" and k % 2)
        (ct_dicom.write_own if own else ct_dicom.write_pydicom)(path, ser, k, streams[k])
        files.append(path)
    t_dcm = time.perf_counter() - t
    mb_j2c = sum(len(s) for s in streams) / 1e6
    mb_dcm = sum(os.path.getsize(f) for f in files) / 1e6
    print("wrapped: %d DICOM files (%s), transfer syntax %s, %.2f MB (%.1f s)"
          % (n, "pydicom and own writer" if writer == "mixed" else writer + " writer", ct_dicom.TS_HTJ2K_LOSSLESS_RPCL,
             mb_dcm, t_dcm))
    problems = []
    if anchor is not None:
        print("anchor: slice %d decoded by opj_decompress %s the phantom" % (n // 2, "equals" if anchor else "DIFFERS FROM"))
        if not anchor:
            problems.append("OpenJPEG does not decode slice %d to the phantom (encoder route)" % (n // 2))
    if writer == "mixed" and n >= 2:
        # both writers, same slice: pydicom must read the same data set, pixel data included
        same = os.path.join(tmp, "own.dcm")
        ct_dicom.write_own(same, ser, 0, streams[0])
        want, got = pydicom.dcmread(files[0]), pydicom.dcmread(same)
        if want.to_json_dict() != got.to_json_dict() or want.file_meta.to_json_dict() != got.file_meta.to_json_dict():
            problems.append("the own DICOM writer and pydicom differ on slice 0")
        else:
            with open(files[0], "rb") as f1, open(same, "rb") as f2:
                identical = f1.read() == f2.read()
            print("writers: pydicom reads the own writer's file as the one it wrote (attributes and pixel data%s)"
                  % (", byte for byte" if identical else ""))
    shutil.rmtree(tmp, ignore_errors=True)

    raw = os.path.join(out, "volume.raw")
    cmd = [a.htc, "dicom", "volume", "--threads", str(a.threads), "--device", a.device, raw, series]
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    t_wall = time.perf_counter() - t
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        sys.stdout.write(r.stderr)
        print("main job: FAIL (htc dicom volume exited with %d)" % r.returncode)
        return 1
    m = re.search(r"decoded (\d+) slices in ([0-9.]+) s on (cpu|gpu) \((.*)\)", r.stdout)
    t_dec = float(m.group(2)) if m else t_wall
    device = ("GPU, " + m.group(4) if m.group(3) == "gpu" else "CPU, " + m.group(4)) if m else "?"

    # the check: the volume equals the phantom, voxel for voxel
    with open(raw + ".json") as f:
        meta = json.load(f)
    if meta["size"] != [w, h, n]:
        problems.append("size %s, expected %s" % (meta["size"], [w, h, n]))
    if meta["bytes_per_sample"] != 2 or meta["signed"] != (not unsigned):
        problems.append("samples: %d bytes, signed %s" % (meta["bytes_per_sample"], meta["signed"]))
    if meta["files"] != files:
        problems.append("slice order differs from the positions along the normal")
    if abs(meta["slice_spacing"] - thick) > 1e-6:
        problems.append("slice spacing %g, expected %g" % (meta["slice_spacing"], thick))
    got = np.fromfile(raw, dtype="<u2" if unsigned else "<i2")
    mismatches = -1
    if got.size != vol.size:
        problems.append("%d samples, expected %d" % (got.size, vol.size))
    else:
        got = got.reshape(vol.shape)
        hu = got.astype(np.int32) - 1024 if unsigned else got
        mismatches = int(np.count_nonzero(hu != vol))
        if mismatches:
            z = int(np.argwhere(hu != vol)[0][0])
            problems.append("%d voxels differ (first in slice %d)" % (mismatches, z))
    ok = not problems
    mb_raw = vol.nbytes / 1e6

    png = os.path.join(out, "montage.png")
    shape = montage(np, vol if not ok else hu, png)

    print()
    print("| slices | size      | MB compressed (DICOM) | MB decoded | ratio | decode s | slices/s | wall s | device")
    print("|--------|-----------|-----------------------|------------|-------|----------|----------|--------|-------")
    print("| %6d | %4dx%-4d | %9.2f (%9.2f) | %10.2f | %5.2f | %8.3f | %8.1f | %6.2f | %s"
          % (n, w, h, mb_j2c, mb_dcm, mb_raw, mb_raw / mb_j2c, t_dec, n / t_dec if t_dec > 0 else 0.0, t_wall,
             device))
    print()
    print("decode s: the batch decodes inside htc dicom volume; wall s: the whole command (parse, sort, decode, write)")
    print("montage: %s (%dx%d, 4x4 slices head to feet, window %d/%d HU)" % (png, shape[1], shape[0], WINDOW[0],
                                                                            WINDOW[1]))
    print("volume: %s (+ .json)" % raw)
    if ok:
        print("check: OK (%d voxels equal the phantom, slices sorted along the normal, spacing %g mm)"
              % (vol.size, thick))
    else:
        print("check: FAIL: " + "; ".join(problems))
    if not a.keep and a.quick:
        shutil.rmtree(series, ignore_errors=True)
        for p in (raw, raw + ".json"):
            if os.path.exists(p):
                os.unlink(p)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
