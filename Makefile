# Kiln: `make run` and `make test` do all the set-up on a fresh Debian 12 machine (as root).
SWIFT ?= swift
# C libraries Kiln links, and the tools the tests and benchmarks use as references.
BUILD_PACKAGES := pkg-config libvips-dev libmagic-dev libsqlite3-dev libavformat-dev libavcodec-dev libavfilter-dev \
	libswscale-dev libswresample-dev libavutil-dev libdlib-dev liblapack-dev libblas-dev
TEST_PACKAGES := ffmpeg time chromium chromium-driver postgresql
BENCH_PACKAGES := libvips-tools imagemagick hyperfine libimage-exiftool-perl ffmpeg curl postgresql
SAMPLES := $(wildcard samples/*.jpg samples/*.png samples/*.webp samples/*.avif samples/*.heic \
	samples/*.jxl samples/*.gif samples/*.tiff) samples/video/h264-aac-moov-end.mp4 samples/video/hevc10-rotated.mp4 \
	samples/video/vp9-opus.webm samples/video/hlg-hdr.mp4

.PHONY: run test build release release-dependencies deps test-deps bench-deps bench samples fuzz clean

# Install only what is missing (apt-get update once, first: a new machine's lists may be stale).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_PACKAGES))

# From PyPI: moto's S3 server (with boto3 to set it up) for the storage tests, schemathesis
# for the OpenAPI test, selenium (with Debian's chromium-driver) for the upload page test,
# tuspy (a real tus client) for the resumable upload test, opentelemetry-proto to read the
# spans the trace test receives.
# Debian's postgresql: the tests start throwaway clusters of their own (the service is not used).
test-deps: deps
	$(call apt_install,$(TEST_PACKAGES))
	@python3 -c 'import moto.server, boto3, flask_cors, schemathesis, selenium, tusclient, opentelemetry.proto' 2>/dev/null || \
		pip install --quiet 'moto[server]' boto3 schemathesis selenium tuspy opentelemetry-proto

bench-deps: deps
	$(call apt_install,$(BENCH_PACKAGES))
	@python3 -c 'import thumbor' 2>/dev/null || pip install --quiet thumbor

build: deps
	$(SWIFT) build

# The Swift runtime and Foundation linked statically: ~6 MB less RSS and ~15 ms less start-up
# per run (measured by benchmarks/); the binary is still .build/release/kiln. The C code Kiln
# compiles itself (two copies of BoringSSL, NIO's shims) at -O1: a fresh machine's build spends
# much of its time there, -O1 keeps most of -O2's speed for it, and the hot paths (SHA-256,
# AES) are BoringSSL's assembly either way; libvips, FFmpeg and libmagic are Debian's builds.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xcc -O1
release: deps
	$(SWIFT) build $(RELEASE_FLAGS)

# The Swift packages alone (no C library of Debian's needed yet).
release-dependencies:
	$(SWIFT) build $(RELEASE_FLAGS) --target KilnDependencies

# The main job on embedded defaults: the API server on local disk + SQLite under ./kiln-data,
# a first key printed when there is none, and the address of the upload page. Only the kiln
# product is built (not the fuzzer or the benchmarks): the first run's build is the wait, so
# the packages it links (most of it) are built while apt-get installs the C libraries.
run:
	@$(MAKE) --no-print-directory -j2 deps release-dependencies
	$(SWIFT) build $(RELEASE_FLAGS) --product kiln
	.build/release/kiln serve --data kiln-data --first-key

# The tests run under a time limit (a full run takes about 5 minutes on 2 cores): a test that
# hangs stops the run with the names of the tests still running (from Swift Testing's event
# stream), output is written a line at a time, and nothing the tests started outlives them.
TEST_SECONDS ?= 1800
test: test-deps
	$(SWIFT) build
	$(SWIFT) build --build-tests
	python3 Tests/Support/run_tests.py $(TEST_SECONDS) .build/test-events.jsonl -- $(SWIFT) test --skip-build

bench: bench-deps release
	benchmarks/run.sh

# Coverage-guided fuzzing (libFuzzer + AddressSanitizer), FUZZ_SECONDS per target, starting
# from Tests/Fixtures/fuzz/<target>; new findings (crash-*, timeout-*) land in .fuzz/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := checks video-probe presets sigv4 multipart byte-range tus-metadata upload-form checksum fetch-url webhook-url
fuzz: test-deps
	$(SWIFT) build --product kiln-fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address \
		-Xswiftc -parse-as-library -Xswiftc -DKILN_FUZZ -Xswiftc -use-ld=lld
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p .fuzz/$$t/corpus; \
		echo "== $$t ($(FUZZ_SECONDS) s)"; \
		SWIFT_BACKTRACE=enable=no KILN_FUZZ_TARGET=$$t ASAN_OPTIONS=detect_leaks=0 .build-fuzz/debug/kiln-fuzz \
			.fuzz/$$t/corpus Tests/Fixtures/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
			-rss_limit_mb=4096 -artifact_prefix=.fuzz/$$t/ -print_final_stats=1 || exit 1; \
	done

# Regenerate samples/ (committed; only needed when changing them).
samples: bench-deps
	samples/make-samples.sh
	samples/video/make-video-samples.sh
	samples/hostile/make_hostile.py

clean:
	rm -rf .build kiln-out kiln-data
