#!/usr/bin/env python3
"""Round trips through the public encoders, generated at test time, never stored.

    roundtrip_codecs.py --suite ht|part1 --htc build/htc [--cases N] [--seed S] [--keep DIR] [--save DIR] [-v]

Each case makes an image (random, smooth or extreme samples; 1 to 16 bits, signed or
unsigned, 1 to 4 components, odd sizes, sometimes sub-sampled or offset), encodes it with
a public encoder and random options, decodes it with `htc decode IN OUT.raw`, and checks:
  lossless (5/3, every layer kept): exactly the original samples;
  lossy (9/7 or rate-limited layers): within 1 of `opj_decompress` on every sample (past 14
         bits within 1 + 2^(bits-14), as the anchors differ among themselves by as much; where
         the anchors disagree among themselves, 9/7 at 15-16 bits, within 1 of grk_decompress,
         of ojph_expand for its own streams, or of the original is accepted too);
  some cases also decode with --region/--tile (must equal that area of the full decode) or
  --reduce/--layers (must match opj_decompress -r/-l).
A case where htc fails and opj_decompress fails too, or where htc and opj_decompress agree
with each other but not with the original (an encoder slip), is not counted.

Suites:
  ht     HTJ2K: ojph_compress (unsigned, 1 or 3 components: Debian's OpenJPH 0.9 clips
         negative samples of raw input) over levels 0-8, code-block sizes, the five
         progression orders, tiles, precincts, offsets, reversible and 9/7, colour
         transform on and off; grk_compress -M 64 for signed and 2- or 4-component images.
  part1  JPEG 2000 Part 1: opj_compress (and some grk_compress) over levels, code-block
         sizes, progression orders, tiles, precincts, every -M mode flag and combinations,
         several layers, SOP/EPH, PLT, TLM, tile-parts, offsets, MCT on and off; some
         cases as JP2 files.

Exit status: 0 all passed, 1 a case failed, 77 skipped (a tool or htc missing, or htc
answers "feature not supported" for every case: the decoder is not there yet).
The last line is "N passed, N failed".
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:  # pragma: no cover
    print("roundtrip: numpy is missing (pip install numpy); skipping")
    sys.exit(77)

UNSUPPORTED = "feature not supported"     # htc_strerror(HTC_EUNSUPPORTED), in htc's message
NOT_WRITTEN = "not implemented yet"       # the skeleton's `htc decode`
PROGS = ["LRCP", "RLCP", "RPCL", "PCRL", "CPRL"]
OPTION_CHECKS = {}  # option -> cases that also decoded with it


class Case:
    """One generated image and how it is encoded."""

    def __init__(self):
        self.w = self.h = 0
        self.comps = 1
        self.bits = 8
        self.signed = False
        self.subs = [(1, 1)]
        self.offset = (0, 0)
        self.kind = "random"
        self.encoder = ""
        self.args = []
        self.lossless = True
        self.planes = []
        self.desc = ""
        self.levels = 0
        self.tiles = None       # (width, height, x0, y0) of the tile grid, None: one tile
        self.layers = 1
        self.threads = "0"      # htc decode --threads


def comp_size(case, c):
    dx, dy = case.subs[c]
    x0, y0 = case.offset
    x1, y1 = x0 + case.w, y0 + case.h
    return (-(-x1 // dx) - -(-x0 // dx), -(-y1 // dy) - -(-y0 // dy))


def make_planes(rng, case):
    lo = -(1 << (case.bits - 1)) if case.signed else 0
    hi = (1 << (case.bits - 1)) - 1 if case.signed else (1 << case.bits) - 1
    planes = []
    for c in range(case.comps):
        cw, ch = comp_size(case, c)
        if case.kind == "random":
            p = rng.integers(lo, hi + 1, size=(ch, cw), dtype=np.int64)
        elif case.kind == "extreme":
            p = np.where(rng.random((ch, cw)) < 0.5, lo, hi).astype(np.int64)
        else:  # smooth: a tilted plane plus slow waves plus a little noise
            yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float64)
            f = (0.5 + 0.3 * np.sin(xx / (3.0 + 7 * rng.random()) + c)
                 * np.cos(yy / (2.0 + 9 * rng.random())) + 0.2 * (xx + yy) / (cw + ch + 1))
            f += rng.normal(0, 0.01, size=f.shape)
            p = np.clip(np.rint(lo + f * (hi - lo)), lo, hi).astype(np.int64)
        planes.append(p)
    return planes


def sample_bytes(bits):
    return 1 if bits <= 8 else 2 if bits <= 16 else 4


def raw_bytes(planes, bits, signed, big=False):
    """All planes, planar, in 1/2/4 bytes a sample: htc's .raw (little-endian) or opj's .raw."""
    nb = sample_bytes(bits)
    dt = {1: "i1" if signed else "u1", 2: "i2" if signed else "u2", 4: "i4" if signed else "u4"}[nb]
    dt = (">" if big else "<") + dt
    return b"".join(p.astype(dt).tobytes() for p in planes)


def read_raw(data, case, masked=False):
    """Planes from .raw bytes; masked: samples stored as prec-bit two's complement (opj)."""
    nb = sample_bytes(case.bits)
    dt = "<" + {1: "u1", 2: "u2", 4: "u4"}[nb]
    flat = np.frombuffer(data, dtype=dt).astype(np.int64)
    out, pos = [], 0
    for c in range(case.comps):
        cw, ch = comp_size(case, c)
        p = flat[pos:pos + cw * ch]
        pos += cw * ch
        if len(p) != cw * ch:
            return None
        if case.signed:
            width = case.bits if masked else 8 * nb
            p = p & ((1 << width) - 1)
            p = np.where(p >= (1 << (width - 1)), p - (1 << width), p)
        out.append(p.reshape(ch, cw))
    if pos * nb != len(data):
        return None
    return out


