// Sampling (nearest, bilinear), window planning and the block caches, on an in-memory raster
// whose every pixel is known; device-parameterised: CUDA must give the same bits as the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "device_test.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/raster/block_cache.hpp"
#include "lidarhd/raster/sample.hpp"
#include "raster/lru.hpp"

namespace lidarhd::raster {
namespace {

// Pixel value of band b at (col, row): distinct per pixel and band.
uint8_t pattern(int64_t col, int64_t row, int b) {
  return static_cast<uint8_t>((col * 7 + row * 13 + b * 101) & 0xFF);
}

// A bounded (or unbounded, WMS-like) raster with NoData where (col + 2 * row) % 11 == 0.
class FakeSource : public RasterSource {
 public:
  FakeSource(bool bounded, int block = 4) : block_(block) {
    grid_.x0 = 1000.0, grid_.y0 = 2000.0, grid_.res_x = 0.5, grid_.res_y = 0.25;
    grid_.width = 10, grid_.height = 7, grid_.bounded = bounded;
  }
  // An IGN-like grid: 0.2 m pixels (not a binary fraction) from a corner at ...9.8 m.
  FakeSource(const PixelGrid& grid, int block) : grid_(grid), block_(block) {}
  std::string describe() const override { return "fake"; }
  std::string cache_key() const override { return "fake" + std::to_string(grid_.bounded); }
  const PixelGrid& grid() const override { return grid_; }
  int bands() const override { return 3; }
  int block_size() const override { return block_; }
  std::string crs_wkt() const override { return ""; }
  std::vector<BlockPtr> read_blocks(const std::vector<BlockKey>& keys) override {
    std::vector<BlockPtr> out;
    for (const BlockKey& k : keys) {
      ++reads;
      auto b = std::make_shared<Block>();
      b->size = block_, b->bands = 3;
      b->pixels.assign(size_t(block_ * block_ * 3), 0);
      b->valid.assign(size_t(block_ * block_), 0);
      bool any = false;
      for (int r = 0; r < block_; ++r) {
        for (int c = 0; c < block_; ++c) {
          const int64_t col = k.bx * block_ + c, row = k.by * block_ + r;
          if (!inside(col, row)) continue;
          any = true;
          for (int band = 0; band < 3; ++band)
            b->pixels[size_t((r * block_ + c) * 3 + band)] = pattern(col, row, band);
          b->valid[size_t(r * block_ + c)] = nodata(col, row) ? kPixelNoData : kPixelData;
        }
      }
      out.push_back(any ? b : nullptr);
    }
    return out;
  }
  bool inside(int64_t col, int64_t row) const {
    return !grid_.bounded || (col >= 0 && row >= 0 && col < grid_.width && row < grid_.height);
  }
  static bool nodata(int64_t col, int64_t row) { return (((col + 2 * row) % 11) + 11) % 11 == 0; }
  int reads = 0;

