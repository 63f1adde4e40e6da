# mod_audio_stream: build with apxs's flags and g++, test against a private httpd.
# Targets: all, test, unit, integration, run, install, deb, clean (see README.md).

APXS      ?= $(shell command -v apxs 2>/dev/null || command -v apxs2 2>/dev/null || echo apxs)
CXX       ?= g++
BUILD     := build
PORT      ?= 8080

# Recursive (=) so that apxs is asked only once the dependencies are installed.
APR_CFG    = $(shell $(APXS) -q APR_CONFIG 2>/dev/null | cut -d';' -f1)
APU_CFG    = $(shell $(APXS) -q APU_CONFIG 2>/dev/null | cut -d';' -f1)
HTTPD_INC  = -isystem $(shell $(APXS) -q INCLUDEDIR)
APR_INC    = $(patsubst -I%,-isystem %,$(filter-out -I/usr/include,$(shell $(APR_CFG) --includes) $(shell $(APU_CFG) --includes)))
APR_DEFS   = $(shell $(APR_CFG) --cppflags)
APR_LIBS   = $(shell $(APU_CFG) --link-ld --libs) $(shell $(APR_CFG) --link-ld --libs)

WARN      := -Wall -Wextra -Werror
CXXSTD    := -std=c++17
OPT       ?= -O2 -g
CXXFLAGS_ALL = $(CXXSTD) $(WARN) $(OPT) -fPIC $(APR_DEFS) $(APR_INC) $(EXTRA_CXXFLAGS)
# Each object's header dependencies, written by the compiler next to it (foo.o -> foo.d): a
# header edit rebuilds only what includes it. An object without its .d is rebuilt once.
DEPFLAGS  := -MMD -MP

