"""The two nvImageCodec-style scripts in python/examples run as they are
(``import htcodec as nvimgcodec``) and print what they decoded."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

import htcodec
from conftest import ROOT, corpus, need_decode, numpy

EXAMPLES = ROOT / "python" / "examples"


def run_example(name, *args):
    need_decode()
    numpy()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(pathlib.Path(htcodec.__file__).resolve().parents[1]) + os.pathsep + env.get(
        "PYTHONPATH", "")
    env.pop("DISPLAY", None)
    r = subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, args)], capture_output=True, text=True,
                       timeout=900, env=env, cwd=str(args[-1]) if args else None)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_scripts_use_only_the_import_change():
    for f in EXAMPLES.glob("*.py"):
        text = f.read_text()
        assert "import htcodec as nvimgcodec" in text
        assert re.search(r"\bhtcodec\.", text) is None, f"{f.name} uses htcodec beyond the import"


def test_read_folder_any_depth(tmp_path):
    np = numpy()
    folder = corpus("htj2k/medical")
    out = run_example("read_folder_any_depth.py", folder, tmp_path / "out.png", tmp_path)
    lines = [l for l in out.splitlines() if "shape=" in l]
    files = sorted(p for p in folder.iterdir() if p.suffix == ".j2c")
    assert len(lines) == len(files)
    for line, f in zip(lines, files):
        cs = htcodec.CodeStream(str(f))
        assert line.startswith(f.name)
        assert f"shape=({cs.height}, {cs.width}, 1)" in line and f"dtype={cs.dtype}" in line
    first = np.asarray(htcodec.Decoder().read(str(files[0]), htcodec.DecodeParams(
        allow_any_depth=True, color_spec=htcodec.ColorSpec.UNCHANGED)).cpu())
    assert f"min={first.min()} max={first.max()}" in lines[0]


def test_tiles_to_regions(tmp_path):
    np = numpy()
    jp2 = corpus("generated/wsi/wsi_8192x8192_rgb_j2k_lossy.jp2")
    out = run_example("tiles_to_regions.py", jp2, tmp_path / "out.png", tmp_path)
    lines = [l for l in out.splitlines() if l.startswith("Region(")]
    assert len(lines) == 16
    assert all("shape=(512, 512, 3) dtype=uint8" in l for l in lines)
    tile5 = np.asarray(htcodec.Decoder().read(str(jp2), htcodec.DecodeParams(tile=5)).cpu())
    assert f"mean={tile5.mean():.2f}" in lines[5]
