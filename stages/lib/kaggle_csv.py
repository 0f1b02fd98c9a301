"""Kaggle's CSV formats: fast, validating parsers and matching writers.

`training.csv`: the 30 keypoint columns, then `Image` (9,216 space-separated grey levels).
`test.csv`: `ImageId,Image`. `IdLookupTable.csv`: `RowId,ImageId,FeatureName,Location`.

The pixel strings are parsed with vectorised numpy over blocks of rows, straight to uint8:
no per-row Python float arrays, so a Kaggle-size file parses in a fraction of the time and
memory of the usual per-row `np.fromstring(...)` approach (see bench/prepare.py).
"""
from __future__ import annotations

import csv
import os
import dataclasses
import zipfile
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np

from .errors import UserError
from .keypoints import COLUMNS, IMAGE_SIZE

N_PIXELS = IMAGE_SIZE * IMAGE_SIZE
TRAIN_HEADER = (*COLUMNS, "Image")
TEST_HEADER = ("ImageId", "Image")
LOOKUP_HEADER = ("RowId", "ImageId", "FeatureName", "Location")
_BLOCK_ROWS = 256


RAW_FILES = ("training.csv", "test.csv", "IdLookupTable.csv")
HOW_TO_GET_KAGGLE = (
    "put Kaggle's training.csv, test.csv and IdLookupTable.csv there (or their .zip files), e.g. "
    "`kaggle competitions download -c facial-keypoints-detection -p {dir} && "
    "unzip -o {dir}/facial-keypoints-detection.zip -d {dir}` after accepting the competition rules, "
    "or set data.raw_dir back to data/raw/sample for the embedded data"
)


def check_raw_dir(raw_dir: Path) -> None:
    """A clear error, with how to get Kaggle's files, when `raw_dir` (data.raw_dir) lacks any of them."""
    if not raw_dir.is_dir():
        raise UserError(f"data.raw_dir: {raw_dir}: no such folder; " + HOW_TO_GET_KAGGLE.format(dir=raw_dir))
    for name in RAW_FILES:
        for path in (raw_dir / name, (raw_dir / name).with_suffix(".zip")):
            if path.is_symlink() and not path.exists():
                try:
                    path.resolve(strict=True)
                except RuntimeError:  # Python 3.11 raises it for a loop
                    raise UserError(f"{path}: a symbolic link loop; point it at the file") from None
                except OSError:
                    raise UserError(f"{path}: a symbolic link to {os.readlink(path)}, which does not exist") from None
            if path.exists() and not path.is_file():
                raise UserError(f"{path}: not a regular file (a folder, device or pipe); put Kaggle's file there")
    missing = [
        name for name in RAW_FILES
        if not (raw_dir / name).exists() and not (raw_dir / name).with_suffix(".zip").exists()
    ]
    if missing:
        raise UserError(f"data.raw_dir: {raw_dir}: missing {', '.join(missing)}; "
                        + HOW_TO_GET_KAGGLE.format(dir=raw_dir))


class CsvFormatError(UserError):
    """Bad input: the message names the file, the line and the column."""

    def __init__(self, path, line: int | None, column: str | None, message: str):
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.column = str(path), line, column


@dataclasses.dataclass(frozen=True)
class Lookup:
    row_ids: np.ndarray  # int64 (R,)
    image_ids: np.ndarray  # int64 (R,)
    features: np.ndarray  # int64 (R,), index into COLUMNS


def _rows(path: Path, header: tuple[str, ...]) -> Iterator[tuple[int, list]]:
    """Stream (line number, fields) of a CSV, checking the header and each row's field count.

    Streaming keeps peak memory near the size of the parsed arrays, not of the file.
    """
    with _open(path) as handle:
        lines = iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b"")
        first = next(lines, b"")
        _check_line_length(path, 1, first)
        _check_text(path, first)
        if first.startswith(b"\xef\xbb\xbf"):
            first = first[3:]
        if not first.strip():
            raise CsvFormatError(path, None, None, "file is empty")
        _check_header(path, first.rstrip(b"\r\n"), header)
        seen = False
        for number, line in enumerate(lines, start=2):
            _check_line_length(path, number, line)
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            if b'"' in line:  # RFC 4180 quoting, as pandas and spreadsheets may write it
                fields = _quoted_fields(path, number, line)
            else:
                # The pixel string is the last field: a zero-copy view, not a new bytes object.
                cut = line.rfind(b",") + 1
                fields = [*line[:cut - 1].split(b","), memoryview(line)[cut:]] if cut else [line]
            if len(fields) != len(header):
                raise CsvFormatError(path, number, None,
                                     f"expected {len(header)} fields, got {len(fields)}")
            seen = True
            yield number, fields
    if not seen:
        raise CsvFormatError(path, None, None, "no data rows after the header")


