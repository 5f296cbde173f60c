#!/usr/bin/python3
"""Prints, one JSON line per image named, what AUTOMATIC1111's readers see in it.

"parameters" is read as modules/images.py read_info_from_image reads it: PIL's info
"parameters" text (PNG), replaced by EXIF's UserComment when there is one, decoded by
piexif.helper.UserComment.load, or as UTF-8 when that refuses it. The other fields are what
PIL and piexif make of the file: format, size, mode, the ICC profile's sha256, and the EXIF
tags the tests check. Run with /usr/bin/python3 (PIL, and Debian's python3-piexif).
"""
import hashlib
import json
import sys

import piexif
import piexif.helper
from PIL import Image


def read_parameters(image):
    items = (image.info or {}).copy()
    geninfo = items.pop("parameters", None)
    if "exif" in items:
        try:
            exif = piexif.load(items["exif"])
        except OSError:
            exif = None
        comment = (exif or {}).get("Exif", {}).get(piexif.ExifIFD.UserComment, b"")
        try:
            comment = piexif.helper.UserComment.load(comment)
        except ValueError:
            comment = comment.decode("utf8", errors="ignore")
        if comment:
            geninfo = comment
    return geninfo


def text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else value


def describe(path):
    image = Image.open(path)
    image.load()  # decodes every pixel: a damaged file fails here
    out = {"format": image.format, "size": list(image.size), "mode": image.mode,
           "parameters": read_parameters(image)}
    if image.info.get("icc_profile"):
        out["icc_sha256"] = hashlib.sha256(image.info["icc_profile"]).hexdigest()
    if "exif" in image.info:
        exif = piexif.load(image.info["exif"])
        out["orientation"] = exif["0th"].get(piexif.ImageIFD.Orientation)
        out["make"] = text(exif["0th"].get(piexif.ImageIFD.Make))
        out["datetime_original"] = text(exif["Exif"].get(piexif.ExifIFD.DateTimeOriginal))
    return out


for name in sys.argv[1:]:
    print(json.dumps(describe(name)))
