#include "io/zip.h"

#include <zip.h>

#include <algorithm>
#include <cstring>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::detail {

namespace {
// Deflate cannot expand data more than about 1032-fold (258-byte matches in 2-bit codes).
constexpr std::uint64_t kMaxDeflateRatio = 1032;

std::string error_text(zip_error_t* e) { return zip_error_strerror(e); }
}  // namespace

ZipReader::ZipReader(std::span<const char> bytes, std::string where, bool stored_only)
    : file_size_(bytes.size()),
      unread_(bytes.size()),
      stored_only_(stored_only),
      where_(std::move(where)) {
  // libzip reads an empty file as an empty archive; the smallest zip file is its 22-byte end
  // record.
  if (bytes.size() < 22)
    throw IoError(msg(where_, ": not a zip archive (", bytes.size(),
                      " bytes, fewer than the 22 of an empty one)"));
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src) {
    zip_ = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!zip_) zip_source_free(src);
  }
  if (!zip_) {
    const std::string why = error_text(&err);
    zip_error_fini(&err);
    throw IoError(msg(where_, ": not a readable zip archive: ", why));
  }
  zip_error_fini(&err);
  count_ = zip_get_num_entries(zip_, 0);
}

ZipReader::~ZipReader() {
  if (zip_) zip_discard(zip_);
}

std::string ZipReader::name(std::int64_t i) const {
  const char* n = zip_get_name(zip_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
  if (!n) throw IoError(msg(where_, ": zip entry ", i, " has no readable name"));
  return n;
}

std::optional<std::int64_t> ZipReader::find(const std::string& name) const {
  const zip_int64_t i = zip_name_locate(zip_, name.c_str(), ZIP_FL_ENC_RAW);
  if (i < 0) return std::nullopt;
  return i;
}

std::uint64_t ZipReader::size(std::int64_t i) const { return stat(i).size; }

ZipReader::Stat ZipReader::stat(std::int64_t i) const {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(zip_, static_cast<zip_uint64_t>(i), 0, &st) != 0)
    throw IoError(msg(where_, ": zip entry ", i, ": ", zip_strerror(zip_)));
  const std::string entry = msg(where_, ": zip entry '", st.name ? st.name : "?", "'");
  const zip_uint64_t need = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
  if ((st.valid & need) != need) throw IoError(msg(entry, " has no size in its header"));
  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
    throw IoError(msg(entry, " is encrypted"));
  if (st.comp_size > file_size_)
    throw IoError(
        msg(entry, " claims ", st.comp_size, " compressed bytes in a file of ", file_size_));
  if (st.comp_method == ZIP_CM_STORE) {
    if (st.size != st.comp_size)
      throw IoError(msg(entry, " is stored (not compressed) but claims ", st.size, " bytes in ",
                        st.comp_size));
  } else if (st.comp_method == ZIP_CM_DEFLATE && stored_only_) {
    throw IoError(msg(entry, " is compressed, which torch.save never does"));
  } else if (st.comp_method == ZIP_CM_DEFLATE) {
    if (st.size / kMaxDeflateRatio > st.comp_size)
      throw IoError(msg(entry, " claims ", st.size, " bytes from ", st.comp_size,
                        " deflated ones, more than deflate can expand"));
  } else {
    throw IoError(msg(entry, " uses compression method ", st.comp_method,
                      " (only stored and deflated entries are read)"));
  }
  return {st.size, st.comp_size};
}

