// Writes the seed corpora with the project's own writers (write_idx, Archive, Module::save,
// save_checkpoint), so seeds follow the formats as they are. Usage: make_seeds OUT_DIR; makes
// OUT_DIR/<target>/ for every fuzz target. `make_seeds --regressions OUT_DIR` writes the inputs
// of the defects fixed in issue #10 instead (committed under tests/fuzz/regressions/).
#include <cmath>
#include <functional>
#include <string>

#include "../file_bytes.h"
#include "fuzz_common.h"
#include "io/zip.h"

namespace fs = std::filesystem;

namespace {
tg::data::IdxData images(std::int64_t n) {
  tg::data::IdxData d{{n, 2, 3}, {}};
  for (std::int64_t i = 0; i < n * 6; ++i) d.values.push_back(static_cast<std::uint8_t>(i * 37));
  return d;
}
tg::data::IdxData labels(std::int64_t n) {
  tg::data::IdxData d{{n}, {}};
  for (std::int64_t i = 0; i < n; ++i) d.values.push_back(static_cast<std::uint8_t>(i % 10));
  return d;
}
}  // namespace

// A checkpoint of fuzz_checkpoint's run with one entry corrupted in a way the format's checks
// cannot see (the checksum is recomputed): each was accepted until issue #10.
void regressions(const fs::path& out) {
  for (const char* t : {"idx", "mnist", "checkpoint", "csv"}) fs::create_directories(out / t);
  fuzz::Run run(2);
  const fs::path good = out / "checkpoint" / "good.tg";
  tg::train::save_checkpoint(good.string(), run.net, *run.opt, run.sched.get(),
                             {.epoch = 2, .step = 8});
  auto f64 = [](double v) { return tg::scalar_tensor(v, {.dtype = tg::kFloat64}); };
  const std::pair<const char*, std::function<void(tg::Archive&)>> corruptions[] = {
      {"rng_garbage.tg", [](tg::Archive& ar) { ar.put_text("progress.rng", "1 2 3 garbage"); }},
      {"rng_tensor.tg", [&](tg::Archive& ar) { ar.put("progress.rng", f64(5)); }},
      {"epoch_two_values.tg",
       [](tg::Archive& ar) {
         ar.put("progress.epoch", tg::tensor({1, 2}));
       }},
      {"epoch_1e300.tg", [&](tg::Archive& ar) { ar.put("progress.epoch", f64(1e300)); }},
      {"step_count_1e300.tg",
       [&](tg::Archive& ar) { ar.put("optim.state.0.weight.step", f64(1e300)); }},
      {"sched_epoch_nan.tg", [&](tg::Archive& ar) { ar.put("sched.0.last_epoch", f64(NAN)); }},
      {"initial_lr_text.tg", [](tg::Archive& ar) { ar.put_text("optim.group.0.initial_lr", "x"); }},
  };
  for (const auto& [name, corrupt] : corruptions) {
    tg::Archive ar = tg::Archive::load(good.string());
    corrupt(ar);
    ar.save((out / "checkpoint" / name).string());
  }
  fs::remove(good);
  // IDX and MNIST: a header of (0, 2^32-1, 2^32-1), whose rows * cols overflows int64.
  const std::vector<char> header = {0,      0,      8,      3,      0,      0,      0,      0,
                                    '\xff', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff', '\xff'};
  write_bytes((out / "idx" / "zero_by_huge").string(), header);
  std::vector<char> mnist = {static_cast<char>(header.size()), 0};
  mnist.insert(mnist.end(), header.begin(), header.end());
  mnist.insert(mnist.end(), {0, 0, 8, 1, 0, 0, 0, 0});  // no labels
  write_bytes((out / "mnist" / "zero_by_huge").string(), mnist);
  // CSV (fuzz_csv's flag byte 0x74: no header, ',', classification, last column is the label).
  const std::pair<const char*, std::string> csvs[] = {
      {"blank_field", "1,2,0\n3, ,1\n"}, {"nan_feature", "1,nan,0\n"},
      {"label_inf", "1,2,inf\n"},        {"label_7e57", "1,2,7e57\n"},
      {"label_1e300", "1,2,1e300\n"},    {"label_2_63", "1,2,9223372036854775808\n"},
  };
  for (const auto& [name, text] : csvs) {
    std::vector<char> seed{0x74};
    seed.insert(seed.end(), text.begin(), text.end());
    write_bytes((out / "csv" / name).string(), seed);
  }
}

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--regressions") {
    regressions(argv[2]);
    return 0;
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR | make_seeds --regressions OUT_DIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* t : {"idx", "mnist", "archive", "module_load", "checkpoint", "csv", "log", "npy",
                        "safetensors", "torch", "pickle", "brown"})
    fs::create_directories(out / t);

  // IDX: images and labels, raw and gzip.
  for (bool gz : {false, true}) {
    tg::data::write_idx((out / "idx" / (gz ? "images.gz" : "images")).string(), images(3), gz);
    tg::data::write_idx((out / "idx" / (gz ? "labels.gz" : "labels")).string(), labels(3), gz);
  }
  // MNIST: two bytes giving the image file's length, the image file, the label file.
  for (bool gz : {false, true}) {
    const fs::path tmp = out / "mnist" / "tmp";
    tg::data::write_idx(tmp.string(), images(4), gz);
    std::vector<char> img = bytes_of(tmp.string());
    tg::data::write_idx(tmp.string(), labels(4), gz);
    std::vector<char> lab = bytes_of(tmp.string());
    fs::remove(tmp);
    std::vector<char> seed = {static_cast<char>(img.size() & 0xFF),
                              static_cast<char>(img.size() >> 8)};
    seed.insert(seed.end(), img.begin(), img.end());
    seed.insert(seed.end(), lab.begin(), lab.end());
    write_bytes((out / "mnist" / (gz ? "gzip" : "raw")).string(), seed);
  }
  // Archive: every dtype, a 0-d and an empty tensor, a text.
  tg::Archive ar;
  ar.put("f32", tg::tensor({1.5, -2, 3, 4}, {2, 2}));
  ar.put("f64", tg::tensor({0.25}, {1}, {.dtype = tg::kFloat64}));
  ar.put("i64", tg::tensor({7, -8, 9}, {}, {.dtype = tg::kInt64}));
  ar.put("scalar", tg::scalar_tensor(2.5));
  ar.put("empty", tg::zeros({0, 3}));
  ar.put_text("note", "a text entry");
  ar.save((out / "archive" / "mixed.tg").string());
  // Module files for fuzz_module_load's model, from two initialisations.
  for (std::uint64_t seed : {1, 2})
    fuzz::small_model(seed).save(
        (out / "module_load" / ("model" + std::to_string(seed) + ".tg")).string());
  // Whole-run checkpoints of fuzz_checkpoint's run, after one and after three steps.
  for (int steps : {1, 3}) {
    fuzz::Run run(steps);
    tg::train::save_checkpoint(
        (out / "checkpoint" / ("run" + std::to_string(steps) + ".tg")).string(), run.net, *run.opt,
        run.sched.get(), {.epoch = steps, .step = 4 * steps});
  }
  // CSV: a flag byte (fuzz_csv's options), then the text.
  const std::pair<char, std::string> csvs[] = {
      {0x75, "a,b,label\n1,2,0\n3.5,-4,2\n\n5,6e1,1\n"},  // header, classification, last column
      {0x70, "0.5,1\n-1e-3,2.25\n"},                      // regression
      {0x7F, "x;y;z\n1;nan;0\n2; 3 ;1\n"},                // ';', NaN allowed
      {static_cast<char>(0x84), "7,1,2\n0,3,4\n"},        // label in column 0
  };
  int i = 0;
  for (const auto& [flags, text] : csvs) {
    std::vector<char> seed{flags};
    seed.insert(seed.end(), text.begin(), text.end());
    write_bytes((out / "csv" / ("seed" + std::to_string(i++))).string(), seed);
  }
  // The Brown corpus's tagged form (brown_to_text's input): two paragraphs, quotes, brackets.
  const std::string brown =
      "\n\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd ``/`` no/at\n"
      "\tevidence/nn ''/'' (/( any/dti )/) was/bedz found/vbn ./.\n\n\n"
      "\tIt/pps said/vbd :/: 1/2/cd ,/, --/-- ;/. ?/. ''/''\n";
  write_bytes((out / "brown" / "seed0").string(), std::vector<char>(brown.begin(), brown.end()));
  // Logs: a byte (even: CSV, odd: JSON Lines), then a file MetricsLog wrote.
  for (const char* ext : {".csv", ".jsonl"}) {
    const fs::path tmp = out / "log" / (std::string("tmp") + ext);
    {
      const bool is_csv = std::string(ext) == ".csv";
      tg::train::MetricsLog log({.csv = is_csv ? tmp.string() : "",
                                 .jsonl = is_csv ? "" : tmp.string(),
                                 .config = {{"optimizer", "Adam"}}});
      log.log_step({{"epoch", 1}, {"step", 1}, {"loss", 0.5}});
      log.log_epoch({{"epoch", 1}, {"train_loss", 0.25}, {"val_accuracy", 0.875}});
      log.log_epoch({{"epoch", 2}, {"train_loss", 1.0 / 3}});
    }
    std::vector<char> seed = {static_cast<char>(std::string(ext) == ".csv" ? 0 : 1)};
    const std::vector<char> text = bytes_of(tmp.string());
    seed.insert(seed.end(), text.begin(), text.end());
    fs::remove(tmp);
    write_bytes((out / "log" / (std::string("seed") + ext)).string(), seed);
  }
  // npy, npz and safetensors: the project's writers, and the files NumPy and the format's
  // layout wrote (tests/reference/io).
  const tg::io::TensorDict tensors = {{"w", tg::tensor({1.5, -2, 3, 4}, {2, 2})},
                                      {"b", tg::tensor({0.25}, {1}, {.dtype = tg::kFloat64})},
                                      {"n", tg::tensor({7, -8, 9}, {}, {.dtype = tg::kInt64})},
                                      {"scalar", tg::scalar_tensor(2.5)},
                                      {"empty", tg::zeros({0, 3})}};
  tg::io::save_npy(tensors[0].second, (out / "npy" / "w.npy").string());
  tg::io::save_npz(tensors, (out / "npy" / "stored.npz").string());
  tg::io::save_npz(tensors, (out / "npy" / "deflated.npz").string(), true);
  tg::io::save_safetensors(tensors, (out / "safetensors" / "mixed.safetensors").string(),
                           {{"format", "pt"}});
  // torch.save files: a state dict and a checkpoint of save_torch's, and PyTorch's own; the
  // pickle target's seeds are their data.pkl records.
  tg::io::save_torch(tensors, (out / "torch" / "tapegrad_state_dict.pt").string());
  tg::io::TorchValue ckpt = tg::io::TorchValue::dict();
  ckpt.set("model", tg::io::TorchValue::from_state_dict(tensors));
  ckpt.set("epoch", 3);
  ckpt.set("betas", tg::io::TorchValue::tuple({0.9, 0.999}));
  ckpt.set("flags", tg::io::TorchValue::list({true, tg::io::TorchValue()}));
  tg::io::save_torch(ckpt, (out / "torch" / "tapegrad_checkpoint.pt").string());
  for (const auto& file : fs::directory_iterator(TAPEGRAD_IO_FIXTURES)) {
    const std::string ext = file.path().extension().string();
    const char* target = ext == ".npy" || ext == ".npz" ? "npy"
                         : ext == ".safetensors"        ? "safetensors"
                         : ext == ".pt"                 ? "torch"
                                                        : nullptr;
    if (target) fs::copy_file(file.path(), out / target / file.path().filename());
  }
  for (const auto& file : fs::directory_iterator(out / "torch")) {
    const std::vector<char> bytes = bytes_of(file.path().string());
    try {
      tapegrad::detail::ZipReader zip(bytes, file.path().string());
      for (std::int64_t i = 0; i < zip.count(); ++i)
        if (zip.name(i).ends_with("/data.pkl"))
          write_bytes((out / "pickle" / file.path().stem()).string() + ".pkl",
                      zip.read(i, zip.size(i)));
    } catch (const tg::IoError&) {  // the legacy file is not a zip archive
    }
  }
  return 0;
}
