// Sampling (nearest, bilinear), window planning and the block caches, on an in-memory raster
// whose every pixel is known; device-parameterised: CUDA must give the same bits as the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
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
