// The parameter server's protocol, on a communicator of its own (MPI_Comm_dup, so no other
// message can match its tags):
//   pull    worker -> server, empty; answered by
//   params  server -> worker: [version] then every parameter's and buffer's raw values, or
//           [-1] alone once the sample budget is spent
//   push    worker -> server: [pulled version, step, samples, loss] then every parameter's
//           gradient and every buffer's values
//   finish  worker -> server, empty
// The server handles one message at a time in arrival order; a pull that would break the
// staleness bound waits in a queue until pushes or finishes make room.
#include "tapegrad/distributed/parameter_server.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>

#include "mpi_types.h"
#include "replicas.h"
#include "tapegrad/core/autograd/tape.h"
#include "tapegrad/distributed/context.h"
#include "tensor/tensor_impl.h"

namespace tapegrad::dist {
namespace {
using Clock = std::chrono::steady_clock;

enum Tag : int { kPull = 1, kParams = 2, kPush = 3, kFinish = 4 };
constexpr std::size_t kParamsHeader = sizeof(std::int64_t);
constexpr std::size_t kPushHeader = 3 * sizeof(std::int64_t) + sizeof(double);

std::size_t bytes_of(const Tensor& t) {
  return static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype());
}

// Each tensor's raw values, one after another, from `at` on; returns the end.
unsigned char* pack(const std::vector<Tensor>& ts, unsigned char* at) {
  for (const Tensor& t : ts) {
    std::memcpy(at, detail::raw(t), bytes_of(t));
    at += bytes_of(t);
  }
  return at;
}
const unsigned char* unpack(const std::vector<Tensor>& ts, const unsigned char* at) {
  for (const Tensor& t : ts) {
    std::memcpy(detail::raw(t), at, bytes_of(t));
    mark_written(t);
    at += bytes_of(t);
  }
  return at;
}

// The whole message, checked against the size the protocol gives it (`bytes`, or `or_bytes`
// where two are allowed) before it is read; returns its size.
std::size_t receive(std::vector<unsigned char>& into, std::size_t bytes, int from, int tag,
                    MPI_Comm comm, const char* what, std::size_t or_bytes = SIZE_MAX) {
  MPI_Status st;
  MPI_Probe(from, tag, comm, &st);
  int count = 0;
  MPI_Get_count(&st, MPI_BYTE, &count);
  const auto got = static_cast<std::size_t>(count);
  if (got != bytes && got != or_bytes)
    throw ValueError(msg("ParameterServer: a ", what, " from rank ", st.MPI_SOURCE, " holds ",
                         count, " bytes, expected ", bytes));
  into.resize(std::max(into.size(), got));
  MPI_Recv(into.data(), count, MPI_BYTE, st.MPI_SOURCE, tag, comm, MPI_STATUS_IGNORE);
  return got;
}
}  // namespace

struct ParameterServer::Comm {
  MPI_Comm comm = MPI_COMM_NULL;
};

ParameterServer::ParameterServer(nn::Module& model, ParameterServerOptions options)
    : model_(model), comm_(std::make_unique<Comm>()), options_(options) {
  if (!is_initialized())
    throw StateError("ParameterServer: MPI is not initialized (a dist::Context first)");
  rank_ = rank();
  world_ = world_size();
  if (world_ < 2)
    throw ValueError(
        msg("ParameterServer: needs a server and at least one worker, got ", world_, " rank"));
  if (options.max_samples < 0)
    throw ValueError(
        msg("ParameterServer: max_samples must be >= 0 (0: no budget), got ", options.max_samples));
  if (options.max_staleness < -1)
    throw ValueError(msg("ParameterServer: max_staleness must be >= 0 or -1 (no bound), got ",
                         options.max_staleness));
  auto named = model_.named_parameters();
  for (const auto& [name, p] : named) {
    if (!is_floating(p.dtype()))
      throw ValueError(msg("ParameterServer: parameter '", name, "' is ", dtype_name(p.dtype())));
    params_.push_back(p);
  }
  for (const auto& [name, b] : model_.named_buffers()) {
    buffers_.push_back(b);
    named.emplace_back(name, b);
  }
  detail::check_replicas("ParameterServer", named);
  // A message is one MPI call, whose count is an int.
  for (const Tensor& t : params_) values_bytes_ += bytes_of(t);
  for (const Tensor& t : buffers_) values_bytes_ += bytes_of(t);
  if (kPushHeader + values_bytes_ > static_cast<std::size_t>(INT_MAX))
    throw ValueError(msg("ParameterServer: a push of ", kPushHeader + values_bytes_,
                         " bytes is more than one MPI message takes (2^31 - 1)"));
  detail::broadcast_from_rank0(params_);
  detail::broadcast_from_rank0(buffers_);
  MPI_Comm_dup(MPI_COMM_WORLD, &comm_->comm);
}

