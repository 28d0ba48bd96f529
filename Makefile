# Everything runs from the project's own virtualenv; `make run` and `make test` create it.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: run test lint typecheck format lock torch bench clean

$(STAMP): requirements.lock pyproject.toml
	rm -f $(VENV)/.installed-*
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

run: $(STAMP)  ## set up, then build the seed's resnet22 and print its summary
	$(BIN)/archspec build specs/resnet22.yaml

test: $(STAMP) lint typecheck  ## lint, type-check, then the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

torch: $(STAMP)  ## optional: add Keras's PyTorch backend (its tests run when torch is there)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-torch.lock

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)  ## mypy over archspec/ (settings in pyproject.toml)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock:  ## re-resolve requirements.lock from pyproject.toml in a scratch virtualenv
	rm -rf /tmp/archspec-lock && $(PYTHON) -m venv /tmp/archspec-lock
	/tmp/archspec-lock/bin/python -m pip install --quiet --upgrade pip
	/tmp/archspec-lock/bin/python -m pip install --quiet ".[tensorflow,jax,export,dev]" hatchling
	/tmp/archspec-lock/bin/python -m pip freeze --exclude-editable | grep -v '^archspec' > requirements.lock

bench: $(STAMP)  ## the CPU benchmark scripts (slow; see benchmarks/RESULTS.md)
	cd benchmarks && for name in validate inspect build train_cpu memory; do \
		../$(BIN)/python bench_$$name.py || exit 1; done

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
