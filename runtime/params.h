#ifndef MARL_RUNTIME_PARAMS_H_
#define MARL_RUNTIME_PARAMS_H_

/* Hyperparameters, each written once. A parameter list is an X-macro with
   one line per parameter: type, name, default, check and help text.

     #define MARL_MADDPG_PARAMS(P)                                     \
       P(double, actor_lr, 1e-2, Positive(), "Actor learning rate.")   \
       P(int64_t, batch_size, 512, AtLeast(1), "Minibatch size.")

     struct MaddpgOptions {
       MARL_PARAMS(MARL_MADDPG_PARAMS)
     };
*/
// MARL_PARAMS declares the fields with their defaults and VisitParams, which
// hands a visitor each parameter's name, value, check and help. From it come
// the checks (ValidateParams: INVALID_ARGUMENT naming the flag), the exact
// values of a run's config.json (AddParams), and, in the binary's main.cc,
// the flags: at global scope,
//
//   MARL_PARAM_FLAGS(MaddpgOptions, MARL_MADDPG_PARAMS)
//
// defines one Abseil flag per parameter (--actor_lr, its default and help)
// and marl::ReadParamFlags(MaddpgOptions*), which copies the flags' values
// in; ParamsFromFlags reads and validates. Abseil wants flags in the global
// namespace, so types and defaults other than LayerSizes and Numbers are
// written fully qualified (::marl::...).
//
// Types: bool, int32_t, int64_t, double, std::string, LayerSizes, Numbers,
// enums with a name table (EnumName below), and any type with AbslParseFlag
// and AbslUnparseFlag. A default or check that holds a comma goes in
// parentheses.

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "runtime/json.h"

