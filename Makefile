# Two commands do everything on a fresh machine:
#   make test                 the test suite (what CI runs)
#   make reproduce-table2     the main job (embedded eye world unless
#                             UNITYEYES=... MPIIGAZE=... are given)
# Each creates .venv and installs the project into it first.
# The reproduce-* targets pass ARGS on to the binary, e.g.
#   make reproduce-table2 ARGS="--set simgan.steps=2000 --rows=synthetic_1x" \
#     RESULTS=results/steps2000
# (a changed preset needs folders of its own: RESULTS moves them all).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The Turing-test page is tested in Debian's chromium (installed as root if
# missing; playwright drives it, never downloading a browser of its own).
BROWSER_STAMP := $(VENV)/.chromium
RESULTS ?= results

.PHONY: venv test test-slow reproduce-table2 reproduce-table2-seeds reproduce-table4 benchmark clean

venv: $(STAMP)

# setup.cfg holds compatible ranges; constraints.txt the exact versions tested.
$(STAMP): setup.py setup.cfg pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

$(BROWSER_STAMP): $(STAMP)
	command -v chromium >/dev/null || \
	  apt-get install -y -q --no-install-recommends chromium >/dev/null || \
	  { apt-get update -q >/dev/null && \
	    apt-get install -y -q --no-install-recommends chromium >/dev/null; }
	touch $(BROWSER_STAMP)

# SIMGAN_BROWSER=required: the browser test fails, not skips, without one.
test: $(STAMP) $(BROWSER_STAMP)
	SIMGAN_BROWSER=required TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q

test-slow: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q -m slow

benchmark: $(STAMP)
	$(PY) -m benchmarks.data_speed --output=$(RESULTS)/data_speed.json
	$(PY) -m benchmarks.data_speed --images=2000 --warmup=200 \
	  --sources='embedded-hands-sim?n=2000&views=all,embedded-hands-real?n=2000&views=all' \
	  --image_size=64x64 --output=$(RESULTS)/data_speed_hands.json
	$(PY) -m benchmarks.throughput --output=$(RESULTS)/throughput.json

reproduce-table2: $(STAMP)
	$(PY) -m benchmarks.reproduce_table2 \
	  --results=$(RESULTS)/table2$(if $(UNITYEYES),_real) \
	  $(if $(UNITYEYES),--unityeyes=$(UNITYEYES)) \
	  $(if $(MPIIGAZE),--mpiigaze=$(MPIIGAZE)) $(ARGS)

# The spread study of the quick preset: three seeds (seed 0 also retrains the
# refined_1x row on refiner snapshots spread over its run), then spread.md
# over seeds.
reproduce-table2-seeds: $(STAMP)
	for s in 0 1 2; do \
	  $(PY) -m benchmarks.reproduce_table2 --seed=$$s \
	    --results=$(RESULTS)/table2_seeds/seed_$$s \
	    $$( [ $$s = 0 ] && echo --snapshot_study ) $(ARGS) || exit 1; \
	done
	$(PY) -m benchmarks.seed_spread --results=$(RESULTS)/table2_seeds

# The hand-pose experiment: the embedded depth-hand world by default, NYU
# hands with NYU=/path/to/dataset (holding train/ and test/).
reproduce-table4: $(STAMP)
	$(PY) -m benchmarks.reproduce_table4 \
	  --results=$(RESULTS)/table4$(if $(NYU),_real) $(if $(NYU),--nyu=$(NYU)) \
	  $(ARGS)

clean:
	rm -rf $(VENV) $(RESULTS)
