// The caching allocator: freed blocks are kept and reused, empty_cache gives them back, live
// bytes ignore the cache, and tensors may die on another thread than the one that made them.
#include <unistd.h>

#include <fstream>
#include <thread>

#include "../helpers.h"
#include "runtime/allocator.h"
#include "tensor/tensor_impl.h"

TEST_CASE("memory: a freed tensor's block is cached and reused, empty_cache returns it") {
  tg::empty_cache();
  CHECK(tg::cached_tensor_bytes() == 0);
  const std::size_t live = tg::live_tensor_bytes();
  {
    tg::Tensor t = tg::zeros({1000});  // 4000 bytes
    CHECK(tg::live_tensor_bytes() == live + 4000);
  }
  CHECK(tg::live_tensor_bytes() == live);
  const std::size_t cached = tg::cached_tensor_bytes();
  CHECK(cached >= 4000);  // the block, rounded up to its size class (and the tensor's header)
  {
    tg::Tensor t = tg::ones({1000});  // same size: served from the cache, contents rewritten
    CHECK(tg::cached_tensor_bytes() < cached);
    CHECK(t.sum().item() == 1000);
  }
  tg::empty_cache();
  CHECK(tg::cached_tensor_bytes() == 0);
  CHECK(tg::live_tensor_bytes() == live);
}

TEST_CASE("memory: the cache stays flat over repeated training steps") {
  tg::Tensor w = leaf({64, 32});
  tg::Tensor x = leaf({16, 64}, 3).detach();
  auto step = [&] {
    tg::Tensor loss = tg::tanh(tg::matmul(x, w)).pow(2).mean();
    loss.backward();
    w.zero_grad();
  };
  // Tape entries are freed in batches (when the tape compacts), so the cache breathes a little
  // from step to step; after a warm-up it must never hold more than it did then.
  std::size_t warm = 0;
  for (int i = 0; i < 200; ++i) {
    step();
    warm = std::max(warm, tg::cached_tensor_bytes());
  }
  const std::size_t live = tg::live_tensor_bytes();
  std::size_t later = 0;
  for (int i = 0; i < 2000; ++i) {
    step();
    later = std::max(later, tg::cached_tensor_bytes());
  }
  CHECK(later <= warm);
  CHECK(tg::live_tensor_bytes() == live);
}

TEST_CASE("memory: sizes from empty to several MiB come back intact") {
  for (std::int64_t n : {0, 1, 15, 16, 17, 255, 256, 257, 1000, 4096, 100000, 1 << 21}) {
    tg::Tensor t = tg::full({n}, 3.0, {.dtype = tg::kFloat64});
    CHECK(t.numel() == n);
    CHECK(t.sum().item() == 3.0 * static_cast<double>(n));
  }
}

TEST_CASE("memory: tensors made on one thread may be freed on another") {
  std::vector<tg::Tensor> made(64);
  std::thread maker([&] {
    for (std::size_t i = 0; i < made.size(); ++i)
      made[i] = tg::full({static_cast<std::int64_t>(i + 1)}, 1.0);
  });
  maker.join();  // the maker's cache is gone: its blocks live on in `made`
  for (std::size_t i = 0; i < made.size(); ++i)
    CHECK(made[i].sum().item() == static_cast<double>(i + 1));
  std::thread freer([&] { made.clear(); });  // freed into the freer's cache, released at its exit
  freer.join();
  // And a thread that trains on its own: its cache is used and released at its exit.
  std::thread worker([] {
    tg::Tensor w = leaf({8, 8});
    for (int i = 0; i < 10; ++i) {
      tg::Tensor loss = tg::sigmoid(w).sum();
      loss.backward();
    }
    CHECK(tg::cached_tensor_bytes() > 0);
  });
  worker.join();
}

// AddressSanitizer's allocator neither trims nor reports the resident size alike.
#if !defined(TAPEGRAD_ASAN)
TEST_CASE("memory: empty_cache gives the memory back to the OS, not only to malloc") {
  auto rss_mib = [] {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1 << 20);
  };
  tg::empty_cache();
  const double before = rss_mib();
  {
    // 64 MiB in 16 KiB blocks (below glibc's mmap threshold, so they come from the heap), each
    // followed by a small block that stays alive: the heap cannot shrink from its top alone.
    std::vector<tg::Tensor> big;
    std::vector<std::unique_ptr<char[]>> pins;
    for (int i = 0; i < 4096; ++i) {
      big.push_back(tg::ones({4096}));
      pins.push_back(std::make_unique<char[]>(64));
    }
    big.clear();  // into tapegrad's cache
    CHECK(rss_mib() > before + 48);
    tg::empty_cache();
    CHECK(rss_mib() < before + 16);
  }
}
#endif

TEST_CASE(
    "memory: blocks of 8 MiB and more start on a huge-page boundary, smaller ones on a line") {
  const tg::Tensor big = tg::ones({2 * 1024 * 1024 + 3});  // just over 8 MiB of float32
  CHECK(reinterpret_cast<std::uintptr_t>(big.data<float>()) % (std::uintptr_t{2} << 20) == 0);
  CHECK(big.sum().item() == doctest::Approx(2 * 1024 * 1024 + 3));  // every byte is usable
  const tg::Tensor small = tg::ones({1000});
  CHECK(reinterpret_cast<std::uintptr_t>(small.data<float>()) % 64 == 0);
}

TEST_CASE("memory: a view into another tensor's block shares its elements and keeps it alive") {
  const std::size_t live = tg::live_tensor_bytes();
  tg::Tensor view;
  {
    const tg::Tensor base = tg::arange(0, 12, 1, {.dtype = tg::kFloat64});
    view = tg::view_of(base, 4, {2, 3});
    CHECK(view.to_vector<double>() == std::vector<double>{4, 5, 6, 7, 8, 9});
    CHECK_FALSE(tg::same_storage(view, base));    // its own storage, with its own version
    CHECK(tg::live_tensor_bytes() == live + 96);  // a view's bytes are its base's
    view.fill_(-1);
    CHECK(base.to_vector<double>()[4] == -1);
    CHECK(base.to_vector<double>()[10] == 10);
    // A view of the view reaches the same block.
    tg::view_of(view, 5, {1}).fill_(7);
    CHECK(base.to_vector<double>()[9] == 7);
    CHECK_THROWS_WITH_AS(tg::view_of(base, 8, {5}), "view: elements [8, 13) of a tensor of 12",
                         tg::ValueError);
  }
  // The base's last handle is gone; the view holds its block.
  CHECK(tg::live_tensor_bytes() == live + 96);
  CHECK(view.to_vector<double>() == std::vector<double>{-1, -1, -1, -1, -1, 7});
  view = tg::Tensor();
  CHECK(tg::live_tensor_bytes() == live);
}
