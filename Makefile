# Build and test entry points for the cloudops.apigw_tracing collection.
#
# `make test` on a machine with python3.11, python3.12 (on PATH or through pyenv), git
# and make installs every tool into git-ignored folders (.venv/, .build/, plus
# ansible-test's own cache under ~/.ansible/test/) and runs every gate. Nothing here
# needs Ansible Galaxy or ci-files.testing.ansible.com; PyPI is the only registry used.
#
# Two legs, each with its own venv, collections tree and ansible-test staging dir:
#   LEG=2.19 (default)  ansible-core 2.19, Python 3.11, amazon.aws 10.1.2   .venv/, .build/
#   LEG=2.21            ansible-core 2.21, Python 3.12, amazon.aws 11.4.0   .build/core2.21/
# Every target below runs on the 2.19 leg unless LEG=2.21 is given; `make test` runs
# the 2.21 leg's sanity, units and integration too (the *-2.21 gates).
#
#   make deps            venv + tools, amazon.aws, get-pip shims (idempotent, stamped)
#   make eda-deps        ansible-rulebook 1.3.2 in a venv of its own ($(BUILD)/eda-venv) for the event source's test (stamped)
#   make lint            ansible-lint --profile production (offline)
#   make cfn-lint        cfn-lint on the CloudFormation templates of extensions/eda/cloudformation (continuous remediation)
#   make static          pytest tests/static: checks that run no playbook (IAM policies, AWX files, EE definition,
#                        the test harness's local AWS and proxy), on the checkout, in seconds; 2.19 leg only
#   make sanity          ansible-test sanity on a staged copy of the collection
#   make units           ansible-test units on a staged copy of the collection
#   make integration     pytest tests/integration: real ansible-playbook runs (moto stands in for AWS)
#   make changelog-lint  antsibull-changelog lint
#   make docs            ansible-doc renders every module, plugin and role; the documentation site (.build/docsite)
#   make docs-lint       antsibull-docs lint-collection-docs --plugin-docs
#   make test-matrix     sanity, units and integration on the 2.21 leg (gates sanity-2.21 ...)
#   make test            deps, then every gate above; non-zero if any gate failed
#   make browser         Debian's chromium-headless-shell for the browser test of report.html, when root with apt-get (never fails)
#   make demo            tools/demo.py; installs only what it needs (ansible-core, boto3, moto), not the test toolchain
#   make demo-events     tools/demo_events.py: a stage shipped untraced is traced by the shipped rulebook (eda-deps; needs Java 17)
#   make bench           tests/bench/bench.py: the speed goals, 3 runs, met / NOT met (not part of test; never fails on a goal)
#   make clean           remove .venv, .build, tests/output and tool caches

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

