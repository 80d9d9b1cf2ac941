"""Shared fixtures: where the corpus and the CLI are, and skips for what this
build or machine lacks. Run from the repository root:
    PYTHONPATH=build/python python3 -m pytest -q python/tests
"""
import hashlib
import os
import pathlib
import shutil
import subprocess

import pytest

try:
    import htcodec
except ImportError as _e:  # not built (no Python headers?): say so, skip ours
    htcodec = None
    _why = str(_e)
    collect_ignore = ["test_api.py", "test_decode.py", "test_dicom.py", "test_examples.py", "test_gpu.py",
                      "test_monai.py"]

    def pytest_report_header(config):
        return (f"htcodec is not importable ({_why}): the Python tests are skipped; "
                "`make` builds it into build/python when Python's headers are installed")

ROOT = pathlib.Path(__file__).resolve().parents[2]
# HTC_TESTDATA points elsewhere (a machine where ../shared is not beside the checkout).
TESTDATA = pathlib.Path(os.environ.get("HTC_TESTDATA", ROOT.parent / "shared" / "testdata"))
# The CLI built next to this extension: <build>/python/htcodec/.. -> <build>/htc
CLI = pathlib.Path(htcodec.__file__).resolve().parents[2] / "htc" if htcodec else pathlib.Path("htc")


def corpus(rel=""):
    if not TESTDATA.is_dir():
        pytest.skip(f"test corpus not found at {TESTDATA}")
    p = TESTDATA / rel
    if rel and not p.exists():
        pytest.skip(f"{p} not in the corpus")
    return p


def numpy():
    return pytest.importorskip("numpy", reason="numpy is not installed: array tests skipped")


def need_decode():
    if not htcodec.features()["decode"]:
        pytest.skip("this libhtc build has no htc_decode yet")


def decode_or_skip(fn, *args, **kw):
    """Runs a decode; skips the test when the library reports HTC_EUNSUPPORTED."""
    try:
        return fn(*args, **kw)
    except htcodec.Error as e:
        if e.status == htcodec.HTC_EUNSUPPORTED:
            pytest.skip(f"unsupported by this build: {e}")
        raise


def raw_bytes(components):
    """The .raw layout of the CLI and of reference/SHA256SUMS: planar, each component
    at its own size, 1, 2 or 4 bytes a sample by precision, little-endian."""
    np = numpy()
    out = b""
    for img in components:
        a = np.asarray(img)[..., 0]
        out += a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
    return out


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def reference_sums():
    sums = {}
    f = corpus("reference/SHA256SUMS")
    for line in f.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        digest, name = line.split(None, 1)
        sums[name.strip()] = digest
    return sums


def cli_decode(src, out, *args):
    if not CLI.exists():
        pytest.skip(f"the htc CLI was not built at {CLI}")
    r = subprocess.run([str(CLI), "decode", str(src), str(out), *map(str, args)], capture_output=True,
                       text=True, timeout=600)
    return r


def have_tool(name):
    return shutil.which(name) is not None
