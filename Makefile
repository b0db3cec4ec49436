# newsdigest: `make site` then `make test` on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SITE ?= .
EVAL := ../shared/eval

.PHONY: site build ingest serve test lint eval bench check deploy lock clean test-deps

site: $(VENV)/.compiled  ## ingest the sample wire copy and build output/
	$(PY) build.py --site $(SITE)

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "newsdigest needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	touch $@

# The code compiled to bytecode once, as pip does for an installed package: where Python may not
# write it (PYTHONDONTWRITEBYTECODE), each command compiled every module again (0.07 s a build).
$(VENV)/.compiled: $(VENV)/.installed $(wildcard newsdigest/*.py)
	$(PY) -m compileall -q newsdigest
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

test-deps: $(VENV)/.dev-installed  ## Python test tools plus Chromium and Java for the browser and HTML checks
	bash tests/tools/install.sh

build: $(VENV)/.compiled
	$(PY) build.py build --site $(SITE)

ingest: $(VENV)/.compiled
	$(PY) build.py ingest --site $(SITE)

serve: $(VENV)/.compiled  ## preview with live reload on http://127.0.0.1:8000/
	$(PY) build.py serve --site $(SITE)

check: $(VENV)/.compiled  ## crawl the built site under its Pages path for broken links
	$(PY) build.py check --site $(SITE)

deploy: $(VENV)/.compiled
	$(PY) build.py deploy --site $(SITE)

test: test-deps  ## the whole test suite
	$(VENV)/bin/ruff check newsdigest tests bench build.py
	$(PY) -m pytest -q

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check newsdigest tests bench build.py

eval: $(VENV)/.compiled  ## entity and thread scores on the dev sets in ../shared/eval
	$(PY) bench/eval.py --eval-dir $(EVAL)

$(VENV)/.bench-installed: $(VENV)/.installed requirements-bench.txt
	$(PY) -m pip install --quiet --require-hashes -r requirements-bench.txt
	touch $@

bench: $(VENV)/.bench-installed $(VENV)/.compiled  ## build and ingest benchmark, Hugo side by side
	$(PY) bench/run.py

lock:  ## re-pin requirements*.txt with hashes from requirements*.in
	$(PY) -m pip install --quiet pip-tools==7.6.2
	$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe -o requirements.txt requirements.in
	$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe -o requirements-dev.txt requirements-dev.in
	$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe -o requirements-bench.txt requirements-bench.in

clean:
	rm -rf output .cache
