// cut-file: a cut or clip of a file as the module would serve it, without a server. For trying
// the cutters on real files by hand, with decoders as oracles:
//   build/cut-file audio/mpeg in.mp3 30,90 > clip.mp3 && ffprobe clip.mp3
// SPAN is what ?t= takes (time_param.h). Prints status, start, end, duration and the ETag suffix
// to stderr, with what the cut spent of a request's budget; the bytes to stdout. Exit 0 for an Ok cut, 1 for any other status, 2 for bad usage.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "src/byte_source.h"
#include "src/cache/cut_cache.h"
#include "src/formats/dispatch.h"
#include "src/time_param.h"

namespace {

class FileSource final : public audio_stream::ByteSource {
public:
    explicit FileSource(std::FILE* f) : f_(f)
    {
        std::fseek(f_, 0, SEEK_END);
        size_ = static_cast<audio_stream::Offset>(std::ftell(f_));
    }
    audio_stream::Offset size() const override { return size_; }
    bool fetch(audio_stream::Offset offset, void* buf, std::size_t len) override
    {
        return offset <= size_ && len <= size_ - offset && std::fseek(f_, static_cast<long>(offset), SEEK_SET) == 0 &&
               std::fread(buf, 1, len, f_) == len;
    }

private:
    std::FILE* f_;
    audio_stream::Offset size_ = 0;
};

}  // namespace

int main(int argc, char** argv)
{
    using namespace audio_stream;
    if (argc != 4) {
        std::fprintf(stderr, "usage: cut-file TYPE FILE SPAN > out\n");
        return 2;
    }
    const auto span = parse_span(argv[3]);
    std::FILE* f = std::fopen(argv[2], "rb");
    if (!span || !f) {
        std::fprintf(stderr, "cut-file: %s\n", span ? "cannot open the file" : "malformed span");
        return 2;
    }
    FileSource src(f);
    const auto cut = cut_for_type(argv[1], src, *span);
    if (!cut) {
        std::fprintf(stderr, "cut-file: no cutter for %s\n", argv[1]);
        return 2;
    }
    static const char* const kStatus[] = {"ok", "past-end", "malformed", "unsupported", "over-budget"};
    std::fprintf(stderr, "status %s start %lld end %lld duration %lld etag %s %s\n",
                 kStatus[static_cast<int>(cut->status)], static_cast<long long>(cut->start),
                 cut->end == Span::kToTheEnd ? -1LL : static_cast<long long>(cut->end),
                 static_cast<long long>(cut->duration), cut->rep.etag_suffix.c_str(), cut->detail.c_str());
    const ParseBudget& spent = src.spent();  // what the request's budget would have counted
    std::fprintf(stderr, "spent %llu reads %llu bytes %llu steps\n", static_cast<unsigned long long>(spent.reads),
                 static_cast<unsigned long long>(spent.bytes), static_cast<unsigned long long>(spent.steps));
    std::fprintf(stderr, "holds %zu bytes of memory (as the cut cache counts it)\n", cut_footprint(*cut));
    if (cut->status != Cut::Status::Ok) {
        return 1;
    }
    std::string buf;
    const ByteSource::Unbudgeted serving(src);  // the body is the server's to read, not the parser's
    for (const auto& e : cut->rep.extents) {
        if (const auto* x = std::get_if<FileExtent>(&e)) {
            buf.resize(static_cast<std::size_t>(x->length));
            if (!src.read(x->offset, buf.data(), buf.size())) {
                return 1;
            }
            std::fwrite(buf.data(), 1, buf.size(), stdout);
        }
        else {
            const std::string& m = std::get<MemoryBlock>(e).bytes;
            std::fwrite(m.data(), 1, m.size(), stdout);
        }
    }
    return 0;
}
