"""Stage `photos`: a few real photos for the `predict` stage, from those scikit-image ships.

usage: python -m stages.photos OUT_DIR

- astronaut.png: Eileen Collins's NASA portrait, colour, one face.
- pair.jpg: two copies of her face at different scales on one canvas: several faces per photo.
- astronaut_exif_rotated.jpg: pixels stored rotated, with an EXIF orientation tag that undoes it.
- chelsea_the_cat.png: no human face: an empty result.
"""
from __future__ import annotations

import argparse
import io

import numpy as np
from PIL import Image

from .lib.cli import run
from .lib.io import atomic_dir

EXIF_ORIENTATION = 0x0112
ROTATED_90_CW = 6  # "rotate 90 degrees clockwise to display"


def sample_photos() -> dict[str, bytes]:
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())
    pair = Image.new("RGB", (900, 520), (30, 30, 40))
    pair.paste(astronaut, (10, 4))
    pair.paste(astronaut.resize((300, 300)), (560, 110))
    rotated = astronaut.rotate(90, expand=True)  # what a sideways camera stores
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATED_90_CW

    def encode(image: Image.Image, fmt: str, **options) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
        return buffer.getvalue()

    return {
        "astronaut.png": encode(astronaut, "PNG"),
        "pair.jpg": encode(pair, "JPEG", quality=90),
        "astronaut_exif_rotated.jpg": encode(rotated, "JPEG", quality=90, exif=exif),
        "chelsea_the_cat.png": encode(Image.fromarray(np.asarray(data.chelsea())), "PNG"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Write sample photos.")
    parser.add_argument("out")
    out = parser.parse_args().out
    photos = sample_photos()
    with atomic_dir(out) as tmp:
        for name, content in photos.items():
            (tmp / name).write_bytes(content)
    print(f"wrote {len(photos)} photos to {out}")


if __name__ == "__main__":
    run(main)
