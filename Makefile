# Thin wrapper over CMake presets: `make`, `make test`, `make bench`, `make dev`, `make fuzz`.
JOBS ?= $(shell nproc)
.PHONY: all build test test-all dev fuzz bench format format-check clean

all build:
	cmake --preset release >/dev/null
	cmake --build build -j$(JOBS)

test: build
	cd build && ctest --output-on-failure -j$(JOBS) -LE slow

test-all: build
	cd build && ctest --output-on-failure -j$(JOBS)

# The sanitizer build is slow: the scale-out test (label redis), which starts its own processes
# on both cores, runs alone after the others.
dev:
	cmake --preset dev >/dev/null
	cmake --build build-dev -j$(JOBS)
	cd build-dev && ctest --output-on-failure -j$(JOBS) -LE 'slow|bench|web|redis'
	cd build-dev && ctest --output-on-failure -L redis

fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build build-fuzz -j$(JOBS)

bench: build
	tools/setup_peers.sh build/peers
	/usr/bin/python3 bench/bench.py --toonify build/toonify
	/usr/bin/python3 bench/service_bench.py --toonify build/toonify
	/usr/bin/python3 bench/faces_bench.py --toonify build/toonify

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-dev build-fuzz

# Installs into PREFIX (default /usr/local; DESTDIR for staging), models included when models/
# has them.  The prefix is also where the installed library looks for models last.
PREFIX ?= /usr/local
.PHONY: install
install:
	cmake --preset release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build build -j$(JOBS)
	DESTDIR=$(DESTDIR) cmake --install build
