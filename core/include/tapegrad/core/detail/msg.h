// msg(): error-message text from pieces, for tapegrad's own libraries (nn, optim, data) and for
// user extensions that want the same message style. Not part of the training API.
#pragma once
#include <sstream>
#include <string>

namespace tapegrad {

/// Streams every part into one string: msg("matmul: ", 3, " vs ", 4) is "matmul: 3 vs 4".
template <typename... Parts>
std::string msg(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}

}  // namespace tapegrad
