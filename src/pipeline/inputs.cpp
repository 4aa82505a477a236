// Input tiles: files and folders expanded, named, with their header bounds (for halos).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "lidarhd/core/error.hpp"
#include "lidarhd/io/las.hpp"
#include "pipeline/tiles.hpp"

namespace lidarhd::pipeline::detail {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "tile.copc.laz" -> "tile"; "" when the name is not a LAS/LAZ file.
std::string stem_of(const fs::path& p) {
  const std::string name = p.filename().string(), low = lower(name);
  for (const char* ext : {".copc.laz", ".laz", ".las"}) {
    const size_t len = std::char_traits<char>::length(ext);
    if (low.size() > len && low.compare(low.size() - len, len, ext) == 0) return name.substr(0, name.size() - len);
  }
  return "";
}

}  // namespace

std::vector<TileInput> list_tiles(const std::vector<std::string>& paths) {
  std::vector<TileInput> tiles;
  std::map<std::string, std::string> seen;  // name -> path
  auto add = [&](const fs::path& p) {
    TileInput t;
    t.path = p.string();
    t.name = stem_of(p);
    const auto [it, fresh] = seen.emplace(t.name, t.path);
    if (!fresh) {
      if (fs::equivalent(it->second, t.path)) return;
      throw ArgumentError("process", "two inputs are named '" + t.name + "' (" + it->second +
                                         " and " + t.path + "): outputs would collide");
    }
    // An unreadable tile fails alone, when its turn comes (the others still run).
    try {
      const io::LasFileInfo info = io::read_las_info(t.path);
      t.min = info.header.min, t.max = info.header.max;
      t.points = info.header.point_count;
    } catch (const Error& e) {
      t.error = e.what();
    }
    tiles.push_back(std::move(t));
  };
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::directory_iterator(path)) {
        if (e.is_regular_file() && !stem_of(e.path()).empty()) found.push_back(e.path());
      }
      if (found.empty()) throw ArgumentError("process", path + ": no .las/.laz/.copc.laz file in this folder");
      std::sort(found.begin(), found.end());
      for (const auto& f : found) add(f);
    } else if (fs::is_regular_file(path, ec)) {
      if (stem_of(path).empty()) throw ArgumentError("process", path + ": not a .las/.laz/.copc.laz file");
      add(path);
    } else {
      throw ArgumentError("process", path + ": no such file or folder");
    }
  }
  std::sort(tiles.begin(), tiles.end(), [](const TileInput& a, const TileInput& b) { return a.name < b.name; });
  return tiles;
}

}  // namespace lidarhd::pipeline::detail
