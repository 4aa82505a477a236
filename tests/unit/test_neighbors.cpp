// NeighborIndex on each device against a brute-force reference: every candidate's d2 computed
// the same way, fully sorted by (d2, index). Results must match exactly, ties included.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "device_test.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/spatial/neighbors.hpp"
#include "spatial/grid_impl.hpp"

namespace lidarhd {
namespace {

struct Cloud {
  std::vector<float> x, y, z;
  size_t size() const { return x.size(); }
  void add(float a, float b, float c) {
    x.push_back(a);
    y.push_back(b);
    z.push_back(c);
  }
};

Cloud random_cloud(size_t n, float extent, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, extent);
  Cloud c;
  for (size_t i = 0; i < n; ++i) c.add(u(rng), u(rng), u(rng));
  return c;
}

// Small integer lattice: many exact duplicates and many equal distances.
Cloud lattice_cloud(size_t n, int side, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(0, side - 1);
  Cloud c;
  for (size_t i = 0; i < n; ++i) {
    c.add(static_cast<float>(u(rng)), static_cast<float>(u(rng)), static_cast<float>(u(rng)));
  }
  return c;
}

// 2.5-D airborne-like tile piece: rolling ground, flat roofs, trees with points through their
// height; ~20 points/m^2, placed far from the local origin (up to ~1000 m).
Cloud airborne_cloud(size_t n, float origin, uint32_t seed) {
  std::mt19937 rng(seed);
  const float side = std::sqrt(static_cast<float>(n) / 20.0f);
  std::uniform_real_distribution<float> u(0.0f, side);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Cloud c;
  for (size_t i = 0; i < n; ++i) {
    const float x = u(rng);
    const float y = u(rng);
    float z = 40.0f + 3.0f * std::sin(x * 0.05f) + 2.0f * std::cos(y * 0.07f);
    const bool building = std::fmod(x, 60.0f) < 20.0f && std::fmod(y, 50.0f) < 15.0f;
    const bool tree = !building && std::fmod(x + 17.0f, 40.0f) < 8.0f &&
                      std::fmod(y + 5.0f, 30.0f) < 8.0f;
    if (building) {
      z += 12.0f;  // flat roof: exact ties in z
    } else if (tree) {
      z += 15.0f * unit(rng);
    } else {
      z += 0.02f * unit(rng);
    }
    c.add(origin + x, origin + y, z);
  }
  return c;
}

struct Rows {
  std::vector<uint32_t> idx;
  std::vector<float> d2;
  std::vector<uint32_t> count;
};

// Reference row for query q: all points, d2 as the index computes it, sorted by (d2, index).
void brute_row(const Cloud& c, float qx, float qy, float qz, int cap, float limit,
               std::vector<uint32_t>& idx, std::vector<float>& d2) {
  std::vector<std::pair<float, uint32_t>> all;
  for (size_t i = 0; i < c.size(); ++i) {
    const float d = detail::point_d2(c.x[i], c.y[i], c.z[i], qx, qy, qz);
    if (d <= limit) all.emplace_back(d, static_cast<uint32_t>(i));
  }
  const size_t keep = std::min(all.size(), static_cast<size_t>(cap));
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end());
  idx.assign(static_cast<size_t>(cap), NeighborIndex::kNoNeighbor);
  d2.assign(static_cast<size_t>(cap), INFINITY);
  for (size_t j = 0; j < all.size() && j < static_cast<size_t>(cap); ++j) {
    d2[j] = all[j].first;
    idx[j] = all[j].second;
  }
}

