"""CT slices as DICOM Part 10 files with encapsulated (HTJ2K) pixel data, for
the main job: the attributes of one slice, written by pydicom 3 or by a small
writer of our own (explicit VR little endian, Basic Offset Table, one
fragment), so the main job runs without pydicom too. Both give the same
attributes (main_job.py --quick checks it when pydicom is present).

UIDs are 2.25 UUID-derived (uuid5 of names), so a series is reproducible.
"""
import struct
import uuid

TS_HTJ2K_LOSSLESS_RPCL = "1.2.840.10008.1.2.4.202"
TS_EXPLICIT_LE = "1.2.840.10008.1.2.1"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
_NS = uuid.UUID("6f0c7b8e-3b1a-4d55-9a51-7c2f6a1e0c01")
LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"}


def uid(*names):
    return "2.25.%d" % uuid.uuid5(_NS, "/".join(str(n) for n in names)).int


class Series:
    """Geometry and identity of an axial series: slice k (0 = feet) sits at
    z = z0 + k * thickness; instance 1 is the top slice, as scanners number them."""

    def __init__(self, width, height, slices, spacing, thickness, window, unsigned, name="htcodec-main-job"):
        self.w, self.h, self.n = width, height, slices
        self.spacing, self.thick, self.window, self.unsigned = spacing, thickness, window, unsigned
        key = (name, width, height, slices)
        self.study, self.series, self.frame = uid(*key, "study"), uid(*key, "series"), uid(*key, "frame")
        self.impl = uid(name, "implementation")
        self.key = key
        self.z0 = -thickness * (slices - 1)

    def instance(self, k):
        return self.n - k

    def sop(self, k):
        return uid(*self.key, "instance", self.instance(k))

    def meta(self, k):
        """File meta (group 0002) less the group length: (tag, VR, value)."""
        return [
            (0x00020001, "OB", b"\x00\x01"),
            (0x00020002, "UI", CT_IMAGE_STORAGE),
            (0x00020003, "UI", self.sop(k)),
            (0x00020010, "UI", TS_HTJ2K_LOSSLESS_RPCL),
            (0x00020012, "UI", self.impl),
            (0x00020013, "SH", "HTCODEC_MAINJOB"),
        ]

    def attributes(self, k):
        """The data set less Pixel Data: (tag, VR, value), value a str, a list of str, or an int."""
        x0 = -self.spacing * (self.w - 1) / 2.0
        y0 = -self.spacing * (self.h - 1) / 2.0
        z = self.z0 + k * self.thick
        sp = "%.6g" % self.spacing
        return [
            (0x00080005, "CS", "ISO_IR 100"),
            (0x00080008, "CS", ["ORIGINAL", "PRIMARY", "AXIAL"]),
            (0x00080016, "UI", CT_IMAGE_STORAGE),
            (0x00080018, "UI", self.sop(k)),
            (0x00080020, "DA", "20260101"),
            (0x00080021, "DA", "20260101"),
            (0x00080023, "DA", "20260101"),
            (0x00080030, "TM", "120000"),
            (0x00080031, "TM", "120000"),
            (0x00080033, "TM", "120000"),
            (0x00080050, "SH", "HTC0001"),
            (0x00080060, "CS", "CT"),
            (0x00080070, "LO", "htcodec"),
            (0x00081030, "LO", "htcodec main job phantom"),
            (0x0008103E, "LO", "Phantom, HTJ2K Lossless RPCL"),
            (0x00100010, "PN", "Phantom^HTJ2K"),
            (0x00100020, "LO", "HTC-PHANTOM-1"),
            (0x00100030, "DA", ""),
            (0x00100040, "CS", "O"),
            (0x00180015, "CS", "CHEST"),
            (0x00180050, "DS", "%g" % self.thick),
            (0x00180060, "DS", "120"),
            (0x00185100, "CS", "HFS"),
            (0x0020000D, "UI", self.study),
            (0x0020000E, "UI", self.series),
            (0x00200010, "SH", "1"),
            (0x00200011, "IS", "1"),
            (0x00200013, "IS", str(self.instance(k))),
            (0x00200032, "DS", ["%.4f" % x0, "%.4f" % y0, "%.4f" % z]),
            (0x00200037, "DS", ["1", "0", "0", "0", "1", "0"]),
            (0x00200052, "UI", self.frame),
            (0x00201040, "LO", ""),
            (0x00201041, "DS", "%.4f" % z),
            (0x00280002, "US", 1),
            (0x00280004, "CS", "MONOCHROME2"),
            (0x00280010, "US", self.h),
            (0x00280011, "US", self.w),
            (0x00280030, "DS", [sp, sp]),
            (0x00280100, "US", 16),
            (0x00280101, "US", 16),
            (0x00280102, "US", 15),
            (0x00280103, "US", 0 if self.unsigned else 1),
            (0x00281050, "DS", str(self.window[0])),
            (0x00281051, "DS", str(self.window[1])),
            (0x00281052, "DS", "-1024" if self.unsigned else "0"),
            (0x00281053, "DS", "1"),
            (0x00281054, "LO", "HU"),
            (0x00282110, "CS", "00"),
        ]


def _value_bytes(vr, value):
    if vr in ("US", "SS"):
        return struct.pack("<H" if vr == "US" else "<h", value)
    if isinstance(value, bytes):
        raw = value
    else:
        raw = ("\\".join(value) if isinstance(value, list) else value).encode("ascii")
    if len(raw) % 2:
        raw += b"\x00" if vr in ("UI", "OB") else b" "
    return raw


def _element(tag, vr, value):
    v = _value_bytes(vr, value)
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr.encode("ascii")
    if vr in LONG_VRS:
        return head + struct.pack("<HI", 0, len(v)) + v
    if len(v) > 0xFFFF:
        raise ValueError("value of (%04X,%04X) too long for %s" % (tag >> 16, tag & 0xFFFF, vr))
    return head + struct.pack("<H", len(v)) + v


def encapsulated(fragment):
    """Pixel Data (7FE0,0010) OB of undefined length: a Basic Offset Table
    item with the one frame's offset (0), the fragment item (padded to even
    length), the sequence delimiter."""
    if len(fragment) % 2:
        fragment += b"\x00"
    item = lambda data: struct.pack("<HHI", 0xFFFE, 0xE000, len(data)) + data  # noqa: E731
    return (struct.pack("<HH", 0x7FE0, 0x0010) + b"OB" + struct.pack("<HI", 0, 0xFFFFFFFF)
            + item(struct.pack("<I", 0)) + item(fragment) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))


def write_own(path, series, k, j2c):
    meta = b"".join(_element(t, vr, v) for t, vr, v in series.meta(k))
    body = b"".join(_element(t, vr, v) for t, vr, v in sorted(series.attributes(k)))
    with open(path, "wb") as f:
        f.write(b"\x00" * 128 + b"DICM")
        # (0002,0000) File Meta Information Group Length
        f.write(struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, len(meta)))
        f.write(meta)
        f.write(body)
        f.write(encapsulated(j2c))


def write_pydicom(path, series, k, j2c):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate

    meta = FileMetaDataset()
    for t, vr, v in series.meta(k):
        meta.add_new(t, vr, v)
    ds = Dataset()
    ds.file_meta = meta
    for t, vr, v in series.attributes(k):
        ds.add_new(t, vr, v)
    ds.PixelData = encapsulate([j2c], has_bot=True)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.save_as(path, enforce_file_format=True)
