// The restricted unpickler on arbitrary bytes: a clean IoError, or a graph of values whose
// every node can be visited (nothing dangling, no global but the allowed ones, tensors only
// from storages).
#include <unordered_set>

#include "fuzz_common.h"
#include "io/pickle.h"

using tapegrad::detail::PickleNode;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const char> bytes(reinterpret_cast<const char*>(data), size);
  const PickleNode* root = nullptr;
  tapegrad::detail::Unpickler unpickler(bytes, "fuzz");
  try {
    root = unpickler.load();
  } catch (const tg::IoError&) {
    return 0;
  }
  std::unordered_set<const PickleNode*> seen;
  std::vector<const PickleNode*> todo = {root};
  while (!todo.empty()) {
    const PickleNode* n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second) continue;
    using K = PickleNode::Kind;
    if (n->kind == K::Tensor)
      fuzz::require(n->storage && n->storage->kind == K::Storage,
                    "pickle: a tensor is built from a storage");
    if (n->kind == K::Global)
      fuzz::require(n->s.rfind("torch", 0) == 0 || n->s == "collections.OrderedDict",
                    "pickle: only allowed globals are loaded");
    for (const PickleNode* e : n->elems) todo.push_back(e);
    for (const auto& [k, v] : n->items) {
      fuzz::require(k->kind == K::String || k->kind == K::Int, "pickle: dict keys are str or int");
      todo.push_back(k);
      todo.push_back(v);
    }
  }
  return 0;
}
