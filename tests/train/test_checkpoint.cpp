// Whole-run checkpoints (save_checkpoint / load_checkpoint): a resumed run continues
// bit-identically, and a mismatched, corrupt or truncated file is named and changes nothing.
#include <functional>
#include <map>
#include <random>

#include "../optim/run.h"

namespace optim = tg::optim;
namespace nn = tg::nn;
namespace train = tg::train;
using optim_run::Run;
using optim_run::temp_file;
using optim_run::without;

namespace {
// Everything a load may change: model, optimizer and schedule state, and the global generator.
struct Snapshot {
  std::map<std::string, std::vector<double>> values;
  std::mt19937_64 rng;
  bool operator==(const Snapshot&) const = default;
};
Snapshot snapshot(const Run& r) {
  tg::Archive ar;
  nn::save_state(r.net, ar);
  r.opt->save_state(ar);
  r.sched->save_state(ar);
  Snapshot s{{}, tg::default_generator().engine()};
  for (const std::string& name : ar.names())
    if (ar.is_tensor(name)) s.values[name] = ar.get(name).to_vector<double>();
  return s;
}
}  // namespace

TEST_CASE("resume: a run resumed from a checkpoint continues bit-identically") {
  const std::string path = temp_file("resume.tg");
  tg::manual_seed(100);
  Run a(1);
  a.train(5);
  train::save_checkpoint(path, a.net, *a.opt, a.sched.get(), {.epoch = 2, .step = 5});
  a.train(7);

  tg::manual_seed(999);  // a different generator state, to be restored from the file
  Run b(2);
  const train::Progress p = train::load_checkpoint(path, b.net, *b.opt, b.sched.get());
  std::filesystem::remove(path);
  CHECK(p.epoch == 2);
  CHECK(p.step == 5);
  b.train(7);
  CHECK(a.params() == b.params());  // exact equality, not approximate
  CHECK(a.opt->lr(0) == b.opt->lr(0));
  CHECK(a.opt->lr(1) == b.opt->lr(1));
  CHECK(a.sched->last_epoch() == b.sched->last_epoch());
  CHECK(a.opt->state(0).step == 12);
  CHECK(b.opt->state(0).step == 12);
}

TEST_CASE("resume: a mismatched checkpoint changes nothing") {
  const std::string path = temp_file("mismatch.tg");
  Run a(1);
  a.train(3);
  train::save_checkpoint(path, a.net, *a.opt, a.sched.get());
  Run c(3);
  optim::SGD other(c.net.parameters(), {.lr = 0.1});
  const auto before = c.params();
  CHECK_THROWS_WITH_AS(train::load_checkpoint(path, c.net, other, nullptr),
                       doctest::Contains("SGD: cannot load state: the checkpoint holds Adam state"),
                       tg::ValueError);
  CHECK(c.params() == before);
  std::filesystem::remove(path);
}

