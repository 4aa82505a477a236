// BYTE (extra bytes) version 2 encoder (laz-format.md 5.4), the mirror of ByteV2 in byte10.cpp:
// every byte position codes its change modulo 256 with its own model.
#include <cstring>
#include <memory>

#include "io/laz/pointwise_encoders.hpp"
#include "io/laz/pointwise_v2_state.hpp"

namespace lidarhd::laz::detail {
namespace {

class ByteV2Encoder final : public PointwiseItemEncoder {
 public:
  explicit ByteV2Encoder(uint16_t size) : s_(size) {}

  void init(const uint8_t* first) override { s_.init(first); }

  void encode(ArithEncoder& enc, const uint8_t* item) override {
    const size_t n = s_.last.size();
    uint8_t* last = s_.last.data();
    SymbolModel* models = s_.models.data();
    for (size_t i = 0; i < n; ++i) enc.encode_symbol(models[i], uint8_t(item[i] - last[i]));
    std::memcpy(last, item, n);
  }

 private:
  ByteV2Core s_;
};

}  // namespace

std::unique_ptr<PointwiseItemEncoder> make_byte_v2_encoder(uint16_t size) {
  return std::make_unique<ByteV2Encoder>(size);
}

}  // namespace lidarhd::laz::detail
