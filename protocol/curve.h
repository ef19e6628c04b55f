#ifndef MARL_PROTOCOL_CURVE_H_
#define MARL_PROTOCOL_CURVE_H_

// ZeroMQ CURVE security for the environment servers and clients: key files
// in ZeroMQ's certificate format, socket set-up, and a ZAP authenticator
// that serves only listed client keys.
//
// Certificate files are the ones pyzmq's zmq.auth.create_certificates
// writes and zmq.auth.load_certificate reads (and czmq's zcert): NAME.key
// holds the public key, NAME.key_secret both keys, as Z85 text:
//   curve
//       public-key = "<40 Z85 characters>"
//       secret-key = "<40 Z85 characters>"

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace zmq {
class context_t;
class message_t;
class socket_t;
}  // namespace zmq

namespace marl {

// Z85 text of a CURVE key (32 bytes).
inline constexpr size_t kCurveKeyZ85Size = 40;

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85; empty when read from a public .key file
};

// OK if this libzmq supports CURVE (built with libsodium or tweetnacl);
// FAILED_PRECONDITION otherwise.
absl::Status CheckCurveAvailable();

// A fresh key pair (zmq_curve_keypair).
absl::StatusOr<CurveKeyPair> GenerateCurveKeyPair();

// INVALID_ARGUMENT unless `key` is 40 Z85 characters that decode to 32
// bytes; `what` names the key in the message.
absl::Status ValidateCurveKey(absl::string_view key, absl::string_view what);

// Reads a certificate file. The secret key, when present, must match the
// public key. NOT_FOUND for a missing file, INVALID_ARGUMENT for a file
// that is not a certificate or holds a key that does not decode.
absl::StatusOr<CurveKeyPair> ReadCurveCertificate(const std::string& path);
// Reads a certificate file that must hold the secret key (a .key_secret).
absl::StatusOr<CurveKeyPair> ReadCurveSecretCertificate(
    const std::string& path);

// Writes DIR/NAME.key (public, mode 0644) and DIR/NAME.key_secret (both
// keys, mode 0600), each atomically (a temporary file renamed into place).
// ALREADY_EXISTS if either file exists and !overwrite.
absl::Status WriteCurveCertificates(const std::string& dir,
                                    const std::string& name,
                                    const CurveKeyPair& keys, bool overwrite);

// The public keys of every NAME.key file in `dir` (other files are
// ignored). An error if the directory cannot be read, a .key file is
// malformed, or there is no .key file at all (a server that serves nobody
// is a configuration mistake).
absl::StatusOr<std::set<std::string>> ReadAuthorizedKeys(
    const std::string& dir);

// The ZAP domain the servers use.
inline constexpr char kCurveZapDomain[] = "marl";

// Makes `socket` a CURVE server with `keys` (secret key required); call
// before bind.
absl::Status ConfigureCurveServer(zmq::socket_t* socket,
                                  const CurveKeyPair& keys);
// Makes `socket` a CURVE client of the server with public key
// `server_public_key`, using `client_keys`, or a fresh ephemeral key pair
// when `client_keys` is null; call before connect.
absl::Status ConfigureCurveClient(zmq::socket_t* socket,
                                  const std::string& server_public_key,
                                  const CurveKeyPair* client_keys);

// A ZAP handler (ZeroMQ RFC 27, ZAP/1.0) on inproc://zeromq.zap.01 of a
// context: every CURVE handshake on a server socket of that context asks it.
// With allow_any, any client that knows the server's key is let in;
// otherwise exactly the Z85 public keys in `authorized` are. Either way an
// admitted client's messages carry its Z85 public key as the "User-Id" property
// (zmq::message_t::gets("User-Id")), which identifies the client.
// Only one ZAP handler can exist per context. Stops on destruction; close
// the server sockets first (libzmq admits CURVE clients when no handler is
// bound).
class ZapAuthenticator {
 public:
  static absl::StatusOr<std::unique_ptr<ZapAuthenticator>> Start(
      zmq::context_t* context, std::set<std::string> authorized,
      bool allow_any);
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  int64_t allowed() const { return allowed_.load(); }
  int64_t denied() const { return denied_.load(); }

 private:
  ZapAuthenticator() = default;
  void Serve();
  // Decides one ZAP request and sends the reply.
  void Answer(const std::vector<zmq::message_t>& request);

  std::set<std::string> authorized_;
  bool allow_any_ = false;
  std::unique_ptr<zmq::socket_t> handler_;    // REP on the ZAP endpoint
  std::unique_ptr<zmq::socket_t> stop_recv_;  // wakes Serve() to stop
  std::unique_ptr<zmq::socket_t> stop_send_;
  std::thread thread_;
  std::atomic<int64_t> allowed_{0};
  std::atomic<int64_t> denied_{0};
};

}  // namespace marl

#endif  // MARL_PROTOCOL_CURVE_H_
