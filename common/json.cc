#include "common/json.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace marl {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes
// there are not one (truncated, overlong, surrogate or beyond U+10FFFF).
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  size_t n;
  uint32_t cp;
  if (b0 < 0x80) return 1;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[n] || cp > 0x10FFFF) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

// Recursive-descent recognizer for RFC 8259; builds nothing.
class JsonValidator {
 public:
  explicit JsonValidator(absl::string_view text) : s_(text) {}

  absl::Status Run() {
    SkipSpace();
    if (!Value(0)) return Error();
    SkipSpace();
    if (pos_ != s_.size()) {
      error_ = "trailing characters after the JSON value";
      return Error();
    }
    return absl::OkStatus();
  }

 private:
  // Deep enough for any real config; shallow enough for the stack.
  static constexpr int kMaxDepth = 256;

  absl::Status Error() const {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at byte ", pos_, ": ", error_));
  }
  bool Fail(const char* why) {
    error_ = why;
    return false;
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                        s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(absl::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return Fail("unknown literal");
    pos_ += word.size();
    return true;
  }
  bool Digits() {
    const size_t start = pos_;
    while (!AtEnd() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  bool Value(int depth) {
    if (depth > kMaxDepth) return Fail("nested too deeply");
    switch (Peek()) {
      case '{':
        return Object(depth);
      case '[':
        return Array(depth);
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  bool Object(int depth) {
    ++pos_;  // '{'
    SkipSpace();
    if (Peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (Peek() != '"') return Fail("expected a string key");
      if (!String()) return false;
      SkipSpace();
      if (Peek() != ':') return Fail("expected ':'");
      ++pos_;
      SkipSpace();
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or '}'");
    }
  }

  bool Array(int depth) {
    ++pos_;  // '['
    SkipSpace();
    if (Peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      SkipSpace();
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or ']'");
    }
  }

  bool String() {
    ++pos_;  // '"'
    while (true) {
      if (AtEnd()) return Fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("control character in string");
      if (c == '\\') {
        ++pos_;
        if (AtEnd()) return Fail("unterminated escape");
        const char e = s_[pos_++];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k, ++pos_) {
            if (AtEnd() ||
                !std::isxdigit(static_cast<unsigned char>(s_[pos_]))) {
              return Fail("bad \\u escape");
            }
          }
        } else if (absl::string_view("\"\\/bfnrt").find(e) ==
                   absl::string_view::npos) {
          return Fail("bad escape");
        }
        continue;
      }
      const size_t n = Utf8SequenceLength(s_, pos_);
      if (n == 0) return Fail("invalid UTF-8");
      pos_ += n;
    }
  }

  bool Number() {
    if (Peek() == '-') ++pos_;
    if (Peek() == '0') {
      ++pos_;
    } else if (!Digits()) {
      return Fail("expected a value");
    }
    if (Peek() == '.') {
      ++pos_;
      if (!Digits()) return Fail("expected digits after '.'");
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!Digits()) return Fail("expected exponent digits");
    }
    return true;
  }

  absl::string_view s_;
  size_t pos_ = 0;
  const char* error_ = "";
};

}  // namespace

std::string JsonString(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
  return out;
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
  return JsonValidator(text).Run();
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
