// A 2-rank data-parallel job whose ranks hold data sets of different sizes (rank 0 ten samples,
// rank 1 eight), so their sharded loaders would run 3 and 2 batches an epoch: the job must stop
// before the first batch, every rank naming the counts, instead of one rank waiting forever in
// a gradient reduction the other never starts.
#include <cstdio>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;

int main(int argc, char** argv) {
  tg::dist::Context mpi(argc, argv);
  try {
    tg::manual_seed(1);
    auto net = std::make_shared<tg::nn::Sequential>(tg::nn::Linear(3, 4), tg::nn::Tanh(),
                                                    tg::nn::Linear(4, 1));
    tg::dist::DistributedDataParallel model(net);
    const std::int64_t n = tg::dist::rank() == 0 ? 20 : 16;  // each rank's own shard file, say
    tg::data::TensorDataset data(tg::randn({n, 3}), tg::randn({n, 1}));
    tg::data::DataLoader loader(
        data, {.batch_size = 2, .num_replicas = tg::dist::world_size(), .rank = tg::dist::rank()});
    tg::optim::SGD opt(net->parameters(), {.lr = 0.1});
    for (int epoch = 0; epoch < 3; ++epoch)
      for (auto& [x, y] : loader) {
        tg::Tensor loss = tg::nn::functional::mse_loss(model(x), y);
        opt.zero_grad();
        loss.backward();
        opt.step();
      }
  } catch (const std::exception& e) {
    tg::dist::abort(e.what());
  }
  std::printf("rank %d finished: the uneven batches were not seen\n", tg::dist::rank());
  return 0;
}
