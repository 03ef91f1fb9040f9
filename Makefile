# The README's commands: `make run` serves the demo site, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask
PORT   ?= 8000
export FLASK_APP := wsgi
# Compiled modules are cached (__pycache__, ignored by git): every test process, server and
# subprocess would otherwise compile board/ again (~0.3 s of CPU each), whatever the shell sets.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test install lock lint format translations extract-messages browser bench-tools bench bench-pages faults passes clean

$(VENV)/bin/activate:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 ($(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq -c constraints.txt --upgrade pip

# The versions the suite passed with (constraints.txt): `make run`, `make test` and CI install
# exactly these; `make lock` refreshes them from the newest releases setup.cfg allows.
# -qq: errors only (setuptools explains editable installs at length on every install).
$(VENV)/.installed: $(VENV)/bin/activate setup.cfg pyproject.toml constraints.txt
	@echo "installing the project and its dependencies into $(VENV) (constraints.txt)…"
	$(PY) -m pip install -qq -c constraints.txt -e '.[test,dev]'
	@touch $@

lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install -q --upgrade pip
	.venv-lock/bin/python -m pip install -q -e '.[test,dev]'
	{ echo "# Tested versions of every dependency: written by \`make lock\`, installed by make run/test."; \
	  .venv-lock/bin/python -m pip freeze --all --exclude-editable | grep -v '^setuptools=='; \
	} > constraints.txt
	rm -rf .venv-lock
	@echo "constraints.txt refreshed: run make test, then commit it"

install: $(VENV)/.installed translations

# Compiled catalogs are build products; the .po files are the source (compiled when changed).
CATALOGS := $(patsubst %.po,%.mo,$(wildcard board/translations/*/LC_MESSAGES/messages.po))
translations: $(CATALOGS)

board/translations/%/LC_MESSAGES/messages.mo: board/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	@$(VENV)/bin/pybabel compile -f -l $* -i $< -o $@

extract-messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _lp:1c,2 --project=minsheng --version=0.1 -o board/translations/messages.pot .
	$(VENV)/bin/pybabel update --no-fuzzy-matching -i board/translations/messages.pot -d board/translations

instance/config.py:
	@mkdir -p instance
	@$(PY) -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@
	@echo "wrote $@ with a fresh SECRET_KEY"

# The demo site: SQLite in instance/, the region directory, demo data and a search index (each
# made only when missing: a second start skips straight to serving), then gunicorn on
# 127.0.0.1:$(PORT) with the search indexer and the deadline tick (reminders; demo mail is saved
# as files in instance/mail) beside it. Setup details go to instance/setup.log, the two helpers
# log to instance/worker.log and instance/tick.log, at a lower priority than the web server while
# it boots. Ctrl-C stops all three.
TICK_SECONDS ?= 120
run: install instance/config.py
	@$(FLASK) seed site --log instance/setup.log
	@# Topic tree and model from ../shared/data (first start, or new data): in the background.
	@nice $(FLASK) suggest setup --log instance/setup.log >/dev/null 2>&1 &
	@echo "民声 → http://127.0.0.1:$(PORT)  (Ctrl-C 停止)"
	@BOARD_SEARCH_APPLY_INLINE=false nice $(FLASK) search worker >>instance/worker.log 2>&1 & worker=$$!; \
	  nice $(FLASK) deadlines tick --every $(TICK_SECONDS) >>instance/tick.log 2>&1 & tick=$$!; \
	  trap 'kill $$worker $$tick 2>/dev/null; wait $$worker $$tick 2>/dev/null' EXIT INT TERM; \
	  BOARD_SEARCH_APPLY_INLINE=false PORT=$(PORT) $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

# Debian's Chromium drives the browser tests (Playwright uses it; it downloads no browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium"; fi; }

# Two processes share the suite (pytest-xdist); `make test TEST_WORKERS=0` runs it in one.
TEST_WORKERS ?= auto
test: install browser
	$(PY) -m pytest -n $(TEST_WORKERS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check board tests bench
	$(VENV)/bin/ruff format --check board tests bench

format: $(VENV)/.installed
	$(VENV)/bin/ruff format board tests bench
	$(VENV)/bin/ruff check --fix board tests bench

# wrk drives the page benchmark (Debian's package; bench/pages.py falls back to a slower Python
# load generator without it, which cannot saturate four workers on two cores).
bench-tools:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "wrk missing: sudo apt-get install wrk (bench/pages.py uses a Python load generator meanwhile)"; fi; }

# Speed benchmarks at scale (see bench/README.md): search, then statistics pages.
BENCH_DIR ?= /tmp/minsheng-bench
BENCH_MESSAGES ?= 100000
bench: install bench-tools
	$(PY) bench/speed.py --dir $(BENCH_DIR) --messages $(BENCH_MESSAGES) --procs 2 all
	$(PY) bench/stats_bench.py --messages $(BENCH_MESSAGES)
	$(PY) bench/pages.py --messages $(BENCH_MESSAGES)

# Public page throughput against a minimal Flask list page, side by side (docs/performance.md).
bench-pages: install bench-tools
	$(PY) bench/pages.py --messages $(BENCH_MESSAGES)

# The load-and-fault harness in full on both databases (a short form runs in make test).
faults: install
	$(PY) bench/faults.py --database both

# The full phone and English passes over every page of every role (a short form runs in make
# test): starts a demo site on a throwaway database, or checks PASSES_URL when set.
passes: install browser
	$(PY) bench/browser_pass.py $(if $(PASSES_URL),--url $(PASSES_URL))

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
