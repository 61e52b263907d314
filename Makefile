# Makefile - build, test, install and run the Locust worker in C.
#
#   make deps     install the build and test dependencies (Debian/Ubuntu, root)
#   make          build/hello-worker (and the test worker), build/lua-worker
#                 (user classes in Lua: libluajit-5.1-dev, lua-cjson-dev)
#   make check    format check + unit tests (ASan/UBSan) + integration tests
#                 against real Locust masters (PyPI's pinned version and
#                 Debian's 2.12.1)
#   make unit     unit tests only
#   make format   rewrite the C sources in the style of .clang-format
#   make format-check  fail when a C source differs from that style
#   make fuzz     libFuzzer runs of every parser's target in test/fuzz/
#                 (FUZZ_SECONDS each, default 60)
#   make demo     Ops-Core demo: stand-in service, master, worker, report
#   make image    the container image (Dockerfile), built without a registry
#   make mutants  the mutation check (test/mutants): every mutant must be killed
#   make plan     the Ops-Core load-testing plan: scenarios, monitoring,
#                 analysis, findings report (PLAN_ARGS="--scenarios 0,3 --time-scale 0.05")
#   make install  install liblw.a, lw.h and lw.pc (pkg-config) under PREFIX

CC      ?= gcc
PREFIX  ?= /usr/local
PKGS    := libzmq libcurl msgpack libssl libcrypto libcares
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
# libev ships no .pc file on Debian: fall back to plain -lev.
EV_CFLAGS  := $(shell pkg-config --cflags libev 2>/dev/null)
EV_LIBS    := $(shell pkg-config --libs libev 2>/dev/null || echo -lev)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ibuild/gen -Iworker $(PKG_CFLAGS) $(EV_CFLAGS)
LDLIBS  := $(PKG_LIBS) $(EV_LIBS) -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC := $(wildcard proto/*.c) $(wildcard worker/*.c)
EXAMPLES := hello bench opscore redis
UNIT_SRC := $(wildcard test/unit/test_*.c)

OBJ      := $(LIB_SRC:%.c=build/obj/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=build/asan/obj/%.o)
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=build/asan/%)

, := ,
VENV    ?= .venv
PYTEST_ARGS ?=
# Integration tests run in parallel (pytest-xdist): they wait on masters,
# targets and timeouts far more than they compute. PYTEST_JOBS=0: in turn.
PYTEST_JOBS ?= 3

.PHONY: all deps check unit integration clean install venv demo plan need-deps image
all: build/liblw.a $(EXAMPLES:%=build/%-worker) build/test-worker build/lua-worker

build/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

build/asan/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c $< -o $@

build/liblw.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^

build/asan/liblw.a: $(ASAN_OBJ)
	rm -f $@ && ar rcs $@ $^

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

# build/lua-worker: user classes in Lua (worker/lua/), run by LuaJIT, with
# lua-cjson for JSON (Debian: libluajit-5.1-dev lua-cjson-dev).
LUA_CFLAGS := $(shell pkg-config --cflags luajit 2>/dev/null || echo -I/usr/include/luajit-2.1)
LUA_LIBS   := -llua5.1-cjson $(shell pkg-config --libs luajit 2>/dev/null || echo -lluajit-5.1)
LUA_SRC    := $(wildcard worker/lua/*.c)

build/lua-worker: $(LUA_SRC) worker/lua/lwlua.h build/liblw.a
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) $(LUA_SRC) build/liblw.a $(LUA_LIBS) $(LDLIBS) -o $@

build/asan/lua-worker: $(LUA_SRC) worker/lua/lwlua.h build/asan/liblw.a
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) $(SAN) -O1 $(LUA_SRC) build/asan/liblw.a $(LUA_LIBS) $(LDLIBS) -o $@

build/test-worker: test/integration/test_worker.c build/liblw.a
	$(CC) $(ALL_CFLAGS) $< build/liblw.a $(LDLIBS) -o $@

build/asan/test-worker: test/integration/test_worker.c build/asan/liblw.a
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 $< build/asan/liblw.a $(LDLIBS) -o $@

# the Lua binding's unit tests link the binding itself (all but its main)
LUA_LIB_SRC := $(filter-out worker/lua/main.c,$(LUA_SRC))
build/asan/test_lua: test/unit/test_lua.c $(LUA_LIB_SRC) worker/lua/lwlua.h build/asan/liblw.a
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) $(SAN) -O1 $< $(LUA_LIB_SRC) build/asan/liblw.a $(LUA_LIBS) $(LDLIBS) -lcmocka -o $@

build/asan/test_%: test/unit/test_%.c build/asan/liblw.a
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 $< build/asan/liblw.a $(LDLIBS) -lcmocka -o $@

unit: $(UNIT_BIN)
	@failed=0; for t in $(UNIT_BIN); do echo "== $$t"; ./$$t || failed=1; done; exit $$failed

# make fuzz: every libFuzzer target test/fuzz/fuzz_NAME.c, built with
# ASan/UBSan from its own sources (FUZZ_SRC_NAME), runs for FUZZ_SECONDS on
# a fresh copy of its seeds test/fuzz/corpus/NAME (the fuzzer adds its
# inputs to the copy, never to the seeds). Fails on any crash, leak or UB;
# the input that caused it is left in build/fuzz/artifacts/NAME-*. make
# check runs each for CHECK_FUZZ_SECONDS. test/fuzz/README.md: the targets.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 10
FUZZ_TARGETS := $(patsubst test/fuzz/fuzz_%.c,%,$(wildcard test/fuzz/fuzz_*.c))
FUZZ_SRC_decode  := proto/decode.c proto/dctx.c proto/options.c proto/encode.c
FUZZ_SRC_h1parse := worker/h1parse.c worker/buf.c
FUZZ_SRC_url   := $(LIB_SRC)
FUZZ_SRC_h1cookie := $(LIB_SRC)
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

.PHONY: fuzz
.SECONDEXPANSION:
build/fuzz/fuzz_%: test/fuzz/fuzz_%.c $$(FUZZ_SRC_$$*) $(wildcard */*.h)
	@command -v $(FUZZ_CC) >/dev/null || { echo "$(FUZZ_CC) not found: run 'make deps' as root first" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Iworker $(PKG_CFLAGS) $< $(FUZZ_SRC_$*) $(PKG_LIBS) $(EV_LIBS) -lm -o $@

fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  rm -rf build/fuzz/corpus_$$t; mkdir -p build/fuzz/corpus_$$t build/fuzz/artifacts; \
	  cp test/fuzz/corpus/$$t/* build/fuzz/corpus_$$t/; \
	  echo "== fuzz_$$t"; \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 build/fuzz/fuzz_$$t \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=1024 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/$$t- build/fuzz/corpus_$$t; \
	done

$(VENV)/.installed: test/requirements.txt
	/usr/bin/python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r test/requirements.txt
	touch $@

venv: $(VENV)/.installed

integration: all $(EXAMPLES:%=build/asan/%-worker) build/asan/test-worker build/asan/lua-worker venv
	$(VENV)/bin/python -m pytest -v -n $(PYTEST_JOBS) test/integration $(PYTEST_ARGS)

# make format: every C source rewritten in the style of .clang-format
# (clang-format 14); make format-check, first in make check, changes nothing
# and fails when one of them differs.
CLANG_FORMAT ?= clang-format
FORMAT_SRC := $(wildcard worker/*.[ch] worker/lua/*.[ch] proto/*.[ch] test/unit/*.[ch] \
  test/fuzz/*.[ch] test/integration/*.[ch] examples/*/*.[ch])
