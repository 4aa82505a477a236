// Arithmetic encoder and integer residual encoder, the exact mirror of arith_decoder.hpp
// (laz-format.md 4.3-4.4). Output goes to a growable in-memory buffer so that a carry can reach
// any earlier byte; LASzip's 4096-byte ring gives the same bytes for every real stream.
#pragma once

#include <cstdint>
#include <vector>

#include "io/laz/arith_decoder.hpp"

namespace lidarhd::laz::detail {

class ArithEncoder {
 public:
  ArithEncoder() { out_.reserve(1 << 16); }
  void reset() {
    out_.clear();
    base_ = 0;
    length_ = kMaxLength;
  }

  void encode_bit(BitModel& m, uint32_t bit) {
    const uint32_t x = m.bit_0_prob_ * (length_ >> kBitLengthShift);
    if (bit == 0) {
      length_ = x;
      ++m.bit_0_count_;
    } else {
      add_to_base(x);
      length_ -= x;
    }
    if (length_ < kMinLength) renormalise();
    if (--m.until_update_ == 0) m.update();
  }

  LIDARHD_LAZ_HOT void encode_symbol(SymbolModel& m, uint32_t sym) {
    uint32_t x;
    if (sym == m.last_symbol_) {
      x = m.distribution_[sym] * (length_ >> kSymLengthShift);
      add_to_base(x);
      length_ -= x;
    } else {
      length_ >>= kSymLengthShift;
      x = m.distribution_[sym] * length_;
      add_to_base(x);
      length_ = m.distribution_[sym + 1] * length_ - x;
    }
    if (length_ < kMinLength) renormalise();
    ++m.counts_[sym];
    if (--m.until_update_ == 0) m.update();
  }

  void write_bits(uint32_t bits, uint32_t value) {
    if (bits > 19) {
      write_short(value & 0xFFFF);
      value >>= 16;
      bits -= 16;
    }
    length_ >>= bits;
    add_to_base(value * length_);
    if (length_ < kMinLength) renormalise();
  }
  void write_short(uint32_t value) {
    length_ >>= 16;
    add_to_base(value * length_);
    if (length_ < kMinLength) renormalise();
  }
  void write_int(uint32_t value) {
    write_short(value & 0xFFFF);
    write_short(value >> 16);
  }
  void write_int64(uint64_t value) {
    write_int(uint32_t(value));
    write_int(uint32_t(value >> 32));
  }

  // Flushes so that the decoder's 4-byte look-ahead ends exactly at the end of the stream.
  void done() {
    bool another_byte = true;
    if (length_ > 2 * kMinLength) {
      add_to_base(kMinLength);
      length_ = kMinLength >> 1;
    } else {
      add_to_base(kMinLength >> 1);
      length_ = kMinLength >> 9;
      another_byte = false;
    }
    renormalise();
    out_.push_back(0);
    out_.push_back(0);
    if (another_byte) out_.push_back(0);
  }

  const std::vector<uint8_t>& bytes() const { return out_; }

 private:
  LIDARHD_LAZ_HOT void add_to_base(uint32_t x) {
    const uint32_t before = base_;
    base_ += x;
    if (base_ < before) propagate_carry();
  }
  void propagate_carry() {
    for (size_t i = out_.size(); i-- > 0;) {
      if (out_[i] != 0xFF) {
        ++out_[i];
        return;
      }
      out_[i] = 0;
    }
  }
  // Inlined with locals: out of line, GCC loads base_ and length_ with one 64-bit load right
  // after the caller's two 32-bit stores (a store-forwarding stall that cost ~20% of encoding).
  LIDARHD_LAZ_HOT void renormalise() {
    uint32_t base = base_, length = length_;
    do {
      out_.push_back(uint8_t(base >> 24));
      base <<= 8;
    } while ((length <<= 8) < kMinLength);
    base_ = base;
    length_ = length;
  }

  std::vector<uint8_t> out_;
  uint32_t base_ = 0, length_ = kMaxLength;
};

// Encoder side of IntegerDecoder: codes real - pred as (k, residual) with the same models.
class IntegerEncoder : public IntegerModels {
 public:
  IntegerEncoder(uint32_t bits = 16, uint32_t contexts = 1, uint32_t bits_high = 8)
      : IntegerModels(bits, contexts, bits_high) {
    if (corr_range_ != 0) {
      corr_min_ = -int64_t(corr_range_ / 2);
      corr_max_ = corr_min_ + corr_range_ - 1;
    }
  }

  LIDARHD_LAZ_HOT void encode(ArithEncoder& enc, int32_t pred, int32_t real, uint32_t context = 0) {
    if (corr_range_ != 0) {
      int64_t corr = int64_t(real) - int64_t(pred);
      if (corr < corr_min_) corr += corr_range_;
      else if (corr > corr_max_) corr -= corr_range_;
      write_corrector(enc, uint32_t(int32_t(corr)), k_models_[context]);
    } else {
      write_corrector(enc, uint32_t(real) - uint32_t(pred), k_models_[context]);
    }
  }

 private:
  // `c` is the residual's two's-complement bit pattern.
  LIDARHD_LAZ_HOT void write_corrector(ArithEncoder& enc, uint32_t c, SymbolModel& k_model) {
    const bool negative_or_zero = int32_t(c) <= 0;
    uint32_t magnitude = negative_or_zero ? 0u - c : c - 1;
    // k = bit length of the magnitude; the count-leading-zeros form saves a loop per residual.
#if defined(__GNUC__) || defined(__clang__)
    k_ = magnitude ? 32u - uint32_t(__builtin_clz(magnitude)) : 0u;
#else
    k_ = 0;
    while (magnitude) {
      magnitude >>= 1;
      ++k_;
    }
#endif
    enc.encode_symbol(k_model, k_);
    if (k_ == 0) {
      enc.encode_bit(bit0_, c);  // c is 0 or 1 here
      return;
    }
    if (k_ >= 32) return;
    if (int32_t(c) < 0) c += (1u << k_) - 1;
    else c -= 1;
    if (k_ <= bits_high_) {
      enc.encode_symbol(corrector_[k_], c);
    } else {
      const uint32_t k1 = k_ - bits_high_;
      enc.encode_symbol(corrector_[k_], c >> k1);
      enc.write_bits(k1, c & ((1u << k1) - 1));
    }
  }

  int64_t corr_min_ = INT32_MIN, corr_max_ = INT32_MAX;
};

}  // namespace lidarhd::laz::detail
