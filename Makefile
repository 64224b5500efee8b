# Two commands do all set-up on a fresh machine (see README.md):
#   make all    create .venv, install mixopt, build every artifact (quick profile)
#   make test   create .venv, install mixopt with test tools, lint, run the test suite
PYTHON ?= python3
VENV ?= .venv
CORES ?= all
BIN := $(VENV)/bin

.PHONY: all test test-slurm env lint dry-run paper report clean

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

all: env
	$(BIN)/snakemake --cores $(CORES)

paper: env
	$(BIN)/snakemake --cores $(CORES) --config profile=paper

# reports/report.html: every artifact of `all` with its caption, in one self-contained file.
# Brings the artifacts up to date first (nothing to do after `make all`; after `make paper`:
# `make report PROFILE=paper`).
PROFILE ?= quick
report: env
	$(BIN)/snakemake --cores $(CORES) --config profile=$(PROFILE)
	$(BIN)/snakemake --report reports/report.html --config profile=$(PROFILE)

dry-run: env
	$(BIN)/snakemake -n --quiet

lint: env
	$(BIN)/ruff check src scripts tests benchmarks
	$(BIN)/snakemake --lint

test: lint
	$(BIN)/pytest

# The workflow through SLURM on a one-node cluster started here (root; skips where it cannot).
test-slurm: env
	.ci/slurm-test

clean:
	rm -rf results logs tables figures reports data/processed .snakemake
