# srlab: `make train` and `make test` each install what they need first.
# `make install TORCH=<version>` installs another torch; later plain `make` calls keep it.
TORCH ?=
TORCH_DEFAULT := 2.13.0
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-torch
# spandrel (model zoo) without its torchvision: PyPI's torchvision does not load beside a CPU torch
ZOO := spandrel==0.4.2 safetensors==0.8.0 einops==0.8.2

.PHONY: install train test test-all lint bench dashboard clean

install:
	@set -e; torch="$(TORCH)"; \
	if [ -f $(STAMP) ] && [ ! pyproject.toml -nt $(STAMP) ] \
	   && { [ -z "$$torch" ] || [ "$$torch" = "$$(cat $(STAMP))" ]; }; then exit 0; fi; \
	[ -n "$$torch" ] || torch=$$(cat $(STAMP) 2>/dev/null || echo $(TORCH_DEFAULT)); \
	echo "installing srlab into $(VENV) (torch $$torch)"; \
	test -x $(PY) || python3 -m venv $(VENV); \
	$(PY) -m pip install --quiet --upgrade pip; \
	$(PY) -m pip install --quiet "torch==$$torch"; \
	$(PY) -m pip install --quiet -e ".[dev]"; \
	$(PY) -m pip install --quiet --no-deps $(ZOO); \
	echo "$$torch" > $(STAMP)

train: install  ## quick run on the embedded default (skimage photos -> Set5), CPU, < 10 min
	$(PY) -m srlab.train experiment=quick

test: install
	$(PY) -m pytest -q

test-all: install
	$(PY) -m pytest -q -m ""

lint: install
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

clean:
	rm -rf logs .pytest_cache

bench: install  ## train-step, data, imresize and inference speed: logs/bench/<time>/results.json
	$(PY) -m srlab.bench

LOGGER ?= wandb
dashboard: install  ## every local run: W&B's terminal dashboard, or LOGGER=tensorboard|mlflow on localhost
	$(PY) -m srlab.dashboard logger=$(LOGGER)