# ---- configuration --------------------------------------------------------
COLLECTION := cloudops.apigw_tracing
NAMESPACE := cloudops
NAME := apigw_tracing
# The interpreters that create each leg's venv. PYTHON312 is looked up when that leg needs it:
# python3.12 on PATH if it runs (a pyenv shim of a version not selected does not), else pyenv's.
PYTHON ?= python3
PYTHON312 ?= $(shell for py in python3.12 "$$(pyenv prefix 3.12 2>/dev/null | head -1)/bin/python3.12"; do \
	"$$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 && { command -v "$$py"; break; }; done)

# Settings of a leg are fixed here, not taken from the command line, as `make test` runs both.
# ANSIBLE_PKG_VERSION: the `ansible` package on PyPI whose bundled amazon.aws we extract
# (12.3.0 bundles amazon.aws 10.1.2, 14.5.0 bundles 11.4.0).
LEG ?= 2.19
LEGS := 2.19 2.21
ifeq ($(LEG),2.19)
LEG_PYTHON = $(PYTHON)
LEG_PYTHON_VAR := PYTHON
PY_VERSION := 3.11
ANSIBLE_PKG_VERSION := 12.3.0
BUILD := $(CURDIR)/.build
VENV := $(CURDIR)/.venv
else ifeq ($(LEG),2.21)
LEG_PYTHON = $(PYTHON312)
LEG_PYTHON_VAR := PYTHON312
PY_VERSION := 3.12
ANSIBLE_PKG_VERSION := 14.5.0
# Inside .build, which git, ansible-lint and the collection build already ignore.
BUILD := $(CURDIR)/.build/core$(LEG)
VENV := $(BUILD)/venv
else
$(error LEG=$(LEG) is not one of: $(LEGS))
endif
CORE_REQ := tests/requirements/core-$(LEG).txt
# pip versions ansible-test bootstraps into its venvs: 24.2 (ansible-core 2.19), 25.2 (2.21).
GET_PIP_VERSIONS ?= 24.2 25.2
ANSIBLE_TEST_CACHE ?= $(HOME)/.ansible/test/cache
# Extra options, e.g. `make sanity SANITY_OPTS='--test pylint'` or `make units UNITS_OPTS='-v'`.
SANITY_OPTS ?=
UNITS_OPTS ?=
PYTEST_OPTS ?=
STATIC_OPTS ?=
# Integration tests run in parallel (pytest-xdist), each worker with its own local AWS; most of their
# time is ansible-playbook processes, so one worker per core.
INTEGRATION_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
LINT_OPTS ?=
# Set to 1 to let units/docs pass when there are no unit tests / modules yet (bootstrap only).
ALLOW_EMPTY ?= 0

VBIN := $(VENV)/bin
VPY := $(VBIN)/python
DL_CACHE := $(BUILD)/cache
COLLECTIONS := $(BUILD)/collections
AMAZON_AWS := $(COLLECTIONS)/ansible_collections/amazon/aws
SELF_LINK := $(COLLECTIONS)/ansible_collections/$(NAMESPACE)/$(NAME)
AT_ROOT := $(BUILD)/ansible-test
AT_COLL := $(AT_ROOT)/ansible_collections/$(NAMESPACE)/$(NAME)

DEPS_STAMP := $(VENV)/.deps.stamp
DEMO_STAMP := $(VENV)/.demo.stamp
DEMO_REQ_FILES := requirements.txt $(CORE_REQ) tests/requirements/demo.txt
AWS_STAMP := $(AMAZON_AWS)/.extracted-from-ansible-$(ANSIBLE_PKG_VERSION)
REQ_FILES := requirements.txt test-requirements.txt $(CORE_REQ) $(wildcard tests/unit/requirements.txt tests/integration/requirements.txt)

# Environment for every tool: the venv first on PATH (so `python3.X`, `ansible-*`,
# `shellcheck` are the venv's), and only our collections tree for Ansible.
TOOL_ENV := env PATH="$(VBIN):$$PATH" VIRTUAL_ENV="$(VENV)" \
	ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS)" \
	ANSIBLE_NOCOLOR=1 ANSIBLE_DEPRECATION_WARNINGS=false

# The 2.21 leg runs the gates that prove the code on that ansible-core and Python; lint, the static
# checks and the changelog and docs checks are about the files, so they run once, on the 2.19 leg.
MATRIX_GATES := sanity units integration
# In `make test`, in this order. ansible-test sanity keeps one core busy: the two legs' sanity run side by side
# (PAIRED_GATES: the second starts with the first and is reported after it), late enough for the 2.21 leg's venv,
# installed in the background meanwhile, to be ready.
GATES := lint cfn-lint static units changelog-lint docs docs-lint sanity sanity-2.21 integration units-2.21 integration-2.21
PAIRED_GATES := sanity:sanity-2.21

.PHONY: all deps eda-deps java browser self-link lint cfn-lint static sanity units integration changelog-lint docs docs-lint test test-matrix demo demo-events bench clean stage get-pip-shims \
	$(addsuffix -2.21,$(MATRIX_GATES) deps)

all: test

# ---- deps -----------------------------------------------------------------
deps: $(DEPS_STAMP) $(AWS_STAMP) get-pip-shims self-link

# Our collection, seen by Ansible in the collections tree beside amazon.aws.
self-link:
	@mkdir -p "$(dir $(SELF_LINK))"
	@if [ "$$(readlink "$(SELF_LINK)" 2>/dev/null)" != "$(CURDIR)" ]; then \
		rm -rf "$(SELF_LINK)"; ln -s "$(CURDIR)" "$(SELF_LINK)"; \
		echo "linked $(SELF_LINK) -> $(CURDIR)"; fi

