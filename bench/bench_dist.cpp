// B2 data-parallel: run as `mpiexec -n R bench_dist THREADS [BUCKET_MB [zero]]`. Every rank takes
// its share (every R-th sample, as DistributedSampler deals) of each global batch of 256 in the
// order all implementations share, from the same initial parameters; DistributedDataParallel
// averages the gradients, buckets starting during backward; with `zero`, Adam is sharded across
// the ranks (ZeroRedundancyOptimizer). Rank 0 prints the epoch's time, the
// time backward spent at its end finishing the reduction (starting the rest, waiting,
// unpacking), how many buckets started early and, for the projection in bench/README.md, the
// time of one allreduce of B2's gradient bytes and of 1 KiB.
#include <tapegrad/tapegrad.hpp>

#include "common.h"

namespace tg = tapegrad;
namespace nn = tg::nn;

int main(int argc, char** argv) {
  tg::dist::Context mpi(argc, argv);
  const bool zero = argc == 4 && std::string(argv[3]) == "zero";
  if (argc < 2 || argc > 4 || (argc == 4 && !zero)) {
    std::fprintf(stderr, "usage: mpiexec -n R %s THREADS [BUCKET_MB [zero]]\n", argv[0]);
    return 2;
  }
  const double bucket_mb = argc >= 3 ? std::atof(argv[2]) : 25;
  tg::set_num_threads(std::atoi(argv[1]));
  tg::manual_seed(0);
  const int rank = tg::dist::rank(), world = tg::dist::world_size();
  auto net = std::make_shared<nn::Sequential>(
      nn::Linear(784, 1024), nn::ReLU(), nn::Linear(1024, 1024), nn::ReLU(), nn::Linear(1024, 10));
  {
    const auto init = bench::initial_parameters({784, 1024, 1024, 10});
    const std::vector<tg::Tensor> params = net->parameters();
    tg::NoGradGuard no_grad;
    for (std::size_t l = 0; l < init.size(); ++l) {
      params[2 * l].copy_(tg::from_vector(init[l].w, params[2 * l].shape()));
      params[2 * l + 1].copy_(tg::from_vector(init[l].b, params[2 * l + 1].shape()));
    }
  }
  tg::dist::DistributedDataParallel ddp(net, {.bucket_mb = bucket_mb});
  std::unique_ptr<tg::optim::Optimizer> opt;
  if (zero)
    opt = std::make_unique<tg::dist::ZeroRedundancyOptimizer>(
        net->parameters(), [](const tg::optim::NamedParams& shard) {
          return std::make_unique<tg::optim::Adam>(shard, tg::optim::AdamOptions{.lr = 1e-3});
        });
  else
    opt = std::make_unique<tg::optim::Adam>(net->parameters(), tg::optim::AdamOptions{.lr = 1e-3});
  const tg::data::MNIST train(bench::data_dir(), tg::data::Split::Train);
  const tg::data::MNIST test(bench::data_dir(), tg::data::Split::Test);
  const tg::Tensor &X = train.inputs(), &Y = train.targets();
  const std::int64_t n = train.size(), batch = 256;
  const auto order = bench::batch_order(n);

  tg::dist::barrier();
  const double t0 = bench::now();
  double forward = 0, backward = 0, step = 0;  // each phase's share of the epoch
  for (std::int64_t b = 0; b + batch <= n; b += batch) {
    const double a = bench::now();
    std::vector<std::int64_t> mine;
    for (std::int64_t j = rank; j < batch; j += world) mine.push_back(order[b + j]);
    const tg::Tensor idx = tg::from_vector(mine);
    const tg::Tensor loss =
        nn::functional::cross_entropy(ddp(X.index_select(0, idx)), Y.index_select(0, idx));
    opt->zero_grad();
    const double f = bench::now();
    loss.backward();
    const double g = bench::now();
    opt->step();
    forward += f - a;
    backward += g - f;
    step += bench::now() - g;
  }
  const double secs = bench::now() - t0;

  // One allreduce of B2's gradients (one float per parameter) and of 1 KiB: bandwidth and
  // latency of this machine's MPI, medians of 21.
  auto allreduce_seconds = [](std::int64_t floats) {
    tg::Tensor t = tg::ones({floats});
    std::vector<double> s;
    for (int r = 0; r < 21; ++r) {
      tg::dist::barrier();
      const double a = bench::now();
      tg::dist::all_reduce(t);
      s.push_back(bench::now() - a);
    }
    std::sort(s.begin(), s.end());
    return s[s.size() / 2];
  };
  const double big = allreduce_seconds(net->num_parameters()), small = allreduce_seconds(256);
  if (rank == 0) {
    tg::NoGradGuard no_grad;
    const double acc =
        tg::eq(tg::argmax((*net)(test.inputs()), 1), test.targets()).to(tg::kFloat32).mean().item();
    std::printf(
        "RESULT seconds=%.6f accuracy=%.4f rss_mib=%.1f comm_seconds=%.6f "
        "allreduce_grad_s=%.6f allreduce_1k_s=%.6f grad_bytes=%lld buckets=%zu "
        "started_early=%.2f forward_s=%.3f backward_s=%.3f step_s=%.3f\n",
        secs, acc, bench::peak_rss_mib(), ddp.stats().sync_seconds, big, small,
        static_cast<long long>(net->num_parameters() * 4), ddp.bucket_sizes().size(),
        static_cast<double>(ddp.stats().buckets_started_early) /
            static_cast<double>(ddp.stats().buckets_started_early +
                                ddp.stats().buckets_started_late),
        forward, backward - ddp.stats().sync_seconds, step);
  }
  return 0;
}
