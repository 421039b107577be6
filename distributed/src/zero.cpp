// ZeroRedundancyOptimizer: the parameters live in one flat buffer of R equal shards; the shard
// optimizer updates this rank's pieces of them in place, and one MPI_Allgather in place brings
// the other shards.
#include "tapegrad/distributed/zero.h"

#include <mpi.h>

#include <algorithm>
#include <cstring>

#include "mpi_types.h"
#include "replicas.h"
#include "tapegrad/core/autograd.h"
#include "tapegrad/distributed/context.h"
#include "tensor/tensor_impl.h"

namespace tapegrad::dist {

namespace {
// Shards start on 64-byte boundaries: each rank's pieces begin aligned for its vector loads.
constexpr std::int64_t kShardAlign = 16;

optim::NamedParams positional(const std::vector<Tensor>& params) {
  optim::NamedParams r;
  for (std::size_t i = 0; i < params.size(); ++i) r.emplace_back(std::to_string(i), params[i]);
  return r;
}

}  // namespace

ZeroRedundancyOptimizer::ZeroRedundancyOptimizer(const std::vector<Tensor>& params,
                                                 const Factory& make)
    : ZeroRedundancyOptimizer(positional(params), make) {}

ZeroRedundancyOptimizer::ZeroRedundancyOptimizer(const optim::NamedParams& params,
                                                 const Factory& make)
    : Optimizer(std::vector<std::string>{}) {
  if (!is_initialized())
    throw StateError("ZeroRedundancyOptimizer: MPI is not initialized (a dist::Context first)");
  if (!make) throw ValueError("ZeroRedundancyOptimizer: the optimizer factory is empty");
  add_group(params);  // the base's checks: defined leaves, floating, none twice, unique names
  if (params.empty()) throw ValueError("ZeroRedundancyOptimizer: no parameters");
  const Dtype dtype = params.front().second.dtype();
  for (const auto& [name, p] : params)
    if (p.dtype() != dtype)
      throw ValueError(msg("ZeroRedundancyOptimizer: parameter '", name, "' is ",
                           dtype_name(p.dtype()), " but '", params.front().first, "' is ",
                           dtype_name(dtype), "; the parameters share one buffer, of one dtype"));
  detail::check_replicas("ZeroRedundancyOptimizer", params);

  const std::int64_t world = world_size(), me = rank();
  std::int64_t total = 0;
  for (const auto& [name, p] : params) total += p.numel();
  shard_size_ = (total + world - 1) / world;
  shard_size_ = (shard_size_ + kShardAlign - 1) / kShardAlign * kShardAlign;
  detail::mpi_count(shard_size_, "ZeroRedundancyOptimizer");
  flat_ = zeros({shard_size_ * world}, {.dtype = dtype});

  // Every parameter moves into its place in the buffer, keeping its values and identity.
  const std::int64_t lo = me * shard_size_, hi = lo + shard_size_;
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& [name, p] = params[i];
    const Tensor place = view_of(flat_, offset, p.shape());
    std::memcpy(detail::raw(place), detail::raw(p),
                static_cast<std::size_t>(p.numel()) * dtype_size(dtype));
    p.set_data(place);
    places_.push_back(place);
    const std::int64_t begin = std::max(lo, offset), end = std::min(hi, offset + p.numel());
    if (begin < end) {
      Tensor piece = view_of(flat_, begin, {end - begin});
      piece.requires_grad_(p.requires_grad());
      const bool whole = begin == offset && end == offset + p.numel();
      shard_.emplace_back(whole ? name : msg(name, "[", begin - offset, ":", end - offset, "]"),
                          piece);
      pieces_.push_back({i, begin - offset, end - offset, Tensor()});
    }
    offset += p.numel();
  }

  local_ = make(shard_);
  if (!local_) throw ValueError("ZeroRedundancyOptimizer: the factory returned no optimizer");
  if (!dynamic_cast<optim::ElementwiseOptimizer*>(local_.get()))
    throw ValueError(msg("ZeroRedundancyOptimizer: ", local_->name(),
                         " updates all its parameters at once; only an elementwise optimizer "
                         "can update a shard of them"));
  bool same = local_->num_groups() == 1 && local_->params(0).size() == shard_.size();
  for (std::size_t k = 0; same && k < shard_.size(); ++k)
    same = local_->params(0)[k].is_same(shard_[k].second);
  if (!same)
    throw ValueError(msg("ZeroRedundancyOptimizer: the factory's ", local_->name(),
                         " must hold exactly the shard it was given, as one group"));
}

void ZeroRedundancyOptimizer::step() {
  const std::vector<Tensor>& ps = params(0);
  for (std::size_t i = 0; i < ps.size(); ++i)
    if (!same_storage(ps[i], places_[i]))
      throw StateError(msg("ZeroRedundancyOptimizer: parameter ", i,
                           " was given new data (Module::to, set_data) after the optimizer was "
                           "made; make it again"));
  // Each piece's gradient is its part of the parameter's gradient (a view, remade only when
  // the parameter's gradient tensor changes).
  for (std::size_t k = 0; k < pieces_.size(); ++k) {
    Piece& piece = pieces_[k];
    const Tensor g = ps[piece.param].grad();
    const Tensor& mine = shard_[k].second;
    if (!g.defined()) {
      mine.set_grad(Tensor());
      piece.grad_source = Tensor();
    } else if (!piece.grad_source.defined() || !same_storage(g, piece.grad_source)) {
      mine.set_grad(view_of(g, piece.begin, {piece.end - piece.begin}));
      piece.grad_source = g;
    }
  }
  local_->step();
  MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, detail::raw(flat_),
                static_cast<int>(shard_size_), detail::mpi_type(flat_.dtype()), MPI_COMM_WORLD);
  for (const Tensor& p : ps) ++impl_ptr(p)->storage->version;  // updated in place
}

double ZeroRedundancyOptimizer::group_lr(std::size_t) const { return local_->lr(0); }
void ZeroRedundancyOptimizer::put_group_lr(std::size_t, double lr) { local_->set_lr(lr, 0); }
double ZeroRedundancyOptimizer::group_momentum(std::size_t) const { return local_->momentum(0); }
// set_momentum on the shard optimizer checks the value itself.
void ZeroRedundancyOptimizer::check_group_momentum(std::size_t, double) const {}
void ZeroRedundancyOptimizer::put_group_momentum(std::size_t, double m) {
  local_->set_momentum(m, 0);
}

void ZeroRedundancyOptimizer::save_state(Archive&, const std::string&) const {
  throw StateError(
      "ZeroRedundancyOptimizer: its state is spread over the ranks, each holding its shard's; "
      "saving it is not supported");
}

std::unique_ptr<LoadedState> ZeroRedundancyOptimizer::read_state(const Archive&,
                                                                 const std::string&) const {
  throw StateError(
      "ZeroRedundancyOptimizer: its state is spread over the ranks, each holding its shard's; "
      "loading it is not supported");
}

}  // namespace tapegrad::dist
