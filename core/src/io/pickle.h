// A restricted unpickler for what torch.save writes (Python's pickle protocols 2 to 5): the
// opcodes of plain containers, numbers and strings, persistent ids for torch's storages, and
// an allow-list of globals, checked when the GLOBAL opcode names them. A pickle is a program:
// anything else (os.system, builtins.eval, a module's class) is refused by name, never run.
// The result is a graph of nodes in an arena the Unpickler owns, so a hostile pickle's cycles
// (a list memoised, then appended to itself) cannot leak; whoever walks it bounds the depth.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "io/elements.h"

namespace tapegrad::detail {

struct PickleNode {
  enum class Kind : std::uint8_t {
    None,
    Bool,
    Int,
    Float,
    String,
    Bytes,
    List,
    Tuple,
    Dict,
    Global,   // an allowed global, by name (module.name), before it is called
    Storage,  // a persistent id ('storage', type, key, location, numel)
    Tensor,   // _rebuild_tensor_v2's arguments: a storage and a layout
  };
  Kind kind = Kind::None;
  bool b = false;
  std::int64_t i = 0;
  double f = 0;
  std::string s;                   // String, Bytes, Global's name, Storage's key
  std::vector<PickleNode*> elems;  // List, Tuple
  std::vector<std::pair<PickleNode*, PickleNode*>> items;  // Dict, in insertion order
  Elem elem = Elem::F32;                                   // Storage: element type
  PickleNode* storage = nullptr;                           // Tensor
  std::unique_ptr<Layout> layout;                          // Tensor (only: nodes stay small)
};

class Unpickler {
 public:
  /// where names the file and the record in errors: IoError "<where>: <what> (at pickle offset N)".
  Unpickler(std::span<const char> pickle, std::string where);
  /// Runs the pickle to its STOP and returns the one value it leaves.
  PickleNode* load();

 private:
  std::span<const char> p_;
  std::string where_;
  std::size_t pos_ = 0;
  std::vector<std::unique_ptr<PickleNode>> arena_;
  std::vector<PickleNode*> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, PickleNode*> memo_;
  // Each dict's keys (kind and text) -> position, so a repeated key replaces in place.
  std::unordered_map<const PickleNode*, std::unordered_map<std::string, std::size_t>> index_;
  PickleNode none_, true_, false_;  // shared: the commonest values cost no node each

  [[noreturn]] void fail(const std::string& what, const std::string& hint = "") const;
  PickleNode* make(PickleNode::Kind kind);
  const char* take(std::size_t n, const char* what);
  template <typename T>
  T read_le(const char* what);
  PickleNode* pop(const char* op);
  PickleNode* top(const char* op);
  std::vector<PickleNode*> pop_to_mark(const char* op);
  PickleNode* global(const std::string& module, const std::string& name);
  PickleNode* persistent(PickleNode* pid);
  PickleNode* call(PickleNode* callable, PickleNode* args);
  void set_item(PickleNode* dict, PickleNode* key, PickleNode* value, const char* op);
  void step(unsigned char op);
};

}  // namespace tapegrad::detail