NEED_CLANG_FORMAT = @command -v $(CLANG_FORMAT) >/dev/null || { echo "$(CLANG_FORMAT) not found: run 'make deps' as root first" >&2; exit 1; }

.PHONY: format format-check
format:
	$(NEED_CLANG_FORMAT)
	$(CLANG_FORMAT) -i $(FORMAT_SRC)

format-check:
	$(NEED_CLANG_FORMAT)
	@$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRC) || \
	  { echo "C sources differ from .clang-format: run make format" >&2; exit 1; }

# integration last: pytest's summary is the closing line of the run
check: need-deps
	$(MAKE) format-check
	$(MAKE) unit
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(MAKE) integration

# make demo: Redis + stand-in Ops-Core + headless master (Scenario 0, about a
# minute) + one opscore-worker; prints the summary, keeps CSV and HTML report.
demo: need-deps
	$(MAKE) build/opscore-worker venv
	examples/opscore/demo.sh

# make plan: the Ops-Core load-testing plan end to end (examples/opscore/
# run_plan.py): the chosen scenarios against the stand-in (or OPSCORE_URL)
# with a headless master and C workers, Ops-Core, Redis, the log and the load
# generators monitored, then findings.md and findings.html in the run folder
# the last line names. PLAN_ARGS="--help" lists the options.
PLAN_ARGS ?=
plan: need-deps
	$(MAKE) build/opscore-worker venv
	$(VENV)/bin/python examples/opscore/run_plan.py $(PLAN_ARGS)

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
# SOAK_HTTP_CLIENT=fast runs it on the fast client; SOAK_WORKER=lua runs
# examples/opscore/opscore.lua in build/lua-worker. Not part of make check.
# See test/soak/soak.py.
SOAK_SECONDS ?= 600
.PHONY: soak
soak: build/opscore-worker build/lua-worker venv
	SOAK_SECONDS=$(SOAK_SECONDS) $(VENV)/bin/python test/soak/soak.py

