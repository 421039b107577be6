// NumPy's .npy format (numpy.lib.format): the magic "\x93NUMPY", a version, a header length,
// a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
// spaces and ended by '\n', then the elements. .npz is a zip archive of .npy entries.
#include "tapegrad/core/io/npy.h"

#include <cstring>
#include <set>

#include "io/elements.h"
#include "io/file_io.h"
#include "io/zip.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::io {

using detail::Elem;

namespace {
constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

// The header's dict literal, parsed strictly: only what NumPy writes (strings, True/False,
// tuples of non-negative integers), so anything else is an error rather than a guess.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& where) : s_(text), where_(where) {}

  struct Header {
    std::string descr;
    bool fortran = false;
    Shape shape;
  };

  Header parse() {
    Header h;
    std::set<std::string> seen;
    expect('{');
    while (!peek('}')) {
      const std::string key = string();
      if (!seen.insert(key).second) fail(msg("key '", key, "' appears twice"));
      expect(':');
      if (key == "descr") {
        if (peek('[')) fail("structured dtypes (a list as descr) are not supported");
        h.descr = string();
      } else if (key == "fortran_order") {
        h.fortran = boolean();
      } else if (key == "shape") {
        h.shape = tuple();
      } else {
        fail(msg("unexpected key '", key, "' (NumPy writes descr, fortran_order and shape)"));
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (pos_ != s_.size()) fail("text after the header's dict");
    for (const char* k : {"descr", "fortran_order", "shape"})
      if (!seen.count(k)) fail(msg("the header has no '", k, "'"));
    return h;
  }

 private:
  std::string_view s_;
  const std::string& where_;
  std::size_t pos_ = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(msg(where_, ": bad .npy header: ", what, " (at header character ", pos_, ")"));
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t')) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(msg("expected '", c, "'"));
    ++pos_;
  }
  std::string string() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) fail("expected a string");
    const char quote = s_[pos_++];
    const std::size_t end = s_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string r(s_.substr(pos_, end - pos_));
    if (r.find('\\') != std::string::npos) fail("escapes in strings are not supported");
    pos_ = end + 1;
    return r;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}})
      if (s_.substr(pos_, std::strlen(word)) == word) {
        pos_ += std::strlen(word);
        return value;
      }
    fail("expected True or False");
  }
  std::int64_t integer() {
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9')
      fail("expected a non-negative integer");
    std::int64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s_[pos_] - '0', &v))
        fail("a size overflows int64");
      ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2's long suffix
    return v;
  }
  Shape tuple() {
    Shape shape;
    expect('(');
    while (!peek(')')) {
      shape.push_back(integer());
      if (!peek(')')) expect(',');
    }
    expect(')');
    return shape;
  }
};

// NumPy's dtype string ('<f4', '|b1') as an element type and a byte order.
Elem parse_descr(const std::string& d, bool& big_endian, const std::string& where) {
  if (d.size() < 3 || std::strchr("<>|=", d[0]) == nullptr)
    throw IoError(msg(where, ": unsupported .npy dtype '", d, "'"));
  big_endian = d[0] == '>';
  const std::string code = d.substr(1);
  static const std::pair<const char*, Elem> kCodes[] = {
      {"b1", Elem::Bool}, {"u1", Elem::U8},  {"i1", Elem::I8},  {"i2", Elem::I16},
      {"u2", Elem::U16},  {"i4", Elem::I32}, {"u4", Elem::U32}, {"i8", Elem::I64},
      {"f2", Elem::F16},  {"f4", Elem::F32}, {"f8", Elem::F64}};
  for (const auto& [c, e] : kCodes)
    if (code == c) return e;
  throw IoError(msg(where, ": unsupported .npy dtype '", d, "'",
                    code == "u8"     ? " (uint64 does not fit int64)"
                    : code[0] == 'O' ? " (object arrays are pickles; tapegrad does not run them)"
                                     : " (tapegrad reads bool, integers up to 64 bits and "
                                       "float16/32/64)"));
}

