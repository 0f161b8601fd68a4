# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python example_project/manage.py

.PHONY: demo test test-sqlite test-postgres lint format install clean screenshots bench soak docs package messages

$(STAMP): setup.cfg pyproject.toml example_project/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --config-settings editable_mode=compat \
		-e '.[drf,spectacular,test,typing,mysql]' -r example_project/requirements.txt
	touch $(STAMP)

install: $(STAMP)

## Run the example site on http://127.0.0.1:8000 (PORT=8500 for another port) with a demo
## user and client ready.
PORT ?= 8000
demo: $(STAMP)
	$(MANAGE) migrate --no-input
	DEMO_PORT=$(PORT) $(MANAGE) demo_setup
	DEMO_PORT=$(PORT) $(MANAGE) runserver 127.0.0.1:$(PORT)

## The whole suite: lint, migrations check, the package builds cleanly, then the tests on
## SQLite and on PostgreSQL.
test: $(STAMP) lint package
	$(BIN)/python -m django makemigrations --check --dry-run --settings=tests.settings --pythonpath=.
	$(MAKE) test-sqlite test-postgres test-mariadb

## Build the sdist and the wheel; fail on any warning; check them as the package index would.
package: $(STAMP)
	rm -rf .package && mkdir .package
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m build --outdir .package . > .package/build.log 2>&1 \
		|| (cat .package/build.log; exit 1)
	! grep -i "warn" .package/build.log || (echo "building the package printed warnings"; exit 1)
	$(BIN)/python -m twine check --strict .package/*.whl .package/*.tar.gz

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest

test-postgres: $(STAMP)
	OAUTHFLOW_TEST_DB=postgres $(BIN)/python -m pytest

test-mariadb: $(STAMP)
	OAUTHFLOW_TEST_DB=mariadb $(BIN)/python -m pytest

## Rewrite the settings tables in docs/settings.md from oauthflow.settings.SETTINGS.
docs: $(STAMP)
	$(BIN)/python -m oauthflow.settings --write docs/settings.md

## Update the translation catalogues after changing a marked string, then compile them
## (needs GNU gettext). Fill in the new msgstr entries in each .po and run it again.
LANGS := -l de -l fr -l es
messages: $(STAMP)
	cd oauthflow && $(abspath $(BIN))/django-admin makemessages $(LANGS) --no-obsolete --add-location file -i __pycache__
	cd oauthflow && $(abspath $(BIN))/django-admin compilemessages
	cd example_project && $(abspath $(BIN))/django-admin makemessages $(LANGS) --no-obsolete --add-location file -i 'democlient/*' -i 'example/*'
	cd example_project && $(abspath $(BIN))/django-admin compilemessages

## Regenerate the pictures in docs/images/ (consent page, demo result) in headless Chromium,
## with the browser tests' own set-up: the end-to-end walk saves them as it goes.
screenshots: $(STAMP)
	OAUTHFLOW_SCREENSHOTS=docs/images $(BIN)/python -m pytest -q -p no:cacheprovider \
		--liveserver=127.0.0.1 tests/browser/test_demo.py -k end_to_end

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## oauthflow against django-oauth-toolkit, side by side (docs/benchmarks.md). Needs PostgreSQL
## and Redis; makes its own virtualenvs under bench/. BENCH_QUICK=1 for a short smoke run.
bench:
	$(PYTHON) bench/run.py $(if $(BENCH_QUICK),--quick)

## A bounded soak (about 60 s): mixed traffic on every endpoint, 2 gunicorn workers on
## PostgreSQL; fails on any 5xx or a credential used twice (docs/benchmarks.md).
soak:
	$(PYTHON) bench/soak.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/test.sqlite3