// Compares rows `which` (all when empty) of an own-points result with the brute force.
void expect_rows(const Cloud& c, const Rows& got, int cap, float limit, size_t stride,
                 const std::string& what) {
  std::vector<uint32_t> idx;
  std::vector<float> d2;
  const size_t ucap = static_cast<size_t>(cap);
  int failures = 0;
  for (size_t q = 0; q < c.size() && failures < 5; q += stride) {
    brute_row(c, c.x[q], c.y[q], c.z[q], cap, limit, idx, d2);
    const bool same_idx = std::equal(idx.begin(), idx.end(), got.idx.begin() + q * ucap);
    const bool same_d2 = std::equal(d2.begin(), d2.end(), got.d2.begin() + q * ucap);
    if (!same_idx || !same_d2) {
      ++failures;
      ADD_FAILURE() << what << ": row " << q << " differs from the brute force (first "
                    << "neighbour got " << got.idx[q * ucap] << " want " << idx[0] << ")";
    }
    if (!got.count.empty()) {
      const auto want = static_cast<uint32_t>(
          std::count_if(idx.begin(), idx.end(), [](uint32_t i) { return i != 0xFFFFFFFFu; }));
      EXPECT_EQ(got.count[q], want) << what << ": row " << q;
    }
  }
}

Rows run_knn(const NeighborIndex& index, int k) {
  Rows r;
  r.idx.resize(index.size() * static_cast<size_t>(k));
  r.d2.resize(index.size() * static_cast<size_t>(k));
  index.knn(k, r.idx.data(), r.d2.data());
  return r;
}

Rows run_radius(const NeighborIndex& index, float radius, int max_k) {
  Rows r;
  r.idx.resize(index.size() * static_cast<size_t>(max_k));
  r.d2.resize(index.size() * static_cast<size_t>(max_k));
  r.count.resize(index.size());
  index.radius(radius, max_k, r.idx.data(), r.d2.data(), r.count.data());
  return r;
}

class NeighborsTest : public testing::DeviceTest {
 protected:
  void check_knn(const Cloud& c, int k, size_t stride, const std::string& what,
                 float cell = 0.0f) {
    const NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), c.size(), device_, cell);
    expect_rows(c, run_knn(index, k), k, INFINITY, stride, what + " k=" + std::to_string(k));
  }
};

TEST_P(NeighborsTest, KnnRandomCloud) {
  const Cloud c = random_cloud(3000, 10.0f, 1);
  for (int k : {1, 8, 20, 64}) check_knn(c, k, 1, "random");
}

TEST_P(NeighborsTest, KnnDuplicatesAndTies) {
  check_knn(lattice_cloud(2000, 5, 2), 20, 1, "lattice 5^3");
  check_knn(lattice_cloud(1500, 3, 3), 64, 1, "lattice 3^3");
  Cloud same;
  for (int i = 0; i < 100; ++i) same.add(7.0f, 7.0f, 7.0f);
  check_knn(same, 20, 1, "one location");
}

TEST_P(NeighborsTest, KnnDegenerateShapes) {
  Cloud line, column, plane, diagonal;
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(0.0f, 50.0f);
  for (int i = 0; i < 1500; ++i) {
    line.add(u(rng), 3.0f, 1.0f);
    column.add(-2.0f, 5.0f, u(rng));  // every point in one grid column
    plane.add(u(rng), u(rng), 0.5f);
    const float t = static_cast<float>(i % 300);
    diagonal.add(t, t, t);
  }
  check_knn(line, 20, 1, "line");
  check_knn(column, 20, 1, "vertical line");
  check_knn(plane, 20, 1, "plane");
  check_knn(diagonal, 20, 1, "diagonal with duplicates");
}

TEST_P(NeighborsTest, KnnSmallSizes) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{31}, size_t{32}, size_t{33}}) {
    const Cloud c = random_cloud(n, 4.0f, static_cast<uint32_t>(n) + 10);
    for (int k : {1, 20, 32, 64}) check_knn(c, k, 1, "n=" + std::to_string(n));
  }
  // Rows of a cloud smaller than k are padded.
  const Cloud c = random_cloud(5, 1.0f, 5);
  const NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), c.size(), device_);
  const Rows r = run_knn(index, 8);
  EXPECT_EQ(r.idx[7], NeighborIndex::kNoNeighbor);
  EXPECT_TRUE(std::isinf(r.d2[7]));
  EXPECT_EQ(r.d2[0], 0.0f);
  EXPECT_EQ(r.idx[0], 0u);
}

