// RemoteEnv through the embedded server: typed settings from text, action
// buffers, and the settings flag parser.
#include "client/remote_env.h"

#include "gtest/gtest.h"
#include "protocol/protocol_arrays.h"
#include "server/embedded_server.h"

namespace marl {
namespace {

// No endpoint: a server embedded in this test.
ClientOptions Embedded() {
  ClientOptions options;
  options.embedded_server = EmbeddedServerFactory();
  return options;
}

TEST(ParseSettingsFlagTest, SplitsOutsideBrackets) {
  auto settings =
      ParseSettingsFlag("game=wolf,payoffs_row=[[0,3],[1,2]],p=0.7");
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->size(), 3u);
  EXPECT_EQ(settings->at("payoffs_row"), "[[0,3],[1,2]]");
  EXPECT_EQ(settings->at("p"), "0.7");
  EXPECT_TRUE(ParseSettingsFlag("").value().empty());
  EXPECT_FALSE(ParseSettingsFlag("game").ok());
  EXPECT_FALSE(ParseSettingsFlag("a=1,a=2").ok());
}

TEST(ParseSettingsFlagTest, SpacesAroundItemsAreNotPartOfNames) {
  auto settings = ParseSettingsFlag("a=1, b=2 ,  c = [1, 2] ,");
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(*settings, (std::map<std::string, std::string>{
                           {"a", "1"}, {"b", "2"}, {"c", "[1, 2]"}}));
  for (const char* text : {" =1", "a=1, =2", "a=1,  = 2"}) {
    absl::Status status = ParseSettingsFlag(text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(status.message().find("empty name"), std::string::npos) << status;
  }
  EXPECT_FALSE(ParseSettingsFlag("a=1, a =2").ok());  // given twice
}

TEST(RemoteEnvTest, SpacedSettingsReachTheEnvironment) {
  auto client = EnvClient::Connect(Embedded());
  ASSERT_TRUE(client.ok()) << client.status();
  auto settings = ParseSettingsFlag("game=climbing, reward_scale=2");
  ASSERT_TRUE(settings.ok()) << settings.status();
  auto env = RemoteEnv::Make(client->get(), "matrix_game", *settings, 1, 0);
  EXPECT_TRUE(env.ok()) << env.status();
}

TEST(RemoteEnvTest, TextSettingsTakeTheDeclaredTypes) {
  auto client = EnvClient::Connect(Embedded());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE((*client)->embedded());
  auto env = RemoteEnv::Make(client->get(), "matrix_game",
                             {{"payoffs_row", "[[1,0,0],[0,2,0]]"},
                              {"payoffs_column", "[[1,0,0],[0,2,0]]"}},
                             2, 5);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ((*env)->spec().action_spaces[0], Space::Discrete(2));
  EXPECT_EQ((*env)->spec().action_spaces[1], Space::Discrete(3));
  ASSERT_TRUE((*env)->Reset().ok());
  (*env)->discrete_actions(0) = {1, 0};
  (*env)->discrete_actions(1) = {1, 2};
  auto timestep = (*env)->Step();
  ASSERT_TRUE(timestep.ok()) << timestep.status();
  EXPECT_EQ(ArrayToVector<float>((*timestep)->agents(0).reward()),
            (std::vector<float>{2.0f, 0.0f}));

  auto bad_type =
      RemoteEnv::Make(client->get(), "matrix_game",
                      {{"game", "[[1]]"}, {"reward_scale", "x"}}, 1, 0);
  EXPECT_EQ(bad_type.status().code(), absl::StatusCode::kInvalidArgument);
  auto unknown =
      RemoteEnv::Make(client->get(), "matrix_game", {{"no_such", "1"}}, 1, 0);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("known:"), std::string::npos);
  EXPECT_EQ(RemoteEnv::Make(client->get(), "nope", {}, 1, 0).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace marl
