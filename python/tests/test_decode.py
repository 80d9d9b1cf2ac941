"""Decoding through Python: the same samples as the CLI and the corpus
references, nvImageCodec's output conventions, regions / tiles / reduce /
batches equal to the same cut of the full decode, threads, the GIL, DLPack,
and no leak over 10,000 decodes."""
import os
import pathlib
import subprocess
import threading
import time

import pytest

import htcodec
from conftest import (TESTDATA, cli_decode, corpus, decode_or_skip, have_tool, need_decode, numpy, raw_bytes,
                      reference_sums, sha256)

EXTS = (".j2k", ".j2c", ".jp2", ".jph", ".jhc")


def corpus_files():
    if not TESTDATA.is_dir():
        return []
    out = []
    for top in ("htj2k", "j2k", "generated"):
        for p in sorted((TESTDATA / top).rglob("*")):
            if p.suffix in EXTS and "malformed" not in p.parts:
                out.append(str(p.relative_to(TESTDATA)))
    return out


ANY = htcodec.DecodeParams(allow_any_depth=True, color_spec=htcodec.ColorSpec.UNCHANGED)


@pytest.fixture(scope="module")
def dec():
    need_decode()
    # host images (np.asarray needs them); the GPU path is test_gpu.py's
    return htcodec.Decoder(max_num_cpu_threads=2, backends=[htcodec.BackendKind.CPU_ONLY])


@pytest.mark.parametrize("name", corpus_files() or ["(no corpus)"])
def test_every_corpus_file_matches_the_cli(name, dec, tmp_path):
    """decode_components() gives the samples of `htc decode IN OUT.raw`, byte for byte."""
    numpy()
    src = corpus(name)
    out = tmp_path / "cli.raw"
    r = cli_decode(src, out)
    try:
        comps = dec.decode_components(str(src))
    except htcodec.Error as e:
        if r.returncode != 0:
            return  # both refuse it: consistent
        if e.status == htcodec.HTC_EUNSUPPORTED:
            pytest.skip(f"unsupported: {e}")
        raise
    if r.returncode != 0:
        pytest.skip(f"the CLI could not decode it ({r.stderr.strip()[:200]}) but Python could")
    assert raw_bytes(comps) == out.read_bytes()


REFERENCE_FILES = [
    "htj2k/medical/CT1.j2c",
    "htj2k/medical/MR1.j2c",
    "j2k/medical/CT1.j2k",
    "htj2k/openjph/simple_dec_rev53_64x64_gray_tiles.jph",
    "j2k/jp2_conformance/a3_mono.j2c",
    "htj2k/conformance/ds0_ht_01_b11.j2k",
]


@pytest.mark.parametrize("name", REFERENCE_FILES)
def test_corpus_reference_sha256(name, dec):
    numpy()
    sums = reference_sums()
    if name not in sums:
        pytest.skip(f"{name} has no reference sha256")
    comps = decode_or_skip(dec.decode_components, str(corpus(name)))
    assert sha256(raw_bytes(comps)) == sums[name]
    # the HWC path at native depth holds the same samples when components share one size
    img = decode_or_skip(dec.read, str(corpus(name)), ANY)
    np = numpy()
    a = np.asarray(img)
    for c, comp in enumerate(comps):
        assert np.array_equal(a[..., c], np.asarray(comp)[..., 0])


def test_default_params_give_nvimagecodec_8bit_rgb(dec):
    np = numpy()
    path = str(corpus("htj2k/medical/CT1.j2c"))  # 16-bit signed, one component
    native = np.asarray(decode_or_skip(dec.read, path, ANY))
    img = dec.read(path)
    assert img.shape == (512, 512, 3) and img.dtype == np.uint8 and img.precision == 0
    assert img.buffer_kind == htcodec.ImageBufferKind.STRIDED_HOST
    a = np.asarray(img)
    v = native[..., 0].astype(np.float32)
    # nvImageCodec 0.9 gives exactly this for 16-bit signed images (float32, an FMA, round half to even)
    norm = (v.astype(np.float64) * np.float32(1.0 / 32767.0) + 1.0).astype(np.float32)  # fma: one rounding
    expected = np.clip(np.rint(np.float32(0.5) * norm * np.float32(255.0)), 0, 255).astype(np.uint8)
    for c in range(3):  # grey replicated
        assert np.array_equal(a[..., c], expected)
    gray = np.asarray(dec.read(path, htcodec.DecodeParams(color_spec=htcodec.ColorSpec.GRAY)))
    assert gray.shape == (512, 512, 1) and np.array_equal(gray[..., 0], expected)
    assert native.dtype == np.int16 and native.shape == (512, 512, 1)


