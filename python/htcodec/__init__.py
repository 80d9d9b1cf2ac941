"""htcodec: JPEG 2000 / HTJ2K decoding with nvImageCodec's Python API.

Code written for nvImageCodec runs with ``import htcodec as nvimgcodec``::

    dec = htcodec.Decoder()
    img = dec.read("ct.j2c")                          # one path -> Image (or raises htcodec.Error)
    imgs = dec.read(paths, htcodec.DecodeParams(allow_any_depth=True,
                                                color_spec=htcodec.ColorSpec.UNCHANGED))
    arr = numpy.asarray(img.cpu())                    # (H, W, C), no copy

Batches return a list with None where an item failed; ``dec.last_errors`` then
holds, per item, None or the htcodec.Error a single call would have raised.
"""
from ._htcodec import (  # noqa: F401
    Error, Decoder as _Decoder, CodeStream, Region, DecodeSource, DecodeParams, Image,
    ColorSpec, ImageBufferKind, BackendKind, cuda_device_count, features, strerror,
    library_version,
)
from . import _htcodec

__version__ = library_version
__all__ = [
    "Error", "Decoder", "CodeStream", "Region", "DecodeSource", "DecodeParams", "Image",
    "ColorSpec", "ImageBufferKind", "BackendKind", "Backend", "cuda_device_count", "features",
]

for _name in dir(_htcodec):
    if _name.startswith("HTC_"):
        globals()[_name] = getattr(_htcodec, _name)


class Backend:
    """Backend(backend_kind=BackendKind.GPU_ONLY, load_hint=1.0), as nvImageCodec has it."""

    def __init__(self, backend_kind=BackendKind.GPU_ONLY, load_hint=1.0, load_hint_policy=None):
        self.backend_kind = BackendKind(backend_kind)
        self.load_hint = float(load_hint)
        self.load_hint_policy = load_hint_policy

    def __repr__(self):
        return f"Backend(backend_kind={self.backend_kind!s}, load_hint={self.load_hint})"


def _progress(total, enabled):
    """A progress callback: tqdm when installed, else a plain bar on stderr."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm  # type: ignore
        bar = tqdm(total=total, unit="img")
        return bar.update, bar.close
    except Exception:  # pragma: no cover - tqdm is optional
        import sys
        done = [0]

        def update(n):
            done[0] += n
            frac = done[0] / max(total, 1)
            sys.stderr.write("\r[%-40s] %d/%d" % ("#" * int(40 * frac), done[0], total))
            sys.stderr.flush()

        def close():
            sys.stderr.write("\n")

        return update, close


class Decoder(_Decoder):
    """Decoder(device_id=-1, max_num_cpu_threads=0, backends=None, options='').

    read(path | [paths], params=None, progress=False, chunk_size=256) and
    decode(src | [srcs], params=None, progress=False, chunk_size=256): lists are
    decoded in chunks of chunk_size (the libhtc batch size); progress=True shows a
    progress bar (tqdm when installed). last_errors covers the whole list of this
    thread's last list call.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        import threading
        self._local = threading.local()

    def _chunked(self, method, srcs, params, progress, chunk_size, **kw):
        if not isinstance(srcs, (list, tuple)) or (not progress and len(srcs) <= chunk_size):
            return method(srcs, params, **kw)
        chunk_size = max(1, int(chunk_size))
        bar = _progress(len(srcs), progress)
        out, errors = [], []
        try:
            for i in range(0, len(srcs), chunk_size):
                part = list(srcs[i:i + chunk_size])
                out.extend(method(part, params, **kw))
                errors.extend(_Decoder.last_errors.__get__(self))
                if bar:
                    bar[0](len(part))
        finally:
            if bar:
                bar[1]()
        self._local.errors = errors
        return out

    def read(self, path, params=None, cuda_stream=0, progress=False, chunk_size=256):
        self._local.errors = None
        return self._chunked(super().read, path, params, progress, chunk_size, cuda_stream=cuda_stream)

    def decode(self, src, params=None, cuda_stream=0, progress=False, chunk_size=256):
        self._local.errors = None
        return self._chunked(super().decode, src, params, progress, chunk_size, cuda_stream=cuda_stream)

    @property
    def last_errors(self):
        errs = getattr(self._local, "errors", None)
        return list(errs) if errs is not None else _Decoder.last_errors.__get__(self)