std::vector<char> ZipReader::read(std::int64_t i, std::uint64_t limit) {
  const Stat st = stat(i);
  const std::uint64_t n = st.size;
  if (n > limit)
    throw IoError(msg(where_, ": zip entry '", name(i), "' holds ", n, " bytes, more than the ",
                      limit, " expected"));
  if (st.comp_size > unread_)
    throw IoError(msg(where_, ": zip entry '", name(i), "' and the entries read before it take ",
                      "more bytes than the file's ", file_size_, ": entries overlap"));
  unread_ -= st.comp_size;
  zip_file_t* f = zip_fopen_index(zip_, static_cast<zip_uint64_t>(i), 0);
  if (!f) throw IoError(msg(where_, ": zip entry '", name(i), "': ", zip_strerror(zip_)));
  // Read in chunks, so memory follows the bytes that actually come out of a deflated entry,
  // not the size its header claims; one byte past the claim is asked for, which is also what
  // makes libzip compare the CRC.
  std::vector<char> out;
  out.reserve(std::min(n, file_size_) + 1);  // all of a stored entry, no more than the file
  constexpr std::uint64_t kChunk = 1 << 20;
  zip_int64_t got = 0;
  do {
    const std::size_t at = out.size();
    out.resize(at + std::min(kChunk, n + 1 - at));
    got = zip_fread(f, out.data() + at, out.size() - at);
    out.resize(at + static_cast<std::size_t>(std::max<zip_int64_t>(got, 0)));
  } while (got > 0 && out.size() <= n);
  const std::string why = got < 0 ? zip_file_strerror(f) : "";
  zip_fclose(f);
  if (got < 0) throw IoError(msg(where_, ": zip entry '", name(i), "' is corrupt: ", why));
  if (out.size() != n)
    throw IoError(msg(where_, ": zip entry '", name(i), "' holds ",
                      out.size() > n ? "more" : "fewer", " bytes than the ", n,
                      " its header claims"));
  return out;
}

ZipWriter::ZipWriter(std::string where) : where_(std::move(where)) {
  zip_error_t err;
  zip_error_init(&err);
  buffer_ = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (buffer_) {
    zip_ = zip_open_from_source(buffer_, ZIP_TRUNCATE, &err);
    if (!zip_) zip_source_free(buffer_);
  }
  if (!zip_) {
    const std::string why = error_text(&err);
    zip_error_fini(&err);
    throw IoError(msg(where_, ": cannot start a zip archive: ", why));
  }
  zip_error_fini(&err);
  zip_source_keep(buffer_);  // outlives zip_close, which writes the archive into it
}

ZipWriter::~ZipWriter() {
  if (zip_) zip_discard(zip_);
  if (buffer_) zip_source_free(buffer_);
}

void ZipWriter::add(const std::string& name, std::span<const char> data, bool deflate) {
  held_.push_back(std::make_unique<std::vector<char>>(data.begin(), data.end()));
  const std::vector<char>& copy = *held_.back();
  zip_source_t* src = zip_source_buffer(zip_, copy.data(), copy.size(), 0);
  const zip_int64_t i =
      src ? zip_file_add(zip_, name.c_str(), src, ZIP_FL_ENC_UTF_8) : zip_int64_t{-1};
  if (i < 0) {
    if (src) zip_source_free(src);
    throw IoError(msg(where_, ": cannot add zip entry '", name, "': ", zip_strerror(zip_)));
  }
  if (zip_set_file_compression(zip_, static_cast<zip_uint64_t>(i),
                               deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0)
    throw IoError(msg(where_, ": zip entry '", name, "': ", zip_strerror(zip_)));
}

std::vector<char> ZipWriter::finish() {
  if (held_.empty()) {
    // libzip writes nothing for an archive without entries; a zip file is its end record.
    zip_discard(zip_);
    zip_ = nullptr;
    std::vector<char> eocd(22, 0);
    std::memcpy(eocd.data(), "PK\x05\x06", 4);
    return eocd;
  }
  if (zip_close(zip_) != 0)
    throw IoError(msg(where_, ": writing the zip archive failed: ", zip_strerror(zip_)));
  zip_ = nullptr;
  held_.clear();
  zip_stat_t st;
  zip_stat_init(&st);
  std::vector<char> out;
  if (zip_source_stat(buffer_, &st) != 0 || zip_source_open(buffer_) != 0)
    throw IoError(msg(where_, ": reading back the zip archive failed"));
  out.resize(st.size);
  const zip_int64_t got = zip_source_read(buffer_, out.data(), st.size);
  zip_source_close(buffer_);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
    throw IoError(msg(where_, ": reading back the zip archive failed"));
  return out;
}

}  // namespace tapegrad::detail