# A row of Kaggle's files is at most about 37 KB (9,216 pixels of up to 3 digits and a space, 30
# keypoints); lines are read with this bound, so a file of one endless line fails at once.
MAX_LINE_BYTES = 1 << 20


def _check_line_length(path: Path, number: int, line: bytes) -> None:
    if len(line) > MAX_LINE_BYTES:
        raise CsvFormatError(path, number, None, f"line longer than {MAX_LINE_BYTES >> 20} MB: not one of Kaggle's rows "
                                                 "(a row is under 40 KB)")


def _quoted_fields(path: Path, line_number: int, line: bytes) -> list[bytes]:
    try:
        (fields,) = csv.reader([line.decode("latin-1")], strict=True)
    except (csv.Error, ValueError) as error:
        raise CsvFormatError(path, line_number, None, f"bad quoting: {error}") from None
    return [field.encode("latin-1") for field in fields]


# First bytes of files that are not plain CSV text, and what they are.
_NOT_TEXT = {
    b"\x1f\x8b": "gzip-compressed; decompress it first (gunzip)",
    b"PK\x03\x04": "a zip archive; unzip it, or name it .zip",
    b"\xff\xfe": "UTF-16 text; save it as UTF-8 (or ASCII)",
    b"\xfe\xff": "UTF-16 text; save it as UTF-8 (or ASCII)",
    b"BZh": "bzip2-compressed; decompress it first",
    b"\xfd7zXZ": "xz-compressed; decompress it first",
}


def _check_text(path: Path, first_line: bytes) -> None:
    for magic, what in _NOT_TEXT.items():
        if first_line.startswith(magic):
            raise CsvFormatError(path, None, None, f"not a CSV text file: it is {what}")
    if b"\x00" in first_line:
        raise CsvFormatError(path, None, None, "not a CSV text file: it holds NUL bytes (binary data or UTF-16)")


def _open(path: Path) -> BinaryIO:
    """The CSV itself, or the member of the same name in the `.zip` Kaggle's download ships."""
    if path.exists():
        if not path.is_file():
            raise CsvFormatError(path, None, None, "not a regular file (a folder, device or pipe)")
        return open(path, "rb")
    archive = path.with_suffix(".zip")
    if archive.exists():
        try:
            zipped = zipfile.ZipFile(archive)
        except zipfile.BadZipFile as error:
            raise CsvFormatError(archive, None, None, f"not a valid zip archive ({error}); download it again") from None
        if path.name not in zipped.namelist():
            zipped.close()
            raise CsvFormatError(archive, None, None, f"does not contain {path.name}")
        member = zipped.open(path.name)
        zipped.close()  # the underlying file stays open until the member is closed
        return member
    raise CsvFormatError(path, None, None, f"file not found (nor {archive.name})")


def _check_header(path: Path, header_line: bytes, expected: tuple[str, ...]) -> None:
    if b"\r" in header_line.rstrip(b"\r\n"):
        raise CsvFormatError(path, 1, None, "lines end in a lone carriage return (old Mac line endings); "
                                            "save it with \\n or \\r\\n line endings")
    header = tuple(name.strip().strip('"')[:40] for name in header_line[:4096].decode("utf-8", "replace").split(",")[:40])
    if header == expected:
        return
    missing = [name for name in expected if name not in header]
    extra = [name for name in header if name not in expected]
    problems = []
    if missing:
        problems.append(f"missing columns {missing}")
    if extra:
        problems.append(f"unexpected columns {extra[:5]}" + (f" and {len(extra) - 5} more" if len(extra) > 5 else ""))
    if not problems:
        problems.append(f"columns out of order; expected {list(expected)}")
    raise CsvFormatError(path, 1, None, "bad header: " + "; ".join(problems))


