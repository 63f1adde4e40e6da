# Robustness targets, included by the top Makefile (uses its variables).
#   make fuzz       libFuzzer (clang) on the Range planner, If-Range, the five time-seek
#                   cutters (WAV, MP3, FLAC, Ogg, MP4) with their layouts, FUZZ_SECONDS each
#                   (FUZZ_TARGETS picks some; FUZZ_RUNS=N stops each after N executions)
#   make test-asan  module + unit tests with ASan and UBSan (g++), then the whole suite on them
#   make soak       wrk and abandoned connections against a private httpd for SOAK_SECONDS
# Output: build/fuzz/ (binaries, working corpus, crash artifacts), build/asan/.

FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 60
FUZZ_DIR     := $(BUILD)/fuzz
FORMAT_FUZZ  := wav mp3 flac ogg mp4
FUZZ_TARGETS ?= range_plan if_range $(FORMAT_FUZZ)
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
# The libFuzzer runtime is in libclang-rt-14-dev, not in the clang package.
FUZZ_RT       = $(shell $(FUZZ_CXX) -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS    = $(CXXSTD) $(WARN) -O1 -g $(FUZZ_SAN) $(APR_DEFS) $(APR_INC) -I.

# Headers every object depends on (CORE_HDR when the Makefile defines it).
ROBUST_HDR    = $(or $(CORE_HDR),$(wildcard src/*.h src/cache/*.h src/formats/*.h src/formats/*/*.h src/stats/*.h))

ASAN_DIR     := $(BUILD)/asan
ASAN_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_FLAGS    = $(CXXSTD) $(WARN) -O1 -g -fPIC $(ASAN_SAN) $(APR_DEFS) $(APR_INC)
ASAN_CORE    := $(patsubst src/%.cpp,$(ASAN_DIR)/src/%.o,$(CORE_SRC))
ASAN_UNIT_OBJ = $(patsubst tests/unit/%.cpp,$(ASAN_DIR)/tests/unit/%.o,$(UNIT_SRC))
ASAN_MODULE  := $(ASAN_DIR)/mod_audio_stream.so
ASAN_UNIT    := $(ASAN_DIR)/unit_tests

.PHONY: fuzz fuzz-build fuzz-deps test-asan soak

# ---- fuzz ------------------------------------------------------------------------------------

fuzz-deps:
	@if ! command -v $(FUZZ_CXX) >/dev/null 2>&1 || [ ! -f "$(FUZZ_RT)" ]; then \
	  echo "fuzz: installing clang and libclang-rt-dev (libFuzzer)"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends \
	    clang libclang-rt-dev; \
	fi
	@command -v ffmpeg >/dev/null 2>&1 && command -v flac >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends ffmpeg flac; }

$(FUZZ_DIR)/obj/src/%.o: src/%.cpp $(ROBUST_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/%.o: tests/fuzz/fuzz_%.cpp $(ROBUST_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -c $< -o $@

$(FUZZ_DIR)/range_plan: $(FUZZ_DIR)/obj/range_plan.o \
    $(addprefix $(FUZZ_DIR)/obj/src/,byte_range.o piece_window.o representation.o response_plan.o)
	$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

# if_range.cpp parses dates with apr_date_parse_http: link APR.
$(FUZZ_DIR)/if_range: $(FUZZ_DIR)/obj/if_range.o $(FUZZ_DIR)/obj/src/if_range.o
	$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(APR_LIBS)

# One cutter each, through the shared harness tests/fuzz/fuzz_cut.h: every file of its folder
# (src/formats/<format>/), the formats' toolbox, the byte source's budget and the seek index cache.
FORMAT_OBJ = $(patsubst src/%.cpp,$(FUZZ_DIR)/obj/src/%.o,$(wildcard src/formats/$(1)/*.cpp))
$(addprefix $(FUZZ_DIR)/obj/,$(addsuffix .o,$(FORMAT_FUZZ))): tests/fuzz/fuzz_cut.h
$(foreach f,$(FORMAT_FUZZ),$(eval $(FUZZ_DIR)/$(f): $(call FORMAT_OBJ,$(f))))
$(addprefix $(FUZZ_DIR)/,$(FORMAT_FUZZ)): $(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/%.o \
    $(FUZZ_DIR)/obj/src/formats/toolbox.o $(FUZZ_DIR)/obj/src/representation.o \
    $(FUZZ_DIR)/obj/src/byte_source.o $(FUZZ_DIR)/obj/src/audio_layout.o $(FUZZ_DIR)/obj/src/cache/seek_index.o \
    $(FUZZ_DIR)/obj/src/cache/index_files.o
	$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $(filter %.o,$^)

# The FLAC cutter rewrites frame headers with the helpers in flac/frame.cpp. Its CRC loops run
# over every byte of an input and the unit tests check them against bitwise CRCs: built with the
# sanitizers but without coverage, they leave the fuzzer 3x the executions for the cutter itself.
$(FUZZ_DIR)/obj/src/formats/flac/frame.o: src/formats/flac/frame.cpp $(ROBUST_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -c $< -o $@

# Format seeds are made with ffmpeg and flac (tests/fuzz/make-seeds), not committed.
fuzz-build: deps-build fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@tests/fuzz/make-seeds $(FUZZ_DIR)/seeds

# Each target runs FUZZ_SECONDS from the committed seeds (read-only) plus its working corpus
# in build/fuzz/corpus/; a crash leaves its input in build/fuzz/artifacts/<target>/.
fuzz: fuzz-build
	@tests/fuzz/run-fuzz $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ---- test-asan -------------------------------------------------------------------------------

$(ASAN_DIR)/src/%.o: src/%.cpp $(ROBUST_HDR)
	@mkdir -p $(dir $@)
	$(CXX) $(ASAN_FLAGS) -c $< -o $@

ASAN_GLUE    := $(patsubst %.cpp,$(ASAN_DIR)/glue/%.o,$(GLUE_SRC))
$(ASAN_DIR)/glue/%.o: %.cpp $(ROBUST_HDR) $(wildcard src/apache/*.h)
	@mkdir -p $(dir $@)
	$(CXX) $(ASAN_FLAGS) $(HTTPD_INC) -c $< -o $@

$(ASAN_MODULE): $(ASAN_GLUE) $(ASAN_CORE)
	$(CXX) -shared $(ASAN_SAN) -o $@ $^

$(ASAN_DIR)/tests/unit/%.o: tests/unit/%.cpp $(ROBUST_HDR) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CXX) $(ASAN_FLAGS) -I. -c $< -o $@

$(ASAN_UNIT): $(ASAN_UNIT_OBJ) $(ASAN_CORE)
	$(CXX) $(ASAN_SAN) -o $@ $^ -lgtest_main -lgtest -pthread $(APR_LIBS)

# httpd is not built with ASan: the runtime is preloaded into httpd alone (the harness passes
# AUDIO_STREAM_HTTPD_ENV to httpd only). Reports go to files; any file fails the run.
test-asan: deps-test
	@$(MAKE) --no-print-directory $(ASAN_MODULE) $(ASAN_UNIT)
	@tests/fuzz/run-asan $(ASAN_UNIT) $(ASAN_MODULE) "$(shell $(CXX) -print-file-name=libasan.so)"

# ---- soak ------------------------------------------------------------------------------------

soak: deps-build
	@$(MAKE) --no-print-directory $(MODULE)
	@command -v wrk >/dev/null 2>&1 && command -v ffmpeg >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends wrk ffmpeg; }
	@AUDIO_STREAM_MODULE=$(abspath $(MODULE)) scripts/soak --seconds $(SOAK_SECONDS)
