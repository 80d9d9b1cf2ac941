"""DICOM files and series through htcodec.

    img = htcodec.dicom.read("frame.dcm")          # .frames (F, rows, columns[, samples]), .metadata
    s = htcodec.dicom.load_series("ct_folder/")    # .volume (slices, rows, columns), .affine, .spacing
    s = htcodec.dicom.load_series("ct_folder/", device="cuda")   # .volume a torch (or CuPy) GPU array

Conventions (those of SimpleITK / ITK): ``volume`` is indexed [k, j, i] = [slice,
row, column]; ``spacing`` is (column spacing, row spacing, slice spacing) in mm;
``affine`` maps the index (i, j, k, 1) to RAS millimetres (``affine_lps`` to DICOM's
LPS). Samples are the stored values (``apply_rescale=True`` gives float32 modality
values, slope * stored + intercept).

Files are read by the DICOM layer of libhtc when this build has it
(``htcodec.dicom.BACKEND == "htc"``), else by pydicom with htcodec decoding the
JPEG 2000 / HTJ2K frames (``"pydicom"``). NumPy is needed for arrays.
"""
import os
from concurrent.futures import ThreadPoolExecutor

from . import _htcodec

BACKEND = "htc" if hasattr(_htcodec, "DicomFile") else "pydicom"

_META_TAGS = {
    "PatientID": (0x0010, 0x0020), "PatientName": (0x0010, 0x0010), "Modality": (0x0008, 0x0060),
    "StudyInstanceUID": (0x0020, 0x000D), "SeriesInstanceUID": (0x0020, 0x000E),
    "SOPInstanceUID": (0x0008, 0x0018), "SOPClassUID": (0x0008, 0x0016), "InstanceNumber": (0x0020, 0x0013),
    "SliceThickness": (0x0018, 0x0050), "WindowCenter": (0x0028, 0x1050), "WindowWidth": (0x0028, 0x1051),
    "SeriesDescription": (0x0008, 0x103E), "StudyDate": (0x0008, 0x0020),
}


class DicomImage:
    """One DICOM file: ``frames`` (numpy, (F, rows, columns) or (F, rows, columns, samples)),
    ``images`` (htcodec.Image per frame, host), ``metadata`` (dict), ``planes`` (geometry per frame)."""

    def __init__(self, frames, images, metadata, planes):
        self.frames = frames
        self.images = images
        self.metadata = metadata
        self.planes = planes

    def __repr__(self):
        return f"DicomImage(frames={tuple(self.frames.shape)}, dtype={self.frames.dtype})"


class Series:
    """A sorted series: ``volume`` [slice, row, column], ``affine`` (RAS), ``affine_lps``, ``spacing``
    (column, row, slice) mm, ``metadata`` (the first slice's, plus ``files`` in volume order)."""

    def __init__(self, volume, affine, affine_lps, spacing, metadata):
        self.volume = volume
        self.affine = affine
        self.affine_lps = affine_lps
        self.spacing = spacing
        self.metadata = metadata

    def __iter__(self):  # volume, affine, spacing, metadata = load_series(...)
        return iter((self.volume, self.affine, self.spacing, self.metadata))

    def __repr__(self):
        return f"Series(volume={tuple(self.volume.shape)}, spacing={self.spacing})"


# ---- the two readers: the same small interface -------------------------------------------

class _HtcFile:
    def __init__(self, path):
        self.f = _htcodec.DicomFile(os.fspath(path) if not isinstance(path, (bytes, bytearray, memoryview))
                                    else path)
        self.image = self.f.image()

    def frame(self, k, apply_rescale):
        img, facts = self.f.decode_frame(k, apply_rescale)
        return img, facts

    def plane(self, k):
        return self.f.plane(k)

    def tag(self, name):
        g, e = _META_TAGS[name]
        return self.f.tag(g, e)


class _PydicomFile:
    def __init__(self, path):
        try:
            import pydicom
        except ImportError as e:  # pragma: no cover
            raise ImportError("htcodec.dicom needs pydicom when libhtc's DICOM layer is not built") from e
        src = path
        if isinstance(path, (bytes, bytearray, memoryview)):
            import io
            src = io.BytesIO(bytes(path))
        self.ds = pydicom.dcmread(src)
        ds = self.ds
        ts = str(ds.file_meta.TransferSyntaxUID)
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
        self.image = {
            "transfer_syntax": ts, "rows": int(ds.Rows), "columns": int(ds.Columns), "frames": frames,
            "samples_per_pixel": int(getattr(ds, "SamplesPerPixel", 1)),
            "bits_allocated": int(ds.BitsAllocated), "bits_stored": int(getattr(ds, "BitsStored", ds.BitsAllocated)),
            "pixel_representation": int(getattr(ds, "PixelRepresentation", 0)),
            "photometric": str(getattr(ds, "PhotometricInterpretation", "")),
            "has_rescale": "RescaleSlope" in ds or "RescaleIntercept" in ds,
            "rescale_slope": float(getattr(ds, "RescaleSlope", 1.0)),
            "rescale_intercept": float(getattr(ds, "RescaleIntercept", 0.0)),
            "encapsulated": ds.file_meta.TransferSyntaxUID.is_compressed,
        }
        self._j2k = ts.startswith("1.2.840.10008.1.2.4.9") or ts.startswith("1.2.840.10008.1.2.4.20")

    def frame(self, k, apply_rescale):
        import numpy as np
        from . import BackendKind, ColorSpec, Decoder, DecodeParams
        if self._j2k:
            from pydicom.encaps import generate_frames
            data = list(generate_frames(self.ds.PixelData, number_of_frames=self.image["frames"]))[k]
            img = Decoder(backends=[BackendKind.CPU_ONLY]).decode(data, DecodeParams(allow_any_depth=True,
                                                                   color_spec=ColorSpec.UNCHANGED))
            arr = np.asarray(img)
        else:
            arr = self.ds.pixel_array
            if self.image["frames"] > 1:
                arr = arr[k]
            if arr.ndim == 2:
                arr = arr[..., None]
            img = arr
        if apply_rescale:
            arr = arr.astype(np.float32) * self.image["rescale_slope"] + self.image["rescale_intercept"]
            img = arr
        return img, {"photometric": self.image["photometric"]}

    def plane(self, k):
        ds = self.ds
        get = lambda name: tuple(float(v) for v in getattr(ds, name)) if name in ds else None  # noqa: E731
        return {"position": get("ImagePositionPatient"), "orientation": get("ImageOrientationPatient"),
                "spacing": get("PixelSpacing")}

    def tag(self, name):
        v = self.ds.get(name)
        return None if v is None else str(v.value if hasattr(v, "value") else v)


