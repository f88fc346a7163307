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

# Without TELEGRAM_BOT_TOKEN: the local sandbox. With it: init ./data if needed, then run. The key
# goes to ~/.config/outreach-bot/key unless a way to it is set (README, "The key"): never into ./data.
run: $(STAMP)
	@if [ -z "$$TELEGRAM_BOT_TOKEN" ]; then \
		exec $(BIN)/outreach-bot sandbox --reason no-token; \
	else \
		if [ -z "$$OUTREACH_KEY$$OUTREACH_KEY_FILE$$OUTREACH_KEY_COMMAND$$CREDENTIALS_DIRECTORY" ]; then \
			export OUTREACH_KEY_FILE="$$HOME/.config/outreach-bot/key"; \
		fi; \
		$(BIN)/outreach-bot init && exec $(BIN)/outreach-bot run; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot storage config
	$(BIN)/hadolint Dockerfile

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Translations: extract English source texts, merge them into each catalog, show what is left
# to translate. Re-run after adding texts; then fill the empty msgstr "" entries of every
# bot/locales/<lang>/LC_MESSAGES/messages.po. tests/test_i18n.py fails until none is empty.
I18N_LANGS := es fr pt ar
i18n: $(STAMP)
	$(BIN)/pybabel extract -F bot/locales/babel.cfg --no-location -k tr:2 -k N_ --add-comments=TRANSLATORS: \
		--project=outreach-bot --version=0.1.0 -o bot/locales/messages.pot bot
	for lang in $(I18N_LANGS); do \
		if [ -f bot/locales/$$lang/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update --no-fuzzy-matching -i bot/locales/messages.pot -d bot/locales -l $$lang || exit 1; \
		else \
			$(BIN)/pybabel init -i bot/locales/messages.pot -d bot/locales -l $$lang || exit 1; \
		fi; \
	done
	@$(BIN)/python -c 'import sys; from babel.messages.pofile import read_po; \
	[print(f"{l}: {sum(1 for m in c if m.id)} texts, {sum(1 for m in c if m.id and (not m.string or m.fuzzy))} to translate") \
	 for l in sys.argv[1:] for c in [read_po(open(f"bot/locales/{l}/LC_MESSAGES/messages.po", "rb"))]]' $(I18N_LANGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
