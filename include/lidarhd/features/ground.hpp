// A ground model built once over a whole cloud and handed to compute_features for parts of it
// (the spatial chunks of a streamed tile), so that every part's height_above_ground equals the
// whole cloud's: the gap filling of an empty cell depends on cells far away.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace lidarhd::features {

namespace detail {
struct GroundGrid;
}
using GroundModel = detail::GroundGrid;

// Feed it the ground-class points in the order compute_features would see them (the sums are
// in double, in that order), then finish(). The extent is that of ALL the cloud's points, in
// the local coordinates compute_features gets; cell as FeatureOptions::ground_cell.
class GroundBuilder {
 public:
  GroundBuilder(float min_x, float max_x, float min_y, float max_y, double cell);
  ~GroundBuilder();
  void add(float x, float y, float z);
  std::shared_ptr<const GroundModel> finish();

 private:
  std::unique_ptr<GroundModel> grid_;
  std::vector<double> sum_;
  std::vector<uint32_t> count_;
};

}  // namespace lidarhd::features
