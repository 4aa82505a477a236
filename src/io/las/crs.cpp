// CRS from the OGC WKT record (LASF_Projection/2112) or the GeoTIFF key directory
// (LASF_Projection/34735). Only EPSG codes and the WKT name are extracted: the project never
// reprojects, it reports and carries the CRS.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "io/las/le_bytes.hpp"
#include "lidarhd/io/las.hpp"

namespace lidarhd::io {
namespace {

// A WKT node: KEYWORD[arg, arg, CHILD[...], ...]. Quoted and bare arguments are kept as text.
struct WktNode {
  std::string keyword;
  std::vector<std::string> args;
  std::vector<WktNode> children;
};

// Recursive-descent WKT reader (WKT1 and WKT2 share this syntax). Depth is bounded so that a
// hostile file cannot exhaust the stack; any syntax problem just yields "no CRS".
class WktParser {
 public:
  explicit WktParser(const std::string& s) : s_(s) {}

  bool parse(WktNode& root) {
    skip_space();
    if (!parse_node(root, 0)) return false;
    return true;  // trailing bytes (NUL padding, newlines) are ignored
  }

 private:
  static constexpr int kMaxDepth = 64;

  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  static bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
           c == '+';
  }
  std::string read_word() {
    const size_t start = pos_;
    while (pos_ < s_.size() && is_word_char(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  bool read_quoted(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') {
        if (pos_ < s_.size() && s_[pos_] == '"') {  // "" is an escaped quote
          out += '"';
          ++pos_;
          continue;
        }
        return true;
      }
      out += c;
    }
    return false;
  }

  bool parse_node(WktNode& node, int depth) {
    if (depth > kMaxDepth) return false;
    node.keyword = read_word();
    if (node.keyword.empty()) return false;
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '[' && s_[pos_] != '(')) return false;
    const char close = s_[pos_] == '[' ? ']' : ')';
    ++pos_;
    for (;;) {
      skip_space();
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == close) {
        ++pos_;
        return true;
      }
      if (s_[pos_] == '"') {
        std::string text;
        if (!read_quoted(text)) return false;
        node.args.push_back(std::move(text));
      } else {
        const size_t save = pos_;
        std::string word = read_word();
        if (word.empty()) return false;
        skip_space();
        if (pos_ < s_.size() && (s_[pos_] == '[' || s_[pos_] == '(')) {
          pos_ = save;
          WktNode child;
          if (!parse_node(child, depth + 1)) return false;
          node.children.push_back(std::move(child));
        } else {
          node.args.push_back(std::move(word));
        }
      }
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') ++pos_;
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
};

bool iequals(const std::string& a, const char* b) {
  size_t i = 0;
  for (; i < a.size() && b[i]; ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  }
  return i == a.size() && b[i] == 0;
}

int parse_code(const std::string& text) {
  if (text.empty() || text.size() > 9) return 0;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
  return std::atoi(text.c_str());
}

// EPSG code from the node's own AUTHORITY["EPSG","n"] (WKT1) or ID["EPSG",n] (WKT2).
int own_epsg(const WktNode& node) {
  for (const WktNode& c : node.children) {
    if ((iequals(c.keyword, "AUTHORITY") || iequals(c.keyword, "ID")) && c.args.size() >= 2 &&
        iequals(c.args[0], "EPSG")) {
      return parse_code(c.args[1]);
    }
  }
  return 0;
}

bool is_compound(const WktNode& n) {
  return iequals(n.keyword, "COMPD_CS") || iequals(n.keyword, "COMPOUNDCRS");
}
bool is_vertical(const WktNode& n) {
  return iequals(n.keyword, "VERT_CS") || iequals(n.keyword, "VERTCRS") ||
         iequals(n.keyword, "VERTICALCRS");
}
bool is_crs_keyword(const WktNode& n) {
  static const char* const kCrs[] = {"PROJCS",       "GEOGCS",      "GEOCCS",        "PROJCRS",
                                     "PROJECTEDCRS", "GEOGCRS",     "GEOGRAPHICCRS", "GEODCRS",
                                     "GEODETICCRS",  "BASEGEOGCRS", "ENGCRS",        "LOCAL_CS"};
  for (const char* k : kCrs)
    if (iequals(n.keyword, k)) return true;
  return false;
}

void fill_from_wkt_node(const WktNode& root, Crs& crs) {
  const WktNode* node = &root;
  // WKT2 BOUNDCRS wraps the real CRS in SOURCECRS[...].
  if (iequals(node->keyword, "BOUNDCRS")) {
    for (const WktNode& c : node->children) {
      if (iequals(c.keyword, "SOURCECRS") && !c.children.empty()) {
        node = &c.children.front();
        break;
      }
    }
  }
  if (!node->args.empty()) crs.name = node->args.front();
  if (is_compound(*node)) {
    int horizontal = 0, vertical = 0;
    for (const WktNode& c : node->children) {
      if (is_vertical(c)) {
        if (!vertical) vertical = own_epsg(c);
      } else if (is_crs_keyword(c)) {
        if (!horizontal) horizontal = own_epsg(c);
      }
    }
    const int own = own_epsg(*node);
    if (horizontal && vertical) {
      crs.epsg = horizontal;
      crs.vertical_epsg = vertical;
    } else if (own) {
      crs.epsg = own;
    } else {
      crs.epsg = horizontal;
    }
    return;
  }
  crs.epsg = own_epsg(*node);
}

const Vlr* find_record(const std::vector<Vlr>& vlrs, const std::vector<Vlr>& evlrs,
                       uint16_t record_id) {
  for (const auto* list : {&vlrs, &evlrs}) {
    for (const Vlr& v : *list)
      if (v.user_id == "LASF_Projection" && v.record_id == record_id) return &v;
  }
  return nullptr;
}

// GeoKeyDirectoryTag: u16 version, revision, minor, key count; then 4 x u16 per key
// (id, location, count, value). Only keys stored inline (location 0) are EPSG codes.
int geotiff_epsg(const std::vector<uint8_t>& data) {
  if (data.size() < 8) return 0;
  const size_t declared = detail::u16_at(data.data() + 6);
  const size_t keys = std::min(declared, (data.size() - 8) / 8);
  int projected = 0, geographic = 0;
  for (size_t i = 0; i < keys; ++i) {
    const uint8_t* k = data.data() + 8 + 8 * i;
    const uint16_t id = detail::u16_at(k), location = detail::u16_at(k + 2);
    const uint16_t value = detail::u16_at(k + 6);
    if (location != 0 || value == 0 || value == 32767) continue;  // 32767 = user-defined
    if (id == 3072) projected = value;
    if (id == 2048) geographic = value;
  }
  return projected ? projected : geographic;
}

}  // namespace