def pow2(rng, lo, hi):
    return 1 << int(rng.integers(lo, hi + 1))


def cblk(rng):
    while True:
        w, h = pow2(rng, 2, 10), pow2(rng, 2, 10)
        if w * h <= 4096:
            return w, h


def max_levels(case):
    m = min(case.w, case.h)
    n = 0
    while (1 << (n + 1)) <= m:
        n += 1
    return n


def common_geometry(rng, case, allow_offset):
    if allow_offset and rng.random() < 0.25:
        case.offset = (int(rng.integers(0, 40)), int(rng.integers(0, 40)))


def tiles(rng, case):
    """Tile size and origin: the origin at or before the image origin, the first tile meets the image."""
    tw, th = int(rng.integers(8, 70)), int(rng.integers(8, 70))
    x0, y0 = case.offset
    tx0 = int(rng.integers(max(0, x0 - tw + 1), x0 + 1))
    ty0 = int(rng.integers(max(0, y0 - th + 1), y0 + 1))
    case.tiles = (tw, th, tx0, ty0)
    return tw, th, tx0, ty0


def plan_ht(rng, case, tmp):
    """ojph_compress for unsigned 1/3 components, grk_compress -M 64 otherwise."""
    case.signed = rng.random() < 0.3
    case.comps = int(rng.choice([1, 1, 1, 3, 3, 2, 4]))
    if case.signed or case.comps in (2, 4) or rng.random() < 0.15:
        return plan_grk(rng, case, tmp, ht=True)
    case.encoder = "ojph_compress"
    case.bits = int(rng.integers(1, 17))
    case.lossless = rng.random() < 0.65
    use_yuv = case.comps == 3 and rng.random() < 0.3
    if use_yuv and case.lossless:
        d = [(1, 1), (2, 2), (2, 1), (1, 2)][int(rng.integers(0, 4))]
        case.subs = [(1, 1), d, d]
    else:
        case.subs = [(1, 1)] * case.comps
    common_geometry(rng, case, allow_offset=True)
    case.planes = make_planes(rng, case)
    case.levels = int(rng.integers(0, 9))
    a = ["-num_decomps", str(case.levels)]
    bw, bh = cblk(rng)
    a += ["-block_size", "{%d,%d}" % (bw, bh), "-prog_order", str(rng.choice(PROGS))]
    if case.lossless:
        a += ["-reversible", "true"]
    else:
        a += ["-reversible", "false", "-qstep", "%.4f" % (10 ** rng.uniform(-3, -0.7))]
    if case.comps == 3 and not use_yuv:
        a += ["-colour_trans", "true" if rng.random() < 0.5 else "false"]
    if rng.random() < 0.4:
        tw, th, tx0, ty0 = tiles(rng, case)
        a += ["-tile_size", "{%d,%d}" % (tw, th), "-tile_offset", "{%d,%d}" % (tx0, ty0)]
    if case.offset != (0, 0):
        a += ["-image_offset", "{%d,%d}" % case.offset]
    if rng.random() < 0.3:
        n = int(rng.integers(1, 4))
        a += ["-precincts", ",".join("{%d,%d}" % (pow2(rng, 2, 8), pow2(rng, 2, 8)) for _ in range(n))]
    maxv = (1 << case.bits) - 1
    if use_yuv:
        src = os.path.join(tmp, "in.yuv")
        with open(src, "wb") as f:
            f.write(raw_bytes(case.planes, case.bits, False))
        a += ["-dims", "{%d,%d}" % (case.w, case.h), "-num_comps", "3",
              "-signed", "false,false,false", "-bit_depth", "%d,%d,%d" % ((case.bits,) * 3),
              "-downsamp", ",".join("{%d,%d}" % s for s in case.subs)]
    elif case.comps == 1:
        src = os.path.join(tmp, "in.pgm")
        with open(src, "wb") as f:
            f.write(b"P5\n%d %d\n%d\n" % (case.w, case.h, maxv))
            f.write(case.planes[0].astype(">u1" if case.bits <= 8 else ">u2").tobytes())
    else:
        src = os.path.join(tmp, "in.ppm")
        with open(src, "wb") as f:
            f.write(b"P6\n%d %d\n%d\n" % (case.w, case.h, maxv))
            inter = np.stack(case.planes, axis=-1)
            f.write(inter.astype(">u1" if case.bits <= 8 else ">u2").tobytes())
    out = os.path.join(tmp, "out.j2c")
    case.args = ["ojph_compress", "-i", src, "-o", out] + a
    return out


