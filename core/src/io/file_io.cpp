#include "io/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

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
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(msg(op, ": ", path, ": cannot open: ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError(msg(op, ": ", path, ": cannot read (not a regular file)"));
  }
  std::vector<char> buf(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t r = ::read(fd, buf.data() + got, buf.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int e = r < 0 ? errno : 0;
      ::close(fd);
      throw IoError(msg(op, ": ", path, ": read failed",
                        e ? msg(": ", std::strerror(e)) : msg(" after ", got, " bytes")));
    }
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
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
