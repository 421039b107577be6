#include "tapegrad/train/record.h"

#include <sstream>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::train {

Record::Record(std::initializer_list<Item> items) {
  for (const auto& [name, value] : items) set(name, value);
}

Record& Record::set(const std::string& name, double value) {
  for (auto& item : items_)
    if (item.first == name) {
      item.second = value;
      return *this;
    }
  items_.emplace_back(name, value);
  return *this;
}

const double* Record::find(const std::string& name) const {
  for (const auto& item : items_)
    if (item.first == name) return &item.second;
  return nullptr;
}

double Record::get(const std::string& name) const {
  if (const double* v = find(name)) return *v;
  std::string present;
  for (const auto& item : items_) present += (present.empty() ? "" : ", ") + item.first;
  throw ValueError(msg("no metric named \"", name,
                       "\" in this record (it has: ", present.empty() ? "nothing" : present, ")"));
}

std::string Record::str() const {
  std::ostringstream os;
  os.precision(6);
  bool first = true;
  for (const auto& [name, value] : items_) {
    os << (first ? "" : ", ") << name << ' ' << value;
    first = false;
  }
  return os.str();
}

}  // namespace tapegrad::train
