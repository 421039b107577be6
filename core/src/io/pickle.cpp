#include "io/pickle.h"

#include <bit>
#include <cstring>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::detail {

using Kind = PickleNode::Kind;

namespace {
// The storage classes torch.save names in persistent ids, and their element types.
constexpr std::pair<const char*, Elem> kStorages[] = {
    {"FloatStorage", Elem::F32},     {"DoubleStorage", Elem::F64}, {"HalfStorage", Elem::F16},
    {"BFloat16Storage", Elem::BF16}, {"LongStorage", Elem::I64},   {"IntStorage", Elem::I32},
    {"ShortStorage", Elem::I16},     {"CharStorage", Elem::I8},    {"ByteStorage", Elem::U8},
    {"BoolStorage", Elem::Bool}};

// Every global a state dict, an optimizer's state dict or a checkpoint of plain containers
// needs (torch's weights_only allow-list, less sparse and quantized tensors).
constexpr const char* kAllowed[] = {"collections.OrderedDict",
                                    "torch._utils._rebuild_tensor_v2",
                                    "torch._utils._rebuild_parameter",
                                    "torch._utils._rebuild_parameter_with_state",
                                    "torch._tensor._rebuild_from_type_v2",
                                    "torch.Tensor",
                                    "torch.nn.parameter.Parameter"};

std::string index_key(const PickleNode& key) {
  if (key.kind == Kind::String) return "s" + key.s;
  if (key.kind == Kind::Int) return "i" + std::to_string(key.i);
  return "";
}

bool is_empty_state(const PickleNode* n) {
  return n->kind == Kind::None || ((n->kind == Kind::Dict) && n->items.empty()) ||
         ((n->kind == Kind::Tuple || n->kind == Kind::List) && n->elems.empty());
}
}  // namespace

Unpickler::Unpickler(std::span<const char> pickle, std::string where)
    : p_(pickle), where_(std::move(where)) {
  true_.kind = false_.kind = Kind::Bool;
  true_.b = true;
}

void Unpickler::fail(const std::string& what, const std::string& hint) const {
  throw IoError(
      msg(where_, ": ", what, " (at pickle offset ", pos_, ")", hint.empty() ? "" : "; ", hint));
}

PickleNode* Unpickler::make(Kind kind) {
  arena_.push_back(std::make_unique<PickleNode>());
  arena_.back()->kind = kind;
  return arena_.back().get();
}

const char* Unpickler::take(std::size_t n, const char* what) {
  if (n > p_.size() - pos_)
    fail(msg("the pickle is truncated: ", what, " needs ", n, " bytes, ", p_.size() - pos_,
             " remain"));
  const char* at = p_.data() + pos_;
  pos_ += n;
  return at;
}

template <typename T>
T Unpickler::read_le(const char* what) {
  T v;
  std::memcpy(&v, take(sizeof v, what), sizeof v);
  return v;
}

PickleNode* Unpickler::pop(const char* op) {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
    fail(msg(op, " on an empty stack"));
  PickleNode* n = stack_.back();
  stack_.pop_back();
  return n;
}

PickleNode* Unpickler::top(const char* op) {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
    fail(msg(op, " on an empty stack"));
  return stack_.back();
}

std::vector<PickleNode*> Unpickler::pop_to_mark(const char* op) {
  if (marks_.empty()) fail(msg(op, " without a MARK"));
  const std::size_t at = marks_.back();
  marks_.pop_back();
  std::vector<PickleNode*> r(stack_.begin() + static_cast<std::ptrdiff_t>(at), stack_.end());
  stack_.resize(at);
  return r;
}

PickleNode* Unpickler::global(const std::string& module, const std::string& name) {
  const std::string full = module + "." + name;
  if (module == "torch")
    for (const auto& [storage, elem] : kStorages)
      if (name == storage) {
        PickleNode* n = make(Kind::Global);
        n->s = full;
        n->elem = elem;
        return n;
      }
  for (const char* allowed : kAllowed)
    if (full == allowed) {
      PickleNode* n = make(Kind::Global);
      n->s = full;
      return n;
    }
  fail(msg("refusing to load a pickled class or function: ", full),
       "save model.state_dict(), not the model");
}

