"""What a trained model learned from, in words, for whoever uses it on photos."""
from __future__ import annotations

# params.yaml's data.raw_dir for the embedded drawings, and where `make kaggle` puts Kaggle's files.
EMBEDDED, KAGGLE = "data/raw/sample", "data/raw/kaggle"


def training_data(raw_dir: str, faces: int) -> str:
    """What a model learned from, in words, from its data.raw_dir and its number of faces."""
    if raw_dir == EMBEDDED:
        return (f"{faces:,} procedural drawings of faces (the embedded data, {EMBEDDED}), not photos: "
                f"train on real faces for real use (`make kaggle`)")
    if raw_dir == KAGGLE:
        return f"{faces:,} of Kaggle's training faces ({KAGGLE})"
    return f"{faces:,} real faces from {raw_dir}"