def raw_input_opj(case, tmp):
    """The original for opj_compress / grk_compress as .rawl + -F. (Their PGX and PNM readers
    lose precisions under 8 bits and opj's PGX reader puts -d's x offset into y0.)"""
    src = os.path.join(tmp, "in.rawl")
    with open(src, "wb") as f:
        f.write(raw_bytes(case.planes, case.bits, case.signed))
    spec = "%d,%d,%d,%d,%s" % (case.w, case.h, case.comps, case.bits, "s" if case.signed else "u")
    if any(s != (1, 1) for s in case.subs):
        spec += "@" + ":".join("%dx%d" % s for s in case.subs)
    return src, ["-F", spec]


def opj_common(rng, case, grok):
    """Options opj_compress and grk_compress share."""
    case.levels = int(rng.integers(0, max_levels(case) + 1))
    a = ["-n", str(case.levels + 1)]
    bw, bh = cblk(rng)
    a += ["-b", "%d,%d" % (bw, bh), "-p", str(rng.choice(PROGS))]
    if rng.random() < 0.4:
        tw, th, tx0, ty0 = tiles(rng, case)
        a += ["-t", "%d,%d" % (tw, th)]
        if (tx0, ty0) != (0, 0):
            a += ["-T", "%d,%d" % (tx0, ty0)]
    if case.offset != (0, 0):
        a += ["-d", "%d,%d" % case.offset]
    if rng.random() < 0.3:
        n = int(rng.integers(1, 4))
        a += ["-c", ",".join("[%d,%d]" % (pow2(rng, 2, 8), pow2(rng, 2, 8)) for _ in range(n))]
    if case.comps >= 3 and all(s == (1, 1) for s in case.subs[:3]):
        a += ["-mct", "1" if rng.random() < 0.5 else "0"]
    if rng.random() < 0.3:
        a += ["-SOP"]
    if rng.random() < 0.3:
        a += ["-EPH"]
    return a


def layers_and_loss(rng, case, a, irreversible_ok=True):
    nl = int(rng.integers(1, 5))
    if case.lossless:
        if nl > 1:
            rates = sorted({int(rng.integers(2, 60)) for _ in range(nl - 1)}, reverse=True)
            a += ["-r", ",".join(str(r) for r in rates) + ",1"]
            case.layers = len(rates) + 1
    else:
        if irreversible_ok and rng.random() < 0.7:
            a += ["-I"]
        rates = sorted({int(rng.integers(2, 40)) for _ in range(nl)}, reverse=True)
        a += ["-r", ",".join(str(r) for r in rates)]
        case.layers = len(rates)


