# cbuild - daemonless OCI image builder.
#
#   make deps        install every Debian package the build and the tests need
#   make             build ./cbuild
#   make check       check-deps + unit tests (cmocka) + end-to-end tests (prove)
#   make check-compat  the Docker compatibility scenarios against cbuild
#   make compat-docker the same scenarios against Debian's docker (a private dockerd)
#   make check-deps  the layering rules: includes point down, store paths, file lengths
#   make difftest    N=500 [START=1] [PEERS="buildah buildkit"]: generated
#                    Dockerfiles built by cbuild and the peers (tests/difftest);
#                    PEERS="copy none": cbuild's copy snapshotter and
#                    --isolation none, which must give the same image ID
#   make asan        the whole suite under AddressSanitizer + UBSan
#   make fuzz        build the libFuzzer targets (clang)
#   make bench       benchmarks against BuildKit and buildah (see bench/)
#   make install     PREFIX=/usr/local DESTDIR=
#
# Every .c file under the module folders is compiled; a new file needs no
# Makefile change. Objects go to $(BUILD)/ so that the asan build can live
# beside the normal one.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
BUILD ?= build
CC ?= cc

# libarchive, libcurl, libyaml, zlib, libzstd and libseccomp are not
# linked: cbuild loads them on first use (common/lazylib.h); with the first
# two come 40 more shared libraries that every command would otherwise load
# at start. Tests that call them link them.
LAZY_PKGS := libarchive libcurl yaml-0.1 zlib libzstd libseccomp
PKGS := $(LAZY_PKGS) libcrypto jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(filter-out $(LAZY_PKGS),$(PKGS)) 2>/dev/null)
LAZY_LIBS := -Wl,--as-needed $(shell pkg-config --libs $(LAZY_PKGS) 2>/dev/null) -Wl,--no-as-needed

OPT ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 -Wno-format-nonliteral
CFLAGS ?=
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(OPT) $(WARN) -I. \
	$(PKG_CFLAGS) $(SAN_CFLAGS) $(CFLAGS)
LDLIBS := $(PKG_LIBS) -lpthread
ALL_LDFLAGS := $(SAN_CFLAGS) $(LDFLAGS)

