# sleuth — build, test and benchmark on every supported CPython.
#
#   make demo        set up everything and debug examples/buggy.py
#   make test        set up everything and run the whole suite on 3.11, 3.12, 3.13
#   make test-asan   the suite under AddressSanitizer + UBSan (one Python); TESTS="test_x.py" for some files
#   make fuzz        the debugger's command fuzz, long: many seeds, long sessions, nested
#                    debuggers (`debug`) in the mix (FUZZ_SEEDS, FUZZ_LINES, FUZZ_VERSION)
#   make fuzz-open   `sleuth open` on many mutated and random evidence files, on every
#                    version (FUZZ_OPEN_SEEDS: N for 0..N-1 or A-B, default 2000)
#   make test-peers  the replaced tools' own suites against sleuth (test_pdb, pytest's
#                    test_debugging.py, test_faulthandler, test_tracemalloc,
#                    test_traceback), sleuth's count beside the stock tool's
#   make test-diff-long  the differential test (tests/test_differential.py) with many
#                    seeds: SLEUTH_DIFF_SEEDS=N (0..N-1, default 200), A-B or a list
#   make bench       the benchmarks (plain vs sleuth vs the tools it replaces)
#
# Interpreters are found by path under pyenv's root, so no `pyenv global` is needed.

PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
VERSIONS   ?= 3.11.7 3.12.1 3.13.0
ASAN_VERSION ?= 3.12.1
VENV       := .venv
PYTEST_ARGS ?=
# Which test files `make test` and `make test-asan` run (default: all of tests/),
# e.g. make test-asan TESTS="test_memory.py test_dap_server.py"
TESTS      ?= .
TEST_DEPS  := pytest==9.2.0 setuptools wheel
export PIP_DISABLE_PIP_VERSION_CHECK=1

short = $(word 1,$(subst ., ,$(1))).$(word 2,$(subst ., ,$(1)))
py    = $(VENV)/$(call short,$(1))/bin/python

.PHONY: editor-deps all demo test test-asan test-peers test-diff-long fuzz fuzz-open bench venvs build clean $(addprefix test-,$(VERSIONS))

all: build

# --- environments -----------------------------------------------------------

$(VENV)/%/.ready: requirements-test.txt
	@base=$$(ls -d $(PYENV_ROOT)/versions/$*.* 2>/dev/null | sort -V | tail -1); \
	  test -n "$$base" || { echo "no CPython $* under $(PYENV_ROOT)/versions" >&2; exit 2; }; \
	  echo "== venv $* from $$base"; \
	  $$base/bin/python -m venv --clear $(VENV)/$* && \
	  $(VENV)/$*/bin/python -m pip install -q $(TEST_DEPS) -r requirements-test.txt
	@touch $@

venvs: $(foreach v,$(VERSIONS),$(VENV)/$(call short,$(v))/.ready)

# Non-editable install: the tests import exactly what a user would get.
build: venvs
	@rm -rf build
	@for v in $(VERSIONS); do \
	  s=$$(echo $$v | cut -d. -f1,2); \
	  echo "== build sleuth for $$s"; \
	  $(VENV)/$$s/bin/python -m pip install -q --no-build-isolation --no-deps --force-reinstall . || exit 1; \
	done

# --- tests ------------------------------------------------------------------

test: build editor-deps
	@rc=0; for v in $(VERSIONS); do \
	  s=$$(echo $$v | cut -d. -f1,2); \
	  echo "== pytest on $$s"; \
	  (cd tests && ../$(VENV)/$$s/bin/python -m pytest -q -rs $(PYTEST_ARGS) $(TESTS)) || rc=1; \
	done; exit $$rc

# A real DAP client for tests/test_dap_emacs.py: Debian's Emacs and dap-mode;
# Lua for README's Neovim configuration (tests/test_readme.py). Root, no stdin,
# as CI runs. Without apt or root those tests skip, saying so.
EDITOR_PKGS = emacs-nox elpa-dap-mode lua5.4
editor-deps:
	@if command -v emacs >/dev/null && ls -d /usr/share/emacs/site-lisp/elpa/dap-mode-* >/dev/null 2>&1 \
	    && command -v lua5.4 >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "== apt-get install $(EDITOR_PKGS) (tests/test_dap_emacs.py, tests/test_readme.py)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q $(EDITOR_PKGS) >/dev/null \
	    || { apt-get update -q >/dev/null && apt-get install -y -q $(EDITOR_PKGS) >/dev/null; } \
	    || echo "editor-deps: apt-get failed; the editor tests will skip" >&2; \
	else echo "editor-deps: not root or no apt-get; the editor tests will skip" >&2; fi

FUZZ_SEEDS   ?= 200
FUZZ_LINES   ?= 400
FUZZ_VERSION ?= 3.13.0

