#include "envs/core/settings.h"

#include <cctype>
#include <cstdlib>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envs/core/checked_size.h"

namespace marl {
namespace {

// A tiny recursive parser for nested lists of numbers: "[[0,3],[1,2]]".
// Recursion is bounded by kMaxArrayRank; every list at one depth must have
// the same length and every number must sit at the same depth, so the
// values fill the shape exactly.
class ArrayParser {
 public:
  explicit ArrayParser(const std::string& text) : text_(text) {}

  absl::StatusOr<DoubleArray> Parse() {
    DoubleArray array;
    if (absl::Status s = ParseList(0, &array); !s.ok()) return s;
    SkipSpace();
    if (pos_ != text_.size()) return Error("trailing characters");
    // Guaranteed by the checks above; kept so a parser bug cannot hand out
    // an array whose shape disagrees with its values.
    absl::StatusOr<int64_t> count =
        CheckedElementCount(array.shape, "array", array.values.size());
    if (!count.ok() || *count != static_cast<int64_t>(array.values.size())) {
      return Error("shape does not match the values");
    }
    return array;
  }

 private:
  absl::Status ParseList(int depth, DoubleArray* array) {
    if (depth >= kMaxArrayRank) {
      return Error(
          absl::StrCat("nested deeper than ", kMaxArrayRank, " levels"));
    }
    std::vector<int64_t>& shape = array->shape;
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != '[') {
      return Error("expected '['");
    }
    ++pos_;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') return Error("empty list");
    if (static_cast<int>(shape.size()) <= depth) shape.resize(depth + 1, 0);
    int64_t count = 0;
    while (true) {
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '[') {
        // Lists only above the depth where numbers sit.
        if (leaf_depth_ >= 0 && leaf_depth_ <= depth) {
          return Error("ragged array");
        }
        if (absl::Status s = ParseList(depth + 1, array); !s.ok()) return s;
      } else {
        if (leaf_depth_ < 0) leaf_depth_ = depth;
        if (leaf_depth_ != depth) return Error("ragged array");
        size_t end = pos_;
        while (end < text_.size() && text_[end] != ',' && text_[end] != ']') {
          ++end;
        }
        double value;
        std::string token(absl::StripAsciiWhitespace(
            absl::string_view(text_).substr(pos_, end - pos_)));
        if (!absl::SimpleAtod(token, &value)) {
          return Error(absl::StrCat("bad number '", Excerpt(token), "'"));
        }
        array->values.push_back(value);
        pos_ = end;
      }
      ++count;
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unclosed '['");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        break;
      }
      return Error("expected ',' or ']'");
    }
    if (shape[depth] == 0) {
      shape[depth] = count;
    } else if (shape[depth] != count) {
      return Error("ragged array");
    }
    return absl::OkStatus();
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }
  // Long input is cut in messages: they go back to clients and into logs.
  static std::string Excerpt(absl::string_view text) {
    constexpr size_t kMax = 64;
    if (text.size() <= kMax) return std::string(text);
    return absl::StrCat(text.substr(0, kMax), "... (", text.size(),
                        " characters)");
  }
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot parse array '", Excerpt(text_), "': ", what));
  }

  const std::string& text_;
  size_t pos_ = 0;
  int leaf_depth_ = -1;  // the depth where numbers sit, once one was seen
};

}  // namespace

std::string SettingTypeName(const SettingValue& value) {
  switch (value.index()) {
    case 0:
      return "int";
    case 1:
      return "double";
    case 2:
      return "bool";
    case 3:
      return "string";
    default:
      return "array";
  }
}

std::string SettingValueToString(const SettingValue& value) {
  if (auto* v = std::get_if<int64_t>(&value)) return absl::StrCat(*v);
  if (auto* v = std::get_if<double>(&value)) return absl::StrCat(*v);
  if (auto* v = std::get_if<bool>(&value)) return *v ? "true" : "false";
  if (auto* v = std::get_if<std::string>(&value)) return *v;
  const auto& array = std::get<DoubleArray>(value);
  const std::vector<int64_t>& shape = array.shape;
  // Only an array whose values fill its shape is printed element by element
  // (one recursion per dimension, at most kMaxArrayRank).
  absl::StatusOr<int64_t> count =
      CheckedElementCount(shape, "array", array.values.size());
  if (shape.size() > static_cast<size_t>(kMaxArrayRank) || !count.ok() ||
      *count != static_cast<int64_t>(array.values.size())) {
    return absl::StrCat("<malformed array: ", shape.size(), " dimensions, ",
                        array.values.size(), " values>");
  }
  // Nested brackets following the shape.
  std::string out;
  size_t flat = 0;
  std::function<void(size_t)> emit = [&](size_t depth) {
    out += "[";
    for (int64_t i = 0; i < shape[depth]; ++i) {
      if (i > 0) out += ",";
      if (depth + 1 == shape.size()) {
        out += absl::StrCat(array.values[flat++]);
      } else {
        emit(depth + 1);
      }
    }
    out += "]";
  };
  if (shape.empty()) return "[]";
  emit(0);
  return out;
}