def _blocks(rows: Iterator[tuple[int, list[bytes]]]) -> Iterator[list[tuple[int, list[bytes]]]]:
    block = []
    for row in rows:
        block.append(row)
        if len(block) == _BLOCK_ROWS:
            yield block
            block = []
    if block:
        yield block


def parse_pixels(path: Path, strings: list[bytes], lines: list[int]) -> np.ndarray:
    """uint8 (N, 96*96) from N pixel strings; `lines` are their line numbers, for errors.

    Each number ends just before a separator, so its last three digits are gathered at
    fixed offsets from the separator positions: a few vectorised passes, no Python loop.
    """
    # Spaces around a string are padding, not empty values.
    strings = [bytes(s).strip(b" ") if s[:1] == b" " or s[-1:] == b" " else s for s in strings]
    text = np.frombuffer(b" " + b" ".join(strings) + b" ", np.uint8)
    # Byte offset where each row's string starts inside `text`, plus one past the end.
    lengths = np.fromiter((len(s) + 1 for s in strings), np.int64, len(strings))
    row_start = np.concatenate([[1], 1 + np.cumsum(lengths)])

    def fail(byte_index: int, message: str):
        row = int(np.searchsorted(row_start, byte_index, side="right") - 1)
        raise CsvFormatError(path, lines[row], "Image", message)

    is_sep = text == 32
    # Cheap whole-block checks first; the slower search for the culprit runs only on failure.
    if np.count_nonzero((text - np.uint8(48)) > 9) != np.count_nonzero(is_sep):
        bad = int(np.flatnonzero(~is_sep & ((text - np.uint8(48)) > 9))[0])
        fail(bad, f"non-numeric pixel value (character {bytes(text[bad:bad + 1]).decode('latin-1')!r})")

    seps = np.flatnonzero(is_sep)
    width = np.diff(seps) - 1  # number i spans seps[i] + 1 .. seps[i + 1] - 1
    if width.min() == 0:
        fail(int(seps[np.argmin(width)]) + 1, "empty pixel value (extra or missing separator)")
    counts = np.diff(np.searchsorted(seps, row_start))
    wrong = np.flatnonzero(counts != N_PIXELS)
    if wrong.size:
        row = int(wrong[0])
        fail(int(row_start[row]), f"expected {N_PIXELS} pixel values, got {counts[row]}")
    ends = seps[1:] - 1  # index of each number's last digit
    wide = np.flatnonzero(width > 3)
    if wide.size:  # fine only with leading zeros: "0012" is 12
        too_large = [wide[(width[wide] > k) & (text[ends[wide] - k] != 48)] for k in range(3, int(width.max()))]
        too_large = np.concatenate(too_large)
        if too_large.size:
            i = int(too_large.min())
            fail(int(seps[i]) + 1, f"pixel value {bytes(text[seps[i] + 1:seps[i + 1]]).decode()} out of range 0..255")
    values = (text[ends] - np.uint8(48)).astype(np.uint16)
    values += (width >= 2) * (text[ends - 1] - np.uint8(48)).astype(np.uint16) * 10
    values += (width >= 3) * (text[ends - 2] - np.uint8(48)).astype(np.uint16) * 100
    if values.max() > 255:
        i = int(np.argmax(values > 255))
        fail(int(seps[i]) + 1, f"pixel value {values[i]} out of range 0..255")
    return values.astype(np.uint8).reshape(len(strings), N_PIXELS)


def _parse_keypoints(path: Path, line: int, fields: list[bytes]) -> list[float]:
    values = []
    for column, field in zip(COLUMNS, fields):
        text = field.strip()
        if not text:
            values.append(np.nan)
            continue
        try:
            if b"_" in text:  # Python reads 1_0 as 10; no CSV writer means that
                raise ValueError
            value = float(text)
        except ValueError:
            raise CsvFormatError(path, line, column, f"not a number: {_quote(text)}") from None
        if np.isnan(value):  # how pandas' na_rep="NaN" writes a missing keypoint
            values.append(np.nan)
            continue
        if np.isinf(value):
            raise CsvFormatError(path, line, column, f"not a finite number: {text.decode()!r}")
        if not 0.0 <= value <= IMAGE_SIZE:
            raise CsvFormatError(path, line, column, f"value {value} lies outside the image [0, {IMAGE_SIZE}]")
        values.append(value)
    return values


