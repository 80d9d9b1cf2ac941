#!/usr/bin/env python3
"""Compares `htc info --json` with `opj_dump -i` and with MANIFEST.tsv.

For every codestream / JP2 / JPH file under TESTDATA/{htj2k,j2k,generated}
(not j2k/malformed): size, origin, components, precision, signedness,
sub-sampling, tiles, levels, code-block size and style, wavelet, progression,
layers, MCT, precincts and quantisation must equal what opj_dump prints for the
main header. Where opj_dump refuses a file (HT mixed code-blocks, ...) the
header facts in MANIFEST.tsv's description are compared instead, with a note.

usage: compare_opj_dump.py HTC_BINARY TESTDATA     exit 0 ok, 1 mismatch, 77 skip
"""
import json
import os
import re
import shutil
import subprocess
import sys

EXTS = (".j2k", ".j2c", ".jp2", ".jph", ".jhc", ".jpc")
PROGS = ["LRCP", "RLCP", "RPCL", "PCRL", "CPRL"]


def parse_opj_dump(text):
    """The facts opj_dump -i prints: image, tile grid, default tile coding."""
    d = {"comps": [], "coding": []}
    m = re.search(r"x0=(\d+), y0=(\d+)\s+x1=(\d+), y1=(\d+)\s+numcomps=(\d+)", text)
    if not m:
        return None
    d["x0"], d["y0"], d["x1"], d["y1"], d["nc"] = map(int, m.groups())
    for cm in re.finditer(r"component \d+ \{\s+dx=(\d+), dy=(\d+)\s+prec=(\d+)\s+sgnd=(\d+)", text):
        d["comps"].append(tuple(map(int, cm.groups())))
    ml = text.split("Marker list:", 1)
    d["markers"] = [(int(a, 16), int(b), int(c)) for a, b, c in
                    re.findall(r"type=0x([0-9a-fA-F]+), pos=(\d+), len=(\d+)", ml[1])] if len(ml) == 2 else None
    m = re.search(r"tx0=(\d+), ty0=(\d+)\s+tdx=(\d+), tdy=(\d+)\s+tw=(\d+), th=(\d+)", text)
    if not m:
        return None
    d["tx0"], d["ty0"], d["tdx"], d["tdy"], d["tw"], d["th"] = map(int, m.groups())
    m = re.search(r"default tile \{\s+csty=(0x[0-9a-fA-F]+|\d+)\s+prg=(0x[0-9a-fA-F]+|\d+)\s+numlayers=(\d+)\s+mct=(\d+)", text)
    if not m:
        return None
    d["csty"] = int(m.group(1), 0)
    d["prg"] = int(m.group(2), 0)
    d["layers"] = int(m.group(3))
    d["mct"] = int(m.group(4))
    for cm in re.finditer(
            r"comp \d+ \{\s+csty=(0x[0-9a-fA-F]+|\d+)\s+numresolutions=(\d+)\s+cblkw=2\^(\d+)\s+cblkh=2\^(\d+)\s+"
            r"cblksty=(0x[0-9a-fA-F]+|\d+)\s+qmfbid=(\d+)\s+preccintsize \(w,h\)=([^\n]*)\n\s+qntsty=(\d+)\s+numgbits=(\d+)\s+"
            r"stepsizes \(m,e\)=([^\n]*)\n\s+roishift=(\d+)", text):
        g = cm.groups()
        d["coding"].append({
            "csty": int(g[0], 0), "levels": int(g[1]) - 1, "cblkw": int(g[2]), "cblkh": int(g[3]),
            "cblksty": int(g[4], 0), "qmfbid": int(g[5]),
            "prec": [tuple(map(int, p)) for p in re.findall(r"\((\d+),(\d+)\)", g[6])],
            "qntsty": int(g[7]), "guard": int(g[8]),
            "steps": [tuple(map(int, p)) for p in re.findall(r"\((\d+),(\d+)\)", g[9])],
            "roi": int(g[10])})
    return d


