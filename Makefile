# Two commands on a fresh machine: `make run` and `make test`. Both make .venv by themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench i18n i18n-update clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Without TELEGRAM_BOT_TOKEN: the local sandbox. With it: init ./data if needed, then run.
run: $(STAMP)
	@if [ -z "$$TELEGRAM_BOT_TOKEN" ]; then \
		exec $(BIN)/outreach-bot sandbox --reason no-token; \
	else \
		$(BIN)/outreach-bot init && exec $(BIN)/outreach-bot run; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot storage config
	$(BIN)/hadolint Dockerfile

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Translations: extract English source texts, merge them into each catalog.
i18n: $(STAMP)
	$(BIN)/pybabel extract --no-location -k tr:2 -k N_ -o bot/locales/messages.pot bot
	for lang in es fr pt ar; do \
		if [ -f bot/locales/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update --no-fuzzy-matching -i bot/locales/messages.pot -d bot/locales -l $$lang; \
		else \
			$(BIN)/pybabel init -i bot/locales/messages.pot -d bot/locales -l $$lang; \
		fi; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
