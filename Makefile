# Everything runs from the project's own virtualenv; `make run` and `make test` create it with
# the first Python from 3.11 to 3.13 found (the versions the pinned TensorFlow has wheels for),
# or with the one given: `make PYTHON=/path/to/python3.12 test`.
SUPPORTED_PYTHONS := python3.11 python3.12 python3.13 python3
ifndef PYTHON
PYTHON := $(shell for p in $(SUPPORTED_PYTHONS); do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
endif
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=
MUTANTS ?=
MUTATE_JOBS ?= 2
MUTATE_BUDGET ?= 10

.PHONY: run test lint typecheck format lock torch bench fuzz mutate clean python-check

$(STAMP): requirements.lock pyproject.toml
	rm -f $(VENV)/.installed-*
	test -x $(BIN)/python || { $(MAKE) --no-print-directory python-check && $(PYTHON) -m venv $(VENV); }
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

python-check:  ## say which Python will make the virtualenv, or what to install
	@if [ -z "$(PYTHON)" ]; then \
		echo "archspec needs Python 3.11, 3.12 or 3.13, and none was found" \
			"(looked for: $(SUPPORTED_PYTHONS))." >&2; \
		echo "Install one, e.g. on Ubuntu: sudo apt install python3.11 python3.11-venv" \
			"(or python3-venv with the system Python 3.12)," >&2; \
		echo "or name one: make PYTHON=/path/to/python3.12 $(MAKECMDGOALS)" >&2; \
		exit 1; \
	fi
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON): no such program" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' || { \
		echo "$(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'):" \
			"archspec needs 3.11, 3.12 or 3.13" >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
		echo "$(PYTHON) cannot create a virtualenv: install its venv module," \
			"e.g. on Ubuntu: sudo apt install python3-venv (or python3.X-venv for $(PYTHON))" >&2; \
		exit 1; }
	@echo "using $(PYTHON) ($$($(PYTHON) -c 'import platform; print(platform.python_version())'))"

lock: python-check  ## re-resolve requirements.lock from pyproject.toml in a scratch virtualenv
	rm -rf /tmp/archspec-lock && $(PYTHON) -m venv /tmp/archspec-lock
	/tmp/archspec-lock/bin/python -m pip install --quiet --upgrade pip
	/tmp/archspec-lock/bin/python -m pip install --quiet ".[tensorflow,jax,export,dev]" hatchling
	/tmp/archspec-lock/bin/python -m pip freeze --exclude-editable | grep -v '^archspec' > requirements.lock

bench: $(STAMP)  ## the CPU benchmark scripts (slow; see benchmarks/RESULTS.md)
	cd benchmarks && for name in validate inspect build train_cpu memory hostile; do \
		../$(BIN)/python bench_$$name.py || exit 1; done

fuzz: $(STAMP)  ## 10,000 hostile documents through the pipeline, timed (several minutes)
	cd benchmarks && ../$(BIN)/python fuzz_hostile.py

# Not part of `test` (nor CI). MUTANTS narrows the run to globs of mutant names, e.g.
# make mutate MUTANTS='archspec.files.* archspec.diff.*'; MUTATE_BUDGET caps the seconds of
# (fastest) tests per mutant, 0 for no cap (tests/mutation_plugin.py). The package's links
# (presets -> specs/, schemas -> schemas/) stay links in mutants/ as here: a copy would make
# the tests' checks that presets and schema are the repository's files fail.
mutate: $(STAMP)  ## mutation testing of the core modules with mutmut (see TESTING.md)
	mkdir -p mutants/archspec
	for link in presets schemas; do test -L mutants/archspec/$$link || { \
		rm -rf mutants/archspec/$$link; \
		ln -s "$$(readlink archspec/$$link)" mutants/archspec/$$link; }; done
	set -f; ARCHSPEC_MUTATE_BUDGET=$(MUTATE_BUDGET) \
		$(BIN)/mutmut run --max-children $(MUTATE_JOBS) $(MUTANTS)
	$(BIN)/mutmut export-cicd-stats
	@cat mutants/mutmut-cicd-stats.json; echo
	@echo "mutants not killed (inspect one with: $(BIN)/mutmut show NAME):"
	@$(BIN)/mutmut results | grep -v ': not checked$$' || true

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache mutants
