#include "nn/adam.h"

#include <torch/torch.h>

#include <sstream>

#include "gtest/gtest.h"

namespace marl {
namespace nn {
namespace {

// The same updates as torch::optim::Adam, bit for bit, over many steps of
// a small network; and a checkpoint of one loads into the other.
TEST(ForeachAdamTest, StepsExactlyAsAdam) {
  torch::manual_seed(3);
  torch::nn::Sequential a(torch::nn::Linear(4, 8), torch::nn::ReLU(),
                          torch::nn::Linear(8, 2));
  torch::nn::Sequential b(torch::nn::Linear(4, 8), torch::nn::ReLU(),
                          torch::nn::Linear(8, 2));
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < a->parameters().size(); ++i) {
      b->parameters()[i].copy_(a->parameters()[i]);
    }
  }
  torch::optim::Adam reference(a->parameters(),
                               torch::optim::AdamOptions(3e-3));
  ForeachAdam fast(b->parameters(), torch::optim::AdamOptions(3e-3));
  for (int step = 0; step < 50; ++step) {
    const torch::Tensor x = torch::randn({16, 4});
    const torch::Tensor y = torch::randn({16, 2});
    for (auto [net, opt] :
         {std::pair<torch::nn::Sequential*, torch::optim::Optimizer*>{
              &a, &reference},
          {&b, &fast}}) {
      opt->zero_grad();
      torch::mse_loss((*net)->forward(x), y).backward();
      opt->step();
    }
  }
  for (size_t i = 0; i < a->parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(a->parameters()[i], b->parameters()[i])) << i;
  }
  torch::serialize::OutputArchive out;
  fast.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  std::istringstream in_bytes(bytes.str());
  torch::serialize::InputArchive in;
  in.load_from(in_bytes);
  torch::optim::Adam restored(b->parameters(), torch::optim::AdamOptions(3e-3));
  restored.load(in);  // Adam's own format
}

}  // namespace
}  // namespace nn
}  // namespace marl
