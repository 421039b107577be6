// Reading torch.save's zip format (torch/serialization.py, PyTorch >= 1.6): every record under
// one top folder "<name>/": data.pkl (the object, pickled), data/<key> (each storage's bytes),
// version and, from PyTorch 2.1, byteorder. The pickle runs in io/pickle.cpp's restricted
// unpickler; here its tensors are checked against their storages and read.
#include <map>
#include <unordered_map>

#include "io/elements.h"
#include "io/file_io.h"
#include "io/pickle.h"
#include "io/zip.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/io/torch.h"

namespace tapegrad::io {

using detail::PickleNode;
using Kind = PickleNode::Kind;

namespace {
constexpr int kMaxDepth = 100;
// Tensors that view one storage are each read into their own tensor; together they may read
// at most this many times the file's bytes (torch's own files read each byte about once).
constexpr std::uint64_t kMaxReadFactor = 8;

class Loader {
 public:
  Loader(const std::vector<char>& bytes, std::string where)
      : where_(std::move(where)),
        zip_(bytes, where_, true),
        budget_(bytes.size() * kMaxReadFactor),
        visits_left_(0) {}

  TorchValue load() {
    find_prefix();
    big_endian_ = read_byteorder();
    check_version();
    const auto pkl = zip_.find(prefix_ + "data.pkl");
    if (!pkl) fail(msg("no ", prefix_, "data.pkl record"));
    const std::vector<char> pickle = zip_.read(*pkl, zip_.size(*pkl));
    detail::Unpickler unpickler(pickle, msg(where_, ": data.pkl"));
    const PickleNode* root = unpickler.load();
    // Every value the pickle built takes at least one opcode byte; a graph that expands to
    // more (shared sub-lists nested in each other) is refused instead of copied exponentially.
    visits_left_ = pickle.size() + 16;
    return convert(root, 0, "");
  }

 private:
  std::string where_;
  detail::ZipReader zip_;
  std::string prefix_;
  bool big_endian_ = false;
  std::uint64_t budget_, visits_left_;
  struct Storage {
    detail::Elem elem;
    std::int64_t numel;
    std::vector<char> bytes;
  };
  std::map<std::string, Storage> storages_;
  std::unordered_map<const PickleNode*, Tensor> tensors_;

  [[noreturn]] void fail(const std::string& what) const { throw IoError(msg(where_, ": ", what)); }

  void find_prefix() {
    if (zip_.count() == 0) fail("an empty zip archive, not a torch.save file");
    const std::string first = zip_.name(0);
    const std::size_t slash = first.find('/');
    if (slash == std::string::npos) fail(msg("zip entry '", first, "' is not in a folder"));
    prefix_ = first.substr(0, slash + 1);
    if (!zip_.find(prefix_ + "data.pkl") && zip_.find(prefix_ + "constants.pkl"))
      fail("a TorchScript archive (torch.jit.save); load_torch reads torch.save files");
  }

  std::string small_record(const std::string& name) {
    const auto i = zip_.find(prefix_ + name);
    if (!i) return "";
    const std::vector<char> b = zip_.read(*i, 64);
    std::string s(b.begin(), b.end());
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
  }

  bool read_byteorder() {
    const std::string order = small_record("byteorder");
    if (order.empty() || order == "little") return false;
    if (order == "big") return true;
    fail(msg("byteorder record '", order, "' is neither little nor big"));
  }

  void check_version() {
    const std::string v = small_record("version");
    if (v.empty()) fail(msg("no ", prefix_, "version record"));
    if (v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(v) < 1 || std::stoi(v) > 10)
      fail(msg("unsupported format version '", v, "'"));
  }

  const Storage& storage(const PickleNode& s) {
    auto it = storages_.find(s.s);
    if (it != storages_.end()) {
      if (it->second.elem != s.elem || it->second.numel != s.i)
        fail(msg("storage '", s.s, "' is named with two types or sizes"));
      return it->second;
    }
    const std::string name = prefix_ + "data/" + s.s;
    const auto i = zip_.find(name);
    if (!i) fail(msg("no record ", name, " for storage '", s.s, "'"));
    const std::size_t elem = detail::elem_size(s.elem);
    const std::uint64_t have = zip_.size(*i);
    // The record must hold exactly the elements its persistent id declares (torch 1.13 reads
    // past the end of a shorter one).
    if (have % elem != 0 || have / elem != static_cast<std::uint64_t>(s.i))
      fail(msg("storage '", s.s, "' declares ", s.i, " ", detail::elem_name(s.elem),
               " elements, but its record holds ", have, " bytes"));
    Storage st{s.elem, s.i, zip_.read(*i, have)};
    return storages_.emplace(s.s, std::move(st)).first->second;
  }

