#ifndef MARL_ENVS_CORE_SETTINGS_H_
#define MARL_ENVS_CORE_SETTINGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marl {

// The most dimensions a DoubleArray setting may have, from text or from the
// wire: parsing and printing recurse once per dimension.
inline constexpr int kMaxArrayRank = 32;

// A dense row-major array of doubles: a payoff matrix, a vector.
struct DoubleArray {
  std::vector<int64_t> shape;
  std::vector<double> values;
  bool operator==(const DoubleArray& o) const {
    return shape == o.shape && values == o.values;
  }
};

// A typed setting value. The alternative held by a declaration's default is
// the setting's type.
using SettingValue =
    std::variant<int64_t, double, bool, std::string, DoubleArray>;

std::string SettingTypeName(const SettingValue& value);
std::string SettingValueToString(const SettingValue& value);

// Parses `text` as a value of the same type as `like`: "3", "0.7", "true",
// "pd", or an array "[[0,3],[1,2]]" / "[1,2,3]" (rectangular, at most
// kMaxArrayRank deep). Doubles may parse as inf or nan ("inf", "1e999"):
// an environment whose setting must be finite checks it (CheckDoubleInRange).
absl::StatusOr<SettingValue> ParseSettingValue(const std::string& text,
                                               const SettingValue& like);

// Range checks for an environment's settings. OK when low <= value <= high
// (NaN lies outside every range); otherwise INVALID_ARGUMENT naming the
// setting, the value and the range, then `why` when given (for example
// "so that every reward stays within 1e30").
absl::Status CheckIntInRange(const std::string& setting, int64_t value,
                             int64_t low, int64_t high,
                             const std::string& why = "");
absl::Status CheckDoubleInRange(const std::string& setting, double value,
                                double low, double high,
                                const std::string& why = "");

struct SettingDecl {
  std::string name;
  std::string description;
  SettingValue default_value;
};

// The resolved settings of one environment: every declared setting, with
// user values over defaults. Getters assume the type was checked by
// Resolve(); they return the default on a mismatch that cannot happen.
class Settings {
 public:
  Settings() = default;

  // Fills defaults, rejects unknown names
  // and type mismatches (INVALID_ARGUMENT). An int given for a double
  // setting is accepted and widened.
  static absl::StatusOr<Settings> Resolve(
      const std::vector<SettingDecl>& decls,
      const std::map<std::string, SettingValue>& given);

  int64_t GetInt(const std::string& name) const;
  double GetDouble(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  const std::string& GetString(const std::string& name) const;
  const DoubleArray& GetArray(const std::string& name) const;

  const std::map<std::string, SettingValue>& values() const { return values_; }

 private:
  const SettingValue& Get(const std::string& name) const;
  std::map<std::string, SettingValue> values_;
};

}  // namespace marl

#endif  // MARL_ENVS_CORE_SETTINGS_H_
