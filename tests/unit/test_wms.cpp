// WMS source: the retry policy (pure), option validation, and GetMap against the project's test
// server (tests/python/wms_server.py, synthetic layer) with fault injection. The server tests
// skip when python3 or numpy is missing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

#include "lidarhd/core/error.hpp"
#include "lidarhd/raster/wms.hpp"
#include "raster/http.hpp"

#ifndef LIDARHD_SOURCE_DIR
#define LIDARHD_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;
using lidarhd::ArgumentError;
using lidarhd::IoError;
using namespace lidarhd::raster;

namespace {

// ---------------------------------------------------------------------------------------------
// Retry policy
// ---------------------------------------------------------------------------------------------

TEST(WmsRetry, DelayDoublesWithJitterAndCap) {
  const http::RetryPolicy p{5, 1.0, 10.0};
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 0, 0.0), 0.5);  // jitter keeps [base/2, base]
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 0, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 1, 1.0), 2.0);
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 2, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 3, 1.0), 8.0);
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 4, 1.0), 10.0);  // 16 capped
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 1000, 1.0), 10.0);
  for (int attempt = 0; attempt < 8; ++attempt) {
    for (double u : {0.0, 0.3, 0.99}) {
      const double d = http::retry_delay(p, attempt, u);
      EXPECT_GE(d, 0.0);
      EXPECT_LE(d, 10.0);
    }
  }
  EXPECT_DOUBLE_EQ(http::retry_delay({5, 0.0, 10.0}, 3, 1.0), 0.0);
}

TEST(WmsRetry, RetryAfterIsHonouredAndCapped) {
  const http::RetryPolicy p{5, 1.0, 10.0};
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 0, 0.0, 3.0), 3.0);
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 4, 1.0, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(http::retry_delay(p, 0, 0.0, 3600.0), 10.0);
}

TEST(WmsRetry, ParseRetryAfter) {
  EXPECT_EQ(http::parse_retry_after("", 0), std::nullopt);
  EXPECT_EQ(http::parse_retry_after("soon", 0), std::nullopt);
  EXPECT_EQ(http::parse_retry_after("-3", 0), std::nullopt);
  EXPECT_EQ(http::parse_retry_after("120", 0), 120.0);
  EXPECT_EQ(http::parse_retry_after(" 7 ", 0), 7.0);
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480
  const std::time_t date = 1445412480;
  EXPECT_EQ(http::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date - 30), 30.0);
  EXPECT_EQ(http::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date + 30), 0.0);
}

TEST(WmsRetry, WhatIsRetryable) {
  for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(http::retryable_status(s)) << s;
  for (long s : {200L, 204L, 400L, 401L, 403L, 404L}) EXPECT_FALSE(http::retryable_status(s)) << s;
  // CURLE_COULDNT_CONNECT 7, PARTIAL_FILE 18, OPERATION_TIMEDOUT 28, GOT_NOTHING 52, RECV 56
  for (int c : {7, 18, 28, 52, 56}) EXPECT_TRUE(http::retryable_transport(c)) << c;
  // UNSUPPORTED_PROTOCOL 1, URL_MALFORMAT 3, PEER_FAILED_VERIFICATION 60
  for (int c : {1, 3, 60}) EXPECT_FALSE(http::retryable_transport(c)) << c;
  EXPECT_TRUE(http::timed_out(28));
  EXPECT_FALSE(http::timed_out(7));
}

TEST(WmsRetry, UrlEncode) {
  EXPECT_EQ(http::url_encode("EPSG:2154"), "EPSG%3A2154");
  EXPECT_EQ(http::url_encode("image/png; mode=8bit"), "image%2Fpng%3B%20mode%3D8bit");
  EXPECT_EQ(http::url_encode("A-z_0.9~"), "A-z_0.9~");
  EXPECT_EQ(http::url_encode("1,-2.5"), "1%2C-2.5");
}

// ---------------------------------------------------------------------------------------------
// Options and metadata (no request)
// ---------------------------------------------------------------------------------------------