def compare_opj(h, o):
    errs = []
    im = h["image"]

    def eq(name, a, b):
        if a != b:
            errs.append("%s: htc %r, opj_dump %r" % (name, a, b))

    for k in ("x0", "y0", "x1", "y1"):
        eq(k, im[k], o[k])
    eq("components", im["num_components"], o["nc"])
    for i, (c, oc) in enumerate(zip(h["components"], o["comps"])):
        eq("component %d (dx,dy,prec,sgnd)" % i, (c["dx"], c["dy"], c["precision"], c["signed"]), oc)
    eq("tile origin", (im["tile_x0"], im["tile_y0"]), (o["tx0"], o["ty0"]))
    eq("tile size", (im["tile_width"], im["tile_height"]), (o["tdx"], o["tdy"]))
    eq("tile grid", (im["num_tiles_x"], im["num_tiles_y"]), (o["tw"], o["th"]))
    c0 = h["coding"][0]
    eq("progression", c0["progression"], PROGS[o["prg"]] if o["prg"] < 5 else o["prg"])
    eq("layers", c0["layers"], o["layers"])
    if im["num_components"] >= 3:
        eq("mct", c0["mct"], o["mct"])
    eq("Scod SOP/EPH", (c0["sop"], c0["eph"]), ((o["csty"] >> 1) & 1, (o["csty"] >> 2) & 1))
    for i, (c, oc) in enumerate(zip(h["coding"], o["coding"])):
        p = "component %d " % i
        eq(p + "levels", c["levels"], oc["levels"])
        eq(p + "code-block size", (c["cblk_width"], c["cblk_height"]), (1 << oc["cblkw"], 1 << oc["cblkh"]))
        eq(p + "code-block style", c["cblk_style"], oc["cblksty"])
        eq(p + "wavelet", c["reversible"], oc["qmfbid"])
        eq(p + "precincts used", c["use_precincts"], oc["csty"] & 1)
        eq(p + "precincts", [tuple(x) for x in c["precincts"]], oc["prec"][:c["levels"] + 1])
        eq(p + "quantisation style", ["none", "derived", "expounded"].index(c["quant_style"]), oc["qntsty"])
        eq(p + "guard bits", c["guard_bits"], oc["guard"])
        nsteps = 1 if c["quant_style"] == "derived" else len(c["steps"])
        eq(p + "step sizes", [tuple(x) for x in c["steps"][:nsteps]], oc["steps"][:nsteps])
        eq(p + "ROI shift", c["roi_shift"], oc["roi"])
    if o["markers"] is not None:
        names = {0xFF4F: "SOC", 0xFF51: "SIZ", 0xFF50: "CAP", 0xFF59: "CPF", 0xFF52: "COD", 0xFF53: "COC",
                 0xFF5E: "RGN", 0xFF5C: "QCD", 0xFF5D: "QCC", 0xFF5F: "POC", 0xFF55: "TLM", 0xFF57: "PLM",
                 0xFF60: "PPM", 0xFF63: "CRG", 0xFF64: "COM"}
        # opj_dump gives file offsets and leaves out 0xFF30-0xFF3F (no segment)
        # and the unknown markers it skips.
        base = h["jp2"]["jp2c_offset"] if "jp2" in h else 0
        mine = []
        for mk in h["marker_list"]:
            if mk["marker"] == "SOT":
                break
            if not mk["marker"].startswith("0x"):
                mine.append((mk["marker"], mk["offset"] + base, mk["length"]))
        theirs = [(names.get(c, "0x%04X" % c), p, n) for c, p, n in o["markers"]]
        eq("main header markers (name, offset, length)", mine, theirs)
    if len(h["coding"]) != len(o["coding"]):
        errs.append("opj_dump printed %d component codings, htc %d" % (len(o["coding"]), len(h["coding"])))
    return errs


