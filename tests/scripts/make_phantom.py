#!/usr/bin/env python3
"""A CT-like 3D phantom in Hounsfield units (int16, signed): a body of soft
tissue under a layer of fat, lungs in the upper slices, heart and aorta with
contrast, liver with a lesion in the lower slices, spine and ribs, the
patient table, and Gaussian noise. Made with numpy, one slice at a time from
2D quadratic forms computed once, so 120 slices of 512x512 take a few
seconds.

As a module: phantom_volume(width, height, slices, seed) -> array [z][y][x],
index z from the feet (z = 0, abdomen) to the head (chest).
As a command: make_phantom.py OUT.raw WIDTH HEIGHT [SLICES] writes the
volume as little-endian int16 (slowest axis z); OUT.pgm writes the middle
slice as a 16-bit PGM of HU + 1024 (the old behaviour).
"""
import sys

import numpy as np

AIR = -1000

# Cylinders along z: (cx, cy, rx, ry, HU), drawn in order (later wins).
# Coordinates are in [-1, 1] across the image, y down (anterior at the top).
CYLINDERS = [
    (0.0, 0.05, 0.80, 0.60, -100),   # body outline: subcutaneous fat
    (0.0, 0.05, 0.74, 0.54, 40),     # soft tissue
    (0.0, 0.45, 0.10, 0.09, 700),    # vertebral body (cortical bone)
    (0.0, 0.45, 0.07, 0.06, 250),    # marrow
    (0.0, 0.58, 0.03, 0.06, 700),    # spinous process
    (0.0, 0.43, 0.02, 0.02, 20),     # spinal canal
    (0.12, 0.30, 0.045, 0.045, 200), # descending aorta (contrast)
]

# Ellipsoids: (cx, cy, cz, rx, ry, rz, HU); cz in [-1, 1] from feet to head.
ELLIPSOIDS = [
    (-0.33, 0.02, 0.55, 0.27, 0.40, 0.65, -850),  # right lung (image left)
    (0.33, 0.02, 0.55, 0.25, 0.40, 0.65, -850),   # left lung
    (0.06, -0.05, 0.35, 0.22, 0.20, 0.32, 50),    # heart: myocardium
    (0.06, -0.05, 0.35, 0.16, 0.14, 0.25, 180),   # blood pool with contrast
    (-0.28, 0.05, -0.55, 0.40, 0.34, 0.45, 60),   # liver
    (-0.35, 0.00, -0.60, 0.06, 0.06, 0.06, 100),  # enhancing liver lesion
    (0.35, 0.10, -0.55, 0.14, 0.18, 0.30, 30),    # spleen / bowel
    (0.30, 0.35, -0.65, 0.08, 0.10, 0.15, 160),   # left kidney (enhancing)
    (-0.30, 0.35, -0.65, 0.08, 0.10, 0.15, 160),  # right kidney
    (0.38, -0.12, 0.70, 0.035, 0.035, 0.05, 30),  # small nodule in the left lung
]

RIB_ANGLES = [0.35, 0.75, 1.15, 1.55, 1.95, 2.35, 2.75]


def _grid(width, height):
    u = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    v = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    return u, v


def _q(u, v, cx, cy, rx, ry):
    return ((u - cx) / rx) ** 2 + ((v - cy) / ry) ** 2


def phantom_volume(width=512, height=512, slices=120, seed=2024, noise=10.0):
    u, v = _grid(width, height)
    cyl = [(_q(u, v, cx, cy, rx, ry) <= 1.0, hu) for cx, cy, rx, ry, hu in CYLINDERS]
    ell = [(_q(u, v, cx, cy, rx, ry), cz, rz, hu) for cx, cy, cz, rx, ry, rz, hu in ELLIPSOIDS]
    # ribs: small bone ellipses inside the fat layer, on both sides
    ribs = []
    for a in RIB_ANGLES:
        for side in (-1.0, 1.0):
            cx = side * 0.70 * np.sin(a)
            cy = 0.05 - 0.50 * np.cos(a)
            ribs.append(_q(u, v, cx, cy, 0.035, 0.025) <= 1.0)
    table = (v >= 0.80) & (v <= 0.84) & (np.abs(u) <= 0.85)
    body = cyl[0][0]
    rng = np.random.default_rng(seed)
    vol = np.empty((slices, height, width), dtype=np.int16)
    base = np.empty((height, width), dtype=np.float32)
    for k in range(slices):
        w = -1.0 + 2.0 * k / max(slices - 1, 1)
        base.fill(AIR)
        base[table] = 300
        for mask, hu in cyl:
            base[mask] = hu
        for q, cz, rz, hu in ell:
            s = 1.0 - ((w - cz) / rz) ** 2
            if s > 0:
                base[q <= s] = hu
        if w > -0.2:  # ribs in the chest, a rib every few slices
            phase = int((w + 1.0) * 40) % 3
            if phase != 2:
                for m in ribs:
                    base[m] = 800
        sl = base + rng.standard_normal((height, width), dtype=np.float32) * noise
        sl[~body & ~table] = AIR + np.round(sl[~body & ~table] - AIR) * 0.3  # quieter air
        np.clip(np.rint(sl), -1024, 3071, out=sl)
        vol[k] = sl.astype(np.int16)
    return vol


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    vol = phantom_volume(w, h, n)
    if path.endswith(".pgm"):
        img = (vol[n // 2].astype(np.int32) + 1024).clip(0, 65535).astype(">u2")
        with open(path, "wb") as f:
            f.write(b"P5\n%d %d\n65535\n" % (w, h))
            f.write(img.tobytes())
    else:
        vol.astype("<i2").tofile(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
