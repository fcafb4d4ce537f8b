# A thin layer over meson: the commands people type. The build itself is
# described in meson.build; the test logic lives in tests/check.
BUILD ?= build
MESON_ARGS ?=
# netns scenarios mostly wait on the network, so more run at once than cores.
NETNS_JOBS ?= 4

BIN = $(BUILD)/src/mptcp-fdpass

.PHONY: all deps setup check demo bench install clean

all: setup
	meson compile -C $(BUILD)

deps:
	@./ci/deps

setup: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then \
		meson setup $(BUILD) $(MESON_ARGS); \
	elif [ -n "$(MESON_ARGS)" ]; then \
		meson configure $(BUILD) $(MESON_ARGS); \
	fi

check: all
	@NETNS_JOBS=$(NETNS_JOBS) ./tests/check $(BUILD)

demo: all
	MPTCP_FDPASS=$(abspath $(BIN)) ./netns/demo

bench: all
	meson test -C $(BUILD) --benchmark --verbose

install: all
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD)
