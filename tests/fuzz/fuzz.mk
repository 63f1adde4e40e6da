# Robustness targets, included by the top Makefile (uses its variables).
#   make fuzz       libFuzzer (clang) on the Range planner, If-Range and the four time-seek
#                   cutters, FUZZ_SECONDS each (FUZZ_TARGETS picks some)
# Output: build/fuzz/ (binaries, working corpus, crash artifacts).

FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_DIR     := $(BUILD)/fuzz
FORMAT_FUZZ  := wav mp3 flac ogg
FUZZ_TARGETS ?= range_plan if_range $(FORMAT_FUZZ)
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
# The libFuzzer runtime is in libclang-rt-14-dev, not in the clang package.
FUZZ_RT       = $(shell $(FUZZ_CXX) -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS    = $(CXXSTD) $(WARN) -O1 -g $(FUZZ_SAN) $(APR_DEFS) $(APR_INC) -I.

# Headers every object depends on (CORE_HDR when the Makefile defines it).
ROBUST_HDR    = $(or $(CORE_HDR),$(wildcard src/*.h src/formats/*.h))


.PHONY: fuzz fuzz-build fuzz-deps

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

# One cutter each, through the shared harness tests/fuzz/fuzz_cut.h.
$(addprefix $(FUZZ_DIR)/obj/,$(addsuffix .o,$(FORMAT_FUZZ))): tests/fuzz/fuzz_cut.h
$(addprefix $(FUZZ_DIR)/,$(FORMAT_FUZZ)): $(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/%.o \
    $(FUZZ_DIR)/obj/src/formats/%.o $(FUZZ_DIR)/obj/src/representation.o
	$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

# Format seeds are made with ffmpeg and flac (tests/fuzz/make-seeds), not committed.
fuzz-build: deps-build fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@tests/fuzz/make-seeds $(FUZZ_DIR)/seeds

# Each target runs FUZZ_SECONDS from the committed seeds (read-only) plus its working corpus
# in build/fuzz/corpus/; a crash leaves its input in build/fuzz/artifacts/<target>/.
fuzz: fuzz-build
	@tests/fuzz/run-fuzz $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