TEST_P(NeighborsTest, KnnAirborneCloud) {
  const Cloud c = airborne_cloud(40000, 950.0f, 6);
  check_knn(c, 20, 89, "airborne");
  check_knn(c, 64, 193, "airborne");
}

TEST_P(NeighborsTest, CellSizeDoesNotChangeResults) {
  const Cloud c = airborne_cloud(4000, 100.0f, 7);
  for (float cell : {0.05f, 0.3f, 1.0f, 5.0f, 100.0f}) {
    check_knn(c, 20, 7, "cell " + std::to_string(cell), cell);
  }
}

TEST_P(NeighborsTest, RadiusAndHybrid) {
  const Cloud c = airborne_cloud(20000, 500.0f, 8);
  const NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), c.size(), device_);
  for (float r : {0.0f, 0.3f, 1.0f, 2.5f}) {
    const float limit = r * r;
    expect_rows(c, run_radius(index, r, 64), 64, limit, 41, "radius " + std::to_string(r));
    Rows h;
    h.idx.resize(c.size() * 10);
    h.d2.resize(c.size() * 10);
    h.count.resize(c.size());
    index.hybrid(10, r, h.idx.data(), h.d2.data(), h.count.data());
    expect_rows(c, h, 10, limit, 43, "hybrid " + std::to_string(r));
  }
  const Cloud t = lattice_cloud(1000, 4, 9);
  const NeighborIndex ties(t.x.data(), t.y.data(), t.z.data(), t.size(), device_);
  expect_rows(t, run_radius(ties, 1.0f, 200), 200, 1.0f, 1, "lattice radius 1");
}

TEST_P(NeighborsTest, ExternalQueries) {
  const Cloud c = airborne_cloud(10000, 20.0f, 10);
  const NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), c.size(), device_);
  // Cloud points, points nearby and points well outside the grid.
  Cloud q;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-30.0f, 80.0f);
  for (size_t i = 0; i < 300; ++i) {
    if (i % 3 == 0) {
      q.add(c.x[i * 7], c.y[i * 7], c.z[i * 7]);
    } else {
      q.add(u(rng), u(rng), u(rng));
    }
  }
  const int k = 20;
  std::vector<uint32_t> idx(q.size() * k), want_idx;
  std::vector<float> d2(q.size() * k), want_d2;
  index.knn(q.x.data(), q.y.data(), q.z.data(), q.size(), k, idx.data(), d2.data());
  std::vector<uint32_t> ridx(q.size() * k), count(q.size());
  std::vector<float> rd2(q.size() * k);
  index.radius(q.x.data(), q.y.data(), q.z.data(), q.size(), 1.5f, k, ridx.data(), rd2.data(),
               count.data());
  for (size_t i = 0; i < q.size(); ++i) {
    brute_row(c, q.x[i], q.y[i], q.z[i], k, INFINITY, want_idx, want_d2);
    EXPECT_TRUE(std::equal(want_idx.begin(), want_idx.end(), idx.begin() + i * k)) << i;
    EXPECT_TRUE(std::equal(want_d2.begin(), want_d2.end(), d2.begin() + i * k)) << i;
    if (i % 3 == 0) {
      EXPECT_EQ(d2[i * k], 0.0f);
    }
    brute_row(c, q.x[i], q.y[i], q.z[i], k, 2.25f, want_idx, want_d2);
    EXPECT_TRUE(std::equal(want_idx.begin(), want_idx.end(), ridx.begin() + i * k)) << i;
  }
}

