"""Device images (run where a CUDA device is): __cuda_array_interface__,
DLPack into PyTorch and CuPy without a copy, .cpu()/.cuda(), a DICOM series
as one GPU tensor, and MONAI loading onto the GPU."""
import pytest

import htcodec
from conftest import corpus, decode_or_skip, need_decode, numpy

pytestmark = pytest.mark.skipif(htcodec.cuda_device_count() == 0, reason="no CUDA device")

ANY = htcodec.DecodeParams(allow_any_depth=True, color_spec=htcodec.ColorSpec.UNCHANGED)


@pytest.fixture(scope="module")
def gpu():
    need_decode()
    return htcodec.Decoder(device_id=0)


@pytest.fixture(scope="module")
def cpu():
    return htcodec.Decoder(backends=[htcodec.BackendKind.CPU_ONLY])


def test_device_image_interfaces(gpu, cpu):
    np = numpy()
    path = str(corpus("htj2k/medical/CT1.j2c"))
    img = decode_or_skip(gpu.read, path, ANY)
    assert gpu.device == "cuda:0"
    assert img.buffer_kind == htcodec.ImageBufferKind.STRIDED_DEVICE and img.device_id == 0
    cai = img.__cuda_array_interface__
    assert cai["shape"] == (512, 512, 1) and cai["typestr"] == "<i2" and cai["version"] == 3
    assert not hasattr(img, "__array_interface__")
    assert img.__dlpack_device__() == (2, 0)
    ref = np.asarray(cpu.read(path, ANY))
    host = img.cpu()
    assert host.buffer_kind == htcodec.ImageBufferKind.STRIDED_HOST
    assert np.array_equal(np.asarray(host), ref)
    again = host.cuda()
    assert again.buffer_kind == htcodec.ImageBufferKind.STRIDED_DEVICE
    assert np.array_equal(np.asarray(again.cpu()), ref)


def test_torch_from_dlpack_shares_memory(gpu, cpu):
    torch = pytest.importorskip("torch")
    np = numpy()
    path = str(corpus("j2k/medical/VL1.j2k"))
    img = decode_or_skip(gpu.read, path)
    t = torch.from_dlpack(img)
    assert t.is_cuda and t.dtype == torch.uint8 and tuple(t.shape) == img.shape
    assert t.data_ptr() == img.__cuda_array_interface__["data"][0]  # no copy
    assert np.array_equal(t.cpu().numpy(), np.asarray(cpu.read(path)))
    t16 = torch.from_dlpack(gpu.read(str(corpus("htj2k/medical/CT1.j2c")), ANY))
    assert t16.dtype == torch.int16
    del img
    torch.cuda.synchronize()
    assert int(t.sum()) == int(np.asarray(cpu.read(path)).sum())  # the tensor keeps the Image alive


def test_cupy_shares_memory(gpu, cpu):
    cupy = pytest.importorskip("cupy")
    np = numpy()
    path = str(corpus("htj2k/medical/MR1.j2c"))
    img = decode_or_skip(gpu.read, path, ANY)
    a = cupy.from_dlpack(img)
    b = cupy.asarray(img)  # through __cuda_array_interface__
    ptr = img.__cuda_array_interface__["data"][0]
    assert a.data.ptr == ptr and b.data.ptr == ptr
    assert np.array_equal(cupy.asnumpy(a), np.asarray(cpu.read(path, ANY)))


def test_gpu_batches(gpu, cpu):
    np = numpy()
    paths = [str(corpus(n)) for n in ("htj2k/medical/CT1.j2c", "htj2k/medical/MR1.j2c", "j2k/medical/VL1.j2k")]
    out = gpu.read(paths + ["/nonexistent.j2k"], ANY)
    assert out[3] is None and gpu.last_errors[3].status == htcodec.HTC_EIO
    for p, img in zip(paths, out):
        assert img.buffer_kind == htcodec.ImageBufferKind.STRIDED_DEVICE
        assert np.array_equal(np.asarray(img.cpu()), np.asarray(cpu.read(p, ANY)))


def test_series_lands_on_the_gpu_as_one_tensor():
    torch = pytest.importorskip("torch")
    from htcodec import dicom
    folder = str(corpus("generated/ct_series"))
    s = dicom.load_series(folder, device="cuda")
    assert isinstance(s.volume, torch.Tensor) and s.volume.is_cuda and tuple(s.volume.shape) == (64, 512, 512)
    host = dicom.load_series(folder)
    assert torch.equal(s.volume.cpu(), torch.from_numpy(host.volume))


def test_monai_reader_on_the_gpu():
    torch = pytest.importorskip("torch")
    pytest.importorskip("monai")
    from monai.transforms import LoadImage
    from htcodec.monai import HTCodecReader
    img = LoadImage(reader=HTCodecReader(device="cuda"), image_only=True)(str(corpus("generated/ct_series")))
    assert img.is_cuda and tuple(img.shape) == (512, 512, 64)
