// CSV datasets: numeric fields only; every fault names the file, line and column.
#include "tapegrad/data/csv.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "check.h"

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
}  // namespace

CSVDataset::CSVDataset(const std::string& path, CSVOptions o) {
  std::ifstream in(path);
  if (!in) throw IoError(msg("CSVDataset: ", path, ": cannot open"));
  std::vector<float> features;
  std::vector<double> targets;
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
      throw ValueError(msg("CSVDataset: label_column ", o.label_column, " is outside ", columns,
                           " columns"));
    for (std::size_t c = 0; c < columns; ++c) {
      const char* s = fields[c].c_str();
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(s, &end);
      while (end && (*end == ' ' || *end == '\t')) ++end;
      if (end == s || *end != '\0' || errno == ERANGE)
        throw IoError(msg("CSVDataset: ", path, ": line ", line_no, ", column ", c + 1,
                          ": '", fields[c], "' is not a number"));
      if (c == label) {
        if (o.classification && (v < 0 || v != std::floor(v)))
          throw IoError(msg("CSVDataset: ", path, ": line ", line_no, ", column ", c + 1,
                            ": class label ", fields[c], " is not a non-negative integer"));
        targets.push_back(v);
      } else {
        features.push_back(static_cast<float>(v));
      }
    }
    ++rows;
  }
  if (rows == 0) throw IoError(msg("CSVDataset: ", path, ": no data rows"));
  const auto n = static_cast<std::int64_t>(rows), f = static_cast<std::int64_t>(columns - 1);
  Tensor x = from_vector(features, {n, f});
  Tensor y;
  if (o.classification) {
    std::vector<std::int64_t> labels(targets.begin(), targets.end());
    y = from_vector(labels);
  } else {
    y = from_vector(std::vector<float>(targets.begin(), targets.end()), {n, 1});
  }
  set(x, y);
}

}  // namespace tapegrad::data
