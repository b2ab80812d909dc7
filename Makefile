# postguard: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8400
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test services lint typecheck unit train eval bench bench-archive clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,media]'
	@rm -f $(VENV)/.installed-*; touch $@

run: $(STAMP)  ## Set up .venv, a demo department on SQLite (demo/) with a fake Mastodon, and start the service (ports: PORT=8400, POSTGUARD_DEMO_MASTODON_PORT=8401)
	@PORT=$(PORT) $(BIN)/python -m postguard.demo demo --serve

test: $(STAMP) services lint typecheck unit  ## Install what tests need, lint, type-check and run the tests

services:  ## Start (or install) PostgreSQL, and install Squid and Chromium, for the tests
	@bash scripts/ensure-postgres.sh
	@bash scripts/ensure-squid.sh
	@bash scripts/ensure-chromium.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

REAL ?= ../shared/real
DEV  ?= ../shared/eval/dev.jsonl

train: $(STAMP)  ## Retrain the shipped model (deterministic): the corpus and, where $(REAL) is, the real annotations
	@if [ -d "$(REAL)" ]; then \
	  $(BIN)/postguard model train --corpus data/corpus --extra data/real/annotations.jsonl --real-posts "$(REAL)"; \
	else \
	  echo "make train: $(REAL) is not here, so this model learns from data/corpus alone; the shipped model also"; \
	  echo "learned from data/real/annotations.jsonl (set REAL=DIR to the folder of the posts they label)."; \
	  $(BIN)/postguard model train --corpus data/corpus; \
	fi

# Without ../shared (a fresh clone) there is nothing to measure: it says what is missing and how to
# measure a file of your own, and exits 2. Each part that is there is measured.
eval: $(STAMP)  ## Measure the checker: the shared dev set and the real test split, where they are
	@measured=0; \
	if [ -f "$(DEV)" ]; then $(BIN)/postguard eval "$(DEV)" --errors 10 || exit $$?; measured=1; \
	else echo "make eval: no dev set at $(DEV) (it comes with ../shared, not with the repository); measure a labelled JSON Lines file of your own (id, text, labels) with DEV=FILE make eval, or postguard eval FILE." >&2; fi; \
	if [ -d "$(REAL)" ]; then \
	  $(BIN)/postguard eval data/real/annotations.jsonl --real-posts "$(REAL)" --split test --by-source --errors 10 || exit $$?; measured=1; \
	else echo "make eval: no real posts at $(REAL), so data/real/annotations.jsonl (labels by post id) cannot be measured; REAL=DIR make eval names the folder of the posts they label." >&2; fi; \
	if [ $$measured = 0 ]; then echo "make eval: nothing was measured (README: Measuring against labelled posts)." >&2; exit 2; fi

bench: $(STAMP)  ## Run the benchmarks (they print their figures)
	$(BIN)/python bench/bench_check.py
	$(BIN)/python bench/bench_audit.py
	$(BIN)/python bench/bench_squid.py
	$(BIN)/python bench/bench_api.py

POSTS ?= 1000000
bench-archive: $(STAMP)  ## The archive scan on a generated archive (POSTS=1000000): posts/s per core, peak memory, resume
	$(BIN)/python bench/bench_archive_scan.py --posts $(POSTS) --resume

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
