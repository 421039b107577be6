// DistributedDataParallel: a post-backward hook packs the gradients into buckets (last
// parameters first), starts one MPI_Iallreduce per bucket as soon as it is packed, so packing
// the next overlaps the transfer of the last, then waits and unpacks the averages.
#include "tapegrad/dist/ddp.h"

#include <mpi.h>

#include <cstring>
#include <functional>

#include "mpi_types.h"
#include "tapegrad/core/autograd.h"
#include "tapegrad/dist/collectives.h"
#include "tapegrad/dist/context.h"

namespace tapegrad::dist {

struct DistributedDataParallel::Bucket {
  std::vector<std::size_t> params;         // indices into params_
  Tensor flat;                             // the packed gradients
  MPI_Request request = MPI_REQUEST_NULL;  // its allreduce in flight (kept: a step allocates none)
};

namespace {
template <typename T>
void pack_unpack(const std::vector<Tensor>& params, const std::vector<std::size_t>& idx,
                 const Tensor& flat, bool pack, T scale) {
  T* f = flat.data<T>();
  for (std::size_t i : idx) {
    const Tensor& p = params[i];
    const auto n = static_cast<std::size_t>(p.numel());
    const Tensor g = p.grad();
    if (pack) {
      if (g.defined())
        std::memcpy(f, g.data<T>(), n * sizeof(T));
      else
        std::memset(f, 0, n * sizeof(T));  // no gradient here: contributes nothing
    } else if (g.defined()) {
      T* out = g.data<T>();
      for (std::size_t k = 0; k < n; ++k) out[k] = f[k] * scale;
    }
    f += n;
  }
}
}  // namespace

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<nn::Module> module,
                                                 DDPOptions options)
    : module_(std::move(module)) {
  if (!module_) throw ValueError("DistributedDataParallel: the module is null");
  if (!(options.bucket_mb > 0))
    throw ValueError(
        msg("DistributedDataParallel: bucket_mb must be > 0, got ", options.bucket_mb));
  if (!is_initialized())
    throw StateError("DistributedDataParallel: MPI is not initialized (a dist::Context first)");
  register_module("module", module_);
  const auto named = module_->named_parameters();
  for (const auto& [name, p] : named) params_.push_back(p);

  // Same parameters everywhere: the count, then each name, shape and dtype as one hash, whose
  // smallest and largest values across ranks must agree.
  std::vector<std::int64_t> sig{static_cast<std::int64_t>(named.size())};
  for (const auto& [name, p] : named)
    sig.push_back(static_cast<std::int64_t>(std::hash<std::string>{}(
        msg(name, ' ', shape_str(p.shape()), ' ', dtype_name(p.dtype())))));
  Tensor count = from_vector(std::vector<std::int64_t>{sig[0], -sig[0]}, {2});
  all_reduce(count, ReduceOp::Max);
  const auto c = count.to_vector<std::int64_t>();
  if (c[0] != -c[1])
    throw ValueError(msg("DistributedDataParallel: the ranks' models differ: between ", -c[1],
                         " and ", c[0], " parameters (this rank, ", rank(), ", has ", sig[0], ")"));
  Tensor hi = from_vector(sig, {static_cast<std::int64_t>(sig.size())}), lo = hi.clone();
  all_reduce(hi, ReduceOp::Max);
  all_reduce(lo, ReduceOp::Min);
  const auto h = hi.to_vector<std::int64_t>(), l = lo.to_vector<std::int64_t>();
  for (std::size_t i = 1; i < sig.size(); ++i)
    if (h[i] != l[i])
      throw ValueError(msg("DistributedDataParallel: the ranks' models differ at parameter '",
                           named[i - 1].first, "' (here ", shape_str(named[i - 1].second.shape()),
                           " ", dtype_name(named[i - 1].second.dtype()), " on rank ", rank(), ")"));
  {
    NoGradGuard no_grad;
    for (const Tensor& p : params_) broadcast(p, 0);
  }

  // Buckets in reverse parameter order (backward produces the last layers' gradients first),
  // one dtype each, closed when they pass bucket_mb.
  const double limit = options.bucket_mb * 1024 * 1024;
  double bytes = 0;
  for (std::size_t k = params_.size(); k-- > 0;) {
    const Tensor& p = params_[k];
    const bool new_dtype =
        !buckets_.empty() && params_[buckets_.back().params.front()].dtype() != p.dtype();
    if (buckets_.empty() || bytes >= limit || new_dtype) {
      buckets_.emplace_back();
      bytes = 0;
    }
    buckets_.back().params.push_back(k);
    bytes += static_cast<double>(p.numel()) * (p.dtype() == kFloat32 ? 4 : 8);
  }
  for (Bucket& b : buckets_) {
    std::int64_t n = 0;
    for (std::size_t i : b.params) n += params_[i].numel();
    b.flat = zeros({n}, {.dtype = params_[b.params.front()].dtype()});
    detail::mpi_count(n, "DistributedDataParallel");
  }
  hook_ = add_post_backward_hook([this] {
    if (sync_) synchronize();
  });
}

DistributedDataParallel::~DistributedDataParallel() {
  if (hook_ >= 0) remove_post_backward_hook(hook_);
}

std::vector<std::int64_t> DistributedDataParallel::bucket_sizes() const {
  std::vector<std::int64_t> r;
  for (const Bucket& b : buckets_) r.push_back(b.flat.numel());
  return r;
}

void DistributedDataParallel::synchronize() {
  if (buckets_.empty()) return;
  for (Bucket& b : buckets_) {
    if (b.flat.dtype() == kFloat32)
      pack_unpack<float>(params_, b.params, b.flat, true, 1.0f);
    else
      pack_unpack<double>(params_, b.params, b.flat, true, 1.0);
    void* data = b.flat.dtype() == kFloat32 ? static_cast<void*>(b.flat.data<float>())
                                            : static_cast<void*>(b.flat.data<double>());
    MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(b.flat.numel()),
                   detail::mpi_type(b.flat.dtype()), MPI_SUM, MPI_COMM_WORLD, &b.request);
  }
  for (Bucket& b : buckets_) MPI_Wait(&b.request, MPI_STATUS_IGNORE);
  const double scale = 1.0 / world_size();
  for (Bucket& b : buckets_)
    if (b.flat.dtype() == kFloat32)
      pack_unpack<float>(params_, b.params, b.flat, false, static_cast<float>(scale));
    else
      pack_unpack<double>(params_, b.params, b.flat, false, scale);
}

}  // namespace tapegrad::dist
