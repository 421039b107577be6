// LocalSGD: the tensors to average packed into one flat buffer per dtype, summed by one
// MPI_Allreduce in place, and written back times 1 / world_size.
#include "tapegrad/distributed/local_sgd.h"

#include <mpi.h>

#include <cstring>

#include "mpi_types.h"
#include "replicas.h"
#include "tapegrad/distributed/context.h"
#include "tensor/tensor_impl.h"

namespace tapegrad::dist {

namespace {
// Packs the tensors of flat's dtype into flat, or unpacks flat * scale into them.
template <typename T>
void copy_flat(const std::vector<Tensor>& ts, const Tensor& flat, bool pack, double scale) {
  T* f = flat.data<T>();
  const auto s = static_cast<T>(scale);
  for (const Tensor& t : ts) {
    if (t.dtype() != flat.dtype()) continue;
    const auto n = static_cast<std::size_t>(t.numel());
    T* v = t.data<T>();
    if (pack) {
      std::memcpy(f, v, n * sizeof(T));
    } else {
      for (std::size_t k = 0; k < n; ++k) v[k] = f[k] * s;
      mark_written(t);
    }
    f += n;
  }
}
}  // namespace

LocalSGD::LocalSGD(nn::Module& model, optim::Optimizer& optimizer, LocalSGDOptions options)
    : model_(model), optimizer_(optimizer), options_(options) {
  if (options.period < 1)
    throw ValueError(msg("LocalSGD: period must be >= 1, got ", options.period));
  if (!is_initialized())
    throw StateError("LocalSGD: MPI is not initialized (a dist::Context first)");
  auto named = model_.named_parameters();
  for (const auto& [name, p] : named) {
    if (p.dtype() != kFloat32 && p.dtype() != kFloat64)
      throw ValueError(msg("LocalSGD: parameter '", name, "' is ", dtype_name(p.dtype()),
                           "; only float32 and float64 parameters are averaged"));
    params_.push_back(p);
  }
  std::vector<Tensor> buffers;
  for (const auto& [name, b] : model_.named_buffers()) {
    buffers.push_back(b);
    named.emplace_back(name, b);  // checked alike
    // BatchNorm's running statistics are averaged with the parameters (its int64 batch count
    // moves alike on every rank).
    if (b.dtype() == kFloat32 || b.dtype() == kFloat64) model_buffers_.push_back(b);
  }
  detail::check_replicas("LocalSGD", named);
  detail::broadcast_from_rank0(params_);
  detail::broadcast_from_rank0(buffers);
}

bool LocalSGD::step() {
  ++steps_;
  if (steps_ % options_.period != 0) return false;
  average();
  return true;
}

void LocalSGD::set_steps(std::int64_t steps) {
  if (steps < 0) throw ValueError(msg("LocalSGD: set_steps needs a count >= 0, got ", steps));
  steps_ = steps;
}

std::vector<Tensor> LocalSGD::averaged() const {
  std::vector<Tensor> ts = params_;
  ts.insert(ts.end(), model_buffers_.begin(), model_buffers_.end());
  if (options_.average_optimizer_state)
    for (std::size_t i = 0; i < optimizer_.num_params(); ++i)
      for (const Tensor& b : optimizer_.state(i).buffers)
        if (b.defined() && (b.dtype() == kFloat32 || b.dtype() == kFloat64)) ts.push_back(b);
  return ts;
}

void LocalSGD::average() {
  const std::vector<Tensor> ts = averaged();
  std::int64_t n[2] = {0, 0};  // elements of float32, of float64
  for (const Tensor& t : ts) n[t.dtype() == kFloat64] += t.numel();
  if (options_.average_optimizer_state) {
    // The parameters agree (the constructor checked them); optimizer buffers are made on a
    // parameter's first update, and a rank that made fewer would misalign every sum after.
    Tensor agree = from_vector(std::vector<std::int64_t>{n[0], n[1], -n[0], -n[1]}, {4});
    all_reduce(agree, ReduceOp::Max);
    const auto a = agree.to_vector<std::int64_t>();
    if (a[0] != -a[2] || a[1] != -a[3])
      throw ValueError(msg("LocalSGD: the ranks' optimizer state differs in size (rank ", rank(),
                           " holds ", n[0], " float32 and ", n[1],
                           " float64 elements with its parameters); every rank must step the "
                           "same parameters"));
  }
  const double scale = 1.0 / world_size();
  for (int k = 0; k < 2; ++k) {
    if (n[k] == 0) continue;
    const Dtype d = k == 0 ? kFloat32 : kFloat64;
    if (!flat_[k].defined() || flat_[k].numel() != n[k]) flat_[k] = empty({n[k]}, {.dtype = d});
    const int count = detail::mpi_count(n[k], "LocalSGD");
    if (k == 0)
      copy_flat<float>(ts, flat_[k], true, 1);
    else
      copy_flat<double>(ts, flat_[k], true, 1);
    MPI_Allreduce(MPI_IN_PLACE, detail::raw(flat_[k]), count, detail::mpi_type(d), MPI_SUM,
                  MPI_COMM_WORLD);
    if (k == 0)
      copy_flat<float>(ts, flat_[k], false, scale);
    else
      copy_flat<double>(ts, flat_[k], false, scale);
  }
  ++averagings_;
}

}  // namespace tapegrad::dist
