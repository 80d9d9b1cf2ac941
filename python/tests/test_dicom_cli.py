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


def test_series_volume(tmp_path):
    """`htc dicom volume` on the CT series given in shuffled order: slices sorted
    along the normal, spacing and affine from pydicom's IPP/IOP, each slice's
    samples equal to its reference sha256."""
    import hashlib
    import random

    series = TESTDATA / "generated" / "ct_series"
    if not series.is_dir():
        pytest.skip("generated/ct_series not in the corpus")
    files = sorted(str(p) for p in series.glob("*.dcm"))
    random.Random(3).shuffle(files)
    out = tmp_path / "vol.raw"
    r = subprocess.run([str(CLI), "dicom", "volume", str(out)] + files, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "vol.raw.json").read_text())
    dss = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    iop = np.array(dss[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    dist = [float(np.dot(normal, np.array(d.ImagePositionPatient, dtype=float))) for d in dss]
    order = np.argsort(dist, kind="stable")
    assert meta["files"] == [files[i] for i in order]
    assert meta["size"] == [int(dss[0].Columns), int(dss[0].Rows), len(files)]
    gaps = np.diff(np.sort(dist))
    assert abs(meta["slice_spacing"] - gaps.mean()) < 1e-6
    first = np.array(dss[order[0]].ImagePositionPatient, dtype=float)
    last = np.array(dss[order[-1]].ImagePositionPatient, dtype=float)
    ps = [float(v) for v in dss[0].PixelSpacing]
    lps = np.array(meta["affine_lps"]).reshape(4, 4)
    assert np.allclose(lps[:3, 0], iop[:3] * ps[1]) and np.allclose(lps[:3, 1], iop[3:] * ps[0])
    assert np.allclose(lps[:3, 2], (last - first) / (len(files) - 1)) and np.allclose(lps[:3, 3], first)
    ras = np.array(meta["affine_ras"]).reshape(4, 4)
    assert np.allclose(ras, np.diag([-1, -1, 1, 1]) @ lps)
    sums = {}
    for line in (TESTDATA / "reference" / "SHA256SUMS").read_text().splitlines():
        if not line.startswith("#") and len(line) > 66:
            sums[line[66:]] = line[:64]
    data = out.read_bytes()
    slice_bytes = meta["size"][0] * meta["size"][1] * meta["bytes_per_sample"]
    assert len(data) == slice_bytes * len(files)
    for i, k in enumerate(order):
        rel = str(pathlib.Path(files[k]).relative_to(TESTDATA))
        assert hashlib.sha256(data[i * slice_bytes:(i + 1) * slice_bytes]).hexdigest() == sums[rel], rel


def test_json_bulk_uri():
    path = TESTDATA / "dicom" / "other" / "MR_small.dcm"
    r = subprocess.run([str(CLI), "dicom", "json", str(path), "--bulk-uri", "http://x/y"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    want = pydicom.dcmread(path).to_json_dict()
    binary = [k for k, v in want.items() if "InlineBinary" in v and k != "7FE00010"]
    assert binary
    raw = path.read_bytes()
    for k in binary:
        uri = got[k]["BulkDataURI"]
        assert uri.startswith("http://x/y?offset=")
        off = int(uri.split("offset=")[1].split("&")[0])
        length = int(uri.split("length=")[1])
        import base64
        assert raw[off:off + length] == base64.b64decode(want[k]["InlineBinary"])


def test_native_ybr_full_422(tmp_path):
    """Native YBR_FULL_422 (two samples a pixel, Y0 Y1 Cb Cr): samples stay YBR,
    chroma repeated for both pixels, as pydicom gives with as_rgb=False."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns, ds.NumberOfFrames = 5, 6, 2
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "YBR_FULL_422", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = bytes((i * 7) % 256 for i in range(2 * 5 * 6 * 2))
    path = tmp_path / "ybr422.dcm"
    ds.save_as(path, enforce_file_format=True)
    ds = pydicom.dcmread(path)
    try:
        ds.pixel_array_options(as_rgb=False)
    except AttributeError:
        pytest.skip("this pydicom has no pixel_array_options")
    arr = ds.pixel_array
    for k in (1, 2):
        out = tmp_path / f"f{k}.raw"
        r = subprocess.run([str(CLI), "decode", str(path), str(out), "--frame", str(k)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert out.read_bytes() == _raw_of(arr[k - 1], 3)


def test_palette_and_ybr_conversion(tmp_path):
    """`htc dicom decode --rgb`: PALETTE COLOR through its tables equals pydicom's
    apply_color_lut exactly; YBR_FULL to RGB within 1 of pydicom's
    convert_color_space (rounding)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    try:
        from pydicom.pixels import apply_color_lut, convert_color_space
    except ImportError:
        pytest.skip("pydicom.pixels is missing")

    def base(phot, spp):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
        ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 7, 9, spp, phot
        if spp > 1:
            ds.PlanarConfiguration = 0
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        return ds

    rng = np.random.default_rng(5)
    ds = base("PALETTE COLOR", 1)
    idx = rng.integers(0, 256, size=(7, 9), dtype=np.uint8)
    ds.PixelData = idx.tobytes()
    for name, tag in (("Red", 0x00281101), ("Green", 0x00281102), ("Blue", 0x00281103)):
        ds.add_new(tag, "US", [200, 16, 16])
        lut = rng.integers(0, 65536, size=200, dtype=np.uint16)
        ds.add_new(tag + 0x100, "OW", lut.tobytes())
    p = tmp_path / "pal.dcm"
    ds.save_as(p, enforce_file_format=True)
    ds = pydicom.dcmread(p)
    want = apply_color_lut(ds.pixel_array, ds)
    out = tmp_path / "pal.raw"
    r = subprocess.run([str(CLI), "dicom", "decode", str(p), "1", str(out), "--rgb"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == _raw_of(want, 3)

    ds = base("YBR_FULL", 3)
    ybr = rng.integers(0, 256, size=(7, 9, 3), dtype=np.uint8)
    ds.PixelData = ybr.tobytes()
    p = tmp_path / "ybr.dcm"
    ds.save_as(p, enforce_file_format=True)
    want = convert_color_space(ybr, "YBR_FULL", "RGB").astype(int)
    out = tmp_path / "ybr.raw"
    r = subprocess.run([str(CLI), "dicom", "decode", str(p), "1", str(out), "--rgb"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    got = np.moveaxis(np.frombuffer(out.read_bytes(), dtype=np.uint8).reshape(3, 7, 9), 0, -1).astype(int)
    assert np.abs(got - want).max() <= 1


def test_reencapsulated_frames(tmp_path):
    """The 16 HTJ2K frames of the enhanced CT re-encapsulated by pydicom's
    encapsulate (3 fragments a frame, with and without a Basic Offset Table)
    and encapsulate_extended (Extended Offset Table): every frame's bytes come
    back as they went in, and decode to the same samples."""
    from pydicom.encaps import encapsulate, encapsulate_extended

    src = TESTDATA / "generated" / "dicom" / "CT_enhanced_16f_htj2k_eot.dcm"
    if not src.is_file():
        pytest.skip(f"{src} not in the corpus")
    frames = []
    for k in range(1, 17):
        out = tmp_path / f"orig{k}.j2c"
        r = subprocess.run([str(CLI), "dicom", "frame", str(src), str(k), str(out)], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        frames.append(out.read_bytes())
    variants = {
        "nobot_3frag": dict(pixel=encapsulate(frames, fragments_per_frame=3, has_bot=False)),
        "bot_3frag": dict(pixel=encapsulate(frames, fragments_per_frame=3, has_bot=True)),
    }
    pixel, eot, eot_len = encapsulate_extended(frames)
    variants["eot"] = dict(pixel=pixel, eot=eot, eot_len=eot_len)
    for name, v in variants.items():
        ds = pydicom.dcmread(src)
        for tag in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
            if tag in ds:
                del ds[tag]
        ds.PixelData = v["pixel"]
        if "eot" in v:
            ds.ExtendedOffsetTable = v["eot"]
            ds.ExtendedOffsetTableLengths = v["eot_len"]
        path = tmp_path / f"{name}.dcm"
        ds.save_as(path, enforce_file_format=True)
        for k in (1, 2, 9, 16):
            out = tmp_path / f"{name}_{k}.j2c"
            r = subprocess.run([str(CLI), "dicom", "frame", str(path), str(k), str(out)], capture_output=True,
                               text=True, timeout=60)
            assert r.returncode == 0, f"{name} frame {k}: {r.stderr}"
            want = frames[k - 1] + (b"\0" if len(frames[k - 1]) & 1 else b"")
            assert out.read_bytes() in (frames[k - 1], want), f"{name} frame {k}"
            a, b = tmp_path / f"{name}_{k}.raw", tmp_path / f"orig_{k}.raw"
            for p_in, p_out in ((path, a), (src, b)):
                r = subprocess.run([str(CLI), "decode", str(p_in), str(p_out), "--frame", str(k)],
                                   capture_output=True, text=True, timeout=120)
                assert r.returncode == 0, r.stderr
            assert a.read_bytes() == b.read_bytes(), f"{name} frame {k} samples"
