// safetensors (github.com/huggingface/safetensors, "Format"): 8 bytes N (u64, little-endian),
// N bytes of JSON {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
// "__metadata__": {"k": "v"}}, then the byte buffer the offsets index (relative to its start),
// which the entries must cover exactly, in order, without holes.
#include "tapegrad/core/io/safetensors.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "io/elements.h"
#include "io/file_io.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::io {

using detail::Elem;
using Json = nlohmann::ordered_json;

namespace {
constexpr std::uint64_t kMaxHeader = 100'000'000;  // the format's own limit
constexpr const char* kMetadata = "__metadata__";

constexpr std::pair<const char*, Elem> kDtypes[] = {
    {"BOOL", Elem::Bool}, {"U8", Elem::U8},     {"I8", Elem::I8},   {"I16", Elem::I16},
    {"U16", Elem::U16},   {"I32", Elem::I32},   {"U32", Elem::U32}, {"I64", Elem::I64},
    {"F16", Elem::F16},   {"BF16", Elem::BF16}, {"F32", Elem::F32}, {"F64", Elem::F64}};

struct Entry {
  std::string name;
  Elem elem;
  Shape shape;
  std::uint64_t begin, end;
};

struct Parsed {
  std::vector<Entry> entries;  // in the order of their bytes
  std::map<std::string, std::string> metadata;
  std::size_t data_at = 0;
};

// The header, checked against the file's bytes; nothing is allocated for tensor data yet.
Parsed parse(const std::vector<char>& b, const std::string& where) {
  auto fail = [&](const std::string& what) -> IoError { return IoError(msg(where, ": ", what)); };
  if (b.size() < 8) throw fail(msg("file is truncated: ", b.size(), " bytes, no header size"));
  std::uint64_t n;
  std::memcpy(&n, b.data(), 8);
  if (n > kMaxHeader) throw fail(msg("header size ", n, " exceeds the format's limit of 100 MB"));
  if (n > b.size() - 8)
    throw fail(msg("header size ", n, " is more than the ", b.size() - 8, " bytes after it"));
  if (n == 0 || b[8] != '{') throw fail("the header is not a JSON object");
  Json header;
  try {
    // A callback that refuses nesting deeper than the format's three levels before the parser
    // builds it, and a tensor named twice (JSON parsers differ on which one wins).
    std::set<std::string> names;
    header = Json::parse(
        b.begin() + 8, b.begin() + 8 + static_cast<std::ptrdiff_t>(n),
        [&](int depth, Json::parse_event_t event, Json& parsed) {
          if (depth > 3) throw fail("the header nests deeper than the format");
          if (event == Json::parse_event_t::key && depth == 1 &&
              !names.insert(parsed.get<std::string>()).second)
            throw fail(msg("tensor '", parsed.get<std::string>(), "' appears twice in the header"));
          return true;
        });
  } catch (const Json::exception& e) {
    throw fail(msg("the header is not valid JSON: ", e.what()));
  }
  Parsed p;
  p.data_at = 8 + static_cast<std::size_t>(n);
  const std::uint64_t data_size = b.size() - p.data_at;
  for (const auto& [name, info] : header.items()) {
    const std::string what = msg("tensor '", name, "'");
    if (name == kMetadata) {
      if (!info.is_object()) throw fail("__metadata__ is not an object");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) throw fail(msg("__metadata__ value of '", k, "' is not a string"));
        p.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    if (!info.is_object() || !info.contains("dtype") || !info["dtype"].is_string() ||
        !info.contains("shape") || !info["shape"].is_array() || !info.contains("data_offsets") ||
        !info["data_offsets"].is_array())
      throw fail(msg(what, " lacks a dtype, shape or data_offsets"));
    Entry e{name, Elem::F32, {}, 0, 0};
    const std::string dtype = info["dtype"].get<std::string>();
    const auto* d = std::find_if(std::begin(kDtypes), std::end(kDtypes),
                                 [&](const auto& k) { return dtype == k.first; });
    if (d == std::end(kDtypes))
      throw fail(msg(what, " has dtype ", dtype, ", which tapegrad does not read",
                     dtype == "U64" ? " (uint64 does not fit int64)" : ""));
    e.elem = d->second;
    std::int64_t numel = 1;
    for (const Json& s : info["shape"]) {
      if (!s.is_number_unsigned())
        throw fail(msg(what, " has a shape entry that is not a size: ", s.dump()));
      const auto dim = s.get<std::uint64_t>();
      if (dim > static_cast<std::uint64_t>(INT64_MAX) ||
          __builtin_mul_overflow(numel, static_cast<std::int64_t>(dim), &numel))
        throw fail(msg(what, " has a shape whose size overflows int64"));
      e.shape.push_back(static_cast<std::int64_t>(dim));
    }
    // The sizes' product must fit int64 even when one of them is 0 (an empty tensor).
    const detail::Layout layout{e.shape, detail::c_strides(e.shape), 0};
    if (const std::string err = detail::layout_error(layout, INT64_MAX); !err.empty())
      throw fail(msg(what, ": ", err));
    const Json& off = info["data_offsets"];
    if (off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw fail(msg(what, " has data_offsets that are not two sizes: ", off.dump()));
    e.begin = off[0].get<std::uint64_t>();
    e.end = off[1].get<std::uint64_t>();
    std::uint64_t bytes;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(numel), detail::elem_size(e.elem),
                               &bytes) ||
        e.begin > e.end || e.end - e.begin != bytes)
      throw fail(msg(what, ": ", dtype, " ", shape_str(e.shape), " needs ", bytes,
                     " bytes but data_offsets [", e.begin, ", ", e.end, "] hold ",
                     e.end >= e.begin ? msg(e.end - e.begin) : std::string("a negative count")));
    if (e.end > data_size)
      throw fail(msg(what, ": data_offsets end at ", e.end, ", past the ", data_size,
                     " data bytes in the file"));
    p.entries.push_back(std::move(e));
  }
  std::stable_sort(p.entries.begin(), p.entries.end(),
                   [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  std::uint64_t at = 0;
  for (const Entry& e : p.entries) {
    if (e.begin != at)
      throw fail(msg("tensor '", e.name, "' starts at data byte ", e.begin, " where ", at,
                     e.begin < at ? " was expected: it overlaps the tensor before it"
                                  : " was expected: a gap no tensor covers"));
    at = e.end;
  }
  if (at != data_size)
    throw fail(msg("the tensors cover ", at, " of the ", data_size, " data bytes"));
  return p;
}
}  // namespace

TensorDict load_safetensors(const std::string& path) {
  const std::vector<char> bytes = detail::read_file(path, "load_safetensors");
  const Parsed p = parse(bytes, msg("load_safetensors: ", path));
  TensorDict out;
  out.reserve(p.entries.size());
  for (const Entry& e : p.entries) {
    const detail::Layout layout{e.shape, detail::c_strides(e.shape), 0};
    out.emplace_back(
        e.name, detail::read_elements(e.elem, layout, bytes.data() + p.data_at + e.begin, false));
  }
  return out;
}

std::map<std::string, std::string> load_safetensors_metadata(const std::string& path) {
  const std::vector<char> bytes = detail::read_file(path, "load_safetensors_metadata");
  return parse(bytes, msg("load_safetensors_metadata: ", path)).metadata;
}

void save_safetensors(const TensorDict& tensors, const std::string& path,
                      const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header[kMetadata] = metadata;
  std::set<std::string> names;
  std::uint64_t at = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == kMetadata || !names.insert(name).second)
      throw ValueError(msg("save_safetensors: ", path,
                           ": tensor names must be non-empty, "
                           "distinct and not __metadata__ ('",
                           name, "')"));
    const std::size_t bytes = detail::element_bytes(t).size();
    header[name] = {{"dtype", t.dtype() == kFloat32   ? "F32"
                              : t.dtype() == kFloat64 ? "F64"
                                                      : "I64"},
                    {"shape", std::vector<std::int64_t>(t.shape().begin(), t.shape().end())},
                    {"data_offsets", {at, at + bytes}}};
    at += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  std::vector<char> out(8);
  const std::uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), text.begin(), text.end());
  for (const auto& entry : tensors) {
    const std::span<const char> data = detail::element_bytes(entry.second);
    out.insert(out.end(), data.begin(), data.end());
  }
  detail::write_file_atomic(path, out, "save_safetensors");
}

}  // namespace tapegrad::io
