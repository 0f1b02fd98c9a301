import json

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import params_with
from stages import predict as predict_stage
from stages.lib.facegen import Style, draw_face
from stages.lib.models import train_model
from stages.lib.faces import Faces
from stages.lib.photo.detect import Detection, detect
from stages.lib.photo.frame import Frame, crop
from stages.lib.photo.read import PhotoError, grey_to_rgb, load_photo, to_uint8
from stages.photos import sample_photos


def read_photo(path):
    return load_photo(path)[0]


def detect_faces(grey):
    return [d.box for d in detect(grey_to_rgb(grey), grey)]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    for name, content in sample_photos().items():
        (folder / name).write_bytes(content)
    return folder


@pytest.fixture(scope="module")
def mean_model(tmp_path_factory):
    """A real (if simple) trained model: enough to exercise the photo path without TensorFlow."""
    drawn = [draw_face(np.random.default_rng(i)) for i in range(20)]
    faces = Faces(np.stack([d[0] for d in drawn]), np.stack([d[1] for d in drawn]))
    models = tmp_path_factory.mktemp("models")
    train_model("mean", params_with({}), faces, faces, models / "mean", lambda e, m: None)
    return models


def test_detection_finds_the_astronauts_face(photos):
    grey = read_photo(photos / "astronaut.png")
    boxes = detect_faces(grey)
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    # Her face spans roughly x 170-290, y 60-200 of the 512x512 portrait.
    assert 150 < x + w / 2 < 290 and 70 < y + h / 2 < 190 and 80 < w < 180


def test_several_faces_and_exif_orientation(photos):
    assert len(detect_faces(read_photo(photos / "pair.jpg"))) == 2
    upright = read_photo(photos / "astronaut.png").astype(int)
    turned = read_photo(photos / "astronaut_exif_rotated.jpg").astype(int)
    assert turned.shape == upright.shape
    assert np.abs(turned - upright).mean() < 4, "EXIF orientation was not applied"
    assert len(detect_faces(turned.astype(np.uint8))) == 1


@pytest.mark.parametrize("scale, offset", [(2.5, (137, 61)), (1.0, (10, 200)), (0.75, (300, 44))])
def test_crop_and_map_back_are_exact_on_a_pasted_face(scale, offset):
    face, truth = draw_face(np.random.default_rng(3), Style.clean())
    side = round(96 * scale)
    canvas = np.full((600, 600), 90, np.uint8)
    canvas[offset[1]:offset[1] + side, offset[0]:offset[0] + side] = cv2.resize(
        face, (side, side), interpolation=cv2.INTER_LINEAR if scale >= 1 else cv2.INTER_AREA)
    # The face square's left/top edges sit at offset - 0.5 in pixel-centre coordinates.
    frame = Frame(offset[0] - 0.5 + side / 2, offset[1] - 0.5 + side / 2, side)
    crop_96 = crop(canvas, frame)
    # The crop lines up with the original face to a small fraction of a pixel...
    (dx, dy), _ = cv2.phaseCorrelate(face.astype(np.float64), crop_96.astype(np.float64))
    assert abs(dx) < 0.2 and abs(dy) < 0.2
    assert np.abs(crop_96.astype(int) - face.astype(int)).mean() < 6
    # ...so keypoints found in the crop map back onto the pasted face's own keypoints.
    expected = (truth.reshape(-1, 2).astype(np.float64) + 0.5) * side / 96 - 0.5 + np.array(offset)
    assert np.abs(frame.to_photo(truth).reshape(-1, 2) - expected).max() < 1e-4
    shifted = frame.to_photo(truth + np.array([dx, dy] * 15, np.float32)).reshape(-1, 2)
    assert np.abs(shifted - expected).max() < 1.0


