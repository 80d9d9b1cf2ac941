# htcodec: `make` builds everything into build/, `make test` runs every test,
# `make run` builds and runs the main job on a sample the project makes itself.
BUILD ?= build
HTC_CUDA ?= AUTO
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all build run test test-asan clean fuzz

all: build

build:
	cmake -S . -B $(BUILD) -DHTC_CUDA=$(HTC_CUDA) $(CMAKE_ARGS) > /dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	bash tests/scripts/main_job.sh $(BUILD)

test: build
	bash tests/run_all.sh $(BUILD)

test-asan:
	cmake -S . -B build-asan -DHTC_SANITIZE=ON -DHTC_CUDA=OFF -DCMAKE_BUILD_TYPE=Debug -DHTC_PYTHON=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

fuzz:
	cmake -S . -B build-fuzz -DHTC_FUZZ=ON -DHTC_CUDA=OFF -DHTC_PYTHON=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
