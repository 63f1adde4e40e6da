// Random access to the bytes of a file, for the format parsers. The glue reads an apr_file_t;
// tests read memory. Parsers never see APR or httpd.
//
// Every source carries the budget of the one request it serves: the reads, the bytes read and
// the steps (entries of a table, pages, frames walked without reading) that cutting or laying out
// the file may cost. Spending past it throws BudgetSpent, which each format's entry point turns
// into a refusal (formats/toolbox.h), so no parser needs a bound of its own to be bounded. An
// index build (done once per file, then cached) has its own bounds and runs Unbudgeted.
#ifndef AUDIO_STREAM_BYTE_SOURCE_H
#define AUDIO_STREAM_BYTE_SOURCE_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "representation.h"

namespace audio_stream {

// What one request may spend on a file (README, "Budgets"). Real files stay far inside it:
// cutting a one-hour file costs at most about 3,700 reads and 2.1 MB (Ogg, which reads every page
// header from START on; MP3, FLAC and WAV 5 reads once indexed, MP4 66) and 62 steps (MP4 counts
// the entries of the tables it holds). Each format's own caps (Ogg 2^18 pages and FLAC 2^18
// frames a cut; MP4 a 64 MiB moov, 2^21 chunks a track) sit inside it.
struct ParseBudget {
    std::uint64_t reads = 0;
    std::uint64_t bytes = 0;
    std::uint64_t steps = 0;
};
inline constexpr ParseBudget kRequestBudget{std::uint64_t{1} << 19, std::uint64_t{128} << 20, std::uint64_t{1} << 21};

// No bound at all: for sources that only observe another's reads (tests).
inline constexpr ParseBudget kNoBudget{UINT64_MAX, UINT64_MAX, UINT64_MAX};

// Thrown when a request's budget is spent; `detail` names the budget ("over the request's
// budget of 524288 reads").
struct BudgetSpent {
    std::string detail;
    // Spent on steps: the tables a parser holds (MP4's), the same for every span of the file, so
    // the verdict is the file's; reads and bytes depend on where a walk starts.
    bool whole_file = false;
};

class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual Offset size() const = 0;

    // Reads exactly len bytes at offset into buf; false if they are not all there. Counts one
    // read and len bytes against the budget (BudgetSpent past it).
    bool read(Offset offset, void* buf, std::size_t len)
    {
        spend(1, len, 0);
        return fetch(offset, buf, len);
    }
    // Counts n steps of a walk that does not read for each (BudgetSpent past the budget).
    void step(std::uint64_t n = 1) { spend(0, 0, n); }

    const ParseBudget& spent() const { return spent_; }
    const ParseBudget& budget() const { return budget_; }
    void set_budget(const ParseBudget& b) { budget_ = b; }

    // While one lives, the source spends nothing: an index build, bounded by its own limits.
    class Unbudgeted {
    public:
        explicit Unbudgeted(ByteSource& src) : src_(src) { ++src_.unbudgeted_; }
        ~Unbudgeted() { --src_.unbudgeted_; }
        Unbudgeted(const Unbudgeted&) = delete;
        Unbudgeted& operator=(const Unbudgeted&) = delete;

    private:
        ByteSource& src_;
    };

protected:
    virtual bool fetch(Offset offset, void* buf, std::size_t len) = 0;

private:
    void spend(std::uint64_t reads, std::uint64_t bytes, std::uint64_t steps);

    ParseBudget budget_ = kRequestBudget;
    ParseBudget spent_;
    int unbudgeted_ = 0;
};

// A ByteSource over bytes in memory (tests, fuzzers).
class MemorySource final : public ByteSource {
public:
    explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
    Offset size() const override { return bytes_.size(); }

protected:
    bool fetch(Offset offset, void* buf, std::size_t len) override
    {
        if (offset > bytes_.size() || len > bytes_.size() - offset) {
            return false;
        }
        if (len != 0) {  // buf may be null then (an empty vector's data()): no memcpy
            std::memcpy(buf, bytes_.data() + offset, len);
        }
        return true;
    }

private:
    std::string_view bytes_;
};

}  // namespace audio_stream

#endif