 private:
  PixelGrid grid_;
  int block_;
};

struct Samples {
  std::vector<float> values;
  std::vector<uint8_t> status;
};

Samples run(FakeSource& src, Sampler& sampler, const std::vector<double>& x,
            const std::vector<double>& y, SampleMethod method, int bands = 3) {
  BlockCache cache;
  const WindowPlan plan = plan_window(src, x.data(), y.data(), x.size(), method);
  const BlockWindow w = make_window(src, plan, cache.fetch(src, plan.keys));
  Samples s;
  s.values.resize(x.size() * bands);
  s.status.resize(x.size());
  sampler.sample(w, x.data(), y.data(), x.size(), method, bands, -1.0f, s.values.data(),
                 s.status.data());
  return s;
}

class SampleTest : public lidarhd::testing::DeviceTest {};

TEST_P(SampleTest, NearestTakesThePixelContainingThePoint) {
  for (bool bounded : {true, false}) {
    FakeSource src(bounded);
    Sampler sampler(device_);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> ux(997.0, 1008.0), uy(1997.0, 2003.0);
    std::vector<double> x, y;
    for (int i = 0; i < 5000; ++i) x.push_back(ux(rng)), y.push_back(uy(rng));
    // Exact pixel edges: the point belongs to the pixel to its right / below.
    x.push_back(1000.5), y.push_back(1999.75);
    x.push_back(std::nan("")), y.push_back(2000.0);
    const Samples s = run(src, sampler, x, y, SampleMethod::kNearest);
    for (size_t i = 0; i < x.size(); ++i) {
      const double fc = std::floor((x[i] - 1000.0) / 0.5), fr = std::floor((2000.0 - y[i]) / 0.25);
      const auto col = static_cast<int64_t>(fc), row = static_cast<int64_t>(fr);
      SampleStatus want = SampleStatus::kOk;
      if (std::isnan(x[i]) || !src.inside(col, row)) {
        want = SampleStatus::kOutside;
      } else if (FakeSource::nodata(col, row)) {
        want = SampleStatus::kNoData;
      }
      ASSERT_EQ(s.status[i], static_cast<uint8_t>(want)) << "point " << i << " bounded " << bounded;
      for (int b = 0; b < 3; ++b) {
        const float v = want == SampleStatus::kOk ? pattern(col, row, b) : -1.0f;
        ASSERT_EQ(s.values[i * 3 + b], v) << "point " << i << " band " << b;
      }
    }
    EXPECT_EQ(s.status[x.size() - 2], 0);  // (1000.5, 1999.75) -> pixel (1, 1)
    EXPECT_EQ(s.values[(x.size() - 2) * 3], pattern(1, 1, 0));
  }
}

TEST_P(SampleTest, BilinearInterpolatesBetweenPixelCentres) {
  FakeSource src(true);
  Sampler sampler(device_);
  // Pixel (3, 2) and (4, 2) are data ((3 + 4) % 11, (4 + 4) % 11 != 0); centres at
  // x = 1001.75 / 1002.25, y = 1999.375.
  std::vector<double> x{1001.75, 1002.0, 1001.875}, y{1999.375, 1999.375, 1999.375};
  const Samples s = run(src, sampler, x, y, SampleMethod::kBilinear, 1);
  ASSERT_EQ(s.status, (std::vector<uint8_t>{0, 0, 0}));
  EXPECT_FLOAT_EQ(s.values[0], pattern(3, 2, 0));
  EXPECT_FLOAT_EQ(s.values[1], 0.5f * (pattern(3, 2, 0) + pattern(4, 2, 0)));
  EXPECT_FLOAT_EQ(s.values[2], 0.75f * pattern(3, 2, 0) + 0.25f * pattern(4, 2, 0));
}

TEST_P(SampleTest, BilinearDropsNoDataAndOutsideNeighbours) {
  FakeSource src(true);
  Sampler sampler(device_);
  // Pixel (0, 0) is NoData; (1, 0) is data. A point in (1, 0) near its left edge mixes (0, 0)
  // and (1, 0) horizontally and rows -1 (outside) and 0 vertically: only (1, 0) remains.
  std::vector<double> x{1000.6}, y{1999.99};
  const Samples s = run(src, sampler, x, y, SampleMethod::kBilinear);
  ASSERT_EQ(s.status[0], 0);
  for (int b = 0; b < 3; ++b) EXPECT_FLOAT_EQ(s.values[size_t(b)], pattern(1, 0, b));
  // A point on the NoData pixel itself gets the fill value.
  std::vector<double> x2{1000.2}, y2{1999.9};
  const Samples s2 = run(src, sampler, x2, y2, SampleMethod::kBilinear);
  EXPECT_EQ(s2.status[0], static_cast<uint8_t>(SampleStatus::kNoData));
  EXPECT_EQ(s2.values[0], -1.0f);
}

TEST_P(SampleTest, MatchesTheCpuBitForBit) {
  if (device_.is_cpu()) GTEST_SKIP() << "compares a device with the CPU";
  FakeSource src(false, 16);
  Sampler cpu(Device::cpu()), dev(device_);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> ux(990.0, 1010.0), uy(1990.0, 2010.0);
  std::vector<double> x, y;
  for (int i = 0; i < 200000; ++i) x.push_back(ux(rng)), y.push_back(uy(rng));
  for (SampleMethod m : {SampleMethod::kNearest, SampleMethod::kBilinear}) {
    const Samples a = run(src, cpu, x, y, m), b = run(src, dev, x, y, m);
    ASSERT_EQ(a.status, b.status);
    ASSERT_EQ(0, std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(float)));
  }
}

LIDARHD_DEVICE_TESTS(SampleTest);

TEST_P(SampleTest, PixelEdgesDoNotDependOnTheWindow) {
  // Regression: pixels were once measured from the window's corner, so a point exactly on a
  // 0.2 m line could get the neighbouring pixel depending on which blocks its batch needed.
  PixelGrid g;
  g.x0 = 770549.8, g.y0 = 6277600.2, g.res_x = 0.2, g.res_y = 0.2;
  g.width = g.height = 1000;
  FakeSource src(g, 16);
  Sampler sampler(device_);
  std::vector<double> x, y;
  for (int i = 0; i < 120; ++i) x.push_back(770550.0 + 0.2 * i), y.push_back(6277590.0 - 0.2 * i);
  const Samples all = run(src, sampler, x, y, SampleMethod::kNearest);
  for (size_t i = 0; i < x.size(); ++i) {
    const auto col = static_cast<int64_t>(std::floor((x[i] - g.x0) / g.res_x));
    const auto row = static_cast<int64_t>(std::floor((g.y0 - y[i]) / g.res_y));
    ASSERT_EQ(all.values[i * 3], FakeSource::nodata(col, row) ? -1.0f : pattern(col, row, 0)) << i;
    // The same point alone: a window of one block, far from block 0.
    const Samples one = run(src, sampler, {x[i]}, {y[i]}, SampleMethod::kNearest);
    ASSERT_EQ(one.values[0], all.values[i * 3]) << i;
  }
}

// The sampler as first written, one point after the other, on the fake raster's known pixels:
// the optimised CPU paths (points binned by block, grouped, bands unrolled) must give exactly
// these bits.
struct Reference {
  const FakeSource& src;
  // Band b of pixel (col, row), or false where it is outside the raster or NoData.
  bool pixel(int64_t col, int64_t row) const {
    return src.inside(col, row) && !FakeSource::nodata(col, row);
  }
  uint8_t status(int64_t col, int64_t row) const {
    if (!src.inside(col, row)) return static_cast<uint8_t>(SampleStatus::kOutside);
    if (FakeSource::nodata(col, row)) return static_cast<uint8_t>(SampleStatus::kNoData);
    return 0;
  }
  uint8_t sample(SampleMethod method, double x, double y, int bands, float* values) const {
    const PixelGrid& g = src.grid();
    const auto fill = [&](uint8_t status) {
      for (int b = 0; b < bands; ++b) values[b] = -1.0f;
      return status;
    };
    const double u = (x - g.x0) / g.res_x, v = (g.y0 - y) / g.res_y;
    if (method == SampleMethod::kNearest) {
      const double fc = std::floor(u), fr = std::floor(v);
      if (!(std::fabs(fc) < 4e15 && std::fabs(fr) < 4e15)) return fill(1);
      const auto col = static_cast<int64_t>(fc), row = static_cast<int64_t>(fr);
      if (const uint8_t st = status(col, row)) return fill(st);
      for (int b = 0; b < bands; ++b) values[b] = pattern(col, row, b);
      return 0;
    }
    if (!(std::fabs(u) < 4e15 && std::fabs(v) < 4e15)) return fill(1);
    const auto col = static_cast<int64_t>(std::floor(u)), row = static_cast<int64_t>(std::floor(v));
    if (const uint8_t st = status(col, row)) return fill(st);
    const double cu = u - 0.5, cv = v - 0.5;
    const double c0 = std::floor(cu), r0 = std::floor(cv);
    const double tu = cu - c0, tv = cv - r0;
    const auto c = static_cast<int64_t>(c0), r = static_cast<int64_t>(r0);
    const int64_t pc[4] = {c, c + 1, c, c + 1}, pr[4] = {r, r, r + 1, r + 1};
    const double wt[4] = {(1 - tu) * (1 - tv), tu * (1 - tv), (1 - tu) * tv, tu * tv};
    double total = 0;
    for (int k = 0; k < 4; ++k) total = total + (pixel(pc[k], pr[k]) ? wt[k] : 0.0);
    for (int b = 0; b < bands; ++b) {
      double sum = 0;
      for (int k = 0; k < 4; ++k) {
        const double term = pixel(pc[k], pr[k]) ? wt[k] * pattern(pc[k], pr[k], b) : 0.0;
        sum = sum + term;
      }
      if (total != 1.0) sum = sum / total;
      values[b] = static_cast<float>(sum);
    }
    return 0;
  }
};

// Points that test every branch: uniform (some outside the raster), exactly on pixel edges and
// centres, on block edges, NaN, infinite and absurdly far.
void edge_points(const PixelGrid& g, int block, std::mt19937_64& rng, std::vector<double>& x,
                 std::vector<double>& y) {
  const double w = g.width * g.res_x, h = g.height * g.res_y;
  std::uniform_real_distribution<double> ux(g.x0 - 3 * g.res_x, g.x0 + w + 3 * g.res_x);
  std::uniform_real_distribution<double> uy(g.y0 - h - 3 * g.res_y, g.y0 + 3 * g.res_y);
  std::uniform_int_distribution<int64_t> col(-2, g.width + 2), row(-2, g.height + 2);
  std::uniform_int_distribution<int> kind(0, 9), offset(-1, 1);
  for (int i = 0; i < 40000; ++i) {
    double px = ux(rng), py = uy(rng);
    switch (kind(rng)) {
      case 0:  // pixel corner
        px = g.x0 + static_cast<double>(col(rng)) * g.res_x;
        py = g.y0 - static_cast<double>(row(rng)) * g.res_y;
        break;
      case 1:  // pixel centre (bilinear fractions of 0)
        px = g.x0 + (static_cast<double>(col(rng)) + 0.5) * g.res_x;
        py = g.y0 - (static_cast<double>(row(rng)) + 0.5) * g.res_y;
        break;
      case 2: {  // around a block edge
        const int64_t bc = col(rng) / block * block + offset(rng);
        const int64_t br = row(rng) / block * block + offset(rng);
        px = g.x0 + (static_cast<double>(bc) + 0.5 * offset(rng) + 0.5) * g.res_x;
        py = g.y0 - (static_cast<double>(br) + 0.5 * offset(rng) + 0.5) * g.res_y;
        break;
      }
      default:
        break;
    }
    x.push_back(px), y.push_back(py);
  }
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {std::nan(""), inf, -inf, 1e300}) {
    x.push_back(bad), y.push_back(g.y0 - 1.0);
    x.push_back(g.x0 + 1.0), y.push_back(bad);
  }
}

