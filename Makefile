# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: demo test lint bench faults docs clean

# The venv itself, made by the first target that needs it.
define new_venv
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "creneau needs Python 3.11 or newer (set PYTHON=python3.x)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
endef

$(STAMP): pyproject.toml
	$(new_venv)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

$(DOCS_STAMP): pyproject.toml
	$(new_venv)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[docs]'
	touch $(DOCS_STAMP)

demo: $(STAMP)
	$(BIN)/creneau demo

test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

faults: $(STAMP)
	$(BIN)/python -m pytest -m long -s tests/faults

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The documentation site in site/: --strict fails on a broken link or anchor, a page missing
# from the nav, a missing included file. Then no page may load anything from another host (a
# font, a script, a style sheet; Material's script fetches Mermaid from unpkg.com for a
# diagram): the site works offline and tells no CDN who reads it.
docs: $(DOCS_STAMP)
	rm -rf site
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site
	@! grep -rEoi --include='*.html' '<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//[^"]*"|class="mermaid"' site \
	  || { echo "site/: the pages above load files from another host"; exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build site src/*.egg-info
