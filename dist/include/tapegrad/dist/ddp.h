// DistributedDataParallel: one model replica per rank, gradients averaged after every backward,
// so that N ranks with batches of B take the same steps as one process with batches of N * B.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/nn/module.h"

namespace tapegrad::dist {

struct DDPOptions {
  /// Gradients are packed into buckets of about this many megabytes (torch's default 25) and
  /// reduced bucket by bucket, each with a non-blocking MPI_Iallreduce.
  double bucket_mb = 25;
};

class DistributedDataParallel : public nn::Module {
 public:
  /// Checks that every rank's model has the same parameter names, shapes and dtypes (a
  /// ValueError naming the first parameter that differs, on every rank), then broadcasts rank
  /// 0's parameters. From then on every backward() that reaches the parameters averages their
  /// gradients across ranks before returning.
  explicit DistributedDataParallel(std::shared_ptr<nn::Module> module, DDPOptions options = {});
  ~DistributedDataParallel() override;

  Tensor forward(const Tensor& x) override { return (*module_)(x); }
  nn::Module& module() { return *module_; }

  /// While the guard lives, backward() leaves gradients local (gradient accumulation over
  /// micro-batches); the first backward after it reduces the accumulated sums.
  class NoSync {
   public:
    explicit NoSync(DistributedDataParallel& ddp) : ddp_(ddp) { ddp_.sync_ = false; }
    ~NoSync() { ddp_.sync_ = true; }
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    DistributedDataParallel& ddp_;
  };
  NoSync no_sync() { return NoSync(*this); }

  /// Averages the gradients now (what the post-backward hook calls).
  void synchronize();
  /// The buckets' sizes in elements, in reduction order (the last parameters first, as their
  /// gradients are ready first).
  std::vector<std::int64_t> bucket_sizes() const;

 private:
  struct Bucket;
  std::shared_ptr<nn::Module> module_;
  std::vector<Tensor> params_;
  std::vector<Bucket> buckets_;
  bool sync_ = true;
  int hook_ = -1;
};

}  // namespace tapegrad::dist