TEST(WmsOptions, InvalidOptionsAreRejected) {
  const std::vector<std::function<void(WmsOptions&)>> bad = {
      [](WmsOptions& o) { o.url = "ftp://example.org/wms"; },
      [](WmsOptions& o) { o.url = ""; },
      [](WmsOptions& o) { o.layer = ""; },
      [](WmsOptions& o) { o.crs = ""; },
      [](WmsOptions& o) { o.format = "text/xml"; },
      [](WmsOptions& o) { o.resolution = 0; },
      [](WmsOptions& o) { o.resolution = -0.2; },
      [](WmsOptions& o) { o.block_size = 0; },
      [](WmsOptions& o) { o.block_size = 100000; },
      [](WmsOptions& o) { o.bands = 0; },
      [](WmsOptions& o) { o.bands = 5; },
      [](WmsOptions& o) { o.connections = 0; },
      [](WmsOptions& o) { o.timeout_s = 0; },
      [](WmsOptions& o) { o.retries = -1; },
      [](WmsOptions& o) { o.backoff_s = -1; },
      [](WmsOptions& o) { o.offline = true; },  // without a cache folder
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    WmsOptions o;
    bad[i](o);
    EXPECT_THROW(WmsSource::open(o), ArgumentError) << "case " << i;
  }
  try {
    WmsOptions o;
    o.offline = true;
    WmsSource::open(o);
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("cache"), std::string::npos) << e.what();
  }
}

TEST(WmsOptions, Metadata) {
  WmsOptions o;
  o.block_size = 500;
  const auto wms = WmsSource::open(o);
  EXPECT_EQ(wms->describe(), "wms:HR.ORTHOIMAGERY.ORTHOPHOTOS");
  EXPECT_EQ(wms->cache_key(),
            "https://data.geopf.fr/wms-r|HR.ORTHOIMAGERY.ORTHOPHOTOS|EPSG:2154|image/"
            "png|0.20000000000000001|500");
  EXPECT_EQ(wms->block_size(), 500);
  EXPECT_EQ(wms->bands(), 3);
  EXPECT_FALSE(wms->grid().bounded);
  EXPECT_EQ(wms->grid().x0, 0.0);
  EXPECT_EQ(wms->grid().y0, 0.0);
  EXPECT_EQ(wms->grid().res_x, 0.2);
  EXPECT_EQ(wms->grid().res_y, 0.2);
  const std::string wkt = wms->crs_wkt();
  EXPECT_NE(wkt.find("Lambert"), std::string::npos) << wkt;
  o.crs = "not a crs";
  EXPECT_EQ(WmsSource::open(o)->crs_wkt(), "");
  EXPECT_EQ(WmsSource::open(o)->stats().requests, 0u);
}

// A cache folder of its own, removed when the test ends. The pid keeps two builds' test runs
// (and ctest -j) out of each other's caches.
struct Scratch {
  explicit Scratch(const std::string& name)
      : path((fs::path(::testing::TempDir()) /
              ("lidarhd_wms_" + std::to_string(::getpid()) + "_" + name))
                 .string()) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string path;
};

TEST(WmsOffline, MissingBlockNamesTheBlock) {
  WmsOptions o;
  o.url = "http://127.0.0.1:9/wms";  // discard port: would fail fast if it were ever used
  const Scratch scratch("offline_missing");
  o.cache_dir = scratch.path;
  o.offline = true;
  o.block_size = 100;
  const auto wms = WmsSource::open(o);
  try {
    wms->read_blocks({{38527, -313880}});
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("(38527, -313880)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("770540,6277580,770560,6277600"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--offline"), std::string::npos) << msg;
  }
  EXPECT_EQ(wms->stats().requests, 0u);
}

// ---------------------------------------------------------------------------------------------
// Against tests/python/wms_server.py
// ---------------------------------------------------------------------------------------------

// The server's synthetic layer (wms_server.synthetic_pixel), Python's non-negative modulo.
uint8_t synthetic(int64_t col, int64_t row, int band) {
  const auto mod = [](int64_t a, int64_t m) { return static_cast<uint8_t>(((a % m) + m) % m); };
  if (band == 0) return mod(col * 7 + row * 3, 251);
  if (band == 1) return mod(col * 13 + row * 29, 256);
  return mod(col + 2 * row, 253);
}

