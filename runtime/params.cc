#include "runtime/params.h"

#include <cmath>
#include <cstdlib>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace marl {
namespace {

// A default written in code: invalid text is a programming error (flags
// are parsed by Abseil, which reports theirs).
template <typename T>
void ParseDefault(absl::string_view type, absl::string_view text, T* out) {
  std::string error;
  if (!AbslParseFlag(text, out, &error)) {
    std::cerr << type << "(\"" << text << "\"): " << error << std::endl;
    std::abort();
  }
}

}  // namespace

LayerSizes::LayerSizes(absl::string_view text) {
  ParseDefault("LayerSizes", text, this);
}

bool AbslParseFlag(absl::string_view text, LayerSizes* out,
                   std::string* error) {
  std::vector<int64_t> sizes;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t size = 0;
    // Bounded so that a layer's weights (size x size) stay countable.
    if (!absl::SimpleAtoi(part, &size) || size < 1 || size > (1 << 20)) {
      *error =
          absl::StrCat("'", part, "' is not a layer size (an integer in [1, ",
                       1 << 20, "])");
      return false;
    }
    sizes.push_back(size);
  }
  out->sizes = std::move(sizes);
  return true;
}

std::string AbslUnparseFlag(const LayerSizes& sizes) {
  return absl::StrJoin(sizes.sizes, ",");
}

Numbers::Numbers(absl::string_view text) {
  ParseDefault("Numbers", text, this);
}

bool AbslParseFlag(absl::string_view text, Numbers* out, std::string* error) {
  std::vector<double> values;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    double value = 0;
    if (!absl::SimpleAtod(part, &value) || !std::isfinite(value)) {
      *error = absl::StrCat("'", part, "' is not a finite number");
      return false;
    }
    values.push_back(value);
  }
  out->values = std::move(values);
  return true;
}

std::string AbslUnparseFlag(const Numbers& numbers) {
  std::string out;
  for (double value : numbers.values) {
    absl::StrAppend(&out, out.empty() ? "" : ",", absl::UnparseFlag(value));
  }
  return out;
}

}  // namespace marl