// Every CPU path (random order: binned by block; sorted: in order / grouped; sizes around the
// group size) against the reference, bit for bit, with the same counts per status.
TEST_P(SampleTest, OptimisedPathsMatchTheReference) {
  PixelGrid ign;  // 0.2 m pixels: edges that depend on rounding
  ign.x0 = 770549.8, ign.y0 = 6277600.2, ign.res_x = ign.res_y = 0.2;
  ign.width = 150, ign.height = 110;
  PixelGrid binary;  // 0.5 x 0.25 m: exact edges
  binary.x0 = 1000.0, binary.y0 = 2000.0, binary.res_x = 0.5, binary.res_y = 0.25;
  binary.width = 90, binary.height = 130;
  struct Case {
    PixelGrid grid;
    bool bounded;
    int block;
  };
  const Case cases[] = {{ign, true, 16}, {binary, true, 12}, {binary, false, 8}, {ign, true, 64}};
  std::mt19937_64 rng(2026);
  for (const Case& cs : cases) {
    PixelGrid g = cs.grid;
    g.bounded = cs.bounded;
    FakeSource src(g, cs.block);
    const Reference ref{src};
    Sampler sampler(device_);
    std::vector<double> x, y;
    edge_points(g, cs.block, rng, x, y);
    // The same points sorted in rows (scan-like order).
    std::vector<size_t> order(x.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const double ra = std::floor((g.y0 - y[a]) / (g.res_y * 4)),
                   rb = std::floor((g.y0 - y[b]) / (g.res_y * 4));
      if (ra != rb) return ra < rb || std::isnan(rb);
      return x[a] < x[b];
    });
    std::vector<double> sx, sy;
    for (size_t i : order) sx.push_back(x[i]), sy.push_back(y[i]);
    for (SampleMethod m : {SampleMethod::kNearest, SampleMethod::kBilinear}) {
      for (int bands : {3, 1, 2}) {
        for (bool sorted : {false, true}) {
          for (size_t n : {size_t(0), size_t(1), size_t(31), size_t(32), size_t(33), x.size()}) {
            const std::vector<double> px((sorted ? sx : x).begin(), (sorted ? sx : x).begin() + n);
            const std::vector<double> py((sorted ? sy : y).begin(), (sorted ? sy : y).begin() + n);
            const Samples got = run(src, sampler, px, py, m, bands);
            std::vector<float> want(n * size_t(bands));
            std::vector<uint8_t> want_status(n);
            size_t counts[2][3] = {};
            for (size_t i = 0; i < n; ++i) {
              want_status[i] = ref.sample(m, px[i], py[i], bands, &want[i * size_t(bands)]);
              ++counts[0][want_status[i]];
              ++counts[1][got.status[i]];
            }
            const std::string what = std::string(sample_method_name(m)) + " block " +
                                     std::to_string(cs.block) + " bands " + std::to_string(bands) +
                                     (sorted ? " sorted" : " random") + " n " + std::to_string(n);
            for (int st = 0; st < 3; ++st) EXPECT_EQ(counts[1][st], counts[0][st]) << what;
            if (n == x.size()) {
              EXPECT_GT(counts[0][0], n / 2) << what;  // most points sample a pixel
              if (cs.bounded) {
                EXPECT_GT(counts[0][1], 100u) << what;
              }
              EXPECT_GT(counts[0][2], 100u) << what;
            }
            ASSERT_EQ(got.status, want_status) << what;
            for (size_t i = 0; i < want.size(); ++i) {
              ASSERT_EQ(0, std::memcmp(&got.values[i], &want[i], sizeof(float)))
                  << what << " point " << i / size_t(bands) << " (" << px[i / size_t(bands)] << ", "
                  << py[i / size_t(bands)] << "): " << got.values[i] << " vs " << want[i];
            }
          }
        }
      }
    }
  }
}

