// GPSTIME11 item decoders: version 2 (laz-format.md 5.2) and version 1 (LASzip 1.x).
// GPS times are handled as the 64-bit pattern of the double; all sums wrap (unsigned maths).
#include <memory>

#include "io/laz/pointwise_items.hpp"

namespace lidarhd::laz::detail {
namespace {

// Multiplies a 32-bit delta like the reference's int32 product (wrapping, no UB).
inline int32_t times(int32_t multi, int32_t delta) {
  return int32_t(uint32_t(multi) * uint32_t(delta));
}
inline uint64_t add_delta(uint64_t time, int32_t delta) { return time + uint64_t(int64_t(delta)); }

// Version 2 tracks up to four interleaved time sequences (e.g. several flight lines).
class GpsTime11V2 final : public PointwiseItemDecoder {
 public:
  GpsTime11V2() : multi_model_(kMultiTotal), zero_diff_model_(6), ic_(32, 9) {}

  void init(const uint8_t* first) override {
    last_ = next_ = 0;
    for (int i = 0; i < 4; ++i) {
      time_[i] = 0;
      delta_[i] = 0;
      extreme_[i] = 0;
    }
    time_[0] = le::load_u64(first);
    multi_model_.reset();
    zero_diff_model_.reset();
    ic_.reset();
  }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    // A "switch sequence" symbol is followed by the time coded in the other sequence. A valid
    // stream switches at most once per point; the bound only keeps corrupt input from looping.
    for (int hops = 0; hops < 8; ++hops) {
      if (delta_[last_] == 0) {
        const uint32_t sym = dec.decode_symbol(zero_diff_model_);
        if (sym == 1) {
          delta_[last_] = ic_.decode(dec, 0, 0);
          time_[last_] = add_delta(time_[last_], delta_[last_]);
          extreme_[last_] = 0;
        } else if (sym == 2) {
          start_sequence(dec);
        } else if (sym > 2) {
          last_ = (last_ + sym - 2) & 3;
          continue;
        }
        break;
      }
      const uint32_t sym = dec.decode_symbol(multi_model_);
      if (sym == 1) {
        time_[last_] = add_delta(time_[last_], ic_.decode(dec, delta_[last_], 1));
        extreme_[last_] = 0;
      } else if (sym < kUnchanged) {
        time_[last_] = add_delta(time_[last_], decode_multiple(dec, sym));
      } else if (sym == kCodeFull) {
        start_sequence(dec);
      } else if (sym > kCodeFull) {
        last_ = (last_ + sym - kCodeFull) & 3;
        continue;
      }
      break;
    }
    le::store_u64(item, time_[last_]);
  }

 private:
  static constexpr int32_t kMulti = 500;
  static constexpr int32_t kMultiMinus = -10;
  static constexpr uint32_t kUnchanged = kMulti - kMultiMinus + 1;   // 511
  static constexpr uint32_t kCodeFull = kMulti - kMultiMinus + 2;    // 512
  static constexpr uint32_t kMultiTotal = kMulti - kMultiMinus + 6;  // 516

  // Symbols 0 and 2..510 of the multi model: the delta is predicted as a multiple of the
  // sequence's delta. "Extreme" multiples replace the sequence delta after four in a row.
  int32_t decode_multiple(ArithDecoder& dec, uint32_t sym) {
    const int32_t d = delta_[last_];
    int32_t diff;
    bool extreme = false;
    if (sym == 0) {
      diff = ic_.decode(dec, 0, 7);
      extreme = true;
    } else if (sym < uint32_t(kMulti)) {
      diff = ic_.decode(dec, times(int32_t(sym), d), sym < 10 ? 2 : 3);
    } else if (sym == uint32_t(kMulti)) {
      diff = ic_.decode(dec, times(kMulti, d), 4);
      extreme = true;
    } else {
      const int32_t multi = kMulti - int32_t(sym);
      if (multi > kMultiMinus) {
        diff = ic_.decode(dec, times(multi, d), 5);
      } else {
        diff = ic_.decode(dec, times(kMultiMinus, d), 6);
        extreme = true;
      }
    }
    if (extreme && ++extreme_[last_] > 3) {
      delta_[last_] = diff;
      extreme_[last_] = 0;
    }
    return diff;
  }

  // A time that does not fit a 32-bit delta opens the next sequence slot: high half predicted
  // from the current sequence, low half raw.
  void start_sequence(ArithDecoder& dec) {
    next_ = (next_ + 1) & 3;
    const uint32_t high = uint32_t(ic_.decode(dec, int32_t(uint32_t(time_[last_] >> 32)), 8));
    time_[next_] = (uint64_t(high) << 32) | dec.read_int();
    last_ = next_;
    delta_[last_] = 0;
    extreme_[last_] = 0;
  }

  uint64_t time_[4] = {};
  int32_t delta_[4] = {};
  uint32_t extreme_[4] = {};
  uint32_t last_ = 0, next_ = 0;
  SymbolModel multi_model_, zero_diff_model_;
  IntegerDecoder ic_;
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
