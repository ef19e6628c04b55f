#include "protocol/endpoint.h"

#include <arpa/inet.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace marl {
namespace {

constexpr char kForms[] =
    "expected tcp://HOST:PORT, ipc://PATH or inproc://NAME";
// The kernel limits Unix socket paths (sun_path holds 108 bytes).
constexpr size_t kMaxIpcPath = 107;

absl::Status Invalid(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid endpoint '", absl::CHexEscape(text), "': ", why));
}

// A DNS name or an IPv4 address (IPv6 comes in brackets).
bool IsHostName(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

bool IsIpv6(absl::string_view host) {
  // An optional zone ("%eth0") follows the address.
  const std::string address(host.substr(0, host.find('%')));
  in6_addr parsed;
  return inet_pton(AF_INET6, address.c_str(), &parsed) == 1;
}

}  // namespace

absl::StatusOr<Endpoint> ParseEndpoint(absl::string_view text, bool for_bind) {
  const size_t scheme_end = text.find("://");
  if (scheme_end == absl::string_view::npos) {
    return Invalid(text, absl::StrCat("no scheme; ", kForms));
  }
  Endpoint endpoint;
  endpoint.transport = std::string(text.substr(0, scheme_end));
  const absl::string_view rest = text.substr(scheme_end + 3);
  if (endpoint.transport == "ipc" || endpoint.transport == "inproc") {
    if (rest.empty()) {
      return Invalid(
          text, absl::StrCat("empty ",
                             endpoint.transport == "ipc" ? "path" : "name"));
    }
    if (endpoint.transport == "ipc" && rest.size() > kMaxIpcPath) {
      return Invalid(text,
                     absl::StrCat("ipc paths are limited to ", kMaxIpcPath,
                                  " bytes (this one has ", rest.size(), ")"));
    }
    endpoint.path = std::string(rest);
    return endpoint;
  }
  if (endpoint.transport != "tcp") {
    return Invalid(text, absl::StrCat("unsupported scheme '",
                                      endpoint.transport, "'; ", kForms));
  }
  // ZeroMQ's "tcp://SOURCE;HOST:PORT" picks the local address of a
  // connect; the destination is what must be valid.
  absl::string_view address = rest;
  if (!for_bind) address = address.substr(address.rfind(';') + 1);
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return Invalid(text, "no port (tcp://HOST:PORT)");
  }
  absl::string_view host = address.substr(0, colon);
  const absl::string_view port = address.substr(colon + 1);
  const bool bracketed =
      host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  if (host.empty()) return Invalid(text, "empty host (tcp://HOST:PORT)");
  const bool any_interface = host == "*";
  if (any_interface && !for_bind) {
    return Invalid(text,
                   "'*' is for binding; connect to a host name or "
                   "address");
  }
  // ZeroMQ also takes a bare IPv6 address (the port follows the last ':').
  const bool ipv6 = bracketed || absl::StrContains(host, ':');
  if (!any_interface && !(ipv6 ? IsIpv6(host) : IsHostName(host))) {
    return Invalid(text, ipv6 ? "the host is not an IPv6 address"
                              : "the host is not a name or an address");
  }
  endpoint.host = std::string(host);
  const int min_port = for_bind ? 0 : 1;
  if (for_bind && port == "*") {
    endpoint.port = -1;
  } else if (uint32_t value = 0; port.empty() || port.size() > 5 ||
                                 !absl::SimpleAtoi(port, &value) ||
                                 !absl::ascii_isdigit(port.front()) ||
                                 value < static_cast<uint32_t>(min_port) ||
                                 value > 65535) {
    return Invalid(text,
                   absl::StrCat("port '", absl::CHexEscape(port),
                                "' is not a number in ", min_port, "..65535"));
  } else {
    endpoint.port = static_cast<int>(value);
  }
  return endpoint;
}

bool IsLoopbackHost(absl::string_view host) {
  if (absl::AsciiStrToLower(host) == "localhost") return true;
  in_addr v4;
  const std::string text(host);
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

absl::Status CheckServerExposure(const std::vector<std::string>& endpoints,
                                 bool allow_remote_clients, bool curve_on,
                                 std::string* warning) {
  warning->clear();
  std::vector<std::string> remote;
  for (const std::string& text : endpoints) {
    absl::StatusOr<Endpoint> endpoint = ParseEndpoint(text, /*for_bind=*/true);
    if (!endpoint.ok()) return endpoint.status();
    if (endpoint->transport == "tcp" && !IsLoopbackHost(endpoint->host)) {
      remote.push_back(text);
    }
  }
  if (remote.empty()) return absl::OkStatus();
  const std::string list = absl::StrJoin(remote, ", ");
  if (!allow_remote_clients) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to listen on ", list,
        ": it is reachable from other machines, and anyone who can reach "
        "the port can run environments here. Bind tcp://127.0.0.1:PORT, or "
        "pass --allow_remote_clients (with --curve_secret_key_file and "
        "--curve_authorized_keys to admit only known clients)"));
  }
  if (!curve_on) {
    *warning = absl::StrCat(
        "warning: listening on ", list,
        " without CURVE: anyone who can reach the port can run environments "
        "here (see --curve_secret_key_file, --curve_authorized_keys)");
  }
  return absl::OkStatus();
}

}  // namespace marl
