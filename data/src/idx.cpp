// IDX reading and writing. The header (big-endian: 00 00 type ndims, then ndims u32 sizes) is
// checked before the data is read; raw files are checked against their length before any
// allocation, gzip streams grow their buffer only as real data arrives.
#include "tapegrad/data/idx.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::data {

namespace {
constexpr std::uint64_t kMaxBytes = std::uint64_t{4} << 30;  // 4 GiB of pixels is not MNIST

const char* type_name(std::uint8_t t) {
  switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
  }
}

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzPtr = std::unique_ptr<gzFile_s, GzCloser>;

std::string header_str(const std::vector<std::int64_t>& dims) {
  std::string r = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) r += (i ? ", " : "") + std::to_string(dims[i]);
  return r + ")";
}

bool is_gzip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char m[2] = {0, 0};
  in.read(reinterpret_cast<char*>(m), 2);
  return in.gcount() == 2 && m[0] == 0x1f && m[1] == 0x8b;
}
}  // namespace

IdxData read_idx(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw IoError(msg("read_idx: ", path, ": no such file"));
  const bool gz = is_gzip(path);
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  GzPtr f(gzopen(path.c_str(), "rb"));  // zlib reads non-gzip files unchanged
  if (!f) throw IoError(msg("read_idx: ", path, ": cannot open"));
  std::uint64_t offset = 0;  // in the (decompressed) stream
  auto fail = [&](const std::string& what) -> IoError {
    return IoError(msg("read_idx: ", path, ": ", what, " at byte offset ", offset,
                       gz ? " (of the decompressed data)" : ""));
  };
  auto read_exact = [&](void* dst, std::size_t n, const char* what) {
    const int got = gzread(f.get(), dst, static_cast<unsigned>(n));
    if (got < 0) throw fail("corrupt gzip stream");
    if (static_cast<std::size_t>(got) != n)
      throw fail(msg("file is truncated: ", what, " needs ", n, " bytes, found ", got));
    offset += n;
  };

  unsigned char magic[4];
  read_exact(magic, 4, "the magic number");
  if (magic[0] != 0 || magic[1] != 0) {
    offset = 0;
    throw fail("not an IDX file (an IDX file starts with two zero bytes)");
  }
  if (magic[2] != 0x08)
    throw fail(msg("element type 0x", std::hex, int(magic[2]), std::dec, " (", type_name(magic[2]),
                   ") is not supported; tapegrad reads unsigned-byte IDX files"));
  const int ndims = magic[3];
  if (ndims < 1 || ndims > 8) throw fail(msg("bad number of dimensions ", ndims, " (1 to 8)"));
  IdxData out;
  for (int d = 0; d < ndims; ++d) {
    unsigned char b[4];
    read_exact(b, 4, "a dimension");
    out.dims.push_back((std::int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3]);
  }
  // The product of the non-zero sizes is capped too: a header of (0, 2^32-1, 2^32-1) holds no
  // data, yet a reader that multiplies its per-sample sizes would overflow. Checked one factor
  // at a time, so the product can neither overflow nor exceed the cap.
  std::uint64_t count = 1, nonzero = 1;
  for (std::int64_t size : out.dims) {
    const auto u = static_cast<std::uint64_t>(size);
    if (u > 0 && nonzero > kMaxBytes / u)
      throw fail(msg("the header ", header_str(out.dims), " describes more than ", kMaxBytes,
                     " bytes per file"));
    if (u > 0) nonzero *= u;
    count *= u;
  }
  if (!gz && file_size - offset != count)
    throw fail(msg(file_size - offset < count ? "file is truncated" : "file has trailing bytes",
                   ": the header describes ", count, " bytes of data, the file holds ",
                   file_size - offset));
  // Grow as data arrives: a lying gzip header costs at most what the stream really holds.
  constexpr std::size_t kChunk = std::size_t{1} << 22;
  while (out.values.size() < count) {
    const std::size_t have = out.values.size();
    const std::size_t want = std::min<std::uint64_t>(kChunk, count - have);
    out.values.resize(have + want);
    const int got = gzread(f.get(), out.values.data() + have, static_cast<unsigned>(want));
    if (got < 0) throw fail("corrupt gzip stream");
    offset += static_cast<std::uint64_t>(got);
    if (static_cast<std::size_t>(got) != want)
      throw fail(msg("file is truncated: the header describes ", count, " bytes of data, found ",
                     have + static_cast<std::size_t>(got)));
  }
  unsigned char extra;
  if (gzread(f.get(), &extra, 1) > 0) throw fail("trailing data after the array");
  // A gzip stream cut inside its trailer still yields all the data; zlib reports it here.
  int err = Z_OK;
  const char* what = gzerror(f.get(), &err);
  if (err != Z_OK && err != Z_STREAM_END)
    throw fail(msg("corrupt or truncated gzip stream (", what, ")"));
  return out;
}

void write_idx(const std::string& path, const IdxData& data, bool gzip) {
  std::uint64_t count = 1;
  for (std::int64_t d : data.dims) {
    if (d < 0 || d > 0xFFFFFFFFLL) throw ValueError(msg("write_idx: bad dimension ", d));
    count *= static_cast<std::uint64_t>(d);
  }
  if (data.dims.empty() || data.dims.size() > 8 || count != data.values.size())
    throw ValueError(msg("write_idx: ", data.values.size(), " values do not match the dims"));
  std::vector<unsigned char> header = {0, 0, 0x08, static_cast<unsigned char>(data.dims.size())};
  for (std::int64_t d : data.dims)
    for (int s = 24; s >= 0; s -= 8) header.push_back(static_cast<unsigned char>(d >> s));
  const std::string tmp = msg(path, ".tmp.", ::getpid());
  bool ok;
  if (gzip) {
    gzFile f = gzopen(tmp.c_str(), "wb");
    ok = f && gzwrite(f, header.data(), static_cast<unsigned>(header.size())) == int(header.size());
    for (std::size_t at = 0; ok && at < data.values.size(); at += std::size_t{1} << 24) {
      const auto n = static_cast<unsigned>(
          std::min<std::size_t>(std::size_t{1} << 24, data.values.size() - at));
      ok = gzwrite(f, data.values.data() + at, n) == static_cast<int>(n);
    }
    ok = f && gzclose(f) == Z_OK && ok;
  } else {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(header.data()),
              static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data.values.data()),
              static_cast<std::streamsize>(data.values.size()));
    out.close();
    ok = static_cast<bool>(out);
  }
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw IoError(msg("write_idx: ", path, ": write failed"));
  }
}

}  // namespace tapegrad::data