std::string Crs::to_string() const {
  if (epsg == 0) return "none";
  std::string s = "EPSG:" + std::to_string(epsg);
  if (vertical_epsg) s += "+" + std::to_string(vertical_epsg);
  return s;
}

Crs parse_wkt_crs(const std::string& wkt) {
  Crs crs;
  crs.wkt = wkt;
  WktNode root;
  WktParser parser(wkt);
  if (!wkt.empty() && parser.parse(root)) {
    fill_from_wkt_node(root, crs);
    if (crs.epsg) crs.source = "wkt";
  }
  return crs;
}

Crs parse_crs(const std::vector<Vlr>& vlrs, const std::vector<Vlr>& evlrs) {
  Crs crs;
  if (const Vlr* w = find_record(vlrs, evlrs, 2112)) {
    // The payload is a NUL-terminated string, often padded.
    crs = parse_wkt_crs(detail::fixed_string(w->data.data(), w->data.size()));
  }
  if (crs.epsg == 0) {
    if (const Vlr* g = find_record(vlrs, evlrs, 34735)) {
      crs.epsg = geotiff_epsg(g->data);
      crs.vertical_epsg = 0;
      if (crs.epsg) crs.source = "geotiff";
    }
  }
  return crs;
}

}  // namespace lidarhd::io