TEST_CASE("load_checkpoint: a bad entry anywhere is named and changes nothing") {
  TempDir dir;
  const std::string good = dir.file("good.tg"), bad = dir.file("bad.tg");
  Run a(1);
  a.train(3);
  train::save_checkpoint(good, a.net, *a.opt, a.sched.get(), {.epoch = 3, .step = 12});
  struct Corruption {
    const char* what;
    std::function<void(tg::Archive&)> apply;
    const char* message;
  };
  auto f64 = [](double v) { return tg::scalar_tensor(v, {.dtype = tg::kFloat64}); };
  const Corruption cases[] = {
      {"garbage RNG text",
       [](tg::Archive& ar) { ar.put_text("progress.rng", "12 34 not a state"); },
       "Generator::set_state: not a generator state"},
      {"RNG stored as a tensor", [&](tg::Archive& ar) { ar.put("progress.rng", f64(1)); },
       "entry 'progress.rng' is a tensor, not a text"},
      {"epoch with two values",
       [](tg::Archive& ar) {
         ar.put("progress.epoch", tg::tensor({1, 2}));
       },
       "entry 'progress.epoch' must hold one value, holds 2"},
      {"epoch of 1e300", [&](tg::Archive& ar) { ar.put("progress.epoch", f64(1e300)); },
       "entry 'progress.epoch': 1e+300 is outside int64's range"},
      {"epoch of 2.5", [&](tg::Archive& ar) { ar.put("progress.epoch", f64(2.5)); },
       "entry 'progress.epoch': 2.5 is not an integer"},
      {"negative step", [&](tg::Archive& ar) { ar.put("progress.step", f64(-4)); },
       "progress is negative"},
      {"optimizer step of 1e300",
       [&](tg::Archive& ar) { ar.put("optim.state.0.weight.step", f64(1e300)); },
       "entry 'optim.state.0.weight.step': 1e+300 is outside int64's range"},
      {"missing initial_lr", [](tg::Archive& ar) { ar = without(ar, "optim.group.0.initial_lr"); },
       "no initial learning rate for group 0"},
      {"lr with two values",
       [](tg::Archive& ar) {
         ar.put("optim.group.1.lr", tg::tensor({0.1, 0.2}));
       },
       "entry 'optim.group.1.lr' must hold one value"},
      {"negative lr", [&](tg::Archive& ar) { ar.put("optim.group.1.lr", f64(-0.1)); },
       "a learning rate must be >= 0"},
      {"schedule epoch of NaN", [&](tg::Archive& ar) { ar.put("sched.1.last_epoch", f64(NAN)); },
       "entry 'sched.1.last_epoch': nan is not an integer"},
      {"schedule with a wrong group count",
       [](tg::Archive& ar) { ar.put("sched.0.last_lr", tg::tensor({0.1})); },
       "the checkpoint has 1 groups, the optimizer 2"},
      {"negative base learning rate",
       [](tg::Archive& ar) {
         ar.put("sched.base_lrs", tg::tensor({0.01, -1}, {}, {.dtype = tg::kFloat64}));
       },
       "entry 'sched.base_lrs' holds the learning rate -1"},
      {"parameter of the wrong shape",
       [](tg::Archive& ar) { ar.put("model.3.bias", tg::zeros({2})); },
       "parameter '3.bias' is [2] float32 in the checkpoint but [1] float32"},
  };
  Run b(2);
  b.train(2);
  tg::manual_seed(99);
  const auto before = snapshot(b);
  for (const Corruption& c : cases) {
    INFO(c.what);
    tg::Archive ar = tg::Archive::load(good);
    c.apply(ar);
    ar.save(bad);
    CHECK_THROWS_WITH_AS(train::load_checkpoint(bad, b.net, *b.opt, b.sched.get()),
                         doctest::Contains(c.message), tg::ValueError);
    CHECK_THROWS_WITH_AS(train::load_checkpoint(bad, b.net, *b.opt, b.sched.get()),
                         doctest::Contains("bad.tg"), tg::ValueError);
    CHECK(snapshot(b) == before);
  }
  const train::Progress p = train::load_checkpoint(good, b.net, *b.opt, b.sched.get());
  CHECK(p.epoch == 3);
  CHECK(p.step == 12);
  CHECK(snapshot(b) == snapshot(a));
}

TEST_CASE(
    "load_checkpoint: every truncation and every flipped bit is refused and changes nothing") {
  TempDir dir;
  Run a(1);
  a.train(2);
  train::save_checkpoint(dir.file("run.tg"), a.net, *a.opt, a.sched.get(), {.epoch = 2, .step = 2});
  Run b(2);
  b.train(1);
  const auto before = snapshot(b);
  const std::string bad = dir.file("bad.tg");
  CHECK(sweep_corruptions(
            bytes_of(dir.file("run.tg")), bad,
            [&] { train::load_checkpoint(bad, b.net, *b.opt, b.sched.get()); },
            [&] { return snapshot(b) == before; }) == 0);
}
