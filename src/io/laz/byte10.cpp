// BYTE item decoders (extra bytes of PDRF 0-5): version 2 (laz-format.md 5.4) and version 1
// (LASzip 1.x). Every byte position has its own model and is coded against its previous value.
#include <cstring>
#include <memory>
#include <vector>

#include "io/laz/pointwise_items.hpp"
#include "io/laz/pointwise_v2_state.hpp"

namespace lidarhd::laz::detail {
namespace {

class ByteV2 final : public PointwiseItemDecoder {
 public:
  explicit ByteV2(uint16_t size) : s_(size) {}

  void init(const uint8_t* first) override { s_.init(first); }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    const size_t n = s_.last.size();
    uint8_t* last = s_.last.data();
    SymbolModel* models = s_.models.data();
    for (size_t i = 0; i < n; ++i) {
      last[i] = uint8_t(last[i] + dec.decode_symbol(models[i]));
      item[i] = last[i];
    }
  }

 private:
  ByteV2Core s_;
};

// Version 1 shares one 8-bit integer decoder, one context per byte position.
class ByteV1 final : public PointwiseItemDecoder {
 public:
  explicit ByteV1(uint16_t size) : last_(size), ic_(8, size) {}

  void init(const uint8_t* first) override {
    std::memcpy(last_.data(), first, last_.size());
    ic_.reset();
  }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    const uint32_t n = uint32_t(last_.size());
    for (uint32_t i = 0; i < n; ++i) {
      last_[i] = uint8_t(ic_.decode(dec, last_[i], i));
      item[i] = last_[i];
    }
  }

 private:
  std::vector<uint8_t> last_;
  IntegerDecoder ic_;
};

}  // namespace

std::unique_ptr<PointwiseItemDecoder> make_byte_v1(uint16_t size) {
  return std::make_unique<ByteV1>(size);
}
std::unique_ptr<PointwiseItemDecoder> make_byte_v2(uint16_t size) {
  return std::make_unique<ByteV2>(size);
}

}  // namespace lidarhd::laz::detail
