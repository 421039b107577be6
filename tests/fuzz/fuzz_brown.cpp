// brown_to_text's conversion (scripts/brown_text.h) on arbitrary bytes: a clean runtime_error
// naming the file, or text whose every line is one paragraph of words joined by single spaces.
#include <sstream>
#include <stdexcept>
#include <string>

#include "../../scripts/brown_text.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const std::string out = brown::convert(in, "input");
    fuzz::require(out.empty() || out.back() == '\n', "brown: the text ends with a line break");
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      fuzz::require(!line.empty(), "brown: no empty line");
      fuzz::require(line.front() != ' ' && line.back() != ' ', "brown: no space at a line's ends");
      fuzz::require(line.find("  ") == std::string::npos, "brown: words apart by one space");
    }
  } catch (const std::runtime_error& e) {
    fuzz::require(std::string(e.what()).starts_with("input: token '"),
                  "brown: an error names the file and the token");
  }
  return 0;
}
