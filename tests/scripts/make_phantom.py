#!/usr/bin/env python3
"""Writes a CT-like 16-bit phantom (ellipses of different densities plus
noise) as a binary PGM: make_phantom.py OUT.pgm WIDTH HEIGHT [SLICE]."""
import math
import random
import struct
import sys


def phantom(w, h, z=0.0):
    rnd = random.Random(1234 + int(z * 1000))
    ellipses = [  # cx, cy, rx, ry, value (HU + 1024)
        (0.0, 0.0, 0.69, 0.92, 1024 + 40),
        (0.0, -0.02, 0.66, 0.87, 1024 - 60),
        (0.22, 0.0, 0.11, 0.31, 1024 + 300),
        (-0.22, 0.0, 0.16, 0.41, 1024 + 300),
        (0.0, 0.35, 0.21, 0.25, 1024 + 80),
        (0.0, 0.1, 0.046, 0.046, 1024 + 900),
        (0.0, -0.6, 0.023, 0.046 * (1.0 - abs(z)), 1024 + 1500),
    ]
    out = bytearray()
    for y in range(h):
        v = (2.0 * y / (h - 1)) - 1.0
        for x in range(w):
            u = (2.0 * x / (w - 1)) - 1.0
            val = 0
            for cx, cy, rx, ry, d in ellipses:
                if ((u - cx) / rx) ** 2 + ((v - cy) / ry) ** 2 <= 1.0:
                    val = d
            if val:
                val += int(rnd.gauss(0, 8))
            val = max(0, min(65535, val))
            out += struct.pack(">H", val)
    return bytes(out)


def main():
    path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    z = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n65535\n" % (w, h))
        f.write(phantom(w, h, z))


if __name__ == "__main__":
    main()
