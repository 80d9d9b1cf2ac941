"""htcodec.monai.HTCodecReader: MONAI's ImageReader contract without MONAI,
and inside real MONAI (LoadImage, a Compose, a DataLoader) when it is installed."""
import pytest

import htcodec
from conftest import corpus, need_decode, numpy

from htcodec.monai import HTCodecReader


def test_verify_suffix():
    r = HTCodecReader()
    assert r.verify_suffix("a.j2k") and r.verify_suffix("b.JPH") and r.verify_suffix(["x.dcm", "y.dcm"])
    assert not r.verify_suffix("a.png") and not r.verify_suffix(["a.dcm", "b.nii.gz"])
    assert r.verify_suffix(str(corpus("generated/ct_series")))  # a folder: a DICOM series


def test_series_contract():
    np = numpy()
    r = HTCodecReader()
    img = r.read(str(corpus("generated/ct_series")))
    array, meta = r.get_data(img)
    assert isinstance(array, np.ndarray) and array.shape == (512, 512, 64)  # (x, y, z)
    for key in ("affine", "original_affine", "spatial_shape", "spacing", "original_channel_dim", "space"):
        assert key in meta
    assert meta["affine"].shape == (4, 4) and meta["space"] == "RAS"
    assert tuple(meta["spatial_shape"]) == (512, 512, 64)
    assert meta["original_channel_dim"] == "no_channel"
    assert meta["spacing"][:2] == pytest.approx((0.661468, 0.661468))
    # voxel (i, j, k) of the MONAI array is column i, row j of slice k
    from htcodec import dicom
    s = dicom.load_series(str(corpus("generated/ct_series")))
    assert np.array_equal(array[:, :, 5], s.volume[5].T)
    # LPS when asked
    _, m2 = HTCodecReader(affine_lps_to_ras=False).get_data(img)
    assert m2["space"] == "LPS" and m2["affine"][0, 0] == -meta["affine"][0, 0]


def test_j2k_file_contract():
    need_decode()
    np = numpy()
    r = HTCodecReader()
    a, meta = r.get_data(r.read(str(corpus("htj2k/medical/CT1.j2c"))))
    assert a.shape == (512, 512) and a.dtype == np.int16 and meta["original_channel_dim"] == "no_channel"
    assert meta["affine"].shape == (3, 3) and tuple(meta["spatial_shape"]) == (512, 512)
    direct = np.asarray(htcodec.Decoder().read(str(corpus("htj2k/medical/CT1.j2c")), htcodec.DecodeParams(
        allow_any_depth=True, color_spec=htcodec.ColorSpec.UNCHANGED)).cpu())
    assert np.array_equal(a, direct[..., 0].T)
    c, meta = r.get_data(r.read(str(corpus("j2k/medical/VL1.j2k"))))
    assert c.shape == (756, 486, 3) and meta["original_channel_dim"] == -1
    two, meta = r.get_data(r.read([str(corpus("htj2k/medical/CT1.j2c")), str(corpus("htj2k/medical/MR1.j2c"))]))
    assert two.shape == (2, 512, 512) and meta["original_channel_dim"] == 0


def test_inside_monai():
    pytest.importorskip("monai", reason="MONAI is not installed (it needs torch); contract tested above")
    from monai.data import DataLoader, Dataset, ImageReader
    from monai.transforms import Compose, EnsureChannelFirstd, LoadImage, LoadImaged, ScaleIntensityRanged
    reader = HTCodecReader()
    assert isinstance(reader, ImageReader)
    img = LoadImage(reader=reader, image_only=True)(str(corpus("generated/ct_series")))
    assert tuple(img.shape) == (512, 512, 64)
    assert img.meta["space"] == "RAS"
    tf = Compose([LoadImaged(keys="img", reader=HTCodecReader()), EnsureChannelFirstd(keys="img"),
                  ScaleIntensityRanged(keys="img", a_min=-1000, a_max=1000, b_min=0, b_max=1)])
    ds = Dataset([{"img": str(corpus("htj2k/medical/CT1.j2c"))}, {"img": str(corpus("htj2k/medical/MR1.j2c"))}], tf)
    batch = next(iter(DataLoader(ds, batch_size=2, num_workers=0)))
    assert tuple(batch["img"].shape) == (2, 1, 512, 512)
