#include "nn/torch_setup.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace marl {
namespace nn {
namespace {

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
