# The README's commands. Each creates .venv and installs requirements.txt first when needed.
#   make repro                    the whole pipeline on the embedded data (`dvc repro`)
#   make test                     every test (what CI runs); make test-fast: no training, no DVC
#   make kaggle [KAGGLE=file.zip] Kaggle's files -> a checked submissions/best.csv (stages/kaggle.py)
#   make photos PHOTOS="a.jpg dir/" [OUT=results]   keypoints on your photos, with the best model
# DEVICE=cuda uses .venv-cuda and requirements-cuda.txt (the frameworks' NVIDIA GPU builds).
# TORCH_CPU=1 takes torch's CPU build from PyTorch's own package index: on a stock Linux machine
# PyPI's torch wheel is the CUDA build, with gigabytes of NVIDIA libraries.
DEVICE ?= cpu
PYTHON ?= python3
TORCH_CPU ?=
VENV := $(if $(filter cuda,$(DEVICE)),.venv-cuda,.venv)
REQUIREMENTS := $(if $(filter cuda,$(DEVICE)),requirements-cuda.txt,requirements.txt)
PIP_INDEX := $(if $(TORCH_CPU),--extra-index-url https://download.pytorch.org/whl/cpu,)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"
KAGGLE ?=
PHOTOS ?=
OUT ?= results

.PHONY: repro test test-fast bench kaggle photos

$(STAMP): $(REQUIREMENTS) requirements-common.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: this project needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1 || echo missing): install python3.11 (e.g. apt-get install python3.11-venv) and run make PYTHON=python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_INDEX) -r $(REQUIREMENTS)
	touch $(STAMP)

repro: $(STAMP)
	$(RUN) $(BIN)/dvc repro

# A test that hangs fails after 20 minutes, with its traceback; the 15 slowest are listed at the end.
PYTEST := $(RUN) $(BIN)/python -m pytest -q --timeout 1200 --durations 15

test: $(STAMP)
	$(PYTEST) tests

test-fast: $(STAMP)
	$(PYTEST) -m "not slow" tests

bench: $(STAMP)
	$(RUN) $(BIN)/python bench/prepare.py

kaggle: $(STAMP)
	$(RUN) $(BIN)/python -m stages.kaggle $(KAGGLE)

# Trains first when the pipeline is not up to date (a fresh clone: `dvc repro`, about 10 minutes).
photos: $(STAMP)
	@test -n "$(PHOTOS)" || { echo 'usage: make photos PHOTOS="a.jpg dir/" [OUT=results]' >&2; exit 2; }
	@$(RUN) $(BIN)/dvc status --quiet || $(RUN) $(BIN)/dvc repro
	$(RUN) $(BIN)/python -m stages.predict $(PHOTOS) --model best --out $(OUT)
