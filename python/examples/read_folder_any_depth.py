"""Reads a folder of 16-bit HTJ2K files in one `read` call, at their own depth.

Written for nvImageCodec; runs on htcodec with only the import changed:
    from nvidia import nvimgcodec   ->   import htcodec as nvimgcodec

    python3 read_folder_any_depth.py [FOLDER] [OUT.png]
"""
import os
import sys

import numpy as np

import htcodec as nvimgcodec

HERE = os.path.dirname(os.path.abspath(__file__))
folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "testdata", "htj2k",
                                                            "medical")
out_png = sys.argv[2] if len(sys.argv) > 2 else None
files = sorted(os.path.join(folder, f) for f in os.listdir(folder)
               if f.lower().endswith((".j2c", ".j2k", ".jph", ".jhc", ".jp2")))

decoder = nvimgcodec.Decoder()
params = nvimgcodec.DecodeParams(allow_any_depth=True, color_spec=nvimgcodec.ColorSpec.UNCHANGED)
images = decoder.read(files, params=params)

for path, img in zip(files, images):
    if img is None:
        print(f"{os.path.basename(path)}: could not be decoded")
        continue
    a = np.asarray(img.cpu())
    print(f"{os.path.basename(path)}: shape={img.shape} dtype={img.dtype} precision={img.precision} "
          f"min={a.min()} max={a.max()}")

try:
    import matplotlib
    if out_png or not os.environ.get("DISPLAY"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: nothing shown")
    sys.exit(0)

shown = [(p, i) for p, i in zip(files, images) if i is not None]
cols = min(4, len(shown)) or 1
rows = (len(shown) + cols - 1) // cols
fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 4 * rows), squeeze=False)
for ax in axes.flat:
    ax.axis("off")
for ax, (path, img) in zip(axes.flat, shown):
    ax.imshow(np.asarray(img.cpu())[..., 0], cmap="gray")
    ax.set_title(os.path.basename(path))
if out_png or not os.environ.get("DISPLAY"):
    fig.savefig(out_png or "read_folder_any_depth.png")
else:
    plt.show()