def _images(blocks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(blocks).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def read_training_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (N, 96, 96), float32 keypoints (N, 30) with NaN where blank)."""
    path = Path(path)
    images, keypoints = [], []
    for block in _blocks(_rows(path, TRAIN_HEADER)):
        lines = [line for line, _ in block]
        keypoints += [_parse_keypoints(path, line, fields) for line, fields in block]
        images.append(parse_pixels(path, [fields[-1] for _, fields in block], lines))
    return _images(images), np.array(keypoints, np.float32).reshape(-1, len(COLUMNS))


# Ids are stored as int64.
MAX_ID = 2 ** 63 - 1


def _quote(text: bytes, limit: int = 60) -> str:
    """A field as an error line shows it: quoted, cut to `limit` characters."""
    shown = text.decode("utf-8", "replace")
    return repr(shown if len(shown) <= limit else shown[:limit] + "...")


def _parse_int(path: Path, line: int, column: str, text: bytes) -> int:
    try:
        if b"_" in text:  # Python reads 1_0 as 10; no CSV writer means that
            raise ValueError
        value = int(text)
    except ValueError:
        raise CsvFormatError(path, line, column, f"not an integer: {_quote(text)}") from None
    if not 0 <= value <= MAX_ID:
        raise CsvFormatError(path, line, column, f"{_quote(text)} is out of range [0, 2**63 - 1]")
    return value


def read_test_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(int64 ImageIds (M,), uint8 images (M, 96, 96)); ImageIds must be unique."""
    path = Path(path)
    ids, images, first_seen = [], [], {}
    for block in _blocks(_rows(path, TEST_HEADER)):
        for line, fields in block:
            image_id = _parse_int(path, line, "ImageId", fields[0].strip())
            if image_id in first_seen:
                raise CsvFormatError(path, line, "ImageId",
                                     f"duplicate ImageId {image_id} (first on line {first_seen[image_id]})")
            first_seen[image_id] = line
            ids.append(image_id)
        images.append(parse_pixels(path, [f[1] for _, f in block], [line for line, _ in block]))
    return np.array(ids, np.int64), _images(images)


def read_lookup_csv(path: str | Path, image_ids: np.ndarray | None = None) -> Lookup:
    """IdLookupTable rows; with `image_ids`, every ImageId must be one of them."""
    path = Path(path)
    column_index = {name: i for i, name in enumerate(COLUMNS)}
    known = None if image_ids is None else set(np.asarray(image_ids).tolist())
    row_ids, ids, features, seen = [], [], [], set()
    for line, fields in _rows(path, LOOKUP_HEADER):
        row_id = _parse_int(path, line, "RowId", fields[0].strip())
        if row_id in seen:
            raise CsvFormatError(path, line, "RowId", f"duplicate RowId {row_id}")
        seen.add(row_id)
        image_id = _parse_int(path, line, "ImageId", fields[1].strip())
        if known is not None and image_id not in known:
            raise CsvFormatError(path, line, "ImageId", f"unknown ImageId {image_id} (not in test.csv)")
        name = fields[2].strip().decode("utf-8", "replace")
        if name not in column_index:
            raise CsvFormatError(path, line, "FeatureName", f"unknown feature {name!r}")
        row_ids.append(row_id)
        ids.append(image_id)
        features.append(column_index[name])
    return Lookup(np.array(row_ids, np.int64), np.array(ids, np.int64), np.array(features, np.int64))


def _format_keypoint(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.4f}"


def format_training_csv(images: np.ndarray, keypoints: np.ndarray) -> str:
    lines = [",".join(TRAIN_HEADER)]
    for image, row in zip(images, keypoints):
        values = ",".join(_format_keypoint(v) for v in row.tolist())
        lines.append(values + "," + " ".join(map(str, image.reshape(-1).tolist())))
    return "\n".join(lines) + "\n"


def format_test_csv(image_ids: np.ndarray, images: np.ndarray) -> str:
    lines = [",".join(TEST_HEADER)]
    for image_id, image in zip(image_ids, images):
        lines.append(f"{int(image_id)}," + " ".join(map(str, image.reshape(-1).tolist())))
    return "\n".join(lines) + "\n"


def format_lookup_csv(lookup: list[tuple[int, int, str]]) -> str:
    lines = [",".join(LOOKUP_HEADER)]
    lines += [f"{row_id},{image_id},{feature}," for row_id, image_id, feature in lookup]
    return "\n".join(lines) + "\n"