template <typename T>
T read_le(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The array in bytes (a whole .npy file or one .npz entry); where names it in errors.
Tensor parse_npy(std::span<const char> b, const std::string& where) {
  if (b.size() < kMagicLen + 4 || std::memcmp(b.data(), kMagic, kMagicLen) != 0)
    throw IoError(msg(where, ": not a .npy file (no \\x93NUMPY magic at offset 0)"));
  const int major = static_cast<unsigned char>(b[6]);
  if (major < 1 || major > 3)
    throw IoError(msg(where, ": unsupported .npy format version ", major, ".",
                      static_cast<int>(static_cast<unsigned char>(b[7])),
                      " (1.0 to 3.0 are read)"));
  std::size_t header_at = 10, header_len = read_le<std::uint16_t>(b.data() + 8);
  if (major >= 2) {
    if (b.size() < 12) throw IoError(msg(where, ": truncated .npy header length"));
    header_at = 12;
    header_len = read_le<std::uint32_t>(b.data() + 8);
  }
  if (header_len > b.size() - header_at)
    throw IoError(msg(where, ": the .npy header claims ", header_len, " bytes, ",
                      b.size() - header_at, " remain in the file"));
  const std::string_view text(b.data() + header_at, header_len);
  if (text.empty() || text.back() != '\n')
    throw IoError(msg(where, ": bad .npy header: it does not end in a newline"));
  const auto h = HeaderParser(text, where).parse();
  bool big_endian = false;
  const Elem e = parse_descr(h.descr, big_endian, where);
  const std::size_t data_at = header_at + header_len;
  const std::size_t size = detail::elem_size(e);
  const auto available = static_cast<std::int64_t>((b.size() - data_at) / size);
  detail::Layout layout{h.shape,
                        h.fortran ? detail::f_strides(h.shape) : detail::c_strides(h.shape), 0};
  if (const std::string err = detail::layout_error(layout, available); !err.empty())
    throw IoError(msg(where, ": the .npy header's shape does not fit the file: ", err));
  const std::int64_t numel = shape_numel(h.shape);
  if (static_cast<std::size_t>(numel) * size != b.size() - data_at)
    throw IoError(msg(where, ": ", b.size() - data_at - static_cast<std::size_t>(numel) * size,
                      " bytes after the array's ", numel, " elements"));
  return detail::read_elements(e, layout, b.data() + data_at, big_endian);
}

std::vector<char> npy_bytes(const Tensor& t) {
  const char* descr = t.dtype() == kFloat32 ? "<f4" : t.dtype() == kFloat64 ? "<f8" : "<i8";
  std::string shape = "(";
  for (std::int64_t d : t.shape()) shape += msg(d, ", ");
  if (t.dim() > 1) shape.resize(shape.size() - 2);
  if (t.dim() == 1) shape.pop_back();  // "(3,)": a 1-tuple keeps its comma
  shape += ")";
  std::string header =
      msg("{'descr': '", descr, "', 'fortran_order': False, 'shape': ", shape, ", }");
  // NumPy pads so that the data starts at a multiple of 64 bytes.
  const std::size_t prefix = kMagicLen + 2 + 2;
  header.append(63 - (prefix + header.size()) % 64, ' ');
  header += '\n';
  std::vector<char> out(kMagic, kMagic + kMagicLen);
  out.push_back(1);
  out.push_back(0);
  if (header.size() > 65535)
    throw ValueError(
        msg("save_npy: a header of ", header.size(), " bytes does not fit version 1.0"));
  const auto len = static_cast<std::uint16_t>(header.size());
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(len >> 8));
  out.insert(out.end(), header.begin(), header.end());
  const std::span<const char> data = detail::element_bytes(t);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}
}  // namespace

Tensor load_npy(const std::string& path) {
  const std::vector<char> bytes = detail::read_file(path, "load_npy");
  return parse_npy(bytes, msg("load_npy: ", path));
}

void save_npy(const Tensor& t, const std::string& path) {
  detail::write_file_atomic(path, npy_bytes(t), "save_npy");
}

TensorDict load_npz(const std::string& path) {
  const std::vector<char> bytes = detail::read_file(path, "load_npz");
  const std::string where = msg("load_npz: ", path);
  detail::ZipReader zip(bytes, where);
  TensorDict out;
  for (std::int64_t i = 0; i < zip.count(); ++i) {
    std::string name = zip.name(i);
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0)
      throw IoError(msg(where, ": entry '", name, "' is not a .npy array"));
    // The deflate ratio check in size() bounds what one entry may claim.
    const std::vector<char> entry = zip.read(i, zip.size(i));
    name.resize(name.size() - 4);
    out.emplace_back(name, parse_npy(entry, msg(where, ": entry '", name, ".npy'")));
  }
  return out;
}

void save_npz(const TensorDict& arrays, const std::string& path, bool compressed) {
  std::set<std::string> names;
  for (const auto& [name, t] : arrays)
    if (name.empty() || !names.insert(name).second)
      throw ValueError(
          msg("save_npz: ", path, ": array names must be non-empty and distinct ('", name, "')"));
  detail::ZipWriter zip(msg("save_npz: ", path));
  for (const auto& [name, t] : arrays) zip.add(name + ".npy", npy_bytes(t), compressed);
  detail::write_file_atomic(path, zip.finish(), "save_npz");
}

}  // namespace tapegrad::io
