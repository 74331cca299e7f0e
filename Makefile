# kpitools: the two commands are `make report` and `make test`.
# Each creates .venv from the pinned versions in constraints.txt on first use.
# Only Python 3.11 (or newer) and pip are assumed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MONTH  ?=
DATA   ?= data/sample

.PHONY: help venv test lint pytest report lab notebooks sample docs bench lock clean

help:
	@echo "make report   render the latest complete month of the sample data (or MONTH=YYYY-MM DATA=dir)"
	@echo "              into reports/<dataset name>/<YYYY-MM>/ and print the HTML path"
	@echo "make test     ruff + pytest (unit tests and nbval notebook regression tests)"
	@echo "make lab      open JupyterLab in the project's environment (also as root)"
	@echo "make notebooks copy the package's report template to notebooks/reports/, then re-execute"
	@echo "              every notebook in place (after a change to the template, KPIs or data/sample)"
	@echo "make sample   regenerate data/sample (byte-identical for the same seed)"
	@echo "make docs     regenerate docs/data-contract.md and docs/kpis.md from the code"
	@echo "make bench    run the benchmarks in benchmarks/ and print the speed-and-memory table"
	@echo "              (1M and 10M tickets, datasets cached in ~/.cache/kpitools-bench; BENCH_ARGS=--quick)"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,lab]"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check kpitools tests benchmarks
	$(BIN)/python -m pytest -n 2 --dist loadfile tests
	$(BIN)/python -m pytest -p no:randomly --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg notebooks

lint: $(STAMP)
	$(BIN)/ruff check kpitools tests benchmarks

# Prints the path of the HTML it wrote: reports/<dataset name>/<YYYY-MM>/kpi-report.html
report: $(STAMP)
	$(BIN)/kpitools report --data $(DATA) $(if $(MONTH),--month $(MONTH),--latest) --out reports

# JupyterLab refuses to start as root (a container's default user) without --allow-root
lab: $(STAMP)
	$(BIN)/jupyter lab $$(if [ "$$(id -u)" -eq 0 ]; then echo --allow-root; fi) notebooks

# kpitools/templates/monthly-kpi-report.ipynb is the report template; notebooks/reports/ holds its
# executed copy (what nbval compares), rewritten from it here before re-executing
notebooks: $(STAMP)
	$(BIN)/python -m kpitools.report

sample: $(STAMP)
	$(BIN)/kpitools synth --sample --out data/sample

docs: $(STAMP)
	$(BIN)/kpitools docs --out docs

# benchmarks need the `bench` extra (DuckDB); BENCH_ARGS go to benchmarks/bench_scale.py, which
# runs every step in a fresh process under a 12 GB resident-memory cap (sampled from /proc) and
# prints the whole table (rows 0-6, 1M and 10M tickets); e.g. make bench BENCH_ARGS="--quick" or
# BENCH_ARGS="--tickets 1000000 --only core,duckdb" (--only: only those rows, other scripts skipped)
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[bench]"
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lock:
	rm -rf .lockvenv
	$(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install --quiet -e ".[test,lab,bench]"
	{ echo "# Pinned versions for the kpitools environment (pip constraints)."; \
	  echo "# Regenerate with: make lock   (resolves pyproject.toml afresh and freezes the result)"; \
	  .lockvenv/bin/pip freeze --all --exclude-editable | grep -v -i '^pip=='; } > constraints.txt
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
