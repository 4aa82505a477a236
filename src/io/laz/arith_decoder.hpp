// Adaptive arithmetic decoder, bit/symbol models and the integer residual decoder of the LASzip
// format (laz-format.md section 4). Header-only so that item decoders inline the hot paths.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

// The item decoders call these ~16 times per point; GCC otherwise keeps decode_symbol out of
// line (about 7% of whole-chunk decode time on PDRF 6).
#if defined(__GNUC__) || defined(__clang__)
#define LIDARHD_LAZ_HOT inline __attribute__((always_inline))
#else
#define LIDARHD_LAZ_HOT inline
#endif

namespace lidarhd::laz::detail {

constexpr uint32_t kMinLength = 0x01000000u;
constexpr uint32_t kMaxLength = 0xFFFFFFFFu;
constexpr uint32_t kBitLengthShift = 13;
constexpr uint32_t kBitMaxCount = 1u << kBitLengthShift;
constexpr uint32_t kSymLengthShift = 15;
constexpr uint32_t kSymMaxCount = 1u << kSymLengthShift;

class BitModel {
 public:
  BitModel() { reset(); }
  void reset() {
    bit_0_count_ = 1;
    bit_count_ = 2;
    bit_0_prob_ = 1u << (kBitLengthShift - 1);
    update_cycle_ = until_update_ = 4;
  }
  void update() {
    bit_count_ += update_cycle_;
    if (bit_count_ > kBitMaxCount) {
      bit_count_ = (bit_count_ + 1) >> 1;
      bit_0_count_ = (bit_0_count_ + 1) >> 1;
      if (bit_0_count_ == bit_count_) ++bit_count_;
    }
    const uint32_t scale = 0x80000000u / bit_count_;
    bit_0_prob_ = (bit_0_count_ * scale) >> (31 - kBitLengthShift);
    update_cycle_ = (5 * update_cycle_) >> 2;
    if (update_cycle_ > 64) update_cycle_ = 64;
    until_update_ = update_cycle_;
  }

  uint32_t bit_0_count_, bit_count_, bit_0_prob_, update_cycle_, until_update_;
};

// Adaptive model over `symbols` symbols (2..2048). The decoder table speeds up the search for
// models above 16 symbols; it never changes the decoded value (plain bisection gives the same).
class SymbolModel {
 public:
  explicit SymbolModel(uint32_t symbols) : symbols_(symbols), last_symbol_(symbols - 1) {
    if (symbols_ > 16) {
      uint32_t table_bits = 3;
      while (symbols_ > (1u << (table_bits + 2))) ++table_bits;
      table_size_ = 1u << table_bits;
      table_shift_ = kSymLengthShift - table_bits;
      table_.assign(table_size_ + 2, 0);
    }
    distribution_.assign(symbols_, 0);
    counts_.assign(symbols_, 0);
    reset();
  }
  void reset() {
    total_count_ = 0;
    update_cycle_ = symbols_;
    for (auto& c : counts_) c = 1;
    update();
    update_cycle_ = until_update_ = (symbols_ + 6) >> 1;
  }
  void update() {
    total_count_ += update_cycle_;
    if (total_count_ > kSymMaxCount) {
      total_count_ = 0;
      for (auto& c : counts_) total_count_ += (c = (c + 1) >> 1);
    }
    const uint32_t scale = 0x80000000u / total_count_;
    uint32_t sum = 0;
    if (table_size_ == 0) {
      for (uint32_t k = 0; k < symbols_; ++k) {
        distribution_[k] = (scale * sum) >> (31 - kSymLengthShift);
        sum += counts_[k];
      }
    } else {
      uint32_t s = 0;
      for (uint32_t k = 0; k < symbols_; ++k) {
        distribution_[k] = (scale * sum) >> (31 - kSymLengthShift);
        sum += counts_[k];
        const uint32_t w = distribution_[k] >> table_shift_;
        while (s < w) table_[++s] = k - 1;
      }
      table_[0] = 0;
      while (s <= table_size_) table_[++s] = symbols_ - 1;
    }
    update_cycle_ = (5 * update_cycle_) >> 2;
    const uint32_t max_cycle = (symbols_ + 6) << 3;
    if (update_cycle_ > max_cycle) update_cycle_ = max_cycle;
    until_update_ = update_cycle_;
  }

