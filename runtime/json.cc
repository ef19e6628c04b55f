#include "runtime/json.h"

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

namespace marl {
namespace {

// Deep enough for any real config; a bound for hostile texts.
constexpr int kMaxDepth = 256;

// A SAX consumer that builds nothing: ValidateJson only needs to know
// whether nlohmann's parser accepts the text, and where it stops.
class Recognizer : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return Enter(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return Leave(); }
  bool start_array(std::size_t) override { return Enter(); }
  bool end_array() override { return Leave(); }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    error_ =
        absl::StrCat("invalid JSON at byte ", position, ": ", error.what());
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  bool Enter() {
    if (++depth_ > kMaxDepth) {
      error_ = absl::StrCat("invalid JSON: nested deeper than ", kMaxDepth);
      return false;
    }
    return true;
  }
  bool Leave() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  std::string error_;
};

}  // namespace

std::string JsonString(absl::string_view s) {
  // Invalid UTF-8 becomes U+FFFD (Python's json module insists on UTF-8).
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  // std::to_chars without a precision gives the shortest text that reads
  // back to the same double; its "1e+300" / "-0" forms are valid JSON.
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  if (r.ec != std::errc()) return absl::StrFormat("%.17g", v);
  return std::string(buf, r.ptr);
}

std::string JsonNumber(int64_t v) { return absl::StrCat(v); }
std::string JsonNumber(uint64_t v) { return absl::StrCat(v); }

absl::Status ValidateJson(absl::string_view text) {
  Recognizer recognizer;
  if (nlohmann::json::sax_parse(text.begin(), text.end(), &recognizer)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(recognizer.error().empty()
                                        ? std::string("invalid JSON")
                                        : recognizer.error());
}

namespace {

// `text` parsed, checked first by the recognizer, which bounds the nesting
// depth (the recursive parser does not); the object itself (empty `key`) or
// its object member `key`.
absl::StatusOr<nlohmann::ordered_json> ParseObject(absl::string_view text,
                                                   absl::string_view key) {
  absl::Status valid = ValidateJson(text);
  if (!valid.ok()) return valid;
  nlohmann::ordered_json root =
      nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, false);
  if (!root.is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  if (key.empty()) return root;
  const auto member = root.find(std::string(key));
  if (member == root.end() || !member->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("has no object \"", key, "\""));
  }
  return *member;
}

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> StringMembers(
    absl::string_view text, absl::string_view key) {
  absl::StatusOr<nlohmann::ordered_json> object = ParseObject(text, key);
  if (!object.ok()) return object.status();
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : object->items()) {
    if (!value.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", key, "\".\"", name, "\" is not a string"));
    }
    out.emplace_back(name, value.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MemberTexts(
    absl::string_view text, absl::string_view key) {
  absl::StatusOr<nlohmann::ordered_json> object = ParseObject(text, key);
  if (!object.ok()) return object.status();
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : object->items()) {
    out.emplace_back(
        name,
        value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return out;
}

absl::StatusOr<double> NumberMember(absl::string_view text,
                                    absl::string_view key) {
  absl::StatusOr<nlohmann::ordered_json> object = ParseObject(text, "");
  if (!object.ok()) return object.status();
  const auto member = object->find(std::string(key));
  if (member == object->end() || !member->is_number()) {
    return absl::InvalidArgumentError(
        absl::StrCat("has no number \"", key, "\""));
  }
  return member->get<double>();
}

JsonObject& JsonObject::AddMember(absl::string_view key,
                                  std::string value_json) {
  members_.push_back(absl::StrCat(JsonString(key), ": ", value_json));
  return *this;
}

JsonObject& JsonObject::Add(absl::string_view key, absl::string_view value) {
  return AddMember(key, JsonString(value));
}

JsonObject& JsonObject::Add(absl::string_view key, double value) {
  return AddMember(key, JsonNumber(value));
}

JsonObject& JsonObject::Add(absl::string_view key, int64_t value) {
  return AddMember(key, JsonNumber(value));
}

JsonObject& JsonObject::Add(absl::string_view key, uint64_t value) {
  return AddMember(key, JsonNumber(value));
}

JsonObject& JsonObject::Add(absl::string_view key, bool value) {
  return AddMember(key, value ? "true" : "false");
}

namespace {

template <typename T>
std::string NumberArray(absl::Span<const T> values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    absl::StrAppend(&out, i > 0 ? ", " : "", JsonNumber(values[i]));
  }
  return out + "]";
}

}  // namespace

JsonObject& JsonObject::Add(absl::string_view key,
                            absl::Span<const double> values) {
  return AddMember(key, NumberArray(values));
}

JsonObject& JsonObject::Add(absl::string_view key,
                            absl::Span<const int64_t> values) {
  return AddMember(key, NumberArray(values));
}

JsonObject& JsonObject::AddNull(absl::string_view key) {
  return AddMember(key, "null");
}

JsonObject& JsonObject::AddRaw(absl::string_view key,
                               absl::string_view json_text) {
  return AddMember(key, std::string(json_text));
}

std::string JsonObject::Build() const {
  return absl::StrCat("{", absl::StrJoin(members_, ", "), "}");
}

std::string JsonObject::BuildIndented() const {
  if (members_.empty()) return "{}";
  std::string out = "{";
  for (size_t i = 0; i < members_.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "\n  " : ",\n  ",
                    absl::StrReplaceAll(members_[i], {{"\n", "\n  "}}));
  }
  out.append("\n}");
  return out;
}

}  // namespace marl
