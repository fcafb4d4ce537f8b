# A thin layer over meson: the commands people type. The build itself is
# described in meson.build; the test logic lives in tests/check.
BUILD ?= build
MESON_ARGS ?=
# netns scenarios mostly wait on the network, so more run at once than cores.
NETNS_JOBS ?= 4

BIN = $(BUILD)/src/mptcp-fdpass

# KERNEL=6.1 (or 6.12, 6.12.43, 7.3, a suite such as sid, a Debian package
# name, .deb files, an image; netns/vm --list-kernels shows them) runs the
# root suites in a qemu guest with that kernel; see netns/vm --help.
KERNEL ?= host
KERNELS ?= host 6.12 6.1
SUITE ?= netns
# TESTS="NAME..." runs only those scenarios (check: no unit suite; matrix:
# on each kernel), e.g. to sweep one bug over every kernel package
TESTS ?=
# matrix: units (kernel, suite, shard) run JOBS at once, each REPEAT times,
# each suite cut in SHARDS; tests/matrix --help
JOBS ?= 1
REPEAT ?= 1
SHARDS ?= 1

.PHONY: all deps build-deps setup check matrix demo bench fuzz deb install clean reports explore bugs-table

all: setup
	meson compile -C $(BUILD)

# `make` needs only the compiler and meson; the tests also need OpenSSH,
# iproute2, nftables and friends.
build-deps:
	@./ci/deps build

# qemu and friends only when a kernel other than the host's is asked for
VM_DEPS = $(if $(filter-out host,$(KERNEL)),vm)

deps:
	@./ci/deps all $(VM_DEPS)

setup: build-deps
	@if [ ! -f $(BUILD)/build.ninja ]; then \
		meson setup $(BUILD) $(MESON_ARGS); \
	elif [ -n "$(MESON_ARGS)" ]; then \
		meson configure $(BUILD) $(MESON_ARGS); \
	fi

check: deps all
	@NETNS_JOBS=$(NETNS_JOBS) KERNEL="$(KERNEL)" MODULES="$(MODULES)" MFP_TESTS="$(TESTS)" ./tests/check $(BUILD)

# the suites on each kernel from a pool of units, as a table (written to
# $(BUILD)/matrix.md) and result files ($(BUILD)/matrix/results/KERNEL/)
matrix: deps all
	@$(if $(filter-out host,$(KERNELS)),./ci/deps vm,true)
	@NETNS_JOBS=$(NETNS_JOBS) KERNELS="$(KERNELS)" SUITE="$(SUITE)" MODULES="$(MODULES)" MFP_TESTS="$(TESTS)" \
		JOBS="$(JOBS)" REPEAT="$(REPEAT)" SHARDS="$(SHARDS)" ./tests/matrix $(BUILD)

# the bug x kernel table of the docs (doc/bugs-matrix.md), merged from the
# result files of bug sweeps, each made with its own --out under
# $(BUILD)/bugs-matrix/ (doc/bugs.md says how): dates and exact packages
# come from the result files, nothing is typed in
bugs-table:
	@# a FAIL cell on an affected kernel is the table's point: only a status
	@# other than 0 or 1 (no results, bad usage) is an error here
	./tests/matrix --merge --md doc/bugs-matrix.md $(wildcard $(BUILD)/bugs-matrix/*/results/) || [ $$? -eq 1 ]

# doc/reports/NAME.md for each open kernel bug (tests/open/), from
# REPORT_RUNS runs on this kernel and one in a guest per REPORT_KERNELS
# (netns/bugreport)
REPORT_KERNELS ?= 6.12
REPORT_RUNS ?= 20
reports: deps all
	@./ci/deps vm
	MPTCP_FDPASS=$(abspath $(BIN)) ./netns/bugreport --runs $(REPORT_RUNS) $(foreach k,$(REPORT_KERNELS),--kernel $(k)) \
		$(notdir $(wildcard tests/open/open-*))

# the fault explorer (netns/explore): random fault plans for MINUTES, from
# SEED; PLANT=1 adds the planted violation; KERNEL=K runs it in a guest
SEED ?= 1
MINUTES ?= 5
RUNS ?= 100000
explore: deps all
	MPTCP_FDPASS=$(abspath $(BIN)) ./netns/explore --seed $(SEED) --minutes $(MINUTES) --runs $(RUNS) \
		$(if $(filter 1,$(PLANT)),--plant) $(if $(filter-out host,$(KERNEL)),--kernel $(KERNEL))

demo: deps all
	MPTCP_FDPASS=$(abspath $(BIN)) ./netns/demo

# numbers and SVG charts (under $(BUILD)), never verdicts, and the tables
# in $(BUILD)/bench.md with date, kernel, machine and load; BENCH_RUNS and
# BENCH_MIB ask for more rounds and bigger transfers, BENCH_FAILOVER_RUNS
# more failover runs (default 5), BENCH_PEER adds another helper to
# path-aggregation
bench: deps all
	meson test -C $(BUILD) --benchmark --verbose

# libFuzzer targets under ASan + UBSan (with float-cast-overflow), built by
# clang in a build directory of their own; doc/testing.md "Fuzzing" for campaigns.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz:
	@./ci/deps fuzz
	@if [ ! -f $(FUZZ_BUILD)/build.ninja ]; then \
		CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false; \
	fi
	meson compile -C $(FUZZ_BUILD)
	./tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS)

# the Debian package, $(BUILD)/mptcp-fdpass_VERSION_ARCH.deb, checked by lintian
deb:
	@./ci/deb $(BUILD)

install: all
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD)
