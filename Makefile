# Convenience wrapper around CMake; see README.md.
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CONFIG     ?= examples/attribd.yaml

.PHONY: all deps build asan run test test-fast fuzz bench clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

$(BUILD_ASAN)/Makefile:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DATD_SANITIZE=ON >/dev/null

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

asan: deps $(BUILD_ASAN)/Makefile
	cmake --build $(BUILD_ASAN) -j $(JOBS)

run: build
	./$(BUILD)/attribd serve --config $(CONFIG)

# Both builds; the normal one runs everything, the sanitizer one the unit,
# conformance and fuzz-corpus tests (label "sanitize").
test: build asan
	cd $(BUILD_ASAN) && ctest --output-on-failure -L sanitize -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# libFuzzer builds of every tests/fuzz/fuzz_*.c (clang); see docs/events.md to run them.
fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DATD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build-fuzz -j $(JOBS)

bench: build
	bench/ingest.sh
	bench/replay.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