absl::StatusOr<SettingValue> ParseSettingValue(const std::string& text,
                                               const SettingValue& like) {
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  switch (like.index()) {
    case 0: {
      int64_t v;
      if (absl::SimpleAtoi(trimmed, &v)) return SettingValue(v);
      break;
    }
    case 1: {
      double v;
      if (absl::SimpleAtod(trimmed, &v)) return SettingValue(v);
      break;
    }
    case 2: {
      bool v;
      if (absl::SimpleAtob(trimmed, &v)) return SettingValue(v);
      break;
    }
    case 3:
      return SettingValue(trimmed);
    default: {
      absl::StatusOr<DoubleArray> array = ArrayParser(trimmed).Parse();
      if (!array.ok()) return array.status();
      return SettingValue(*std::move(array));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse '", text, "' as ", SettingTypeName(like)));
}

namespace {

std::string RangeError(const std::string& setting, const std::string& value,
                       const std::string& low, const std::string& high,
                       const std::string& why) {
  return absl::StrCat(setting, " must be in [", low, ", ", high, "], got ",
                      value, why.empty() ? "" : " (", why,
                      why.empty() ? "" : ")");
}

}  // namespace

absl::Status CheckIntInRange(const std::string& setting, int64_t value,
                             int64_t low, int64_t high,
                             const std::string& why) {
  if (value >= low && value <= high) return absl::OkStatus();
  return absl::InvalidArgumentError(RangeError(setting, absl::StrCat(value),
                                               absl::StrCat(low),
                                               absl::StrCat(high), why));
}

absl::Status CheckDoubleInRange(const std::string& setting, double value,
                                double low, double high,
                                const std::string& why) {
  if (value >= low && value <= high) return absl::OkStatus();  // NaN fails
  return absl::InvalidArgumentError(RangeError(setting, absl::StrCat(value),
                                               absl::StrCat(low),
                                               absl::StrCat(high), why));
}

absl::StatusOr<Settings> Settings::Resolve(
    const std::vector<SettingDecl>& decls,
    const std::map<std::string, SettingValue>& given) {
  Settings settings;
  for (const SettingDecl& decl : decls) {
    settings.values_[decl.name] = decl.default_value;
  }
  for (const auto& [name, value] : given) {
    auto it = settings.values_.find(name);
    if (it == settings.values_.end()) {
      std::vector<std::string> known;
      for (const SettingDecl& decl : decls) known.push_back(decl.name);
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown setting '", name,
          "'; known: ", known.empty() ? "(none)" : absl::StrJoin(known, ", ")));
    }
    if (it->second.index() == value.index()) {
      it->second = value;
    } else if (std::holds_alternative<double>(it->second) &&
               std::holds_alternative<int64_t>(value)) {
      it->second = static_cast<double>(std::get<int64_t>(value));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "setting '", name, "' takes ", SettingTypeName(it->second), ", got ",
          SettingTypeName(value)));
    }
  }
  return settings;
}

const SettingValue& Settings::Get(const std::string& name) const {
  static const SettingValue* const kEmpty = new SettingValue();
  auto it = values_.find(name);
  return it == values_.end() ? *kEmpty : it->second;
}

int64_t Settings::GetInt(const std::string& name) const {
  const auto* v = std::get_if<int64_t>(&Get(name));
  return v ? *v : 0;
}

double Settings::GetDouble(const std::string& name) const {
  const auto* v = std::get_if<double>(&Get(name));
  return v ? *v : 0.0;
}

bool Settings::GetBool(const std::string& name) const {
  const auto* v = std::get_if<bool>(&Get(name));
  return v ? *v : false;
}

const std::string& Settings::GetString(const std::string& name) const {
  static const std::string* const kEmpty = new std::string();
  const auto* v = std::get_if<std::string>(&Get(name));
  return v ? *v : *kEmpty;
}

const DoubleArray& Settings::GetArray(const std::string& name) const {
  static const DoubleArray* const kEmpty = new DoubleArray();
  const auto* v = std::get_if<DoubleArray>(&Get(name));
  return v ? *v : *kEmpty;
}

}  // namespace marl