# The leg's venv, created with the leg's Python when missing or of another version.
define ENSURE_VENV
	@if ! "$(VPY)" -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(PY_VERSION)".split("."))))' 2>/dev/null; then \
		py="$(LEG_PYTHON)"; \
		if [ -z "$$py" ]; then echo "ERROR: the ansible-core $(LEG) leg needs Python $(PY_VERSION): none found as python$(PY_VERSION)" \
			"on PATH or under \`pyenv prefix $(PY_VERSION)\`; install it or run make $(LEG_PYTHON_VAR)=/path/to/python$(PY_VERSION)" >&2; exit 1; fi; \
		"$$py" -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(PY_VERSION)".split("."))))' 2>/dev/null \
			|| { echo "ERROR: $$py is not Python $(PY_VERSION); run make $(LEG_PYTHON_VAR)=python$(PY_VERSION)" >&2; exit 1; }; \
		echo "creating $(VENV) with $$("$$py" -V)"; rm -rf "$(VENV)"; \
		"$$py" -m venv "$(VENV)"; fi
endef

$(DEPS_STAMP): $(REQ_FILES)
	$(ENSURE_VENV)
	@echo "installing the test toolchain into $(VENV) (ansible-core $(LEG), boto3, moto, pytest, ansible-lint, antsibull, ansible-runner, ansible-builder...)"
	"$(VPY)" -m pip install --disable-pip-version-check --quiet $(addprefix -r ,$(REQ_FILES)) 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	@"$(VPY)" -m pip check
	@touch "$@" "$(DEMO_STAMP)"

# Only what the demo runs: ansible-core, boto3/botocore and moto (about a fifth of the test toolchain).
$(DEMO_STAMP): $(DEMO_REQ_FILES)
	$(ENSURE_VENV)
	@echo "installing what the demo needs into $(VENV): ansible-core $(LEG), boto3, botocore, moto[server] (a minute or so the first time)"
	"$(VPY)" -m pip install --disable-pip-version-check --quiet $(addprefix -r ,$(DEMO_REQ_FILES)) 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	@touch "$@"

$(AWS_STAMP): tools/bootstrap/fetch_amazon_aws.py | $(DEMO_STAMP)
	@echo "extracting amazon.aws from the ansible $(ANSIBLE_PKG_VERSION) package on PyPI into $(COLLECTIONS)"
	"$(VPY)" tools/bootstrap/fetch_amazon_aws.py --python "$(VPY)" --ansible-version $(ANSIBLE_PKG_VERSION) \
		--cache "$(DL_CACHE)" --dest "$(COLLECTIONS)" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	@touch "$@"

# ansible-rulebook (tests/requirements/eda.txt) with the leg venv's own ansible-core, in a venv of its own: never in
# the leg's venv, whose pins it must not move. tests/integration/test_eda_source.py runs the event source under it, and
# test_eda_remediation.py the shipped rulebook (both skip, saying why, without it or without Java 17: `make java`). Reinstalled when eda.txt or
# the leg's ansible-core version changes; a no-op otherwise.
EDA_PYTHON ?= python3.11
EDA_VENV := $(BUILD)/eda-venv
EDA_REQ := tests/requirements/eda.txt
eda-deps: $(DEMO_STAMP)
	@core=$$("$(VPY)" -c 'import ansible.release; print(ansible.release.__version__)'); \
	want="ansible-core==$$core $$(sha256sum < "$(EDA_REQ)" | cut -c1-16)"; stamp="$(EDA_VENV)/.eda-deps.stamp"; \
	if [ -x "$(EDA_VENV)/bin/ansible-rulebook" ] && [ "$$(cat "$$stamp" 2>/dev/null)" = "$$want" ]; then exit 0; fi; \
	if ! "$(EDA_VENV)/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then \
		echo "creating $(EDA_VENV) with $$("$(EDA_PYTHON)" -V)"; rm -rf "$(EDA_VENV)"; "$(EDA_PYTHON)" -m venv "$(EDA_VENV)"; fi; \
	echo "installing ansible-rulebook (tests/requirements/eda.txt) and ansible-core==$$core into $(EDA_VENV)"; \
	"$(EDA_VENV)/bin/python" -m pip install --disable-pip-version-check --quiet -r "$(EDA_REQ)" "ansible-core==$$core" \
		2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); \
	"$(EDA_VENV)/bin/python" -m pip check; \
	echo "$$want" > "$$stamp"
	@$(MAKE) --no-print-directory java

# $(call apt_install,WHAT,PACKAGE,WHY,WITHOUT): install PACKAGE with apt-get when this is a root Debian machine;
# never fails the run (WITHOUT says what then skips).
define apt_install
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
		echo "$(1): none on PATH and no way to install one here (needs root and apt-get): $(4)"; \
	else \
		echo "$(1): installing Debian's $(2) with apt-get ($(3))"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q --no-install-recommends $(2) \
			|| { apt-get update -q && apt-get install -y -q --no-install-recommends $(2); } \
			|| echo "$(1): apt-get could not install $(2): $(4)"; \
	fi
endef

# ansible-rulebook's rules engine needs a Java 17 runtime: installed with apt-get where it is missing and this is a root
# Debian machine (as `make browser` installs Chromium); never fatal, the rulebook tests skip, saying why, without it.
JAVA_PACKAGE ?= openjdk-17-jre-headless
java:
	@if java -version >/dev/null 2>&1; then echo "java: $$(java -version 2>&1 | head -1)"; else \
		$(call apt_install,java,$(JAVA_PACKAGE),ansible-rulebook needs Java 17,the rulebook tests will skip); fi

# Cheap when done: only fetches a missing wheel or rewrites a changed shim.
get-pip-shims: | $(DEPS_STAMP)
	@"$(VPY)" tools/bootstrap/get_pip_offline.py --seed-dir "$(ANSIBLE_TEST_CACHE)" \
		--versions $(GET_PIP_VERSIONS) --python "$(VPY)" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

# ---- gates ----------------------------------------------------------------
# ansible-lint (config in .ansible-lint), plus shellcheck on shell scripts ansible-test's
# shellcheck sanity test does not see (it only checks *.sh files).
lint: deps
	@rc=0; \
	echo "+ ansible-lint --profile production --offline"; \
	$(TOOL_ENV) ansible-lint --profile production --offline --nocolor $(LINT_OPTS) || rc=1; \
	echo "+ shellcheck .ci/run"; \
	$(TOOL_ENV) shellcheck .ci/run && echo "shellcheck: ok" || rc=1; \
	exit $$rc

# cfn-lint on the templates users deploy for continuous remediation (docs/eda.md): the EventBridge rule, its queue
# and dead-letter queue, the central bus and the member accounts' forwarder. Their event pattern is checked against
# the event source by tests/static/test_eda_cloudformation.py (make static).
CFN_TEMPLATES := $(wildcard extensions/eda/cloudformation/*.yaml)
cfn-lint: deps
	@if [ -z "$(CFN_TEMPLATES)" ]; then echo "ERROR: no CloudFormation templates under extensions/eda/cloudformation" >&2; exit 1; fi
	$(TOOL_ENV) cfn-lint --format parseable $(CFN_TEMPLATES) && echo "cfn-lint: ok ($(words $(CFN_TEMPLATES)) templates)"

# Checks that need no Ansible run, with the venv's pytest on the checkout itself (they read docs/, tools/ and
# tests/support/, which the tarball does not ship, so they are not unit tests): the IAM policies against the AWS
# calls derived from the code, the files docs/awx.md has users import, the execution environment definition, and
# the test harness's own local AWS and AWS-like proxy. Serial (about 20 s here): pytest-xdist's workers, each with a
# local AWS of its own, cost more than they save.
static: deps
	$(TOOL_ENV) "$(VPY)" -m pytest tests/static -p no:cacheprovider $(STATIC_OPTS)

# Fresh real copy of the collection (tracked + untracked-not-ignored files) with amazon.aws beside it.
stage: deps
	@"$(VPY)" tools/bootstrap/stage_collection.py --src "$(CURDIR)" --root "$(AT_ROOT)" \
		--name $(COLLECTION) --link "amazon.aws=$(AMAZON_AWS)"

sanity: stage
	cd "$(AT_COLL)" && $(TOOL_ENV) ansible-test sanity --python $(PY_VERSION) --color no $(SANITY_OPTS)

units: stage
	@if [ -z "$$(find tests/unit -name 'test_*.py' 2>/dev/null | head -1)" ]; then \
		if [ "$(ALLOW_EMPTY)" = 1 ]; then echo "WARNING: no unit tests under tests/unit (ALLOW_EMPTY=1)"; exit 0; fi; \
		echo "ERROR: no unit tests (tests/unit/**/test_*.py)" >&2; exit 1; fi; \
	cd "$(AT_COLL)" && $(TOOL_ENV) ansible-test units --python $(PY_VERSION) --color no $(UNITS_OPTS)

# Headless Chromium for tests/integration/test_report_html_browser.py, which skips (saying why) without one. Installed
# from Debian's packages when we are root and have apt-get; never fails the run (a machine without apt has no browser test).
BROWSER_PACKAGE := chromium-headless-shell
browser:
	@if found=$$(command -v chromium-headless-shell || command -v chromium || command -v chromium-browser); then echo "browser: $$found"; else \
		$(call apt_install,browser,$(BROWSER_PACKAGE),for the browser test of report.html,the browser test of report.html will skip); fi

# Integration test files whose subject is not ansible-core run on the 2.19 leg alone: the harness reaching the
# local AWS (test_harness), `make demo` and `make demo-events` (which run in the 2.19 leg's venv). The browser test
# of report.html (test_report_html_browser) is about the page, not ansible-core: 2.19 leg only too; so are the event
# source's test (test_eda_source) and the shipped rulebook's (test_eda_remediation), which run ansible-rulebook from
# the venv of eda-deps. (Checks that run no playbook at all are in tests/static, `make static`.)
ifeq ($(LEG),2.21)
INTEGRATION_PRIMARY_ONLY := test_harness test_demo test_demo_events test_report_html_browser test_eda_source test_eda_remediation
endif
# The event source's test (2.19 leg only: it runs ansible-rulebook from its own venv, whatever the leg) needs eda-deps.
integration: deps $(if $(filter 2.19,$(LEG)),eda-deps)
	$(TOOL_ENV) "$(VPY)" -m pytest tests/integration -n $(INTEGRATION_WORKERS) --dist loadgroup \
		$(foreach name,$(INTEGRATION_PRIMARY_ONLY),--ignore=tests/integration/$(name).py) $(PYTEST_OPTS)

changelog-lint: deps
	$(TOOL_ENV) antsibull-changelog lint

# Every module, plugin and role, as "type name" pairs, then one ansible-doc check for each. Then the documentation
# site: antsibull-docs writes the RST of every module, plugin and role, and copies the guides that
# docs/docsite/extra-docs.yml lists beside them, into $(DOCSITE)/rst; Sphinx builds $(DOCSITE)/html from it with
# warnings as errors and every reference checked (tools/docsite/conf.py), so a broken link or reference fails.
# tools/docsite/check_links.py checks the links to files of the repository that Sphinx does not see (Markdown files,
# links to the repository on GitHub).
DOCSITE := $(BUILD)/docsite
docs: deps
	@items=$$( \
		for spec in module:plugins/modules inventory:plugins/inventory filter:plugins/filter; do \
			find "$${spec#*:}" -maxdepth 1 -name '*.py' ! -name '__init__.py' -printf "$${spec%%:*} %f\n" 2>/dev/null | sed 's/\.py$$//'; \
		done; \
		find roles -mindepth 1 -maxdepth 1 -type d -printf 'role %f\n' 2>/dev/null); \
	if [ -z "$$items" ]; then \
		if [ "$(ALLOW_EMPTY)" = 1 ]; then echo "WARNING: nothing to document (ALLOW_EMPTY=1)"; exit 0; fi; \
		echo "ERROR: no modules, plugins or roles" >&2; exit 1; fi; \
	failed=0; \
	while read -r type name; do \
		fqcn="$(COLLECTION).$$name"; \
		if out=$$($(TOOL_ENV) ansible-doc -t $$type "$$fqcn" 2>&1) \
			&& grep -q "$$fqcn" <<<"$$out" \
			&& ! grep -qiE '^\[(ERROR|WARNING)\]|^ERROR!' <<<"$$out"; then \
			echo "ok   ansible-doc -t $$type $$fqcn ($$(wc -l <<<"$$out") lines)"; \
		else \
			echo "FAIL ansible-doc -t $$type $$fqcn"; echo "$$out" | sed 's/^/    /'; failed=1; \
		fi; \
	done < <(sort <<<"$$items"); \
	"$(VPY)" tools/docsite/check_links.py || failed=1; \
	echo "+ antsibull-docs collection $(COLLECTION): the RST of every module, plugin and role, with the guides of docs/docsite/"; \
	rm -rf "$(DOCSITE)"; mkdir -p "$(DOCSITE)"; mkdir -m 700 "$(DOCSITE)/rst"; \
	$(TOOL_ENV) antsibull-docs collection --use-current --squash-hierarchy --fail-on-error \
		--dest-dir "$(DOCSITE)/rst" $(COLLECTION) || failed=1; \
	echo "+ sphinx-build -W --keep-going -n (warnings and unresolved references are errors) into $(DOCSITE)/html"; \
	$(TOOL_ENV) sphinx-build -b html -W --keep-going -n -q -c tools/docsite -d "$(DOCSITE)/doctrees" \
		"$(DOCSITE)/rst" "$(DOCSITE)/html" && echo "ok   documentation site: $(DOCSITE)/html/index.html" || failed=1; \
	exit $$failed

# antsibull-docs checks the markup of every module, plugin and role doc, and that the plugins and
# options they reference exist. It copies the collection and its galaxy.yml dependencies, found with
# `ansible-galaxy collection list` in our collections tree, into a temporary tree and runs ansible-doc
# there. A folder inside a git work tree is copied as git lists it, and git lists nothing of amazon.aws
# under the ignored .build/; the ceiling stops git's search above it, so amazon.aws is copied whole
# and its doc fragments resolve.
docs-lint: deps
	$(TOOL_ENV) GIT_CEILING_DIRECTORIES="$(COLLECTIONS)/ansible_collections" \
		antsibull-docs lint-collection-docs --plugin-docs .

# ---- the 2.21 leg ---------------------------------------------------------
# `make sanity-2.21` is `make LEG=2.21 sanity`, and so on (deps-2.21 too); `make test` runs them as gates.
$(addsuffix -2.21,$(MATRIX_GATES) deps):
	@$(MAKE) --no-print-directory LEG=2.21 $(@:-2.21=)

# Every gate of the 2.21 leg, even after one fails; non-zero if any failed.
test-matrix:
	@rc=0; for gate in $(MATRIX_GATES); do \
		printf '==> %s on ansible-core 2.21 / Python 3.12\n' "$$gate"; \
		$(MAKE) --no-print-directory LEG=2.21 $$gate || { rc=1; printf '<== %s on ansible-core 2.21: FAIL\n' "$$gate"; }; \
	done; exit $$rc

# ---- aggregate ------------------------------------------------------------
# Runs every gate even after one fails, prints a summary, exits non-zero on any failure.
# The 2.21 leg's venv is installed in the background while the 2.19 leg's gates run (mostly downloads and
# unpacking); its log is printed, and its exit code checked, before the first 2.21 gate (or the gate it is paired
# with). So is the browser (make browser, a few seconds to a minute when missing), waited for before the integration
# gate; it never fails. A paired gate (PAIRED_GATES) runs in the background beside its partner, its output kept in a
# log printed in its turn, with its own time and verdict.
test: deps
	@results=(); rc=0; start_all=$$(date +%s); \
	mkdir -p "$(BUILD)"; deps_log="$(BUILD)/deps-2.21.log"; browser_log="$(BUILD)/browser.log"; \
	$(MAKE) --no-print-directory deps-2.21 > "$$deps_log" 2>&1 & deps_pid=$$!; \
	$(MAKE) --no-print-directory browser > "$$browser_log" 2>&1 & browser_pid=$$!; \
	paired=; paired_pid=; paired_log="$(BUILD)/paired-gate.log"; paired_done="$(BUILD)/paired-gate.done"; \
	for gate in $(GATES); do \
		partner=; for pair in $(PAIRED_GATES); do [ "$${pair%%:*}" = "$$gate" ] && partner="$${pair#*:}"; done; \
		if [ -n "$$deps_pid" ] && { [ "$${gate%-2.21}" != "$$gate" ] || [ "$${partner%-2.21}" != "$$partner" ]; }; then \
			deps_rc=0; wait "$$deps_pid" || deps_rc=$$?; deps_pid=; \
			printf '\n==> deps-2.21 (in the background): exit %s\n' "$$deps_rc"; cat "$$deps_log"; \
		fi; \
		if [ -n "$$browser_pid" ] && [ "$$gate" = integration ]; then \
			wait "$$browser_pid" || true; browser_pid=; \
			printf '\n==> browser (in the background)\n'; tail -n 5 "$$browser_log"; \
		fi; \
		printf '\n%s\n==> %s\n%s\n' "$$(printf '=%.0s' {1..72})" "$$gate" "$$(printf '=%.0s' {1..72})"; \
		start=$$(date +%s); \
		if [ "$$gate" = "$$paired" ]; then \
			printf '(started with the gate before it, side by side)\n'; \
			wait "$$paired_pid" || true; paired=; cat "$$paired_log"; \
			read -r status secs < "$$paired_done" || { status=FAIL; secs=0; }; [ "$$status" = PASS ] || rc=1; \
		else \
			if [ -n "$$partner" ]; then \
				rm -f "$$paired_done"; paired="$$partner"; \
				( p_start=$$(date +%s); \
				  if $(MAKE) --no-print-directory "$$partner" > "$$paired_log" 2>&1; then p_status=PASS; else p_status=FAIL; fi; \
				  echo "$$p_status $$(( $$(date +%s) - p_start ))" > "$$paired_done" ) & paired_pid=$$!; \
			fi; \
			if $(MAKE) --no-print-directory $$gate; then status=PASS; else status=FAIL; rc=1; fi; \
			secs=$$(( $$(date +%s) - start )); \
		fi; \
		printf '<== %s: %s (%ss)\n' "$$gate" "$$status" "$$secs"; \
		results+=("$$(printf '%-16s %s %5ss' "$$gate" "$$status" "$$secs")"); \
	done; \
	printf '\n%s\nSummary (%ss in all)\n' "$$(printf '=%.0s' {1..72})" "$$(( $$(date +%s) - start_all ))"; \
	printf '  %s\n' "$${results[@]}"; \
	passed=$$(printf '%s\n' "$${results[@]}" | grep -c ' PASS ' || true); \
	printf 'gates: %s passed, %s failed\n' "$$passed" "$$(( $(words $(GATES)) - passed ))"; \
	exit $$rc

demo: $(DEMO_STAMP) $(AWS_STAMP) self-link
	$(TOOL_ENV) "$(VPY)" tools/demo.py

# Continuous remediation end to end on the local AWS: the shipped rulebook under ansible-rulebook (eda-deps) traces a
# stage that shipped untraced, and the demo prints the seconds from the event to the fix. Without Java 17 it says so and
# fails; eda-deps does not install Java.
demo-events: $(DEMO_STAMP) $(AWS_STAMP) self-link eda-deps
	$(TOOL_ENV) "$(VPY)" tools/demo_events.py

# About 15 minutes: three runs of each world, some paced under the same request quota as AWS; installs c7n-org into its
# own venv under .build/bench/ the first time; world E2 times continuous remediation under ansible-rulebook (eda-deps;
# reported as not run, with the reason, without Java 17). Ends with a Markdown table, also in .build/bench/results.md.
# BENCH_OPTS, e.g. --quick (one run of smaller worlds, to iterate), --runs 5, --no-c7n-org, --keep.
BENCH_OPTS ?=
bench: deps eda-deps
	$(TOOL_ENV) "$(VPY)" tests/bench/bench.py $(BENCH_OPTS)

clean:
	rm -rf "$(VENV)" "$(BUILD)" tests/output .ansible .pytest_cache
