// WMS 1.3.0 GetMap client: one request per block, a bounded number in flight, retries with
// backoff, validated images only, and a disk cache written atomically.
#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <thread>

#include "io/atomic_file.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/raster/wms.hpp"
#include "raster/http.hpp"
#include "raster/wms_image.hpp"

namespace lidarhd::raster {
namespace {

namespace fs = std::filesystem;

// "0.2" rather than "0.20000000000000001": coordinates and resolutions in URLs and paths.
std::string format_number(double v) {
  if (v == 0) v = 0;  // no "-0"
  char text[64];
  std::snprintf(text, sizeof(text), "%.9f", v);
  std::string s = text;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// Keeps [A-Za-z0-9._-]; any other run of characters becomes one '_' (folder and file names).
std::string sanitise(const std::string& s) {
  std::string out;
  for (const unsigned char c : s) {
    const bool keep = std::isalnum(c) || c == '.' || c == '_' || c == '-';
    if (keep) {
      out += static_cast<char>(c);
    } else if (out.empty() || out.back() != '_') {
      out += '_';
    }
  }
  return out.empty() || out == "." || out == ".." ? "_" : out;
}

std::string extension_of(const std::string& format) {
  std::string sub = format.substr(format.find('/') + 1);
  if (sub == "jpeg") return "jpg";
  if (sub == "tiff" || sub == "geotiff") return "tif";
  return sanitise(sub);
}

void validate(const WmsOptions& o) {
  const auto fail = [](const std::string& what) { throw ArgumentError("wms", what); };
  if (o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0) {
    fail("the WMS URL must start with http:// or https:// (got \"" + o.url + "\")");
  }
  if (o.layer.empty()) fail("no WMS layer given");
  if (o.crs.empty()) fail("no WMS CRS given");
  if (o.format.rfind("image/", 0) != 0) {
    fail("the WMS format must be an image MIME type such as image/png (got \"" + o.format + "\")");
  }
  if (!(o.resolution > 0) || !std::isfinite(o.resolution)) {
    fail("the WMS resolution must be positive (got " + format_number(o.resolution) + ")");
  }
  if (o.block_size < 1 || o.block_size > 8192) {
    fail("the WMS block size must be 1 to 8192 pixels (got " + std::to_string(o.block_size) + ")");
  }
  if (o.bands < 1 || o.bands > 4)
    fail("WMS bands must be 1 to 4 (got " + std::to_string(o.bands) + ")");
  if (o.connections < 1 || o.connections > 64) {
    fail("WMS connections must be 1 to 64 (got " + std::to_string(o.connections) + ")");
  }
  if (!(o.timeout_s > 0) || !std::isfinite(o.timeout_s)) fail("the WMS timeout must be positive");
  if (o.retries < 0 || o.retries > 100) fail("WMS retries must be 0 to 100");
  if (!(o.backoff_s >= 0) || !(o.max_backoff_s >= 0) || !std::isfinite(o.backoff_s) ||
      !std::isfinite(o.max_backoff_s)) {
    fail("WMS backoff delays must be non-negative");
  }
  if (o.offline && o.cache_dir.empty()) fail("offline mode needs a cache folder (--cache)");
}

// WKT of the CRS, and whether WMS 1.3.0 wants its BBOX as (northing/latitude, easting/longitude).
std::pair<std::string, bool> describe_crs(const std::string& crs) {
  std::pair<std::string, bool> result{"", false};
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  CPLPushErrorHandler(CPLQuietErrorHandler);
  if (OSRSetFromUserInput(srs, crs.c_str()) == OGRERR_NONE) {
    char* wkt = nullptr;
    if (OSRExportToWkt(srs, &wkt) == OGRERR_NONE && wkt) result.first = wkt;
    CPLFree(wkt);
    result.second = OSREPSGTreatsAsLatLong(srs) || OSREPSGTreatsAsNorthingEasting(srs);
  }
  CPLPopErrorHandler();
  OSRDestroySpatialReference(srs);
  return result;
}

// Why a request failed, and whether trying again may help.
struct Problem {
  std::string what;
  bool retryable = true;
  std::optional<double> retry_after;
};

// Fixed-size counting semaphore (C++17 has none): bounds the requests in flight over all calls.
class Slots {
 public:
  explicit Slots(int n) : free_(n) {}
  void acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int free_;
};

struct Cancelled {};  // another block failed: stop quietly

class WmsSourceImpl final : public WmsSource {
 public:
  explicit WmsSourceImpl(const WmsOptions& o) : opt_(o), slots_(o.connections) {
    grid_.x0 = 0;
    grid_.y0 = 0;
    grid_.res_x = grid_.res_y = o.resolution;
    grid_.bounded = false;
    std::tie(wkt_, swap_axes_) = describe_crs(o.crs);
    if (!o.cache_dir.empty()) {
      cache_folder_ = fs::path(o.cache_dir) / sanitise(o.layer) / sanitise(o.crs) /
                      (format_number(o.resolution) + "m_" + std::to_string(o.block_size) + "px");
    }
    ext_ = extension_of(o.format);
  }

  std::string describe() const override { return "wms:" + opt_.layer; }
  std::string cache_key() const override {
    char res[40];
    std::snprintf(res, sizeof(res), "%.17g", opt_.resolution);
    return opt_.url + "|" + opt_.layer + "|" + opt_.crs + "|" + opt_.format + "|" + res + "|" +
           std::to_string(opt_.block_size);
  }
  const PixelGrid& grid() const override { return grid_; }
  int bands() const override { return opt_.bands; }
  int block_size() const override { return opt_.block_size; }
  std::string crs_wkt() const override { return wkt_; }
  WmsStats stats() const override {
    return WmsStats{requests_.load(), retries_.load(), cache_hits_.load(), bytes_.load()};
  }

  std::vector<BlockPtr> read_blocks(const std::vector<BlockKey>& keys) override {
    std::vector<BlockPtr> out(keys.size());
    if (keys.empty()) return out;
    std::atomic<size_t> next{0};
    std::atomic<bool> cancel{false};
    std::exception_ptr first_error;
    std::mutex error_mutex;
    const auto work = [&] {
      try {
        for (size_t i = next++; i < keys.size() && !cancel; i = next++) {
          out[i] = read_block(keys[i], cancel);
        }
      } catch (const Cancelled&) {
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        cancel = true;
      }
    };
    const size_t threads = std::min(keys.size(), static_cast<size_t>(opt_.connections));
    if (threads <= 1) {
      work();
    } else {
      std::vector<std::thread> pool;
      for (size_t t = 0; t < threads; ++t) pool.emplace_back(work);
      for (auto& th : pool) th.join();
    }
    if (first_error) std::rethrow_exception(first_error);
    return out;
  }

 private:
  std::string bbox_text(const BlockKey& key) const {
    const double span = static_cast<double>(opt_.block_size) * opt_.resolution;
    const double minx = static_cast<double>(key.bx) * span;
    const double maxy = -static_cast<double>(key.by) * span;
    const std::string x0 = format_number(minx), x1 = format_number(minx + span);
    const std::string y0 = format_number(maxy - span), y1 = format_number(maxy);
    return swap_axes_ ? y0 + "," + x0 + "," + y1 + "," + x1 : x0 + "," + y0 + "," + x1 + "," + y1;
  }

  std::string getmap_url(const BlockKey& key) const {
    using http::url_encode;
    std::string url = opt_.url;
    const char last = url.back();
    url += url.find('?') == std::string::npos ? "?" : (last == '?' || last == '&' ? "" : "&");
    const std::string size = std::to_string(opt_.block_size);
    return url + "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=" + url_encode(opt_.layer) +
           "&STYLES=&CRS=" + url_encode(opt_.crs) + "&BBOX=" + url_encode(bbox_text(key)) +
           "&WIDTH=" + size + "&HEIGHT=" + size + "&FORMAT=" + url_encode(opt_.format);
  }

  std::string block_name(const BlockKey& key) const {
    return "block (" + std::to_string(key.bx) + ", " + std::to_string(key.by) + ") of " +
           describe() + " (bbox " + bbox_text(key) + ")";
  }

  BlockPtr read_block(const BlockKey& key, const std::atomic<bool>& cancel) {
    fs::path path;
    if (!cache_folder_.empty()) {
      path = cache_folder_ / (std::to_string(key.bx) + "_" + std::to_string(key.by) + "." + ext_);
      std::ifstream in(path, std::ios::binary);
      if (in) {
        const std::string bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
        in.close();
        auto block = std::make_shared<Block>();
        const std::string problem = decode_image(bytes, opt_.block_size, opt_.bands, *block);
        if (problem.empty()) {
          ++cache_hits_;
          return block;
        }
        // A cache entry that does not decode was not written by us (we write validated
        // images atomically): drop it rather than trip over it on every run.
        std::error_code ignored;
        fs::remove(path, ignored);
        if (opt_.offline) {
          throw IoError("wms", "cache file " + path.string() + " for " + block_name(key) +
                                   " is corrupt (" + problem +
                                   "); it was removed, and --offline forbids fetching it again");
        }
      }
    }
    if (opt_.offline) {
      throw IoError("wms", block_name(key) + " is missing from the cache " + opt_.cache_dir +
                               " (expected " + path.string() +
                               "), and --offline forbids fetching it");
    }
    return fetch(key, path, cancel);
  }

  BlockPtr fetch(const BlockKey& key, const fs::path& path, const std::atomic<bool>& cancel) {
    const std::string url = getmap_url(key);
    const http::RetryPolicy policy{opt_.retries, opt_.backoff_s, opt_.max_backoff_s};
    auto client = take_client();
    Problem problem;
    for (int attempt = 0;; ++attempt) {
      if (cancel) throw Cancelled{};
      http::Response response;
      slots_.acquire();
      try {
        response = client->get(url, opt_.timeout_s);
      } catch (...) {
        slots_.release();
        throw;
      }
      slots_.release();
      ++requests_;
      bytes_ += response.body.size();
      auto block = std::make_shared<Block>();
      problem = check(response, *block);
      if (problem.what.empty()) {
        give_back(std::move(client));
        if (!path.empty()) store(path, response.body);
        return block;
      }
      if (!problem.retryable || attempt >= opt_.retries) break;
      const double delay = http::retry_delay(policy, attempt, unit_random(), problem.retry_after);
      warn("wms: GetMap " + bbox_text(key) + " of " + opt_.layer + ": attempt " +
           std::to_string(attempt + 1) + "/" + std::to_string(opt_.retries + 1) + " failed (" +
           problem.what + "); retrying in " + format_number(std::round(delay * 10) / 10) + " s");
      ++retries_;
      sleep_unless_cancelled(delay, cancel);
    }
    give_back(std::move(client));
    throw IoError(
        "wms", "GetMap " + url + " failed" +
                   (problem.retryable ? " after " + std::to_string(opt_.retries + 1) + " attempt(s)"
                                      : std::string()) +
                   ": " + problem.what);
  }

  // Empty `what` = `block` holds the decoded image.
  Problem check(const http::Response& r, Block& block) const {
    Problem p;
    if (!r.ok()) {
      p.retryable = http::retryable_transport(r.transport_code);
      p.what = http::timed_out(r.transport_code)
                   ? "no complete answer within " + format_number(opt_.timeout_s) + " s (timeout)"
                   : "network error: " + r.transport_error;
      return p;
    }
    if (r.status != 200) {
      p.retryable = http::retryable_status(r.status);
      p.what = "HTTP " + std::to_string(r.status);
      if (r.status == 429 || r.status == 503) {
        p.retry_after = http::parse_retry_after(r.retry_after, std::time(nullptr));
      }
      const std::string body = body_excerpt(r.body, r.content_type);
      if (!body.empty()) p.what += ": " + body;
      return p;
    }
    std::string type = r.content_type;
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!type.empty() && type.rfind("image/", 0) != 0) {
      p.retryable = !permanent_service_exception(r.body);
      p.what = "the answer is " + r.content_type + ", not an image";
      const std::string body = body_excerpt(r.body, r.content_type);
      if (!body.empty()) p.what += ": " + body;
      return p;
    }
    const DecodeResult d = decode_image_checked(r.body, opt_.block_size, opt_.bands, block);
    if (!d.problem.empty()) {
      p.what = d.problem;
      p.retryable = d.retryable;  // a cut image may come whole next time; a wrong size will not
    }
    return p;
  }

  void store(const fs::path& path, const std::string& bytes) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw IoError("wms", "cannot create the cache folder " + path.parent_path().string() + ": " +
                               ec.message());
    }
    io::detail::AtomicFile file(path.string());
    file.write(bytes.data(), bytes.size());
    file.commit();
  }

