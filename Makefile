# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ORACLE_VENV := .venv-oracles
CHROMIUM := /usr/bin/chromium
HAPROXY := /usr/sbin/haproxy
REPLICAS ?= 2
COURSE_PORT ?= 8500
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run serve test lint oracles screenshots bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(VENV)/.run-installed $@

$(CHROMIUM):
	$(SUDO) apt-get update
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium

$(HAPROXY):
	$(SUDO) apt-get update
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y haproxy

run: $(VENV)/.run-installed
	$(PY) -m streamlit run app.py --server.port $(PORT)

# A course: REPLICAS app servers behind HAProxy on COURSE_PORT (README, "Deploy for a course"). Ctrl-C stops all.
serve: $(VENV)/.run-installed $(HAPROXY)
	$(PY) -m deploy.course serve --replicas $(REPLICAS) --port $(COURSE_PORT)

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .

# pytest-xdist: TEST_WORKERS processes share the tests; those of a module with a shared set-up stay on one worker
# (tests/conftest.py). TEST_WORKERS=0 runs everything in this process, as a plain `pytest -q` does.
TEST_WORKERS ?= 2
test: $(VENV)/.dev-installed $(CHROMIUM) $(HAPROXY)
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

# PyTorch and TensorFlow are heavy: their oracle tests live in a venv of their own.
$(ORACLE_VENV)/.installed: requirements-oracles.txt requirements-dev.txt requirements.txt
	$(PYTHON) -m venv $(ORACLE_VENV)
	$(ORACLE_VENV)/bin/python -m pip install -q --upgrade pip
	$(ORACLE_VENV)/bin/python -m pip install -q -r requirements-oracles.txt
	touch $@

oracles: $(ORACLE_VENV)/.installed
	TF_CPP_MIN_LOG_LEVEL=3 $(ORACLE_VENV)/bin/python -m pytest -q -W ignore tests/oracles tests/test_oracle_onnxruntime.py

screenshots: $(VENV)/.dev-installed $(CHROMIUM)
	QUANTVIZ_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q tests/browser -k screenshots

bench: $(VENV)/.dev-installed $(CHROMIUM) $(HAPROXY)
	PYTHONPATH=. $(PY) -m bench.run

clean:
	rm -rf $(VENV) $(ORACLE_VENV)
