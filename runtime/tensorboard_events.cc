#include "runtime/tensorboard_events.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "runtime/tensorboard_event.pb.h"

namespace marl {
namespace {

namespace tb = ::marl::runtime::tensorboard;

constexpr char kEventFilePrefix[] = "events.out.tfevents.";

// Written here, a byte at a time from a 256-entry table: Debian packages no
// C++ CRC-32C library (zlib's crc32 is the other polynomial), and event
// records are small, so neither hardware CRC nor slicing would pay.
constexpr std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrc32cTable = MakeCrc32cTable();

void AppendLittleEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) {
    out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
}

// double -> float with values beyond float's range made +-Inf explicitly
// (a plain cast of them is undefined behaviour); NaN and +-Inf stay.
float ToFloat(double value) {
  constexpr double kMax = std::numeric_limits<float>::max();
  if (value > kMax) return std::numeric_limits<float>::infinity();
  if (value < -kMax) return -std::numeric_limits<float>::infinity();
  return static_cast<float>(value);
}

std::string Framed(const tb::Event& event) {
  return TfRecord(event.SerializeAsString());
}

}  // namespace

uint32_t Crc32c(absl::string_view data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : data) {
    crc = kCrc32cTable[(crc ^ static_cast<uint8_t>(c)) & 0xFF] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

uint32_t MaskedCrc32c(absl::string_view data) {
  const uint32_t crc = Crc32c(data);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::string TfRecord(absl::string_view data) {
  std::string out;
  out.reserve(8 + 4 + data.size() + 4);
  AppendLittleEndian(data.size(), 8, &out);
  AppendLittleEndian(MaskedCrc32c(out), 4, &out);
  out.append(data.data(), data.size());
  AppendLittleEndian(MaskedCrc32c(data), 4, &out);
  return out;
}

std::string FileVersionRecord(double wall_time) {
  tb::Event event;
  event.set_wall_time(wall_time);
  event.set_file_version(kTensorBoardFileVersion);
  return Framed(event);
}

std::string SessionStartRecord(double wall_time, int64_t step) {
  tb::Event event;
  event.set_wall_time(wall_time);
  event.set_step(step);
  event.mutable_session_log()->set_status(tb::SessionLog::START);
  return Framed(event);
}

std::string ScalarsRecord(
    double wall_time, int64_t step,
    const std::vector<std::pair<std::string, double>>& tagged_values) {
  tb::Event event;
  event.set_wall_time(wall_time);
  event.set_step(step);
  // Set even when empty: one Log() call is one event.
  tb::Summary* summary = event.mutable_summary();
  for (const auto& [tag, value] : tagged_values) {
    tb::Summary::Value* v = summary->add_value();
    v->set_tag(tag);
    v->set_simple_value(ToFloat(value));
  }
  return Framed(event);
}

std::string EventFileName(int64_t unix_seconds, absl::string_view host) {
  return absl::StrFormat("%s%010d.%s", kEventFilePrefix, unix_seconds, host);
}

std::optional<int64_t> EventFileSeconds(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, kEventFilePrefix)) return std::nullopt;
  const size_t dot = name.find('.');
  const absl::string_view digits = name.substr(0, dot);
  int64_t seconds;
  if (digits.empty() || dot == absl::string_view::npos ||
      !std::all_of(digits.begin(), digits.end(),
                   [](char c) {
                     return absl::ascii_isdigit(static_cast<unsigned char>(c));
                   }) ||
      !absl::SimpleAtoi(digits, &seconds)) {
    return std::nullopt;
  }
  return seconds;
}

}  // namespace marl
