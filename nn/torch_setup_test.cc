#include "nn/torch_setup.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace marl {
namespace nn {
namespace {

// Initial weights depend on the scope's seed only, and the global
// generator's stream goes on afterwards as if nothing had drawn from it.
TEST(ScopedInitSeedTest, SeedsTheInitAndPutsTheGlobalStreamBack) {
  torch::manual_seed(123);
  const torch::Tensor expected_next = torch::rand({4});
  torch::manual_seed(123);
  torch::Tensor first_weights;
  {
    ScopedInitSeed seeded(7);
    first_weights = torch::nn::Linear(3, 2)->weight.detach().clone();
  }
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected_next));

  torch::manual_seed(999);  // whatever ran before
  {
    ScopedInitSeed seeded(7);
    EXPECT_TRUE(
        torch::equal(torch::nn::Linear(3, 2)->weight.detach(), first_weights));
  }
  {
    ScopedInitSeed seeded(8);
    EXPECT_FALSE(
        torch::equal(torch::nn::Linear(3, 2)->weight.detach(), first_weights));
  }
}

TEST(UseOneThreadPerProcessTest, SetsOneThreadOnce) {
  UseOneThreadPerProcess();
  EXPECT_EQ(at::get_num_threads(), 1);
  at::set_num_threads(2);  // a later call does not undo a user's choice
  UseOneThreadPerProcess();
  EXPECT_EQ(at::get_num_threads(), 2);
}

}  // namespace
}  // namespace nn
}  // namespace marl
