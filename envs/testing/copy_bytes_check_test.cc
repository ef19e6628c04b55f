// The estimate check must pass an exact estimate and catch one that is too
// low or too high.
#include "envs/testing/copy_bytes_check.h"

#include <memory>
#include <vector>

#include "envs/core/env.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

// Holds `size` doubles: what a copy allocates grows with the setting.
class BufferEnv : public Env {
 public:
  explicit BufferEnv(int64_t size) : buffer_(size) {
    spec_.agent_ids = {"a"};
    spec_.observation_spaces = {Space::Discrete(1)};
    spec_.action_spaces = {Space::Discrete(1)};
  }
  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override {}
  void Step(const Actions& actions, const Output& out) override {}

 private:
  std::vector<double> buffer_;
  EnvSpec spec_;
};

absl::StatusOr<std::unique_ptr<Env>> MakeBufferEnv(const Settings& settings) {
  return std::make_unique<BufferEnv>(settings.GetInt("size"));
}

// What BufferEnv holds, scaled by `factor` (1 = exact).
CopyBytesEstimate Estimate(double factor) {
  return [factor](const Settings& settings) -> absl::StatusOr<int64_t> {
    absl::StatusOr<int64_t> exact =
        ByteEstimate()
            .AddObject(sizeof(BufferEnv))
            .AddArray(settings.GetInt("size"), sizeof(double))
            .AddArray(1, sizeof(std::string))
            .AddArray(1, sizeof(Space))
            .AddArray(1, sizeof(Space))
            .Total();
    if (!exact.ok()) return exact;
    return static_cast<int64_t>(factor * static_cast<double>(*exact));
  };
}

MARL_REGISTER_ENV({"buffer_exact",
                   "",
                   {{"size", "", int64_t{10}}},
                   MakeBufferEnv,
                   Estimate(1.0)});
MARL_REGISTER_ENV({"buffer_low",
                   "",
                   {{"size", "", int64_t{10}}},
                   MakeBufferEnv,
                   Estimate(0.9)});
MARL_REGISTER_ENV({"buffer_high",
                   "",
                   {{"size", "", int64_t{10}}},
                   MakeBufferEnv,
                   Estimate(3.0)});

TEST(CopyBytesCheckTest, CountsLiveHeapBytes) {
  const int64_t before = LiveHeapBytes();
  auto block = std::make_unique<std::vector<char>>(1000);
  EXPECT_EQ(LiveHeapBytes() - before,
            AllocationBytes(sizeof(std::vector<char>)) + AllocationBytes(1000));
  block.reset();
  EXPECT_EQ(LiveHeapBytes(), before);
}

TEST(CopyBytesCheckTest, ExactEstimatePasses) {
  for (int64_t size : {0, 10, 100000}) {
    absl::StatusOr<CopyBytesMeasurement> check =
        CheckCopyBytesEstimate("buffer_exact", {{"size", size}}, 1.1);
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_EQ(check->estimate, check->measured);
    EXPECT_GE(check->measured, 8 * size);
  }
}

TEST(CopyBytesCheckTest, CatchesEstimatesTooLowOrTooHigh) {
  const absl::StatusOr<CopyBytesMeasurement> low =
      CheckCopyBytesEstimate("buffer_low", {{"size", int64_t{1000}}}, 1.1);
  EXPECT_EQ(low.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(low.status().message().find("not an upper bound"),
            std::string::npos);
  const absl::StatusOr<CopyBytesMeasurement> high =
      CheckCopyBytesEstimate("buffer_high", {{"size", int64_t{1000}}}, 2.0);
  EXPECT_EQ(high.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(
      CheckCopyBytesEstimate("buffer_high", {{"size", int64_t{1000}}}, 3.5)
          .ok());
}

}  // namespace
}  // namespace marl
