// CSV datasets: numeric fields only; every fault names the file, line and column.
#include "tapegrad/data/csv.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "tapegrad/core/checked.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::data {

namespace {
std::vector<std::string> split(const std::string& line, char delim) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == delim)
      out.emplace_back();
    else if (c != '\r')
      out.back() += c;
  }
  return out;
}

// The whole field as a number (surrounding blanks allowed); anything else, including an empty
// or blank field, is an error naming where.
template <typename Where>
double parse_number(const std::string& field, Where where) {
  const char* s = field.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s, &end);
  const bool converted = end != s;
  while (*end == ' ' || *end == '\t') ++end;
  if (!converted || *end != '\0') throw IoError(msg(where(), ": '", field, "' is not a number"));
  if (errno == ERANGE && std::isinf(v))
    throw IoError(msg(where(), ": ", field, " is outside float64's range"));
  return v;  // an underflow (ERANGE with a tiny v) keeps the rounded value
}
}  // namespace

CSVDataset::CSVDataset(const std::string& path, CSVOptions o) {
  std::ifstream in(path);
  if (!in) throw IoError(msg("CSVDataset: ", path, ": cannot open"));
  std::vector<float> features, targets;
  std::vector<std::int64_t> labels;
  std::string line;
  std::size_t columns = 0, line_no = 0, rows = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line_no == 1 && o.header) continue;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines
    const std::vector<std::string> fields = split(line, o.delimiter);
    if (columns == 0) {
      columns = fields.size();
      if (columns < 2)
        throw IoError(msg("CSVDataset: ", path, ": line ", line_no, " has ", columns,
                          " column; need features and a target"));
    }
    if (fields.size() != columns)
      throw IoError(msg("CSVDataset: ", path, ": line ", line_no, " has ", fields.size(),
                        " columns, earlier lines have ", columns));
    const auto label = static_cast<std::size_t>(o.label_column < 0 ? int(columns) + o.label_column
                                                                   : o.label_column);
    if (label >= columns)
      throw ValueError(
          msg("CSVDataset: label_column ", o.label_column, " is outside ", columns, " columns"));
    for (std::size_t c = 0; c < columns; ++c) {
      auto where = [&] {
        return msg("CSVDataset: ", path, ": line ", line_no, ", column ", c + 1);
      };
      const double v = parse_number(fields[c], where);
      if (std::isnan(v) && !o.allow_nan)
        throw IoError(msg(where(), ": '", fields[c], "' is NaN; set allow_nan to keep NaN values"));
      if (c == label && o.classification) {
        // Class labels become int64 indices: integral, in range, not negative. A malformed file
        // is an IoError, whatever the check that caught it.
        std::int64_t k;
        try {
          k = checked_int64(v, msg(where(), ": class label"));
        } catch (const ValueError& e) {
          throw IoError(e.what());
        }
        if (k < 0) throw IoError(msg(where(), ": class label ", fields[c], " is negative"));
        labels.push_back(k);
        continue;
      }
      if (std::isfinite(v) && std::abs(v) > std::numeric_limits<float>::max())
        throw IoError(msg(where(), ": ", fields[c], " is outside float32's range"));
      (c == label ? targets : features).push_back(static_cast<float>(v));
    }
    ++rows;
  }
  if (rows == 0) throw IoError(msg("CSVDataset: ", path, ": no data rows"));
  const auto n = static_cast<std::int64_t>(rows), f = static_cast<std::int64_t>(columns - 1);
  Tensor x = from_vector(features, {n, f});
  set(x, o.classification ? from_vector(labels) : from_vector(targets, {n, 1}));
}

}  // namespace tapegrad::data
