"""A MONAI image reader that decodes with htcodec.

    from monai.transforms import LoadImage
    from htcodec.monai import HTCodecReader
    img = LoadImage(reader=HTCodecReader(), image_only=True)("ct_series_folder/")
    img = LoadImage(reader=HTCodecReader(device="cuda"))("slice.j2c")   # decoded data on the GPU

It follows MONAI's ImageReader contract (verify_suffix, read, get_data) for DICOM
series (a folder, or a list of .dcm files), single DICOM files and single JPEG 2000 /
HTJ2K files (.j2k .j2c .jp2 .jph .jhc). As MONAI's ITK reader does, get_data returns
the array with spatial axes in (x, y[, z]) order and channels last, and a metadata
dict with ``affine`` and ``original_affine`` (index -> RAS mm, or LPS with
affine_lps_to_ras=False), ``spatial_shape``, ``spacing``, ``original_channel_dim``
("no_channel", or -1 for multi-channel images) and ``space``.

MONAI is not imported when this module is; HTCodecReader registers itself as a
virtual subclass of monai.data.ImageReader when it is created and MONAI is installed.
"""
import os

J2K_SUFFIXES = (".j2k", ".j2c", ".jp2", ".jph", ".jhc", ".jpf", ".jpx")
DICOM_SUFFIXES = (".dcm", ".dicom")


def _register():
    try:
        from monai.data import ImageReader  # noqa: WPS433 - deliberately lazy
    except Exception:
        return
    if not issubclass(HTCodecReader, ImageReader):
        ImageReader.register(HTCodecReader)


class _Loaded:
    """What read() returns for one input: an array in numpy index order and its geometry."""

    def __init__(self, array, affine_lps, spacing, channels, meta, is_volume):
        self.array = array          # (z, y, x) volume, or (y, x, c) image
        self.affine_lps = affine_lps
        self.spacing = spacing      # (x, y[, z])
        self.channels = channels
        self.meta = meta
        self.is_volume = is_volume


