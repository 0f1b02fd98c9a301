"""A trained model whose params section is null is off: refused by training, marked, never loaded."""
import numpy as np
import pytest

from conftest import params_with
from stages.lib.faces import Faces
from stages.lib.models import load_predictor, train_model


def test_a_model_turned_off_is_not_trained_and_its_folder_is_not_loaded(tmp_path):
    from stages.lib.errors import UserError
    from stages.train import write_off

    params = params_with({"cnn": None, "ensemble": {"models": ["resnet"], "weights": [1.0]}})
    assert not params.trains("cnn") and params.trains("resnet")
    faces = Faces(np.zeros((2, 96, 96), np.uint8), np.zeros((2, 30), np.float32))
    with pytest.raises(UserError, match=r"cnn: off in params.yaml \(cnn: null\)"):
        train_model("cnn", params, faces, faces, tmp_path / "cnn", lambda e, m: None)
    write_off("cnn", tmp_path / "models" / "cnn", tmp_path / "logs" / "cnn", tmp_path / "cnn.json")
    assert (tmp_path / "logs" / "cnn" / "live" / "plots" / "metrics" / "not_trained.tsv").exists()
    with pytest.raises(UserError, match="cnn was off when it was trained"):
        load_predictor("cnn", tmp_path / "models" / "cnn")
    # An ensemble or predict.model naming an off model is refused, naming the key.
    with pytest.raises(UserError, match=r"ensemble.models\[1\]: names cnn, which is off"):
        params_with({"cnn": None})
