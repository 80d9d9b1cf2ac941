"""The DICOM layer through the CLI, compared with pydicom 3:
- `htc dicom json` matches Dataset.to_json_dict() attribute for attribute on
  every file of the corpus (Pixel Data left out);
- `htc dicom frame FILE K` gives exactly the bytes of pydicom's generate_frames
  for every frame of every encapsulated file;
- files pydicom writes at test time (native signed / planar / multi-frame,
  RLE 8/16/32-bit, deflated) decode to pydicom's pixel_array.
Skips when pydicom, numpy or the CLI are missing."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = ROOT.parent / "shared" / "testdata"


def _cli():
    if os.environ.get("HTC_CLI"):
        return pathlib.Path(os.environ["HTC_CLI"])
    for p in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if p and (pathlib.Path(p).parent / "htc").is_file():
            return pathlib.Path(p).parent / "htc"
    return ROOT / "build" / "htc"


CLI = _cli()
pydicom = pytest.importorskip("pydicom", reason="pydicom is not installed")
np = pytest.importorskip("numpy", reason="numpy is not installed")


def _files():
    out = []
    for sub in ("dicom", "generated/dicom"):
        d = TESTDATA / sub
        if d.is_dir():
            out += sorted(str(p.relative_to(TESTDATA)) for p in d.rglob("*.dcm"))
    return out


FILES = _files()


@pytest.fixture(autouse=True)
def _need_cli():
    if not CLI.is_file():
        pytest.skip(f"{CLI} not built")
    if not TESTDATA.is_dir():
        pytest.skip(f"test corpus not found at {TESTDATA}")


def _same(a, b, path="$"):
    """Differences between two JSON values, numbers compared as numbers."""
    if isinstance(a, dict) and isinstance(b, dict):
        diffs = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                diffs.append(f"{path}.{k}: only in {'htc' if k in a else 'pydicom'}")
            else:
                diffs += _same(a[k], b[k], f"{path}.{k}")
        return diffs
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} values, pydicom {len(b)}: {str(a)[:80]} / {str(b)[:80]}"]
        diffs = []
        for i, (x, y) in enumerate(zip(a, b)):
            diffs += _same(x, y, f"{path}[{i}]")
        return diffs
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return [] if float(a) == float(b) else [f"{path}: {a!r} != {b!r}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.mark.parametrize("rel", FILES)
def test_json_matches_pydicom(rel):
    path = TESTDATA / rel
    ds = pydicom.dcmread(path)
    want = ds.to_json_dict()
    want.pop("7FE00010", None)
    r = subprocess.run([str(CLI), "dicom", "json", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    diffs = _same(got, want)
    assert not diffs, f"{rel}: {len(diffs)} differences:\n" + "\n".join(diffs[:20])


def _encapsulated():
    out = []
    for rel in FILES:
        try:
            ds = pydicom.dcmread(TESTDATA / rel, stop_before_pixels=False)
        except Exception:
            continue
        if ds.file_meta.TransferSyntaxUID.is_encapsulated:
            out.append(rel)
    return out


@pytest.mark.parametrize("rel", _encapsulated())
def test_frames_match_pydicom(rel, tmp_path):
    from pydicom.encaps import generate_frames

    ds = pydicom.dcmread(TESTDATA / rel)
    n = int(ds.get("NumberOfFrames", 1) or 1)
    kw = {}
    if "ExtendedOffsetTable" in ds:
        kw["extended_offsets"] = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
    frames = list(generate_frames(ds.PixelData, number_of_frames=n, **kw))
    assert len(frames) == n
    for k, want in enumerate(frames, 1):
        out = tmp_path / f"f{k}.bin"
        r = subprocess.run([str(CLI), "dicom", "frame", str(TESTDATA / rel), str(k), str(out)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert out.read_bytes() == want, f"{rel} frame {k}"


def _raw_of(arr, spp):
    """pydicom's pixel_array of one frame in the .raw layout: planar, little-endian."""
    a = np.asarray(arr)
    if spp > 1:
        a = np.moveaxis(a, -1, 0)
    return np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"))).tobytes()