class HTCodecReader:
    """HTCodecReader(device=None, apply_rescale=False, affine_lps_to_ras=True,
    decode_params=None, decoder=None, **kwargs).

    device: None (numpy) or "cuda[:N]": get_data returns a torch tensor on that device.
    apply_rescale: DICOM stored values (False) or float32 modality values (True).
    decode_params: htcodec.DecodeParams for J2K/HTJ2K files (default: every component
    at its own depth, htcodec.ColorSpec.UNCHANGED).
    """

    def __init__(self, device=None, apply_rescale=False, affine_lps_to_ras=True, decode_params=None,
                 decoder=None, channel_dim=None, **kwargs):
        _register()
        self.device = device
        self.apply_rescale = apply_rescale
        self.affine_lps_to_ras = affine_lps_to_ras
        self.decode_params = decode_params
        self.decoder = decoder
        self.channel_dim = channel_dim
        self.kwargs = kwargs

    # ---- the contract
    def verify_suffix(self, filename):
        names = filename if isinstance(filename, (list, tuple)) else [filename]
        for n in names:
            n = os.fspath(n)
            if os.path.isdir(n):
                continue
            if not n.lower().endswith(J2K_SUFFIXES + DICOM_SUFFIXES):
                return False
        return True

    def read(self, data, **kwargs):
        names = [os.fspath(n) for n in (data if isinstance(data, (list, tuple)) else [data])]
        if len(names) > 1 and all(n.lower().endswith(DICOM_SUFFIXES) for n in names):
            return self._series(names[0], files=names)  # one series given file by file
        out = [self._one(n) for n in names]
        return out[0] if len(out) == 1 else out

    def get_data(self, img):
        import numpy as np
        items = img if isinstance(img, (list, tuple)) else [img]
        arrays, metas = [], []
        for it in items:
            a, m = self._monai_view(it)
            arrays.append(a)
            metas.append(m)
        if len(arrays) == 1:
            array, meta = arrays[0], metas[0]
        else:  # several inputs: stacked on a new first (channel) axis, as MONAI's readers do
            array = np.stack(arrays, axis=0)
            meta = dict(metas[0])
            meta["original_channel_dim"] = 0
        if self.device not in (None, "cpu"):
            import torch
            array = torch.as_tensor(array).to(self.device)
        return array, meta

    # ---- helpers
    def _decoder(self):
        if self.decoder is None:
            from . import Decoder, BackendKind
            self.decoder = Decoder(backends=[BackendKind.CPU_ONLY])
        return self.decoder

    def _one(self, name):
        if os.path.isdir(name):
            return self._series(name)
        if name.lower().endswith(DICOM_SUFFIXES):
            return self._dicom_file(name)
        return self._j2k(name)

    def _series(self, folder, files=None):
        import numpy as np
        from . import dicom
        s = dicom.load_series(folder, files=files, apply_rescale=self.apply_rescale)
        vol = np.asarray(s.volume)
        channels = vol.shape[-1] if vol.ndim == 4 else 1
        return _Loaded(vol, s.affine_lps, tuple(s.spacing), channels, s.metadata, True)

    def _dicom_file(self, name):
        import numpy as np
        from . import dicom
        d = dicom.read(name, apply_rescale=self.apply_rescale)
        frames = d.frames
        if frames.shape[0] > 1:  # a multi-frame file: a volume when the frames carry positions
            try:
                return self._series(None, files=[name])
            except Exception:
                pass
        img = frames[0]
        if img.ndim == 2:
            img = img[..., None]
        plane = d.planes[0] if d.planes else None
        aff = np.eye(4)
        spacing = (1.0, 1.0)
        if plane and plane.get("orientation") and plane.get("position"):
            o = np.asarray(plane["orientation"], dtype=np.float64)
            ps = plane.get("spacing") or (1.0, 1.0)
            aff[:3, 0] = o[:3] * ps[1]
            aff[:3, 1] = o[3:] * ps[0]
            aff[:3, 2] = np.cross(o[:3], o[3:])
            aff[:3, 3] = plane["position"]
            spacing = (float(ps[1]), float(ps[0]))
        return _Loaded(img, aff, spacing, img.shape[-1], d.metadata, False)

    def _j2k(self, name):
        import numpy as np
        from . import DecodeParams, ColorSpec
        p = self.decode_params or DecodeParams(allow_any_depth=True, color_spec=ColorSpec.UNCHANGED)
        img = np.asarray(self._decoder().read(name, p))
        return _Loaded(img, np.eye(4), (1.0, 1.0), img.shape[-1], {"filename": name}, False)

    def _monai_view(self, it):
        import numpy as np
        a = it.array
        if it.is_volume:
            # (z, y, x[, c]) -> (x, y, z[, c])
            a = np.transpose(a, (2, 1, 0, 3) if a.ndim == 4 else (2, 1, 0))
            spatial = a.shape[:3]
            aff = it.affine_lps
            spacing = np.asarray(it.spacing, dtype=np.float64)
        else:
            # (y, x, c) -> (x, y, c); a 2-D affine (3x3) as MONAI's readers give for 2-D images
            a = np.transpose(a, (1, 0, 2))
            spatial = a.shape[:2]
            aff3 = it.affine_lps
            aff = np.eye(3)
            aff[:2, :2] = aff3[:2, :2]
            aff[:2, 2] = aff3[:2, 3]
            spacing = np.asarray(it.spacing, dtype=np.float64)
        channel_dim = -1
        if a.shape[-1] == 1 and not it.is_volume or (it.is_volume and a.ndim == 3):
            if not it.is_volume:
                a = a[..., 0]
            channel_dim = "no_channel"
        if self.channel_dim is not None:
            channel_dim = self.channel_dim
        if self.affine_lps_to_ras:
            flip = np.diag([-1.0, -1.0] + [1.0] * (aff.shape[0] - 2))
            aff = flip @ aff
        meta = {k: v for k, v in it.meta.items() if k != "files"}
        meta.update({
            "affine": aff.copy(),
            "original_affine": aff.copy(),
            "spatial_shape": np.asarray(spatial),
            "spacing": spacing,
            "original_channel_dim": channel_dim,
            "space": "RAS" if self.affine_lps_to_ras else "LPS",
        })
        return a, meta
