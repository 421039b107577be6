// The CSV dialect MetricsLog writes and reads: RFC 4180 records (a field in quotes may hold
// commas, doubled quotes and line breaks) and "# key: value" comment lines for the run's
// configuration, which are never quoted: a key or value that would break one is refused.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tapegrad::train {

/// A field as RFC 4180 writes it: in quotes, inner quotes doubled, when it holds a comma, a quote
/// or a line break, or starts with '#' (which would make its line a comment); as it is otherwise.
std::string csv_quote(std::string_view field);

/// Throws ValueError naming the file and the key unless "# key: value" reads back as that key
/// and value: no line break in either, no ": " in the key.
void check_config_entry(const std::string& path, const std::string& key, const std::string& value);

struct CsvRecord {
  std::int64_t line = 0;            ///< where the record starts, from 1
  bool comment = false;             ///< a "#" line: fields holds its key and value, or nothing
  std::vector<std::string> fields;  ///< a record's fields, unquoted
};

struct CsvRecords {
  std::vector<CsvRecord> records;  ///< the complete records; empty lines are skipped
  std::size_t end = 0;             ///< where the last complete record ends in the text
};

/// The records of a CSV text. A record the text cuts short (no line break after it, or a quote
/// never closed: a crash mid-write) is left out, and `end` stops before it.
CsvRecords parse_csv(std::string_view text);

}  // namespace tapegrad::train
