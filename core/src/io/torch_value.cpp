// TorchValue: the values a torch.save file holds, as a tree.
#include <set>
#include <unordered_map>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/io/torch.h"

namespace tapegrad::io {

namespace {
std::string key_text(const TorchValue& k) {
  return k.kind() == TorchValue::Kind::String ? k.str() : std::to_string(k.to_int());
}
}  // namespace

TorchValue::TorchValue(bool b) : kind_(Kind::Bool), b_(b) {}
TorchValue::TorchValue(int i) : kind_(Kind::Int), i_(i) {}
TorchValue::TorchValue(std::int64_t i) : kind_(Kind::Int), i_(i) {}
TorchValue::TorchValue(double f) : kind_(Kind::Float), f_(f) {}
TorchValue::TorchValue(const char* s) : kind_(Kind::String), s_(s) {}
TorchValue::TorchValue(std::string s) : kind_(Kind::String), s_(std::move(s)) {}
TorchValue::TorchValue(Tensor t) : kind_(Kind::Tensor), t_(std::move(t)) {
  if (!t_.defined()) throw ValueError("TorchValue: an undefined tensor");
}

TorchValue TorchValue::from_bytes(std::string bytes) {
  TorchValue v(std::move(bytes));
  v.kind_ = Kind::Bytes;
  return v;
}

TorchValue TorchValue::list(std::vector<TorchValue> elements) {
  TorchValue v;
  v.kind_ = Kind::List;
  v.elements_ = std::move(elements);
  return v;
}

TorchValue TorchValue::tuple(std::vector<TorchValue> elements) {
  TorchValue v = list(std::move(elements));
  v.kind_ = Kind::Tuple;
  return v;
}

TorchValue TorchValue::dict(Items items) {
  TorchValue v;
  v.kind_ = Kind::Dict;
  std::unordered_map<std::string, std::size_t> index;  // a repeated key replaces in place
  for (auto& [k, value] : items) {
    if (k.kind_ != Kind::String && k.kind_ != Kind::Int)
      throw ValueError(msg("TorchValue: dict keys must be str or int, not ", k.kind_name()));
    // Appended, not "s" + key_text(k): GCC 12 warns falsely (-Wrestrict) on that form when
    // torch_value.cpp shares a unity batch with the other torch readers.
    std::string text(1, k.kind_ == Kind::String ? 's' : 'i');
    text += key_text(k);
    const auto [it, fresh] = index.emplace(text, v.items_.size());
    if (fresh)
      v.items_.emplace_back(std::move(k), std::move(value));
    else
      v.items_[it->second].second = std::move(value);
  }
  return v;
}

TorchValue TorchValue::from_state_dict(const TensorDict& tensors) {
  Items items;
  items.reserve(tensors.size());
  for (const auto& [name, t] : tensors) items.emplace_back(name, t);
  return dict(std::move(items));
}

const char* TorchValue::kind_name() const {
  constexpr const char* kNames[] = {"None",   "bool", "int",   "float", "str",
                                    "tensor", "list", "tuple", "dict"};
  return kNames[static_cast<int>(kind_)];
}

void TorchValue::expect(Kind k, const char* what) const {
  if (kind_ != k) throw ValueError(msg("TorchValue: expected ", what, ", found ", kind_name()));
}

bool TorchValue::to_bool() const {
  expect(Kind::Bool, "a bool");
  return b_;
}
std::int64_t TorchValue::to_int() const {
  expect(Kind::Int, "an int");
  return i_;
}
double TorchValue::to_double() const {
  if (kind_ == Kind::Int) return static_cast<double>(i_);
  expect(Kind::Float, "a float");
  return f_;
}
const std::string& TorchValue::str() const {
  expect(Kind::String, "a str");
  return s_;
}
const std::string& TorchValue::bytes() const {
  expect(Kind::Bytes, "bytes");
  return s_;
}
const Tensor& TorchValue::tensor() const {
  expect(Kind::Tensor, "a tensor");
  return t_;
}
const std::vector<TorchValue>& TorchValue::elements() const {
  if (kind_ != Kind::Tuple) expect(Kind::List, "a list or tuple");
  return elements_;
}
const TorchValue::Items& TorchValue::items() const {
  expect(Kind::Dict, "a dict");
  return items_;
}

bool TorchValue::contains(const std::string& key) const {
  for (const auto& item : items())
    if (key_text(item.first) == key) return true;
  return false;
}

const TorchValue& TorchValue::at(const std::string& key) const {
  std::string keys;
  for (const auto& item : items()) {
    if (key_text(item.first) == key) return item.second;
    keys += (keys.empty() ? "" : ", ") + key_text(item.first);
  }
  throw ValueError(msg("TorchValue: no key '", key, "' in a dict of ", items_.size(), " entries (",
                       keys.size() > 200 ? keys.substr(0, 200) + "..." : keys, ")"));
}

void TorchValue::set(TorchValue key, TorchValue value) {
  expect(Kind::Dict, "a dict");
  if (key.kind_ != Kind::String && key.kind_ != Kind::Int)
    throw ValueError(msg("TorchValue: dict keys must be str or int, not ", key.kind_name()));
  for (auto& item : items_)
    if (item.first.kind_ == key.kind_ && key_text(item.first) == key_text(key)) {
      item.second = std::move(value);
      return;
    }
  items_.emplace_back(std::move(key), std::move(value));
}

TensorDict TorchValue::tensors() const {
  TensorDict out;
  std::set<std::string> seen;
  auto walk = [&](auto&& self, const TorchValue& d, const std::string& prefix) -> void {
    for (const auto& [k, v] : d.items()) {
      const std::string name = prefix + key_text(k);
      if (v.kind_ == Kind::Tensor) {
        if (!seen.insert(name).second)
          throw ValueError(msg("TorchValue::tensors: two tensors named '", name, "'"));
        out.emplace_back(name, v.t_);
      } else if (v.kind_ == Kind::Dict) {
        self(self, v, name + ".");
      }
    }
  };
  walk(walk, *this, "");
  return out;
}

}  // namespace tapegrad::io
