#ifndef MARL_RUNTIME_JSON_H_
#define MARL_RUNTIME_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace marl {

// JSON writing helpers for the run format (docs/RUN_FORMAT.md), on
// nlohmann-json (Debian's nlohmann-json3-dev) for escaping and validation;
// numbers are std::to_chars' shortest round-trip text. The header keeps the
// library out of its includers.

// `s` as a quoted JSON string: '"' and '\\' escaped, control characters as
// \n, \t, ... or \u00XX. Bytes that are not valid UTF-8 become U+FFFD, so
// the output is always valid UTF-8 (Python's json module insists on it).
std::string JsonString(absl::string_view s);

// `v` as a JSON number that parses back to exactly the same double (the
// shortest such text, e.g. "0.1", "1e+300", "3"). NaN and +-Inf have no JSON
// spelling and are written as null.
std::string JsonNumber(double v);
std::string JsonNumber(int64_t v);
std::string JsonNumber(uint64_t v);
// Avoids ambiguity for int literals.
inline std::string JsonNumber(int v) { return JsonNumber(int64_t{v}); }

// OK if `text` is exactly one JSON value (RFC 8259, surrounding whitespace
// allowed); INVALID_ARGUMENT naming the byte offset otherwise. Used to check
// caller-supplied JSON texts before inserting them verbatim into a file.
absl::Status ValidateJson(absl::string_view text);

// The members of the object `key` inside the JSON object `text`, each of
// which must be a string, in the file's order (e.g. a run's recorded flags
// from its config.json); INVALID_ARGUMENT saying what is wrong otherwise.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> StringMembers(
    absl::string_view text, absl::string_view key);

// The members of the JSON object `text` (with `key` non-empty: of its
// object member `key`), each value as compact JSON text, in the file's
// order; INVALID_ARGUMENT if there is no such object.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MemberTexts(
    absl::string_view text, absl::string_view key = "");

// The number `key` of the JSON object `text` (e.g. a metrics record's
// "step"); INVALID_ARGUMENT if text is not an object or has no such number.
absl::StatusOr<double> NumberMember(absl::string_view text,
                                    absl::string_view key);

// Builds one JSON object, keys in insertion order:
//   JsonObject o;
//   o.Add("step", int64_t{3}).Add("loss", 0.5).AddRaw("spec", spec_json);
//   std::string text = o.Build();  // {"step": 3, "loss": 0.5, "spec": ...}
// Duplicate keys are not detected (callers own their key sets).
class JsonObject {
 public:
  JsonObject& Add(absl::string_view key, absl::string_view value);
  JsonObject& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  JsonObject& Add(absl::string_view key, const std::string& value) {
    return Add(key, absl::string_view(value));
  }
  JsonObject& Add(absl::string_view key, double value);
  JsonObject& Add(absl::string_view key, int64_t value);
  JsonObject& Add(absl::string_view key, uint64_t value);
  JsonObject& Add(absl::string_view key, int value) {
    return Add(key, int64_t{value});
  }
  JsonObject& Add(absl::string_view key, bool value);
  // Arrays of numbers (exact, as JsonNumber writes them).
  JsonObject& Add(absl::string_view key, absl::Span<const double> values);
  JsonObject& Add(absl::string_view key, absl::Span<const int64_t> values);
  JsonObject& AddNull(absl::string_view key);
  // `json_text` must already be a valid JSON value; it is copied verbatim.
  JsonObject& AddRaw(absl::string_view key, absl::string_view json_text);

  bool empty() const { return members_.empty(); }
  // The object on one line, e.g. {"a": 1, "b": "x"}; no trailing newline.
  std::string Build() const;
  // One member per line, indented by two spaces. Multi-line values (e.g. a
  // nested BuildIndented() added with AddRaw) are shifted to match: raw
  // newlines in valid JSON only ever sit between tokens, so this changes
  // whitespace only.
  std::string BuildIndented() const;

 private:
  JsonObject& AddMember(absl::string_view key, std::string value_json);

  std::vector<std::string> members_;  // each "key": value
};

}  // namespace marl

#endif  // MARL_RUNTIME_JSON_H_