def _open(path):
    return _HtcFile(path) if BACKEND == "htc" else _PydicomFile(path)


def _metadata(f):
    meta = dict(f.image)
    for name in _META_TAGS:
        v = f.tag(name)
        if v is not None:
            meta[name] = v
    return meta


def read(path, apply_rescale=False):
    """Reads every frame of a DICOM file: a DicomImage (frames as numpy, metadata, planes)."""
    import numpy as np
    f = _open(path)
    n = int(f.image["frames"])
    images, arrays, planes = [], [], []
    for k in range(n):
        img, facts = f.frame(k, apply_rescale)
        images.append(img)
        a = np.asarray(img)
        arrays.append(a[..., 0] if a.shape[-1] == 1 else a)
        try:
            planes.append(f.plane(k))
        except Exception:  # geometry is optional (secondary captures, ultrasound ...)
            planes.append(None)
    meta = _metadata(f)
    meta["photometric_decoded"] = facts.get("photometric", meta.get("photometric")) if n else None
    return DicomImage(np.stack(arrays) if arrays else np.zeros((0,)), images, meta, planes)


def _geometry(planes):
    """Sorts slices along the normal; returns (order, affine_lps, spacing (col, row, slice))."""
    import numpy as np
    iop = np.array(planes[0]["orientation"], dtype=np.float64)
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    pos = np.array([p["position"] for p in planes], dtype=np.float64)
    dist = pos @ normal
    order = np.argsort(dist, kind="stable")
    d = np.diff(dist[order])
    if len(d) and np.any(np.abs(d) < 1e-6):
        raise ValueError("load_series: two slices share one position")
    ps = planes[0]["spacing"] or (1.0, 1.0)
    row_sp, col_sp = float(ps[0]), float(ps[1])
    if len(order) > 1:
        step = (pos[order[-1]] - pos[order[0]]) / (len(order) - 1)
        slice_sp = float(np.mean(d))
    else:
        step = normal * 1.0
        slice_sp = 1.0
    aff = np.eye(4)
    aff[:3, 0] = row * col_sp  # i: along the row, one column at a time
    aff[:3, 1] = col * row_sp  # j: down the column, one row at a time
    aff[:3, 2] = step          # k: slice to slice
    aff[:3, 3] = pos[order[0]]
    return order, aff, (col_sp, row_sp, slice_sp)


def _to_device(arr, device):
    if device is None or str(device) == "cpu":
        return arr
    try:
        import torch
        return torch.as_tensor(arr).to(device)
    except ImportError:
        import cupy
        dev = str(device)
        with cupy.cuda.Device(int(dev.split(":")[1]) if ":" in dev else 0):
            return cupy.asarray(arr)


def load_series(folder, device=None, apply_rescale=False, max_workers=None, files=None):
    """Loads a DICOM series (one slice per file, or one multi-frame file) as one volume.

    folder: a directory (every DICOM file in it; files that are not DICOM are skipped) or
    files=[paths]. device: None / "cpu" (numpy), or "cuda[:N]" (a torch tensor, else CuPy).
    Frames are decoded by several threads at once (the GIL is released while decoding).
    """
    import numpy as np
    if files is None:
        files = sorted(os.path.join(folder, n) for n in os.listdir(folder)
                       if os.path.isfile(os.path.join(folder, n)))
    handles = []
    for p in files:
        try:
            handles.append((p, _open(p)))
        except Exception:
            continue  # not DICOM (DICOMDIR with no pixels, notes ...)
    handles = [(p, f) for p, f in handles if "rows" in f.image]
    if not handles:
        raise FileNotFoundError(f"load_series: no DICOM images in {folder}")
    jobs = [(p, f, k) for p, f in handles for k in range(int(f.image["frames"]))]
    planes = [f.plane(k) for _, f, k in jobs]
    if any(pl is None or pl.get("position") is None or pl.get("orientation") is None for pl in planes):
        order = np.arange(len(jobs))
        aff = np.eye(4)
        spacing = (1.0, 1.0, 1.0)
    else:
        order, aff, spacing = _geometry(planes)

    def work(j):
        _, f, k = jobs[j]
        a = np.asarray(f.frame(k, apply_rescale)[0])
        return a[..., 0] if a.shape[-1] == 1 else a

    workers = max_workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as ex:
        slices = list(ex.map(work, [int(j) for j in order]))
    volume = np.stack(slices)
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ aff
    meta = _metadata(handles[0][1])
    meta["files"] = [jobs[int(j)][0] for j in order]
    meta["space"] = "RAS"
    return Series(_to_device(volume, device), ras, aff, spacing, meta)
