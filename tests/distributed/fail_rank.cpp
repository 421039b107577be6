// A 2-rank job in which rank 1 fails at step 3 while rank 0 waits: the job must end (non-zero,
// the rank named) instead of hanging. argv[1]: "throw" (the exception is caught and passed to
// dist::abort, as examples do) or "die" (uncaught: the process ends), while rank 0 waits in an
// all_reduce; "worker-throw" and "worker-die" the same for a parameter server's worker, while
// rank 0 serves.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;

int main(int argc, char** argv) {
  tg::dist::Context mpi(argc, argv);
  const std::string how = argc > 1 ? argv[1] : "throw";
  const bool server = how.starts_with("worker-");
  auto train = [&] {
    if (server) {
      tg::nn::Linear net(4, 2);
      tg::dist::ParameterServer ps(net);
      if (ps.is_server()) {
        tg::optim::SGD opt(net.parameters(), {.lr = 0.1});
        ps.serve(opt);
        return;
      }
      for (int step = 1; step <= 1000; ++step) {
        if (step == 3) throw std::runtime_error("failed at step 3");
        ps.pull();
        net.zero_grad();
        net(tg::ones({8, 4})).sum().backward();
        ps.push(0, 8);
      }
      ps.finish();
      return;
    }
    for (int step = 1; step <= 1000; ++step) {
      if (step == 3 && tg::dist::rank() == 1) throw std::runtime_error("failed at step 3");
      tg::Tensor g = tg::ones({1000});
      tg::dist::all_reduce(g);
    }
  };
  if (how.ends_with("die")) {
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
