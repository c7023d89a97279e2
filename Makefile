# Relais: `make run` starts it on the embedded SQLite database, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install run test lint bench bench-admin mutation clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Relais demande Python 3.11 ou plus récent ($(PYTHON))." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# A first run trains each consultation's theme model from its file (a few seconds each).
run: install
	$(BIN)/relais nlp train --missing
	$(BIN)/relais serve

test: install
	$(BIN)/pytest

# The import contracts of pyproject.toml ([tool.importlinter], docs/architecture.md); the
# graph takes under a second to build, so no cache directory is left in the tree.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache --no-logo pyproject.toml

bench: install
	$(BIN)/python benchmarks/engine.py

# Admin pages at 100,000 then 1,000,000 answers on SQLite; PostgreSQL: make bench-admin
# BENCH_ARGS="--database postgresql --url postgresql+asyncpg://USER@HOST/DATABASE" (emptied).
bench-admin: install
	$(BIN)/python benchmarks/admin.py --answers 100000,1000000 $(BENCH_ARGS)

# Mutation testing of the modules that hold the README's promises, each against its own fast
# tests (tests/mutation_testing.py, tests/README.md); one worker; not part of CI. Prints each
# module's score and its surviving mutants. `make mutation MODULES=bot/processor.py` for one.
MUTMUT_VERSION ?= 3.8.1
mutation: install
	@$(BIN)/python -c 'import mutmut' 2>/dev/null || \
		$(BIN)/python -m pip install --quiet 'mutmut==$(MUTMUT_VERSION)'
	$(BIN)/python tests/mutation_testing.py run $(MODULES)
	$(BIN)/python tests/mutation_testing.py score

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info mutants
