#include "learners/torch_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <string>

#include "gtest/gtest.h"
#include "runtime/learner_state.h"

namespace marl {
namespace {

struct Parts {
  torch::nn::Linear net{torch::nn::LinearOptions(3, 2)};
  torch::optim::Adam adam{net->parameters(), torch::optim::AdamOptions(0.1)};
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(5);
  torch::Tensor log_alpha = torch::zeros({1}, torch::requires_grad());

  // The optimizer shares its network's key, as learners' do.
  TorchParts Named() {
    return {{{"net", net.get()}},
            {{"net", &adam}},
            {{"generator", &generator}},
            {{"log_alpha", &log_alpha}}};
  }
  void Train() {
    adam.zero_grad();
    net->forward(torch::ones({4, 3})).sum().backward();
    adam.step();
  }
};

TEST(TorchStateTest, EveryPartGoesOnWhereItStopped) {
  Parts a;
  a.Train();
  torch::rand({3}, a.generator);
  {
    torch::NoGradGuard no_grad;
    a.log_alpha.fill_(-0.5);
  }
  LearnerStateWriter writer("test", {3, 2});
  ASSERT_TRUE(WriteTorchParts(a.Named(), &writer).ok());
  absl::StatusOr<LearnerStateReader> reader =
      LearnerStateReader::Open(writer.Finish(), "test", {3, 2});
  ASSERT_TRUE(reader.ok());
  Parts b;
  ASSERT_TRUE(ReadTorchParts(*reader, b.Named()).ok());
  EXPECT_TRUE(torch::equal(a.net->weight, b.net->weight));
  EXPECT_EQ(b.log_alpha.item<float>(), -0.5f);
  EXPECT_TRUE(b.log_alpha.requires_grad());
  EXPECT_TRUE(torch::equal(torch::rand({4}, a.generator),
                           torch::rand({4}, b.generator)));
  // The optimizer's moments came along: the next step is the same.
  a.Train();
  b.Train();
  EXPECT_TRUE(torch::equal(a.net->weight, b.net->weight));
}

TEST(TorchStateTest, MissingOrMisshapenPartsAreDataLoss) {
  Parts a;
  LearnerStateWriter writer("test", {});
  ASSERT_TRUE(
      WriteTorchParts({{{"net", a.net.get()}}, {}, {}, {}}, &writer).ok());
  absl::StatusOr<LearnerStateReader> reader =
      LearnerStateReader::Open(writer.Finish(), "test", {});
  ASSERT_TRUE(reader.ok());
  Parts b;
  absl::Status missing = ReadTorchParts(*reader, b.Named());
  EXPECT_EQ(missing.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(missing.message().find("'optimizer/net'"), std::string::npos)
      << missing;
  torch::nn::Linear wider(torch::nn::LinearOptions(5, 2));
  absl::Status shape =
      ReadTorchParts(*reader, {{{"net", wider.get()}}, {}, {}, {}});
  EXPECT_EQ(shape.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(shape.message().find("'module/net'"), std::string::npos) << shape;
}

}  // namespace
}  // namespace marl
