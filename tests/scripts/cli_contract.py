#!/usr/bin/env python3
"""The `htc decode` / `htc bench` contract (shared/DESIGN.md), checked on corpus files.

    cli_contract.py --htc build/htc

Exit status: 0 pass, 1 a check failed, 77 the corpus or htc is missing.
The last line is "N passed, N failed".
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.normpath(os.path.join(ROOT, "..", "shared", "testdata"))

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def sums():
    out = {}
    with open(os.path.join(DATA, "reference", "SHA256SUMS")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                h, name = line.split(None, 1)
                out[name.strip()] = h
    return out


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--htc", default=os.path.join(ROOT, "build", "htc"))
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        print("cli_contract: skipped, no corpus at %s" % DATA)
        return 77
    if not os.access(args.htc, os.X_OK):
        print("cli_contract: skipped, %s is not built" % args.htc)
        return 77
    ref = sums()
    tmp = tempfile.mkdtemp(prefix="htc_cli_")

    def htc(*a):
        r = subprocess.run([args.htc] + list(a), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=300)
        return r.returncode, r.stdout, r.stderr

    ct_ht = os.path.join(DATA, "htj2k/medical/CT1.j2c")
    ct_j2k = os.path.join(DATA, "j2k/medical/CT1.j2k")
    mr2 = os.path.join(DATA, "j2k/medical/MR2.j2k")      # 1024x1024 12-bit unsigned
    us1 = os.path.join(DATA, "j2k/medical/US1.j2k")      # 640x480 3 x 8-bit, RCT
    t = lambda name: os.path.join(tmp, name)  # noqa: E731

    # .raw: the corpus layout, bit-exact
    rc, _, err = htc("decode", ct_ht, t("ct.raw"))
    check(rc == 0, "decode CT1.j2c to .raw: exit %d %s" % (rc, err))
    if rc == 0:
        check(sha(t("ct.raw")) == ref["htj2k/medical/CT1.j2c"], "CT1.j2c .raw sha256 is the corpus'")
    rc, _, err = htc("decode", ct_j2k, t("ct2.raw"), "--threads", "1")
    check(rc == 0 and sha(t("ct2.raw")) == ref["j2k/medical/CT1.j2k"], "CT1.j2k .raw, 1 thread")

    # .pgm: P5, maxval 2^prec - 1, 16-bit big-endian, same samples as .raw
    rc, _, err = htc("decode", mr2, t("mr2.pgm"))
    rc2, _, _ = htc("decode", mr2, t("mr2.raw"))
    check(rc == 0 and rc2 == 0, "decode MR2.j2k to .pgm and .raw: %s" % err)
    if rc == 0 and rc2 == 0:
        data = open(t("mr2.pgm"), "rb").read()
        head = b"P5\n1024 1024\n4095\n"
        check(data.startswith(head), "MR2 .pgm header %r" % data[:20])
        body, raw = data[len(head):], open(t("mr2.raw"), "rb").read()
        check(len(body) == len(raw) == 1024 * 1024 * 2, "MR2 .pgm/.raw sizes")
        check(body[0::2] == raw[1::2] and body[1::2] == raw[0::2], "MR2 .pgm is .raw byte-swapped")
        check(sha(t("mr2.raw")) == ref["j2k/medical/MR2.j2k"], "MR2.j2k .raw sha256 is the corpus'")

    # .ppm: P6, interleaved; .pgx: one file a component
    rc, _, err = htc("decode", us1, t("us.ppm"))
    rc2, _, _ = htc("decode", us1, t("us.raw"))
    check(rc == 0 and rc2 == 0, "decode US1.j2k to .ppm and .raw: %s" % err)
    if rc == 0 and rc2 == 0:
        data, raw = open(t("us.ppm"), "rb").read(), open(t("us.raw"), "rb").read()
        head = b"P6\n640 480\n255\n"
        check(data.startswith(head), "US1 .ppm header %r" % data[:20])
        n = 640 * 480
        check(data[len(head):][0::3] == raw[:n] and data[len(head):][2::3] == raw[2 * n:],
              "US1 .ppm holds the .raw planes interleaved")
    rc, _, err = htc("decode", us1, t("us.pgx"))
    check(rc == 0, "decode US1.j2k to .pgx: %s" % err)
    for c in range(3):
        p = t("us_%d.pgx" % c)
        ok = os.path.exists(p)
        check(ok, "us_%d.pgx written" % c)
        if ok and rc2 == 0:
            d = open(p, "rb").read()
            check(d.startswith(b"PG ML + 8 640 480\n"), "us_%d.pgx header %r" % (c, d[:20]))
            check(d[18:] == open(t("us.raw"), "rb").read()[c * 640 * 480:(c + 1) * 640 * 480],
                  "us_%d.pgx samples" % c)

    # options: reduce, region, tile, layers
    rc, _, err = htc("decode", ct_ht, t("r1.raw"), "--reduce", "1")
    check(rc == 0 and os.path.getsize(t("r1.raw")) == 256 * 256 * 2, "--reduce 1: 256x256: %s" % err)
    rc, _, err = htc("decode", ct_ht, t("reg.raw"), "--region", "10,20,110,70")
    check(rc == 0, "--region: %s" % err)
    if rc == 0 and os.path.exists(t("ct.raw")):
        full, reg = open(t("ct.raw"), "rb").read(), open(t("reg.raw"), "rb").read()
        want = b"".join(full[(y * 512 + 10) * 2:(y * 512 + 110) * 2] for y in range(20, 70))
        check(reg == want, "--region 10,20,110,70 is that crop of the full decode")
    rc, _, err = htc("decode", ct_ht, t("tile.raw"), "--tile", "0", "--layers", "1")
    check(rc == 0 and os.path.exists(t("ct.raw")) and sha(t("tile.raw")) == sha(t("ct.raw")),
          "--tile 0 --layers 1 of a one-tile, one-layer image is the image: %s" % err)

    # errors: 1 with the library's message, 2 for usage
    rc, _, err = htc("decode", ct_ht, t("signed.pgm"))
    check(rc == 1 and "signed" in err, "signed image to .pgm: exit %d, %s" % (rc, err.strip()))
    rc, _, err = htc("decode", ct_ht, t("x.raw"), "--tile", "5")
    check(rc == 1 and err.strip() != "", "tile out of range: exit %d" % rc)
    bad = os.path.join(DATA, "j2k/malformed")
    bad = os.path.join(bad, sorted(os.listdir(bad))[0])
    rc, _, err = htc("decode", bad, t("bad.raw"))
    check(rc == 1 and "htc decode:" in err, "malformed input: exit %d, %s" % (rc, err.strip()[:120]))
    rc, _, err = htc("decode", ct_ht, t("small.raw"), "--max-memory", "64K")
    check(rc == 1 and "limit" in err, "--max-memory 64K refuses a 512x512 slice: exit %d, %s" % (rc, err.strip()))
    rc, _, err = htc("decode", ct_ht, t("big.raw"), "--max-memory", "1G")
    check(rc == 0, "--max-memory 1G: exit %d" % rc)
    rc, _, err = htc("decode", os.path.join(tmp, "missing.j2k"), t("m.raw"))
    check(rc == 1, "missing input: exit %d" % rc)
    for argv in (["decode"], ["decode", ct_ht], ["decode", ct_ht, t("x.raw"), "--bogus"],
                 ["decode", ct_ht, t("x.raw"), "--region", "5,5,5,9"],
                 ["decode", ct_ht, t("x.raw"), "--reduce", "x"], ["decode", ct_ht, t("x.xyz")],
                 ["decode", ct_ht, t("x.raw"), "--max-memory", "12Q"],
                 ["bench"], ["bench", ct_ht, "--repeat", "0"], ["nosuchcommand"]):
        rc, _, _ = htc(*argv)
        check(rc == 2, "usage error %s: exit %d" % (" ".join(os.path.basename(a) for a in argv), rc))

    # several inputs into a folder; one bad input fails alone
    out = t("many")
    rc, _, err = htc("decode", ct_ht, us1, bad, "-o", out)
    check(rc == 1, "many files with one bad: exit %d" % rc)
    check(os.path.exists(os.path.join(out, "CT1.raw")), "many: CT1.raw (signed: .raw)")
    check(os.path.exists(os.path.join(out, "US1.ppm")), "many: US1.ppm")
    rc, _, err = htc("decode", ct_ht, mr2, "-o", out, "--format", "pgx")
    check(rc == 0 and os.path.exists(os.path.join(out, "MR2.pgx")), "many with --format pgx: %s" % err)

    # bench --json
    rc, so, err = htc("bench", ct_ht, us1, "--json", "--repeat", "3", "--threads", "1")
    check(rc == 0, "bench: exit %d %s" % (rc, err))
    try:
        rows = json.loads(so)
    except ValueError:
        rows = []
    check(len(rows) == 2, "bench --json: a list of 2 objects")
    for row, name in zip(rows, ("htj2k/medical/CT1.j2c", "j2k/medical/US1.j2k")):
        keys = ("file", "median_ms", "msamples_per_s", "sha256", "width", "height", "components",
                "precision", "threads", "repeat")
        check(all(k in row for k in keys), "bench keys in %s" % sorted(row))
        check(row.get("sha256") == ref[name], "bench sha256 of %s" % name)
        check(row.get("repeat") == 3 and row.get("threads") == 1, "bench repeat/threads")
        check(row.get("median_ms", 0) > 0 and row.get("msamples_per_s", 0) > 0, "bench times")
    rc, so, err = htc("bench", ct_ht, os.path.join(tmp, "missing.j2k"), "--json", "--repeat", "1")
    try:
        rows = json.loads(so)
    except ValueError:
        rows = []
    check(rc == 1 and len(rows) == 2 and "error" in rows[1], "bench with a missing file: exit 1, error object")

    # bench --batch: one htc_decode_batch a run; the sha256 covers every item in order
    rc, so, err = htc("bench", ct_ht, us1, "--batch", "--json", "--repeat", "2")
    try:
        rows = json.loads(so)
    except ValueError:
        rows = []
    want = hashlib.sha256(open(t("ct.raw"), "rb").read() + open(t("us.raw"), "rb").read()).hexdigest() \
        if os.path.exists(t("ct.raw")) and os.path.exists(t("us.raw")) else None
    check(rc == 0 and len(rows) == 1 and rows[0].get("batch") == 2 and rows[0].get("sha256") == want,
          "bench --batch: exit %d, %s" % (rc, so.strip()[:200]))
    # --prealloc: the same samples, decoded into buffers the caller allocated once
    rc, so, err = htc("bench", ct_ht, us1, "--batch", "--prealloc", "--json", "--repeat", "2", "--threads", "2")
    try:
        rows = json.loads(so)
    except ValueError:
        rows = []
    check(rc == 0 and len(rows) == 1 and rows[0].get("sha256") == want and
          rows[0].get("output") == "caller's buffers" and "page_faults_per_item" in rows[0],
          "bench --batch --prealloc: exit %d, %s" % (rc, so.strip()[:200]))
    rc, _, _ = htc("bench", ct_ht, "--prealloc", "--repeat", "1")
    check(rc == 2, "bench --prealloc without --batch: exit %d, want 2" % rc)

    # DICOM input, when the DICOM layer is in
    dcm = os.path.join(DATA, "dicom/htj2k/CT1_JPH.dcm")
    rc, _, err = htc("decode", dcm, t("dcm.raw"))
    if "not built" in err:
        print("cli_contract: DICOM support not built, its check skipped")
    else:
        check(rc == 0 and sha(t("dcm.raw")) == ref["dicom/htj2k/CT1_JPH.dcm"],
              "DICOM CT1_JPH.dcm .raw sha256: exit %d %s" % (rc, err.strip()[:120]))

    subprocess.run(["rm", "-rf", tmp])
    print("cli_contract: %d passed, %d failed" % (passed, failed))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
