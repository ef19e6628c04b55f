#ifndef MARL_ENVS_CORE_MEMORY_ESTIMATE_H_
#define MARL_ENVS_CORE_MEMORY_ESTIMATE_H_

// Upper bounds of the memory an environment copy holds, computed from its
// settings before anything is built: what an environment's
// EnvRegistration::estimate_copy_bytes (envs/core/registry.h) returns.
//
// Bytes are counted as the allocator uses them (glibc malloc on 64-bit
// Linux): a heap block of n bytes takes max(32, n + 8 rounded up to 16)
// bytes, a large one (>= 128 KiB, which malloc maps) n + 16 rounded up to
// a 4 KiB page. An estimate mirrors the copy's members one by one: its own
// object, then every buffer of its vectors and strings, sized as the copy
// sizes them (exact capacities: the copy reserves what it will hold).

#include <cstdint>

#include "absl/status/statusor.h"
#include "envs/core/space.h"

namespace marl {

// The heap bytes one allocation of `bytes` uses (0 for none); -1 for a
// negative size or one whose rounding leaves int64.
int64_t AllocationBytes(int64_t bytes);

// Accumulates an estimate with overflow-safe arithmetic; Total() reports an
// overflow (settings whose size leaves int64) as RESOURCE_EXHAUSTED.
class ByteEstimate {
 public:
  // An object on the heap (an Env made with std::make_unique).
  ByteEstimate& AddObject(int64_t object_size);
  // One buffer of `count` elements of `element_size` bytes (a vector's
  // storage); nothing for count 0.
  ByteEstimate& AddArray(int64_t count, int64_t element_size);
  // `count` strings of at most `length` characters each, beyond their
  // sizeof (counted by the array holding them): a buffer only past the
  // small-string capacity.
  ByteEstimate& AddStrings(int64_t count, int64_t length);
  // The buffers of `count` spaces like `space`, beyond their sizeof.
  ByteEstimate& AddSpaces(int64_t count, const Space& space);
  // `count` times `bytes`.
  ByteEstimate& AddBytes(int64_t count, int64_t bytes);

  absl::StatusOr<int64_t> Total() const;

 private:
  int64_t total_ = 0;
  bool overflow_ = false;
};

}  // namespace marl

#endif  // MARL_ENVS_CORE_MEMORY_ESTIMATE_H_
