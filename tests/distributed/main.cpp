// The dist tests run as one MPI job (ctest: mpiexec -n 2): every rank runs every test, so the
// collectives meet. Checks use CHECK, never REQUIRE: a rank that left a test early would leave
// the other waiting in a collective.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <tapegrad/tapegrad.hpp>

int main(int argc, char** argv) {
  tapegrad::dist::Context mpi(argc, argv);
  doctest::Context context(argc, argv);
  int failed = context.run();
  // Every rank's verdict: the job fails when any rank failed.
  tapegrad::Tensor f = tapegrad::scalar_tensor(failed ? 1 : 0, {.dtype = tapegrad::kInt64});
  tapegrad::dist::all_reduce(f, tapegrad::dist::ReduceOp::Max);
  return f.item() != 0 ? 1 : 0;
}
