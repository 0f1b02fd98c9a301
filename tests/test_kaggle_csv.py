import csv
import gzip
import io
import re
import zipfile

import numpy as np
import pytest

from conftest import YOUTUBE_FACES
from stages.lib.facegen import make_sample_data
from stages.lib.kaggle_csv import (
    CsvFormatError,
    format_lookup_csv,
    read_lookup_csv,
    read_test_csv,
    read_training_csv,
    format_test_csv,
    format_training_csv,
)
from stages.lib.keypoints import COLUMNS


@pytest.fixture(scope="module")
def sample():
    return make_sample_data(seed=11, n_train=40, n_test=6, full_fraction=0.3)


@pytest.fixture
def training_file(tmp_path, sample):
    path = tmp_path / "training.csv"
    path.write_text(format_training_csv(sample.train_images, sample.train_keypoints))
    return path


def test_round_trip_equals_the_generator_arrays(tmp_path, sample, training_file):
    images, keypoints = read_training_csv(training_file)
    assert images.dtype == np.uint8 and keypoints.dtype == np.float32
    assert np.array_equal(images, sample.train_images)
    assert np.array_equal(keypoints, sample.train_keypoints, equal_nan=True)

    ids = np.arange(1, len(sample.test_images) + 1)
    (tmp_path / "test.csv").write_text(format_test_csv(ids, sample.test_images))
    test_ids, test_images = read_test_csv(tmp_path / "test.csv")
    assert np.array_equal(test_ids, ids) and np.array_equal(test_images, sample.test_images)

    (tmp_path / "lookup.csv").write_text(format_lookup_csv(sample.lookup))
    lookup = read_lookup_csv(tmp_path / "lookup.csv", test_ids)
    assert lookup.row_ids.tolist() == [r for r, _, _ in sample.lookup]
    assert [COLUMNS[f] for f in lookup.features] == [f for _, _, f in sample.lookup]


def test_reads_a_zipped_csv_like_kaggles_download(tmp_path, sample, training_file):
    with zipfile.ZipFile(tmp_path / "training.zip", "w") as z:
        z.write(training_file, "training.csv")
    training_file.unlink()
    images, _ = read_training_csv(training_file)
    assert np.array_equal(images, sample.train_images)


def test_windows_line_endings_are_fine(tmp_path, training_file, sample):
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(training_file.read_bytes().replace(b"\n", b"\r\n"))
    images, keypoints = read_training_csv(crlf)
    assert np.array_equal(images, sample.train_images)


def corrupt(path, line: int, edit) -> None:
    lines = path.read_text().split("\n")
    lines[line - 1] = edit(lines[line - 1])
    path.write_text("\n".join(lines))


def replace_pixel(index: int, value: str):
    def edit(line: str) -> str:
        head, pixels = line.rsplit(",", 1)
        values = pixels.split(" ")
        values[index] = value
        return head + "," + " ".join(values)
    return edit


def replace_field(index: int, value: str):
    def edit(line: str) -> str:
        fields = line.split(",")
        fields[index] = value
        return ",".join(fields)
    return edit


@pytest.mark.parametrize(
    "line, edit, column, message",
    [
        (5, lambda s: s[: s.rfind(" ")], "Image", "expected 9216 pixel values, got 9215"),
        (7, lambda s: s + " 12", "Image", "expected 9216 pixel values, got 9217"),
        (4, replace_pixel(100, "1x2"), "Image", "non-numeric pixel value (character 'x')"),
        (9, replace_pixel(5, "-3"), "Image", "non-numeric pixel value (character '-')"),
        (6, replace_pixel(50, "256"), "Image", "pixel value 256 out of range"),
        (3, replace_pixel(0, "1000"), "Image", "pixel value 1000 out of range"),
        (13, replace_pixel(9, ""), "Image", "empty pixel value"),
        (14, replace_pixel(30, "00256"), "Image", "pixel value 256 out of range"),
        (15, replace_field(2, "inf"), COLUMNS[2], "not a finite number: 'inf'"),
        (8, replace_field(3, "abc"), COLUMNS[3], "not a number: 'abc'"),
        (10, replace_field(0, "97.5"), COLUMNS[0], "outside the image"),
        (11, replace_field(1, "-0.5"), COLUMNS[1], "outside the image"),
    ],
)
def test_bad_values_name_file_line_and_column(training_file, line, edit, column, message):
    corrupt(training_file, line, edit)
    with pytest.raises(CsvFormatError) as error:
        read_training_csv(training_file)
    assert error.value.line == line and error.value.column == column
    assert str(training_file) in str(error.value) and message in str(error.value)


def test_wrong_field_count_names_the_line(training_file):
    corrupt(training_file, 12, lambda s: "1.0," + s)
    with pytest.raises(CsvFormatError, match=r"line 12: expected 31 fields, got 32"):
        read_training_csv(training_file)


