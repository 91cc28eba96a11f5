# Two things to run on a fresh clone with Python 3.11+ and make (see README):
#   make synth STACK=staging   offline synth of a stack with its checks
#   make test                  lint, types and the test suite
PYTHON ?= python3
STACK ?= staging
VENV := .venv
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
NCA_VENV := .venv-nca
NCA_VERSION := 2.1.0

.PHONY: setup tools synth test lint docs snapshot-stateful clean

setup: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(NCA_VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# checkov pins packaging<24 while pulumi needs >=26: it gets a venv of its own.
$(CHECKOV_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# network-config-analyzer pins PyYAML==6.0.2 while the project pins 6.0.4: it gets a venv of its own.
$(NCA_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(NCA_VENV)
	$(NCA_VENV)/bin/pip install --quiet --upgrade pip
	$(NCA_VENV)/bin/pip install --quiet network-config-analyzer==$(NCA_VERSION)
	touch $@

synth: setup
	$(VENV)/bin/python -m silhouette_infra synth --stack $(STACK) $(if $(OUT),--out $(OUT))

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# promtool and amtool test the alert rules and the Alertmanager config: Debian's packages, installed
# here when missing on a Debian machine run as root (as CI is), else a clear message.
tools:
	@command -v promtool >/dev/null && command -v amtool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      prometheus prometheus-alertmanager; \
	  else \
	    echo "promtool and amtool are needed: install the Debian packages prometheus and prometheus-alertmanager" >&2; \
	    exit 1; \
	  fi; }

test: setup tools lint
	$(VENV)/bin/pytest -q

docs: $(VENV)/.installed
	$(VENV)/bin/python -m silhouette_infra docs

# After a deliberate replacement or a new stateful resource (see README, "Replacing a stateful resource").
snapshot-stateful: setup
	UPDATE_STATEFUL_SNAPSHOT=1 $(VENV)/bin/pytest -q tests/test_stateful_protection.py -k no_change

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(NCA_VENV) out .pytest_cache .mypy_cache .ruff_cache
