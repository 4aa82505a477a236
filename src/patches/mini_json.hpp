// A small JSON reader for the project's own data files (data/labels.json), so that labels build
// without nlohmann_json (it is only linked with LIDARHD_DATASETS). Objects keep their key order.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lidarhd::detail {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;

  const JsonValue* find(const std::string& key) const;  // null when absent or not an object
};

// Parses one JSON document; throws FormatError("<component>", "<what>: ... at line L column C").
JsonValue parse_json(const std::string& text, const std::string& component,
                     const std::string& what);

}  // namespace lidarhd::detail