MODULES := common parser store registry runtime builder
LIB_SRCS := $(sort $(wildcard $(addsuffix /*.c,$(MODULES))))
CMD_SRCS := $(sort $(wildcard cmd/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS := $(CMD_SRCS:%.c=$(BUILD)/%.o)
LIBCB := $(BUILD)/libcbuild.a

E2E_TESTS ?= $(sort $(wildcard tests/e2e/t*.sh))
COMPAT_TESTS ?= $(sort $(wildcard tests/compat/c*.sh))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

.PHONY: FORCE all tools deps bench-deps check check-deps check-unit check-e2e check-compat compat-docker crashtest difftest asan fuzz bench install clean format format-all

all: cbuild testdata/hello/rootfs.tar

testdata/hello/rootfs.tar: testdata/mkrootfs.sh
	@testdata/mkrootfs.sh $@

cbuild: $(BUILD)/cbuild
	@if [ "$(BUILD)" = build ]; then ln -sf $(BUILD)/cbuild cbuild; fi

# The debug info (three times the size of the code) moves to cbuild.debug,
# which gdb, perf and valgrind find through the debuglink: every start reads
# the binary from disk when it is not cached, and this machine's disks read
# a whole file at once (8 MB readahead). Sanitizer builds keep theirs.
$(BUILD)/cbuild: $(CMD_OBJS) $(LIBCB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJS) $(LIBCB) $(LDLIBS)
	@if [ -z "$(SAN_CFLAGS)" ]; then objcopy --only-keep-debug $@ $@.debug && \
		objcopy --strip-debug --add-gnu-debuglink=$@.debug $@; fi

$(LIBCB): $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -DCBUILD_VERSION='"$(VERSION)"' -c -o $@ $<

# The objects that print the version rebuild when `git describe` changes
# (a commit, or a clean tree turning dirty), not only when their source does.
VERSION_USERS := $(patsubst %.c,$(BUILD)/%.o,$(shell grep -l CBUILD_VERSION $(CMD_SRCS) $(LIB_SRCS)))
$(VERSION_USERS): $(BUILD)/version.stamp
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
FORCE:

$(BUILD)/tests/%: tests/unit/%.c $(LIBCB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LIBCB) $(LDLIBS) $(LAZY_LIBS) -lcmocka

# Small driver programs the e2e tests and benchmarks run (tests/tools/).
$(BUILD)/tools/%: tests/tools/%.c $(LIBCB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LIBCB) $(LDLIBS) $(LAZY_LIBS)

tools: $(TOOL_BINS)

# Debian 12 packages: the libraries, the tools the tests run against, and the
# peers the tests check cbuild's output with.
DEB_BUILD := build-essential pkg-config libarchive-dev libssl-dev libjansson-dev \
	libcurl4-openssl-dev libyaml-dev zlib1g-dev libzstd-dev libseccomp-dev libcmocka-dev
DEB_TEST := busybox-static docker-registry skopeo umoci oci-image-tool buildah runc \
	apache2-utils attr libcap2-bin uidmap curl python3 iproute2 e2fsprogs util-linux debootstrap netavark aardvark-dns passt iptables \
	procps psmisc openssl gzip zstd bzip2 xz-utils perl clang clang-format libclang-rt-14-dev valgrind \
	qemu-user-static binfmt-support rpm tini proot
DEB_BENCH := docker.io pigz hyperfine time linux-perf podman

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_BUILD) $(DEB_TEST)
	# rootless networking (pasta) opens the tun device as the user: udev's
	# mode, which a machine without udev does not set
	chmod 0666 /dev/net/tun 2>/dev/null || true

bench-deps: deps
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_BENCH)

# A failing unit binary must not hide the e2e results: every half runs,
# then the target fails if any did.
check: $(UNIT_BINS) $(TOOL_BINS) cbuild
	@d=0; u=0; e=0; c=0; $(MAKE) --no-print-directory check-deps || d=1; \
	$(MAKE) --no-print-directory check-unit || u=1; \
	$(MAKE) --no-print-directory check-e2e || e=1; \
	$(MAKE) --no-print-directory check-compat || c=1; \
	if [ $$d = 1 ]; then echo "make check: check-deps FAILED (see above)"; fi; \
	if [ $$u = 1 ]; then echo "make check: unit tests FAILED (see above)"; fi; \
	if [ $$e = 1 ]; then echo "make check: e2e tests FAILED (see above)"; fi; \
	if [ $$c = 1 ]; then echo "make check: compat scenarios FAILED (see above)"; fi; \
	exit $$((d | u | e | c))

# Arrows point down, only store/ joins paths under the store root, no file
# over 1,000 lines; today's debts are in tests/deps/*.allow (under a second)
check-deps:
	@python3 tests/deps/check.py

check-unit: $(UNIT_BINS) $(TOOL_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "# $$t"; $$t || { fail=1; failed="$$failed $$t"; }; done; \
	if [ $$fail = 1 ]; then echo "# failed:$$failed"; fi; exit $$fail

# Two scripts at a time: most of a script's time is spent waiting (sandboxes,
# registries, netavark), and each is hermetic (its own store, ports, names),
# as it must be to pass beside another make check. CHECK_JOBS=1 for one.
CHECK_JOBS ?= 2
check-e2e: cbuild $(TOOL_BINS)
	CBUILD_BIN=$(abspath $(BUILD)/cbuild) prove -f --timer -j$(CHECK_JOBS) -e bash $(E2E_TESTS)

# Docker compatibility (issue 26): the scenarios in tests/compat/ are written
# once against $$DOCKER; make check runs them on cbuild, compat-docker on a
# private dockerd (tests/compat/with-dockerd) to show they say what docker does.
check-compat: cbuild
	COMPAT_CBUILD=$(abspath $(BUILD)/cbuild) prove -f --timer -j$(CHECK_JOBS) -e 'tests/compat/with cbuild' $(COMPAT_TESTS)

compat-docker: cbuild
	COMPAT_CBUILD=$(abspath $(BUILD)/cbuild) tests/compat/with-dockerd \
		prove -f -e 'tests/compat/with docker' $(COMPAT_TESTS)

# kill -9 at random points, fsck and content checks after each (issue 23):
# `make crashtest N=1000 [SEED=S]`; make check runs it with a small count.
crashtest: N ?= 100
crashtest: cbuild
	CBUILD_BIN=$(abspath $(BUILD)/cbuild) CRASH_N=$(N) $(if $(SEED),CRASH_SEED=$(SEED)) \
		prove -v -e bash tests/e2e/t0041-crashtest.sh

# The differential tests on many seeds (make check runs a fixed few, t2200).
difftest: N ?= 500
difftest: START ?= 1
difftest: PEERS ?= buildah
difftest: cbuild
	python3 tests/difftest/difftest.py --cbuild $(abspath $(BUILD)/cbuild) -n $(N) --start $(START) \
		$(addprefix --peer ,$(PEERS))

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		ASAN_OPTIONS=detect_leaks=1 check

fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang OPT="-O1 -g" \
		SAN_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libcbuild.a >/dev/null
	@mkdir -p build-fuzz/fuzz
	@for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
		echo "clang $$f -> build-fuzz/fuzz/$$n"; \
		clang -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -I. -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz/$$n $$f build-fuzz/libcbuild.a $(LDLIBS) || exit 1; done

# BENCH_ARGS="--quick" or "seed bigfile" etc.; a full run rewrites bench/RESULTS.md
bench: cbuild
	bench/run $(BENCH_ARGS)

MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions

# The man pages and completions come from the option tables that parse the
# command line and print --help (cmd/doc.c): `man cbuild-run`.
install: cbuild
	install -D -m 0755 $(BUILD)/cbuild $(DESTDIR)$(BINDIR)/cbuild
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	@for p in $$($(BUILD)/cbuild __doc man-list); do \
		$(BUILD)/cbuild __doc man $$p > $(DESTDIR)$(MANDIR)/man1/$$p.1 || exit 1; done
	$(BUILD)/cbuild __doc bash > $(DESTDIR)$(BASHCOMPDIR)/cbuild
	$(BUILD)/cbuild __doc zsh > $(DESTDIR)$(ZSHCOMPDIR)/_cbuild

# .clang-format has ColumnLimit 0: a statement's line breaks are its
# author's. The tree does not match it everywhere (hand-aligned trailing
# comments, tables packed in columns, one-line enums: see the file), so
# `make format` formats only the lines that differ from FORMAT_BASE (the merge
# base with main, committed or not): code nobody touched stays as it is and
# branches do not conflict over whitespace. `make format-all` formats every
# file whole (a large diff today).
FORMAT_SRCS := $(LIB_SRCS) $(CMD_SRCS) $(sort $(wildcard */*.h tests/unit/*.[ch] tests/fuzz/*.c tests/tools/*.c))
FORMAT_BASE ?= $(shell git merge-base HEAD main 2>/dev/null || echo HEAD)
CLANG_FORMAT ?= clang-format
CLANG_FORMAT_DIFF ?= clang-format-diff

format:
	@echo "clang-format: lines changed since $(FORMAT_BASE)"
	@git diff -U0 --no-color $(FORMAT_BASE) -- $(FORMAT_SRCS) | \
		$(CLANG_FORMAT_DIFF) -p1 -i -binary $(CLANG_FORMAT)

format-all:
	$(CLANG_FORMAT) -i $(FORMAT_SRCS)

clean:
	rm -rf build build-asan build-fuzz cbuild

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(UNIT_BINS:=.d) $(TOOL_BINS:=.d)
