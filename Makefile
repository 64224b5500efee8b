# Two commands do all set-up on a fresh machine (see README.md):
#   make all    create .venv, install mixopt, build every artifact (quick profile)
#   make test   create .venv, install mixopt with test tools, lint, run the test suite
PYTHON ?= python3
VENV ?= .venv
CORES ?= all
BIN := $(VENV)/bin

# The exact versions (with hashes) of every dependency, the workflow stack and the test tools:
# `make env` installs them, then mixopt itself without dependencies. `make lock` refreshes the
# lock from pyproject.toml (latest versions allowed by its bounds; review and commit the diff).
LOCK := requirements/lock.txt
LOCK_EXTRAS := --extra workflow --extra slurm --extra sge --extra test

.PHONY: all test test-slurm test-sge env lock lint dry-run paper report compat clean

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

lock:
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet uv; }
	$(BIN)/uv pip compile pyproject.toml $(LOCK_EXTRAS) --universal --generate-hashes \
		--python-version 3.11 --upgrade --custom-compile-command "make lock" --quiet -o $(LOCK)

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

# The workflow through Grid Engine on a one-node cluster started here (root; skips where it cannot).
test-sge: env
	.ci/sge-test

# A refactoring keeps the records (docs/architecture.md): build the reduced config
# tests/configs/compat.yaml in build/compat and compare it with COMPAT_REF, a build of the same
# config at the reference commit (e.g. a worktree of it where this target was run).
COMPAT_DIR ?= build/compat
compat: env
	mkdir -p $(COMPAT_DIR)
	cp -r Snakefile workflow config scripts profiles $(COMPAT_DIR)/
	cd $(COMPAT_DIR) && $(abspath $(BIN))/snakemake --cores $(CORES) \
		--configfile config/config.yaml $(abspath tests/configs/compat.yaml)
	test -z "$(COMPAT_REF)" || $(BIN)/python scripts/compare_builds.py $(COMPAT_REF) $(COMPAT_DIR)

clean:
	rm -rf results logs tables figures reports data/processed .snakemake
