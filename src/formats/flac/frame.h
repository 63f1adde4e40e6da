// FLAC frame headers and the CRCs over frames (RFC 9639 §9): what a cut needs to renumber
// frames without reading their audio. Pure functions, unit-tested against direct computation.
#ifndef AUDIO_STREAM_FORMATS_FLAC_FRAME_H
#define AUDIO_STREAM_FORMATS_FLAC_FRAME_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace audio_stream {
namespace flac {

// RFC 9639 §9.1.8: CRC-8 (x^8 + x^2 + x + 1, initial 0) continued over n bytes.
std::uint8_t crc8(const std::uint8_t* p, std::size_t n, std::uint8_t crc = 0);

// RFC 9639 §9.3: CRC-16 (x^16 + x^15 + x^2 + 1, initial 0, no final xor) continued over n bytes.
std::uint16_t crc16(const std::uint8_t* p, std::size_t n, std::uint16_t crc = 0);

// crc16 continued over p[0, n) that stops just after the first byte, from index quiet - 1 on,
// that leaves the register at 0: returns how many bytes it took (n when none did). Where a
// frame may end is where the CRC over it comes out zero (RFC 9639 §9.3).
std::size_t crc16_to_zero(const std::uint8_t* p, std::size_t n, std::uint16_t& crc, std::size_t quiet);

// The CRC-16 register after n more zero bytes, in O(log n) steps.
std::uint16_t crc16_zeros(std::uint16_t crc, std::uint64_t n);

// The CRC-16 of a frame whose header changed from old_header to new_header (lengths may differ)
// and whose body_length bytes between header and CRC did not. The CRC is linear with initial 0:
// crc(H || B) = zeros(crc(H), |B|) xor crc(B), so the body's part cancels and is never read.
std::uint16_t renumbered_crc16(std::uint16_t old_crc, const std::uint8_t* old_header, std::size_t old_length,
                               const std::uint8_t* new_header, std::size_t new_length, std::uint64_t body_length);

// RFC 9639 §9.1.5: a frame number (31 bits) or sample number (36 bits), coded UTF-8 style in
// 1 to 7 bytes. Returns the bytes written to out (room for 7), 0 if the number does not fit.
std::size_t put_coded_number(std::uint64_t number, std::uint8_t* out);

// A frame header (CRC-8 included, `length` bytes) with its coded number, `number_length` bytes
// at offset 4, replaced by `number` and its CRC-8 recomputed. Empty if the number does not fit.
std::string renumbered_header(const std::uint8_t* header, std::size_t length, std::size_t number_length,
                              std::uint64_t number);

}  // namespace flac
}  // namespace audio_stream

#endif
