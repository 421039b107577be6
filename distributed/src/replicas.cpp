// The replicas' check: each tensor's name, shape and dtype hashed; the count and every hash
// must have the same smallest and largest value across the ranks.
#include "replicas.h"

#include <functional>

#include "tapegrad/core/autograd.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/distributed/collectives.h"
#include "tapegrad/distributed/context.h"

namespace tapegrad::dist::detail {

void check_replicas(const char* who, const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::int64_t> sig{static_cast<std::int64_t>(named.size())};
  for (const auto& [name, p] : named)
    sig.push_back(static_cast<std::int64_t>(std::hash<std::string>{}(
        msg(name, ' ', shape_str(p.shape()), ' ', dtype_name(p.dtype())))));
  Tensor count = from_vector(std::vector<std::int64_t>{sig[0], -sig[0]}, {2});
  all_reduce(count, ReduceOp::Max);
  const auto c = count.to_vector<std::int64_t>();
  if (c[0] != -c[1])
    throw ValueError(msg(who, ": the ranks' models differ: between ", -c[1], " and ", c[0],
                         " parameters and buffers (this rank, ", rank(), ", has ", sig[0], ")"));
  Tensor hi = from_vector(sig, {static_cast<std::int64_t>(sig.size())}), lo = hi.clone();
  all_reduce(hi, ReduceOp::Max);
  all_reduce(lo, ReduceOp::Min);
  const auto h = hi.to_vector<std::int64_t>(), l = lo.to_vector<std::int64_t>();
  for (std::size_t i = 1; i < sig.size(); ++i)
    if (h[i] != l[i])
      throw ValueError(msg(who, ": the ranks' models differ at '", named[i - 1].first, "' (here ",
                           shape_str(named[i - 1].second.shape()), " ",
                           dtype_name(named[i - 1].second.dtype()), " on rank ", rank(), ")"));
}

void broadcast_from_rank0(const std::vector<Tensor>& tensors) {
  NoGradGuard no_grad;
  for (const Tensor& t : tensors) broadcast(t, 0);
}

}  // namespace tapegrad::dist::detail
