"""Writes pillow_luma.txt: RGB colours and the gray byte Pillow's Image.convert("L") gives each.

Run once with Pillow installed (made with Pillow 13.0.0 and NumPy): python3 make_pillow_luma.py
The colours are the hard cases (where rounding 0.299 R + 0.587 G + 0.114 B in decimal, or in
float32, gives another byte than Pillow) and a seeded random sample; every colour of the 2^24 was
compared when this file was made, and Pillow equalled (19595 R + 38470 G + 7471 B + 32768) >> 16
on all of them.
"""
import numpy as np
import PIL
from PIL import Image

v = np.arange(1 << 24, dtype=np.uint32)
r, g, b = ((v >> 16) & 255).astype(np.int64), ((v >> 8) & 255).astype(np.int64), (v & 255).astype(np.int64)
rgb = np.stack([r, g, b], -1).astype(np.uint8).reshape(4096, 4096, 3)
pillow = np.asarray(Image.fromarray(rgb).convert("L")).reshape(-1).astype(np.int64)

fixed = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16
assert (fixed == pillow).all(), "Pillow's convert('L') is not the 16-bit fixed-point formula"
decimal = (r * 299 + g * 587 + b * 114 + 500) // 1000
single = np.floor(np.float32(0.299) * r.astype(np.float32) + np.float32(0.587) * g.astype(np.float32)
                  + np.float32(0.114) * b.astype(np.float32) + np.float32(0.5))

rng = np.random.default_rng(601)
chosen = np.concatenate([
    rng.choice(np.flatnonzero(decimal != pillow), 300, replace=False),
    rng.choice(np.flatnonzero(single != pillow), 300, replace=False),
    rng.choice(v.size, 400, replace=False),
    np.array([0, (1 << 24) - 1, 255 << 16, 255 << 8, 255]),
])
with open("pillow_luma.txt", "w") as out:
    out.write(f"# loupe luma fixture v1: R G B and Pillow {PIL.__version__}'s convert('L') byte\n")
    for index in chosen:
        out.write(f"{r[index]} {g[index]} {b[index]} {pillow[index]}\n")
