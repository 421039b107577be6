// Whole files as bytes, for tests and fuzz seeds that write or corrupt files (no doctest here,
// so the fuzz programs can use it too).
#pragma once
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

/// The bytes of a file, and a file made of bytes.
inline std::vector<char> bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
inline void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
