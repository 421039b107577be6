// IDX files (the MNIST format: big-endian header, then unsigned bytes), raw or gzip-compressed.
// Everything is validated before anything large is allocated.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tapegrad::data {

/// An unsigned-byte IDX array: dims outermost first, values row-major.
struct IdxData {
  std::vector<std::int64_t> dims;    ///< sizes, outermost first
  std::vector<std::uint8_t> values;  ///< the values, row-major
};

/// Reads path (gzip detected by its magic bytes). Throws IoError naming the file and byte
/// offset for a bad magic number, an element type other than unsigned byte, a size that does
/// not match the data present, or a file larger than 4 GiB of data.
IdxData read_idx(const std::string& path);
/// Writes data to path, gzip-compressed when gzip is true; atomic (temporary file, rename).
void write_idx(const std::string& path, const IdxData& data, bool gzip);

}  // namespace tapegrad::data