  // what names the tensor in errors: its key path in the saved object ("['fc.weight']").
  Tensor tensor(const PickleNode& t, const std::string& what) {
    if (auto it = tensors_.find(&t); it != tensors_.end()) return it->second;
    const Storage& st = storage(*t.storage);
    if (const std::string err = detail::layout_error(*t.layout, st.numel); !err.empty())
      fail(msg("tensor ", what.empty() ? "(the saved object)" : what, " does not fit its storage '",
               t.storage->s, "': ", err));
    const std::uint64_t bytes =
        static_cast<std::uint64_t>(shape_numel(t.layout->shape)) * detail::elem_size(st.elem);
    if (bytes > budget_)
      fail(msg("its tensors read more than ", kMaxReadFactor,
               " times the file's bytes (views overlapping their storages)"));
    budget_ -= bytes;
    Tensor r = detail::read_elements(st.elem, *t.layout, st.bytes.data(), big_endian_);
    tensors_.emplace(&t, r);
    return r;
  }

  // what: the value's place in the saved object, for errors ("['model']['fc.weight']").
  TorchValue convert(const PickleNode* n, int depth, const std::string& what) {
    if (depth > kMaxDepth) fail(msg("values nested deeper than ", kMaxDepth, " levels"));
    if (visits_left_-- == 0) fail("the pickle's values repeat more than its size allows");
    switch (n->kind) {
      case Kind::None: return {};
      case Kind::Bool: return TorchValue(n->b);
      case Kind::Int: return TorchValue(n->i);
      case Kind::Float: return TorchValue(n->f);
      case Kind::String: return TorchValue(n->s);
      case Kind::Bytes: return TorchValue::from_bytes(n->s);
      case Kind::Tensor: return TorchValue(tensor(*n, what));
      case Kind::List:
      case Kind::Tuple: {
        std::vector<TorchValue> elems;
        elems.reserve(n->elems.size());
        for (std::size_t k = 0; k < n->elems.size(); ++k)
          elems.push_back(convert(n->elems[k], depth + 1, msg(what, "[", k, "]")));
        return n->kind == Kind::List ? TorchValue::list(std::move(elems))
                                     : TorchValue::tuple(std::move(elems));
      }
      case Kind::Dict: {
        TorchValue::Items items;
        items.reserve(n->items.size());
        for (const auto& [k, v] : n->items) {
          TorchValue key = convert(k, depth + 1, what);
          const std::string at =
              msg(what, "['",
                  key.kind() == TorchValue::Kind::String ? key.str() : std::to_string(key.to_int()),
                  "']");
          items.emplace_back(std::move(key), convert(v, depth + 1, at));
        }
        return TorchValue::dict(std::move(items));
      }
      case Kind::Global: fail(msg("a bare ", n->s, " as a value"));
      case Kind::Storage: fail("a bare storage as a value");
    }
    fail("an unknown value");
  }
};

// The legacy format (PyTorch < 1.6) starts with a pickled magic number, not a zip header.
bool looks_legacy(const std::vector<char>& b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x80 && b[1] >= 2 && b[1] <= 5;
}
}  // namespace

TorchValue load_torch_value(const std::string& path) {
  const std::vector<char> bytes = detail::read_file(path, "load_torch");
  const std::string where = msg("load_torch: ", path);
  if (looks_legacy(bytes))
    throw IoError(msg(where,
                      ": torch's legacy format (PyTorch < 1.6, or "
                      "_use_new_zipfile_serialization=False); re-save it in Python with "
                      "torch.save(torch.load(path), path) in PyTorch >= 1.6"));
  return Loader(bytes, where).load();
}

namespace {
// TorchValue::tensors() with its ValueError (two entries flattening to one name, as
// {"a.b": t, "a": {"b": t}} would) reported as the file's fault.
TensorDict tensors_of(const TorchValue& d, const std::string& path) {
  try {
    return d.tensors();
  } catch (const ValueError& e) {
    throw IoError(msg("load_torch: ", path, ": ", e.what()));
  }
}
}  // namespace

TensorDict load_torch(const std::string& path, const std::string& key) {
  const TorchValue v = load_torch_value(path);
  auto dict_of = [&](const TorchValue& d, const std::string& what) -> const TorchValue& {
    if (d.kind() != TorchValue::Kind::Dict)
      throw IoError(msg("load_torch: ", path, ": ", what, " is a ", d.kind_name(),
                        ", not a dict of tensors"));
    return d;
  };
  const TorchValue& top = dict_of(v, "the saved object");
  if (key.empty()) return tensors_of(top, path);
  if (!top.contains(key))
    throw IoError(msg("load_torch: ", path, ": no key '", key, "' in the saved dict"));
  return tensors_of(dict_of(top.at(key), "'" + key + "'"), path);
}

}  // namespace tapegrad::io