@pytest.mark.parametrize("angle", [0.0, 0.3, -0.52])
def test_crop_matrix_inverts_to_photo(angle):
    frame = Frame(140.3, 112.7, 231.0, angle)
    points = np.random.default_rng(0).uniform(0, 95, 30)
    photo = frame.to_photo(points).reshape(-1, 2)
    back = photo @ frame.crop_matrix()[:, :2].T + frame.crop_matrix()[:, 2]
    assert np.allclose(back.reshape(-1), points)


@pytest.mark.parametrize("degrees", [10, 30])
def test_a_turned_face_is_cropped_upright_and_its_keypoints_map_back_onto_it(degrees):
    """A drawn face turned in a photo: the frame turned by the same angle crops it upright (it
    matches the face as drawn), and keypoints of the crop land on the turned face's own."""
    face, truth = draw_face(np.random.default_rng(3), Style.clean())
    side, centre = 192, np.array([250.0, 210.0])
    to_photo = cv2.getRotationMatrix2D((47.5, 47.5), -degrees, side / 96)  # clockwise on screen
    to_photo[:, 2] += centre - 47.5
    photo = cv2.warpAffine(face, to_photo, (500, 420), flags=cv2.INTER_LINEAR, borderValue=90)
    frame = Frame(*centre, side, np.radians(degrees))
    upright = crop(photo, frame)
    assert np.abs(upright[8:88, 8:88].astype(int) - face[8:88, 8:88].astype(int)).mean() < 6
    expected = truth.reshape(-1, 2) @ to_photo[:, :2].T + to_photo[:, 2]
    assert np.abs(frame.to_photo(truth).reshape(-1, 2) - expected).max() < 1e-3


def test_a_turned_face_is_found_again_upright_with_the_box_of_an_upright_face(photos):
    """The astronaut turned by 30 degrees: found again on her surroundings turned upright, her box
    is the size of her upright box and sits on her face, and her eyes give the turn; a place with
    no face gives None."""
    from skimage import data

    from stages.lib.photo.detect import detect_upright_at
    from stages.lib.photo.find import found_upright

    photo = Image.open(photos / "astronaut.png").convert("RGB")
    [level] = detect(np.asarray(photo))
    turned = photo.rotate(30, resample=Image.BICUBIC, expand=True, fillcolor=(128, 128, 128))
    rgb = np.asarray(turned)
    [first] = detect(rgb)
    again = found_upright(rgb, first)
    assert again is not first
    turning = cv2.getRotationMatrix2D((255.5, 255.5), 30, 1.0)
    turning[:, 2] += (np.array(turned.size) - 512) / 2
    x, y, w, h = level.box
    cx, cy = turning @ (x + w / 2, y + h / 2, 1)  # her upright box's centre, turned with her
    x, y, w, h = again.box
    assert abs(x + w / 2 - cx) < 10 and abs(y + h / 2 - cy) < 10 and w == pytest.approx(level.box[2], rel=0.1)
    (lx, ly), (rx, ry) = again.eyes
    assert np.degrees(np.arctan2(ry - ly, rx - lx)) == pytest.approx(-30, abs=5)
    assert found_upright(np.asarray(photo), level) is level  # an upright face is left as it is
    coins = grey_to_rgb(data.coins())
    assert detect_upright_at(coins, 200.0, 150.0, 100.0, np.radians(30)) is None


def test_a_face_turned_past_mtcnns_reach_is_found_by_a_turned_pass(photos):
    """The astronaut turned by 70 degrees: MTCNN on the photo as it is misses her, the pass on the
    photo turned back by 30 finds her, with her box and eyes mapped back onto the turned photo."""
    from stages.lib.photo.detect import detect_mtcnn

    photo = Image.open(photos / "astronaut.png").convert("RGB")
    turned = photo.rotate(70, resample=Image.BICUBIC, expand=True, fillcolor=(128, 128, 128))
    rgb = np.asarray(turned)
    assert detect_mtcnn(rgb, turned=False) == []
    [face] = detect(rgb)
    # Her face's centre (about 230, 130 of the 512x512 portrait), through the same turn.
    turning = cv2.getRotationMatrix2D((255.5, 255.5), 70, 1.0)
    turning[:, 2] += (np.array(turned.size) - 512) / 2
    cx, cy = turning @ (230, 130, 1)
    x, y, w, h = face.box
    assert abs(x + w / 2 - cx) < 25 and abs(y + h / 2 - cy) < 25
    (lx, ly), (rx, ry) = face.eyes
    assert np.degrees(np.arctan2(ry - ly, rx - lx)) == pytest.approx(-70, abs=10)