TEST(WindowPlan, ReadsOnlyTheBlocksPointsFallIn) {
  FakeSource src(false);
  // Two points 100 blocks apart: a 101 x 1 window with two blocks read.
  std::vector<double> x{1000.1, 1000.1 + 100 * 4 * 0.5}, y{1999.9, 1999.9};
  const WindowPlan plan = plan_window(src, x.data(), y.data(), 2, SampleMethod::kNearest);
  EXPECT_EQ(plan.nbx, 101);
  EXPECT_EQ(plan.nby, 1);
  ASSERT_EQ(plan.keys.size(), 2u);
  EXPECT_EQ(plan.keys[1].bx, 100);
}

TEST(WindowPlan, BoundedRasterNeverAsksForBlocksOutside) {
  FakeSource src(true);
  std::vector<double> x{900.0, 1000.1}, y{1999.9, 1999.9};
  const WindowPlan plan = plan_window(src, x.data(), y.data(), 2, SampleMethod::kBilinear);
  for (const BlockKey& k : plan.keys) {
    EXPECT_GE(k.bx, 0);
    EXPECT_GE(k.by, 0);
  }
}

TEST(WindowPlan, RefusesPointsSpreadAbsurdlyFar) {
  FakeSource src(false);
  std::vector<double> x{0.0, 1e7}, y{0.0, -1e7};
  EXPECT_THROW(plan_window(src, x.data(), y.data(), 2, SampleMethod::kNearest), ArgumentError);
}