TEST_P(NeighborsTest, SameAsCpu) {
  if (device_.is_cpu()) GTEST_SKIP() << "compares another device with the CPU";
  const Cloud c = airborne_cloud(200000, 900.0f, 12);
  const NeighborIndex cpu(c.x.data(), c.y.data(), c.z.data(), c.size(), Device::cpu());
  const NeighborIndex dev(c.x.data(), c.y.data(), c.z.data(), c.size(), device_);
  const Rows a = run_knn(cpu, 20);
  const Rows b = run_knn(dev, 20);
  EXPECT_TRUE(a.idx == b.idx);
  EXPECT_TRUE(a.d2 == b.d2);
  const Rows ra = run_radius(cpu, 1.0f, 64);
  const Rows rb = run_radius(dev, 1.0f, 64);
  EXPECT_TRUE(ra.idx == rb.idx);
  EXPECT_TRUE(ra.count == rb.count);
}

TEST_P(NeighborsTest, RejectsBadInput) {
  Cloud c = random_cloud(10, 1.0f, 13);
  const NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), c.size(), device_);
  std::vector<uint32_t> idx(10 * 100);
  std::vector<float> d2(10 * 100);
  EXPECT_THROW(index.knn(0, idx.data(), d2.data()), ArgumentError);
  EXPECT_THROW(index.knn(65, idx.data(), d2.data()), ArgumentError);
  EXPECT_THROW(index.knn(5, nullptr, d2.data()), ArgumentError);
  EXPECT_THROW(index.radius(-1.0f, 5, idx.data(), d2.data(), nullptr), ArgumentError);
  EXPECT_THROW(index.radius(NAN, 5, idx.data(), d2.data(), nullptr), ArgumentError);
  const float bad[1] = {NAN};
  EXPECT_THROW(index.knn(bad, bad, bad, 1, 5, idx.data(), d2.data()), ArgumentError);
  c.z[3] = INFINITY;
  EXPECT_THROW(NeighborIndex(c.x.data(), c.y.data(), c.z.data(), c.size(), device_),
               ArgumentError);
  EXPECT_THROW(NeighborIndex(nullptr, c.y.data(), c.z.data(), c.size(), device_),
               ArgumentError);
  EXPECT_THROW(NeighborIndex(c.x.data(), c.y.data(), c.x.data(), c.size(), device_, -1.0f),
               ArgumentError);
  EXPECT_THROW(NeighborIndex(c.x.data(), c.y.data(), c.x.data(), c.size(), device_, 1e-9f),
               ArgumentError);
}

LIDARHD_DEVICE_TESTS(NeighborsTest);

// The host+device query functions, called directly on a CPU index's view as a fused feature
// kernel would.
TEST(NeighborsView, QueryFunctionsOnCpuView) {
  const Cloud c = airborne_cloud(5000, 10.0f, 14);
  const NeighborIndex index(c.x.data(), c.y.data(), c.z.data(), c.size());
  const detail::GridView& g = index.view();
  EXPECT_EQ(g.n, c.size());
  EXPECT_EQ(g.nz, 1);
  EXPECT_GT(index.cell_size(), 0.0f);
  uint32_t idx[64];
  float d2[64];
  std::vector<uint32_t> want_idx;
  std::vector<float> want_d2;
  for (size_t q = 0; q < c.size(); q += 50) {
    ASSERT_EQ(detail::knn_query(g, c.x[q], c.y[q], c.z[q], 20, idx, d2), 20);
    brute_row(c, c.x[q], c.y[q], c.z[q], 20, INFINITY, want_idx, want_d2);
    EXPECT_TRUE(std::equal(want_idx.begin(), want_idx.end(), idx)) << q;
    const int n = detail::hybrid_query(g, c.x[q], c.y[q], c.z[q], 10, 0.5f, idx, d2);
    brute_row(c, c.x[q], c.y[q], c.z[q], 10, 0.25f, want_idx, want_d2);
    EXPECT_TRUE(std::equal(want_idx.begin(), want_idx.begin() + n, idx)) << q;
    EXPECT_TRUE(n == 10 || want_idx[static_cast<size_t>(n)] == NeighborIndex::kNoNeighbor);
  }
}

}  // namespace
}  // namespace lidarhd
