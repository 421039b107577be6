// Whole files in and out, for every reader and writer in io/: a read sized by the file itself,
// and an atomic write, so a failed or interrupted save never leaves a broken file behind.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tapegrad::detail {

/// The bytes of the file at path; IoError "<op>: <path>: cannot open: <reason>" when it cannot
/// be read (missing, a directory, unreadable).
std::vector<char> read_file(const std::string& path, std::string_view op);

/// Writes bytes to a temporary file beside path, flushes it to disk, then renames it over path;
/// IoError "<op>: <path>: ..." on failure, with any previous file at path unchanged.
void write_file_atomic(const std::string& path, std::span<const char> bytes, std::string_view op);

}  // namespace tapegrad::detail
