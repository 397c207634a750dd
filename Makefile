# Custos - top-level build. Plain GNU Make: the tree is small and flat, the
# rules are few, and nothing needs to be generated before `make` works on a
# fresh Debian 12 machine. See README.md.
#
#   make          build/custos (release, hardened)
#   make test     everything under ASan+UBSan: unit, fuzz-corpus replay, integration
#   make run      demo vault + server on https://127.0.0.1:8443
#   make bench    benchmarks (release build)
#   make fuzz     each libFuzzer target for FUZZ_SECONDS (clang)
#   make deps     installs the Debian packages (apt-get)

CC      ?= gcc
FUZZCC  ?= clang
PKGS    := libsodium sqlite3 libmicrohttpd jansson gnutls libcurl liboath nettle
DEB_PKGS := build-essential pkg-config clang libsodium-dev libsqlite3-dev libmicrohttpd-dev \
            libjansson-dev libgnutls28-dev nettle-dev libcurl4-gnutls-dev liboath-dev wrk curl ca-certificates valgrind python3 \
            golang-go golang-golang-x-mod-dev
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

WARN    := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wvla -Wmissing-prototypes \
           -Wimplicit-fallthrough -Wno-unused-parameter -Wno-format-truncation
HARDEN  := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
           -fcf-protection -ftrivial-auto-var-init=zero -fPIE
BASE    := -std=c17 -D_GNU_SOURCE -I. -Isrc/lib -Isrc $(PKG_CFLAGS) $(WARN) -MMD -MP
CFLAGS_REL  := $(BASE) -O2 -g $(HARDEN)
CFLAGS_SAN  := $(BASE) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all -DCUSTOS_SANITIZE -DCUSTOS_DEBUG -DCUSTOS_TESTING
LDFLAGS_REL := -pie -Wl,-z,relro,-z,now,-z,noexecstack
LDFLAGS_SAN := -fsanitize=address,undefined

LIB_SRC  := $(sort $(wildcard src/lib/*.c src/lib/*/*.c))
APP_SRC  := $(sort $(wildcard src/server/*.c src/cli/*.c))
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
.PHONY: all test run bench fuzz deps clean format check-deps unit integration fuzz-replay
all: check-deps build/custos

check-deps:
	@pkg-config --exists $(PKGS) && command -v wrk >/dev/null && command -v clang >/dev/null \
	  && command -v valgrind >/dev/null && command -v go >/dev/null && [ -d $(GOX_MOD) ] \
	  || $(MAKE) --no-print-directory deps

deps:
	@echo "installing Debian packages: $(DEB_PKGS)"
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEB_PKGS) >/dev/null

$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_REL) -c $< -o $@

$(SAN)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC san  $<"
	@$(CC) $(CFLAGS_SAN) -c $< -o $@

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
GOX_MOD := /usr/share/gocode/src/golang.org/x/mod
build/notecheck: tests/interop/notecheck.go
	@mkdir -p build
	@echo "  GO      $@"
	@GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$(CURDIR)/build/gocache GOFLAGS= \
	  go build -o $@ $<

BENCH_BIN := build/bench
$(BENCH_BIN): $(call rel_obj,$(BENCH_SRC)) $(REL)/libcustos.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS_REL) $(LDFLAGS_REL) -o $@ $^ $(PKG_LIBS)

test: check-deps $(UNIT_BIN) $(FUZZ_BIN) $(INT_BIN) $(SAN)/custos build/custos build/notecheck
	@UNIT="$(UNIT_BIN)" FUZZ="$(FUZZ_BIN)" INTEG="$(INT_BIN)" CUSTOS_BIN=$(SAN)/custos \
	  NOTECHECK_BIN=build/notecheck bash tests/run.sh

run: check-deps build/custos
	@bash scripts/run-demo.sh

bench: check-deps build/custos $(BENCH_BIN)
	@CUSTOS_BIN=build/custos $(BENCH_BIN)

FUZZ_SECONDS ?= 20
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc/lib -Isrc $(PKG_CFLAGS) -g -O1 \
               -fsanitize=fuzzer,address,undefined -DCUSTOS_SANITIZE -DCUSTOS_TESTING
fuzz: check-deps
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
	clang-format -i $(LIB_SRC) $(APP_SRC) $(wildcard src/lib/*/*.h src/*/*.h)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# Long runs of the crash, disk-full and fault-injection tests (not in CI; `make test` runs
# them short). CUSTOS_SEED=N repeats a crash run.
SOAK_BIN := $(SAN)/itests/crash_test $(SAN)/itests/diskfull_test $(SAN)/itests/faultinj_test
.PHONY: soak
soak: check-deps $(SOAK_BIN) $(SAN)/custos build/custos
	@set -e; for t in $(SOAK_BIN); do echo "== $$t (soak)"; \
	  CUSTOS_SOAK=1 CUSTOS_BIN=$(SAN)/custos CUSTOS_TEST_KDF=fast $$t; done
