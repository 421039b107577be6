// Checkpointer: the whole-run archive of checkpoint.cpp plus "train." entries of its own (the
// loader's seed and position, the log's position, the best value), all checked before any is
// applied.
#include "tapegrad/train/checkpointer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "run_state.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/io/archive.h"

namespace tapegrad::train {
namespace fs = std::filesystem;

Checkpointer::Checkpointer(nn::Module& model, CheckpointerOptions options)
    : Checkpointer(model, nullptr, nullptr, std::move(options)) {}

Checkpointer::Checkpointer(nn::Module& model, optim::Optimizer& opt,
                           optim::SchedulerState* schedule, CheckpointerOptions options)
    : Checkpointer(model, &opt, schedule, std::move(options)) {}

Checkpointer::Checkpointer(nn::Module& model, optim::Optimizer* opt,
                           optim::SchedulerState* schedule, CheckpointerOptions o)
    : model_(model), opt_(opt), schedule_(schedule), options_(std::move(o)) {
  if (options_.dir.empty()) throw ValueError("Checkpointer: dir is empty");
  if (options_.prefix.empty() || options_.prefix.find('/') != std::string::npos)
    throw ValueError(
        msg("Checkpointer: prefix must be a non-empty file name, got \"", options_.prefix, "\""));
  if (options_.every_epochs < 0 || options_.every_steps < 0)
    throw ValueError(msg("Checkpointer: every_epochs and every_steps must be >= 0, got ",
                         options_.every_epochs, " and ", options_.every_steps));
  if (options_.keep_last < 1)
    throw ValueError(msg("Checkpointer: keep_last must be >= 1, got ", options_.keep_last));
  if (!options_.write) return;
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) throw IoError(msg("Checkpointer: cannot create ", options_.dir, ": ", ec.message()));
}

std::string Checkpointer::best_path() const {
  return (fs::path(options_.dir) / (options_.prefix + "-best.tg")).string();
}

std::vector<std::string> Checkpointer::checkpoints() const {
  // <prefix>-e<epoch>-s<step>.tg, zero-padded, so the names sort as the run went.
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(options_.prefix + "-e", 0) == 0 && entry.path().extension() == ".tg" &&
        name.find("-s", options_.prefix.size()) != std::string::npos)
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Checkpointer::write(const std::string& path, const Progress& p) const {
  Archive ar;
  detail::write_run(ar, model_, opt_, schedule_, p);
  if (loader_) ar.put_text("train.data.seed", std::to_string(loader_->seed()));
  if (log_) {
    const LogPosition pos = log_->position();
    ar.put("train.log.position",
           tensor({static_cast<double>(pos.csv), static_cast<double>(pos.steps_csv),
                   static_cast<double>(pos.jsonl)},
                  {3}, {.dtype = kInt64}));
  }
  if (best_) ar.put("train.best", scalar_tensor(*best_, {.dtype = kFloat64}));
  ar.save(path);
  return path;
}

void Checkpointer::prune() const {
  const std::vector<std::string> files = checkpoints();
  const auto extra = static_cast<std::int64_t>(files.size()) - options_.keep_last;
  for (std::int64_t i = 0; i < extra; ++i) std::remove(files[static_cast<std::size_t>(i)].c_str());
}

void Checkpointer::replace_earlier_run() {
  if (started_) return;
  started_ = true;
  std::vector<std::string> old = checkpoints();
  if (fs::exists(best_path())) old.push_back(best_path());
  if (old.empty()) return;
  std::fprintf(stderr,
               "Checkpointer: a new run in %s: removing %zu checkpoint(s) of an earlier run\n",
               options_.dir.c_str(), old.size());
  for (const std::string& f : old) std::remove(f.c_str());
}

std::string Checkpointer::save(const Progress& p) {
  if (!options_.write)
    throw StateError(msg("Checkpointer: save with write = false (", options_.dir, ")"));
  replace_earlier_run();
  char name[64];
  std::snprintf(name, sizeof name, "-e%04lld-s%08lld.tg", static_cast<long long>(p.epoch),
                static_cast<long long>(p.step));
  const std::string path = write((fs::path(options_.dir) / (options_.prefix + name)).string(), p);
  last_saved_step_ = p.step;
  last_saved_ = path;
  prune();
  return path;
}

std::string Checkpointer::on_step(const Progress& p) {
  if (!options_.write) return "";
  if (options_.every_steps > 0 && p.step % options_.every_steps == 0 && p.step != last_saved_step_)
    return save(p);
  return "";
}

