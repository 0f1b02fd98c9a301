"""Photos decoded to grey (what the detector and models see) and colour (what overlays are drawn on)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import UserError


class PhotoError(UserError):
    """A file that cannot be read as an image; the message names it."""


def grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    """A grey image (H, W) as the 3 channels MTCNN and overlays take (H, W, 3)."""
    return np.repeat(grey[..., None], 3, axis=2)


def load_photo(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 grey (H, W), uint8 RGB (H, W, 3)) of any photo PIL can read, EXIF orientation applied.

    The grey image is what the detector and the models see; the colour one is what overlays are
    drawn on.
    """
    try:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image)
            if upright.mode in _WIDE_MODES:
                grey = to_uint8(np.asarray(upright))
                return grey, grey_to_rgb(grey)
            return np.asarray(upright.convert("L"), np.uint8), np.asarray(upright.convert("RGB"), np.uint8)
    except FileNotFoundError:
        raise PhotoError(f"{path}: file not found") from None
    except Image.DecompressionBombError:  # not an OSError
        limit = Image.MAX_IMAGE_PIXELS * 2 / 1e6
        raise PhotoError(f"{path}: over {limit:.0f} megapixels, the guard against decompression bombs; "
                         "pass a larger --max-megapixels to read it") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise PhotoError(f"{path}: not a readable image ({error.__class__.__name__})") from None


# Single-channel modes whose values are not 0..255: 16- and 32-bit integers, 32-bit floats.
# PIL's convert("L") clips them (a 16-bit photo turns near-white, a 0..1 float one black).
_WIDE_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Grey levels of any range to 0..255, scaled by the range the image really uses.

    Floats within [0, 1] are taken as fractions of white; integers within 0..255 are kept; any
    other range is stretched from its minimum to its maximum (a 12-bit image in a 16-bit file
    uses its 12 bits, not a sixteenth of the scale).
    """
    is_float = np.issubdtype(np.asarray(values).dtype, np.floating)
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape, np.uint8)
    low, high = float(finite.min()), float(finite.max())
    if is_float and 0.0 <= low and high <= 1.0:
        scaled = values * 255.0
    elif 0.0 <= low and high <= 255.0:
        scaled = values
    else:
        scaled = (values - low) * (255.0 / max(high - low, 1e-12))
    return np.clip(np.round(np.nan_to_num(scaled, nan=0.0)), 0, 255).astype(np.uint8)
