// ZeroRedundancyOptimizer: the parameters live in one flat buffer of R equal shards; the shard
// optimizer updates this rank's pieces of them in place, and one MPI_Allgather in place brings
// the other shards. Its state is checkpointed in the unsharded optimizer's form: gathered onto
// one rank to save, cut into this rank's pieces on load.
#include "tapegrad/distributed/zero.h"

#include <mpi.h>

#include <algorithm>
#include <cstring>

#include "mpi_types.h"
#include "replicas.h"
#include "tapegrad/core/autograd.h"
#include "tapegrad/core/ops.h"
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
    : Optimizer(std::vector<std::string>{}), make_(make), named_(params) {
  if (!is_initialized())
    throw StateError("ZeroRedundancyOptimizer: MPI is not initialized (a dist::Context first)");
  if (!make) throw ValueError("ZeroRedundancyOptimizer: the optimizer factory is empty");
  if (params.empty()) throw ValueError("ZeroRedundancyOptimizer: no parameters");
  for (const auto& [name, p] : params)
    if (!p.defined())
      throw ValueError(msg("ZeroRedundancyOptimizer: parameter '", name, "' is undefined"));
  // The collective check first: what follows then fails alike on every rank.
  detail::check_replicas("ZeroRedundancyOptimizer", params);
  add_group(params);  // the base's checks: leaves, floating, none twice, unique names
  const Dtype dtype = params.front().second.dtype();
  for (const auto& [name, p] : params)
    if (p.dtype() != dtype)
      throw ValueError(msg("ZeroRedundancyOptimizer: parameter '", name, "' is ",
                           dtype_name(p.dtype()), " but '", params.front().first, "' is ",
                           dtype_name(dtype), "; the parameters share one buffer, of one dtype"));

  const std::int64_t world = world_size(), me = rank();
  std::int64_t total = 0;
  for (const auto& [name, p] : params) total += p.numel();
  shard_size_ = (total + world - 1) / world;
  shard_size_ = (shard_size_ + kShardAlign - 1) / kShardAlign * kShardAlign;
  detail::mpi_count(shard_size_, "ZeroRedundancyOptimizer");
  flat_ = zeros({shard_size_ * world}, {.dtype = dtype});

  // The buffer holds the parameters' values and this rank's pieces of them; the parameters
  // themselves move in only once the shard optimizer is accepted.
  const std::int64_t lo = me * shard_size_, hi = lo + shard_size_;
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& [name, p] = params[i];
    places_.push_back(view_of(flat_, offset, p.shape()));
    std::memcpy(detail::raw(places_.back()), detail::raw(p),
                static_cast<std::size_t>(p.numel()) * dtype_size(dtype));
    offsets_.push_back(offset);
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
  for (std::size_t i = 0; i < params.size(); ++i) params[i].second.set_data(places_[i]);
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
  ++steps_;
  MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, detail::raw(flat_),
                static_cast<int>(shard_size_), detail::mpi_type(flat_.dtype()), MPI_COMM_WORLD);
  for (const Tensor& p : ps) mark_written(p);
}

double ZeroRedundancyOptimizer::group_lr(std::size_t) const { return local_->lr(0); }
void ZeroRedundancyOptimizer::put_group_lr(std::size_t, double lr) { local_->set_lr(lr, 0); }
double ZeroRedundancyOptimizer::group_momentum(std::size_t) const { return local_->momentum(0); }
// set_momentum on the shard optimizer checks the value itself.
void ZeroRedundancyOptimizer::check_group_momentum(std::size_t, double) const {}
void ZeroRedundancyOptimizer::put_group_momentum(std::size_t, double m) {
  local_->set_momentum(m, 0);
}

namespace {
// The entries an optimizer's save_state writes before its per-parameter state: its type, and
// its one group's lr, initial lr and (when asked) cycled momentum, as `from` holds them.
void put_header(Archive& ar, const std::string& prefix, const std::string& type,
                const optim::Optimizer& from, bool momentum) {
  ar.put_text(prefix + "type", type);
  ar.put(prefix + "group.0.lr", scalar_tensor(from.lr(0), {.dtype = kFloat64}));
  ar.put(prefix + "group.0.initial_lr", scalar_tensor(from.initial_lr(0), {.dtype = kFloat64}));
  if (momentum)
    ar.put(prefix + "group.0.momentum", scalar_tensor(from.momentum(0), {.dtype = kFloat64}));
}
}  // namespace

struct ZeroRedundancyOptimizer::Loaded : LoadedState {
  std::unique_ptr<LoadedState> local;  // the shard optimizer's, read and checked
  double initial_lr = 0;
};

