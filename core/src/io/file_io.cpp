#include "io/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::detail {

namespace {
// Writes all of p[0, n) to fd; false on any error (errno says which).
bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}
}  // namespace

std::vector<char> read_file(const std::string& path, std::string_view op) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError(msg(op, ": ", path, ": cannot open: ", std::strerror(errno)));
  const std::streamoff size = in.tellg();
  if (size < 0) throw IoError(msg(op, ": ", path, ": cannot read (is it a directory?)"));
  std::vector<char> buf(static_cast<std::size_t>(size));
  in.seekg(0);
  if (!in.read(buf.data(), size)) throw IoError(msg(op, ": ", path, ": read failed"));
  return buf;
}

void write_file_atomic(const std::string& path, std::span<const char> bytes, std::string_view op) {
  // A temporary file in the same directory, so the final rename is atomic.
  const std::string tmp = msg(path, ".tmp.", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw IoError(msg(op, ": ", path, ": cannot create ", tmp, ": ", std::strerror(errno)));
  const bool ok = write_all(fd, bytes.data(), bytes.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : err;
    std::remove(tmp.c_str());
    throw IoError(msg(op, ": ", path, ": write failed: ", std::strerror(e),
                      "; the previous file, if any, is unchanged"));
  }
}

}  // namespace tapegrad::detail
