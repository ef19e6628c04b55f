// CURVE certificate files (ours and pyzmq's), socket set-up and the ZAP
// authenticator, with real keys and real sockets.
#include "protocol/curve.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <zmq.hpp>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

std::string FreshDir(const std::string& name) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/", name);
  std::system(absl::StrCat("rm -rf '", dir, "'").c_str());
  EXPECT_EQ(mkdir(dir.c_str(), 0700), 0) << dir;
  return dir;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

CurveKeyPair NewKeys() {
  absl::StatusOr<CurveKeyPair> keys = GenerateCurveKeyPair();
  EXPECT_TRUE(keys.ok()) << keys.status();
  return *keys;
}

TEST(CurveTest, CurveIsAvailable) { EXPECT_TRUE(CheckCurveAvailable().ok()); }

TEST(CurveTest, WrittenCertificatesReadBack) {
  const std::string dir = FreshDir("roundtrip");
  const CurveKeyPair keys = NewKeys();
  EXPECT_EQ(keys.public_key.size(), kCurveKeyZ85Size);
  ASSERT_TRUE(WriteCurveCertificates(dir, "agent", keys, false).ok());

  absl::StatusOr<CurveKeyPair> secret =
      ReadCurveSecretCertificate(dir + "/agent.key_secret");
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->public_key, keys.public_key);
  EXPECT_EQ(secret->secret_key, keys.secret_key);
  absl::StatusOr<CurveKeyPair> public_only =
      ReadCurveCertificate(dir + "/agent.key");
  ASSERT_TRUE(public_only.ok()) << public_only.status();
  EXPECT_EQ(public_only->public_key, keys.public_key);
  EXPECT_TRUE(public_only->secret_key.empty());
  EXPECT_EQ(ReadText(dir + "/agent.key").find(keys.secret_key),
            std::string::npos);

  struct stat info;
  ASSERT_EQ(stat((dir + "/agent.key_secret").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  // The public file alone is not a secret certificate.
  absl::Status status = ReadCurveSecretCertificate(dir + "/agent.key").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("key_secret"), std::string::npos);
}

