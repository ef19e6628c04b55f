#include "envs/core/settings.h"

#include <cctype>
#include <cstdlib>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace marl {
namespace {

// A tiny recursive parser for nested lists of numbers: "[[0,3],[1,2]]".
class ArrayParser {
 public:
  explicit ArrayParser(const std::string& text) : text_(text) {}

  absl::StatusOr<DoubleArray> Parse() {
    DoubleArray array;
    std::vector<int64_t> shape;
    if (absl::Status s = ParseList(0, &array.values, &shape); !s.ok()) return s;
    SkipSpace();
    if (pos_ != text_.size()) return Error("trailing characters");
    array.shape = shape;
    return array;
  }

 private:
  absl::Status ParseList(size_t depth, std::vector<double>* values,
                         std::vector<int64_t>* shape) {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != '[')
      return Error("expected '['");
    ++pos_;
    int64_t count = 0;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') return Error("empty list");
    while (true) {
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '[') {
        if (absl::Status s = ParseList(depth + 1, values, shape); !s.ok()) {
          return s;
        }
      } else {
        if (shape->size() > depth + 1) return Error("ragged array");
        size_t end = pos_;
        while (end < text_.size() && text_[end] != ',' && text_[end] != ']') {
          ++end;
        }
        double value;
        std::string token(absl::StripAsciiWhitespace(
            absl::string_view(text_).substr(pos_, end - pos_)));
        if (!absl::SimpleAtod(token, &value)) {
          return Error(absl::StrCat("bad number '", token, "'"));
        }
        if (shape->size() <= depth) shape->resize(depth + 1, 0);
        if (shape->size() != depth + 1) return Error("ragged array");
        values->push_back(value);
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
    if (shape->size() <= depth) shape->resize(depth + 1, 0);
    if ((*shape)[depth] == 0) {
      (*shape)[depth] = count;
    } else if ((*shape)[depth] != count) {
      return Error("ragged array");
    }
    return absl::OkStatus();
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(text_[pos_])) ++pos_;
  }
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot parse array '", text_, "': ", what));
  }

  const std::string& text_;
  size_t pos_ = 0;
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
  // Nested brackets following the shape.
  std::string out;
  const std::vector<int64_t>& shape = array.shape;
  std::vector<int64_t> index(shape.size(), 0);
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