def _make(tmp_path):
    """Files pydicom writes: what the corpus lacks."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian,
                             RLELossless, generate_uid)

    rng = np.random.default_rng(7)

    def base(rows, cols, frames, spp, bits, signed, photometric, planar=0):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
        ds.PatientName = "Test^Generated"
        ds.Rows, ds.Columns = rows, cols
        if frames > 1:
            ds.NumberOfFrames = frames
        ds.SamplesPerPixel = spp
        ds.PhotometricInterpretation = photometric
        if spp > 1:
            ds.PlanarConfiguration = planar
        ds.BitsAllocated = bits
        ds.BitsStored = bits
        ds.HighBit = bits - 1
        ds.PixelRepresentation = int(signed)
        return ds

    def pixels(rows, cols, frames, spp, bits, signed):
        dt = {8: np.uint8, 16: np.uint16, 32: np.uint32}[bits]
        if signed:
            dt = {8: np.int8, 16: np.int16, 32: np.int32}[bits]
        info = np.iinfo(dt)
        shape = (frames, rows, cols, spp)
        a = rng.integers(info.min, info.max, size=shape, dtype=np.int64, endpoint=True).astype(dt)
        a[..., :3, :] = a[..., :1, :1, :]  # some runs for RLE
        return a

    made = []
    cases = [
        ("native_s16_3f.dcm", 17, 13, 3, 1, 16, True, "MONOCHROME2", 0, ExplicitVRLittleEndian),
        ("native_rgb_planar.dcm", 9, 7, 2, 3, 8, False, "RGB", 1, ExplicitVRLittleEndian),
        ("native_rgb_implicit.dcm", 5, 11, 1, 3, 8, False, "RGB", 0, ImplicitVRLittleEndian),
        ("native_u32.dcm", 6, 5, 2, 1, 32, False, "MONOCHROME2", 0, ExplicitVRLittleEndian),
        ("deflated_u16_2f.dcm", 31, 29, 2, 1, 16, False, "MONOCHROME2", 0, DeflatedExplicitVRLittleEndian),
        ("rle_u8_4f.dcm", 16, 19, 4, 1, 8, False, "MONOCHROME2", 0, RLELossless),
        ("rle_s16_2f.dcm", 33, 20, 2, 1, 16, True, "MONOCHROME2", 0, RLELossless),
        ("rle_rgb16.dcm", 10, 12, 1, 3, 16, False, "RGB", 0, RLELossless),
        ("rle_u32_3f.dcm", 8, 9, 3, 1, 32, False, "MONOCHROME2", 0, RLELossless),
    ]
    for name, rows, cols, frames, spp, bits, signed, phot, planar, ts in cases:
        try:
            ds = base(rows, cols, frames, spp, bits, signed, phot, planar)
            a = pixels(rows, cols, frames, spp, bits, signed)
            if spp == 1:
                a = a[..., 0]
            if frames == 1:
                a = a[0]
            if ts == RLELossless:
                ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
                ds.PixelData = a.tobytes()
                ds.compress(RLELossless, a)
            else:
                ds.file_meta.TransferSyntaxUID = ts
                if spp > 1 and planar:
                    src = a if frames > 1 else a[None]
                    ds.PixelData = np.ascontiguousarray(src.transpose(0, 3, 1, 2)).tobytes()
                else:
                    ds.PixelData = a.tobytes()
            path = tmp_path / name
            ds.save_as(path, enforce_file_format=True)
        except Exception as e:  # an encoder this pydicom lacks
            print(f"{name}: pydicom cannot write it: {str(e).splitlines()[0]}")
            continue
        made.append((path, frames, spp))
    return made


def test_generated_files_decode_like_pydicom(tmp_path):
    made = _make(tmp_path)
    assert len(made) >= 7
    for path, frames, spp in made:
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array
        for k in range(1, frames + 1):
            one = arr[k - 1] if frames > 1 else arr
            out = tmp_path / f"{path.stem}_{k}.raw"
            r = subprocess.run([str(CLI), "decode", str(path), str(out), "--frame", str(k)],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, f"{path.name} frame {k}: {r.stderr}"
            assert out.read_bytes() == _raw_of(one, spp), f"{path.name} frame {k}"
        # JSON of the generated file too
        r = subprocess.run([str(CLI), "dicom", "json", str(path)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        want = ds.to_json_dict()
        want.pop("7FE00010", None)
        assert not _same(json.loads(r.stdout), want), path.name
