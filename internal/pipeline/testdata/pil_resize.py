#!/usr/bin/python3
"""Resizes an image with PIL's Lanczos filter: the reference TestFixToWidth compares dream's
!fix -W with. Debian's python3 with python3-pil (scripts/install_test_tools installs it).

    pil_resize.py IN.png WIDTH HEIGHT OUT.png
"""
import sys

from PIL import Image


def main():
    src, width, height, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with Image.open(src) as im:
        im.convert("RGB").resize((width, height), Image.LANCZOS).save(dst)


if __name__ == "__main__":
    main()