ParameterServer::~ParameterServer() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_->comm != MPI_COMM_NULL) MPI_Comm_free(&comm_->comm);
}

void ParameterServer::pack_values(unsigned char* out) const { pack(buffers_, pack(params_, out)); }

void ParameterServer::unpack_values(const unsigned char* in) const {
  unpack(buffers_, unpack(params_, in));
}

ServerStats ParameterServer::serve(optim::Optimizer& optimizer,
                                   const std::function<void(const ServerUpdate&)>& on_update) {
  if (!is_server())
    throw StateError(msg("ParameterServer: serve() is rank 0's; this is rank ", rank_));
  const MPI_Comm comm = comm_->comm;
  const Clock::time_point start = Clock::now();
  const std::size_t push_bytes = kPushHeader + values_bytes_;
  const std::size_t params_bytes = kParamsHeader + values_bytes_;
  std::vector<unsigned char> in, out(params_bytes);
  std::int64_t packed = -1;  // the version `out` holds

  // The gradients land in tensors of their own, each parameter's .grad while serving.
  std::vector<Tensor> grads;
  for (const Tensor& p : params_) {
    grads.push_back(empty(p.shape(), {.dtype = p.dtype()}));
    p.set_grad(grads.back());
  }

  ServerStats stats;
  stats.worker_steps.assign(static_cast<std::size_t>(world_), 0);
  std::vector<std::int64_t> pulled(static_cast<std::size_t>(world_), -1);  // -1: not computing
  std::vector<bool> done(static_cast<std::size_t>(world_), false);
  int finished = 0;
  std::deque<int> held;
  double staleness_sum = 0;

  // Granting a pull now cannot break the bound: every worker computing (this one included)
  // may yet see each of the others' pushes land before its own.
  auto grantable = [&] {
    if (options_.max_staleness < 0) return true;
    std::int64_t oldest = version_, computing = 1;
    for (const std::int64_t v : pulled)
      if (v >= 0) {
        oldest = std::min(oldest, v);
        ++computing;
      }
    return version_ - oldest + computing - 1 <= options_.max_staleness;
  };
  auto spent = [&] { return options_.max_samples > 0 && stats.samples >= options_.max_samples; };
  auto grant = [&](int worker) {
    if (spent()) {
      const std::int64_t stop = -1;
      MPI_Send(&stop, sizeof stop, MPI_BYTE, worker, kParams, comm);
      return;
    }
    if (packed != version_) {
      std::memcpy(out.data(), &version_, sizeof version_);
      pack_values(out.data() + kParamsHeader);
      packed = version_;
    }
    pulled[static_cast<std::size_t>(worker)] = version_;
    MPI_Send(out.data(), static_cast<int>(params_bytes), MPI_BYTE, worker, kParams, comm);
  };
  auto grant_held = [&] {
    while (!held.empty() && (spent() || grantable())) {
      grant(held.front());
      held.pop_front();
    }
  };

  while (finished < world_ - 1) {
    // Blocking, so spinning: sleeping between probes (to leave the workers the core) made two
    // workers on this 2-core machine slower, 0.37-0.41 s against 0.32-0.34 s for B1's network on
    // 32000 samples, and one worker 1.8 times slower (its pulls wait longer).
    MPI_Status st;
    MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &st);
    const int from = st.MPI_SOURCE;
    const auto w = static_cast<std::size_t>(from);
    if (done[w])
      throw ValueError(msg("ParameterServer: rank ", from, " sent a message after finish()"));
    if (st.MPI_TAG == kPull) {
      receive(in, 0, from, kPull, comm, "pull");
      pulled[w] = -1;  // a second pull without a push starts over
      if (spent() || grantable()) {
        grant(from);
      } else {
        held.push_back(from);
        ++stats.held_pulls;
      }
    } else if (st.MPI_TAG == kPush) {
      receive(in, push_bytes, from, kPush, comm, "push");
      std::int64_t head[3];
      double loss = 0;
      std::memcpy(head, in.data(), sizeof head);
      std::memcpy(&loss, in.data() + sizeof head, sizeof loss);
      if (pulled[w] < 0 || head[0] != pulled[w])
        throw ValueError(msg("ParameterServer: rank ", from, " pushed a gradient of version ",
                             head[0], " without pulling it"));
      unpack(buffers_, unpack(grads, in.data() + kPushHeader));
      optimizer.step();
      ++version_;
      const std::int64_t staleness = version_ - 1 - pulled[w];
      pulled[w] = -1;
      ++stats.updates;
      ++stats.worker_steps[w];
      stats.samples += head[2];
      stats.max_staleness = std::max(stats.max_staleness, staleness);
      staleness_sum += static_cast<double>(staleness);
      if (on_update)
        on_update({.worker = from,
                   .worker_step = head[1],
                   .version = version_,
                   .staleness = staleness,
                   .samples = head[2],
                   .total_samples = stats.samples,
                   .loss = loss,
                   .seconds = std::chrono::duration<double>(Clock::now() - start).count()});
      grant_held();
    } else if (st.MPI_TAG == kFinish) {
      receive(in, 0, from, kFinish, comm, "finish");
      done[w] = true;
      pulled[w] = -1;
      ++finished;
      grant_held();
    } else {
      throw ValueError(msg("ParameterServer: rank ", from, " sent an unknown tag ", st.MPI_TAG));
    }
  }
  for (const Tensor& p : params_) p.set_grad(Tensor());
  stats.mean_staleness = stats.updates > 0 ? staleness_sum / static_cast<double>(stats.updates) : 0;
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return stats;
}

