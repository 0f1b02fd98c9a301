"""The library of the pipeline: parsing, models, losses, metrics, plots. Functions take and
return arrays; the files are the stages' business, except where a module says it reads or writes
(`io`, `params`, `kaggle_csv`, `photo`, and each model's `train`/`load` with its own folder)."""
