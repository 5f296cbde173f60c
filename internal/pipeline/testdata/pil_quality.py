#!/usr/bin/python3
"""Prints the PSNR to REF.png of dream's FILE and of PIL's encoding of REF.png in FILE's
format (JPEG or WebP) at QUALITY, both decoded by PIL, as one JSON line: the reference an
encoder of that quality should match.

    pil_quality.py REF.png FILE QUALITY
"""
import io
import json
import sys

import numpy
from PIL import Image


def psnr(a, b):
    mse = numpy.mean((numpy.asarray(a, dtype=numpy.float64) - numpy.asarray(b, dtype=numpy.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * numpy.log10(255 * 255 / mse)


ref_path, path, quality = sys.argv[1], sys.argv[2], int(sys.argv[3])
ref = Image.open(ref_path).convert("RGB")
ours = Image.open(path)
buf = io.BytesIO()
ref.save(buf, format=ours.format, quality=quality)
theirs = Image.open(buf)
print(json.dumps({"format": ours.format, "ours_psnr": psnr(ours.convert("RGB"), ref),
                  "pil_psnr": psnr(theirs.convert("RGB"), ref), "ours_bytes": len(open(path, "rb").read()),
                  "pil_bytes": buf.getbuffer().nbytes}))