// ('storage', torch.<Type>Storage, key, location, numel), as torch.save's persistent_id writes.
PickleNode* Unpickler::persistent(PickleNode* pid) {
  if (pid->kind != Kind::Tuple || pid->elems.size() != 5 || pid->elems[0]->kind != Kind::String ||
      pid->elems[0]->s != "storage")
    fail("a persistent id that is not torch's ('storage', type, key, location, numel)");
  const PickleNode* type = pid->elems[1];
  if (type->kind != Kind::Global || type->s.size() < 7 ||
      type->s.compare(type->s.size() - 7, 7, "Storage") != 0)
    fail("a storage's type is not one of torch's storage classes");
  if (pid->elems[2]->kind != Kind::String || pid->elems[3]->kind != Kind::String ||
      pid->elems[4]->kind != Kind::Int || pid->elems[4]->i < 0)
    fail("a storage's key, location or element count is malformed");
  PickleNode* s = make(Kind::Storage);
  s->elem = type->elem;
  s->s = pid->elems[2]->s;
  s->i = pid->elems[4]->i;
  return s;
}

// A tuple of non-negative ints (a tensor's sizes or strides).
static bool int_tuple(const PickleNode* n, std::vector<std::int64_t>& out) {
  if (n->kind != Kind::Tuple && n->kind != Kind::List) return false;
  for (const PickleNode* e : n->elems) {
    if (e->kind != Kind::Int || e->i < 0) return false;
    out.push_back(e->i);
  }
  return true;
}

PickleNode* Unpickler::call(PickleNode* callable, PickleNode* args) {
  if (callable->kind != Kind::Global) fail("REDUCE calls something that is not a global");
  if (args->kind != Kind::Tuple) fail(msg("REDUCE on ", callable->s, " without an argument tuple"));
  const std::vector<PickleNode*>& a = args->elems;
  const std::string& f = callable->s;
  if (f == "collections.OrderedDict") {
    if (!a.empty()) fail("OrderedDict called with arguments");
    return make(Kind::Dict);
  }
  if (f == "torch._utils._rebuild_tensor_v2") {
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    if (a.size() < 6 || a.size() > 7) fail("_rebuild_tensor_v2 with the wrong arguments");
    PickleNode* t = make(Kind::Tensor);
    t->layout = std::make_unique<Layout>();
    std::vector<std::int64_t> sizes;
    if (a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int || !int_tuple(a[2], sizes) ||
        !int_tuple(a[3], t->layout->strides) || a[4]->kind != Kind::Bool || !is_empty_state(a[5]))
      fail("_rebuild_tensor_v2's storage, offset, sizes, strides or hooks are malformed");
    t->storage = a[0];
    t->layout->offset = a[1]->i;
    t->layout->shape = Shape(sizes.begin(), sizes.end());
    return t;
  }
  if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
    // (tensor, requires_grad, backward_hooks[, state]): the parameter's data is the tensor.
    if (a.size() < 3 || a.size() > 4 || a[0]->kind != Kind::Tensor ||
        (a.size() == 4 && !is_empty_state(a[3])))
      fail(msg(f, " with the wrong arguments"));
    return a[0];
  }
  if (f == "torch._tensor._rebuild_from_type_v2") {
    // (func, type, args, state): a plain Tensor or Parameter rebuilt by a function that builds
    // one directly (never _rebuild_from_type_v2 again: no recursion a pickle can deepen).
    if (a.size() != 4 || a[0]->kind != Kind::Global || a[1]->kind != Kind::Global ||
        (a[0]->s != "torch._utils._rebuild_tensor_v2" &&
         a[0]->s != "torch._utils._rebuild_parameter" &&
         a[0]->s != "torch._utils._rebuild_parameter_with_state") ||
        (a[1]->s != "torch.Tensor" && a[1]->s != "torch.nn.parameter.Parameter") ||
        !is_empty_state(a[3]))
      fail("_rebuild_from_type_v2 of something other than a plain tensor");
    return call(a[0], a[2]);
  }
  fail(msg("REDUCE calls ", f, ", which is not callable here"));
}

void Unpickler::set_item(PickleNode* dict, PickleNode* key, PickleNode* value, const char* op) {
  if (dict->kind != Kind::Dict) fail(msg(op, " on something that is not a dict"));
  const std::string k = index_key(*key);
  if (k.empty()) fail(msg(op, ": a dict key that is not a str or an int"));
  // A repeated key replaces the value in place, as Python's dict does.
  const auto [it, fresh] = index_[dict].emplace(k, dict->items.size());
  if (fresh)
    dict->items.emplace_back(key, value);
  else
    dict->items[it->second].second = value;
}

