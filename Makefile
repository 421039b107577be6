# A thin front door over CMake: every target installs what is missing, configures and builds.
#   make demo      train the MLP on Fashion-MNIST (the main job)
#   make demo-dist the same on two MPI ranks (data-parallel; Open MPI from setup.sh)
#   make data      data/fashion-mnist, data/mnist and data/brown (the Brown corpus as text)
#   make compare   every optimizer on the same MLP: docs/optimizer-comparison/{loss.png,results.md}
#   make compare-async  synchronous and asynchronous SGD: docs/async-comparison/{async.png,results.md}
#   make test      the whole test suite
#   make sanitize  the tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang-16)
#   make tsan      the threading tests under ThreadSanitizer
#   make install-check   install, then build and run an outside project against the package
#   make bench     micro-benchmarks, then B1-B6 against libtorch (B1-B4 and hand-written Eigen), quiet
#                  and beside a busy process, and the ecosystem figures; appends a row to
#                  bench/history.csv
#   make bench-dist  B2 as 1 process x 1 and 2 threads and as 2 MPI ranks x 1 thread, with a
#                  breakdown of the 2-rank epoch and the machine's two-process ceiling
#   make fuzz      the libFuzzer targets, each for FUZZ_SECONDS (default 60)
#   make docs      the HTML API reference (build-docs/html), complete or failing
#   make format    apply .clang-format to every C++ file
# Pass extra CMake options with CMAKE_FLAGS="-DTAPEGRAD_WERROR=ON".

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup configure build data demo demo-dist compare compare-async bench-dist test sanitize tsan install-check bench fuzz docs format clean

all: build

setup:
	@scripts/setup.sh

configure: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

data: build
	scripts/get_data.sh $(BUILD)

demo: data
	$(BUILD)/examples/mnist_mlp --plot $(BUILD)/demo

# Two MPI ranks on this machine, the global batch split between them (root needs the flag).
MPIEXEC_FLAGS ?= -n 2 $(shell [ "$$(id -u)" -eq 0 ] && echo --allow-run-as-root)
demo-dist: data
	mpiexec $(MPIEXEC_FLAGS) $(BUILD)/examples/mnist_mlp --distributed --save mnist_mlp-dist-checkpoints

compare: data
	$(BUILD)/examples/optimizer_comparison --out docs/optimizer-comparison

compare-async: data
	scripts/compare_async.sh $(BUILD) docs/async-comparison

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The tree scripts/fuzz.sh builds in too (clang-16): the fuzz targets are built here as well.
sanitize: setup
	CMAKE_FLAGS="$(CMAKE_FLAGS)" scripts/configure_asan.sh build-asan
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

# Only core is built: the threading tests need nothing else.
tsan: setup
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEGRAD_TSAN=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DTAPEGRAD_NATIVE=OFF \
	  -DTAPEGRAD_BUILD_EXAMPLES=OFF -DTAPEGRAD_MPI=OFF $(CMAKE_FLAGS)
	cmake --build build-tsan -j $(JOBS) --target tsan_tests
	cd build-tsan && ctest --output-on-failure

install-check: build
	scripts/check_install.sh $(BUILD)

# B5 and B6 read data/brown, which the main build's brown_to_text makes.
bench: data
	scripts/setup.sh libtorch-dev libopenblas0-openmp
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_BUILD_BENCH=ON \
	  -DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF $(CMAKE_FLAGS)
	cmake --build build-bench -j $(JOBS)
	bash -o pipefail -c '{ build-bench/bench/bench_core && bench/run.sh build-bench && \
	  bench/run.sh build-bench 3 contention && bench/ecosystem.sh build-bench; } | tee build-bench/bench.log'
	bench/history.sh build-bench/bench.log

bench-dist:
	scripts/setup.sh
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTAPEGRAD_BUILD_BENCH=ON \
	  -DTAPEGRAD_BUILD_TESTS=OFF -DTAPEGRAD_BUILD_EXAMPLES=OFF $(CMAKE_FLAGS)
	cmake --build build-bench -j $(JOBS) --target bench_tapegrad bench_dist
	bench/dist.sh build-bench

FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

docs:
	scripts/docs.sh

format:
	scripts/check_format.sh --fix

clean:
	rm -rf $(BUILD) build-asan build-tsan build-bench build-docs
