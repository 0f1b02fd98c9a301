"""The `compare` stage's ranking: the best model is the one the leaderboard would score best."""
from __future__ import annotations

from stages.compare import markdown, summarise


def record(rmse: float, mixed: float | None, by_source: tuple[float, float] | None = None) -> dict:
    sources = None if by_source is None else {"15-point": by_source[0], "4-point": by_source[1]}
    return {"rmse": rmse, "rmse_without_flip_tta": rmse + 0.1, "mean_error_px": rmse * 0.8, "within_2px": 0.5,
            "within_5px": 0.9, "rmse_leaderboard_weighted": mixed, "rmse_by_source": sources}


def test_best_is_the_lowest_leaderboard_mix_not_the_lowest_plain_rmse():
    # "a" is better over all values (its 4-point faces pull its mean down), "b" where Kaggle weighs.
    metrics = {"a": record(1.00, 1.20, (1.30, 0.80)), "b": record(1.05, 1.10, (1.10, 1.09))}
    summary = summarise(metrics)
    assert summary["best"] == "b" and summary["ranking"] == ["b", "a"]
    assert summary["ranked_by"] == "rmse_leaderboard_weighted"
    assert summary["models"]["a"]["rmse_15_point"] == 1.30 and summary["models"]["a"]["rmse_4_point"] == 0.80


def test_without_the_mix_for_every_model_all_are_ranked_by_plain_rmse():
    metrics = {"a": record(1.00, None), "b": record(1.05, 0.50, (0.5, 0.5))}
    summary = summarise(metrics)
    assert summary["ranked_by"] == "rmse" and summary["best"] == "a"


def test_markdown_names_the_best_and_shows_missing_figures_as_dashes():
    table = markdown(summarise({"a": record(1.00, None), "b": record(1.05, 0.5, (0.5, 0.5))}))
    lines = table.splitlines()
    assert lines[0].startswith("| model | leaderboard mix (px) | 15-point faces | 4-point faces | val RMSE (px)")
    assert lines[2].startswith("| a (best) | - | - | - | 1.0000 |")
    assert lines[3].startswith("| b | 0.5000 | 0.5000 | 0.5000 | 1.0500 |")


def test_the_per_keypoint_table_holds_every_model_best_first():
    from stages.compare import per_keypoint_table

    metrics = {name: {"per_keypoint": {"nose_tip": value, "left_eye_center": 2 * value}}
               for name, value in (("a", 1.5), ("b", 0.25))}
    assert per_keypoint_table(metrics, ["b", "a"]) == ("model,keypoint,rmse\nb,nose_tip,0.250000\n"
                                                       "b,left_eye_center,0.500000\na,nose_tip,1.500000\n"
                                                       "a,left_eye_center,3.000000\n")


def test_a_model_that_params_turn_off_is_listed_as_off_and_never_ranked(tmp_path):
    from stages.evaluate import write_off

    write_off("cnn", tmp_path / "evaluation" / "cnn", str(tmp_path / "cnn.json"), "cnn: null")
    import json

    off = json.loads((tmp_path / "cnn.json").read_text())
    assert off == {"model": "cnn", "trained": False}
    assert (tmp_path / "evaluation" / "cnn" / "per_keypoint.csv").read_text() == "keypoint,rmse\n"
    summary = summarise({"cnn": off, "a": record(1.0, 1.1, (1.0, 1.2))})
    assert summary["ranking"] == ["a"] and summary["off"] == ["cnn"] and "cnn" not in summary["models"]
    assert markdown(summary).splitlines()[-1].startswith("| cnn (off) | - |")
