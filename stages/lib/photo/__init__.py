"""Keypoints on any photo: find faces, frame each like a Kaggle face, predict, map back.

One module per job: `read` (decoding), `detect` (face boxes), `frame` (the Kaggle-like crop and
its inverse), `find` (the whole path for one photo), `result` (its JSON) and `draw` (the overlay).
"""
