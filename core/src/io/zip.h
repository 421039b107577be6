// Zip containers (torch.save files, .npz) through libzip: read from bytes in memory with every
// entry's claimed size checked before anything is allocated; written to bytes in memory.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

// libzip's handles, declared here so that only zip.cpp includes <zip.h>.
struct zip;
struct zip_source;

namespace tapegrad::detail {

/// A zip archive held in memory (the caller keeps the bytes alive). Errors are IoError
/// "<where>: ..." with where naming the reader and the file.
class ZipReader {
 public:
  /// Opens and checks the central directory (libzip's consistency checks on); throws when the
  /// bytes are not a zip archive. stored_only refuses compressed entries (torch.save stores
  /// every record as is).
  ZipReader(std::span<const char> bytes, std::string where, bool stored_only = false);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  std::int64_t count() const { return count_; }
  /// The name of entry i.
  std::string name(std::int64_t i) const;
  /// The index of the entry with that exact name.
  std::optional<std::int64_t> find(const std::string& name) const;
  /// The uncompressed size entry i claims, once checked: stored entries must claim exactly
  /// their stored bytes, deflated ones no more than deflate's 1032:1 ratio allows, and
  /// neither may need more than the archive's own bytes can hold.
  std::uint64_t size(std::int64_t i) const;
  /// Entry i's bytes, read and CRC-checked; refuses an entry of more than `limit` bytes, and
  /// entries whose stored bytes, all read together, add up to more than the file holds
  /// (entries that overlap, each decompressing the same bytes again).
  std::vector<char> read(std::int64_t i, std::uint64_t limit);

 private:
  ::zip* zip_ = nullptr;
  std::int64_t count_ = 0;
  std::uint64_t file_size_ = 0;
  std::uint64_t unread_;  // compressed bytes not yet read: the file's size, less each read
  bool stored_only_;
  std::string where_;
  struct Stat {
    std::uint64_t size, comp_size;
  };
  Stat stat(std::int64_t i) const;
};

/// Builds a zip archive in memory, entry by entry.
class ZipWriter {
 public:
  explicit ZipWriter(std::string where);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  /// Adds an entry holding a copy of data, stored as is or deflated.
  void add(const std::string& name, std::span<const char> data, bool deflate = false);
  /// The archive's bytes; the writer is finished after this.
  std::vector<char> finish();

 private:
  ::zip* zip_ = nullptr;
  ::zip_source* buffer_ = nullptr;
  std::vector<std::unique_ptr<std::vector<char>>> held_;  // entry data libzip reads at finish()
  std::string where_;
};

}  // namespace tapegrad::detail
