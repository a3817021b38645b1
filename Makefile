# plateau — the verbs people type. Everything real lives in scripts/ and CMake.
#   make demo    install what is missing, build, start the local stack, run the scenario, report
#   make test    install what is missing, build with -Werror, run every suite, then again under
#                ASan/UBSan, then a short fuzzing pass
#   make up / make down    start / stop the local stack (Redis and every service) under run/
#   make bench   run the benchmarks (on demand, never part of make test)
#   make test-cluster  the integration suite on a three-master Redis Cluster (on demand)
#   make sim     the full compliance simulation: 100,000 leads, two simulated weeks (on demand)
#   make chaos   the simulation while every service is SIGKILLed in turn (on demand; a short
#                form runs in make test)
#   make image   the container image the manifests run, plateau:<version> (on demand, minutes)
#   make image-test    the image, then a service started from it and checked (on demand)
.PHONY: all build deps test test-fast test-cluster test-long demo up down status bench fuzz sim chaos image image-test clean

JOBS ?= 2

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build -j$(JOBS)

test: deps
	@scripts/test.sh

# Debug build and the three suites only: the quick loop while developing.
test-fast: build
	@ctest --test-dir build -L 'unit|integration|e2e|security' -j$(JOBS) --output-on-failure

# The integration and e2e suites with every test's Redis a Cluster of three masters (the test
# harness starts one per test: PL_TEST_REDIS_CLUSTER=1): on demand, about twice make test-fast.
test-cluster: build
	@PL_TEST_REDIS_CLUSTER=1 ctest --test-dir build -L 'integration|e2e' -E 'test_redis_sentinel|test_e2e_sim' \
	  -j$(JOBS) --output-on-failure

# The long tests only (a million-row CSV through the intake): minutes, never part of make test.
test-long: build
	@ctest --test-dir build -L long --output-on-failure

demo: deps
	@scripts/demo.sh

up: build
	@scripts/stack.sh up

down:
	@scripts/stack.sh down

status:
	@scripts/stack.sh status

bench: deps
	@scripts/bench.sh

# SIM_ARGS overrides the scale: make sim SIM_ARGS="--leads 20000 --days 3"
sim: deps
	@cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-rel -j$(JOBS)
	@PL_BIN_DIR=$(CURDIR)/build-rel/bin scripts/sim.sh $${SIM_ARGS:---leads 100000 --days 14 --speed 2500 --kill-dialer}

# CHAOS_ARGS overrides the scale: make chaos CHAOS_ARGS="--leads 100000 --days 14 --speed 2500"
chaos: deps
	@cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-rel -j$(JOBS)
	@PL_BIN_DIR=$(CURDIR)/build-rel/bin scripts/sim.sh --chaos $${CHAOS_ARGS:---leads 20000 --days 3 --speed 2000}

# Longer fuzzing on demand: FUZZ_SECONDS per target (default 300).
fuzz: deps
	@PL_FUZZ_SECONDS=$${FUZZ_SECONDS:-300} scripts/fuzz.sh

# The image deploy/ runs (Containerfile), built with buildah from a Debian base made locally:
# downloads and compiles for minutes, never part of make test. JOBS sets the compile's parallelism.
image:
	@JOBS=$(JOBS) scripts/image.sh build

# Also checks the image: user 10001, no compiler, every binary's libraries, a service's /healthz.
image-test: deps
	@JOBS=$(JOBS) scripts/image.sh test

clean:
	@rm -rf build build-san build-fuzz