// Runs the server in a child process for the lifetime of the object.
class Server {
 public:
  explicit Server(const std::string& args) {
    const std::string script = std::string(LIDARHD_SOURCE_DIR) + "/tests/python/wms_server.py";
    const std::string cmd =
        "python3 " + script + " --layer TEST=synthetic --lifetime 120 " + args + " 2>/dev/null";
    pipe_ = popen(cmd.c_str(), "r");
    if (!pipe_) return;
    char line[128] = {0};
    if (std::fgets(line, sizeof(line), pipe_) && std::sscanf(line, "PORT %d", &port_) == 1) {
      url = "http://127.0.0.1:" + std::to_string(port_) + "/wms";
    }
  }
  ~Server() {
    if (port_ > 0) {
      http::Client client;
      client.get("http://127.0.0.1:" + std::to_string(port_) + "/__shutdown", 5);
    }
    if (pipe_) pclose(pipe_);
  }
  bool running() const { return port_ > 0; }
  long getmaps() const {
    http::Client client;
    const auto r = client.get("http://127.0.0.1:" + std::to_string(port_) + "/__count", 5);
    return r.ok() && r.status == 200 ? std::stol(r.body) : -1;
  }
  std::string url;

 private:
  FILE* pipe_ = nullptr;
  int port_ = 0;
};

bool python_ready() {
  static const bool ready = std::system("python3 -c 'import numpy' > /dev/null 2>&1") == 0;
  return ready;
}

#define START_SERVER(var, args)                                                           \
  if (!python_ready()) GTEST_SKIP() << "python3 with numpy is needed for the WMS server"; \
  Server var(args);                                                                       \
  ASSERT_TRUE(var.running()) << "tests/python/wms_server.py did not start"

constexpr int kBlock = 64;

struct Warnings {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mutex);
      lines.push_back(line);
    };
  }
};

WmsOptions test_options(const std::string& url, const std::string& cache) {
  WmsOptions o;
  o.url = url;
  o.layer = "TEST";
  o.block_size = kBlock;
  o.cache_dir = cache;
  o.connections = 3;
  o.timeout_s = 10;
  o.retries = 3;
  o.backoff_s = 0.05;
  o.max_backoff_s = 2;
  return o;
}

// Keys around the origin (negative indices included) and in Lambert-93 range.
const std::vector<BlockKey> kKeys = {{0, 0},  {-1, -1},         {1, -1},
                                     {-2, 3}, {60198, -490437}, {60199, -490437}};

void expect_synthetic(const std::vector<BlockPtr>& blocks, const std::vector<BlockKey>& keys) {
  ASSERT_EQ(blocks.size(), keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    ASSERT_TRUE(blocks[k]);
    const Block& b = *blocks[k];
    ASSERT_EQ(b.size, kBlock);
    ASSERT_EQ(b.bands, 3);
    ASSERT_EQ(b.pixels.size(), size_t(kBlock) * kBlock * 3);
    ASSERT_EQ(b.valid.size(), size_t(kBlock) * kBlock);
    int bad = 0;
    for (int r = 0; r < kBlock; ++r) {
      for (int c = 0; c < kBlock; ++c) {
        const int64_t col = keys[k].bx * kBlock + c, row = keys[k].by * kBlock + r;
        for (int band = 0; band < 3; ++band) {
          bad += b.pixels[(size_t(r) * kBlock + c) * 3 + band] != synthetic(col, row, band);
        }
        bad += b.valid[size_t(r) * kBlock + c] != 1;
      }
    }
    EXPECT_EQ(bad, 0) << "block (" << keys[k].bx << ", " << keys[k].by << ")";
  }
}

// Every file in the cache decodes: an offline source reads all of them back.
size_t cache_files(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    EXPECT_NE(e.path().filename().string()[0], '.') << "temporary file left: " << e.path();
    ++n;
  }
  return n;
}

