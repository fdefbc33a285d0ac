# The two commands a new user needs: `make run` and `make test`. Everything else is for developers.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app certification
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
# Queue worker threads (bulk issuing renders in its own pool of processes, one per core).
QUEUE_WORKERS ?= 2
# The test suite runs on SQLite and again on this PostgreSQL; without a server that run is skipped.
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL

.PHONY: run test test-fast lint format install interop upgrade clean bench catalogues translations check-translations

# Installs come from uv.lock (exact versions and hashes); pyproject.toml keeps the ranges.
# uv itself is pinned by hash in .ci/uv-requirements.txt and lives in its own venv, .tools.
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
# Some machines set PYTHONDONTWRITEBYTECODE: then each of the many processes a test run
# starts compiles the project's modules again (seconds each). __pycache__ is git-ignored.
unexport PYTHONDONTWRITEBYTECODE

$(UV): .ci/uv-requirements.txt
	test -x .tools/bin/python || $(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --require-hashes -r .ci/uv-requirements.txt
	touch $@

# --locked: a pyproject.toml changed without re-locking stops here, with uv saying so.
# --compile-bytecode: every process the tests start (xdist workers, gunicorn, queue workers,
# the signing pool) then reads compiled libraries instead of compiling them again.
$(BIN)/.installed: uv.lock pyproject.toml $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --locked --extra dev --python $(PYTHON) --compile-bytecode
	touch $@

install: $(BIN)/.installed

# tests/credentials/test_node_interop.py verifies the credentials with Digital Bazaar's
# JavaScript libraries, pinned by tests/interop/package-lock.json: installed again when the
# lock file is newer than the stamp. Without npm nothing is done (the test then skips if
# there is no Node either, and fails if there is).
INTEROP := tests/interop
ifneq ($(shell command -v npm 2>/dev/null),)
$(INTEROP)/node_modules/.installed: $(INTEROP)/package-lock.json $(INTEROP)/package.json
	npm ci --prefix $(INTEROP) --no-audit --no-fund
	touch $@

interop: $(INTEROP)/node_modules/.installed
else
interop:
endif

# Translations: the .po catalogues are in git, their compiled .mo files are made here (run,
# test) and ignored. `make translations` re-extracts the template after strings changed in
# code and merges it into every catalogue; a test fails while the template is stale.
TRANSLATIONS := certification/translations
CATALOGUES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
EXTRACT := $(BIN)/pybabel -q extract -F $(TRANSLATIONS)/babel.cfg -k lazy_gettext \
	-k Phrase -k plural_phrase:1,2 \
	-c Translators: --add-location=file --sort-output --no-wrap \
	--project="European Certificate and Diploma in Imaging Informatics" \
	--copyright-holder="EFRS and EuSoMII"

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(BIN)/.installed
	$(BIN)/pybabel -q compile --use-fuzzy -i $< -o $@

catalogues: $(CATALOGUES:.po=.mo)

# Fails when a string marked for translation in the code is missing from the template, or
# one the code no longer has is still there: the header (dates) aside, a new extraction must
# give the committed template byte for byte. `make lint` runs it.
check-translations: install
	@$(EXTRACT) -o .extracted.pot .
	@sed '1,/^$$/d' .extracted.pot > .extracted.body; sed '1,/^$$/d' $(TRANSLATIONS)/messages.pot > .committed.body
	@diff -u .committed.body .extracted.body > .translations.diff || { \
		echo "$(TRANSLATIONS)/messages.pot is stale: run 'make translations' and commit the result."; \
		cat .translations.diff; rm -f .extracted.pot .extracted.body .committed.body .translations.diff; exit 1; }
	@rm -f .extracted.pot .extracted.body .committed.body .translations.diff

translations: install
	$(EXTRACT) -o $(TRANSLATIONS)/messages.pot .
	@for po in $(CATALOGUES); do \
		$(BIN)/pybabel -q update --no-wrap --ignore-obsolete --no-fuzzy-matching -i $(TRANSLATIONS)/messages.pot -o $$po -l $$(basename $$(dirname $$(dirname $$po))); \
	done

# A per-machine secret key, made once and kept out of git (instance/ is ignored).
instance/config.py:
	mkdir -p instance
	$(BIN)/python -c 'import secrets; print(f"SECRET_KEY = {secrets.token_hex(32)!r}")' > $@
	chmod 600 $@

# Certificates (their QR code and text, signed for good), share links and e-mails point at
# PUBLIC_BASE_URL: this server's own address unless it is set (environment, command line or
# instance/config.py).
ifeq ($(origin PUBLIC_BASE_URL),undefined)
ifeq ($(shell grep -s '^PUBLIC_BASE_URL' instance/config.py),)
run: export PUBLIC_BASE_URL = http://$(HOST):$(PORT)
endif
endif

run: install catalogues instance/config.py
	$(FLASK) init-db
	$(FLASK) seed-demo
	@echo "Serving on http://$(HOST):$(PORT)/ with a queue worker (Ctrl-C stops both);"
	@echo "certificates and e-mails link to $${PUBLIC_BASE_URL:-the PUBLIC_BASE_URL in instance/config.py}"
	@$(BIN)/huey_consumer certification.worker.huey --workers $(QUEUE_WORKERS) & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn -c python:certification.gunicorn_conf --workers $(WORKERS) \
		--bind $(HOST):$(PORT) --access-logfile - \
		'certification:create_app()'

# The suite runs in parallel, one process per core (TEST_WORKERS=1 for one at a time); each
# process has its own PostgreSQL database, SQLite files and ports. --dist loadfile: a file's
# tests run on one worker, in order (the browser journeys share one server and go in turn;
# xdist's finer loadgroup does not group under pytest 9.2, which ignores its node ids).
TEST_WORKERS ?= auto
test: install catalogues interop
	@start=$$(date +%s); status=0; \
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS) || status=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s wall"; exit $$status

