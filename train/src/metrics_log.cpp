// MetricsLog's files are plain stdio streams: records are formatted by hand (shortest
// round-trip numbers) for CSV and by nlohmann::json for JSON Lines, and read back the same way.
#include "tapegrad/train/metrics_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "log_csv.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::train {
namespace {
using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

// Shortest text that reads back as the same double; nan/inf spelled as Python writes them.
std::string number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

double parse_number(const std::string& text, const std::string& path, std::int64_t line) {
  if (text.empty() || text == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-inf") return -std::numeric_limits<double>::infinity();
  double v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size())
    throw IoError(msg("read_log: ", path, ": line ", line, ": \"", text, "\" is not a number"));
  return v;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  for (;;) {
    const auto end = line.find(sep, start);
    parts.push_back(line.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// A file's whole text.
std::string read_text(const std::string& path, const char* op = "read_log") {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(msg(op, ": cannot open ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The whole lines of a JSON Lines text: a last line without its newline (a crash mid-write) is
// left out.
std::vector<std::string> whole_lines(const std::string& text) {
  std::vector<std::string> lines = split(text.substr(0, text.rfind('\n') + 1), '\n');
  lines.pop_back();  // after the last newline
  return lines;
}

// A CSV log's columns: its first record that is not a comment (none yet: empty).
std::vector<std::string> csv_header(const CsvRecords& text) {
  for (const CsvRecord& r : text.records)
    if (!r.comment) return r.fields;
  return {};
}

bool is_csv(const std::string& path) { return fs::path(path).extension() == ".csv"; }
}  // namespace

struct MetricsLog::File {
  std::string path;
  std::FILE* f = nullptr;
  bool csv = false;
  std::vector<std::string> columns;  // CSV: empty until the header is written or read
  bool config_pending = false;       // the config is written before the first record
  bool resumed = false;
  ~File() {
    if (f) std::fclose(f);
  }
};

MetricsLog::MetricsLog(MetricsLogOptions o) : options_(std::move(o)) {
  for (const std::string* path : {&options_.csv, &options_.steps_csv})
    if (is_csv(*path))
      for (const auto& [k, v] : options_.config) check_config_entry(*path, k, v);
  auto open = [&](const std::string& path) -> std::unique_ptr<File> {
    if (path.empty()) return nullptr;
    auto file = std::make_unique<File>();
    file->path = path;
    file->csv = is_csv(path);
    std::error_code ec;
    const bool existing = options_.append && fs::file_size(path, ec) > 0 && !ec;
    if (existing) {
      // Drop a last record a crash cut short, then find the CSV columns.
      const std::string text = read_text(path, "MetricsLog");
      std::size_t keep = text.rfind('\n') + 1;  // npos + 1 is 0: no whole line
      if (file->csv) {
        const CsvRecords records = parse_csv(text);
        keep = records.end;
        file->columns = csv_header(records);
      }
      fs::resize_file(path, keep, ec);
      if (ec)
        throw IoError(msg("MetricsLog: ", path, ": cannot cut a partial line: ", ec.message()));
    }
    file->f = std::fopen(path.c_str(), existing ? "ab" : "wb");
    if (!file->f) throw IoError(msg("MetricsLog: cannot open ", path, ": ", std::strerror(errno)));
    file->config_pending = !existing || !file->csv;
    file->resumed = existing;
    return file;
  };
  csv_ = open(options_.csv);
  steps_csv_ = open(options_.steps_csv);
  jsonl_ = open(options_.jsonl);
}

MetricsLog::~MetricsLog() = default;

void MetricsLog::write(File& file, const char* type, const Record& r) {
  std::string out;
  if (file.config_pending) {
    file.config_pending = false;
    if (file.csv) {
      out += "# tapegrad MetricsLog\n";
      for (const auto& [k, v] : options_.config) out += msg("# ", k, ": ", v, "\n");
    } else {
      Json j = {{"type", "config"}};
      if (file.resumed) j["resumed"] = true;
      for (const auto& [k, v] : options_.config) j[k] = v;
      out += j.dump() + "\n";
    }
  }
  if (file.csv) {
    if (file.columns.empty()) {
      for (const auto& item : r) file.columns.push_back(item.first);
      for (std::size_t i = 0; i < file.columns.size(); ++i) {
        if (i) out += ',';
        out += csv_quote(file.columns[i]);
      }
      out += "\n";
    }
    for (const auto& item : r)
      if (std::find(file.columns.begin(), file.columns.end(), item.first) == file.columns.end())
        throw ValueError(msg("MetricsLog: ", file.path, ": \"", item.first,
                             "\" is not one of the file's columns (", r.str(), ")"));
    for (std::size_t i = 0; i < file.columns.size(); ++i) {
      const double* v = r.find(file.columns[i]);
      if (i) out += ',';
      if (v) out += number(*v);
    }
    out += "\n";
  } else {
    Json j = {{"type", type}};
    for (const auto& [k, v] : r) j[k] = v;  // NaN and Inf become null, as JSON has neither
    out += j.dump() + "\n";
  }
  if (std::fwrite(out.data(), 1, out.size(), file.f) != out.size())
    throw IoError(msg("MetricsLog: ", file.path, ": write failed: ", std::strerror(errno)));
}

void MetricsLog::log_step(const Record& r) {
  if (steps_csv_) write(*steps_csv_, "step", r);
  if (jsonl_) write(*jsonl_, "step", r);
}

void MetricsLog::log_epoch(const Record& r) {
  if (csv_) write(*csv_, "epoch", r);
  if (jsonl_) write(*jsonl_, "epoch", r);
  flush();
}

Signal MetricsLog::on_batch_end(const BatchEnd& b) {
  if (logs_steps())  // no step records built when none are written
    log_step({{"epoch", static_cast<double>(b.epoch)},
              {"step", static_cast<double>(b.step)},
              {"loss", b.loss},
              {"lr", opt_ ? opt_->lr() : std::numeric_limits<double>::quiet_NaN()}});
  return Signal::Continue;
}

Signal MetricsLog::on_epoch_end(const EpochEnd& e) {
  log_epoch(e.record);
  return Signal::Continue;
}

void MetricsLog::flush() {
  for (File* f : {csv_.get(), steps_csv_.get(), jsonl_.get()})
    if (f && std::fflush(f->f) != 0)
      throw IoError(msg("MetricsLog: ", f->path, ": write failed: ", std::strerror(errno)));
}

LogPosition MetricsLog::position() {
  flush();
  auto size = [](const std::unique_ptr<File>& f) -> std::int64_t {
    struct stat st {};
    if (!f) return 0;
    if (::fstat(::fileno(f->f), &st) != 0)
      throw IoError(msg("MetricsLog: ", f->path, ": ", std::strerror(errno)));
    return static_cast<std::int64_t>(st.st_size);
  };
  return {size(csv_), size(steps_csv_), size(jsonl_)};
}

void MetricsLog::check_position(const LogPosition& p) const {
  auto check = [](const std::unique_ptr<File>& f, std::int64_t bytes) {
    if (bytes < 0) throw ValueError(msg("MetricsLog: log position ", bytes, " is negative"));
    if (!f || bytes == 0) return;
    std::fflush(f->f);
    std::error_code ec;
    const auto size = fs::file_size(f->path, ec);
    if (ec || static_cast<std::int64_t>(size) < bytes)
      throw IoError(msg("MetricsLog: ", f->path, " has ", ec ? 0 : size,
                        " bytes but the checkpoint's log position is ", bytes,
                        ": it is not the log of this run"));
  };
  check(csv_, p.csv);
  check(steps_csv_, p.steps_csv);
  check(jsonl_, p.jsonl);
}

void MetricsLog::truncate(const LogPosition& p) {
  check_position(p);
  auto cut = [&](std::unique_ptr<File>& f, std::int64_t bytes) {
    if (!f) return;
    std::fflush(f->f);
    if (::ftruncate(::fileno(f->f), bytes) != 0)
      throw IoError(msg("MetricsLog: ", f->path, ": cannot truncate: ", std::strerror(errno)));
    std::fseek(f->f, 0, SEEK_END);
    if (bytes == 0) {
      f->columns.clear();
      f->config_pending = true;
      f->resumed = false;
    } else if (f->csv && f->columns.empty()) {
      f->columns = csv_header(parse_csv(read_text(f->path)));  // the header is in the part kept
    }
  };
  cut(csv_, p.csv);
  cut(steps_csv_, p.steps_csv);
  cut(jsonl_, p.jsonl);
}

LogContents read_log(const std::string& path, LogKind kind) {
  LogContents c;
  const std::string text = read_text(path);
  if (is_csv(path)) {
    std::vector<std::string> columns;
    for (const CsvRecord& rec : parse_csv(text).records) {
      if (rec.comment) {
        if (rec.fields.size() == 2) c.config.emplace_back(rec.fields[0], rec.fields[1]);
        continue;
      }
      if (columns.empty()) {
        columns = rec.fields;
        continue;
      }
      if (rec.fields.size() != columns.size())
        throw IoError(msg("read_log: ", path, ": line ", rec.line, " has ", rec.fields.size(),
                          " fields, the header ", columns.size()));
      Record r;
      for (std::size_t i = 0; i < rec.fields.size(); ++i)
        r.set(columns[i], parse_number(rec.fields[i], path, rec.line));
      (kind == LogKind::Epochs ? c.epochs : c.steps).push_back(std::move(r));
    }
    return c;
  }
  const std::vector<std::string> lines = whole_lines(text);
  std::int64_t n = 0;
  for (const std::string& line : lines) {
    ++n;
    if (line.empty()) continue;
    Json j;
    try {
      j = Json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw IoError(msg("read_log: ", path, ": line ", n, ": not JSON: ", e.what()));
    }
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
      throw IoError(msg("read_log: ", path, ": line ", n, ": a record needs a \"type\""));
    const std::string type = j["type"].get<std::string>();
    if (type == "config") {
      if (!c.config.empty()) continue;  // a resumed run's config repeats the first
      for (const auto& [k, v] : j.items())
        if (k != "type" && k != "resumed")
          c.config.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
      continue;
    }
    if (type != "epoch" && type != "step")
      throw IoError(msg("read_log: ", path, ": line ", n, ": unknown record type \"", type, "\""));
    Record r;
    for (const auto& [k, v] : j.items()) {
      if (k == "type") continue;
      if (v.is_null())
        r.set(k, std::numeric_limits<double>::quiet_NaN());
      else if (v.is_number())
        r.set(k, v.get<double>());
      else
        throw IoError(msg("read_log: ", path, ": line ", n, ": \"", k, "\" is not a number"));
    }
    (type == "epoch" ? c.epochs : c.steps).push_back(std::move(r));
  }
  return c;
}

}  // namespace tapegrad::train
