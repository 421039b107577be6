// read_log and an appending MetricsLog on arbitrary text (the first byte picks CSV or JSON
// Lines): a clean Error, or records; and a log that read cleanly still reads after a record is
// appended to it, with that record last.
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool csv = (data[0] & 1) == 0;
  const std::string path = fuzz::write(csv ? "log.csv" : "log.jsonl", data + 1, size - 1);
  std::size_t before = 0;
  bool read = false;
  try {
    before = tg::train::read_log(path).epochs.size();
    read = true;
  } catch (const tg::Error&) {
  }
  try {
    tg::train::MetricsLog log(csv ? tg::train::MetricsLogOptions{.csv = path, .append = true}
                                  : tg::train::MetricsLogOptions{.jsonl = path, .append = true});
    log.log_epoch({{"epoch", 12345}});
  } catch (const tg::Error&) {
    return 0;  // e.g. the CSV header has no "epoch" column
  }
  if (read) {
    const auto after = tg::train::read_log(path).epochs;
    fuzz::require(after.size() == before + 1, "log: an appended record is read back");
    fuzz::require(after.back().get("epoch") == 12345, "log: the appended record is last");
  }
  return 0;
}