# The core: plain C++ (APR allowed), in the module and in the unit tests. The glue: the module
# record and src/apache/, the only code that includes httpd headers, in the module only.
CORE_SRC  := $(wildcard src/*.cpp src/cache/*.cpp src/formats/*.cpp src/formats/*/*.cpp src/hls/*.cpp src/stats/*.cpp)
GLUE_SRC  := mod_audio_stream.cpp $(wildcard src/apache/*.cpp)
GLUE_OBJ  := $(patsubst %.cpp,$(BUILD)/glue/%.o,$(GLUE_SRC))
# All core headers: what the fuzz and sanitizer builds (tests/fuzz/fuzz.mk) depend on.
CORE_HDR  := $(wildcard src/*.h src/cache/*.h src/formats/*.h src/formats/*/*.h src/hls/*.h src/stats/*.h)
CORE_OBJ  := $(patsubst src/%.cpp,$(BUILD)/src/%.o,$(CORE_SRC))
UNIT_SRC  := $(wildcard tests/unit/*.cpp)
UNIT_OBJ  := $(patsubst tests/unit/%.cpp,$(BUILD)/tests/unit/%.o,$(UNIT_SRC))
MODULE    := $(BUILD)/mod_audio_stream.so
UNIT_BIN  := $(BUILD)/unit_tests
DEPS      := scripts/ensure-deps
# tests/web's npm packages (hls.js, hls-parser, puppeteer-core): npm ci writes this file last.
WEB_MODULES := tests/web/node_modules/.package-lock.json

.PHONY: all check-build deps-build deps-test deps-run deps-deb test unit integration run install deb clean cut-file

# make (all) only builds; run, test, bench and fuzz install what they need first.
all: check-build
	@$(MAKE) --no-print-directory $(MODULE)

check-build:
	@command -v $(APXS) >/dev/null 2>&1 || { echo "make: $(APXS) not found: install apache2-dev" \
	  "(scripts/ensure-deps build does it), or run make run / make test, which install it" >&2; exit 2; }

deps-build:
	@$(DEPS) build
deps-test:
	@$(DEPS) test
	@$(MAKE) --no-print-directory $(WEB_MODULES)
deps-run:
	@$(DEPS) run
	@$(MAKE) --no-print-directory $(WEB_MODULES)
deps-deb:
	@$(DEPS) deb

# The lockfile's exact versions, installed again only when package.json or the lockfile is newer
# than the last install. --ignore-scripts: no package's install script runs (puppeteer-core
# downloads no browser; the tests drive Debian's chromium and firefox-esr).
$(WEB_MODULES): tests/web/package.json tests/web/package-lock.json
	cd tests/web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(BUILD)/src/%.o: src/%.cpp $(BUILD)/src/%.d
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_ALL) $(DEPFLAGS) -c $< -o $@

$(BUILD)/glue/%.o: %.cpp $(BUILD)/glue/%.d
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_ALL) $(DEPFLAGS) $(HTTPD_INC) -c $< -o $@

$(MODULE): $(GLUE_OBJ) $(CORE_OBJ)
	$(CXX) -shared $(EXTRA_LDFLAGS) -o $@ $^

$(BUILD)/tests/unit/%.o: tests/unit/%.cpp $(BUILD)/tests/unit/%.d
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_ALL) $(DEPFLAGS) -I. -c $< -o $@

# A missing .d is a target with nothing to do, which makes its object out of date.
$(BUILD)/%.d: ;
.PRECIOUS: $(BUILD)/%.d
-include $(CORE_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(GLUE_OBJ:.o=.d)

$(UNIT_BIN): $(UNIT_OBJ) $(CORE_OBJ)
	$(CXX) $(EXTRA_LDFLAGS) -o $@ $^ -lgtest_main -lgtest -pthread $(APR_LIBS)

# build/cut-file: a cut or clip of a file without a server (tests/tools/cut_file.cpp).
CUT_TOOL  := $(BUILD)/cut-file
$(CUT_TOOL): tests/tools/cut_file.cpp $(CORE_OBJ)
	$(CXX) $(CXXFLAGS_ALL) -I. -o $@ $^ -pthread $(APR_LIBS)

cut-file: check-build
	@$(MAKE) --no-print-directory $(CUT_TOOL)

# make test: install what is missing, build, run every test, exit non-zero on any failure.
test: deps-test
	@$(MAKE) --no-print-directory $(MODULE) $(UNIT_BIN)
	@scripts/run-tests $(UNIT_BIN) $(MODULE)

unit: deps-test
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	$(UNIT_BIN)

integration: deps-test
	@$(MAKE) --no-print-directory $(MODULE)
	AUDIO_STREAM_MODULE=$(abspath $(MODULE)) python3 tests/integration/run.py

# make run: a private httpd on 127.0.0.1:$(PORT) serving the demo page; Ctrl-C stops it.
run: deps-run
	@$(MAKE) --no-print-directory $(MODULE)
	@PORT=$(PORT) scripts/run-demo $(abspath $(MODULE))

# The .load a2enmod reads, naming the module where apxs -i (and the package) puts it.
LOAD_FILE := $(BUILD)/audio_stream.load
$(LOAD_FILE): conf/audio_stream.load
	@mkdir -p $(BUILD)
	sed "s#@MODULE_PATH@#$$($(APXS) -q LIBEXECDIR)/mod_audio_stream.so#" $< > $@

install: all
	@$(MAKE) --no-print-directory $(LOAD_FILE)
	$(APXS) -i -n audio_stream $(MODULE)
	@conf_dir=/etc/apache2/mods-available; \
	if [ -d $$conf_dir ]; then \
	  cp $(LOAD_FILE) $$conf_dir/audio_stream.load; \
	  cp conf/audio_stream.conf $$conf_dir/audio_stream.conf; \
	  echo "Installed. Enable with: a2enmod audio_stream && systemctl reload apache2"; \
	fi

# make deb: build/libapache2-mod-audio-stream_<version>_<arch>.deb, from a copy of the tree
# (dpkg-buildpackage writes next to the source directory: never into this one's parent).
deb: deps-deb
	@scripts/build-deb $(BUILD)

clean:
	rm -rf $(BUILD)

# Benchmarks (bench/) and robustness targets (tests/fuzz/): fuzz, test-asan, soak.
-include bench/bench.mk
-include tests/fuzz/fuzz.mk
