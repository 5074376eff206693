#pragma once
// fn(0) … fn(n-1) at once, one thread each (n is a node count); the first exception is rethrown
// after all have finished.
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace r1::cluster {

template <class Fn>
void parallel_for(std::size_t n, Fn&& fn) {
  if (n == 1) {
    fn(std::size_t{0});
    return;
  }
  std::exception_ptr first;
  std::mutex mutex;
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!first) first = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace r1::cluster
