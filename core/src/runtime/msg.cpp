// msg()'s one string stream (tapegrad/core/detail/msg.h).
#include "tapegrad/core/detail/msg.h"

#include <sstream>

namespace tapegrad::detail {

void write_c_string(std::ostream& os, const void* value) { os << static_cast<const char*>(value); }

std::string join_msg_parts(const MsgPart* parts, std::size_t count) {
  std::ostringstream os;
  for (std::size_t i = 0; i < count; ++i) {
    if (parts[i].manipulator)
      os << parts[i].manipulator;
    else if (parts[i].stream_manipulator)
      os << parts[i].stream_manipulator;
    else
      parts[i].write(os, parts[i].value);
  }
  return os.str();
}

}  // namespace tapegrad::detail
