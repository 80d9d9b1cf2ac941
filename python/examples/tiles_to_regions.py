"""Cuts a tiled JPEG 2000 file into one Region per tile and decodes sixteen
DecodeSources in one `decode` call.

Written for nvImageCodec; runs on htcodec with only the import changed:
    from nvidia import nvimgcodec   ->   import htcodec as nvimgcodec

    python3 tiles_to_regions.py [TILED.jp2] [OUT.png]
"""
import os
import sys

import numpy as np

import htcodec as nvimgcodec

HERE = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "testdata", "generated",
                                                          "wsi", "wsi_8192x8192_rgb_j2k_lossy.jp2")
out_png = sys.argv[2] if len(sys.argv) > 2 else None

code_stream = nvimgcodec.CodeStream(path)
print(f"{os.path.basename(path)}: {code_stream.width}x{code_stream.height}, {code_stream.num_channels} channels, "
      f"{code_stream.num_tiles_x}x{code_stream.num_tiles_y} tiles of {code_stream.tile_width}x{code_stream.tile_height}")

regions = []
for ty in range(code_stream.num_tiles_y):
    for tx in range(code_stream.num_tiles_x):
        y0 = max(code_stream.tile_offset_y + ty * code_stream.tile_height, 0)
        x0 = max(code_stream.tile_offset_x + tx * code_stream.tile_width, 0)
        y1 = min(code_stream.tile_offset_y + (ty + 1) * code_stream.tile_height, code_stream.height)
        x1 = min(code_stream.tile_offset_x + (tx + 1) * code_stream.tile_width, code_stream.width)
        regions.append(nvimgcodec.Region(y0, x0, y1, x1))

regions = regions[:16]
if hasattr(nvimgcodec, "DecodeSource"):  # nvImageCodec up to 0.5 (and htcodec)
    sources = [nvimgcodec.DecodeSource(code_stream, region) for region in regions]
else:  # nvImageCodec 0.6 and later: sub code streams
    sources = [code_stream.get_sub_code_stream(region=region) for region in regions]
decoder = nvimgcodec.Decoder()
images = decoder.decode(sources)

for region, img in zip(regions, images):
    a = np.asarray(img.cpu())
    print(f"Region(start={tuple(region.start)} end={tuple(region.end)}): shape={img.shape} dtype={img.dtype} "
          f"mean={a.mean():.2f}")

try:
    import matplotlib
    if out_png or not os.environ.get("DISPLAY"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: nothing shown")
    sys.exit(0)

fig, axes = plt.subplots(4, 4, figsize=(12, 12))
for ax, img, region in zip(axes.flat, images, regions):
    ax.imshow(np.asarray(img.cpu()))
    ax.set_title(f"{tuple(region.start)}", fontsize=8)
    ax.axis("off")
if out_png or not os.environ.get("DISPLAY"):
    fig.savefig(out_png or "tiles_to_regions.png")
else:
    plt.show()