# The edit-run loop: no browser, no real servers or workers, SQLite only.
test-fast: install catalogues interop
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not slow" -k "not postgresql" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@# bandit warns on stderr for every nosec it honours; show that only when it fails.
	$(BIN)/bandit -q -c pyproject.toml -r certification 2> .bandit.log || { cat .bandit.log; exit 1; }
	@rm -f .bandit.log
	$(MAKE) --no-print-directory check-translations

# Figures, not tests, each beside its target (docs/PERFORMANCE.md): verification throughput
# against a bare Flask app, pages at 100,000 candidates (the datasets are built once, kept in
# bench/.data), statements per page as records grow, issuing one certificate, bulk issuing,
# a 10,000-row import, pages in German, signing and checking credentials. About half an hour
# the first time.
bench: install
	@# wrk loads the verification pages (Debian's package; nothing is downloaded at run time).
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/bench_verify.py
	$(BIN)/python bench/make_dataset.py
	$(BIN)/python bench/bench_scale.py
	$(BIN)/python bench/bench_restanding.py
	QUERY_GROWTH_SIZES=1,10,100 $(BIN)/pytest -q -s -p no:cacheprovider tests/test_query_growth.py
	$(BIN)/python bench/bench_issue.py
	$(BIN)/python bench/bench_bulk.py
	$(BIN)/python bench/bench_approval.py
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_languages.py
	$(BIN)/python bench/bench_credentials.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Upgrading is on purpose: re-lock to the newest releases pyproject.toml allows, show what
# moved, install exactly that and run the suite. Commit uv.lock if it passes.
upgrade: $(UV)
	$(UV) lock --upgrade > .upgrade.log 2>&1 || { cat .upgrade.log; rm -f .upgrade.log; exit 1; }
	@grep -E '^(Updated|Added|Removed)' .upgrade.log || echo "Nothing to upgrade."; rm -f .upgrade.log
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --locked --extra dev --python $(PYTHON) --compile-bytecode
	touch $(BIN)/.installed
	$(MAKE) test

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis $(INTEROP)/node_modules
