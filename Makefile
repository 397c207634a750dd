# Custos - top-level build. Plain GNU Make: the tree is small and flat, the
# rules are few, and nothing needs to be generated before `make` works on a
# fresh Debian 12 machine. See README.md.
#
#   make          build/custos (release, hardened); installs the build packages first if missing
#   make test     everything under ASan+UBSan: unit, fuzz-corpus replay, integration; TSan units
#   make tsan     the concurrent parts' unit tests under ThreadSanitizer (build/tsan)
#   make check-layers  includes go downward; the server and CLI reach data only through the door
#   make run      demo vault + server on https://127.0.0.1:8443
#   make bench    benchmarks (release build)
#   make fuzz     each libFuzzer target for FUZZ_SECONDS (clang)
#   make deps     installs the build packages (apt-get); `make deps-test` adds the test tools
#
# The packages may be absent when this file is read, so nothing here asks pkg-config
# while parsing: the flags are computed once, on first use, inside a recipe, and every
# compile and link waits (order-only) for the package check. That keeps the first
# `make` on a bare machine and `make -j` free of races.

CC      ?= gcc
FUZZCC  ?= clang
PKGS    := libsodium sqlite3 libpq libmicrohttpd jansson gnutls libcurl liboath nettle libqrencode libcmark \
           pangocairo cairo-pdf
# To build and run: the compiler, pkg-config, the libraries' development packages, and curl
# (with its CA list) for the demo's examples.
BUILD_DEB := build-essential pkg-config curl ca-certificates libsodium-dev libsqlite3-dev libpq-dev libmicrohttpd-dev \
             libjansson-dev libgnutls28-dev nettle-dev libcurl4-gnutls-dev liboath-dev \
             libqrencode-dev libcmark-dev libpango1.0-dev libcairo2-dev fonts-noto-cjk
# To test and measure: libFuzzer (clang), clang-format (the format check), the load generator,
# valgrind, python3 for the shell tests, the sqlite3 shell (a second process holding the audit
# log's lock), Go and golang.org/x/mod for the reference proof checker, a real SMTP receiver
# (aiosmtpd), a throwaway PostgreSQL 15 cluster for the store suites on both stores (openssl
# makes its TLS certificate), and for the console's browser tests Chromium, the CJK fonts its screenshots need,
# and Node.js with npm (installed only when no node/npm is there: the pinned playwright-core and
# axe-core come from the npm registry by `npm ci`, tests/browser/package-lock.json).
TEST_DEB  := clang clang-format wrk valgrind python3 sqlite3 golang-go golang-golang-x-mod-dev \
             python3-aiosmtpd chromium poppler-utils postgresql-15 openssl
NODE_DEB  := nodejs npm
# npm checks every package against the sha512 integrity the lock file pins. Where the machine's
# CA list cannot verify the registry's certificate (a network that intercepts TLS with a CA of
# its own), the download is retried without that verification: the pinned integrity still
# refuses any byte that differs.
NPM_CI_CMD = npm ci --prefix tests/browser --cache $(CURDIR)/build/npm-cache --prefer-offline \
         --no-audit --no-fund --loglevel=error
NPM_CI = $(NPM_CI_CMD) || { echo "npm: the registry's certificate could not be verified here;" \
         "retrying with the lock file's sha512 integrity as the check"; \
         $(NPM_CI_CMD) --strict-ssl=false; }
BROWSER_MODULES := tests/browser/node_modules/.package-lock.json
GOX_MOD   := /usr/share/gocode/src/golang.org/x/mod

# Recursive and memoised: evaluated at the first recipe that needs them, after build-deps.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)) -lpthread -lm)$(PKG_LIBS)

WARN    := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wvla -Wmissing-prototypes \
           -Wimplicit-fallthrough -Wno-unused-parameter -Wno-format-truncation
HARDEN  := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
           -fcf-protection -ftrivial-auto-var-init=zero -fPIE
BASE    = -std=c17 -D_GNU_SOURCE -I. -Isrc/lib -Isrc $(PKG_CFLAGS) $(WARN) -MMD -MP
CFLAGS_REL  = $(BASE) -O2 -g $(HARDEN)
CFLAGS_SAN  = $(BASE) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all -DCUSTOS_SANITIZE -DCUSTOS_DEBUG -DCUSTOS_TESTING
LDFLAGS_REL := -pie -Wl,-z,relro,-z,now,-z,noexecstack
LDFLAGS_SAN := -fsanitize=address,undefined

