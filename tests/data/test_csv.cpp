// CSV datasets: values, and every malformed field named by file, line and column.
#include <fstream>

#include "../core/helpers.h"

namespace data = tg::data;

TEST_CASE("csv: features and targets, with errors naming line and column") {
  TempDir dir;
  std::ofstream(dir.file("ok.csv")) << "a,b,label\n1,2,0\n3.5,-4,2\n\n5,6e1,1\n";
  data::CSVDataset ds(dir.file("ok.csv"));
  CHECK(ds.size() == 3);
  check_values(ds.inputs(), {1, 2, 3.5, -4, 5, 60});
  CHECK(ds.targets().to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 2, 1});
  data::CSVDataset reg(dir.file("ok.csv"), {.label_column = 0, .classification = false});
  check_values(reg.targets(), {1, 3.5, 5});
  std::ofstream(dir.file("bad.csv")) << "a,b,label\n1,2,0\n3,x,1\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("bad.csv")),
                       doctest::Contains("bad.csv: line 3, column 2: 'x' is not a number"),
                       tg::IoError);
  std::ofstream(dir.file("ragged.csv")) << "1,2,0\n3,1\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("ragged.csv"), {.header = false}),
                       doctest::Contains("line 2 has 2 columns, earlier lines have 3"),
                       tg::IoError);
  std::ofstream(dir.file("label.csv")) << "1,2,0.5\n";
  CHECK_THROWS_WITH_AS(
      data::CSVDataset(dir.file("label.csv"), {.header = false}),
      doctest::Contains("label.csv: line 1, column 3: class label: 0.5 is not an integer"),
      tg::IoError);
}

TEST_CASE("csv: a blank field is not a number") {
  TempDir dir;
  std::ofstream(dir.file("blank.csv")) << "1,2,0\n3, ,1\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("blank.csv"), {.header = false}),
                       doctest::Contains("blank.csv: line 2, column 2: ' ' is not a number"),
                       tg::IoError);
  std::ofstream(dir.file("empty.csv")) << "1,,0\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("empty.csv"), {.header = false}),
                       doctest::Contains("empty.csv: line 1, column 2: '' is not a number"),
                       tg::IoError);
}

TEST_CASE("csv: NaN features are refused unless allowed") {
  TempDir dir;
  std::ofstream(dir.file("nan.csv")) << "1,2,0\n3,nan,1\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("nan.csv"), {.header = false}),
                       doctest::Contains("nan.csv: line 2, column 2: 'nan' is NaN; set allow_nan"),
                       tg::IoError);
  data::CSVDataset ok(dir.file("nan.csv"), {.header = false, .allow_nan = true});
  CHECK(std::isnan(ok.inputs().at({1, 1})));
}

TEST_CASE("csv: class labels that are not int64 integers name the line and the value") {
  TempDir dir;
  for (const char* label : {"inf", "-inf", "nan", "7e57", "1e300", "9223372036854775808"}) {
    INFO(label);
    std::ofstream(dir.file("l.csv"), std::ios::trunc) << "1,2," << label << "\n";
    CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("l.csv"), {.header = false, .allow_nan = true}),
                         doctest::Contains("l.csv: line 1, column 3: class label: "), tg::IoError);
  }
  std::ofstream(dir.file("neg.csv")) << "1,2,-1\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("neg.csv"), {.header = false}),
                       doctest::Contains("line 1, column 3: class label -1 is negative"),
                       tg::IoError);
  std::ofstream(dir.file("big.csv")) << "1,2,9007199254740992\n";  // 2^53: integral, in range
  data::CSVDataset big(dir.file("big.csv"), {.header = false});
  CHECK(big.targets().to_vector<std::int64_t>() == std::vector<std::int64_t>{9007199254740992});
}

TEST_CASE("csv: values outside float32 or float64 are refused") {
  TempDir dir;
  std::ofstream(dir.file("f.csv")) << "1e39,2,0\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("f.csv"), {.header = false}),
                       doctest::Contains("line 1, column 1: 1e39 is outside float32's range"),
                       tg::IoError);
  std::ofstream(dir.file("d.csv")) << "1e400,2,0\n";
  CHECK_THROWS_WITH_AS(data::CSVDataset(dir.file("d.csv"), {.header = false}),
                       doctest::Contains("line 1, column 1: 1e400 is outside float64's range"),
                       tg::IoError);
}
