// The archive file format (docs/checkpoint-format.md): little-endian, length-checked, with a
// CRC-32 over everything before it. Reading validates every field against the bytes actually
// present before allocating, so a truncated or hostile file cannot trigger a huge allocation.
#include "tapegrad/core/io/archive.h"

#include <zlib.h>

#include <bit>
#include <cstring>

#include "io/file_io.h"
#include "tensor/check.h"
#include "tensor/tensor_impl.h"

namespace tapegrad {

static_assert(std::endian::native == std::endian::little, "the archive format is little-endian");

namespace {
constexpr char kMagic[8] = {'T', 'A', 'P', 'E', 'G', 'R', 'A', 'D'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kMaxName = 4096;
constexpr std::uint8_t kMaxRank = 16;
enum Kind : std::uint8_t { kTensor = 0, kText = 1 };

class Writer {
 public:
  template <typename T>
  void pod(T v) {
    bytes(&v, sizeof v);
  }
  void bytes(const void* p, std::size_t n) {
    const auto* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + n);
  }
  void str(const std::string& s) {
    pod(static_cast<std::uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  std::vector<char>& buf() { return buf_; }

 private:
  std::vector<char> buf_;
};

class Reader {
 public:
  Reader(const std::string& path, const std::vector<char>& buf, std::size_t end)
      : path_(path), buf_(buf), end_(end) {}
  std::size_t offset() const { return off_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(msg("load: ", path_, ": ", what, " at byte offset ", off_));
  }
  void need(std::size_t n, const char* what) const {
    if (n > end_ - off_)
      fail(msg("file is truncated: ", what, " needs ", n, " bytes, ", end_ - off_, " remain"));
  }
  template <typename T>
  T pod(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, buf_.data() + off_, sizeof v);
    off_ += sizeof v;
    return v;
  }
  const char* take(std::size_t n, const char* what) {
    need(n, what);
    const char* p = buf_.data() + off_;
    off_ += n;
    return p;
  }

 private:
  const std::string& path_;
  const std::vector<char>& buf_;
  std::size_t end_, off_ = 0;
};

}  // namespace

void Archive::put(const std::string& name, const Tensor& t) {
  if (name.empty() || name.size() > kMaxName)
    throw ValueError(msg("Archive::put: name must have 1 to ", kMaxName, " characters"));
  Entry e;
  e.tensor = t.detach().clone();  // a snapshot: later training steps do not change it
  entries_[name] = std::move(e);
}

void Archive::put_text(const std::string& name, const std::string& text) {
  if (name.empty() || name.size() > kMaxName)
    throw ValueError(msg("Archive::put_text: name must have 1 to ", kMaxName, " characters"));
  Entry e;
  e.is_text = true;
  e.text = text;
  entries_[name] = std::move(e);
}

bool Archive::contains(const std::string& name) const { return entries_.count(name) > 0; }
bool Archive::is_tensor(const std::string& name) const {
  auto it = entries_.find(name);
  return it != entries_.end() && !it->second.is_text;
}

std::string Archive::where(const std::string& name) const {
  return source_.empty() ? msg("entry '", name, "'") : msg(source_, ": entry '", name, "'");
}

Tensor Archive::get(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) throw ValueError(msg("Archive::get: ", where(name), " is missing"));
  if (it->second.is_text)
    throw ValueError(msg("Archive::get: ", where(name), " is a text, not a tensor"));
  return it->second.tensor;
}

std::string Archive::get_text(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end())
    throw ValueError(msg("Archive::get_text: ", where(name), " is missing"));
  if (!it->second.is_text)
    throw ValueError(msg("Archive::get_text: ", where(name), " is a tensor, not a text"));
  return it->second.text;
}

double Archive::get_double(const std::string& name) const {
  const Tensor t = get(name);
  if (t.numel() != 1)
    throw ValueError(msg("Archive::get: ", where(name), " must hold one value, holds ", t.numel(),
                         " (shape ", shape_str(t.shape()), ")"));
  return t.item();
}

std::int64_t Archive::get_int64(const std::string& name) const {
  const Tensor t = get(name);
  if (t.dtype() == kInt64 && t.numel() == 1) return t.data<std::int64_t>()[0];
  return checked_int64(get_double(name), msg("Archive::get: ", where(name)));
}

std::vector<std::string> Archive::names() const { return names_with_prefix(""); }

std::vector<std::string> Archive::names_with_prefix(const std::string& prefix) const {
  std::vector<std::string> r;
  for (const auto& [name, e] : entries_)
    if (name.compare(0, prefix.size(), prefix) == 0) r.push_back(name);
  return r;
}