LIB_SRC  := $(sort $(wildcard src/lib/*.c src/lib/*/*.c))
# The web console's files (console/) are built into the server as a generated C file.
CONSOLE_FILES := $(sort $(shell find console -type f ! -name '.*' 2>/dev/null))
CONSOLE_GEN   := build/gen/console_assets.c
APP_SRC  := $(sort $(wildcard src/server/*.c src/cli/*.c)) $(CONSOLE_GEN)
UNIT_SRC := $(sort $(wildcard tests/unit/*_test.c))
INT_SRC  := $(sort $(wildcard tests/integration/*_test.c))
INT_HELP := $(filter-out $(INT_SRC),$(sort $(wildcard tests/integration/*.c)))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

REL := build/rel
SAN := build/san

rel_obj = $(patsubst %.c,$(REL)/%.o,$(1))
san_obj = $(patsubst %.c,$(SAN)/%.o,$(1))

.SECONDARY:
.PHONY: all test run bench fuzz deps deps-test clean format build-deps test-deps check-layers unit integration fuzz-replay tsan
all: build/custos

# Installs what is missing, then lets the build go on. Every compile and link below has
# build-deps as an order-only prerequisite, so under -j nothing compiles before it ends.
build-deps:
	@command -v cc >/dev/null && command -v pkg-config >/dev/null && command -v curl >/dev/null \
	  && pkg-config --exists $(PKGS) && [ -d /usr/share/fonts/opentype/noto ] \
	  || $(MAKE) --no-print-directory deps

test-deps: build-deps
	@command -v clang >/dev/null && command -v clang-format >/dev/null && command -v wrk >/dev/null \
	  && command -v valgrind >/dev/null \
	  && command -v python3 >/dev/null && command -v sqlite3 >/dev/null && command -v go >/dev/null \
	  && [ -d $(GOX_MOD) ] && python3 -c 'import aiosmtpd' 2>/dev/null \
	  && command -v chromium >/dev/null && command -v node >/dev/null && command -v npm >/dev/null \
	  && command -v pdftotext >/dev/null && [ -x /usr/lib/postgresql/15/bin/initdb ] \
	  && command -v openssl >/dev/null \
	  && [ -d tests/browser/node_modules ] \
	  || $(MAKE) --no-print-directory deps-test

APT = if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

deps:
	@echo "installing the build packages: $(BUILD_DEB)"
	@$(APT) $(BUILD_DEB) >/dev/null

deps-test:
	@echo "installing the build and test packages: $(BUILD_DEB) $(TEST_DEB)"
	@$(APT) $(BUILD_DEB) $(TEST_DEB) >/dev/null
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  echo "installing $(NODE_DEB)"; $(APT) $(NODE_DEB) >/dev/null; fi
	@echo "installing the browser tests' npm packages (tests/browser/package-lock.json)"
	@mkdir -p build && $(NPM_CI) >/dev/null

$(REL)/%.o: %.c | build-deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_REL) -c $< -o $@

$(SAN)/%.o: %.c | build-deps
	@mkdir -p $(dir $@)
	@echo "  CC san  $<"
	@$(CC) $(CFLAGS_SAN) -c $< -o $@

$(CONSOLE_GEN): scripts/console-embed.sh $(CONSOLE_FILES) $(sort $(shell find console -type d 2>/dev/null))
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	@sh scripts/console-embed.sh $@ console

$(REL)/libcustos.a: $(call rel_obj,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
$(SAN)/libcustos.a: $(call san_obj,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^

build/custos: $(call rel_obj,$(APP_SRC)) $(REL)/libcustos.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS_REL) $(LDFLAGS_REL) -o $@ $^ $(PKG_LIBS)

$(SAN)/custos: $(call san_obj,$(APP_SRC)) $(SAN)/libcustos.a
	@echo "  LD san  $@"
	@$(CC) $(LDFLAGS_SAN) -o $@ $^ $(PKG_LIBS)

# Unit tests: one binary per file, linked with the sanitized library.
UNIT_BIN := $(patsubst tests/unit/%.c,$(SAN)/tests/%,$(UNIT_SRC))
$(SAN)/tests/%: $(SAN)/tests/unit/%.o $(SAN)/libcustos.a
	@mkdir -p $(dir $@)
	@echo "  LD san  $@"
	@$(CC) $(LDFLAGS_SAN) -o $@ $^ $(PKG_LIBS)

# Integration tests: drive the sanitized server binary over HTTPS.
INT_BIN := $(patsubst tests/integration/%.c,$(SAN)/itests/%,$(INT_SRC))
$(SAN)/itests/%: $(SAN)/tests/integration/%.o $(call san_obj,$(INT_HELP)) $(SAN)/libcustos.a
	@mkdir -p $(dir $@)
	@echo "  LD san  $@"
	@$(CC) $(LDFLAGS_SAN) -o $@ $^ $(PKG_LIBS)

# Fuzz targets: replayed over their corpus by `make test` (gcc, sanitizers), run by `make fuzz` (clang).
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(SAN)/fuzz/%,$(FUZZ_SRC))
$(SAN)/fuzz/%: $(SAN)/tests/fuzz/%.o $(SAN)/tests/fuzz/replay_main.o $(SAN)/libcustos.a
	@mkdir -p $(dir $@)
	@echo "  LD san  $@"
	@$(CC) $(LDFLAGS_SAN) -o $@ $^ $(PKG_LIBS)

# The reference verifier of signed notes and RFC 6962 proofs (Go's golang.org/x/mod, from
# Debian's golang-golang-x-mod-dev), built offline in GOPATH mode for the audit log test.
build/notecheck: tests/interop/notecheck.go | test-deps
	@mkdir -p build
	@echo "  GO      $@"
	@GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$(CURDIR)/build/gocache GOFLAGS= \
	  go build -o $@ $<

# The independent evidence-bundle verifier (the same Go packages plus the standard library).
build/bundlecheck: tests/interop/bundlecheck.go | test-deps
	@mkdir -p build
	@echo "  GO      $@"
	@GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$(CURDIR)/build/gocache GOFLAGS= \
	  go build -o $@ $<

BENCH_BIN := build/bench
$(BENCH_BIN): $(call rel_obj,$(BENCH_SRC)) $(REL)/libcustos.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS_REL) $(LDFLAGS_REL) -o $@ $^ $(PKG_LIBS)

# The benchmark's server: release flags plus the test hooks (CUSTOS_TESTING), so bench/http.c can
# put its clock on a working day (CUSTOS_CLOCK_OFFSET_S). Built apart and never shipped: the
# release binary build/custos reads no test hook.
RELT := build/relt
CFLAGS_RELT = $(CFLAGS_REL) -DCUSTOS_TESTING
relt_obj = $(patsubst %.c,$(RELT)/%.o,$(1))
$(RELT)/%.o: %.c | build-deps
	@mkdir -p $(dir $@)
	@echo "  CC relt $<"
	@$(CC) $(CFLAGS_RELT) -c $< -o $@
$(RELT)/libcustos.a: $(call relt_obj,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
$(RELT)/custos: $(call relt_obj,$(APP_SRC)) $(RELT)/libcustos.a
	@echo "  LD relt $@"
	@$(CC) $(CFLAGS_RELT) $(LDFLAGS_REL) -o $@ $^ $(PKG_LIBS)

# ThreadSanitizer: the unit tests of the concurrent parts (audit writer, guard queue, detector and
# delivery threads, store connections, keyring and policy under concurrent readers) built with
# -fsanitize=thread in their own tree. `make tsan` runs them; `make test` counts them too. Any
# report fails the run (TSAN_OPTIONS in tests/run.sh).
TSAN := build/tsan
CFLAGS_TSAN = $(BASE) -O1 -g -fno-omit-frame-pointer -fsanitize=thread -DCUSTOS_SANITIZE \
               -DCUSTOS_DEBUG -DCUSTOS_TESTING
LDFLAGS_TSAN := -fsanitize=thread
tsan_obj = $(patsubst %.c,$(TSAN)/%.o,$(1))
TSAN_TESTS := audit_test crypto_test door_test policy_test store_test store_suite_test account_race_test \
              store_suite_audit_test store_suite_guard_test \
              $(patsubst tests/unit/%.c,%,$(filter tests/unit/guard_%,$(UNIT_SRC)))
TSAN_BIN := $(addprefix $(TSAN)/tests/,$(TSAN_TESTS))
$(TSAN)/%.o: %.c | build-deps
	@mkdir -p $(dir $@)
	@echo "  CC tsan $<"
	@$(CC) $(CFLAGS_TSAN) -c $< -o $@
$(TSAN)/libcustos.a: $(call tsan_obj,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
$(TSAN)/tests/%: $(TSAN)/tests/unit/%.o $(TSAN)/libcustos.a
	@mkdir -p $(dir $@)
	@echo "  LD tsan $@"
	@$(CC) $(LDFLAGS_TSAN) -o $@ $^ $(PKG_LIBS)
tsan: $(TSAN_BIN)
	@TSAN_TESTS="$(TSAN_BIN)" ONLY_TSAN=1 bash tests/run.sh

# The console's browser tests' npm packages (playwright-core, axe-core, jsqr), pinned.
$(BROWSER_MODULES): tests/browser/package.json tests/browser/package-lock.json | test-deps
	@mkdir -p build
	@echo "  NPM     tests/browser (package-lock.json)"
	@$(NPM_CI)

test: test-deps $(UNIT_BIN) $(FUZZ_BIN) $(INT_BIN) $(SAN)/custos build/custos build/notecheck build/bundlecheck $(TSAN_BIN) \
      $(BROWSER_MODULES)
	@UNIT="$(UNIT_BIN)" FUZZ="$(FUZZ_BIN)" INTEG="$(INT_BIN)" CUSTOS_BIN=$(SAN)/custos \
	  TSAN_TESTS="$(TSAN_BIN)" BROWSER=1 \
	  NOTECHECK_BIN=build/notecheck BUNDLECHECK_BIN=$(CURDIR)/build/bundlecheck bash tests/run.sh

run: build/custos
	@bash scripts/run-demo.sh

bench: test-deps $(RELT)/custos $(BENCH_BIN) $(BROWSER_MODULES)
	@CUSTOS_BIN=$(RELT)/custos $(BENCH_BIN)
	@CUSTOS_BIN=$(RELT)/custos CONSOLE_TEST_OUTPUT=build/bench-output/console \
	  node tests/browser/run.mjs --only 'customer-card time' | grep -E '^#   customer card|^not ok' || true
	@cat build/bench-output/console/timings.json 2>/dev/null || echo "console card time: not measured"

FUZZ_SECONDS ?= 20
FUZZ_CFLAGS = -std=c17 -D_GNU_SOURCE -Isrc/lib -Isrc $(PKG_CFLAGS) -g -O1 \
               -fsanitize=fuzzer,address,undefined -DCUSTOS_SANITIZE -DCUSTOS_TESTING
fuzz: test-deps
	@mkdir -p build/fuzz
	@set -e; for src in $(FUZZ_SRC); do \
	  t=$$(basename $$src .c); \
	  $(FUZZCC) $(FUZZ_CFLAGS) -o build/fuzz/$$t $$src $(LIB_SRC) $(PKG_LIBS); \
	  mkdir -p build/fuzz/$$t.corpus; \
	  echo "== $$t ($(FUZZ_SECONDS)s)"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/$$t.corpus \
	    tests/fuzz/corpus/$$t 2>&1 | tail -n 2; \
	done

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 'bench/*.h')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# Layering: includes go downward only; the server and the CLI reach data and keys only
# through the door (scripts/check-layers.sh, on the release objects).
check-layers: build/custos
	@bash scripts/check-layers.sh

# Long runs of the crash, disk-full and fault-injection tests (not in CI; `make test` runs
# them short). CUSTOS_SEED=N repeats a crash run.
SOAK_BIN := $(SAN)/itests/crash_test $(SAN)/itests/diskfull_test $(SAN)/itests/faultinj_test
.PHONY: soak
soak: test-deps $(SOAK_BIN) $(SAN)/custos build/custos
	@set -e; for t in $(SOAK_BIN); do echo "== $$t (soak)"; \
	  CUSTOS_SOAK=1 CUSTOS_BIN=$(SAN)/custos CUSTOS_TEST_KDF=fast $$t; done