void ParameterServer::set_version(std::int64_t version) {
  if (!is_server())
    throw StateError(msg("ParameterServer: set_version() is rank 0's; this is rank ", rank_));
  if (version < 0)
    throw ValueError(msg("ParameterServer: set_version needs a count >= 0, got ", version));
  version_ = version;
}

std::int64_t ParameterServer::pull() {
  if (is_server()) throw StateError("ParameterServer: pull() is a worker's, not the server's");
  if (finished_) throw StateError("ParameterServer: pull() after finish()");
  if (stopped_) throw StateError("ParameterServer: pull() after the server said stop");
  const MPI_Comm comm = comm_->comm;
  MPI_Send(nullptr, 0, MPI_BYTE, 0, kPull, comm);
  const bool stop = receive(message_, kParamsHeader + values_bytes_, 0, kParams, comm,
                            "params message", kParamsHeader) == kParamsHeader;
  std::int64_t version = 0;
  std::memcpy(&version, message_.data(), sizeof version);
  if (stop) {
    if (version != -1)
      throw ValueError(msg("ParameterServer: a stop message of version ", version));
    stopped_ = true;
    pulled_version_ = -1;
    return -1;
  }
  unpack_values(message_.data() + kParamsHeader);
  pulled_version_ = version;
  return pulled_version_;
}

void ParameterServer::push(double loss, std::int64_t samples) {
  if (is_server()) throw StateError("ParameterServer: push() is a worker's, not the server's");
  if (finished_) throw StateError("ParameterServer: push() after finish()");
  if (stopped_) throw StateError("ParameterServer: push() after the server said stop");
  if (pulled_version_ < 0)
    throw StateError(
        "ParameterServer: push() needs a pull() first: a gradient is computed on "
        "the values the last pull gave");
  if (samples < 0) throw ValueError(msg("ParameterServer: push() of ", samples, " samples"));
  const std::size_t bytes = kPushHeader + values_bytes_;
  message_.resize(std::max(message_.size(), bytes));
  const std::int64_t head[3] = {pulled_version_, steps_ + 1, samples};
  std::memcpy(message_.data(), head, sizeof head);
  std::memcpy(message_.data() + sizeof head, &loss, sizeof loss);
  unsigned char* at = message_.data() + kPushHeader;
  for (const Tensor& p : params_) {
    const Tensor g = p.grad();
    if (g.defined() && (g.dtype() != p.dtype() || g.shape() != p.shape()))
      throw ValueError(msg("ParameterServer: a gradient of ", shape_str(g.shape()), " ",
                           dtype_name(g.dtype()), " for a parameter of ", shape_str(p.shape()), " ",
                           dtype_name(p.dtype())));
    if (g.defined())
      std::memcpy(at, detail::raw(g), bytes_of(p));
    else
      std::memset(at, 0, bytes_of(p));  // all-zero bits are 0.0 in IEEE float and double
    at += bytes_of(p);
  }
  pack(buffers_, at);
  MPI_Send(message_.data(), static_cast<int>(bytes), MPI_BYTE, 0, kPush, comm_->comm);
  pulled_version_ = -1;
  ++steps_;
}

void ParameterServer::finish() {
  if (is_server()) throw StateError("ParameterServer: finish() is a worker's, not the server's");
  if (finished_) throw StateError("ParameterServer: finish() called twice");
  MPI_Send(nullptr, 0, MPI_BYTE, 0, kFinish, comm_->comm);
  finished_ = true;
}

}  // namespace tapegrad::dist
