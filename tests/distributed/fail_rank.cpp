// A 2-rank job in which rank 1 fails at step 3 while rank 0 waits in an all_reduce: the job
// must end (non-zero, the rank named) instead of hanging. argv[1]: "throw" (the exception is
// caught and passed to dist::abort, as examples do) or "die" (uncaught: the process ends).
#include <cstdio>
#include <stdexcept>
#include <string>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;

int main(int argc, char** argv) {
  tg::dist::Context mpi(argc, argv);
  const std::string how = argc > 1 ? argv[1] : "throw";
  auto train = [&] {
    for (int step = 1; step <= 1000; ++step) {
      if (step == 3 && tg::dist::rank() == 1) throw std::runtime_error("failed at step 3");
      tg::Tensor g = tg::ones({1000});
      tg::dist::all_reduce(g);
    }
  };
  if (how == "die") {
    train();  // uncaught: std::terminate on rank 1
  } else {
    try {
      train();
    } catch (const std::exception& e) {
      tg::dist::abort(e.what());
    }
  }
  std::printf("rank %d finished: the failure was not seen\n", tg::dist::rank());
  return 0;
}
