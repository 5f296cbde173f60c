#!/usr/bin/python3
"""Writes lanczos_pil.json: PIL's Image.resize(LANCZOS) on small test images, the reference
for dream's Lanczos tables (TestLanczosMatchesPIL). Run once with Debian's python3 (PIL 9.4):

    /usr/bin/python3 internal/upscale/testdata/lanczos_pil.py

Each case has a source image, its size and the size to resize to. Mode "F" (one float32
channel) is PIL's resampling in double precision with no rounding between its two passes, so
dream's tables must match it to float precision; mode "RGB" is PIL's 8-bit path, with
fixed-point weights and a rounded intermediate, which dream matches within one step.
"""
import json
import os

import numpy as np
from PIL import Image

CASES = [
    # (source w, h), (destination w, h): enlarging, the same size, shrinking, mixed.
    ((7, 5), (16, 11)),
    ((12, 9), (60, 45)),
    ((7, 5), (7, 5)),
    ((40, 30), (13, 10)),
    ((40, 30), (30, 29)),
    ((64, 48), (16, 12)),
    ((24, 16), (9, 40)),
    ((1, 1), (3, 2)),
    ((3, 2), (1, 1)),
]


def main():
    rng = np.random.default_rng(20240601)
    out = []
    for (w, h), (dw, dh) in CASES:
        grey = rng.random((h, w), dtype=np.float32)
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        f = Image.fromarray(grey, mode="F").resize((dw, dh), Image.LANCZOS)
        c = Image.fromarray(rgb, mode="RGB").resize((dw, dh), Image.LANCZOS)
        out.append({
            "w": w, "h": h, "dw": dw, "dh": dh,
            "float_in": [round(float(v), 7) for v in grey.ravel()],
            "float_out": [round(float(v), 7) for v in np.asarray(f, dtype=np.float32).ravel()],
            "rgb_in": [int(v) for v in rgb.ravel()],
            "rgb_out": [int(v) for v in np.asarray(c, dtype=np.uint8).ravel()],
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lanczos_pil.json")
    with open(path, "w") as fh:
        json.dump({"pil": Image.__version__, "cases": out}, fh, separators=(",", ":"))
        fh.write("\n")


if __name__ == "__main__":
    main()
