// MetricsLog's CSV dialect (log_csv.h): RFC 4180 quoting, '#' comment lines.
#include "log_csv.h"

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::train {

std::string csv_quote(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos &&
      (field.empty() || field[0] != '#'))
    return std::string(field);
  std::string r = "\"";
  for (char c : field) {
    if (c == '"') r += '"';
    r += c;
  }
  return r + '"';
}

void check_config_entry(const std::string& path, const std::string& key, const std::string& value) {
  auto breaks = [](const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; };
  if (breaks(key) || key.find(": ") != std::string::npos)
    throw ValueError(
        msg("MetricsLog: ", path, ": the config key \"", key,
            "\" holds a line break or \": \", which its \"# key: value\" line cannot"));
  if (breaks(value))
    throw ValueError(msg("MetricsLog: ", path, ": the config value of \"", key,
                         "\" holds a line break, which its \"# key: value\" line cannot"));
}

CsvRecords parse_csv(std::string_view text) {
  CsvRecords out;
  std::size_t i = 0;
  std::int64_t line = 1;
  const std::size_t n = text.size();
  while (i < n) {
    CsvRecord r;
    r.line = line;
    bool complete = false;
    if (text[i] == '#') {  // a comment: "# key: value" up to the line break, never quoted
      const std::size_t eol = text.find('\n', i);
      if (eol == std::string_view::npos) break;
      std::string_view body = text.substr(i, eol - i);
      if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
      const std::size_t colon = body.find(": ");
      if (body.size() > 2 && colon != std::string_view::npos)
        r.fields = {std::string(body.substr(2, colon - 2)), std::string(body.substr(colon + 2))};
      r.comment = true;
      i = eol + 1;
      ++line;
      complete = true;
    } else {
      std::string field;
      bool field_start = true;
      while (i < n) {
        const char c = text[i];
        if (c == '"' && field_start) {  // a quoted field, to its closing quote
          bool closed = false;
          for (++i; i < n; ++i) {
            if (text[i] == '"') {
              if (i + 1 < n && text[i + 1] == '"') {
                field += '"';
                ++i;
                continue;
              }
              closed = true;
              ++i;
              break;
            }
            if (text[i] == '\n') ++line;
            field += text[i];
          }
          if (!closed) break;
          field_start = false;
          continue;
        }
        field_start = false;
        ++i;
        if (c == ',') {
          r.fields.push_back(std::move(field));
          field.clear();
          field_start = true;
        } else if (c == '\n') {
          if (!field.empty() && field.back() == '\r') field.pop_back();
          r.fields.push_back(std::move(field));
          ++line;
          complete = true;
          break;
        } else {
          field += c;
        }
      }
    }
    if (!complete) break;
    out.end = i;
    if (!(r.fields.size() == 1 && r.fields[0].empty())) out.records.push_back(std::move(r));
  }
  return out;
}

}  // namespace tapegrad::train
