// The LASzip VLR ("laszip encoded"/22204, laz-format.md section 2): parsing and validation
// against the point format and record length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lidarhd/io/las.hpp"

namespace lidarhd::laz {

constexpr uint16_t kCompressorNone = 0, kCompressorPointwise = 1, kCompressorPointwiseChunked = 2,
                   kCompressorLayeredChunked = 3;

// Parses the payload; throws FormatError("laz", "<file>: ...") when it is too short or its item
// count does not match its size.
io::LaszipInfo parse_laszip_vlr(const uint8_t* data, size_t size, const std::string& file);

// Checks that the items describe `point_format` records of `record_length` bytes: known
// type/version pairs, item sizes, the compressor that fits the format, sizes summing to the
// record length, coder 0. Throws FormatError("laz", ...) naming the first problem.
void validate_laszip(const io::LaszipInfo& info, uint8_t point_format, uint16_t record_length,
                     const std::string& file);

// "pointwise", "pointwise_chunked", "layered_chunked" (the data README's names), or "none"/"?".
const char* compressor_name(uint16_t compressor);
// "POINT10", "GPSTIME11", ..., "BYTE14"; "?" for unknown types.
const char* item_type_name(uint16_t type);
// "POINT14(size=30,v3)" style summary of an item list, for messages and `lidarhd info`.
std::string describe_items(const io::LaszipInfo& info);

}  // namespace lidarhd::laz