def compare_manifest(h, desc):
    """Header facts from MANIFEST.tsv's description of the codestream."""
    errs = []
    im = h["image"]
    c0 = h["coding"][0]
    m = re.search(r"(\d+)x(\d+), (?:origin\((\d+),(\d+)\), )?(\d+)c, (\d+)bit, (un)?signed", desc)
    if not m:
        return ["description not understood"]
    w, hh = int(m.group(1)), int(m.group(2))
    if (im["width"], im["height"]) != (w, hh):
        errs.append("size %dx%d, MANIFEST %dx%d" % (im["width"], im["height"], w, hh))
    if m.group(3) and (im["x0"], im["y0"]) != (int(m.group(3)), int(m.group(4))):
        errs.append("origin (%d,%d), MANIFEST %s,%s" % (im["x0"], im["y0"], m.group(3), m.group(4)))
    if im["num_components"] != int(m.group(5)):
        errs.append("components %d, MANIFEST %s" % (im["num_components"], m.group(5)))
    comp = h["components"][0]
    if comp["precision"] != int(m.group(6)):
        errs.append("precision %d, MANIFEST %s" % (comp["precision"], m.group(6)))
    if comp["signed"] != (0 if m.group(7) else 1):
        errs.append("signedness %d, MANIFEST %s" % (comp["signed"], "unsigned" if m.group(7) else "signed"))
    # The description gives COD's values; a COC may override them for
    # component 0 (p0_02, p0_08 ...): those are checked by opj_dump only.
    coc = ",COC" in h["markers"]
    if "5/3 reversible" in desc and c0["reversible"] != 1 and not coc:
        errs.append("wavelet 9/7, MANIFEST 5/3")
    if "9/7 irreversible" in desc and c0["reversible"] != 0 and not coc:
        errs.append("wavelet 5/3, MANIFEST 9/7")
    m = re.search(r"levels=(\d+)", desc)
    if m and c0["levels"] != int(m.group(1)) and not coc:
        errs.append("levels %d, MANIFEST %s" % (c0["levels"], m.group(1)))
    m = re.search(r"cblk=(\d+)x(\d+)", desc)
    if m and (c0["cblk_width"], c0["cblk_height"]) != (int(m.group(1)), int(m.group(2))) and not coc:
        errs.append("code-blocks %dx%d, MANIFEST %sx%s" % (c0["cblk_width"], c0["cblk_height"], m.group(1), m.group(2)))
    m = re.search(r"\b(LRCP|RLCP|RPCL|PCRL|CPRL)\b", desc)
    if m and c0["progression"] != m.group(1):
        errs.append("progression %s, MANIFEST %s" % (c0["progression"], m.group(1)))
    m = re.search(r"layers=(\d+)", desc)
    if m and c0["layers"] != int(m.group(1)):
        errs.append("layers %d, MANIFEST %s" % (c0["layers"], m.group(1)))
    m = re.search(r"(\d+) tiles \((\d+)x(\d+) of (\d+)x(\d+)\)", desc)
    if m:
        got = (im["num_tiles"], im["num_tiles_x"], im["num_tiles_y"], im["tile_width"], im["tile_height"])
        want = tuple(int(x) for x in m.groups())
        if got != want:
            errs.append("tiles %r, MANIFEST %r" % (got, want))
    elif re.search(r"\b1 tile\b", desc) and im["num_tiles"] != 1:
        errs.append("tiles %d, MANIFEST 1" % im["num_tiles"])
    m = re.search(r"(\d+) tile-parts", desc)
    if m and len(h["tile_parts"]) != int(m.group(1)):
        errs.append("tile-parts %d, MANIFEST %s" % (len(h["tile_parts"]), m.group(1)))
    return errs


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    htc, data = sys.argv[1], sys.argv[2]
    if not os.path.exists(os.path.join(data, "MANIFEST.tsv")):
        print("compare_opj_dump: skipped, no test data at %s" % data)
        return 77
    manifest = {}
    with open(os.path.join(data, "MANIFEST.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 7:
                manifest[cols[0]] = cols[6]
    opj = shutil.which("opj_dump")
    if not opj:
        print("note: opj_dump not found; comparing with MANIFEST.tsv only")
    files = []
    for top in ("htj2k", "j2k", "generated"):
        for root, dirs, names in os.walk(os.path.join(data, top)):
            dirs[:] = sorted(x for x in dirs if x != "malformed")
            files += [os.path.join(root, n) for n in sorted(names) if n.endswith(EXTS)]
    failed = compared_opj = compared_manifest = 0
    for path in files:
        rel = os.path.relpath(path, data)
        r = subprocess.run([htc, "info", path, "--json"], capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL %s: htc info: %s" % (rel, r.stderr.strip()))
            failed += 1
            continue
        h = json.loads(r.stdout)
        errs = []
        r = subprocess.run([htc, "info", path], capture_output=True, text=True)
        if r.returncode != 0 or "image: %dx%d" % (h["image"]["width"], h["image"]["height"]) not in r.stdout:
            errs.append("htc info (text) exit %d, output %r" % (r.returncode, r.stdout[:200]))
        o = None
        if opj:
            r = subprocess.run([opj, "-i", path], capture_output=True, text=True, errors="replace")
            o = parse_opj_dump(r.stdout) if r.returncode == 0 else None
            if o is not None:
                errs += ["opj_dump: " + e for e in compare_opj(h, o)]
                compared_opj += 1
        desc = manifest.get(rel, "")
        if "codestream:" in desc:
            desc = desc.split("codestream:", 1)[1]
        if desc:
            merrs = compare_manifest(h, desc)
            if o is None:
                print("note %s: opj_dump refused it; compared with MANIFEST.tsv" % rel)
            errs += ["MANIFEST: " + e for e in merrs]
            compared_manifest += 1
        elif o is None:
            print("note %s: neither opj_dump nor MANIFEST.tsv describe it; skipped" % rel)
        if errs:
            failed += 1
            print("FAIL %s:\n  %s" % (rel, "\n  ".join(errs)))
    # Malformed files: an error (exit 1, JSON with the message) or a parse; never a crash.
    bad_dir = os.path.join(data, "j2k", "malformed")
    bad = sorted(os.listdir(bad_dir)) if os.path.isdir(bad_dir) else []
    for name in bad:
        r = subprocess.run([htc, "info", os.path.join(bad_dir, name), "--json"], capture_output=True, text=True)
        ok = r.returncode in (0, 1)
        try:
            j = json.loads(r.stdout)
            ok = ok and (("error" in j and j["error"] < 0 and j["message"]) if r.returncode else "image" in j)
        except ValueError:
            ok = False
        if not ok:
            failed += 1
            print("FAIL j2k/malformed/%s: exit %d, stdout %r, stderr %r" % (name, r.returncode, r.stdout[:200], r.stderr[:200]))
    files += bad
    print("%d files: %d compared with opj_dump, %d with MANIFEST.tsv, %d malformed" %
          (len(files), compared_opj, compared_manifest, len(bad)))
    print("%d passed, %d failed" % (len(files) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
