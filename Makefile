# Two commands do everything on a fresh machine:
#   make test                 the test suite (what CI runs)
#   make reproduce-table2     the main job (embedded eye world unless
#                             UNITYEYES=... MPIIGAZE=... are given)
# Each creates .venv and installs the project into it first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RESULTS ?= results

.PHONY: venv test test-slow reproduce-table2 benchmark clean

venv: $(STAMP)

$(STAMP): setup.py setup.cfg requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

test: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q

test-slow: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q -m slow

benchmark: $(STAMP)
	$(PY) -m benchmarks.data_speed --output=$(RESULTS)/data_speed.json
	$(PY) -m benchmarks.throughput --output=$(RESULTS)/throughput.json

reproduce-table2: $(STAMP)
	$(PY) -m benchmarks.reproduce_table2 --results=$(RESULTS)/table2 \
	  $(if $(UNITYEYES),--unityeyes=$(UNITYEYES)) \
	  $(if $(MPIIGAZE),--mpiigaze=$(MPIIGAZE))

clean:
	rm -rf $(VENV) $(RESULTS)
