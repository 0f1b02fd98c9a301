# The two commands of the README: `make repro` (the whole pipeline) and `make test`.
# Each creates .venv and installs requirements.txt first when needed. With DEVICE=cuda they use
# .venv-cuda and requirements-cuda.txt (the frameworks' NVIDIA GPU builds) instead.
DEVICE ?= cpu
VENV := $(if $(filter cuda,$(DEVICE)),.venv-cuda,.venv)
REQUIREMENTS := $(if $(filter cuda,$(DEVICE)),requirements-cuda.txt,requirements.txt)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: repro test bench

$(STAMP): $(REQUIREMENTS) requirements-common.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -r $(REQUIREMENTS)
	touch $(STAMP)

repro: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q tests

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/prepare.py
