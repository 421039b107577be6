// PyTorch's torch.save files (the zip format of PyTorch >= 1.6), read safely and written so
// that torch.load reads them back bit for bit.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/core/io/tensor_dict.h"

namespace tapegrad::io {

/// One value of what a torch.save file holds: None, a bool, an int, a float, a string, bytes, a
/// tensor, a list or tuple of values, or a dict (string or int keys, in order). A state dict is
/// a dict of tensors; an optimizer's state dict or a checkpoint is a dict of dicts, lists and
/// numbers. Accessors throw ValueError naming the kind they found.
class TorchValue {
 public:
  /// What a value is: Python's None, bool, int, float, str, torch.Tensor, list, tuple, dict or
  /// bytes.
  enum class Kind : std::uint8_t {
    None,
    Bool,
    Int,
    Float,
    String,
    Tensor,
    List,
    Tuple,
    Dict,
    Bytes
  };
  /// A dict's entries, in order: (key, value).
  using Items = std::vector<std::pair<TorchValue, TorchValue>>;

  TorchValue() = default;  ///< None
  /// A value of the C++ type's Python kind: bool, int, float, str or a tensor.
  ///@{
  TorchValue(bool b);
  TorchValue(int i);
  TorchValue(std::int64_t i);
  TorchValue(double f);
  TorchValue(const char* s);
  TorchValue(std::string s);
  TorchValue(Tensor t);
  ///@}
  /// Python bytes (a str is text: pass std::string for that).
  static TorchValue from_bytes(std::string bytes);
  /// A list, a tuple or a dict of values (dict keys must be strings or ints; a repeated key
  /// keeps its first place and its last value, as Python's dict).
  ///@{
  static TorchValue list(std::vector<TorchValue> elements = {});
  static TorchValue tuple(std::vector<TorchValue> elements = {});
  static TorchValue dict(Items items = {});
  ///@}
  /// A dict of tensors: a state dict, as torch.save(model.state_dict()) holds one.
  static TorchValue from_state_dict(const TensorDict& tensors);

  /// The value's kind.
  Kind kind() const { return kind_; }
  /// "None", "bool", "int", "float", "str", "tensor", "list", "tuple", "dict" or "bytes".
  const char* kind_name() const;
  /// True for None.
  bool is_none() const { return kind_ == Kind::None; }

  /// The value of a bool, an int, a str, bytes or a tensor; ValueError for another kind.
  ///@{
  bool to_bool() const;
  std::int64_t to_int() const;
  const std::string& str() const;
  const std::string& bytes() const;
  const Tensor& tensor() const;
  ///@}
  /// A float's value, or an int's.
  double to_double() const;
  /// A list's or a tuple's elements.
  const std::vector<TorchValue>& elements() const;
  /// A dict's keys and values, in order.
  const Items& items() const;
  /// The dict entry under key: a string key, or an int key given in decimal ("0" finds
  /// torch's optimizer state for parameter 0). Throws ValueError listing the keys there are.
  const TorchValue& at(const std::string& key) const;
  /// True when the dict has an entry under key (as at() finds it).
  bool contains(const std::string& key) const;
  /// Adds key = value to a dict, or replaces the value of an existing key in place.
  void set(TorchValue key, TorchValue value);
  /// A dict's tensors as a state dict: a tensor under its key, and the tensors of a nested dict
  /// under "<key>.<name>" (a checkpoint {"model": {...}, "epoch": 3} gives "model.fc.weight");
  /// values of other kinds are left out.
  TensorDict tensors() const;

 private:
  Kind kind_ = Kind::None;
  bool b_ = false;
  std::int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  Tensor t_;
  std::vector<TorchValue> elements_;
  Items items_;
  void expect(Kind k, const char* what) const;
};

/// The object a torch.save file holds. Reads the zip format of PyTorch >= 1.6 (data.pkl,
/// data/<key> storages, version, byteorder). The pickle is run by a restricted unpickler: the
/// opcodes of containers, numbers and strings, and only the globals torch writes for tensors
/// and OrderedDicts; any other global (a model's class, os.system) is refused by name, never
/// run. Tensors keep torch's views (storage offset, strides, storages shared by several
/// tensors) as values: each is read into a contiguous tapegrad tensor. float32 and float64
/// load as themselves; float16 and bfloat16 widen exactly to float32; int8, uint8, int16,
/// int32, int64 and bool load as int64 (tapegrad's integer dtype; bool as 0 and 1). Every size,
/// offset and stride is checked against its storage, and every storage against the file,
/// before anything is read; a storage record shorter or longer than its declared elements,
/// the legacy (pre-1.6) format and TorchScript archives are refused. Errors are IoError naming
/// the file and what was wrong.
TorchValue load_torch_value(const std::string& path);

/// The tensors of a torch.save file holding a dict (a state dict), as TorchValue::tensors()
/// gives them; with key, those of the dict under that top-level key (load_torch("ckpt.pt",
/// "model")). model.load_state_dict(load_torch("model.pt")) loads a torch model's weights.
TensorDict load_torch(const std::string& path, const std::string& key = "");

/// Writes a state dict as torch.save(state_dict) does (a zip of data.pkl, data/<i>, version),
/// atomically; torch.load(path, weights_only=True) reads it back bit for bit.
void save_torch(const TensorDict& tensors, const std::string& path);
/// Writes any value (a checkpoint: a dict of state dicts and numbers). torch 1.13's
/// weights_only loader refuses Python floats, so read such files with torch.load(path).
void save_torch(const TorchValue& value, const std::string& path);

}  // namespace tapegrad::io
