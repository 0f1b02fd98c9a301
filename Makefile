# The two commands of the README: `make repro` (the whole pipeline) and `make test` (every test,
# what CI runs); `make test-fast` runs the unit tests only (no training, no DVC), for the edit loop.
# Each creates .venv and installs requirements.txt first when needed. With DEVICE=cuda they use
# .venv-cuda and requirements-cuda.txt (the frameworks' NVIDIA GPU builds) instead.
DEVICE ?= cpu
VENV := $(if $(filter cuda,$(DEVICE)),.venv-cuda,.venv)
REQUIREMENTS := $(if $(filter cuda,$(DEVICE)),requirements-cuda.txt,requirements.txt)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: repro test test-fast bench

$(STAMP): $(REQUIREMENTS) requirements-common.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -r $(REQUIREMENTS)
	touch $(STAMP)

repro: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q tests

test-fast: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q -m "not slow" tests

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/prepare.py