# Random command sessions (tests/test_robustness.py), many more and longer than CI's.
fuzz: build
	@s=$(call short,$(FUZZ_VERSION)); echo "== fuzz on $$s: $(FUZZ_SEEDS) seeds x $(FUZZ_LINES) lines"; \
	  cd tests && SLEUTH_FUZZ_SEEDS=$(FUZZ_SEEDS) SLEUTH_FUZZ_LINES=$(FUZZ_LINES) SLEUTH_FUZZ_FIRST_SEED=1000 \
	  SLEUTH_FUZZ_DEBUG=1 ../$(VENV)/$$s/bin/python -m pytest -q -rf $(PYTEST_ARGS) \
	  test_robustness.py -k fuzzed_sessions

FUZZ_OPEN_SEEDS ?= 2000

# Mutated and random evidence files (tests/test_evidence_fuzz.py), many more seeds than CI's.
fuzz-open: build
	@rc=0; for v in $(VERSIONS); do \
	  s=$$(echo $$v | cut -d. -f1,2); \
	  echo "== sleuth open fuzz on $$s, seeds $(FUZZ_OPEN_SEEDS)"; \
	  (cd tests && SLEUTH_FUZZ_OPEN_SEEDS=$(FUZZ_OPEN_SEEDS) ../$(VENV)/$$s/bin/python -m pytest -q -rf \
	    $(PYTEST_ARGS) test_evidence_fuzz.py) || rc=1; \
	done; exit $$rc

# One process a test, a time limit each; fails only on a test outside the known
# lists in tests/peers/known/ (see tests/peers/run_peers.py).
test-peers: build
	@rc=0; for v in $(VERSIONS); do \
	  s=$$(echo $$v | cut -d. -f1,2); \
	  echo "== peer suites on $$s"; \
	  $(VENV)/$$s/bin/python tests/peers/run_peers.py $(PEERS_ARGS) || rc=1; \
	done; exit $$rc

# A program behaves the same with sleuth as without it, over many random
# command scripts; a failure prints the program, seed, script and diff.
SLEUTH_DIFF_SEEDS ?= 200
test-diff-long: build
	@rc=0; for v in $(VERSIONS); do \
	  s=$$(echo $$v | cut -d. -f1,2); \
	  echo "== differential test on $$s, seeds $(SLEUTH_DIFF_SEEDS)"; \
	  (cd tests && SLEUTH_DIFF_SEEDS=$(SLEUTH_DIFF_SEEDS) ../$(VENV)/$$s/bin/python -m pytest -q -rxs \
	    $(PYTEST_ARGS) test_differential.py) || rc=1; \
	done; exit $$rc

ASAN_PY := $(call py,$(ASAN_VERSION))
test-asan: $(VENV)/$(call short,$(ASAN_VERSION))/.ready
	@echo "== build sleuth with ASan+UBSan for $(call short,$(ASAN_VERSION))"
	rm -rf build   # setuptools reuses objects in build/: never mix sanitized and plain
	SLEUTH_SANITIZE=1 $(ASAN_PY) -m pip install -q --no-build-isolation --no-deps --force-reinstall .
	@so=$$(ls $$($(ASAN_PY) -c "import sysconfig; print(sysconfig.get_paths()['platlib'])")/sleuth/_sleuth.*.so); \
	  nm -D "$$so" | grep -q __asan_report || { echo "sanitizer build check failed: $$so" >&2; exit 1; }
	cd tests && SLEUTH_SANITIZED=1 \
	  LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	  ASAN_OPTIONS=detect_leaks=0:allow_user_segv_handler=1:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ../$(ASAN_PY) -m pytest -q -rs $(PYTEST_ARGS) $(TESTS)
	@echo "== restore the regular build"
	rm -rf build
	$(ASAN_PY) -m pip install -q --no-build-isolation --no-deps --force-reinstall .

# --- demo and benchmarks ----------------------------------------------------

DEMO_PY := $(call py,3.12.1)
# Interactive on a terminal; otherwise the scripted session in
# examples/demo-commands.txt is typed in (and echoed) for you.
demo: $(VENV)/3.12/.ready
	@$(DEMO_PY) -m pip install -q --no-build-isolation --no-deps --force-reinstall .
	@if [ -t 0 ]; then \
	  echo "== sleuth examples/buggy.py  (try: b apply_discount, c, a, n, p total, c ...)"; \
	  $(DEMO_PY) -m sleuth examples/buggy.py; \
	else \
	  echo "== sleuth examples/buggy.py, scripted (commands from examples/demo-commands.txt)"; \
	  $(DEMO_PY) examples/replay.py examples/demo-commands.txt examples/buggy.py; \
	fi

bench: build
	@$(VENV)/3.12/bin/python -m pip install -q -r bench/requirements.txt || true
	@for v in $(VERSIONS); do s=$$(echo $$v | cut -d. -f1,2); \
	  $(VENV)/$$s/bin/python bench/bench_debugger.py || exit 1; done
	@$(VENV)/3.12/bin/python bench/stacks_bench.py --native
	@$(VENV)/3.12/bin/python bench/faults_bench.py
	@$(VENV)/3.12/bin/python bench/evidence_bench.py
	@$(VENV)/3.12/bin/python bench/reduce_bench.py --limit 240

clean:
	rm -rf build dist src/*.egg-info $(VENV) src/sleuth/*.so