TEST(CurveTest, RefusesToOverwriteUnlessAsked) {
  const std::string dir = FreshDir("overwrite");
  const CurveKeyPair first = NewKeys();
  ASSERT_TRUE(WriteCurveCertificates(dir, "server", first, false).ok());
  const CurveKeyPair second = NewKeys();
  absl::Status status = WriteCurveCertificates(dir, "server", second, false);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadCurveCertificate(dir + "/server.key_secret")->secret_key,
            first.secret_key);
  ASSERT_TRUE(WriteCurveCertificates(dir, "server", second, true).ok());
  EXPECT_EQ(ReadCurveCertificate(dir + "/server.key_secret")->secret_key,
            second.secret_key);
  EXPECT_EQ(WriteCurveCertificates(dir + "/missing", "x", second, false).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(WriteCurveCertificates(dir, "../x", second, false).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CurveTest, BadFilesGetClearErrors) {
  const std::string dir = FreshDir("bad");
  const CurveKeyPair keys = NewKeys();
  EXPECT_EQ(ReadCurveCertificate(dir + "/none.key").status().code(),
            absl::StatusCode::kNotFound);

  struct Case {
    std::string text;
    std::string expected;  // in the message
  };
  const CurveKeyPair other = NewKeys();
  const std::vector<Case> cases = {
      {"just some text\n", "no public-key"},
      // Keys outside a curve section do not count.
      {absl::StrCat("metadata\n    public-key = \"", keys.public_key, "\"\n"),
       "no public-key"},
      {"curve\n    public-key = \"abc\"\n", "has 3 characters"},
      {absl::StrCat("curve\n    public-key = \"", keys.public_key.substr(0, 39),
                    "~\"\n"),
       "not Z85"},
      {absl::StrCat("curve\n    public-key = \"", keys.public_key,
                    "\"\n    secret-key = \"", other.secret_key, "\"\n"),
       "does not belong"},
      {absl::StrCat("curve\n    public-key = \"", keys.public_key,
                    "\"\n    public-key = \"", keys.public_key, "\"\n"),
       "given twice"},
      {"curve\n    public-key\n", "name = \"value\""},
  };
  for (const Case& c : cases) {
    WriteText(dir + "/bad.key", c.text);
    absl::Status status = ReadCurveCertificate(dir + "/bad.key").status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(status.message().find(c.expected), std::string::npos)
        << status << " for " << c.text;
  }
  // A directory or a huge file is not read as a certificate.
  EXPECT_EQ(ReadCurveCertificate(dir).status().code(),
            absl::StatusCode::kInvalidArgument);
  WriteText(dir + "/huge.key", std::string(1 << 20, 'x'));
  EXPECT_EQ(ReadCurveCertificate(dir + "/huge.key").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CurveTest, ReadsPyzmqCertificates) {
  const std::string dir = FreshDir("pyzmq");
  const std::string script = absl::StrCat(
      "import zmq.auth\n"
      "pub, sec = zmq.auth.create_certificates('",
      dir,
      "', 'client')\n"
      "p, s = zmq.auth.load_certificate(sec)\n"
      "open('",
      dir, "/expected.txt', 'w').write(p.decode() + ' ' + s.decode())\n");
  WriteText(dir + "/make.py", script);
  ASSERT_EQ(
      std::system(absl::StrCat("/usr/bin/python3 ", dir, "/make.py").c_str()),
      0);
  const std::string expected = ReadText(dir + "/expected.txt");
  absl::StatusOr<CurveKeyPair> keys =
      ReadCurveSecretCertificate(dir + "/client.key_secret");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(absl::StrCat(keys->public_key, " ", keys->secret_key), expected);
  absl::StatusOr<CurveKeyPair> public_only =
      ReadCurveCertificate(dir + "/client.key");
  ASSERT_TRUE(public_only.ok()) << public_only.status();
  EXPECT_EQ(public_only->public_key, keys->public_key);
}

TEST(CurveTest, AuthorizedKeysAreThePublicFilesOfADirectory) {
  const std::string dir = FreshDir("authorized");
  EXPECT_EQ(ReadAuthorizedKeys(dir + "/missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadAuthorizedKeys(dir).status().code(),
            absl::StatusCode::kInvalidArgument);  // no key at all
  const CurveKeyPair a = NewKeys();
  const CurveKeyPair b = NewKeys();
  ASSERT_TRUE(WriteCurveCertificates(dir, "a", a, false).ok());
  ASSERT_TRUE(WriteCurveCertificates(dir, "b", b, false).ok());
  WriteText(dir + "/README", "not a key");
  absl::StatusOr<std::set<std::string>> keys = ReadAuthorizedKeys(dir);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(*keys, (std::set<std::string>{a.public_key, b.public_key}));
  WriteText(dir + "/broken.key", "curve\n    public-key = \"short\"\n");
  EXPECT_EQ(ReadAuthorizedKeys(dir).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A CURVE ROUTER in a context with the authenticator, and a client.
struct Exchange {
  explicit Exchange(const std::set<std::string>& authorized, bool allow_any) {
    zap = *ZapAuthenticator::Start(&context, authorized, allow_any);
    EXPECT_TRUE(ConfigureCurveServer(&server, server_keys).ok());
    server.set(zmq::sockopt::linger, 0);
    server.set(zmq::sockopt::rcvtimeo, 500);
    server.bind("tcp://127.0.0.1:0");
    endpoint = server.get(zmq::sockopt::last_endpoint);
  }
  // Sends "ping" from a client with `keys` (null: ephemeral); returns the
  // User-Id the server saw, or "<none>" if nothing arrived.
  std::string Ping(const CurveKeyPair* keys) {
    zmq::context_t client_context(1);
    zmq::socket_t client(client_context, zmq::socket_type::dealer);
    client.set(zmq::sockopt::linger, 0);
    EXPECT_TRUE(
        ConfigureCurveClient(&client, server_keys.public_key, keys).ok());
    client.connect(endpoint);
    client.send(zmq::str_buffer("ping"), zmq::send_flags::none);
    zmq::message_t identity, body;
    if (!server.recv(identity, zmq::recv_flags::none)) return "<none>";
    EXPECT_TRUE(server.recv(body, zmq::recv_flags::none));
    EXPECT_EQ(body.to_string(), "ping");
    return body.gets("User-Id");
  }
  zmq::context_t context{1};
  CurveKeyPair server_keys = NewKeys();
  std::unique_ptr<ZapAuthenticator> zap;
  zmq::socket_t server{context, zmq::socket_type::router};
  std::string endpoint;
};

TEST(ZapAuthenticatorTest, AdmitsListedKeysAndTagsTheirMessages) {
  const CurveKeyPair alice = NewKeys();
  const CurveKeyPair mallory = NewKeys();
  Exchange exchange({alice.public_key}, /*allow_any=*/false);
  EXPECT_EQ(exchange.Ping(&alice), alice.public_key);
  EXPECT_EQ(exchange.zap->allowed(), 1);
  EXPECT_EQ(exchange.Ping(&mallory), "<none>");
  EXPECT_EQ(exchange.Ping(nullptr), "<none>");  // ephemeral key
  EXPECT_GE(exchange.zap->denied(), 2);
  EXPECT_EQ(exchange.Ping(&alice), alice.public_key);
  exchange.server.close();  // before the authenticator, as servers do
}

TEST(ZapAuthenticatorTest, AllowAnyAdmitsEveryKeyWithItsIdentity) {
  const CurveKeyPair anyone = NewKeys();
  Exchange exchange({}, /*allow_any=*/true);
  EXPECT_EQ(exchange.Ping(&anyone), anyone.public_key);
  const std::string ephemeral = exchange.Ping(nullptr);
  EXPECT_EQ(ephemeral.size(), kCurveKeyZ85Size);
  EXPECT_NE(ephemeral, anyone.public_key);
  EXPECT_EQ(exchange.zap->denied(), 0);
  exchange.server.close();
}

TEST(ZapAuthenticatorTest, OnePerContext) {
  zmq::context_t context(1);
  auto first = ZapAuthenticator::Start(&context, {}, true);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ZapAuthenticator::Start(&context, {}, true);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  first->reset();
  // Once the first stopped, the endpoint is free again.
  EXPECT_TRUE(ZapAuthenticator::Start(&context, {}, true).ok());
}

TEST(CurveTest, ClientNeedsAValidServerKey) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  EXPECT_EQ(ConfigureCurveClient(&socket, "short", nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  CurveKeyPair no_secret = NewKeys();
  no_secret.secret_key.clear();
  EXPECT_EQ(ConfigureCurveServer(&socket, no_secret).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace marl