@pytest.mark.parametrize(
    "header, message",
    [
        (",".join(COLUMNS[1:]) + ",Image", "missing columns ['left_eye_center_x']"),
        (",".join(COLUMNS) + ",Image,Extra", "unexpected columns ['Extra']"),
        (",".join(COLUMNS[::-1]) + ",Image", "columns out of order"),
    ],
)
def test_missing_or_extra_columns(training_file, header, message):
    corrupt(training_file, 1, lambda _: header)
    with pytest.raises(CsvFormatError, match="line 1") as error:
        read_training_csv(training_file)
    assert message in str(error.value)


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "training.csv"
    empty.write_text("")
    with pytest.raises(CsvFormatError, match="training.csv: file is empty"):
        read_training_csv(empty)
    empty.write_text(",".join(COLUMNS) + ",Image\n")
    with pytest.raises(CsvFormatError, match="no data rows"):
        read_training_csv(empty)


def test_missing_file(tmp_path):
    with pytest.raises(CsvFormatError, match="file not found"):
        read_training_csv(tmp_path / "nope.csv")


def test_duplicate_image_ids(tmp_path, sample):
    ids = np.array([1, 2, 3, 2, 5, 6])
    path = tmp_path / "test.csv"
    path.write_text(format_test_csv(ids, sample.test_images))
    with pytest.raises(CsvFormatError, match=r"line 5, column 'ImageId': duplicate ImageId 2 \(first on line 3\)"):
        read_test_csv(path)


def test_lookup_with_unknown_image_or_feature(tmp_path):
    path = tmp_path / "IdLookupTable.csv"
    path.write_text(format_lookup_csv([(1, 1, "nose_tip_x"), (2, 9, "nose_tip_y")]))
    with pytest.raises(CsvFormatError, match=r"line 3, column 'ImageId': unknown ImageId 9"):
        read_lookup_csv(path, np.array([1, 2]))
    path.write_text(format_lookup_csv([(1, 1, "nose_tip_x"), (2, 1, "nose_tip_z")]))
    with pytest.raises(CsvFormatError, match=r"line 3, column 'FeatureName': unknown feature 'nose_tip_z'"):
        read_lookup_csv(path, np.array([1]))


@pytest.mark.skipif(not YOUTUBE_FACES.exists(), reason="shared real data not present")
def test_reads_real_faces_in_kaggles_format_unchanged():
    images, keypoints = read_training_csv(YOUTUBE_FACES / "training.csv")
    assert images.shape == (3147, 96, 96)
    # Spot-check against a plain, slow reading of the same file.
    with open(YOUTUBE_FACES / "training.csv") as f:
        header = f.readline().strip().split(",")
        first = f.readline().strip().split(",")
    assert header[:30] == list(COLUMNS)
    expected = np.array([float(v) if v else np.nan for v in first[:30]], np.float32)
    assert np.array_equal(keypoints[0], expected, equal_nan=True)
    assert np.array_equal(images[0].reshape(-1), np.array(first[30].split(), np.uint8))
    full = ~np.isnan(keypoints).any(axis=1)
    assert 0.25 < full.mean() < 0.35
    ids, test_images = read_test_csv(YOUTUBE_FACES / "test.csv")
    lookup = read_lookup_csv(YOUTUBE_FACES / "IdLookupTable.csv", ids)
    assert test_images.shape == (300, 96, 96) and len(lookup.row_ids) == 9000