  uint32_t symbols_, last_symbol_;
  uint32_t table_size_ = 0, table_shift_ = 0;
  uint32_t total_count_ = 0, update_cycle_ = 0, until_update_ = 0;
  std::vector<uint32_t> distribution_, counts_, table_;
};

// Decoder over one in-memory byte span. Reading past the end yields zero bytes and sets
// overrun(), which callers turn into a "truncated" error once per chunk or layer: the hot path
// stays branch-light and a lying size can never read outside the span.
class ArithDecoder {
 public:
  void init(const uint8_t* data, size_t size) {
    cur_ = data;
    end_ = data + size;
    overrun_ = false;
    length_ = kMaxLength;
    value_ = (uint32_t(next_byte()) << 24) | (uint32_t(next_byte()) << 16) |
             (uint32_t(next_byte()) << 8) | uint32_t(next_byte());
  }
  bool overrun() const { return overrun_; }
  const uint8_t* position() const { return cur_; }

  uint32_t decode_bit(BitModel& m) {
    const uint32_t x = m.bit_0_prob_ * (length_ >> kBitLengthShift);
    const uint32_t bit = value_ >= x;
    if (bit == 0) {
      length_ = x;
      ++m.bit_0_count_;
    } else {
      value_ -= x;
      length_ -= x;
    }
    if (length_ < kMinLength) renormalise();
    if (--m.until_update_ == 0) m.update();
    return bit;
  }

  LIDARHD_LAZ_HOT uint32_t decode_symbol(SymbolModel& m) {
    uint32_t sym, x, y = length_;
    if (m.table_size_ != 0) {
      length_ >>= kSymLengthShift;
      const uint32_t dv = value_ / length_;
      // A valid stream keeps value < length, so t < table_size; corrupt bytes can break that and
      // must not index past the table (the decoded values are garbage then, caught upstream).
      const uint32_t t = std::min(dv >> m.table_shift_, m.table_size_);
      sym = m.table_[t];
      uint32_t n = m.table_[t + 1] + 1;
      while (n > sym + 1) {
        const uint32_t k = (sym + n) >> 1;
        if (m.distribution_[k] > dv) n = k; else sym = k;
      }
      x = m.distribution_[sym] * length_;
      if (sym != m.last_symbol_) y = m.distribution_[sym + 1] * length_;
    } else {
      x = sym = 0;
      length_ >>= kSymLengthShift;
      uint32_t n = m.symbols_;
      uint32_t k = n >> 1;
      do {
        const uint32_t z = length_ * m.distribution_[k];
        if (z > value_) {
          n = k;
          y = z;
        } else {
          sym = k;
          x = z;
        }
      } while ((k = (sym + n) >> 1) != sym);
    }
    value_ -= x;
    length_ = y - x;
    if (length_ < kMinLength) renormalise();
    ++m.counts_[sym];
    if (--m.until_update_ == 0) m.update();
    return sym;
  }

  uint32_t read_bits(uint32_t bits) {
    if (bits > 19) {
      const uint32_t low = read_short();
      return (read_bits(bits - 16) << 16) | low;
    }
    length_ >>= bits;
    const uint32_t sym = value_ / length_;
    value_ -= length_ * sym;
    if (length_ < kMinLength) renormalise();
    return sym;
  }
  uint32_t read_short() {
    length_ >>= 16;
    const uint32_t sym = value_ / length_;
    value_ -= length_ * sym;
    if (length_ < kMinLength) renormalise();
    return sym;
  }
  uint32_t read_int() {
    const uint32_t low = read_short();
    return (read_short() << 16) | low;
  }
  uint64_t read_int64() {
    const uint64_t low = read_int();
    return (uint64_t(read_int()) << 32) | low;
  }

