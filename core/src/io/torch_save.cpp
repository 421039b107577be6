// Writing torch.save's zip format: a pickle (protocol 2, as torch.save writes by default) that
// rebuilds each tensor with torch._utils._rebuild_tensor_v2 from a persistent storage id, and
// one data/<key> record per tensor.
#include <bit>
#include <climits>
#include <cstdint>

#include "io/elements.h"
#include "io/file_io.h"
#include "io/zip.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/io/torch.h"

namespace tapegrad::io {

namespace {
constexpr const char* kFolder = "archive/";

class Pickler {
 public:
  // The pickle of v; tensors() are the storages it refers to, by their key's position.
  std::string dump(const TorchValue& v, bool ordered_top) {
    out_ = "\x80\x02";
    value(v, ordered_top);
    out_ += '.';
    return out_;
  }
  const std::vector<Tensor>& tensors() const { return tensors_; }

 private:
  std::string out_;
  std::vector<Tensor> tensors_;

  void global(const char* module, const char* name) { out_ += msg('c', module, '\n', name, '\n'); }
  // BINUNICODE (a str) or BINBYTES (bytes, protocol 3: the header says so then).
  void string(const std::string& s, char op = 'X') {
    if (s.size() > UINT32_MAX)
      throw ValueError(msg("save_torch: a string of ", s.size(), " bytes (at most 4 GiB each)"));
    const auto n = static_cast<std::uint32_t>(s.size());
    out_ += op;
    out_.append(reinterpret_cast<const char*>(&n), 4);
    out_ += s;
    if (op == 'B') out_[1] = 3;
  }
  void integer(std::int64_t i) {
    if (i >= 0 && i < 256) {
      out_ += 'K';
      out_ += static_cast<char>(i);
    } else if (i >= INT32_MIN && i <= INT32_MAX) {
      const auto v = static_cast<std::int32_t>(i);
      out_ += 'J';
      out_.append(reinterpret_cast<const char*>(&v), 4);
    } else {  // LONG1: eight bytes of two's complement, little-endian
      out_ += "\x8a\x08";
      out_.append(reinterpret_cast<const char*>(&i), 8);
    }
  }
  void tuple(const Shape& s) {
    out_ += '(';
    for (std::int64_t d : s) integer(d);
    out_ += 't';
  }
  void tensor(const Tensor& t) {
    const char* storage = t.dtype() == kFloat32   ? "FloatStorage"
                          : t.dtype() == kFloat64 ? "DoubleStorage"
                                                  : "LongStorage";
    global("torch._utils", "_rebuild_tensor_v2");
    out_ += "((";
    string("storage");
    global("torch", storage);
    string(std::to_string(tensors_.size()));
    string("cpu");
    integer(t.numel());
    out_ += "tQ";  // the persistent id tuple, then BINPERSID
    integer(0);    // storage offset
    tuple(t.shape());
    const std::vector<std::int64_t> strides = detail::c_strides(t.shape());
    tuple(Shape(strides.begin(), strides.end()));
    out_ += '\x89';  // requires_grad = False
    global("collections", "OrderedDict");
    out_ += ")R";  // backward_hooks = OrderedDict()
    out_ += "tR";
    tensors_.push_back(t);
  }
  void value(const TorchValue& v, bool ordered) {
    using K = TorchValue::Kind;
    switch (v.kind()) {
      case K::None: out_ += 'N'; return;
      case K::Bool: out_ += v.to_bool() ? '\x88' : '\x89'; return;
      case K::Int: integer(v.to_int()); return;
      case K::Float: {
        const auto u = std::bit_cast<std::uint64_t>(v.to_double());
        out_ += 'G';
        for (int k = 7; k >= 0; --k) out_ += static_cast<char>((u >> (8 * k)) & 0xff);
        return;
      }
      case K::String: string(v.str()); return;
      case K::Bytes: string(v.bytes(), 'B'); return;
      case K::Tensor: tensor(v.tensor()); return;
      case K::List:
      case K::Tuple: {
        out_ += v.kind() == K::List ? "](" : "(";
        for (const TorchValue& e : v.elements()) value(e, false);
        out_ += v.kind() == K::List ? 'e' : 't';
        return;
      }
      case K::Dict: {
        if (ordered) {
          global("collections", "OrderedDict");
          out_ += ")R(";
        } else {
          out_ += "}(";
        }
        for (const auto& [k, e] : v.items()) {
          value(k, false);
          value(e, false);
        }
        out_ += 'u';
        return;
      }
    }
  }
};

void save(const TorchValue& v, const std::string& path, bool ordered_top) {
  Pickler p;
  const std::string pickle = p.dump(v, ordered_top);
  detail::ZipWriter zip(msg("save_torch: ", path));
  zip.add(msg(kFolder, "data.pkl"), pickle);
  for (std::size_t i = 0; i < p.tensors().size(); ++i)
    zip.add(msg(kFolder, "data/", i), detail::element_bytes(p.tensors()[i]));
  zip.add(msg(kFolder, "version"), std::string_view("3\n"));
  zip.add(msg(kFolder, "byteorder"), std::string_view("little"));
  detail::write_file_atomic(path, zip.finish(), "save_torch");
}
}  // namespace

void save_torch(const TensorDict& tensors, const std::string& path) {
  save(TorchValue::from_state_dict(tensors), path, true);
}

void save_torch(const TorchValue& value, const std::string& path) { save(value, path, false); }

}  // namespace tapegrad::io
