# Two commands for a new user: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint clean

# The demo needs tolok alone (DuckDB and SQLite are embedded).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tolok needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

# The tests also drive PostgreSQL, MariaDB and Spark: their drivers need Debian packages.
$(DEV_STAMP): $(STAMP)
	bash scripts/system-packages
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/tolok validate examples/toko
	$(BIN)/tolok enter ad_spend --file examples/toko/data/ad_spend.csv --user demo -p examples/toko
	$(BIN)/tolok refresh examples/toko

lint: $(DEV_STAMP)
	$(BIN)/ruff check tolok tests
	$(BIN)/ruff format --check tolok tests
	$(BIN)/mypy --strict tolok

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
