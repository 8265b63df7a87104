# srlab: `make train` and `make test` each install what they need first.
TORCH ?= 2.13.0
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(TORCH)

.PHONY: install train test test-all lint bench dashboard clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

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

dashboard: install  ## W&B's terminal dashboard over every local run (offline ones too)
	$(VENV)/bin/wandb leet logs/wandb
