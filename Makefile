# Makefile - build, test, install and run the Locust worker in C.
#
#   make deps     install the build and test dependencies (Debian/Ubuntu, root)
#   make          build/hello-worker (and the test worker)
#   make check    unit tests (ASan/UBSan) + integration tests against real
#                 Locust masters (PyPI's pinned version and Debian's 2.12.1)
#   make unit     unit tests only
#   make fuzz     libFuzzer runs of the proto decoder and the HTTP/1.1 response
#                 parser (FUZZ_SECONDS each, default 60)
#   make demo     Ops-Core demo: stand-in service, master, worker, report
#   make install  install the library and header under PREFIX

CC      ?= gcc
PREFIX  ?= /usr/local
PKGS    := libzmq libcurl msgpack libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
# libev ships no .pc file on Debian: fall back to plain -lev.
EV_CFLAGS  := $(shell pkg-config --cflags libev 2>/dev/null)
EV_LIBS    := $(shell pkg-config --libs libev 2>/dev/null || echo -lev)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ibuild/gen $(PKG_CFLAGS) $(EV_CFLAGS)
LDLIBS  := $(PKG_LIBS) $(EV_LIBS) -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC := $(wildcard proto/*.c) $(filter-out %_fuzz.c,$(wildcard worker/*.c))
LIB_SRC := $(filter-out proto/fuzz_%.c,$(LIB_SRC))
EXAMPLES := hello bench opscore redis
UNIT_SRC := $(wildcard test/unit/test_*.c)

OBJ      := $(LIB_SRC:%.c=build/obj/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=build/asan/obj/%.o)
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=build/asan/%)

VENV    ?= .venv
PYTEST_ARGS ?=
# Integration tests run in parallel (pytest-xdist): they wait on masters,
# targets and timeouts far more than they compute. PYTEST_JOBS=0: in turn.
PYTEST_JOBS ?= 3

.PHONY: all deps check unit integration clean install venv demo need-deps
all: build/liblw.a $(EXAMPLES:%=build/%-worker) build/test-worker

build/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

build/asan/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c $< -o $@

build/liblw.a: $(OBJ)
	ar rcs $@ $^

build/asan/liblw.a: $(ASAN_OBJ)
	ar rcs $@ $^

build/%-worker: examples/%/*.c build/liblw.a
	$(CC) $(ALL_CFLAGS) $(filter %.c,$^) build/liblw.a $(LDLIBS) -o $@

build/asan/%-worker: examples/%/*.c build/asan/liblw.a
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 $(filter %.c,$^) build/asan/liblw.a $(LDLIBS) -o $@

# The Ops-Core workflow definition, compiled in from its JSON file.
build/gen/sample_workflow.h: examples/opscore/sample_workflow.json
	@mkdir -p $(dir $@)
	{ printf 'static const char sample_workflow[] =\n'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; \
	  printf ';\n'; } > $@

build/opscore-worker build/asan/opscore-worker: build/gen/sample_workflow.h

# examples/redis: hiredis and its libev adapter (Debian's libhiredis-dev).
HIREDIS_LIBS = $(shell pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)
NEED_HIREDIS = @pkg-config --exists hiredis || { echo "examples/redis needs libhiredis-dev: run 'make deps' as root first" >&2; exit 1; }
build/redis-worker: examples/redis/*.c build/liblw.a
	$(NEED_HIREDIS)
	$(CC) $(ALL_CFLAGS) $(filter %.c,$^) build/liblw.a $(HIREDIS_LIBS) $(LDLIBS) -o $@

build/asan/redis-worker: examples/redis/*.c build/asan/liblw.a
	$(NEED_HIREDIS)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 $(filter %.c,$^) build/asan/liblw.a $(HIREDIS_LIBS) $(LDLIBS) -o $@

build/test-worker: test/integration/test_worker.c build/liblw.a
	$(CC) $(ALL_CFLAGS) $< build/liblw.a $(LDLIBS) -o $@

build/asan/test-worker: test/integration/test_worker.c build/asan/liblw.a
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 $< build/asan/liblw.a $(LDLIBS) -o $@

build/asan/test_%: test/unit/test_%.c build/asan/liblw.a
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 $< build/asan/liblw.a $(LDLIBS) -lcmocka -o $@

unit: $(UNIT_BIN)
	@failed=0; for t in $(UNIT_BIN); do echo "== $$t"; ./$$t || failed=1; done; exit $$failed

# make fuzz: libFuzzer with ASan/UBSan on proto_decode (proto/fuzz_decode.c),
# for FUZZ_SECONDS, on a fresh copy of the seed corpus test/fuzz/corpus (real
# frames of both master versions plus malformed ones), then on the HTTP/1.1
# response parser (worker/h1parse_fuzz.c) for FUZZ_SECONDS, on a fresh
# corpus build/fuzz/corpus_h1 seeded with a few small responses (the first
# byte of each input picks where the response is split). Fails on any crash,
# leak or UB; the input that caused it is left in build/fuzz/artifacts/
# (h1-* for the parser). make check runs it for CHECK_FUZZ_SECONDS.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 10
FUZZ_SRC := proto/fuzz_decode.c proto/decode.c proto/options.c proto/encode.c

.PHONY: fuzz
build/fuzz/fuzz_decode: $(FUZZ_SRC) proto/proto.h
	@command -v $(FUZZ_CC) >/dev/null || { echo "$(FUZZ_CC) not found: run 'make deps' as root first" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -fno-omit-frame-pointer \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $(shell pkg-config --cflags msgpack) $(FUZZ_SRC) $(shell pkg-config --libs msgpack) -o $@

H1_FUZZ_SRC := worker/h1parse_fuzz.c worker/h1parse.c
build/fuzz/fuzz_h1parse: $(H1_FUZZ_SRC) worker/h1parse.h
	@command -v $(FUZZ_CC) >/dev/null || { echo "$(FUZZ_CC) not found: run 'make deps' as root first" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -fno-omit-frame-pointer \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $(H1_FUZZ_SRC) -o $@

fuzz: build/fuzz/fuzz_decode build/fuzz/fuzz_h1parse
	rm -rf build/fuzz/corpus
	mkdir -p build/fuzz/corpus build/fuzz/artifacts
	cp test/fuzz/corpus/*.msgpack build/fuzz/corpus/
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 build/fuzz/fuzz_decode \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=1024 -timeout=10 \
	  -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/ build/fuzz/corpus
	rm -rf build/fuzz/corpus_h1
	mkdir -p build/fuzz/corpus_h1
	printf 'xHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' > build/fuzz/corpus_h1/length
	printf '\200HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n' > build/fuzz/corpus_h1/chunked
	printf '@HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n' > build/fuzz/corpus_h1/interim
	printf '\377HTTP/1.0 200 OK\nConnection: close\n\nuntil close' > build/fuzz/corpus_h1/close
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 build/fuzz/fuzz_h1parse \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=32768 -rss_limit_mb=1024 -timeout=10 \
	  -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/h1- build/fuzz/corpus_h1

$(VENV)/.installed: test/requirements.txt
	/usr/bin/python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r test/requirements.txt
	touch $@

venv: $(VENV)/.installed

integration: all $(EXAMPLES:%=build/asan/%-worker) build/asan/test-worker venv
	$(VENV)/bin/python -m pytest -v -n $(PYTEST_JOBS) test/integration $(PYTEST_ARGS)

# integration last: pytest's summary is the closing line of the run
check: unit
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(MAKE) integration

# make demo: Redis + stand-in Ops-Core + headless master (Scenario 0, about a
# minute) + one opscore-worker; prints the summary, keeps CSV and HTML report.
demo: need-deps
	$(MAKE) build/opscore-worker venv
	examples/opscore/demo.sh

# make bench: throughput per core, users per process, timing fidelity and the
# cost of reporting, against wrk and Locust's Python worker, on loopback (nginx
# on CPU 0, the load generator on CPU 1); about 7 minutes. Prints a markdown
# table and writes test/bench/results.md. BENCH_ARGS="--quick" for a smoke run.
.PHONY: bench
bench: all venv
	$(VENV)/bin/python test/bench/bench.py $(BENCH_ARGS)

# make soak: 2,000 users of Ops-Core Scenario 3 pacing (build/opscore-worker,
# MixedUser) against nginx for SOAK_SECONDS (default 600), the worker's RSS
# sampled every 10 s; fails if it grows more than 5 % after the warm-up.
# SOAK_HTTP_CLIENT=fast runs it on the fast client. Not part of make check.
# See test/soak/soak.py.
SOAK_SECONDS ?= 600
.PHONY: soak
soak: build/opscore-worker venv
	SOAK_SECONDS=$(SOAK_SECONDS) $(VENV)/bin/python test/soak/soak.py

# Install the system packages when they are missing (needs root).
need-deps:
	@command -v redis-server >/dev/null && pkg-config --exists libzmq libcurl msgpack && \
	  [ -f /usr/include/ev.h ] || { [ "$$(id -u)" = 0 ] && $(MAKE) deps; } || \
	  { echo "missing system packages: run 'make deps' as root first" >&2; exit 1; }

deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential pkg-config \
	  libzmq3-dev libmsgpack-dev libcurl4-openssl-dev libev-dev libssl-dev libcmocka-dev \
	  clang libclang-rt-14-dev \
	  python3 python3-venv python3-locust nginx-light redis-server wrk valgrind openssl

install: build/liblw.a
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/lw/proto $(DESTDIR)$(PREFIX)/include/lw/worker
	install -m 644 build/liblw.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 worker/*.h $(DESTDIR)$(PREFIX)/include/lw/worker/
	install -m 644 proto/*.h $(DESTDIR)$(PREFIX)/include/lw/proto/

clean:
	rm -rf build
