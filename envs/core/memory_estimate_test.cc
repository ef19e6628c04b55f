#include "envs/core/memory_estimate.h"

#include <malloc.h>

#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

// glibc keeps a block's size (with flag bits in the low 3) in the word
// before the pointer it returns: the bytes the block really takes.
int64_t BlockBytes(void* pointer) {
  return static_cast<int64_t>(reinterpret_cast<size_t*>(pointer)[-1] & ~7ul);
}

TEST(MemoryEstimateTest, AllocationBytesBoundsWhatMallocUses) {
  for (int64_t n : {1, 8, 24, 25, 40, 100, 1000, 4095, 100000, 131071, 131072,
                    200000, 1 << 20, 3 << 20}) {
    void* pointer = std::malloc(n);
    ASSERT_NE(pointer, nullptr);
    const int64_t real = BlockBytes(pointer);
    EXPECT_GE(real, n) << n;  // the header word read is a size
    EXPECT_LE(real, AllocationBytes(n)) << n;
    // And not far above: the rounding, never a multiple.
    EXPECT_LE(AllocationBytes(n), real + 4096 + 32) << n;
    EXPECT_GE(static_cast<int64_t>(malloc_usable_size(pointer)), n);
    std::free(pointer);
  }
  EXPECT_EQ(AllocationBytes(0), 0);
  EXPECT_EQ(AllocationBytes(1), 32);
  EXPECT_EQ(AllocationBytes(24), 32);
  EXPECT_EQ(AllocationBytes(25), 48);
  EXPECT_EQ(AllocationBytes(-1), -1);
  EXPECT_EQ(AllocationBytes(std::numeric_limits<int64_t>::max()), -1);
}

TEST(MemoryEstimateTest, CountsObjectsArraysStringsAndSpaces) {
  ByteEstimate bytes;
  bytes
      .AddObject(100)                               // 112
      .AddArray(3, 8)                               // 32
      .AddArray(0, 8)                               // nothing
      .AddStrings(10, 15)                           // inline: nothing
      .AddStrings(2, 16)                            // 2 x 32
      .AddSpaces(2, Space::Discrete(3))             // nothing
      .AddSpaces(2, Space::Box({2}, {0.f}, {1.f}))  // 2 x 3 x 32
      .AddBytes(4, 10);                             // 40
  ASSERT_TRUE(bytes.Total().ok());
  EXPECT_EQ(*bytes.Total(), 112 + 32 + 64 + 192 + 40);
}

TEST(MemoryEstimateTest, OverflowIsResourceExhausted) {
  const int64_t big = int64_t{1} << 32;
  for (ByteEstimate bytes :
       {ByteEstimate().AddArray(big, big), ByteEstimate().AddBytes(big, big),
        ByteEstimate()
            .AddArray(int64_t{1} << 62, 1)
            .AddArray(int64_t{1} << 62, 1),
        ByteEstimate().AddArray(-1, 8), ByteEstimate().AddStrings(big, big)}) {
    EXPECT_EQ(bytes.Total().status().code(),
              absl::StatusCode::kResourceExhausted);
  }
}

}  // namespace
}  // namespace marl
