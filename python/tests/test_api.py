"""The API's shape: names, defaults and argument checks as nvImageCodec has
them, CodeStream facts against `htc info --json`, and errors that carry the
library's message. Nothing here needs htc_decode."""
import gc
import json
import subprocess
import sys

import pytest

import htcodec
from conftest import CLI, corpus, numpy


def test_module_facts():
    f = htcodec.features()
    assert set(f) == {"parse", "decode", "decode_batch", "cuda_built", "cuda_devices"}
    assert htcodec.__version__.count(".") == 2
    assert htcodec.HTC_EFORMAT == -4 and htcodec.HTC_ENODEVICE == -11
    assert htcodec.strerror(htcodec.HTC_EIO) == "input/output error"
    assert issubclass(htcodec.Error, RuntimeError)


def test_color_spec_names():
    cs = htcodec.ColorSpec
    assert {m.name for m in cs} == {"UNCHANGED", "YCC", "RGB", "GRAY"}
    assert cs.SRGB is cs.RGB
    assert int(cs.UNCHANGED) == 0
    assert {m.name for m in htcodec.ImageBufferKind} == {"STRIDED_HOST", "STRIDED_DEVICE"}
    assert htcodec.BackendKind.CPU_ONLY != htcodec.BackendKind.GPU_ONLY


def test_region_forms():
    r = htcodec.Region(1, 2, 30, 40)
    assert (r.start, r.end, r.ndim) == ((1, 2), (30, 40), 2)
    assert htcodec.Region(start=(1, 2), end=(30, 40)) == r
    assert htcodec.Region(start=[1, 2], end=[30, 40]) == r
    assert htcodec.Region(start_y=1, start_x=2, end_y=30, end_x=40) == r
    assert htcodec.Region() .ndim == 0 and htcodec.Region().start == ()
    assert repr(r) == "Region(start=(1, 2) end=(30, 40))"
    assert htcodec.Region(0, 0, 1, 1) != r


@pytest.mark.parametrize("args", [(5, 0, 5, 10), (0, 5, 10, 4), (-1, 0, 4, 4), (0, 0, 2**32 + 1, 4)])
def test_region_rejects_empty_or_negative(args):
    with pytest.raises(ValueError):
        htcodec.Region(*args)
    with pytest.raises(ValueError):
        htcodec.Region(start=(0, 0, 0), end=(1, 1, 1))


def test_decode_params_defaults_match_nvimagecodec():
    p = htcodec.DecodeParams()
    assert p.apply_exif_orientation is True
    assert p.allow_any_depth is False
    assert p.color_spec == htcodec.ColorSpec.RGB
    assert (p.reduce, p.layers, p.tile) == (0, 0, None)
    p = htcodec.DecodeParams(allow_any_depth=True, color_spec=htcodec.ColorSpec.UNCHANGED, reduce=2, layers=3, tile=5)
    assert (p.allow_any_depth, p.color_spec, p.reduce, p.layers, p.tile) == (True, htcodec.ColorSpec.UNCHANGED, 2, 3, 5)
    p.tile = None
    p.color_spec = htcodec.ColorSpec.GRAY
    p.reduce = 1
    assert (p.tile, p.color_spec, p.reduce) == (None, htcodec.ColorSpec.GRAY, 1)
    # positional order as nvImageCodec: apply_exif_orientation, color_spec, allow_any_depth
    p = htcodec.DecodeParams(False, htcodec.ColorSpec.GRAY, True)
    assert (p.apply_exif_orientation, p.color_spec, p.allow_any_depth) == (False, htcodec.ColorSpec.GRAY, True)


@pytest.mark.parametrize("kw", [{"reduce": -1}, {"reduce": 33}, {"layers": -2}, {"tile": -5}, {"color_spec": 9}])
def test_decode_params_range_checks(kw):
    with pytest.raises(ValueError):
        htcodec.DecodeParams(**kw)