TEST(WmsServer, FetchThenOfflineGivesSamePixels) {
  START_SERVER(server, "");
  const Scratch scratch("fetch");
  const std::string cache = scratch.path;
  WmsOptions o = test_options(server.url, cache);
  const auto wms = WmsSource::open(o);
  const auto blocks = wms->read_blocks(kKeys);
  expect_synthetic(blocks, kKeys);
  EXPECT_EQ(wms->stats().requests, kKeys.size());
  EXPECT_EQ(wms->stats().retries, 0u);
  EXPECT_EQ(wms->stats().cache_hits, 0u);
  EXPECT_GT(wms->stats().bytes, 0u);
  EXPECT_EQ(cache_files(cache), kKeys.size());
  EXPECT_TRUE(
      fs::exists(fs::path(cache) / "TEST" / "EPSG_2154" / "0.2m_64px" / "60198_-490437.png"));

  o.offline = true;
  o.url = "http://127.0.0.1:9/wms";  // never contacted
  const auto offline = WmsSource::open(o);
  const auto again = offline->read_blocks(kKeys);
  for (size_t k = 0; k < kKeys.size(); ++k) {
    EXPECT_EQ(again[k]->pixels, blocks[k]->pixels);
    EXPECT_EQ(again[k]->valid, blocks[k]->valid);
  }
  EXPECT_EQ(offline->stats().requests, 0u);
  EXPECT_EQ(offline->stats().cache_hits, kKeys.size());
  EXPECT_EQ(server.getmaps(), long(kKeys.size()));

  // Online with a warm cache: no request either.
  const auto warm = WmsSource::open(test_options(server.url, cache));
  warm->read_blocks(kKeys);
  EXPECT_EQ(warm->stats().cache_hits, kKeys.size());
  EXPECT_EQ(server.getmaps(), long(kKeys.size()));
}

TEST(WmsServer, TransientFaultsAreRetried) {
  START_SERVER(server,
               "--fault 500:2 --fault 503:1 --fault truncated_length:1 --fault truncated_png:1 "
               "--fault xml:1 --fault html:1 --fault 429:1:retry_after=1");
  const Scratch scratch("transient");
  const std::string cache = scratch.path;
  WmsOptions o = test_options(server.url, cache);
  o.connections = 2;
  o.retries = 8;  // one block may meet all eight faults
  Warnings warnings;
  o.warn = warnings.sink();
  const auto start = std::chrono::steady_clock::now();
  const auto wms = WmsSource::open(o);
  const auto blocks = wms->read_blocks(kKeys);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  expect_synthetic(blocks, kKeys);
  EXPECT_EQ(wms->stats().retries, 8u);
  EXPECT_EQ(wms->stats().requests, kKeys.size() + 8);
  EXPECT_EQ(warnings.lines.size(), 8u);
  EXPECT_GE(seconds, 0.9);  // Retry-After: 1
  std::string all;
  for (const auto& line : warnings.lines) all += line + "\n";
  for (const char* what : {"HTTP 500", "HTTP 503", "HTTP 429", "truncated", "service exception",
                           "text/html", "attempt 1/9"}) {
    EXPECT_NE(all.find(what), std::string::npos) << what << " not in:\n" << all;
  }
  EXPECT_EQ(cache_files(cache), kKeys.size());
}

TEST(WmsServer, SlowAnswersTimeOutAndAreRetried) {
  START_SERVER(server, "--fault slow:1:seconds=3");
  const Scratch scratch("slow");
  WmsOptions o = test_options(server.url, scratch.path);
  o.timeout_s = 0.5;
  Warnings warnings;
  o.warn = warnings.sink();
  const auto wms = WmsSource::open(o);
  expect_synthetic(wms->read_blocks({kKeys[0]}), {kKeys[0]});
  EXPECT_EQ(wms->stats().retries, 1u);
  ASSERT_EQ(warnings.lines.size(), 1u);
  EXPECT_NE(warnings.lines[0].find("timeout"), std::string::npos) << warnings.lines[0];
}