def test_the_detectors_eyes_give_the_faces_angle_and_framing():
    level = Detection((100, 100, 80, 100), "mtcnn", 0.99, ((120.0, 140.0), (160.0, 140.0)))
    turned = Detection((100, 100, 80, 100), "mtcnn", 0.99, ((120.0, 140.0), (160.0, 163.1)))
    assert Frame.from_detection(level).angle == 0.0
    assert np.degrees(Frame.from_detection(turned).angle) == pytest.approx(30.0, abs=0.1)
    assert Frame.from_detection(turned, upright=False).angle == 0.0
    assert Frame.from_detection(level).side == pytest.approx(80 * 1.286)  # bench/crop_framing.py's MTCNN figure
    assert Frame.from_detection(Detection((100, 100, 80, 100), "frontal")).side == pytest.approx(80 * 0.99)


def test_unreadable_files_are_named(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    with pytest.raises(PhotoError, match="broken.jpg: not a readable image"):
        read_photo(broken)
    with pytest.raises(PhotoError, match="missing.png: file not found"):
        read_photo(tmp_path / "missing.png")


def test_batch_goes_on_past_no_face_and_broken_files(photos, mean_model, tmp_path, capsys):
    broken = tmp_path / "notes.png"
    broken.write_text("hello")
    out = tmp_path / "out"
    status = predict_stage.main([str(photos / "chelsea_the_cat.png"), str(broken), str(photos / "astronaut.png"),
                                 "--model", "mean", "--models-dir", str(mean_model), "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0
    assert "chelsea_the_cat.png: no face found" in captured.err
    assert "notes.png: not a readable image" in captured.err
    cat = json.loads((out / "chelsea_the_cat.png.json").read_text())
    assert cat["faces"] == [] and cat["model"] == "mean"
    assert cat["confidence"] == {"kind": None, "reason": "model 'mean' predicts points, not a distribution per keypoint"}
    astronaut = json.loads((out / "astronaut.png.json").read_text())
    assert len(astronaut["faces"]) == 1 and len(astronaut["faces"][0]["keypoints"]) == 15
    box = astronaut["faces"][0]["box"]
    left_eye = astronaut["faces"][0]["keypoints"]["left_eye_center"]
    assert box["x"] < left_eye[0] < box["x"] + box["width"] and box["y"] < left_eye[1] < box["y"] + box["height"]
    assert Image.open(out / "astronaut.png.overlay.png").size == (512, 512)


def test_batch_fails_only_when_every_photo_fails(photos, mean_model, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    status = predict_stage.main([str(photos / "chelsea_the_cat.png"), str(broken),
                                 "--model", "mean", "--models-dir", str(mean_model), "--out", str(tmp_path / "o")])
    assert status == 1


def _predict(mean_model, *args) -> int:
    return predict_stage.main([*map(str, args), "--model", "mean", "--models-dir", str(mean_model)])


def test_results_never_replace_a_photo_and_overlays_are_not_reread(photos, mean_model, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    original = (photos / "astronaut.png").read_bytes()
    (folder / "astronaut.png").write_bytes(original)
    for _ in range(2):  # the second run finds the first run's overlay in the folder
        assert _predict(mean_model, folder, "--out", folder) == 0
        assert capsys.readouterr().out.strip().endswith("1 photo(s): 1 with faces, 0 without, 0 unreadable")
    assert (folder / "astronaut.png").read_bytes() == original
    assert sorted(p.name for p in folder.iterdir()) == [
        "astronaut.png", "astronaut.png.json", "astronaut.png.overlay.png"]


def test_photos_sharing_a_stem_or_a_name_keep_a_result_each(photos, mean_model, tmp_path):
    astronaut = Image.open(photos / "astronaut.png")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    astronaut.save(tmp_path / "a" / "dupname.png")
    astronaut.save(tmp_path / "a" / "dupname.jpg", quality=90)
    astronaut.resize((256, 256)).save(tmp_path / "b" / "dupname.png")
    out = tmp_path / "out"
    assert _predict(mean_model, tmp_path / "a", tmp_path / "b", "--out", out) == 0
    photos_named = {json.loads(p.read_text())["photo"] for p in out.glob("*.json")}
    assert photos_named == {str(tmp_path / "a" / "dupname.jpg"), str(tmp_path / "a" / "dupname.png"),
                            str(tmp_path / "b" / "dupname.png")}
    assert json.loads((out / "dupname-2.png.json").read_text())["width"] == 256


def test_out_naming_an_input_or_a_file_is_refused_in_one_line(photos, mean_model, tmp_path, capsys):
    photo = tmp_path / "x.png"
    photo.write_bytes((photos / "astronaut.png").read_bytes())
    assert _predict(mean_model, photo, "--out", photo) == 1
    assert capsys.readouterr().err.strip() == f"error: {photo}: --out names a file; give a folder for the results"
    assert photo.read_bytes() == (photos / "astronaut.png").read_bytes()
    # An input that happens to be named like a result of another input is refused, not replaced.
    lookalike = tmp_path / "x.png.overlay.png"
    lookalike.write_bytes(photo.read_bytes())
    assert _predict(mean_model, photo, lookalike, "--out", tmp_path) == 1
    assert "the result would replace this input photo" in capsys.readouterr().err
    assert lookalike.read_bytes() == photo.read_bytes()


@pytest.mark.parametrize("mode", ["I;16", "I", "F-fraction", "F-wide"])
def test_wide_range_photos_read_like_their_8_bit_version(photos, mode, tmp_path):
    grey = read_photo(photos / "astronaut.png")
    if mode == "F-fraction":
        image, suffix = Image.fromarray(grey.astype(np.float32) / 255.0, "F"), ".tif"
    elif mode == "F-wide":
        image, suffix = Image.fromarray(grey.astype(np.float32) * 4.0 - 100.0, "F"), ".tif"
    else:
        image = Image.fromarray(grey.astype(np.uint16) * 257).convert(mode)
        suffix = ".png" if mode == "I;16" else ".tif"
    path = tmp_path / f"wide{suffix}"
    image.save(path)
    assert Image.open(path).mode == mode.split("-")[0]
    read = read_photo(path).astype(int)
    assert np.abs(read - grey).max() <= 1
    assert len(detect_faces(read.astype(np.uint8))) == 1


def test_to_uint8_stretches_only_ranges_beyond_a_byte():
    assert to_uint8(np.array([[0, 128, 255]], np.int32)).tolist() == [[0, 128, 255]]
    assert to_uint8(np.array([[1000, 2000, 4095]], np.int32)).tolist() == [[0, 82, 255]]  # (2000 - 1000) / 3095 * 255
    assert to_uint8(np.array([[0.0, 0.5, 1.0]], np.float32)).tolist() == [[0, 128, 255]]
    assert to_uint8(np.array([[np.nan, np.nan]], np.float32)).tolist() == [[0, 0]]


def test_overlay_keeps_the_photos_colours_and_numbers_faces(photos, mean_model, tmp_path):
    out = tmp_path / "out"
    assert _predict(mean_model, photos / "pair.jpg", "--out", out, "--labels") == 0
    overlay = np.asarray(Image.open(out / "pair.jpg.overlay.png").convert("RGB")).astype(int)
    original = np.asarray(Image.open(photos / "pair.jpg").convert("RGB")).astype(int)
    assert overlay.shape == original.shape
    corner = (slice(0, 60), slice(400, 540))  # between the two faces: nothing drawn there
    assert np.array_equal(overlay[corner], original[corner])
    assert np.abs(overlay[..., 0] - overlay[..., 2]).max() > 50  # colour, not a grey copy
    faces = json.loads((out / "pair.jpg.json").read_text())["faces"]
    assert [f["face"] for f in faces] == [1, 2] and all(f["detector"] == "mtcnn" for f in faces)
    assert all(0.95 <= f["detector_score"] <= 1 for f in faces)


def test_markers_scale_with_the_face_box():
    from stages.lib.photo.draw import POINT_COLOUR, overlay_png
    from stages.lib.photo.result import PhotoFaces

    def marker_pixels(box_width: int) -> int:
        side = box_width * 3
        keypoints = np.full((1, 30), box_width * 1.5)
        box = (box_width, box_width, box_width, box_width)
        result = PhotoFaces("", side, side, [Detection(box, "frontal")], [Frame.from_box(box)], keypoints)
        picture = cv2.imdecode(np.frombuffer(overlay_png(np.zeros((side, side, 3), np.uint8), result), np.uint8),
                               cv2.IMREAD_COLOR)
        return int(np.all(np.abs(picture.astype(int) - POINT_COLOUR) < 30, axis=2).sum())

    small, large = marker_pixels(96), marker_pixels(960)
    assert small > 0 and 60 < large / small < 140  # area: (10x the box)^2


def test_the_profile_cascade_finds_a_face_the_frontal_one_misses():
    """scikit-image's cameraman, seen from the side: missed by the frontal cascade, found by the
    profile one on the mirrored photo and mapped back onto his head (`detector="haar"`)."""
    from skimage import data

    from stages.lib.photo.detect import cascade, detect_haar

    grey = data.camera()
    min_side = max(24, min(grey.shape) // 50)
    frontal = cascade("frontal").detectMultiScale(cv2.equalizeHist(grey), 1.1, 5, minSize=(min_side, min_side))
    assert len(frontal) == 0
    found = detect_haar(grey)
    assert len(found) == 1 and found[0].detector == "profile_mirrored"
    x, y, w, h = found[0].box
    assert 150 < x + w / 2 < 300 and 60 < y + h / 2 < 220  # his head, in the photo's own coordinates
    mirrored = detect_haar(np.ascontiguousarray(grey[:, ::-1]))
    assert len(mirrored) == 1 and mirrored[0].detector == "profile"
    assert mirrored[0].box[0] == grey.shape[1] - x - w


def test_mtcnn_finds_the_cameraman_and_no_face_on_pictures_without_one():
    """The default detector: the cameraman (seen from the side) found, with eyes; not a box on
    coins, moon or the cat, where the cascades left false ones (bench/detection.py)."""
    from skimage import data

    def rgb(picture):
        return grey_to_rgb(picture) if picture.ndim == 2 else picture[..., :3]

    [camera] = detect(rgb(data.camera()))
    x, y, w, h = camera.box
    assert camera.detector == "mtcnn" and camera.eyes is not None and 150 < x + w / 2 < 300
    for name in ("coins", "moon", "chelsea"):
        assert detect(rgb(getattr(data, name)())) == [], name


def test_a_face_of_a_fiftieth_of_a_big_photos_short_side_is_found(photos):
    face = np.asarray(Image.open(photos / "astronaut.png").convert("RGB"))[40:250, 150:330]  # her head
    canvas = np.full((3000, 4000, 3), 110, np.uint8)
    small = cv2.resize(face, (60, 70), interpolation=cv2.INTER_AREA)  # a face of 3000 / 50 = 60 px
    canvas[2000:2070, 3100:3160] = small
    [found] = detect(canvas)
    x, y, w, h = found.box
    assert 3100 < x + w / 2 < 3160 and 2000 < y + h / 2 < 2070


def test_a_tilted_face_is_turned_upright_and_its_points_follow_it(photos, mean_model):
    """The astronaut turned by 30 degrees: the detector's eyes give the angle, the crop is turned
    upright, and the mean model's points (upright in the crop) come back turned with her face."""
    from stages.lib.models import load_predictor
    from stages.lib.photo.find import find_keypoints

    photo = Image.open(photos / "astronaut.png").convert("RGB").rotate(30, resample=Image.BICUBIC, expand=True,
                                                                     fillcolor=(128, 128, 128))
    rgb = np.asarray(photo)
    grey = np.asarray(photo.convert("L"))
    predict = load_predictor("mean", mean_model / "mean")
    [face] = find_keypoints(rgb, grey, predict).as_json("mean")["faces"]
    assert face["turned_upright_by_deg"] == pytest.approx(30, abs=8)
    (lx, ly), (rx, ry) = face["keypoints"]["left_eye_center"], face["keypoints"]["right_eye_center"]
    # Counter-clockwise by 30: her left eye (on the image's right) now sits higher than her right.
    assert np.degrees(np.arctan2(ry - ly, lx - rx)) == pytest.approx(30, abs=8)
    [level] = find_keypoints(rgb, grey, predict, upright=False).as_json("mean")["faces"]
    assert level["turned_upright_by_deg"] == 0.0


def test_detections_whose_spread_says_no_face_are_dropped_or_kept_marked(photos, mean_model):
    """A face's score is its keypoints' mean spread: above the model's line the detection is
    dropped, or with keep_non_faces kept, marked and drawn in grey."""
    from stages.lib.confidence import Confidence
    from stages.lib.models import load_predictor
    from stages.lib.photo.draw import NON_FACE_COLOUR, overlay_png
    from stages.lib.photo.find import find_keypoints

    grey, rgb = load_photo(photos / "pair.jpg")
    predict = load_predictor("mean", mean_model / "mean")

    def confidence(first_face: float) -> Confidence:  # the larger face (first) scores `first_face`, the other 8.5
        return Confidence(lambda crops: np.array([[first_face] * 15] + [[8.5] * 15] * (len(crops) - 1), np.float32),
                          face_limit=10.0)

    sure = find_keypoints(rgb, grey, predict, "pair.jpg", confidence(8.5))
    assert len(sure.boxes) == 2 and sure.dropped == 0 and sure.is_face() == [True, True]
    faces = sure.as_json("resnet")["faces"]
    assert faces[0]["face_score"] == 8.5 and faces[0]["is_face"] is True
    # Spreads are reported in photo pixels: 8.5 px on the 96 px face times the face's scale.
    scale = sure.frames[0].side / 96
    assert faces[0]["spread"]["nose_tip"] == pytest.approx(8.5 * scale, abs=0.01)
    assert sure.as_json("resnet")["confidence"] == {"kind": "heatmap_spread", "face_limit": 10.0, "dropped_faces": 0}

    unsure = find_keypoints(rgb, grey, predict, "pair.jpg", confidence(11.0))
    assert unsure.boxes == sure.boxes[1:] and unsure.dropped == 1
    assert unsure.as_json("resnet")["confidence"]["dropped_faces"] == 1

    kept = find_keypoints(rgb, grey, predict, "pair.jpg", confidence(11.0), keep_non_faces=True)
    assert kept.boxes == sure.boxes and kept.is_face() == [False, True] and kept.dropped == 0
    assert [f["is_face"] for f in kept.as_json("resnet")["faces"]] == [False, True]
    picture = cv2.imdecode(np.frombuffer(overlay_png(rgb, kept), np.uint8), cv2.IMREAD_COLOR)
    x, y, w, h = kept.boxes[0]
    assert np.abs(picture[y, x + w // 2].astype(int) - NON_FACE_COLOUR).max() < 8  # its box's top edge: grey


def test_a_photo_left_with_no_face_gives_an_empty_result_with_a_confidence(photos, mean_model):
    """With a model that has a confidence, a photo with no detection, or whose every detection is
    dropped, gives a result of no faces (it crashed on the empty (0, 15) spreads)."""
    from stages.lib.confidence import Confidence
    from stages.lib.models import load_predictor
    from stages.lib.photo.draw import overlay_png
    from stages.lib.photo.find import find_keypoints

    predict = load_predictor("mean", mean_model / "mean")
    doubtful = Confidence(lambda crops: np.full((len(crops), 15), 11.0, np.float32), face_limit=10.0)
    blank = np.full((200, 300), 128, np.uint8)
    grey, rgb = load_photo(photos / "pair.jpg")
    for image, found in ((blank, 0), (grey, 2)):
        result = find_keypoints(grey_to_rgb(image), image, predict, "x.png", doubtful)
        assert result.boxes == [] and result.keypoints.shape == (0, 30) and result.dropped == found
        assert result.as_json("resnet")["faces"] == [] and result.is_face() == []
    overlay_png(rgb, find_keypoints(rgb, grey, predict, "pair.jpg", doubtful))


def test_a_users_file_named_like_a_result_is_never_written_over(photos, mean_model, tmp_path, capsys):
    """Only files this tool wrote (their mark says so) are replaced, or skipped as input."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "b.png").write_bytes((photos / "astronaut.png").read_bytes())
    mine = folder / "b.png.overlay.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(mine)  # the user's own picture, no mark
    before = mine.read_bytes()
    assert _predict(mean_model, folder / "b.png", "--out", folder) == 1
    assert capsys.readouterr().err.strip() == (f"error: {mine}: exists and was not written by this tool; "
                                               "it is kept: choose another --out")
    assert mine.read_bytes() == before and not (folder / "b.png.json").exists()
    # In a folder it is a photo like any other; this tool's own overlays are not.
    assert [p.name for p in predict_stage.expand([str(folder)])] == ["b.png", "b.png.overlay.png"]
    assert _predict(mean_model, folder / "b.png", "--out", tmp_path / "out") == 0
    assert [p.name for p in predict_stage.expand([str(tmp_path / "out")])] == []
    assert _predict(mean_model, folder / "b.png", "--out", tmp_path / "out") == 0  # its own results: replaced


def test_a_decompression_bomb_is_one_line_and_the_batch_goes_on(photos, mean_model, tmp_path, capsys):
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb = tmp_path / "bomb.png"  # a header that says 100000 x 100000 pixels, in 57 bytes
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
                     + chunk(b"IEND", b""))
    with pytest.raises(PhotoError, match=r"bomb.png: over 179 megapixels, the guard against decompression bombs; "
                                         r"pass a larger --max-megapixels"):
        load_photo(bomb)
    assert _predict(mean_model, bomb, photos / "astronaut.png", "--out", tmp_path / "out") == 0
    captured = capsys.readouterr()
    assert "bomb.png: over 179 megapixels" in captured.err and "1 with faces, 0 without, 1 unreadable" in captured.out


def test_ctrl_c_is_one_line_and_exit_status_130(capsys):
    from stages.lib.cli import run

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_:
        run(interrupted)
    assert exit_.value.code == 130
    assert capsys.readouterr().err == "interrupted; the last good outputs are kept\n"


def test_photos_get_the_test_time_views_evaluation_uses(photos, mean_model, tmp_path):
    """evaluate.zoom_tta (and flip_tta) apply to photos as to the validation faces; --no-tta: one view."""
    from conftest import params_with

    def nose(zoom_tta, views=True) -> list[float]:
        out = tmp_path / f"out-{zoom_tta}-{views}"
        predict_stage.predict_photos([photos / "astronaut.png"], "mean", out,
                                     params_with({"evaluate": {"zoom_tta": zoom_tta}}), mean_model, views)
        return json.loads((out / "astronaut.png.json").read_text())["faces"][0]["keypoints"]["nose_tip"]

    assert nose([0.9]) != nose([])  # a constant predictor's points move when zoomed views are mapped back
    assert nose([0.9], views=False) == nose([], views=False)
