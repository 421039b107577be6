// Views of the tape for people: its size (tape_stats), one line per live entry (tape_dump) and
// the graph behind a tensor as Graphviz DOT (to_dot).
#include <sstream>
#include <unordered_set>

#include "autograd/tape.h"
#include "tapegrad/core/autograd.h"
#include "tensor/check.h"
#include "tensor/tensor_impl.h"

namespace tapegrad {

TapeStats tape_stats() {
  TapeStats s;
  for (const auto& n : live_tape_entries()) {
    ++s.entries;
    s.bytes += n->bytes_held();
  }
  return s;
}

std::string tape_dump() {
  std::ostringstream os;
  for (const auto& n : live_tape_entries()) {
    os << '#' << n->seq << ' ' << n->op << " (";
    for (std::size_t i = 0; i < n->inputs.size(); ++i)
      os << (i ? ", " : "") << shape_str(n->inputs[i].t->shape);
    os << ") -> " << shape_str(n->out.shape) << ' ' << dtype_name(n->out.dtype) << ' '
       << n->bytes_held() << " bytes\n";
  }
  return os.str();
}

std::string to_dot(const Tensor& t) {
  const TensorImpl& root = impl_of(t, "to_dot");
  std::ostringstream os;
  os << "digraph tapegrad {\n  rankdir=BT;\n";
  std::unordered_set<const void*> seen;
  std::vector<const TensorImpl*> stack{&root};
  auto id = [](const void* p) { return msg('n', reinterpret_cast<std::uintptr_t>(p)); };
  // Depth-first over tensors; an op node is named after its Node, a leaf after its TensorImpl.
  while (!stack.empty()) {
    const TensorImpl* x = stack.back();
    stack.pop_back();
    const void* key = x->node ? static_cast<const void*>(x->node.get()) : x;
    if (!seen.insert(key).second) continue;
    if (!x->node) {
      os << "  " << id(key) << " [shape=ellipse,label=\"" << (x->requires_grad ? "leaf " : "const ")
         << shape_str(x->shape) << "\"];\n";
      continue;
    }
    const Node& n = *x->node;
    os << "  " << id(key) << " [shape=box,label=\"" << n.op << " #" << n.seq << "\\n"
       << shape_str(x->shape) << "\"];\n";
    for (const Node::Input& input : n.inputs) {
      const ImplPtr& in = input.t;
      const void* in_key = in->node ? static_cast<const void*>(in->node.get()) : in.get();
      os << "  " << id(in_key) << " -> " << id(key) << ";\n";
      stack.push_back(in.get());
    }
  }
  os << "}\n";
  return os.str();
}

}  // namespace tapegrad