  void warn(const std::string& line) {
    if (!opt_.warn) return;
    std::lock_guard<std::mutex> lock(warn_mutex_);
    opt_.warn(line);
  }

  static double unit_random() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  static void sleep_unless_cancelled(double seconds, const std::atomic<bool>& cancel) {
    using clock = std::chrono::steady_clock;
    const auto end = clock::now() + std::chrono::duration_cast<clock::duration>(
                                        std::chrono::duration<double>(seconds));
    for (auto now = clock::now(); now < end; now = clock::now()) {
      if (cancel) throw Cancelled{};
      std::this_thread::sleep_for(
          std::min<clock::duration>(end - now, std::chrono::milliseconds(50)));
    }
  }

  // Clients (and their open connections) outlive a read_blocks call.
  std::unique_ptr<http::Client> take_client() {
    {
      std::lock_guard<std::mutex> lock(clients_mutex_);
      if (!clients_.empty()) {
        auto client = std::move(clients_.back());
        clients_.pop_back();
        return client;
      }
    }
    return std::make_unique<http::Client>();
  }
  void give_back(std::unique_ptr<http::Client> client) {
    std::lock_guard<std::mutex> lock(clients_mutex_);
    clients_.push_back(std::move(client));
  }

  WmsOptions opt_;
  PixelGrid grid_;
  std::string wkt_;
  bool swap_axes_ = false;
  fs::path cache_folder_;
  std::string ext_;
  Slots slots_;
  std::mutex clients_mutex_;
  std::vector<std::unique_ptr<http::Client>> clients_;
  std::mutex warn_mutex_;
  std::atomic<uint64_t> requests_{0}, retries_{0}, cache_hits_{0}, bytes_{0};
};

}  // namespace

std::unique_ptr<WmsSource> WmsSource::open(const WmsOptions& options) {
  validate(options);
  return std::make_unique<WmsSourceImpl>(options);
}

}  // namespace lidarhd::raster
