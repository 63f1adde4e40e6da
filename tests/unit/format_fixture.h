// The fixture the four format tests share: source files made once per run by each format's
// Format::make into one private temp dir and cached with what the tools said of them, and the
// test of every source at every time, whose SetUp cuts as the module serves, checks the
// invariants and the status the time expects, and writes the cut out for the tools to judge.
//
// A Format (deriving from FormatBase) names: Source (with .name), File (with .bytes and .errors,
// empty when the file was made without a word), kNames, kSources (what the run makes),
// `static File make(const Source&, const std::string& dir)` and, unless the shared checks are
// all, `static void expect_invariants(const Cut&, Offset file_size, const Span&)`.
#ifndef AUDIO_STREAM_TESTS_UNIT_FORMAT_FIXTURE_H
#define AUDIO_STREAM_TESTS_UNIT_FORMAT_FIXTURE_H

#include <gtest/gtest.h>

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>

#include "tests/unit/cut_tools.h"

namespace audio_stream {
namespace test_tools {

struct FormatNames {
    const char* tag;        // of the temp dir
    const char* type;       // the media type the dispatch knows
    const char* extension;  // of the files written, with its dot
};

template <typename SourceT, typename FileT>
struct FormatBase {
    using Source = SourceT;
    using File = FileT;

    static void expect_invariants(const Cut& cut, Offset file_size, const Span& span)
    {
        test_tools::expect_invariants(cut, file_size, span);
    }
};

template <typename Format>
class FormatFiles : public ::testing::Test {
public:
    using Source = typename Format::Source;
    using File = typename Format::File;

    static const std::string& dir()
    {
        static const TempDir dir(Format::kNames.tag);
        return dir.path();
    }

    // The file of a source, made on first use.
    static const File& file(const Source& s)
    {
        static std::map<std::string, File> cache;
        auto it = cache.find(s.name);
        if (it == cache.end()) {
            it = cache.emplace(s.name, Format::make(s, dir())).first;
        }
        return it->second;
    }

    // The file of the source of that name.
    static const File& fixture(const std::string& name)
    {
        for (const auto& s : Format::kSources) {
            if (name == s.name) {
                return file(s);
            }
        }
        throw std::out_of_range(name);
    }

    // What went wrong making any of the sources: empty when all were made cleanly.
    static std::string errors()
    {
        std::string all;
        for (const auto& s : Format::kSources) {
            const std::string& e = file(s).errors;
            all += e.empty() ? "" : std::string(s.name) + ": " + e;
        }
        return all;
    }
};

template <typename Format>
class FormatCut : public FormatFiles<Format>,
                  public ::testing::WithParamInterface<CutCase<typename Format::Source>> {
protected:
    using Files = FormatFiles<Format>;

    void SetUp() override
    {
        src_ = *this->GetParam().source;
        time_ = *this->GetParam().time;
        const auto& f = Files::file(src_);
        ASSERT_EQ(f.errors, "");
        ASSERT_FALSE(f.bytes.empty());
        MemorySource in(f.bytes);
        cut_ = served_cut(Format::kNames.type, in, time_.span());
        Format::expect_invariants(cut_, f.bytes.size(), time_.span());
        ASSERT_EQ(cut_.status, time_.status) << cut_.detail;
        if (ok()) {
            bytes_ = materialise(f.bytes, cut_.rep);
            path_ = Files::dir() + "/cut_" + src_.name + "_" + time_.name + Format::kNames.extension;
            spit(path_, bytes_);
        }
    }

    bool ok() const { return cut_.status == Cut::Status::Ok; }
    const typename Format::File& file() const { return Files::file(src_); }

    typename Format::Source src_{};
    TimeCase time_{};
    Cut cut_;
    std::string bytes_;  // what a client receives
    std::string path_;   // where they were written
};

}  // namespace test_tools
}  // namespace audio_stream

#endif
