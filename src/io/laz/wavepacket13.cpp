// WAVEPACKET13 item decoder (wave packets of PDRF 4/5, compressors 1 and 2), following LASzip's
// WAVEPACKET13 v1 reader. LASzip only writes version 1; laz-rs writes version 2 for the very same
// bitstream, so both versions use this decoder.
//
// Record (29 bytes): descriptor index u8, waveform offset u64, packet size u32, return point f32,
// dx/dy/dz f32. The floats are predicted as their 32-bit integer patterns.
#include <cstring>
#include <memory>

#include "io/laz/pointwise_items.hpp"

namespace lidarhd::laz::detail {
namespace {

class Wavepacket13V1 final : public PointwiseItemDecoder {
 public:
  void init(const uint8_t* first) override {
    // The descriptor index is coded without prediction, so only the other fields are remembered.
    last_offset_ = le::load_u64(first + 1);
    last_size_ = le::load_u32(first + 9);
    for (int i = 0; i < 4; ++i) last_[i] = le::load_u32(first + 13 + 4 * i);
    last_diff_ = 0;
    last_offset_sym_ = 0;
    packet_index_.reset();
    for (auto& m : offset_kind_) m.reset();
    ic_offset_diff_.reset();
    ic_packet_size_.reset();
    ic_return_point_.reset();
    ic_xyz_.reset();
  }

  void decode(ArithDecoder& dec, uint8_t* item) override {
    item[0] = uint8_t(dec.decode_symbol(packet_index_));
    // How the offset moved, itself predicted by how it moved last time: 0 unchanged, 1 right after
    // the previous packet, 2 a 32-bit jump coded against the previous jump, 3 a raw 64-bit value.
    last_offset_sym_ = dec.decode_symbol(offset_kind_[last_offset_sym_]);
    switch (last_offset_sym_) {
      case 0:
        break;
      case 1:
        last_offset_ += last_size_;
        break;
      case 2:
        last_diff_ = ic_offset_diff_.decode(dec, last_diff_);
        // The jump is signed: sign-extend, then add with 64-bit wrap-around.
        last_offset_ += uint64_t(int64_t(last_diff_));
        break;
      default:
        last_offset_ = dec.read_int64();
        break;
    }
    last_size_ = uint32_t(ic_packet_size_.decode(dec, int32_t(last_size_)));
    last_[0] = uint32_t(ic_return_point_.decode(dec, int32_t(last_[0])));
    for (uint32_t i = 0; i < 3; ++i) {
      last_[1 + i] = uint32_t(ic_xyz_.decode(dec, int32_t(last_[1 + i]), i));
    }

    le::store_u64(item + 1, last_offset_);
    le::store_u32(item + 9, last_size_);
    for (int i = 0; i < 4; ++i) le::store_u32(item + 13 + 4 * i, last_[i]);
  }

 private:
  uint64_t last_offset_ = 0;
  uint32_t last_size_ = 0;
  uint32_t last_[4] = {0, 0, 0, 0};  // return point, dx, dy, dz (f32 bit patterns)
  int32_t last_diff_ = 0;
  uint32_t last_offset_sym_ = 0;

  SymbolModel packet_index_{256};
  SymbolModel offset_kind_[4] = {SymbolModel(4), SymbolModel(4), SymbolModel(4), SymbolModel(4)};
  IntegerDecoder ic_offset_diff_{32, 1};
  IntegerDecoder ic_packet_size_{32, 1};
  IntegerDecoder ic_return_point_{32, 1};
  IntegerDecoder ic_xyz_{32, 3};  // one context per axis
};

}  // namespace

std::unique_ptr<PointwiseItemDecoder> make_wavepacket13_v1() {
  return std::make_unique<Wavepacket13V1>();
}

}  // namespace lidarhd::laz::detail