PickleNode* Unpickler::load() {
  while (true) {
    const auto op = static_cast<unsigned char>(*take(1, "an opcode"));
    if (op == '.') break;
    step(op);
  }
  if (!marks_.empty() || stack_.size() != 1)
    fail(msg("STOP leaves ", stack_.size(), " values and ", marks_.size(),
             " marks (expected one "
             "value)"));
  return stack_.back();
}

void Unpickler::step(unsigned char op) {
  switch (op) {
    case 0x80: {  // PROTO
      const auto v = static_cast<unsigned char>(*take(1, "PROTO"));
      if (v < 2 || v > 5) fail(msg("pickle protocol ", int(v), " (torch.save writes 2 to 5)"));
      return;
    }
    case 0x95: read_le<std::uint64_t>("FRAME"); return;  // framing only: no meaning to keep
    case '(': marks_.push_back(stack_.size()); return;
    case '0': pop("POP"); return;
    case '1': pop_to_mark("POP_MARK"); return;
    case '2': stack_.push_back(top("DUP")); return;
    case 'N': stack_.push_back(&none_); return;
    case 0x88: stack_.push_back(&true_); return;   // NEWTRUE
    case 0x89: stack_.push_back(&false_); return;  // NEWFALSE
    case 'J':
    case 'K':
    case 'M': {  // BININT (int32), BININT1 (uint8), BININT2 (uint16)
      PickleNode* n = make(Kind::Int);
      n->i = op == 'J'   ? read_le<std::int32_t>("BININT")
             : op == 'K' ? read_le<std::uint8_t>("BININT1")
                         : read_le<std::uint16_t>("BININT2");
      stack_.push_back(n);
      return;
    }
    case 0x8a: {  // LONG1: n bytes, little-endian two's complement
      const auto n = static_cast<unsigned char>(*take(1, "LONG1"));
      if (n > 8) fail(msg("an integer of ", int(n), " bytes does not fit int64"));
      const char* b = take(n, "LONG1");
      std::uint64_t u = 0;
      for (int k = n - 1; k >= 0; --k) u = (u << 8) | static_cast<unsigned char>(b[k]);
      if (n > 0 && n < 8 && (static_cast<unsigned char>(b[n - 1]) & 0x80))
        u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
      PickleNode* v = make(Kind::Int);
      v->i = static_cast<std::int64_t>(u);
      stack_.push_back(v);
      return;
    }
    case 'G': {  // BINFLOAT: big-endian double
      std::uint64_t u = 0;
      const char* b = take(8, "BINFLOAT");
      for (int k = 0; k < 8; ++k) u = (u << 8) | static_cast<unsigned char>(b[k]);
      PickleNode* n = make(Kind::Float);
      n->f = std::bit_cast<double>(u);
      stack_.push_back(n);
      return;
    }
    case 'X':
    case 0x8c:
    case 0x8d:
    case 'T':
    case 'U':
    case 'B':
    case 'C':
    case 0x8e: {
      // BINUNICODE (u32 length), SHORT_BINUNICODE (u8), BINUNICODE8 (u64); BINSTRING,
      // SHORT_BINSTRING (Python 2's str, read as text); BINBYTES, SHORT_BINBYTES, BINBYTES8.
      const std::uint64_t n =
          op == 0x8c || op == 'U' || op == 'C' ? read_le<std::uint8_t>("a string's length")
          : op == 0x8d || op == 0x8e           ? read_le<std::uint64_t>("a string's length")
                                               : read_le<std::uint32_t>("a string's length");
      if (op == 'T' && n > 0x7fffffff) fail("a BINSTRING of negative length");
      if (n > p_.size() - pos_)
        fail(msg("a string of ", n, " bytes in a pickle with ", p_.size() - pos_, " left"));
      PickleNode* s = make(op == 'B' || op == 'C' || op == 0x8e ? Kind::Bytes : Kind::String);
      s->s.assign(take(static_cast<std::size_t>(n), "a string"), static_cast<std::size_t>(n));
      stack_.push_back(s);
      return;
    }
    case ')': stack_.push_back(make(Kind::Tuple)); return;
    case 't':
    case 0x85:
    case 0x86:
    case 0x87: {  // TUPLE (to the mark), TUPLE1/2/3
      PickleNode* t = make(Kind::Tuple);
      if (op == 't') {
        t->elems = pop_to_mark("TUPLE");
      } else {
        t->elems.resize(op - 0x84);
        for (std::size_t k = t->elems.size(); k-- > 0;) t->elems[k] = pop("TUPLEn");
      }
      stack_.push_back(t);
      return;
    }
    case ']': stack_.push_back(make(Kind::List)); return;
    case '}': stack_.push_back(make(Kind::Dict)); return;
    case 'a': {  // APPEND
      PickleNode* v = pop("APPEND");
      PickleNode* list = top("APPEND");
      if (list->kind != Kind::List) fail("APPEND to something that is not a list");
      list->elems.push_back(v);
      return;
    }
    case 'e': {  // APPENDS
      std::vector<PickleNode*> vs = pop_to_mark("APPENDS");
      PickleNode* list = top("APPENDS");
      if (list->kind != Kind::List) fail("APPENDS to something that is not a list");
      list->elems.insert(list->elems.end(), vs.begin(), vs.end());
      return;
    }
    case 's': {  // SETITEM
      PickleNode* v = pop("SETITEM");
      PickleNode* k = pop("SETITEM");
      set_item(top("SETITEM"), k, v, "SETITEM");
      return;
    }
    case 'u': {  // SETITEMS
      std::vector<PickleNode*> kv = pop_to_mark("SETITEMS");
      if (kv.size() % 2) fail("SETITEMS with a key and no value");
      PickleNode* dict = top("SETITEMS");
      for (std::size_t k = 0; k < kv.size(); k += 2) set_item(dict, kv[k], kv[k + 1], "SETITEMS");
      return;
    }
    case 'c': {  // GLOBAL "module\nname\n"
      std::string parts[2];
      for (std::string& part : parts) {
        const std::size_t rest = p_.size() - pos_;
        const void* nl = std::memchr(p_.data() + pos_, '\n', std::min<std::size_t>(rest, 256));
        if (!nl) fail("GLOBAL without a newline-terminated name");
        const auto len =
            static_cast<std::size_t>(static_cast<const char*>(nl) - (p_.data() + pos_));
        part.assign(take(len + 1, "GLOBAL"), len);
      }
      stack_.push_back(global(parts[0], parts[1]));
      return;
    }
    case 0x93: {  // STACK_GLOBAL
      PickleNode* name = pop("STACK_GLOBAL");
      PickleNode* module = pop("STACK_GLOBAL");
      if (name->kind != Kind::String || module->kind != Kind::String)
        fail("STACK_GLOBAL of something that is not a name");
      stack_.push_back(global(module->s, name->s));
      return;
    }
    case 'R': {  // REDUCE
      PickleNode* args = pop("REDUCE");
      stack_.push_back(call(pop("REDUCE"), args));
      return;
    }
    case 'b': {  // BUILD: the state of an OrderedDict (torch's _metadata) is not kept
      PickleNode* state = pop("BUILD");
      const PickleNode* obj = top("BUILD");
      if (obj->kind != Kind::Dict || (state->kind != Kind::Dict && state->kind != Kind::None))
        fail("BUILD of something other than a dict's attributes");
      return;
    }
    case 'Q': stack_.push_back(persistent(pop("BINPERSID"))); return;
    case 'q':
    case 'r':
    case 0x94: {  // BINPUT (u8), LONG_BINPUT (u32), MEMOIZE (next index)
      const std::uint64_t k = op == 'q'   ? read_le<std::uint8_t>("BINPUT")
                              : op == 'r' ? read_le<std::uint32_t>("LONG_BINPUT")
                                          : memo_.size();
      memo_[k] = top("BINPUT");
      return;
    }
    case 'h':
    case 'j': {  // BINGET (u8), LONG_BINGET (u32)
      const std::uint64_t k =
          op == 'h' ? read_le<std::uint8_t>("BINGET") : read_le<std::uint32_t>("LONG_BINGET");
      const auto it = memo_.find(k);
      if (it == memo_.end()) fail(msg("BINGET of memo entry ", k, ", which was never stored"));
      stack_.push_back(it->second);
      return;
    }
    default:
      --pos_;
      fail(msg("unsupported pickle opcode 0x", "0123456789abcdef"[op >> 4],
               "0123456789abcdef"[op & 15], " (torch's state dicts do not use it)"));
  }
}

}  // namespace tapegrad::detail