namespace marl {

// Hidden layer sizes of a network, "100,100" on the command line.
struct LayerSizes {
  LayerSizes() = default;
  // `text` must be valid (defaults in code); flags go through AbslParseFlag.
  explicit LayerSizes(absl::string_view text);
  std::vector<int64_t> sizes;
  bool operator==(const LayerSizes& other) const {
    return sizes == other.sizes;
  }
};
bool AbslParseFlag(absl::string_view text, LayerSizes* out, std::string* error);
std::string AbslUnparseFlag(const LayerSizes& sizes);

// Numbers, "0.1,-0.1" on the command line (each finite).
struct Numbers {
  Numbers() = default;
  explicit Numbers(absl::string_view text);  // valid text only (defaults)
  std::vector<double> values;
  bool operator==(const Numbers& other) const { return values == other.values; }
};
bool AbslParseFlag(absl::string_view text, Numbers* out, std::string* error);
std::string AbslUnparseFlag(const Numbers& numbers);

// Enum parameters: an enum E gets its flag syntax from a table of names,
//   inline constexpr EnumName<Clock> kClockNames[] = {{Clock::kUpdates,
//   "updates"}, {Clock::kTransitions, "transitions"}};
//   inline bool AbslParseFlag(absl::string_view t, Clock* c, std::string* e) {
//     return ParseEnum(t, kClockNames, c, e);
//   }
//   inline std::string AbslUnparseFlag(Clock c) {
//     return UnparseEnum(c, kClockNames);
//   }
template <typename E>
struct EnumName {
  E value;
  const char* name;
};
template <typename E, size_t N>
bool ParseEnum(absl::string_view text, const EnumName<E> (&names)[N], E* out,
               std::string* error) {
  std::string known;
  for (const EnumName<E>& entry : names) {
    if (text == entry.name) {
      *out = entry.value;
      return true;
    }
    absl::StrAppend(&known, known.empty() ? "\"" : ", \"", entry.name, "\"");
  }
  *error = absl::StrCat("'", text, "' is not one of ", known);
  return false;
}
template <typename E, size_t N>
std::string UnparseEnum(E value, const EnumName<E> (&names)[N]) {
  for (const EnumName<E>& entry : names) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

// Checks: each returns "" for a good value, else what a good value is.
// Every floating-point value must also be finite (NaN and +-Inf are
// refused), except under AnyDouble.
struct AnyValue {
  template <typename T>
  std::string operator()(const T&) const {
    return "";
  }
};
struct AnyDouble : AnyValue {};  // NaN and +-Inf allowed (e.g. "unset")
struct Positive {
  template <typename T>
  std::string operator()(T v) const {
    return v > 0 ? "" : "> 0";
  }
};
struct NonNegative {
  template <typename T>
  std::string operator()(T v) const {
    return v >= 0 ? "" : ">= 0";
  }
};
struct AtLeast {
  explicit AtLeast(double low) : low(low) {}
  double low;
  template <typename T>
  std::string operator()(T v) const {
    return v >= low ? "" : absl::StrCat(">= ", low);
  }
};
struct InRange {
  InRange(double low, double high) : low(low), high(high) {}
  double low, high;
  template <typename T>
  std::string operator()(T v) const {
    return v >= low && v <= high ? ""
                                 : absl::StrCat("in [", low, ", ", high, "]");
  }
};
namespace params_internal {

template <typename T, typename Check>
std::string Problem(const T& value, const Check& check) {
  if constexpr (std::is_floating_point_v<T> &&
                !std::is_same_v<Check, AnyDouble>) {
    if (!std::isfinite(value)) return "finite";
  }
  return check(value);
}

template <typename T>
std::string Text(const T& value) {
  return absl::UnparseFlag(value);
}

struct Validator {
  absl::Status status;
  template <typename T, typename Check>
  void operator()(const char* name, const T& value, const Check& check,
                  const char*) {
    if (!status.ok()) return;
    const std::string want = Problem(value, check);
    if (!want.empty()) {
      status = absl::InvalidArgumentError(
          absl::StrCat("--", name, " must be ", want, ", got ", Text(value)));
    }
  }
};

struct JsonAdder {
  JsonObject* json;
  template <typename T, typename Check>
  void operator()(const char* name, const T& value, const Check&, const char*) {
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, double> ||
                  std::is_same_v<T, std::string>) {
      json->Add(name, value);
    } else if constexpr (std::is_integral_v<T>) {
      json->Add(name, static_cast<int64_t>(value));
    } else if constexpr (std::is_same_v<T, LayerSizes>) {
      json->Add(name, absl::Span<const int64_t>(value.sizes));
    } else if constexpr (std::is_same_v<T, Numbers>) {
      json->Add(name, absl::Span<const double>(value.values));
    } else {
      json->Add(name, Text(value));
    }
  }
};

}  // namespace params_internal

// OK if every parameter passes its check; else INVALID_ARGUMENT for the
// first that does not, e.g. "--actor_lr must be > 0, got -1".
template <typename Params>
absl::Status ValidateParams(const Params& params) {
  params_internal::Validator validator;
  params.VisitParams(validator);
  return validator.status;
}

// Adds every parameter to `json` under its flag name, exactly (doubles
// round-trip; LayerSizes as an array of numbers).
template <typename Params>
JsonObject& AddParams(const Params& params, JsonObject& json) {
  params_internal::JsonAdder adder{&json};
  params.VisitParams(adder);
  return json;
}

namespace params_internal {
template <typename Params>
void ReadAndValidate(Params* params, absl::Status* status) {
  ReadParamFlags(params);
  if (status->ok()) *status = ValidateParams(*params);
}
}  // namespace params_internal

// For each: ReadParamFlags (see MARL_PARAM_FLAGS), then ValidateParams; the
// first problem found, if any.
template <typename... Params>
absl::Status ParamsFromFlags(Params*... params) {
  absl::Status status;
  (params_internal::ReadAndValidate(params, &status), ...);
  return status;
}

}  // namespace marl

#define MARL_PARAM_FIELD_(type, name, value, check, help) type name = value;
#define MARL_PARAM_VISIT_(type, name, value, check, help) \
  visitor(#name, name, check, help);
#define MARL_PARAMS(LIST)                           \
  LIST(MARL_PARAM_FIELD_)                           \
  template <typename Visitor>                       \
  void VisitParams(Visitor& visitor) const {        \
    using namespace ::marl; /* the checks' names */ \
    LIST(MARL_PARAM_VISIT_)                         \
  }

#define MARL_PARAM_FLAG_(type, name, value, check, help) \
  ABSL_FLAG(type, name, value, help);
#define MARL_PARAM_READ_(type, name, value, check, help) \
  params->name = absl::GetFlag(FLAGS_##name);
#define MARL_PARAM_FLAGS(Struct, LIST)                           \
  using ::marl::LayerSizes;                                      \
  using ::marl::Numbers;                                         \
  LIST(MARL_PARAM_FLAG_)                                         \
  namespace marl {                                               \
  void ReadParamFlags(Struct* params) { LIST(MARL_PARAM_READ_) } \
  }

#endif  // MARL_RUNTIME_PARAMS_H_
