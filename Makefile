# Two commands do all the set-up on a fresh machine (Python 3.11+, pip):
#   make demo   - the main job (DEMO_ARGS="--dataset ../shared/data/ml-latest-small" for MovieLens)
#   make test   - the whole test suite (what CI runs): everything on the ArcadeDB engine,
#                 then every graph test again on the Neo4j engine (needs Java 17+ and Maven;
#                 TEST_ENGINES=arcadedb skips the second pass)
# Both create .venv and install graphrec into it on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.graphrec-installed

.PHONY: demo test lint format bench clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/graphrec demo $(DEMO_ARGS)

TEST_ENGINES ?= arcadedb neo4j

test: $(STAMP)
	$(BIN)/ruff check .
	GRAPHREC_TEST_ENGINE=arcadedb $(BIN)/python -m pytest
	$(if $(filter neo4j,$(TEST_ENGINES)),GRAPHREC_TEST_ENGINE=neo4j $(BIN)/python -m pytest -m graph)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/graph_io.py

clean-venv:
	rm -rf $(VENV)
