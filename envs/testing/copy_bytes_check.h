#ifndef MARL_ENVS_TESTING_COPY_BYTES_CHECK_H_
#define MARL_ENVS_TESTING_COPY_BYTES_CHECK_H_

// Checks an environment's per-copy memory estimate against what a copy
// really allocates. A test binary that links this library has its global
// operator new and delete replaced by counting ones (the library is
// alwayslink): every live block counts AllocationBytes(its size), the
// allocator model the estimates use (envs/core/memory_estimate.h, whose
// own test checks that model against malloc).

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "envs/core/settings.h"

namespace marl {

// The bytes of every block allocated with operator new and not yet freed.
int64_t LiveHeapBytes();

struct CopyBytesMeasurement {
  int64_t estimate = 0;  // EstimateCopyBytes for the resolved settings
  int64_t measured = 0;  // live bytes the factory's copy holds
};

// Resolves `settings` for environment `name`, takes its registration's
// estimate, then builds one copy with its factory and measures the live
// heap it holds (the Env and everything it owns; transient allocations
// freed by the factory do not count). INTERNAL unless
// measured <= estimate <= max_factor * measured; the estimate's or the
// factory's error status as is.
absl::StatusOr<CopyBytesMeasurement> CheckCopyBytesEstimate(
    const std::string& name,
    const std::map<std::string, SettingValue>& settings, double max_factor);

}  // namespace marl

#endif  // MARL_ENVS_TESTING_COPY_BYTES_CHECK_H_