def test_unsigned_12bit_scaling(dec):
    np = numpy()
    path = str(corpus("j2k/medical/MR2.j2k"))  # 12-bit
    native = np.asarray(decode_or_skip(dec.read, path, ANY))
    assert native.dtype in (np.uint16, np.int16)
    cs = htcodec.CodeStream(path)
    v = native[..., 0].astype(np.float64)
    assert not cs.is_signed
    mult = np.float32(65535.0 / (2 ** cs.precision - 1) / 65535.0)
    expected = np.clip(np.rint(mult * v.astype(np.float32) * np.float32(255.0)), 0, 255).astype(np.uint8)
    assert np.array_equal(np.asarray(dec.read(path))[..., 1], expected)


def test_rgb_and_gray_of_colour(dec):
    np = numpy()
    path = str(corpus("j2k/medical/VL1.j2k"))  # 8-bit RGB
    native = np.asarray(decode_or_skip(dec.read, path, ANY))
    rgb = np.asarray(dec.read(path))
    assert native.dtype == np.uint8 and native.shape[2] == 3
    assert np.array_equal(rgb, native)  # 8-bit RGB needs no scaling
    gray = np.asarray(dec.read(path, htcodec.DecodeParams(color_spec=htcodec.ColorSpec.GRAY)))
    n = native.astype(np.float64)
    luma = np.rint(0.299 * n[..., 0] + 0.587 * n[..., 1] + 0.114 * n[..., 2])
    assert np.abs(gray[..., 0].astype(np.float64) - luma).max() <= 1


TILED = "htj2k/openjph/simple_dec_rev53_64x64_gray_tiles.jph"  # 768x512, 3x16 tiles of 257x33, lossless


def full(dec, name, reduce=0):
    np = numpy()
    return np.asarray(decode_or_skip(dec.read, str(corpus(name)), htcodec.DecodeParams(
        allow_any_depth=True, color_spec=htcodec.ColorSpec.UNCHANGED, reduce=reduce)))


