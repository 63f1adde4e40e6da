# make bench: mod_audio_stream against Apache's core handler (and nginx over HTTP/1.1), side by
# side, on loopback, over HTTP/1.1, HTTP/1.1+TLS, h2c and h2+TLS (bench/run; results in
# build/bench-results.md). Not part of make test.
#   make bench BENCH_ARGS='--rounds 5 --record BENCHMARKS.md'
#   make bench BENCH_ARGS='--transports h2c,h2-tls'
BENCH_ARGS ?=

.PHONY: bench

bench:
	@$(DEPS) bench
	@$(MAKE) --no-print-directory $(MODULE)
	@bench/run --module $(abspath $(MODULE)) $(BENCH_ARGS)