std::string Checkpointer::on_epoch(const Progress& p, const Record& r) {
  if (!options_.write) return "";
  if (!options_.best_metric.empty() &&
      improves(r.get(options_.best_metric), best_, options_.best_mode)) {
    replace_earlier_run();
    best_ = r.get(options_.best_metric);
    write(best_path(), p);
  }
  if (options_.every_epochs > 0 && p.epoch % options_.every_epochs == 0) {
    // A step's checkpoint at this epoch's last batch is superseded by the epoch's.
    if (p.step == last_saved_step_ && !last_saved_.empty()) std::remove(last_saved_.c_str());
    return save(p);
  }
  return "";
}

std::optional<Progress> Checkpointer::begin(data::DataLoader& loader, bool epoch_ends_only) {
  // The loader's order travels in the checkpoints; a resume restores it (at the checkpoint's
  // epoch and batch).
  attach(loader);
  epoch_ends_only_ = epoch_ends_only;
  if (!options_.resume) return std::nullopt;
  const std::optional<Progress> restored = resume();
  if (restored && options_.verbose)
    std::printf("resumed from %s after epoch %lld%s (step %lld)\n", resumed_from_.c_str(),
                static_cast<long long>(restored->epoch),
                restored->batch ? msg(", batch ", restored->batch, " of the next").c_str() : "",
                static_cast<long long>(restored->step));
  return restored;
}

void Checkpointer::on_fit_begin(FitState& state) {
  if (const std::optional<Progress> restored = begin(state.loader)) state.progress = *restored;
}

Signal Checkpointer::on_batch_end(const BatchEnd& b) {
  on_step({.epoch = b.epoch - 1, .step = b.step, .batch = b.batch});
  return Signal::Continue;
}

Signal Checkpointer::on_epoch_end(const EpochEnd& e) {
  on_epoch({.epoch = e.epoch, .step = e.step, .batch = 0}, e.record);
  return Signal::Continue;
}

Progress Checkpointer::resume(const std::string& path) {
  const Archive ar = Archive::load(path);
  detail::LoadedRun state = detail::read_run(ar, path, model_, opt_, schedule_);
  // This checkpointer's entries, read into locals: nothing is applied until all are good.
  std::optional<std::uint64_t> seed;
  std::optional<LogPosition> pos;
  std::optional<double> best;
  try {
    if (epoch_ends_only_ && state.progress.batch != 0)
      throw ValueError(msg("the checkpoint is at batch ", state.progress.batch,
                           " of an epoch, and this run resumes at an epoch's end only"));
    if (loader_ && ar.contains("train.data.seed")) {
      const std::string text = ar.get_text("train.data.seed");
      std::uint64_t v = 0;
      const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size())
        throw ValueError(msg("entry 'train.data.seed': \"", text, "\" is not a seed"));
      seed = v;
      if (state.progress.batch > loader_->num_batches())
        throw ValueError(msg("the checkpoint is at batch ", state.progress.batch,
                             " of an epoch, but the loader has ", loader_->num_batches()));
    }
    if (log_ && ar.contains("train.log.position")) {
      const Tensor t = ar.get("train.log.position");
      if (t.dtype() != kInt64 || t.shape() != Shape{3})
        throw ValueError(msg("entry 'train.log.position' must be int64 (3), got ",
                             dtype_name(t.dtype()), " ", shape_str(t.shape())));
      const auto v = t.to_vector<std::int64_t>();
      pos = LogPosition{v[0], v[1], v[2]};
      log_->check_position(*pos);
    }
    if (ar.contains("train.best")) {
      best = ar.get_double("train.best");
      if (!std::isfinite(*best)) throw ValueError(msg("entry 'train.best' is not finite: ", *best));
    }
  } catch (const Error& e) {
    throw ValueError(detail::name_file(path, e.what(), "Checkpointer::resume"));
  }
  detail::apply_run(state, model_, opt_, schedule_);
  if (loader_) {
    if (seed) loader_->set_seed(*seed);
    loader_->set_epoch(state.progress.epoch, state.progress.batch);
  }
  if (pos) log_->truncate(*pos);
  best_ = best;
  last_saved_step_ = state.progress.step;
  resumed_from_ = path;
  started_ = true;
  return state.progress;
}

std::optional<Progress> Checkpointer::resume() {
  const std::vector<std::string> files = checkpoints();
  std::string why;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    try {
      return resume(*it);
    } catch (const Error& e) {
      std::fprintf(stderr, "Checkpointer: skipping %s: %s\n", it->c_str(), e.what());
      why += msg("\n  ", *it, ": ", e.what());
    }
  }
  if (files.empty()) return std::nullopt;
  throw IoError(msg("Checkpointer: no checkpoint in ", options_.dir, " loads:", why));
}

}  // namespace tapegrad::train