TEST(WmsServer, PersistentFaultsFailClearlyAndCacheNothing) {
  struct Case {
    const char* fault;
    const char* expect;
    uint64_t requests;  // 4 = retried (1 + 3 retries), 1 = not worth retrying
  };
  const Case cases[] = {
      {"500:all", "HTTP 500", 4},
      {"xml:all", "Backend unavailable", 4},
      {"html:all", "Service under maintenance", 4},
      {"truncated_png:all", "does not decode", 4},
      {"xml:all:code=LayerNotDefined", "LayerNotDefined", 1},
      {"wrong_size:all", "expected 64 x 64", 1},
  };
  if (!python_ready()) GTEST_SKIP() << "python3 with numpy is needed for the WMS server";
  for (const Case& c : cases) {
    Server server(std::string("--fault ") + c.fault);
    ASSERT_TRUE(server.running());
    const Scratch scratch("persistent");
    const std::string cache = scratch.path;
    WmsOptions o = test_options(server.url, cache);
    o.connections = 1;
    const auto wms = WmsSource::open(o);
    try {
      wms->read_blocks({kKeys[0]});
      ADD_FAILURE() << c.fault << ": expected IoError";
    } catch (const IoError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(c.expect), std::string::npos) << c.fault << ": " << msg;
      EXPECT_NE(msg.find(server.url + "?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=TEST"),
                std::string::npos)
          << msg;
    }
    EXPECT_EQ(wms->stats().requests, c.requests) << c.fault;
    EXPECT_EQ(cache_files(cache), 0u) << c.fault;
  }
}

TEST(WmsServer, DeadServerThenRestartUsesCache) {
  const Scratch scratch("dead");
  const std::string cache = scratch.path;
  std::vector<BlockKey> keys;
  for (int i = 0; i < 12; ++i) keys.push_back({i, -i});
  {
    START_SERVER(server, "--die-after 5");
    WmsOptions o = test_options(server.url, cache);
    o.connections = 2;
    o.retries = 2;
    const auto wms = WmsSource::open(o);
    try {
      wms->read_blocks(keys);
      FAIL() << "expected IoError";
    } catch (const IoError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("network error"), std::string::npos) << msg;
      EXPECT_NE(msg.find("after 3 attempt(s)"), std::string::npos) << msg;
    }
  }
  const size_t kept = cache_files(cache);
  EXPECT_GE(kept, 1u);
  EXPECT_LE(kept, 5u);
  START_SERVER(restarted, "");
  const auto wms = WmsSource::open(test_options(restarted.url, cache));
  expect_synthetic(wms->read_blocks(keys), keys);
  EXPECT_EQ(wms->stats().cache_hits, kept);
  EXPECT_EQ(restarted.getmaps(), long(keys.size() - kept));
}

TEST(WmsServer, CorruptCacheFileIsReplaced) {
  START_SERVER(server, "");
  const Scratch scratch("corrupt");
  const std::string cache = scratch.path;
  WmsOptions o = test_options(server.url, cache);
  WmsSource::open(o)->read_blocks({kKeys[0]});
  const fs::path file = fs::path(cache) / "TEST" / "EPSG_2154" / "0.2m_64px" / "0_0.png";
  ASSERT_TRUE(fs::exists(file));
  const auto write_garbage = [&] {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << "not a png";
  };

  write_garbage();
  o.offline = true;
  try {
    WmsSource::open(o)->read_blocks({kKeys[0]});
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(file));

  write_garbage();
  o.offline = false;
  const auto wms = WmsSource::open(o);
  expect_synthetic(wms->read_blocks({kKeys[0]}), {kKeys[0]});
  EXPECT_EQ(wms->stats().requests, 1u);
  o.offline = true;
  expect_synthetic(WmsSource::open(o)->read_blocks({kKeys[0]}), {kKeys[0]});
}

TEST(WmsServer, AlphaZeroMarksInvalidPixels) {
  START_SERVER(server, "--fault alpha:all");
  WmsOptions o = test_options(server.url, "");
  const auto blocks = WmsSource::open(o)->read_blocks({kKeys[0]});
  const Block& b = *blocks[0];
  for (int r = 0; r < kBlock; ++r) {
    for (int c = 0; c < kBlock; ++c) {
      EXPECT_EQ(b.valid[size_t(r) * kBlock + c], c == 0 ? 0 : 1) << r << "," << c;
      EXPECT_EQ(b.pixels[(size_t(r) * kBlock + c) * 3], synthetic(c, r, 0));
    }
  }
}

}  // namespace