void Archive::save(const std::string& path) const {
  Writer w;
  w.bytes(kMagic, sizeof kMagic);
  w.pod(kVersion);
  w.pod(static_cast<std::uint64_t>(entries_.size()));
  for (const auto& [name, e] : entries_) {
    w.str(name);
    if (e.is_text) {
      w.pod(static_cast<std::uint8_t>(kText));
      w.pod(static_cast<std::uint64_t>(e.text.size()));
      w.bytes(e.text.data(), e.text.size());
      continue;
    }
    const TensorImpl& t = *impl_ptr(e.tensor);
    w.pod(static_cast<std::uint8_t>(kTensor));
    w.pod(static_cast<std::uint8_t>(t.dtype));
    w.pod(static_cast<std::uint8_t>(t.shape.size()));
    for (std::int64_t d : t.shape) w.pod(d);
    w.bytes(t.storage->data, t.bytes());
  }
  const auto crc = static_cast<std::uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(w.buf().data()), w.buf().size()));
  w.pod(crc);

  detail::write_file_atomic(path, w.buf(), "save");
}

Archive Archive::load(const std::string& path) {
  const std::vector<char> buf = detail::read_file(path, "load");
  if (buf.size() < sizeof kMagic + 4 + 8 + 4)
    throw IoError(msg("load: ", path, ": file is truncated: ", buf.size(),
                      " bytes is shorter than any archive"));
  Reader r(path, buf, buf.size() - 4);  // the last 4 bytes are the checksum
  if (std::memcmp(r.take(sizeof kMagic, "magic"), kMagic, sizeof kMagic) != 0)
    throw IoError(msg("load: ", path, ": not a tapegrad archive (bad magic number at offset 0)"));
  const auto version = r.pod<std::uint32_t>("version");
  if (version != kVersion)
    r.fail(msg("unsupported format version ", version, " (this build reads ", kVersion, ")"));
  const auto count = r.pod<std::uint64_t>("entry count");
  Archive a;
  a.source_ = path;
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto name_len = r.pod<std::uint32_t>("name length");
    if (name_len == 0 || name_len > kMaxName) r.fail(msg("bad name length ", name_len));
    const char* np = r.take(name_len, "name");
    std::string name(np, name_len);
    // The writer never repeats a name; a file that does would have one entry silently win.
    if (a.entries_.count(name)) r.fail(msg("entry '", name, "' appears twice"));
    const auto kind = r.pod<std::uint8_t>("entry kind");
    if (kind == kText) {
      const auto len = r.pod<std::uint64_t>("text length");
      const char* tp = r.take(len, "text");
      a.entries_[name] = Entry{true, Tensor(), std::string(tp, len)};
      continue;
    }
    if (kind != kTensor) r.fail(msg("entry '", name, "' has unknown kind ", int(kind)));
    const auto dtype = r.pod<std::uint8_t>("dtype");
    if (dtype > static_cast<std::uint8_t>(Dtype::Int64))
      r.fail(msg("entry '", name, "' has unknown dtype ", int(dtype)));
    const auto rank = r.pod<std::uint8_t>("rank");
    if (rank > kMaxRank)
      r.fail(msg("entry '", name, "' has rank ", int(rank), " (max ", int(kMaxRank), ")"));
    Shape shape(rank);
    std::uint64_t numel = 1;
    const std::size_t elem = dtype_size(static_cast<Dtype>(dtype));
    for (auto& d : shape) {
      d = r.pod<std::int64_t>("dimension");
      // Each factor is checked against the bytes left, so the product cannot overflow.
      if (d < 0 || (d > 0 && numel > (buf.size() / elem) / static_cast<std::uint64_t>(d)))
        r.fail(msg("entry '", name, "' has impossible dimension ", d));
      numel *= static_cast<std::uint64_t>(d);
    }
    const char* data = r.take(numel * elem, "tensor data");
    ImplPtr t = make_impl(shape, static_cast<Dtype>(dtype));
    std::memcpy(t->storage->data, data, numel * elem);
    a.entries_[name] = Entry{false, Tensor(std::move(t)), {}};
  }
  if (r.offset() != buf.size() - 4) r.fail("unexpected bytes after the last entry");
  std::uint32_t stored;
  std::memcpy(&stored, buf.data() + buf.size() - 4, 4);
  const auto actual = static_cast<std::uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(buf.data()), buf.size() - 4));
  if (stored != actual)
    throw IoError(msg("load: ", path, ": checksum mismatch (stored ", stored, ", computed ", actual,
                      "): the file is corrupt"));
  return a;
}

}  // namespace tapegrad
