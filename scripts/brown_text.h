// The Brown corpus's tagged text (NLTK's form: `The/at jury/nn said/vbd ``/`` ...`) as plain
// English: tags stripped, the words re-joined as written (no space before closing punctuation,
// none after an opening quote or bracket, `` and '' as "). brown_to_text converts the npm
// package's files with it; tests/fuzz/fuzz_brown.cpp feeds it arbitrary bytes.
#pragma once
#include <algorithm>
#include <istream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>

namespace brown {

/// The word of a `word/tag` token; `` and '' become ".
inline std::string word_of(const std::string& token, const std::string& name) {
  const std::size_t slash = token.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == token.size())
    throw std::runtime_error(name + ": token '" + token + "' is not word/tag");
  const std::string w = token.substr(0, slash);
  return w == "``" || w == "''" ? "\"" : w;
}

/// Whether w is written right after the previous word.
inline bool closes(const std::string& w) {
  static const char* const kClosing[] = {",", ".", ";", ":", "!", "?", ")", "]", "'", "--"};
  return std::find(std::begin(kClosing), std::end(kClosing), w) != std::end(kClosing);
}

/// One file's tagged text as plain text, each paragraph (a run of non-blank lines) one line;
/// std::runtime_error naming `name` for a token that is not word/tag.
inline std::string convert(std::istream& in, const std::string& name) {
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
      const std::string w = word_of(token, name);
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

}  // namespace brown