@pytest.mark.parametrize("name", [TILED, "j2k/jp2_conformance/a3_mono.j2c", "htj2k/medical/MR1.j2c"])
def test_regions_equal_the_cut(dec, name):
    np = numpy()
    whole = full(dec, name)
    h, w = whole.shape[:2]
    cs = htcodec.CodeStream(str(corpus(name)))
    for (y0, x0, y1, x1) in [(0, 0, h, w), (1, 2, 3, 5), (h // 3, w // 4, h // 3 + 37, w // 4 + 61),
                             (h - 7, w - 9, h, w), (5, 0, 6, w)]:
        r = htcodec.Region(y0, x0, y1, x1)
        a = np.asarray(dec.decode(htcodec.DecodeSource(cs, r), ANY))
        assert np.array_equal(a, whole[y0:y1, x0:x1]), (y0, x0, y1, x1)
        b = np.asarray(dec.decode(cs.get_sub_code_stream(region=r), ANY))
        assert np.array_equal(b, whole[y0:y1, x0:x1])


def tile_rect(cs, t):
    tx, ty = t % cs.num_tiles_x, t // cs.num_tiles_x
    x0 = max(cs.tile_offset_x + tx * cs.tile_width, cs.image_offset_x) - cs.image_offset_x
    y0 = max(cs.tile_offset_y + ty * cs.tile_height, cs.image_offset_y) - cs.image_offset_y
    x1 = min(cs.tile_offset_x + (tx + 1) * cs.tile_width - cs.image_offset_x, cs.width)
    y1 = min(cs.tile_offset_y + (ty + 1) * cs.tile_height - cs.image_offset_y, cs.height)
    return y0, x0, y1, x1


@pytest.mark.parametrize("name", [TILED, "j2k/jp2_conformance/a3_mono.j2c"])
def test_tiles_equal_the_cut(dec, name):
    np = numpy()
    whole = full(dec, name)
    cs = htcodec.CodeStream(str(corpus(name)))
    n = cs.num_tiles_x * cs.num_tiles_y
    for t in sorted({0, 1, cs.num_tiles_x, n - 1}):
        y0, x0, y1, x1 = tile_rect(cs, t)
        p = htcodec.DecodeParams(allow_any_depth=True, color_spec=htcodec.ColorSpec.UNCHANGED, tile=t)
        a = np.asarray(decode_or_skip(dec.read, str(corpus(name)), p))
        assert np.array_equal(a, whole[y0:y1, x0:x1]), t
        b = np.asarray(dec.decode(cs.get_sub_code_stream(tile=t), ANY))
        assert np.array_equal(b, whole[y0:y1, x0:x1]), t


def test_reduce_matches_the_cli(dec, tmp_path):
    np = numpy()
    src = corpus(TILED)
    for reduce in (1, 2):
        a = full(dec, TILED, reduce)
        cs = htcodec.CodeStream(str(src))
        assert a.shape[:2] == (-(-cs.height // 2**reduce), -(-cs.width // 2**reduce))
        out = tmp_path / f"r{reduce}.raw"
        r = cli_decode(src, out, "--reduce", reduce)
        if r.returncode == 0:
            assert a[..., 0].astype("<u1" if a.dtype.itemsize == 1 else a.dtype.newbyteorder("<")).tobytes() == \
                out.read_bytes()
        # a region of a reduced decode is the cut of the reduced image
        rr = np.asarray(dec.read(str(src), htcodec.DecodeParams(
            allow_any_depth=True, color_spec=htcodec.ColorSpec.UNCHANGED, reduce=reduce, tile=1)))
        y0, x0, y1, x1 = tile_rect(cs, 1)
        s = 2**reduce
        assert np.array_equal(rr, a[-(-y0 // s):-(-y1 // s), -(-x0 // s):-(-x1 // s)])


def test_batches_equal_single_decodes_and_report_failures(dec):
    np = numpy()
    names = [TILED, "htj2k/medical/MR1.j2c", "j2k/jp2_conformance/a3_mono.j2c"]
    paths = [str(corpus(n)) for n in names]
    singles = [np.asarray(decode_or_skip(dec.read, p, ANY)) for p in paths]
    batch = dec.read(paths + ["/nonexistent/x.j2k"], ANY)
    assert len(batch) == 4 and batch[3] is None
    for a, b in zip(singles, batch):
        assert np.array_equal(a, np.asarray(b))
    errs = dec.last_errors
    assert errs[:3] == [None, None, None]
    assert errs[3].status == htcodec.HTC_EIO and "/nonexistent/x.j2k" in str(errs[3])
    data = [pathlib.Path(p).read_bytes() for p in paths]
    mixed = dec.decode([data[0], htcodec.CodeStream(paths[1]), htcodec.DecodeSource(paths[2]),
                        data[1][: len(data[1]) // 3], b"junk"], ANY)
    for a, b in zip(singles, mixed[:3]):
        assert np.array_equal(a, np.asarray(b))
    assert mixed[4] is None and dec.last_errors[4].status == htcodec.HTC_EFORMAT
    if mixed[3] is None:  # a cut stream: an error with the library's message
        assert dec.last_errors[3].status < 0 and dec.last_errors[3].library_message
    # sixteen regions in one call, as the tiled-JP2 example does
    cs = htcodec.CodeStream(paths[0])
    srcs = [htcodec.DecodeSource(cs, htcodec.Region(y, x, y + 20, x + 30)) for y in (0, 40, 80, 120)
            for x in (0, 50, 100, 150)]
    out = dec.decode(srcs, ANY)
    for s, img in zip(srcs, out):
        (y0, x0), (y1, x1) = s.region.start, s.region.end
        assert np.array_equal(np.asarray(img), singles[0][y0:y1, x0:x1])


def test_single_call_errors_raise_with_the_library_message(dec):
    data = corpus("htj2k/medical/CT1.j2c").read_bytes()
    with pytest.raises(htcodec.Error) as e:
        dec.read("/nonexistent/y.j2c")
    assert e.value.status == htcodec.HTC_EIO
    bad = bytearray(data)
    cut = data[: len(data) // 4]
    try:
        dec.decode(cut)
    except htcodec.Error as err:
        assert err.status < 0 and err.library_message and err.status_name in str(err)
    with pytest.raises(htcodec.Error) as e:
        dec.decode(bytes(bad[:2]) + b"\x00" * 10)
    assert e.value.library_message


def test_image_interfaces_share_memory(dec):
    np = numpy()
    img = decode_or_skip(dec.read, str(corpus("j2k/medical/VL1.j2k")), ANY)
    a = np.asarray(img)
    ai = img.__array_interface__
    assert ai["shape"] == img.shape == (img.height, img.width, 3) and ai["typestr"] == "|u1"
    assert ai["data"][0] == a.ctypes.data  # no copy
    m = memoryview(img)
    assert m.shape == img.shape and m.format == "B" and not m.readonly
    assert img.__dlpack_device__() == (1, 0)
    d = np.from_dlpack(img)
    assert np.shares_memory(d, a) and np.array_equal(d, a)
    assert np.array_equal(np.array(img, dtype=np.int32), a.astype(np.int32))
    assert img.cpu() is img
    assert not hasattr(img, "__cuda_array_interface__")
    del img
    assert int(a.sum()) == int(d.sum())  # arrays keep the Image alive
    img16 = dec.read(str(corpus("htj2k/medical/CT1.j2c")), ANY)
    d16 = np.from_dlpack(img16)
    assert d16.dtype == np.int16 and d16.shape == (512, 512, 1)
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    t = torch.from_dlpack(img16)
    assert t.data_ptr() == np.asarray(img16).ctypes.data and t.dtype == torch.int16


def test_cuda_without_a_device(dec):
    if htcodec.cuda_device_count() > 0:
        pytest.skip("a GPU is present")
    img = decode_or_skip(dec.read, str(corpus("htj2k/medical/CT1.j2c")))
    with pytest.raises(htcodec.Error) as e:
        img.cuda()
    assert e.value.status == htcodec.HTC_ENODEVICE


def test_threads_share_one_decoder(dec):
    np = numpy()
    paths = [str(corpus(n)) for n in ("htj2k/medical/MR1.j2c", "j2k/medical/CT1.j2k", TILED)]
    expected = [np.asarray(decode_or_skip(dec.read, p, ANY)) for p in paths]
    shared = htcodec.Decoder(backends=[htcodec.BackendKind.CPU_ONLY])
    failures = []

    def work(k):
        try:
            for i in range(6):
                j = (k + i) % 3
                if not np.array_equal(np.asarray(shared.read(paths[j], ANY)), expected[j]):
                    failures.append((k, i))
        except Exception as e:  # pragma: no cover - reported below
            failures.append(repr(e))

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert failures == []


def test_gil_is_released_while_decoding(dec):
    """A Python thread keeps running at its own pace while another decodes; with the GIL
    held through each decode it would run only between decodes (a short switch interval)."""
    import sys
    path = str(corpus("htj2k/medical/MR1.j2c"))  # 512x512 16-bit: milliseconds a decode
    decode_or_skip(dec.read, path, ANY)
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    t = threading.Thread(target=spin)
    try:
        t.start()
        t0, n0 = time.perf_counter(), ticks[0]
        time.sleep(0.3)  # the spinner alone: its pace on this machine now
        alone = (ticks[0] - n0) / (time.perf_counter() - t0)
        t0, n0 = time.perf_counter(), ticks[0]
        n = 0
        while time.perf_counter() - t0 < 0.6:
            dec.read(path, ANY)
            n += 1
        during = (ticks[0] - n0) / (time.perf_counter() - t0)
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    assert n >= 2
    assert during > 0.25 * alone, (during, alone, n)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 64x48 lossless HTJ2K stream made now with ojph_compress, and its samples."""
    np = numpy()
    if not have_tool("ojph_compress"):
        pytest.skip("ojph_compress is not installed")
    d = tmp_path_factory.mktemp("tiny")
    pgm = d / "tiny.pgm"
    img = (np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 37) % 256
    pgm.write_bytes(b"P5\n64 48\n255\n" + img.astype(np.uint8).tobytes())
    j2c = d / "tiny.j2c"
    subprocess.run(["ojph_compress", "-i", str(pgm), "-o", str(j2c), "-reversible", "true"], check=True,
                   capture_output=True)
    return j2c, img


def test_read_10000_paths_with_a_progress_bar(dec, tiny, capfd):
    np = numpy()
    j2c, img = tiny
    paths = [str(j2c)] * 10000
    paths[1234] = str(j2c) + ".missing"
    out = dec.read(paths, ANY, progress=True, chunk_size=500)
    assert len(out) == 10000 and out[1234] is None
    errs = dec.last_errors
    assert len(errs) == 10000 and errs[1234].status == htcodec.HTC_EIO and errs[0] is None
    assert np.array_equal(np.asarray(out[9999])[..., 0], img)
    assert sum(o is None for o in out) == 1
    text = capfd.readouterr().err
    assert "10000/10000" in text  # the bar's last state (tqdm's or the plain one)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_no_leak_over_10000_decodes(dec, tiny):
    np = numpy()
    j2c, img = tiny
    data = j2c.read_bytes()
    first = np.asarray(decode_or_skip(dec.decode, data, ANY))
    assert np.array_equal(first[..., 0], img)  # lossless
    cs = htcodec.CodeStream(data)
    region = htcodec.DecodeSource(cs, htcodec.Region(2, 3, 10, 12))
    for _ in range(500):  # warm up allocator pools
        dec.decode(data)
    base = rss_bytes()
    for i in range(10000):
        a = dec.decode(data) if i % 3 else dec.decode([region, b"junk"], ANY)[0]
        np.asarray(a)
    grown = rss_bytes() - base
    # one leaked output alone would be 9 KiB a decode (90 MB)
    assert grown < 2 * 1024 * 1024, f"RSS grew by {grown} bytes over 10,000 decodes"