void ZeroRedundancyOptimizer::consolidate_state(int to) {
  const int world = world_size(), me = rank();
  if (to < 0 || to >= world)
    throw ValueError(
        msg("ZeroRedundancyOptimizer: consolidate_state onto rank ", to, " of ", world));
  const std::vector<std::string>& bufs = local_->state_buffer_names();
  const std::vector<std::string>& scals = local_->state_scalar_names();
  const std::size_t np = named_.size(), nb = bufs.size(), ns = scals.size();
  const bool root = me == to;

  // Per parameter, from the rank holding its first element (the others add zeros, so the sums
  // are exact): its step count, which buffers it has yet, its scalars.
  std::vector<std::int64_t> counts(np * (1 + nb), 0);
  std::vector<double> scalars(np * ns, 0);
  for (std::size_t k = 0; k < pieces_.size(); ++k) {
    if (pieces_[k].begin != 0) continue;
    const optim::ParamState& st = local_->state(k);
    std::int64_t* c = counts.data() + pieces_[k].param * (1 + nb);
    c[0] = st.step;
    for (std::size_t b = 0; b < nb; ++b) c[1 + b] = st.buffers[b].defined() ? 1 : 0;
    std::copy(st.scalars.begin(), st.scalars.end(), scalars.begin() + pieces_[k].param * ns);
  }
  MPI_Reduce(root ? MPI_IN_PLACE : counts.data(), counts.data(),
             detail::mpi_count(static_cast<std::int64_t>(counts.size()), "consolidate_state"),
             MPI_INT64_T, MPI_SUM, to, MPI_COMM_WORLD);
  MPI_Reduce(root ? MPI_IN_PLACE : scalars.data(), scalars.data(),
             detail::mpi_count(static_cast<std::int64_t>(scalars.size()), "consolidate_state"),
             MPI_DOUBLE, MPI_SUM, to, MPI_COMM_WORLD);

  // Each buffer laid out as the parameters are in flat_: every rank's shard from its pieces,
  // gathered whole onto the root.
  const std::size_t size = dtype_size(flat_.dtype());
  const std::int64_t lo = me * shard_size_;
  std::vector<Tensor> whole(nb);
  for (std::size_t b = 0; b < nb; ++b) {
    whole[b] = zeros({root ? shard_size_ * world : shard_size_}, {.dtype = flat_.dtype()});
    char* shard =
        static_cast<char*>(detail::raw(whole[b])) + static_cast<std::size_t>(root ? lo : 0) * size;
    for (std::size_t k = 0; k < pieces_.size(); ++k) {
      const Tensor& buf = local_->state(k).buffers[b];
      if (!buf.defined()) continue;
      const Piece& piece = pieces_[k];
      const std::int64_t at = offsets_[piece.param] + piece.begin - lo;
      std::memcpy(shard + static_cast<std::size_t>(at) * size, detail::raw(buf),
                  static_cast<std::size_t>(buf.numel()) * size);
    }
    const MPI_Datatype type = detail::mpi_type(flat_.dtype());
    const int n = static_cast<int>(shard_size_);
    MPI_Gather(root ? MPI_IN_PLACE : shard, n, type, detail::raw(whole[b]), n, type, to,
               MPI_COMM_WORLD);
  }
  consolidated_.reset();
  if (!root) return;
  auto ar = std::make_unique<Archive>();
  for (std::size_t i = 0; i < np; ++i) {
    const auto& [name, p] = named_[i];
    const std::string base = "state." + name + ".";
    const std::int64_t* c = counts.data() + i * (1 + nb);
    ar->put(base + "step", scalar_tensor(static_cast<double>(c[0]), {.dtype = kInt64}));
    for (std::size_t b = 0; b < nb; ++b)
      if (c[1 + b])
        ar->put(base + bufs[b],
                reshape(slice(whole[b], 0, offsets_[i], offsets_[i] + p.numel()), p.shape()));
    for (std::size_t k = 0; k < ns; ++k)
      ar->put(base + scals[k], scalar_tensor(scalars[i * ns + k], {.dtype = kFloat64}));
  }
  consolidated_ = std::move(ar);
  consolidated_at_ = steps_;
}

void ZeroRedundancyOptimizer::save_state(Archive& ar, const std::string& prefix) const {
  if (!consolidated_)
    throw StateError(msg("ZeroRedundancyOptimizer: rank ", rank(),
                         " holds no consolidated state to save; every rank must call "
                         "consolidate_state(to) first (a collective), and rank `to` saves"));
  if (consolidated_at_ != steps_)
    throw StateError(msg("ZeroRedundancyOptimizer: ", steps_ - consolidated_at_,
                         " step(s) since consolidate_state(); call it again on every rank"));
  put_header(ar, prefix, local_->name(), *this, cycled_momentum() != nullptr);
  for (const std::string& name : consolidated_->names())
    ar.put(prefix + name, consolidated_->get(name));
}

std::unique_ptr<LoadedState> ZeroRedundancyOptimizer::read_state(const Archive& ar,
                                                                 const std::string& prefix) const {
  // The unsharded optimizer checks every entry against every parameter and holds them whole.
  const std::unique_ptr<optim::Optimizer> all = make_(named_);
  all->load_state(ar, prefix);
  const std::vector<std::string>& bufs = local_->state_buffer_names();
  const std::vector<std::string>& scals = local_->state_scalar_names();
  Archive mine;
  put_header(mine, "", local_->name(), *all,
             all->cycled_momentum() && ar.is_tensor(prefix + "group.0.momentum"));
  for (std::size_t k = 0; k < pieces_.size(); ++k) {
    const Piece& piece = pieces_[k];
    const optim::ParamState& st = all->state(piece.param);
    const std::string base = "state." + shard_[k].first + ".";
    mine.put(base + "step", scalar_tensor(static_cast<double>(st.step), {.dtype = kInt64}));
    for (std::size_t b = 0; b < bufs.size(); ++b)
      if (st.buffers[b].defined())
        mine.put(base + bufs[b],
                 slice(reshape(st.buffers[b], {st.buffers[b].numel()}), 0, piece.begin, piece.end));
    for (std::size_t c = 0; c < scals.size(); ++c)
      mine.put(base + scals[c], scalar_tensor(st.scalars[c], {.dtype = kFloat64}));
  }
  auto r = std::make_unique<Loaded>();
  r->local = local_->read_state(mine, "");
  r->initial_lr = all->initial_lr(0);
  return r;
}

void ZeroRedundancyOptimizer::apply_state(LoadedState& state) {
  Loaded& r = dynamic_cast<Loaded&>(state);
  local_->apply_state(*r.local);
  set_initial_lr(r.initial_lr, 0);
  consolidated_.reset();
}

}  // namespace tapegrad::dist
