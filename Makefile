# Two commands for a new user: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "tolok needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tolok validate examples/toko
	$(BIN)/tolok enter ad_spend --file examples/toko/data/ad_spend.csv --user demo -p examples/toko
	$(BIN)/tolok refresh examples/toko

lint: $(STAMP)
	$(BIN)/ruff check tolok tests
	$(BIN)/ruff format --check tolok tests
	$(BIN)/mypy --strict tolok

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
