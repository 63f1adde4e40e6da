# make bench: mod_audio_stream against Apache's core handler (and nginx over HTTP/1.1), side by
# side, on loopback, over HTTP/1.1, HTTP/1.1+TLS, h2c and h2+TLS (bench/run; results in
# build/bench-results.md); then what time seek costs on one-hour files (bench/time-seek; the
# files are kept in build/bench-files for the next run). Not part of make test.
#   make bench BENCH_ARGS='--record BENCHMARKS.md'
#   make bench BENCH_ARGS='--transports h2c,h2-tls' TIME_SEEK_ARGS='--formats flac'
# make bench-count: the work per request of both over h2c, counted rather than timed (bench/count:
# user-space instructions under callgrind, system calls under strace; build/count-results.md).
#   make bench-count COUNT_ARGS='--workloads range64k --requests 2000'
# make bench-hostile: what each hostile file (tests/integration/hostile_files.py) costs a request,
# first and repeated, and the children's peak RSS, beside a normal file of its format (bench/hostile).
#   make bench-hostile HOSTILE_ARGS='--record BENCHMARKS.md'
# make bench-hls: what HLS costs on three-hour MP3, FLAC and AAC files (bench/hls; kept in
# build/bench-files): the first and repeated FILE/index.m3u8 (server time) beside the first ?t=,
# then one segment's req/s from the module against the same bytes from the core handler, over
# HTTP/1.1 (wrk) and h2c (h2load). Informative goals, not a pass/fail.
#   make bench-hls HLS_ARGS='--minutes 30 --rounds 8 --record BENCHMARKS.md'
BENCH_ARGS ?=
TIME_SEEK_ARGS ?=
COUNT_ARGS ?=
HOSTILE_ARGS ?=
HLS_ARGS ?=

.PHONY: bench bench-count bench-hostile bench-hls

bench:
	@$(DEPS) bench
	@$(MAKE) --no-print-directory $(MODULE)
	@status=0; bench/run --module $(abspath $(MODULE)) $(BENCH_ARGS) || status=$$?; \
	  bench/time-seek --module $(abspath $(MODULE)) $(TIME_SEEK_ARGS) || status=$$?; \
	  exit $$status

bench-count:
	@$(DEPS) bench
	@$(MAKE) --no-print-directory $(MODULE)
	@bench/count --module $(abspath $(MODULE)) $(COUNT_ARGS)

bench-hostile:
	@$(DEPS) test
	@$(MAKE) --no-print-directory $(MODULE)
	@bench/hostile --module $(abspath $(MODULE)) $(HOSTILE_ARGS)

bench-hls:
	@$(DEPS) bench
	@$(MAKE) --no-print-directory $(MODULE)
	@bench/hls --module $(abspath $(MODULE)) $(HLS_ARGS)
