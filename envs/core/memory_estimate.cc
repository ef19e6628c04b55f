#include "envs/core/memory_estimate.h"

#include <string>

#include "absl/status/status.h"
#include "envs/core/checked_size.h"

namespace marl {
namespace {

// malloc serves blocks from this size on by mapping pages (its default
// threshold; a grown threshold only makes blocks smaller than this bound).
constexpr int64_t kMmapThreshold = int64_t{128} << 10;
constexpr int64_t kPage = 4096;

// `value` rounded up to a multiple of `to` (a power of two), or -1.
int64_t RoundUp(int64_t value, int64_t to) {
  int64_t sum;
  if (!CheckedAdd(value, to - 1, &sum)) return -1;
  return sum & ~(to - 1);
}

// What std::string holds inline (libstdc++: 15 characters).
int64_t SmallStringCapacity() { return std::string().capacity(); }

}  // namespace

int64_t AllocationBytes(int64_t bytes) {
  if (bytes < 0) return -1;
  if (bytes == 0) return 0;
  if (bytes >= kMmapThreshold) {
    int64_t with_header;
    if (!CheckedAdd(bytes, 16, &with_header)) return -1;
    return RoundUp(with_header, kPage);
  }
  const int64_t block = RoundUp(bytes + 8, 16);
  return block < 32 ? 32 : block;
}

ByteEstimate& ByteEstimate::AddObject(int64_t object_size) {
  return AddBytes(1, AllocationBytes(object_size));
}

ByteEstimate& ByteEstimate::AddArray(int64_t count, int64_t element_size) {
  int64_t bytes;
  if (!CheckedMul(count, element_size, &bytes)) {
    overflow_ = true;
    return *this;
  }
  return AddBytes(1, AllocationBytes(bytes));
}

ByteEstimate& ByteEstimate::AddStrings(int64_t count, int64_t length) {
  if (length <= SmallStringCapacity()) return *this;
  return AddBytes(count, AllocationBytes(length + 1));  // + terminator
}

ByteEstimate& ByteEstimate::AddSpaces(int64_t count, const Space& space) {
  // A copied space's vectors hold exactly their elements.
  const int64_t bytes = AllocationBytes(sizeof(int64_t) * space.shape.size()) +
                        AllocationBytes(sizeof(float) * space.low.size()) +
                        AllocationBytes(sizeof(float) * space.high.size()) +
                        AllocationBytes(sizeof(int64_t) * space.nvec.size());
  return AddBytes(count, bytes);
}

ByteEstimate& ByteEstimate::AddBytes(int64_t count, int64_t bytes) {
  int64_t product;
  if (!CheckedMul(count, bytes, &product) ||
      !CheckedAdd(total_, product, &total_)) {
    overflow_ = true;
  }
  return *this;
}

absl::StatusOr<int64_t> ByteEstimate::Total() const {
  if (overflow_) {
    return absl::ResourceExhaustedError(
        "the settings describe an environment copy of more than 2^63 bytes");
  }
  return total_;
}

}  // namespace marl
