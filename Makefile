# Every target creates .venv and installs the project on first use, so a fresh clone needs
# nothing but Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test check lint typecheck bench bench-store bench-runtime bench-engine bench-ray bench-survive bench-chaos bench-schedules bench-breakdown bench-compare clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m examples.ml_pipeline

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/check_layers.py
	$(BIN)/python tools/check_sizes.py

typecheck: $(STAMP)
	$(BIN)/python tools/mypy_tree.py

check: lint typecheck test

bench: bench-store bench-runtime bench-engine bench-ray

bench-store: $(STAMP)
	$(BIN)/python -m benchmarks.store_bench

bench-runtime: $(STAMP)
	$(BIN)/python -m benchmarks.runtime_bench

bench-engine: $(STAMP)
	$(BIN)/python -m benchmarks.engine_bench

bench-ray: $(STAMP)
	$(BIN)/python -m benchmarks.ray_bench --json bench-results/ray.json

bench-survive: $(STAMP)  # what survives what: timers, system actor kills, parked cost, cluster restart
	$(BIN)/python -m benchmarks.survive_bench --json bench-results/survive.json

bench-chaos: $(STAMP)  # the chaos test as a benchmark: a minute of kills, rounds of workflows
	$(BIN)/python -m benchmarks.chaos_bench

bench-schedules: $(STAMP)  # tick lateness of 100 schedules firing every second; 10,000 idle ones' cost
	$(BIN)/python -m benchmarks.schedule_bench --json bench-results/schedules.json

bench-breakdown: $(STAMP)  # where a one-step workflow's milliseconds go (about a minute)
	$(BIN)/python -m benchmarks.ray_breakdown

REF ?= HEAD
BENCH ?= group
bench-compare: $(STAMP)  # same-sitting A/B: make bench-compare REF=main [BENCH=runtime]
	$(BIN)/python -m benchmarks.compare $(REF) --bench $(BENCH)

clean:
	rm -rf $(VENV) .mypy_tree .mypy_cache .pytest_cache .ruff_cache build *.egg-info .aion
