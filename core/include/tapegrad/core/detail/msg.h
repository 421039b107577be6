// msg(): error-message text from pieces, for tapegrad's own libraries (nn, optim, data) and for
// user extensions that want the same message style. Not part of the training API.
#pragma once
#include <cstddef>
#include <ostream>
#include <string>

namespace tapegrad {
namespace detail {

// One part of a message: its address and the function that streams it. Each msg() call site
// then only fills an array, and the string stream's code exists once (msg.cpp) instead of in
// every instantiation: that stream was 260 KB of the installed libraries' code, one copy per
// argument list (a literal's length is part of its type).
struct MsgPart {
  const void* value;
  void (*write)(std::ostream&, const void*);
  std::ios_base& (*manipulator)(std::ios_base&) = nullptr;       // std::hex and its kin
  std::ostream& (*stream_manipulator)(std::ostream&) = nullptr;  // a function of the stream
};

template <typename T>
void write_part(std::ostream& os, const void* value) {
  os << *static_cast<const T*>(value);
}
void write_c_string(std::ostream& os, const void* value);

template <typename T>
MsgPart msg_part(const T& value) {
  return {&value, &write_part<T>};
}
// Literals of every length decay to this one (a non-template wins the tie).
inline MsgPart msg_part(const char* value) { return {value, &write_c_string}; }
inline MsgPart msg_part(std::ios_base& (*manipulator)(std::ios_base&)) {
  return {nullptr, nullptr, manipulator};
}
inline MsgPart msg_part(std::ostream& (*manipulator)(std::ostream&)) {
  return {nullptr, nullptr, nullptr, manipulator};
}

std::string join_msg_parts(const MsgPart* parts, std::size_t count);

}  // namespace detail

/// Streams every part into one string: msg("matmul: ", 3, " vs ", 4) is "matmul: 3 vs 4".
template <typename... Parts>
std::string msg(const Parts&... parts) {
  if constexpr (sizeof...(Parts) == 0) {
    return {};
  } else {
    const detail::MsgPart all[] = {detail::msg_part(parts)...};
    return detail::join_msg_parts(all, sizeof...(Parts));
  }
}

}  // namespace tapegrad