 private:
  uint8_t next_byte() {
    if (cur_ < end_) return *cur_++;
    overrun_ = true;
    return 0;
  }
  void renormalise() {
    do {
      value_ = (value_ << 8) | next_byte();
    } while ((length_ <<= 8) < kMinLength);
  }

  const uint8_t* cur_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint32_t value_ = 0, length_ = kMaxLength;
  bool overrun_ = false;
};

// The models of an integer residual coder ("IntegerCompressor" in LASzip), built the same way by
// IntegerDecoder and IntegerEncoder: per context a model of k (the residual's bit length), a bit
// model for k = 0 and a corrector model per k, the larger ones capped at 2^bits_high symbols.
class IntegerModels {
 public:
  void reset() {
    for (auto& m : k_models_) m.reset();
    bit0_.reset();
    for (size_t i = 1; i < corrector_.size(); ++i) corrector_[i].reset();
  }
  uint32_t k() const { return k_; }

 protected:
  IntegerModels(uint32_t bits, uint32_t contexts, uint32_t bits_high)
      : bits_high_(bits_high),
        corr_bits_(bits > 0 && bits < 32 ? bits : 32),
        corr_range_(bits > 0 && bits < 32 ? 1u << bits : 0) {
    k_models_.reserve(contexts);
    for (uint32_t i = 0; i < contexts; ++i) k_models_.emplace_back(corr_bits_ + 1);
    corrector_.reserve(corr_bits_ + 1);
    corrector_.emplace_back(2);  // placeholder; k = 0 uses the bit model
    for (uint32_t i = 1; i <= corr_bits_; ++i)
      corrector_.emplace_back(i <= bits_high_ ? (1u << i) : (1u << bits_high_));
  }

  uint32_t bits_high_, corr_bits_, corr_range_;  // corr_range_ 0: 32-bit residuals wrap freely
  uint32_t k_ = 0;
  std::vector<SymbolModel> k_models_;
  BitModel bit0_;
  std::vector<SymbolModel> corrector_;
};

// Residual decoder for integers predicted by the item codecs ("IntegerCompressor" in LASzip).
// Decoding k (the residual's bit length) first lets callers reuse k as a context (k()).
class IntegerDecoder : public IntegerModels {
 public:
  IntegerDecoder(uint32_t bits = 16, uint32_t contexts = 1, uint32_t bits_high = 8)
      : IntegerModels(bits, contexts, bits_high),
        corr_min_(corr_range_ != 0 ? -int32_t(corr_range_ / 2) : INT32_MIN) {}

  LIDARHD_LAZ_HOT int32_t decode(ArithDecoder& dec, int32_t pred, uint32_t context = 0) {
    uint32_t real = uint32_t(pred) + uint32_t(read_corrector(dec, k_models_[context]));
    if (corr_range_ != 0) {
      if (int32_t(real) < 0) real += corr_range_;
      else if (real >= corr_range_) real -= corr_range_;
    }
    return int32_t(real);
  }

 private:
  LIDARHD_LAZ_HOT int32_t read_corrector(ArithDecoder& dec, SymbolModel& k_model) {
    k_ = dec.decode_symbol(k_model);
    if (k_ == 0) return int32_t(dec.decode_bit(bit0_));
    if (k_ >= 32) return corr_min_;
    uint32_t c;
    if (k_ <= bits_high_) {
      c = dec.decode_symbol(corrector_[k_]);
    } else {
      const uint32_t k1 = k_ - bits_high_;
      c = dec.decode_symbol(corrector_[k_]);
      c = (c << k1) | dec.read_bits(k1);
    }
    if (c >= (1u << (k_ - 1))) return int32_t(c + 1);
    return int32_t(c - ((1u << k_) - 1));
  }

  int32_t corr_min_;
};

}  // namespace lidarhd::laz::detail