def info_json(path):
    if not CLI.exists():
        pytest.skip(f"the htc CLI was not built at {CLI}")
    r = subprocess.run([str(CLI), "info", str(path), "--json"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.skip(f"htc info failed: {r.stderr.strip()}")
    return json.loads(r.stdout)


FACTS = [
    # file, width, height, channels, precision, signed, tiles x, tiles y, tile w, tile h, htj2k, format
    ("htj2k/medical/CT1.j2c", 512, 512, 1, 16, True, 1, 1, 512, 512, True, "j2k"),
    ("generated/wsi/wsi_8192x8192_rgb_htj2k_lossy.j2c", 8192, 8192, 3, 8, False, 16, 16, 512, 512, True, "j2k"),
    ("generated/wsi/wsi_8192x8192_rgb_j2k_lossy.jp2", 8192, 8192, 3, 8, False, 16, 16, 512, 512, False, "jp2"),
    ("j2k/jp2_conformance/a3_mono.j2c", 303, 179, 1, 8, False, 3, 2, 137, 131, False, "j2k"),
    ("htj2k/openjph/simple_dec_irv97_64x64_tiles_yuv.jph", 352, 288, 3, 8, False, 2, 9, 257, 33, True, "jph"),
]


@pytest.mark.parametrize("fact", FACTS, ids=[f[0] for f in FACTS])
def test_code_stream_properties(fact):
    name, w, h, c, prec, sgn, ntx, nty, tw, th, ht, fmt = fact
    np = pytest.importorskip("numpy")
    cs = htcodec.CodeStream(str(corpus(name)))
    assert (cs.width, cs.height, cs.num_channels, cs.precision) == (w, h, c, prec)
    assert cs.is_signed is sgn
    assert cs.dtype == np.dtype(("int" if sgn else "uint") + ("8" if prec <= 8 else "16"))
    assert (cs.num_tiles_x, cs.num_tiles_y, cs.tile_width, cs.tile_height) == (ntx, nty, tw, th)
    assert (cs.tile_offset_x, cs.tile_offset_y) == (0, 0)
    assert cs.codec_name == "jpeg2k" and cs.is_htj2k is ht and cs.format == fmt
    assert len(cs.components) == c and cs.components[0]["precision"] == prec


def test_code_stream_matches_cli_info():
    for name in ("htj2k/openjph/simple_dec_irv97_64x64_tiles_yuv.jph", "j2k/jp2_conformance/a3_mono.j2c",
                 "htj2k/medical/MR1.j2c"):
        path = corpus(name)
        info = info_json(path)
        cs = htcodec.CodeStream(str(path))
        text = json.dumps(info)
        # the JSON names these facts; check the numbers we expose appear with their meaning
        img = info.get("image", info)
        for key, value in (("width", cs.width), ("height", cs.height)):
            if key in img:
                assert img[key] == value, (name, key)
        assert str(cs.num_channels) in text


def test_code_stream_from_buffers_keeps_bytes_alive():
    path = corpus("htj2k/medical/CT1.j2c")
    data = path.read_bytes()
    for src in (data, bytearray(data), memoryview(data), str(path), path):
        cs = htcodec.CodeStream(src)
        assert (cs.width, cs.height) == (512, 512)
    ba = bytearray(data)
    cs = htcodec.CodeStream(ba)
    del ba
    gc.collect()
    assert cs.width == 512  # the stream holds its own reference to the bytes
    np = numpy()
    cs = htcodec.CodeStream(np.frombuffer(data, dtype=np.uint8))
    assert cs.height == 512


def test_sub_code_streams():
    cs = htcodec.CodeStream(str(corpus("j2k/jp2_conformance/a3_mono.j2c")))
    sub = cs.get_sub_code_stream(region=htcodec.Region(10, 20, 50, 70))
    assert (sub.height, sub.width, sub.region) == (40, 50, htcodec.Region(10, 20, 50, 70))
    clipped = cs.get_sub_code_stream(region=htcodec.Region(100, 300, 400, 900))
    assert (clipped.height, clipped.width) == (179 - 100, 303 - 300)
    t = cs.get_sub_code_stream(tile=4)  # second row, second column: x 137..274, y 131..179
    assert (t.tile, t.width, t.height) == (4, 137, 48)
    with pytest.raises(htcodec.Error) as e:
        cs.get_sub_code_stream(tile=6)
    assert e.value.status == htcodec.HTC_ERANGE
    with pytest.raises(IndexError):
        cs.get_sub_code_stream(image_idx=1)
    with pytest.raises(TypeError):
        cs.get_sub_code_stream(region=(1, 2, 3, 4))


def test_parse_errors_carry_the_library_message(tmp_path):
    with pytest.raises(htcodec.Error) as e:
        htcodec.CodeStream(b"\x00" * 64)
    assert e.value.status == htcodec.HTC_EFORMAT
    assert e.value.status_name == "HTC_EFORMAT"
    assert "offset 0" in e.value.library_message
    assert e.value.library_message in str(e.value)
    missing = tmp_path / "missing.j2k"
    with pytest.raises(htcodec.Error) as e:
        htcodec.CodeStream(str(missing))
    assert e.value.status == htcodec.HTC_EIO and str(missing) in str(e.value)
    data = corpus("htj2k/medical/CT1.j2c").read_bytes()
    with pytest.raises(htcodec.Error) as e:
        htcodec.CodeStream(data[:40])  # cut inside SIZ
    assert e.value.status < 0 and e.value.library_message
    with pytest.raises(TypeError):
        htcodec.CodeStream(12345)


def test_malformed_corpus_parses_or_raises_library_errors():
    folder = corpus("j2k/malformed")
    seen = 0
    for f in sorted(folder.iterdir()):
        if not f.is_file():
            continue
        seen += 1
        try:
            htcodec.CodeStream(str(f))
        except htcodec.Error as e:
            assert e.status < 0 and e.status_name.startswith("HTC_E")
    assert seen > 0


def test_decoder_arguments():
    d = htcodec.Decoder(max_num_cpu_threads=1, backends=[htcodec.BackendKind.CPU_ONLY])
    assert d.device == "cpu" and d.max_num_cpu_threads == 1
    assert d.last_errors == []
    d = htcodec.Decoder(backends=[htcodec.Backend(htcodec.BackendKind.CPU_ONLY)])
    assert d.device == "cpu"
    with pytest.raises(ValueError):
        htcodec.Decoder(max_num_cpu_threads=-1)
    if htcodec.cuda_device_count() == 0:
        with pytest.raises(htcodec.Error) as e:
            htcodec.Decoder(backends=[htcodec.BackendKind.GPU_ONLY])
        assert e.value.status == htcodec.HTC_ENODEVICE
        assert htcodec.Decoder().device == "cpu"
    with pytest.raises(TypeError):
        htcodec.Image()
    with htcodec.Decoder() as d2:
        assert d2.device in ("cpu", "cuda:0")


def test_decoder_argument_errors():
    if not htcodec.features()["decode"]:
        pytest.skip("this libhtc build has no htc_decode yet")
    d = htcodec.Decoder()
    with pytest.raises(TypeError):
        d.decode("a/path.j2k")  # a str is a path: read() takes it
    with pytest.raises(TypeError):
        d.decode(b"x", params="fast")
    with pytest.raises(htcodec.Error) as e:
        d.decode(b"not a codestream")
    assert e.value.status == htcodec.HTC_EFORMAT and "offset 0" in str(e.value)
    out = d.decode([b"junk", b"more junk"])
    assert out == [None, None]
    assert [err.status for err in d.last_errors] == [htcodec.HTC_EFORMAT] * 2


def test_import_does_not_import_numpy_or_monai():
    code = "import sys, htcodec, htcodec.monai, htcodec.dicom; print('numpy' in sys.modules, 'monai' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
