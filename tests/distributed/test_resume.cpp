// Resume with another number of ranks. "resume: save" (run by ctest as 2 ranks) trains 4 epochs
// of fit() through DistributedDataParallel uninterrupted, writing its parameters and epoch
// losses as the reference, then trains again with a checkpoint every 3 steps and stops at step 7
// (mid-epoch). "resume: continue" (run by ctest after it, as 2 ranks and as 1) resumes from
// those checkpoints and must end where the uninterrupted run did: bit for bit at 2 ranks, to
// 1e-12 relative at 1 (the same global batches, their gradients summed in another order).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "helpers.h"

namespace fs = std::filesystem;
namespace train = tg::train;

namespace {
constexpr std::int64_t kGlobalBatch = 16, kEpochs = 4, kStopAt = 7;

fs::path work_dir() {
  const char* d = std::getenv("TAPEGRAD_RESUME_DIR");
  return d ? fs::path(d) : fs::temp_directory_path() / "tapegrad-dist-resume";
}

// One training run as the job's ranks see it: rank 1 starts from other weights (the wrapper's
// broadcast replaces them), each rank takes its share of every global batch.
struct Run {
  data::TensorDataset ds = global_data(tg::kFloat64);
  std::shared_ptr<nn::Sequential> net = make_net(dist::rank() == 0 ? 1 : 99, tg::kFloat64);
  data::DataLoader loader{ds,
                          {.batch_size = kGlobalBatch / dist::world_size(),
                           .shuffle = true,
                           .seed = 5,
                           .num_replicas = dist::world_size(),
                           .rank = dist::rank()}};
  dist::DistributedDataParallel ddp{net};
  tg::optim::Adam opt{net->parameters(), {.lr = 0.01}};
  tg::optim::StepLR sched{opt, 1, 0.8};

  // The checkpoints hold the network itself, not the wrapper: any rank count reads them.
  train::FitResult fit(const fs::path& dir = {}, bool stop = false) {
    std::unique_ptr<train::Checkpointer> ckpt;
    if (!dir.empty())
      ckpt = std::make_unique<train::Checkpointer>(
          *net, opt, &sched,
          train::CheckpointerOptions{.dir = dir.string(),
                                     .every_epochs = 0,
                                     .every_steps = 3,
                                     .keep_last = 2,
                                     .write = dist::rank() == 0,
                                     .verbose = false});
    train::LambdaCallback stopper({.on_batch_end = [&](const train::BatchEnd& b) {
      return stop && b.step == kStopAt ? train::Signal::Stop : train::Signal::Continue;
    }});
    train::ScheduleStep schedule(sched);
    train::FitOptions o;  // assigned, not designated: GCC 12 warns on std::function members
    o.epochs = kEpochs;
    o.callbacks = {&schedule, &stopper};
    if (ckpt) o.callbacks.push_back(ckpt.get());
    o.verbose = false;
    o.sum_across_ranks = [](std::span<double> v) { dist::all_reduce(v); };
    return train::fit(ddp, opt, loader, o);
  }
};

std::vector<double> losses(const train::FitResult& r) {
  std::vector<double> l;
  for (const train::Record& e : r.epochs) l.push_back(e.get("train_loss"));
  return l;
}

// Every rank holds the same numbers.
void check_agreed(const std::vector<double>& v) {
  tg::Tensor mine = tg::from_vector(v, {static_cast<std::int64_t>(v.size())});
  tg::Tensor root = mine.clone();
  dist::broadcast(root, 0);
  CHECK(mine.to_vector<double>() == root.to_vector<double>());
}

void write_numbers(const fs::path& path, const std::vector<double>& v) {
  std::ofstream out(path);
  char buf[40];
  for (double x : v) {
    std::snprintf(buf, sizeof buf, "%.17g\n", x);  // round-trips exactly
    out << buf;
  }
}

std::vector<double> read_numbers(const fs::path& path) {
  std::ifstream in(path);
  std::vector<double> v;
  for (std::string line; std::getline(in, line);) v.push_back(std::strtod(line.c_str(), nullptr));
  return v;
}
}  // namespace

TEST_CASE("resume: save (2 ranks): the uninterrupted reference, and checkpoints up to step 7") {
  CHECK(dist::world_size() == 2);
  const fs::path dir = work_dir();
  if (dist::rank() == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  dist::barrier();

  Run whole;
  const train::FitResult all = whole.fit();
  CHECK(all.progress.step == kEpochs * 4);
  check_agreed(flat(*whole.net));
  check_agreed(losses(all));
  if (dist::rank() == 0) {
    write_numbers(dir / "reference-params.txt", flat(*whole.net));
    write_numbers(dir / "reference-losses.txt", losses(all));
  }

  Run cut;
  const train::FitResult part = cut.fit(dir / "checkpoints", /*stop=*/true);
  CHECK(part.stopped);
  CHECK(part.progress.step == kStopAt);
  dist::barrier();  // rank 0's files are complete before anyone looks
  train::Checkpointer look(*cut.net, cut.opt, &cut.sched,
                           {.dir = (dir / "checkpoints").string(), .write = false});
  CHECK(look.checkpoints().size() == 2);  // steps 3 and 6
}

TEST_CASE("resume: continue (1 or 2 ranks) from the 2-rank checkpoints ends as the reference") {
  const int w = dist::world_size();
  const fs::path dir = work_dir(), mine = dir / ("resumed-at-" + std::to_string(w));
  // A copy per rank count: the two continuations may run at once and each writes checkpoints.
  if (dist::rank() == 0) {
    fs::remove_all(mine);
    fs::copy(dir / "checkpoints", mine);
  }
  dist::barrier();

  Run run;
  const train::FitResult rest = run.fit(mine);
  CHECK(rest.progress.epoch == kEpochs);
  CHECK(rest.progress.step == kEpochs * 4);
  const std::vector<double> params = flat(*run.net),
                            ref = read_numbers(dir / "reference-params.txt");
  CHECK(params.size() == ref.size());
  // Epochs 3 and 4 ran whole after the resume (epoch 2's record counts its last 2 batches only).
  std::vector<double> l = losses(rest), ref_l = read_numbers(dir / "reference-losses.txt");
  CHECK(l.size() == 3);
  CHECK(ref_l.size() == 4);
  if (l.size() == 3 && ref_l.size() == 4) {
    l.erase(l.begin());
    ref_l.erase(ref_l.begin(), ref_l.begin() + 2);
  }
  if (w == 2) {
    CHECK(params == ref);
    CHECK(l == ref_l);
  } else {
    CHECK(relative_error(params, ref, true) <= 1e-12);
    CHECK(relative_error(l, ref_l, true) <= 1e-12);
  }
  check_agreed(params);
  check_agreed(l);
}
