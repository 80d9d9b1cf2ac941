"""htcodec.dicom: frames equal the corpus references, series geometry."""
import pytest

import htcodec
from conftest import corpus, numpy, reference_sums, sha256

dicom = pytest.importorskip("htcodec.dicom")


def frame_raw(a, np):
    # reference layout: planar, little-endian; frames here are (rows, columns[, samples])
    if a.ndim == 3:
        a = np.moveaxis(a, -1, 0)
    return np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


@pytest.mark.parametrize("name", ["dicom/htj2k/CT1_JPH.dcm", "dicom/htj2k/MR1_JPH.dcm",
                                  "generated/ct_series/CT_001.dcm", "dicom/htj2k/HTJ2KLossless_08_RGB.dcm"])
def test_frames_match_references(name):
    np = numpy()
    sums = reference_sums()
    if name not in sums:
        pytest.skip(f"{name} has no reference")
    try:
        d = dicom.read(str(corpus(name)))
    except htcodec.Error as e:
        if e.status in (htcodec.HTC_EUNSUPPORTED, htcodec.HTC_ETSYNTAX):
            pytest.skip(str(e))
        raise
    assert d.frames.shape[0] == 1
    assert sha256(frame_raw(d.frames[0], np)) == sums[name]
    assert d.metadata["rows"] == d.frames.shape[1]


def test_multiframe_frames_match_references():
    np = numpy()
    name = "generated/dicom/CT_enhanced_16f_htj2k_eot.dcm"
    sums = reference_sums()
    d = dicom.read(str(corpus(name)))
    assert d.frames.shape == (16, 512, 512)
    for k in (0, 7, 15):
        key = f"{name}#f{k + 1:02d}"
        if key in sums:
            assert sha256(frame_raw(d.frames[k], np)) == sums[key], key


def test_load_series_geometry():
    np = numpy()
    folder = corpus("generated/ct_series")
    s = dicom.load_series(str(folder))
    vol, affine, spacing, meta = s
    assert vol.shape == (64, 512, 512) and vol.dtype == np.int16
    assert spacing[:2] == pytest.approx((0.661468, 0.661468)) and spacing[2] > 0
    # slices in order along the normal, each equal to its file read alone
    files = meta["files"]
    assert len(files) == 64
    z = [dicom.read(f).planes[0]["position"][2] for f in files]
    assert all(b > a for a, b in zip(z, z[1:]))
    assert np.array_equal(vol[10], dicom.read(files[10]).frames[0])
    # affine: index (i, j, k) -> RAS; the first voxel is the first slice's position (LPS -> RAS flips x, y)
    p0 = dicom.read(files[0]).planes[0]["position"]
    assert affine[:3, 3] == pytest.approx((-p0[0], -p0[1], p0[2]))
    assert affine[2, 2] == pytest.approx(spacing[2])
    assert s.affine_lps[:3, 3] == pytest.approx(p0)
    assert meta["space"] == "RAS"


def test_not_dicom_raises():
    with pytest.raises(Exception):
        dicom.read(str(corpus("htj2k/medical/CT1.j2c")))
