#include "runtime/tensorboard_events.h"

#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "runtime/tensorboard_event.pb.h"

namespace marl {
namespace {

namespace tb = ::marl::runtime::tensorboard;

// The Event inside a record made by TfRecord (its framing is tested below).
tb::Event ParseRecord(const std::string& record) {
  tb::Event event;
  EXPECT_GE(record.size(), 16u);
  EXPECT_TRUE(event.ParseFromString(record.substr(12, record.size() - 16)));
  return event;
}

TEST(Crc32cTest, KnownVectors) {
  // The check value of CRC-32C, and RFC 3720's (iSCSI) B.4 vectors.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32cTest, MaskedIsRotatedAndOffset) {
  // ((0xE3069283 >> 15) | (0xE3069283 << 17)) + 0xa282ead8, mod 2^32.
  EXPECT_EQ(MaskedCrc32c("123456789"), 0xC78AB0E5u);
  EXPECT_EQ(MaskedCrc32c(""), 0xa282ead8u);
}

TEST(Crc32cTest, ACorruptedByteChangesTheCrc) {
  std::string data = "brain.Event:2 and some more bytes";
  const uint32_t crc = Crc32c(data);
  for (size_t i = 0; i < data.size(); ++i) {
    std::string corrupt = data;
    corrupt[i] ^= 0x01;
    EXPECT_NE(Crc32c(corrupt), crc) << i;
  }
}

TEST(TfRecordTest, Layout) {
  // Length 3 (LE uint64), masked CRC of those 8 bytes, "abc", masked CRC of
  // "abc", both LE uint32 (values from python3-crc32c).
  EXPECT_EQ(absl::BytesToHexString(TfRecord("abc")),
            "0300000000000000"
            "b099490e"
            "616263"
            "6e57f121");
  const std::string empty = TfRecord("");
  ASSERT_EQ(empty.size(), 16u);
  EXPECT_EQ(empty.substr(12), std::string("\xd8\xea\x82\xa2", 4));
}

TEST(EventRecordsTest, FileVersion) {
  const tb::Event event = ParseRecord(FileVersionRecord(1700000000.25));
  EXPECT_EQ(event.wall_time(), 1700000000.25);
  EXPECT_EQ(event.step(), 0);
  ASSERT_EQ(event.what_case(), tb::Event::kFileVersion);
  EXPECT_EQ(event.file_version(), "brain.Event:2");
}

TEST(EventRecordsTest, SessionStart) {
  const tb::Event event = ParseRecord(SessionStartRecord(12.5, 401));
  EXPECT_EQ(event.wall_time(), 12.5);
  EXPECT_EQ(event.step(), 401);
  ASSERT_TRUE(event.has_session_log());
  EXPECT_EQ(event.session_log().status(), tb::SessionLog::START);
}

TEST(EventRecordsTest, ScalarsAreFloatsWithNonFiniteKept) {
  const double inf = std::numeric_limits<double>::infinity();
  const tb::Event event =
      ParseRecord(ScalarsRecord(3.0, int64_t{1} << 40,
                                {{"train/return", 0.1},
                                 {"train/nan", std::nan("")},
                                 {"train/inf", -inf},
                                 {"train/huge", 1e300},
                                 {"train/tiny", -1e300}}));
  EXPECT_EQ(event.step(), int64_t{1} << 40);
  ASSERT_TRUE(event.has_summary());
  const auto& values = event.summary().value();
  ASSERT_EQ(values.size(), 5);
  EXPECT_EQ(values[0].tag(), "train/return");
  EXPECT_EQ(values[0].simple_value(), 0.1f);
  EXPECT_TRUE(std::isnan(values[1].simple_value()));
  EXPECT_EQ(values[2].simple_value(), -std::numeric_limits<float>::infinity());
  // Beyond float's range: +-inf (documented).
  EXPECT_EQ(values[3].simple_value(), std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[4].simple_value(), -std::numeric_limits<float>::infinity());
  for (const auto& v : values) {
    EXPECT_EQ(v.value_case(), tb::Summary::Value::kSimpleValue);
  }
  // No values: still one event, with an empty summary.
  EXPECT_TRUE(ParseRecord(ScalarsRecord(3.0, 7, {})).has_summary());
}

TEST(EventFileNameTest, NameAndSeconds) {
  EXPECT_EQ(EventFileName(1700000000, "host-1.lan"),
            "events.out.tfevents.1700000000.host-1.lan");
  EXPECT_EQ(EventFileName(42, "h"), "events.out.tfevents.0000000042.h");
  EXPECT_EQ(EventFileSeconds("events.out.tfevents.0000000042.h"), 42);
  EXPECT_EQ(EventFileSeconds(EventFileName(1700000000, "a.b")), 1700000000);
  EXPECT_EQ(EventFileSeconds("events.out.tfevents.12x.h"), std::nullopt);
  EXPECT_EQ(EventFileSeconds("events.out.tfevents..h"), std::nullopt);
  EXPECT_EQ(EventFileSeconds("events.out.tfevents.123"), std::nullopt);
  EXPECT_EQ(EventFileSeconds("metrics.jsonl"), std::nullopt);
}

}  // namespace
}  // namespace marl
