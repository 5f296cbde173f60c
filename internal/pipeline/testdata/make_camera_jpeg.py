#!/usr/bin/python3
"""Writes camera.jpg: a small photo as a camera stores it, for the output-format tests.

The pixels are ../../../../shared/images/coffee.png at 120x80, stored turned a quarter
counter-clockwise (80x120) with EXIF Orientation 6, so that a reader must turn them back.
The EXIF block is little-endian, as most cameras write it (PIL and piexif write big-endian),
with Make, Model and Orientation in IFD0 and an Exif IFD holding DateTimeOriginal and the
blank ASCII UserComment cameras leave. The ICC profile is astronaut.png's.

Run with /usr/bin/python3 from this folder.
"""
import struct

from PIL import Image

SHARED = "../../../../shared/images/"


def ifd(entries, data_at, next_ifd=0):
    """An IFD of (tag, type, count, value bytes) entries, values over 4 bytes stored from data_at."""
    head, data = struct.pack("<H", len(entries)), b""
    for tag, kind, count, value in sorted(entries):
        if len(value) <= 4:
            head += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            head += struct.pack("<HHII", tag, kind, count, data_at + len(data))
            data += value + b"\0" * (len(value) % 2)
    return head + struct.pack("<I", next_ifd), data


def ascii_value(text):
    return (2, len(text) + 1, text.encode() + b"\0")


def camera_exif():
    ifd0_at = 8
    ifd0_size = 2 + 4 * 12 + 4
    make, model = ascii_value("dream-test camera"), ascii_value("model 1")
    exif_at = ifd0_at + ifd0_size + len(make[2]) + len(model[2]) + 1  # +1 keeps it even
    exif_at += exif_at % 2
    ifd0, data0 = ifd([(0x010F, *make), (0x0110, *model), (0x0112, 3, 1, struct.pack("<H", 6)),
                       (0x8769, 4, 1, struct.pack("<I", exif_at))], ifd0_at + ifd0_size)
    blank = b"ASCII\0\0\0" + b" " * 20
    exif, data1 = ifd([(0x9003, *ascii_value("2024:05:06 07:08:09")), (0x9286, 7, len(blank), blank)],
                      exif_at + 2 + 2 * 12 + 4)
    block = b"II*\0" + struct.pack("<I", ifd0_at) + ifd0 + data0
    block = block.ljust(exif_at, b"\0") + exif + data1
    return b"Exif\0\0" + block


photo = Image.open(SHARED + "coffee.png").convert("RGB").resize((120, 80), Image.LANCZOS)
icc = Image.open(SHARED + "astronaut.png").info["icc_profile"]
photo.rotate(90, expand=True).save("camera.jpg", quality=90, exif=camera_exif(), icc_profile=icc)