def _quote_all(text: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(csv.reader(io.StringIO(text)))
    return buffer.getvalue()


def test_rfc_4180_quoting_reads_the_same_values(tmp_path, sample):
    """Quoted fields as pandas (quoting=QUOTE_ALL) or a spreadsheet write them."""
    (tmp_path / "training.csv").write_text(_quote_all(format_training_csv(sample.train_images, sample.train_keypoints)))
    images, keypoints = read_training_csv(tmp_path / "training.csv")
    assert np.array_equal(images, sample.train_images)
    assert np.array_equal(keypoints, sample.train_keypoints, equal_nan=True)
    ids = np.arange(1, len(sample.test_images) + 1)
    (tmp_path / "test.csv").write_text(_quote_all(format_test_csv(ids, sample.test_images)))
    assert np.array_equal(read_test_csv(tmp_path / "test.csv")[1], sample.test_images)
    (tmp_path / "lookup.csv").write_text(_quote_all(format_lookup_csv(sample.lookup)))
    assert read_lookup_csv(tmp_path / "lookup.csv", ids).row_ids.tolist() == [r for r, _, _ in sample.lookup]


def test_an_unclosed_quote_names_its_line(training_file):
    corrupt(training_file, 6, replace_field(0, '"66.7'))
    with pytest.raises(CsvFormatError, match=r"line 6: bad quoting"):
        read_training_csv(training_file)


def test_padding_spaces_leading_zeros_and_nan_keypoints_are_read(training_file, sample):
    corrupt(training_file, 2, lambda s: s.replace(",", ", ", 1).rsplit(",", 1)[0] + ", " + s.rsplit(",", 1)[1] + " ")
    corrupt(training_file, 3, replace_pixel(7, "0" + str(sample.train_images[1].reshape(-1)[7]).zfill(3)))
    corrupt(training_file, 4, replace_field(0, "NaN"))
    images, keypoints = read_training_csv(training_file)
    assert np.array_equal(images, sample.train_images)
    assert np.isnan(keypoints[2, 0]) and np.array_equal(keypoints[3:], sample.train_keypoints[3:], equal_nan=True)
    assert np.allclose(keypoints[0], sample.train_keypoints[0], equal_nan=True, atol=1e-4)


@pytest.mark.parametrize("encode, message", [
    (gzip.compress, "it is gzip-compressed; decompress it first"),
    (lambda b: b.decode().encode("utf-16"), "it is UTF-16 text; save it as UTF-8"),
    (lambda b: b.decode().encode("utf-16-le"), "it holds NUL bytes"),
])
def test_compressed_or_non_text_files_say_what_they_are(training_file, encode, message):
    training_file.write_bytes(encode(training_file.read_bytes()))
    with pytest.raises(CsvFormatError) as error:
        read_training_csv(training_file)
    assert str(error.value).startswith(f"{training_file}: not a CSV text file: ") and message in str(error.value)
    assert len(str(error.value)) < 200


def test_a_corrupt_zip_is_one_clear_error(tmp_path):
    (tmp_path / "training.zip").write_bytes(b"PK\x03\x04 this archive was cut short")
    with pytest.raises(CsvFormatError, match=r"training.zip: not a valid zip archive .*download it again"):
        read_training_csv(tmp_path / "training.csv")


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_what_is_not_a_regular_file_is_refused_without_reading_it(tmp_path, kind):
    """A symlink to /dev/zero read without end (MemoryError); a FIFO hung."""
    import os

    path = tmp_path / "test.csv"
    if kind == "device":
        os.symlink("/dev/zero", path)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    with pytest.raises(CsvFormatError, match=r"test.csv: not a regular file \(a folder, device or pipe\)"):
        read_test_csv(path)


def test_an_endless_line_is_refused_at_its_bound_and_not_quoted(tmp_path):
    path = tmp_path / "test.csv"
    path.write_bytes(b"ImageId,Image\n1," + b"7 " * (1 << 20) + b"\n")
    with pytest.raises(CsvFormatError) as error:
        read_test_csv(path)
    assert str(error.value) == f"{path}, line 2: line longer than 1 MB: not one of Kaggle's rows (a row is under 40 KB)"


def test_a_long_bad_header_is_cut_and_cr_only_endings_are_named(tmp_path):
    path = tmp_path / "test.csv"
    path.write_bytes(b"ImageId," + b",".join(b"column%d" % i for i in range(20000)) + b"\n1,2\n")
    with pytest.raises(CsvFormatError, match="bad header") as error:
        read_test_csv(path)
    assert len(str(error.value)) < 400
    path.write_bytes(b"ImageId,Image\r1,0 0\r2,0 0\r")
    with pytest.raises(CsvFormatError, match="line 1: lines end in a lone carriage return"):
        read_test_csv(path)


@pytest.mark.parametrize("text, message", [
    (b"1_0", "not an integer: '1_0'"),  # Python's int() reads it as 10
    (b"99999999999999999999", "'99999999999999999999' is out of range [0, 2**63 - 1]"),
    (b"-3", "'-3' is out of range"),
])
def test_ids_are_plain_integers_in_range(tmp_path, text, message):
    path = tmp_path / "test.csv"
    path.write_bytes(b"ImageId,Image\n" + text + b"," + b" ".join([b"0"] * 9216) + b"\n")
    with pytest.raises(CsvFormatError, match=rf"line 2, column 'ImageId': {re.escape(message)}"):
        read_test_csv(path)


def test_a_keypoint_with_an_underscore_is_not_a_number(training_file):
    lines = training_file.read_text().splitlines()
    fields = lines[1].split(",")
    fields[0] = "6_6"
    lines[1] = ",".join(fields)
    training_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(CsvFormatError, match=r"line 2, column 'left_eye_center_x': not a number: '6_6'"):
        read_training_csv(training_file)


def test_a_symlink_loop_is_not_called_a_missing_file(tmp_path):
    import os

    from stages.lib.errors import UserError
    from stages.lib.kaggle_csv import check_raw_dir

    for name in ("training.csv", "test.csv"):
        (tmp_path / name).write_text("x\n")
    os.symlink(tmp_path / "IdLookupTable.csv", tmp_path / "IdLookupTable.csv")
    with pytest.raises(UserError, match="IdLookupTable.csv: a symbolic link loop"):
        check_raw_dir(tmp_path)
