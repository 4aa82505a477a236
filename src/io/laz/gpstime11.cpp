// GPSTIME11 item decoders: version 2 (laz-format.md 5.2) and version 1 (LASzip 1.x).
// GPS times are handled as the 64-bit pattern of the double; all sums wrap (unsigned maths).
#include <memory>

#include "io/laz/pointwise_items.hpp"
#include "io/laz/pointwise_v2_state.hpp"

namespace lidarhd::laz::detail {
namespace {

using gps11::add_delta;
using gps11::times;

class GpsTime11V2 final : public PointwiseItemDecoder {
 public:
  void init(const uint8_t* first) override { s_.init(first); }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    using namespace gps11;
    GpsTime11V2Core<IntegerDecoder>& s = s_;
    // A "switch sequence" symbol is followed by the time coded in the other sequence. A valid
    // stream switches at most once per point; the bound only keeps corrupt input from looping.
    for (int hops = 0; hops < 8; ++hops) {
      if (s.delta[s.last] == 0) {
        const uint32_t sym = dec.decode_symbol(s.zero_diff_model);
        if (sym == 1) {
          s.apply_first_delta(s.ic.decode(dec, 0, 0));
        } else if (sym == 2) {
          start_sequence(dec);
        } else if (sym > 2) {
          s.last = (s.last + sym - 2) & 3;
          continue;
        }
        break;
      }
      const uint32_t sym = dec.decode_symbol(s.multi_model);
      if (sym < kUnchanged) {
        const GpsMultiCase c = s.multi_case(sym);
        s.apply_multi(c, s.ic.decode(dec, c.pred, c.context));
      } else if (sym == kCodeFull) {
        start_sequence(dec);
      } else if (sym > kCodeFull) {
        s.last = (s.last + sym - kCodeFull) & 3;
        continue;
      }
      break;
    }
    le::store_u64(item, s.time[s.last]);
  }

 private:
  // High half predicted from the current sequence, low half raw.
  void start_sequence(ArithDecoder& dec) {
    const uint32_t high = uint32_t(s_.ic.decode(dec, s_.full_high_prediction(), 8));
    s_.open_sequence((uint64_t(high) << 32) | dec.read_int());
  }

  GpsTime11V2Core<IntegerDecoder> s_;
};

// Version 1: a single sequence; huge jumps are stored as raw 64-bit values.
class GpsTime11V1 final : public PointwiseItemDecoder {
 public:
  GpsTime11V1() : multi_model_(kMultiMax), zero_diff_model_(3), ic_(32, 6) {}

  void init(const uint8_t* first) override {
    time_ = le::load_u64(first);
    delta_ = 0;
    extreme_ = 0;
    multi_model_.reset();
    zero_diff_model_.reset();
    ic_.reset();
  }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    if (delta_ == 0) {
      const uint32_t sym = dec.decode_symbol(zero_diff_model_);
      if (sym == 1) {
        delta_ = ic_.decode(dec, 0, 0);
        time_ = add_delta(time_, delta_);
      } else if (sym == 2) {
        time_ = dec.read_int64();
      }
    } else {
      const uint32_t sym = dec.decode_symbol(multi_model_);
      if (sym < kMultiMax - 2) {
        int32_t diff;
        bool extreme = false;
        if (sym == 1) {
          diff = ic_.decode(dec, delta_, 1);
          delta_ = diff;
          extreme_ = 0;
        } else if (sym == 0) {
          // C division truncates toward zero, like the reference.
          diff = ic_.decode(dec, delta_ / 4, 2);
          extreme = true;
        } else {
          const uint32_t ctx = sym < 10 ? 3 : (sym < 50 ? 4 : 5);
          diff = ic_.decode(dec, times(int32_t(sym), delta_), ctx);
          extreme = sym == kMultiMax - 3;
        }
        if (extreme && ++extreme_ > 3) {
          delta_ = diff;
          extreme_ = 0;
        }
        time_ = add_delta(time_, diff);
      } else if (sym == kMultiMax - 2) {
        time_ = dec.read_int64();
      }
      // kMultiMax - 1: time unchanged.
    }
    le::store_u64(item, time_);
  }

 private:
  static constexpr uint32_t kMultiMax = 512;

  uint64_t time_ = 0;
  int32_t delta_ = 0;
  uint32_t extreme_ = 0;
  SymbolModel multi_model_, zero_diff_model_;
  IntegerDecoder ic_;
};

}  // namespace

std::unique_ptr<PointwiseItemDecoder> make_gpstime11_v1() {
  return std::make_unique<GpsTime11V1>();
}
std::unique_ptr<PointwiseItemDecoder> make_gpstime11_v2() {
  return std::make_unique<GpsTime11V2>();
}

}  // namespace lidarhd::laz::detail