def plan_grk(rng, case, tmp, ht):
    case.encoder = "grk_compress" + (" -M 64" if ht else "")
    case.bits = int(rng.integers(2 if case.signed else 1, 17))
    case.subs = [(1, 1)] * case.comps
    case.lossless = rng.random() < 0.65
    common_geometry(rng, case, allow_offset=True)
    case.planes = make_planes(rng, case)
    src, spec = raw_input_opj(case, tmp)
    a = opj_common(rng, case, grok=True)
    if ht:
        a += ["-M", "64"]
        if not case.lossless:
            a += ["-I"]
    else:
        layers_and_loss(rng, case, a)
    out = os.path.join(tmp, "out.j2k")
    case.args = ["grk_compress", "-i", src, "-o", out] + spec + a
    return out


def plan_part1(rng, case, tmp):
    case.signed = rng.random() < 0.35
    case.comps = int(rng.choice([1, 1, 1, 2, 3, 3, 4]))
    if rng.random() < 0.2:
        return plan_grk(rng, case, tmp, ht=False)
    case.encoder = "opj_compress"
    case.bits = int(rng.integers(2 if case.signed else 1, 17))
    case.lossless = rng.random() < 0.6
    if case.lossless and case.comps > 1 and rng.random() < 0.3:
        case.subs = [(1, 1)] + [(int(rng.integers(1, 4)), int(rng.integers(1, 4)))
                                for _ in range(case.comps - 1)]
    else:
        case.subs = [(1, 1)] * case.comps
    # opj_compress 2.5's raw reader fills the last row/column of a sub-sampled component
    # wrongly unless the size divides by the factor: sub-sampled sizes are multiples of it
    # here (odd sub-sampled sizes go through ojph_compress's .yuv reader in the ht suite).
    mx = int(np.lcm.reduce([d[0] for d in case.subs]))
    my = int(np.lcm.reduce([d[1] for d in case.subs]))
    # It also refuses raw input when width & height & ncomp & bitdepth, a bitwise AND, is
    # non-zero (its check is inverted): draw other sizes until it is zero.
    for _ in range(200):
        case.w, case.h = -(-case.w // mx) * mx, -(-case.h // my) * my
        if not case.w & case.h & case.comps & case.bits:
            break
        case.w, case.h = int(rng.integers(1, 140)), int(rng.integers(1, 140))
    else:
        return plan_grk(rng, case, tmp, ht=False)
    common_geometry(rng, case, allow_offset=all(s == (1, 1) for s in case.subs))
    case.planes = make_planes(rng, case)
    src, spec = raw_input_opj(case, tmp)
    a = opj_common(rng, case, grok=False)
    mode = int(rng.choice([0, 1, 2, 4, 8, 16, 32, int(rng.integers(1, 64))]))
    if mode:
        a += ["-M", str(mode)]
    layers_and_loss(rng, case, a)
    if rng.random() < 0.2:
        a += ["-PLT"]
    if rng.random() < 0.2:
        a += ["-TLM"]
    if rng.random() < 0.2:
        a += ["-TP", str(rng.choice(["R", "L", "C"]))]
    out = os.path.join(tmp, "out.jp2" if rng.random() < 0.2 else "out.j2k")  # JP2 boxes too
    case.args = ["opj_compress", "-i", src, "-o", out] + spec + a
    return out


def describe(case):
    return ("%dx%d%s %d comp%s %d-bit %s %s subs=%s %s via %s" % (
        case.w, case.h, " @%d,%d" % case.offset if case.offset != (0, 0) else "", case.comps,
        "s" if case.comps > 1 else "", case.bits, "signed" if case.signed else "unsigned",
        case.kind, ",".join("%dx%d" % s for s in case.subs), "lossless" if case.lossless else "lossy",
        " ".join(case.args[:1] + case.args[5:])))


def run_case(args, rng, index, tmp):
    """Plans, encodes, decodes and checks one case: (status, case, message)."""
    case = Case()
    sizes = [1, 2, 3, 5, 7, 8, 13, 17, 31, 33, 47, 64, 65, 97, 130]
    case.w = int(rng.choice(sizes)) if rng.random() < 0.5 else int(rng.integers(1, 140))
    case.h = int(rng.choice(sizes)) if rng.random() < 0.5 else int(rng.integers(1, 140))
    case.kind = str(rng.choice(["random", "smooth", "smooth", "extreme"]))
    for name in os.listdir(tmp):
        if name.startswith(("in.", "out.")):
            os.unlink(os.path.join(tmp, name))
    out = plan_ht(rng, case, tmp) if args.suite == "ht" else plan_part1(rng, case, tmp)
    case.desc = describe(case) + (" (JP2 file)" if out.endswith(".jp2") else "")
    try:
        enc = subprocess.run(case.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    except subprocess.TimeoutExpired:
        return "encoder", case, "the encoder ran past 60 s"
    if enc.returncode != 0 or not os.path.exists(out) or os.path.getsize(out) == 0:
        return "encoder", case, enc.stdout.decode(errors="replace")[-300:]
    with open(out, "rb") as f:
        most = max_tile_parts(f.read())
    if most > 255:
        return "encoder", case, ("the encoder wrote %d tile-parts for one tile: TPsot wraps past 254 "
                                 "(T.800 A.4.2), only OpenJPEG reads that back" % most)
    htc_out = os.path.join(tmp, "htc.raw")
    if os.path.exists(htc_out):
        os.unlink(htc_out)
    # thread counts vary: 0 (all cores), 1 (inline) and a few workers must all agree
    case.threads = str(rng.choice(["0", "1", "2", "3"]))
    dec = run_htc([args.htc, "decode", out, htc_out, "--threads", case.threads])
    err = dec.stderr.decode(errors="replace").strip()
    got = None
    if dec.returncode == 0:
        with open(htc_out, "rb") as f:
            got = read_raw(f.read(), case)
    if got is not None and case.lossless and all(np.array_equal(g, e) for g, e in zip(got, case.planes)):
        return option_check(args, rng, case, out, got, tmp)
    # Not the original (or no decode): what does OpenJPEG make of the stream?
    ref = reference_decode(out, case, tmp)
    if dec.returncode < 0 or dec.returncode == 125:  # a crash or a hang is never the encoder's
        return "fail", case, "htc decode --threads %s: %s %s" % (
            case.threads, "killed by signal %d" % -dec.returncode if dec.returncode < 0 else "", err[-300:])
    if dec.returncode != 0:
        if ref is None:
            return "encoder", case, "opj_decompress fails on this stream too: " + err[-200:]
        missing = UNSUPPORTED in err or NOT_WRITTEN in err
        return ("unsupported" if missing else "fail"), case, "htc decode --threads %s: exit %d: %s" % (
            case.threads, dec.returncode, err[-400:])
    if got is None:
        return "fail", case, "htc output has the wrong size for the image"
    if ref is None:
        return "encoder", case, "opj_decompress fails on this stream"
    if case.lossless:
        if all(np.array_equal(g, r) for g, r in zip(got, ref)):
            return "encoder", case, "htc and opj_decompress agree, but not with the original: an encoder slip"
        for c, (g, e) in enumerate(zip(got, case.planes)):
            if not np.array_equal(g, e):
                bad = np.argwhere(g != e)
                y, x = bad[0]
                return "fail", case, "component %d: %d samples differ, first at (%d,%d): %d, expected %d" % (
                    c, len(bad), x, y, g[y, x], e[y, x])
    bad = first_difference(got, ref, lossy_tolerance(case))
    if bad:
        # where the anchors stray from each other (9/7 at high precision: OpenJPEG and Grok
        # from OpenJPH, whose encoder made the stream), matching grk_decompress, ojph_expand
        # or the original as closely is as good
        for other in (case.planes, reference_decode(out, case, tmp, tool="grk_decompress"),
                      ojph_reference(out, case, tmp) if case.encoder == "ojph_compress" else None):
            if other is not None and not first_difference(got, other, lossy_tolerance(case)):
                bad = None
                break
    if bad:
        c, dmax, x, y, g, e = bad
        return "fail", case, "component %d: differs from opj_decompress by up to %d at (%d,%d): %d vs %d" % (
            c, dmax, x, y, g, e)
    return option_check(args, rng, case, out, got, tmp)


def lossy_tolerance(case):
    """1 LSB up to 14 bits. Past that, float 9/7 and ICT arithmetic agrees between
    implementations only relative to the sample range (the anchors themselves: OpenJPEG and
    OpenJPH differ by 2 at 15 bits, 3 at 16; htc and OpenJPEG by 4 at 16 bits near the
    clamps of a coarsely quantised image): 1 + 2^(bits - 14), i.e. 3 at 15 bits, 5 at 16."""
    return 1 + (1 << (case.bits - 14)) if case.bits > 14 else 1


def first_difference(got, ref, tol):
    """(component, largest difference, x, y, got, ref) where got and ref differ by more than tol."""
    for c, (g, e) in enumerate(zip(got, ref)):
        d = np.abs(g - e)
        if d.size and d.max() > tol:
            y, x = np.unravel_index(int(np.argmax(d)), d.shape)
            return c, int(d.max()), x, y, int(g[y, x]), int(e[y, x])
    return None


def ojph_reference(stream, case, tmp):
    """ojph_expand's decode of an unsigned 1- or 3-component stream (PGM/PPM), or None."""
    if case.signed or case.comps not in (1, 3) or any(d != (1, 1) for d in case.subs):
        return None
    path = os.path.join(tmp, "own." + ("pgm" if case.comps == 1 else "ppm"))
    r = subprocess.run(["ojph_expand", "-i", stream, "-o", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    if r.returncode != 0 or not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:  # magic, width, height, maxval; comments skipped
        end = data.index(b"\n", pos)
        line = data[pos:end]
        pos = end + 1
        if not line.startswith(b"#"):
            fields += line.split()
    dt = ">u1" if int(fields[3]) < 256 else ">u2"
    a = np.frombuffer(data[pos:], dtype=dt).astype(np.int64)
    if a.size != case.w * case.h * case.comps:
        return None
    a = a.reshape(case.h, case.w, case.comps)
    return [a[:, :, c] for c in range(case.comps)]


def run_htc(argv):
    """htc as a subprocess; a hang (past 120 s) or a failure to start reads as exit 125,
    a crash as the negative signal number subprocess reports."""
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 125, b"", b"htc decode ran past 120 s (a hang?)")
    except OSError as e:
        return subprocess.CompletedProcess(argv, 125, b"", ("cannot run htc: %s" % e).encode())


def ceil_div(a, b):
    return -(-a // b)


def crop(case, full, rx0, ry0, rx1, ry1):
    """Each plane of a full decode cut to the reference-grid rectangle [rx0,rx1) x [ry0,ry1)."""
    x0, y0 = case.offset
    out = []
    for c, p in enumerate(full):
        dx, dy = case.subs[c]
        cx0, cy0 = ceil_div(x0, dx), ceil_div(y0, dy)
        out.append(p[ceil_div(ry0, dy) - cy0:ceil_div(ry1, dy) - cy0,
                     ceil_div(rx0, dx) - cx0:ceil_div(rx1, dx) - cx0])
    return out


def reduced_shape(case, c, r):
    """(rows, columns) of component c with r resolution levels discarded."""
    x0, y0 = case.offset
    dx, dy = case.subs[c]
    f = 1 << r
    return (ceil_div(ceil_div(y0 + case.h, dy), f) - ceil_div(ceil_div(y0, dy), f),
            ceil_div(ceil_div(x0 + case.w, dx), f) - ceil_div(ceil_div(x0, dx), f))


def planes_from_raw(data, shapes, case):
    nb = sample_bytes(case.bits)
    dt = "<" + ("i" if case.signed else "u") + str(nb)
    if len(data) != nb * sum(h * w for h, w in shapes):
        return None
    flat = np.frombuffer(data, dtype=dt).astype(np.int64)
    out, pos = [], 0
    for h, w in shapes:
        out.append(flat[pos:pos + h * w].reshape(h, w))
        pos += h * w
    return out


def option_check(args, rng, case, stream, full, tmp):
    """Some cases also decode with one of --region, --tile, --reduce, --layers: a region or
    a tile must equal the same area of the full decode (a region of a 9/7 image within 1);
    a reduced or layer-limited decode must match opj_decompress -r / -l (within 1 if lossy)."""
    if rng.random() >= args.options:
        return "pass", case, ""
    kinds = ["region"] + (["reduce"] if case.levels > 0 else []) + (["tile"] if case.tiles else []) + \
        (["layers"] if case.layers > 1 else [])
    kind = str(rng.choice(kinds))
    OPTION_CHECKS[kind] = OPTION_CHECKS.get(kind, 0) + 1
    x0, y0 = case.offset
    x1, y1 = x0 + case.w, y0 + case.h
    if kind == "region":
        a0 = int(rng.integers(0, case.w))
        a1 = int(rng.integers(a0 + 1, case.w + 1))
        b0 = int(rng.integers(0, case.h))
        b1 = int(rng.integers(b0 + 1, case.h + 1))
        opt = ["--region", "%d,%d,%d,%d" % (a0, b0, a1, b1)]
        want, tol = crop(case, full, x0 + a0, y0 + b0, x0 + a1, y0 + b1), 0 if case.lossless else 1
    elif kind == "tile":
        tw, th, tx0, ty0 = case.tiles
        ntx = ceil_div(x1 - tx0, tw)
        nty = ceil_div(y1 - ty0, th)
        t = int(rng.integers(0, ntx * nty))
        p, q = t % ntx, t // ntx
        opt = ["--tile", str(t)]
        want = crop(case, full, max(tx0 + p * tw, x0), max(ty0 + q * th, y0),
                    min(tx0 + (p + 1) * tw, x1), min(ty0 + (q + 1) * th, y1))
        tol = 0
    else:
        if kind == "reduce":
            n = int(rng.integers(1, case.levels + 1))
            opt, ref_opt = ["--reduce", str(n)], ["-r", str(n)]
        else:
            n = int(rng.integers(1, case.layers))
            opt, ref_opt = ["--layers", str(n)], ["-l", str(n)]
        want = reference_decode(stream, case, tmp, ref_opt)
        r = n if kind == "reduce" else 0
        if want is None or any(w.shape != reduced_shape(case, c, r) for c, w in enumerate(want)):
            # OpenJPEG cannot do it, or converted the picture (it turns 3 sub-sampled
            # components into RGB): nothing to compare with
            return "pass", case, ""
        tol = 0 if case.lossless and kind == "reduce" else lossy_tolerance(case)
    res = os.path.join(tmp, "htc_opt.raw")
    if os.path.exists(res):
        os.unlink(res)
    dec = run_htc([args.htc, "decode", stream, res, "--threads", case.threads] + opt)
    what = " ".join(opt)
    if dec.returncode != 0:
        err = dec.stderr.decode(errors="replace").strip()
        return "fail", case, "htc decode %s: exit %d: %s" % (what, dec.returncode, err[-300:])
    with open(res, "rb") as f:
        got = planes_from_raw(f.read(), [w.shape for w in want], case)
    if got is None:
        return "fail", case, "htc decode %s: output size is not that of planes %s" % (
            what, [w.shape for w in want])
    for c, (g, e) in enumerate(zip(got, want)):
        d = np.abs(g - e)
        if d.size and d.max() > tol:
            y, x = np.unravel_index(int(np.argmax(d)), d.shape)
            return "fail", case, "htc decode %s: component %d differs from %s by up to %d at (%d,%d)" % (
                what, c, "the full decode" if kind in ("region", "tile") else "opj_decompress",
                int(d.max()), x, y)
    return "pass", case, ""


def read_pgx(path):
    with open(path, "rb") as f:
        data = f.read()
    end = data.index(b"\n")
    head = data[:end].split()
    signed, prec, w, h = head[2] == b"-", int(head[3]), int(head[4]), int(head[5])
    nb = sample_bytes(prec)
    dt = ">" + ("i" if signed else "u") + str(nb)
    a = np.frombuffer(data[end + 1:end + 1 + w * h * nb], dtype=dt).astype(np.int64)
    return a.reshape(h, w) if a.size == w * h else None


def max_tile_parts(data):
    """The most tile-parts any one tile has, walking SOT to SOT by Psot."""
    if data[4:8] == b"jP  ":
        data = jp2_codestream(data)
    pos = data.find(b"\xff\x90")
    counts = {}
    while 0 <= pos and pos + 12 <= len(data) and data[pos:pos + 2] == b"\xff\x90":
        tile = int.from_bytes(data[pos + 4:pos + 6], "big")
        psot = int.from_bytes(data[pos + 6:pos + 10], "big")
        counts[tile] = counts.get(tile, 0) + 1
        if psot < 14:
            break
        pos += psot
    return max(counts.values()) if counts else 0


def jp2_codestream(data):
    """The contents of the first jp2c box of a JP2 file (b"" if none)."""
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        head = 8
        if size == 1:
            size = int.from_bytes(data[pos + 8:pos + 16], "big")
            head = 16
        elif size == 0:
            size = len(data) - pos
        if size < head:
            return b""
        if kind == b"jp2c":
            return data[pos + head:pos + size]
        pos += size
    return b""


def reference_decode(stream, case, tmp, extra=(), tool="opj_decompress"):
    """Each component as opj_decompress (or grk_decompress) decodes it (PGX: one file a
    component, each at its own size)."""
    # the codestream alone: opj_decompress would apply a JP2 file's channel definitions and
    # colour space, and htc's samples are the codestream's (it picks its parser by extension)
    src = os.path.join(tmp, "ref_in.j2k")
    with open(stream, "rb") as f:
        data = f.read()
    with open(src, "wb") as f:
        f.write(jp2_codestream(data) if stream.endswith(".jp2") else data)
    for name in os.listdir(tmp):
        if name.startswith("ref_") and name.endswith(".pgx"):
            os.unlink(os.path.join(tmp, name))
    r = subprocess.run([tool, "-i", src, "-o", os.path.join(tmp, "ref.pgx")] + list(extra),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if r.returncode != 0:
        return None
    planes = []
    for c in range(case.comps):
        path = os.path.join(tmp, "ref_%d.pgx" % c)
        if not os.path.exists(path):
            return None
        p = read_pgx(path)
        if p is None or (not extra and p.shape != case.planes[c].shape):
            return None
        planes.append(p)
    return planes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=["ht", "part1"], required=True)
    ap.add_argument("--htc", default="build/htc")
    ap.add_argument("--cases", type=int, default=int(os.environ.get("HTC_ROUNDTRIP_CASES", "120")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("HTC_ROUNDTRIP_SEED", "20261126")))
    ap.add_argument("--options", type=float, default=0.35,
                    help="share of cases that also check --region/--tile/--reduce/--layers")
    ap.add_argument("--save", help="copy each passing case's codestream here (for bench/gpu gen)")
    ap.add_argument("--keep", help="copy each failing case's codestream and original here "
                    "(and each encoder slip's)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    need = ["opj_decompress"] + (["ojph_compress", "grk_compress"] if args.suite == "ht"
                                 else ["opj_compress", "grk_compress"])
    missing = [t for t in need if not shutil.which(t)]
    if missing:
        print("roundtrip: skipped, missing tools: %s (apt-get install openjph-tools "
              "libopenjp2-tools grokj2k-tools)" % " ".join(missing))
        return 77
    if not os.access(args.htc, os.X_OK):
        print("roundtrip: skipped, %s is not built" % args.htc)
        return 77

    rng = np.random.default_rng(args.seed)
    counts = {"pass": 0, "fail": 0, "unsupported": 0, "encoder": 0}
    failures = []
    with tempfile.TemporaryDirectory(prefix="htc_rt_") as tmp:
        for i in range(args.cases):
            status, case, msg = run_case(args, rng, i, tmp)
            counts[status] += 1
            if args.verbose or status == "fail" or (status == "unsupported" and counts[status] <= 5):
                print("case %d %s: %s%s" % (i, status.upper(), case.desc, (": " + msg) if msg else ""))
            if status in ("fail", "unsupported"):
                failures.append(i)
            if status in ("fail", "unsupported") or "slip" in msg:
                if args.keep:
                    os.makedirs(args.keep, exist_ok=True)
                    for name in os.listdir(tmp):
                        if name.startswith(("out.", "in.")):
                            shutil.copyfile(os.path.join(tmp, name),
                                            os.path.join(args.keep, "case%03d_%s" % (i, name)))
            elif status == "pass" and args.save:
                # a stream whose decode was checked: for other decoders (bench/gpu gen)
                os.makedirs(args.save, exist_ok=True)
                for name in os.listdir(tmp):
                    if name.startswith("out."):
                        shutil.copyfile(os.path.join(tmp, name),
                                        os.path.join(args.save, "%s_s%d_case%03d_%s" % (
                                            args.suite, args.seed, i, name)))
            elif status == "encoder" and args.verbose:
                print("   (the encoder refused these options; not counted)")
    decoded = counts["pass"] + counts["fail"] + counts["unsupported"]
    if OPTION_CHECKS:
        print("option checks: " + ", ".join("--%s %d" % kv for kv in sorted(OPTION_CHECKS.items())))
    print("roundtrip %s (seed %d): %d cases, %d passed, %d failed, %d not supported by htc, "
          "%d not counted (the encoder refused the options, or wrote a stream that opj_decompress also rejects or also decodes to other samples)" % (args.suite, args.seed, args.cases, counts["pass"],
                                          counts["fail"], counts["unsupported"], counts["encoder"]))
    if decoded and counts["unsupported"] == decoded:
        print("roundtrip: skipped, htc answers '%s' for every case (decoder not there yet)" % UNSUPPORTED)
        print("0 passed, 0 failed")
        return 77
    if decoded == 0:
        print("roundtrip: no case could be encoded")
        print("0 passed, 1 failed")
        return 1
    bad = counts["fail"] + counts["unsupported"]
    print("%d passed, %d failed" % (counts["pass"], bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
