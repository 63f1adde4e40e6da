# make bench: mod_audio_stream against Apache's core handler and nginx, side by side, on
# loopback (bench/run; results in build/bench-results.md). Not part of make test.
#   make bench BENCH_ARGS='--rounds 5 --record BENCHMARKS.md'
BENCH_ARGS ?=

.PHONY: bench

bench:
	@$(DEPS) bench
	@$(MAKE) --no-print-directory $(MODULE)
	@bench/run --module $(abspath $(MODULE)) $(BENCH_ARGS)
