// Layered (compressor 3) item encoders for PDRF 6-10: POINT14, RGB14, RGBNIR14, BYTE14 and
// WAVEPACKET14, versions 3 and 4 — the mirror of layered_items.hpp. Each layer gets its own
// arithmetic encoder; a layer is emitted only when LASzip's writer would emit it (laz-format.md
// 5.5), so that re-encoding a LASzip-written file gives its bytes back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "io/laz/arith_encoder.hpp"
#include "io/laz/items.hpp"
#include "io/laz/layered_items.hpp"

namespace lidarhd::laz::detail {

// Encoder side of LayeredItemDecoder. `context` is the scanner-channel hand-off variable of
// laz-format.md 5.6, written by POINT14 and read by the other items.
class LayeredItemEncoder {
 public:
  virtual ~LayeredItemEncoder() = default;
  virtual size_t num_layers() const = 0;
  // Starts a chunk whose first (raw) point carries `first` for this item; resets every model.
  virtual void init(const uint8_t* first, uint32_t& context) = 0;
  virtual void encode(const uint8_t* item, uint32_t& context) = 0;
  // Flushes the layers of the chunk; afterwards layer(i) holds layer i's bytes, empty when the
  // layer is not emitted (its field never changed in the chunk).
  virtual void finish() = 0;
  virtual ByteSpan layer(size_t i) const = 0;
};

// Throws ArgumentError for an item that compressor 3 cannot carry (type, size or version).
std::unique_ptr<LayeredItemEncoder> make_layered_encoder(const Item& item);

// ---------------------------------------------------------------------------------------------
// POINT14

using Point14EncContext = Point14ContextT<IntegerEncoder>;

class Point14Encoder final : public LayeredItemEncoder {
 public:
  static constexpr size_t kLayers = 9;
  explicit Point14Encoder(uint16_t version);

  size_t num_layers() const override { return kLayers; }
  void init(const uint8_t* first, uint32_t& context) override;
  void encode(const uint8_t* item, uint32_t& context) override { encode_point(item, context); }
  void finish() override;
  ByteSpan layer(size_t i) const override;

  // Non-virtual entry for the chunk loop.
  void encode_point(const uint8_t* item, uint32_t& context);

 private:
  Point14EncContext& context_for(uint32_t channel, const Point14Fields& seed);
  void encode_gps(Point14EncContext& c, uint64_t gps);

  bool v4_;
  // Layer order of the decoder: XY/returns/channel, Z, classification, flags, intensity,
  // scan angle, user data, point source, GPS time.
  ArithEncoder enc_[kLayers];
  bool emit_[kLayers] = {};
  uint32_t current_ = 0;
  bool used_[4] = {};
  std::unique_ptr<Point14EncContext> ctx_[4];
};

// ---------------------------------------------------------------------------------------------
// RGB14 / RGBNIR14 / BYTE14 / WAVEPACKET14

// Encodes `cur` (R, G, B) predicted from `last` (RGB12 v2 algorithm); returns the 7-bit symbol,
// which is zero exactly when the colour equals `last` and is grey.
uint32_t encode_rgb(ArithEncoder& enc, RgbModels& m, const uint16_t* last, const uint16_t* cur);
// Encodes one NIR value; returns the 2-bit "byte changed" symbol.
uint32_t encode_nir(ArithEncoder& enc, NirModels& m, uint16_t last, uint16_t cur);

class Rgb14Encoder final : public LayeredItemEncoder {
 public:
  Rgb14Encoder(bool nir, uint16_t version);
  size_t num_layers() const override { return nir_ ? 2 : 1; }
  void init(const uint8_t* first, uint32_t& context) override;
  void encode(const uint8_t* item, uint32_t& context) override;
  void finish() override;
  ByteSpan layer(size_t i) const override;

 private:
  struct Context {
    uint16_t last[4] = {0, 0, 0, 0};  // R, G, B, NIR
    std::unique_ptr<RgbModels> rgb;
    std::unique_ptr<NirModels> nir;
  };
  void start(uint32_t channel, const uint16_t* seed);

  bool nir_, v4_;
  ArithEncoder enc_rgb_, enc_nir_;
  bool emit_rgb_ = false, emit_nir_ = false;
  uint32_t current_ = 0;
  bool used_[4] = {};
  Context ctx_[4];
};

class Byte14Encoder final : public LayeredItemEncoder {
 public:
  Byte14Encoder(uint16_t size, uint16_t version);
  size_t num_layers() const override { return size_; }
  void init(const uint8_t* first, uint32_t& context) override;
  void encode(const uint8_t* item, uint32_t& context) override;
  void finish() override;
  ByteSpan layer(size_t i) const override;

 private:
  struct Context {
    std::vector<uint8_t> last;
    std::vector<SymbolModel> models;  // one per byte, 256 symbols; empty until first used
  };
  void start(uint32_t channel, const uint8_t* seed);

  size_t size_;
  bool v4_;
  std::vector<ArithEncoder> enc_;
  std::vector<uint8_t> emit_;
  uint32_t current_ = 0;
  bool used_[4] = {};
  Context ctx_[4];
};

class Wavepacket14Encoder final : public LayeredItemEncoder {
 public:
  explicit Wavepacket14Encoder(uint16_t version);
  size_t num_layers() const override { return 1; }
  void init(const uint8_t* first, uint32_t& context) override;
  void encode(const uint8_t* item, uint32_t& context) override;
  void finish() override;
  ByteSpan layer(size_t i) const override;

 private:
  using Models = Wavepacket14Models<IntegerEncoder>;
  using Context = Wavepacket14Context<IntegerEncoder>;
  void start(uint32_t channel, const uint8_t* seed);

  bool v4_;
  ArithEncoder enc_;
  bool emit_ = false;
  uint32_t current_ = 0;
  bool used_[4] = {};
  Context ctx_[4];
};

// ---------------------------------------------------------------------------------------------
// Chunks

// Reusable form of encode_layered_chunk (chunk_encoder.hpp): keeps the item encoders, their
// models and layer buffers between chunks. Not thread-safe; use one per thread.
class LayeredChunkEncoder {
 public:
  // Throws ArgumentError for items that compressor 3 cannot carry.
  explicit LayeredChunkEncoder(const std::vector<Item>& items);
  ~LayeredChunkEncoder();
  LayeredChunkEncoder(const LayeredChunkEncoder&) = delete;
  LayeredChunkEncoder& operator=(const LayeredChunkEncoder&) = delete;

  size_t record_length() const { return record_length_; }

  // Appends one chunk of `n` records (n * record_length() bytes at `records`) to `out`: raw first
  // record, u32 count, u32 layer sizes, layer bytes. Appends nothing for n = 0.
  void encode(const uint8_t* records, uint64_t n, std::vector<uint8_t>& out);

 private:
  std::vector<std::unique_ptr<LayeredItemEncoder>> encoders_;
  std::vector<size_t> offsets_;  // byte offset of each item inside a record
  size_t record_length_ = 0;
  Point14Encoder* point14_ = nullptr;  // set when the first item is POINT14 (the usual case)
};

}  // namespace lidarhd::laz::detail
