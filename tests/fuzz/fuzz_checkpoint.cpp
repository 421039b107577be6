// load_checkpoint on arbitrary bytes: a clean Error that leaves model, optimizer, schedule and
// the global generator exactly as they were, or a run restored from the file.
#include "fuzz_common.h"

namespace optim = tg::optim;
namespace train = tg::train;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::Run run;
  const std::string path = fuzz::write("run.tg", data, size);
  const auto before = fuzz::snapshot(run.net, run.opt.get(), run.sched.get());
  try {
    const train::Progress p = train::load_checkpoint(path, run.net, *run.opt, run.sched.get());
    fuzz::require(p.epoch >= 0 && p.step >= 0, "load_checkpoint: progress is not negative");
  } catch (const tg::Error&) {
    fuzz::require(fuzz::snapshot(run.net, run.opt.get(), run.sched.get()) == before,
                  "load_checkpoint: a failed load changes nothing");
  }
  return 0;
}