# make image: the Dockerfile's image, tagged $(IMAGE). No registry is needed:
# when $(IMAGE_BASE) is absent it is made from Debian's packages and tagged as
# the Dockerfile's FROM (mmdebstrap minbase, merged /usr without the usrmerge
# package, no docs, man pages or locales, like Debian's slim image; as root,
# about 15 s). The build runs under BuildKit (a docker client with buildx,
# else Debian's /usr/bin/docker, which has BuildKit built in) and gets this
# host's CA bundle as the secret `cacert` (pip trusts it) and, if set,
# IMAGE_APT_CONF as `aptconf` (apt options such as a proxy); neither is
# stored in the image.
IMAGE        ?= locust-c-worker
IMAGE_BASE   := debian:bookworm-slim
IMAGE_MIRROR ?= http://deb.debian.org/debian
IMAGE_SECURITY_MIRROR ?= http://deb.debian.org/debian-security
IMAGE_CA_BUNDLE ?= $(firstword $(wildcard /etc/ssl/certs/ca-certificates.crt))
IMAGE_APT_CONF  ?=
IMAGE_DOCKER ?= $(shell docker buildx version >/dev/null 2>&1 && echo docker || \
                  { [ -x /usr/bin/docker ] && echo /usr/bin/docker; } || echo docker)
SLIM_EXCLUDES := /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/groff/* \
                 /usr/share/lintian/* /usr/share/linda/* /usr/share/locale/*

image:
	@command -v docker >/dev/null || { echo "docker not found: apt-get install docker.io" >&2; exit 1; }
	@docker image inspect $(IMAGE_BASE) >/dev/null 2>&1 || $(MAKE) --no-print-directory image-base
	DOCKER_BUILDKIT=1 $(IMAGE_DOCKER) build -t $(IMAGE) \
	  $(if $(IMAGE_CA_BUNDLE),--secret id=cacert$(,)src=$(IMAGE_CA_BUNDLE)) \
	  $(if $(IMAGE_APT_CONF),--secret id=aptconf$(,)src=$(IMAGE_APT_CONF)) .
	@docker image ls $(if $(findstring :,$(IMAGE)),$(IMAGE),$(IMAGE):latest) --format 'image {{.Repository}}:{{.Tag}}: {{.Size}}'

.PHONY: image-base
image-base:
	@command -v mmdebstrap >/dev/null || { echo "mmdebstrap not found: apt-get install mmdebstrap" >&2; exit 1; }
	@mkdir -p build/image
	mmdebstrap --variant=minbase --quiet --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
	  $(foreach p,$(SLIM_EXCLUDES),--dpkgopt='path-exclude=$(p)') \
	  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
	  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
	  bookworm build/image/base.tar \
	  "deb $(IMAGE_MIRROR) bookworm main" "deb $(IMAGE_MIRROR) bookworm-updates main" \
	  "deb $(IMAGE_SECURITY_MIRROR) bookworm-security main"
	docker import --change 'CMD ["bash"]' build/image/base.tar $(IMAGE_BASE)
	rm -f build/image/base.tar
# make mutants: each mutant of test/mutants/mutants.txt (a small deliberate
# bug: file, exact search text, replacement, the tests that must catch it)
# in its own temporary copy of the tree, rebuilt with ASan, only its tests
# run; prints a table (killed, survived, stale, ...) and fails unless every
# mutant is killed. About 10 minutes; not part of make check. MUTANTS="a b"
# for some of them. See test/mutants/run.py.
MUTANTS ?=
.PHONY: mutants
mutants: venv
	$(VENV)/bin/python test/mutants/run.py $(MUTANTS)

# Install the system packages when they are missing (needs root).
need-deps:
	@command -v redis-server >/dev/null && command -v nginx >/dev/null && command -v clang >/dev/null && \
	  command -v clang-format >/dev/null && \
	  pkg-config --exists libzmq libcurl msgpack libcares cmocka && [ -f /usr/include/ev.h ] && \
	  [ -f /usr/include/hiredis/hiredis.h ] && [ -f /usr/include/luajit-2.1/lua.h ] || \
	  { [ "$$(id -u)" = 0 ] && $(MAKE) deps; } || \
	  { echo "missing system packages: run 'make deps' as root first" >&2; exit 1; }

deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential pkg-config \
	  libzmq3-dev libmsgpack-dev libcurl4-openssl-dev libev-dev libssl-dev libcmocka-dev \
	  libc-ares-dev libluajit-5.1-dev lua-cjson-dev libhiredis-dev \
	  clang libclang-rt-14-dev clang-format \
	  python3 python3-venv python3-locust nginx-light redis-server wrk valgrind openssl \
	  iproute2 chromium docker.io docker-compose mmdebstrap

# make install: liblw.a, the public header lw.h and lw.pc under PREFIX.
# Build a worker against it with
#   cc my_worker.c $(pkg-config --cflags --libs lw)
LW_VERSION_TEXT = $(shell sed -n 's/^\#define LW_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$$/\2/p' worker/lw.h | paste -sd.)
.PHONY: build/lw.pc
build/lw.pc: worker/lw.pc.in worker/lw.h
	@mkdir -p build
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(LW_VERSION_TEXT)|' -e 's|@REQUIRES@|$(PKGS)|' $< > $@

install: build/liblw.a build/lw.pc
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 644 build/liblw.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 worker/lw.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 build/lw.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/

clean:
	rm -rf build
