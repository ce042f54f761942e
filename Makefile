# Thin wrapper around CMake: `make`, `make test`, `make demo`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps configure test test-asan demo bench clean format fuzz fuzz-seeds

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	bash scripts/install-deps

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

test: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan
	$(MAKE) fuzz FUZZ_SECONDS=3

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLERNET_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

# libFuzzer (clang) with ASan+UBSan: every decoder of untrusted input.
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLERNET_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	bash scripts/fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-seeds: all
	./$(BUILD)/tests/fuzz/make_seeds tests/fuzz/corpus

demo: deps all
	bash scripts/demo

# `make bench ONLY=catchup` runs one section (limits always runs: every
# ratio needs this run's machine limits); RUNS=N sets the repetitions.
bench: deps all
	mkdir -p $(BUILD)/bench
	./$(BUILD)/bench/bench --out $(BUILD)/bench/bench.json $(if $(ONLY),--only $(ONLY)) \
		$(if $(RUNS),--runs $(RUNS)) $(if $(HUB_PARTNERS),--hub-partners $(HUB_PARTNERS))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

format:
	clang-format -i keys/*.[ch] node/*/*.[ch] config/*.[ch] tests/*/*.[ch] bench/*.[ch]