TEST(BlockCache, ReadsEachBlockOnceWhileItFits) {
  FakeSource src(true);
  BlockCache cache(1 << 20);
  const std::vector<BlockKey> keys{{0, 0}, {1, 0}, {0, 1}};
  cache.fetch(src, keys);
  cache.fetch(src, keys);
  EXPECT_EQ(src.reads, 3);
  EXPECT_EQ(cache.stats().hits, 3u);
  EXPECT_EQ(cache.stats().misses, 3u);
}

TEST(BlockCache, EvictsTheLeastRecentlyUsed) {
  detail::LruBytes<int> lru(100);
  lru.put("a", 1, 40);
  lru.put("b", 2, 40);
  ASSERT_NE(lru.get("a"), nullptr);  // a is now the most recent
  lru.put("c", 3, 40);               // evicts b
  EXPECT_EQ(lru.get("b"), nullptr);
  EXPECT_NE(lru.get("a"), nullptr);
  EXPECT_NE(lru.get("c"), nullptr);
  EXPECT_EQ(lru.bytes(), 80u);
  EXPECT_EQ(lru.evictions(), 1u);
}

TEST(SampleMethod, ParsesNames) {
  EXPECT_EQ(parse_sample_method("nearest"), SampleMethod::kNearest);
  EXPECT_EQ(parse_sample_method("bilinear"), SampleMethod::kBilinear);
  EXPECT_THROW(parse_sample_method("cubic"), ArgumentError);
}

}  // namespace
}  // namespace lidarhd::raster
