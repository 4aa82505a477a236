// POINT14 v3/v4 layered decoder (laz-format.md 5.5). The XY layer carries the change mask,
// scanner channel and return counts; every other field has its own stream, decoded only when
// the caller asked for it and the chunk says the field changes.
#include "io/laz/layered_items.hpp"

namespace lidarhd::laz::detail {
namespace {

// Layer index -> LayerBits flag (layer 0 is always decoded).
constexpr uint32_t kLayerFlag[Point14Decoder::kLayers] = {0,
                                                          kLayerZ,
                                                          kLayerClassification,
                                                          kLayerFlags,
                                                          kLayerIntensity,
                                                          kLayerScanAngle,
                                                          kLayerUserData,
                                                          kLayerPointSource,
                                                          kLayerGpsTime};

}  // namespace

void LazyModel::activate(uint32_t symbols) {
  if (model)
    model->reset();
  else
    model = std::make_unique<SymbolModel>(symbols);
  live = true;
}

void Point14Fields::load(const uint8_t* rec) {
  x = load_u32(rec + 0);
  y = load_u32(rec + 4);
  z = load_u32(rec + 8);
  intensity = load_u16(rec + 12);
  ret = rec[14] & 0x0F;
  nret = rec[14] >> 4;
  flags15 = rec[15];
  classification = rec[16];
  user_data = rec[17];
  scan_angle = load_u16(rec + 18);
  point_source = load_u16(rec + 20);
  gps = load_u64(rec + 22);
  gps_changed = false;
}

Point14State::Point14State() {
  changed.reserve(8);
  for (int i = 0; i < 8; ++i) changed.emplace_back(128);
}

void Point14State::start_state(const Point14Fields& seed) {
  last = seed;
  last.gps_changed = false;
  for (auto& z : last_z) z = seed.z;
  for (auto& v : last_intensity) v = seed.intensity;
  for (auto& m : median_x) m.reset();
  for (auto& m : median_y) m.reset();
  gps_seq[0] = seed.gps;
  gps_seq[1] = gps_seq[2] = gps_seq[3] = 0;
  for (int i = 0; i < 4; ++i) gps_diff[i] = gps_extreme[i] = 0;
  gps_last = gps_next = 0;

  for (auto& m : changed) m.reset();
  scanner_channel.reset();
  return_gps_same.reset();
  gps_multi.reset();
  gps_0diff.reset();
  // Lazily created models start fresh on their first use in this chunk.
  for (auto& m : number_of_returns) m.live = false;
  for (auto& m : return_number) m.live = false;
  for (auto& m : classification) m.live = false;
  for (auto& m : flags) m.live = false;
  for (auto& m : user_data) m.live = false;
}

Point14Decoder::Point14Decoder(uint16_t version, uint32_t layers)
    : v4_(version == 4), requested_(layers) {}

bool Point14Decoder::overrun() const {
  if (corrupt_) return true;
  for (size_t i = 0; i < kLayers; ++i)
    if (active_[i] && dec_[i].overrun()) return true;
  return false;
}

Point14Context& Point14Decoder::context_for(uint32_t channel, const Point14Fields& seed) {
  if (!ctx_[channel]) ctx_[channel] = std::make_unique<Point14Context>();
  Point14Context& c = *ctx_[channel];
  c.start(seed);
  used_[channel] = true;
  return c;
}

void Point14Decoder::init(const uint8_t* first, const ByteSpan* layers, uint32_t& context) {
  for (size_t i = 0; i < kLayers; ++i) {
    // The XY layer always runs (even when empty it must yield the change masks); other layers
    // only when requested and non-constant in this chunk.
    active_[i] = i == 0 || ((requested_ & kLayerFlag[i]) && layers[i].size > 0);
    if (active_[i]) dec_[i].init(layers[i].data, layers[i].size);
  }
  corrupt_ = false;
  for (auto& u : used_) u = false;
  Point14Fields seed;
  seed.load(first);
  current_ = (seed.flags15 >> 4) & 3;
  context = current_;
  context_for(current_, seed);
}

void Point14Decoder::decode_point(uint8_t* item, uint32_t& context) {
  Point14Context* c = ctx_[current_].get();
  ArithDecoder& dxy = dec_[0];

  // Return context of the previous point of the current channel.
  uint32_t lpr = (c->last.ret == 1 ? 1u : 0u) + (c->last.ret >= c->last.nret ? 2u : 0u) +
                 (c->last.gps_changed ? 4u : 0u);
  const uint32_t changed = dxy.decode_symbol(c->changed[lpr]);

  if (changed & (1u << 6)) {
    const uint32_t step = dxy.decode_symbol(c->scanner_channel);
    const uint32_t channel = (current_ + step + 1) & 3;
    if (!used_[channel]) context_for(channel, c->last);
    current_ = channel;
    c = ctx_[channel].get();
    c->last.flags15 = uint8_t((c->last.flags15 & 0xCF) | (channel << 4));
    if (!v4_) context = channel;  // v3 hands the channel over only on a switch
  }
  if (v4_) context = current_;
  Point14Fields& p = c->last;

  const bool source_changed = changed & (1u << 5);
  const uint32_t gps_changed = (changed >> 4) & 1;
  const bool angle_changed = changed & (1u << 3);

  uint32_t n = p.nret;
  if (changed & (1u << 2)) {
    n = dxy.decode_symbol(c->number_of_returns[n].get(16));
    p.nret = uint8_t(n);
  }
  uint32_t r = p.ret;
  switch (changed & 3) {
    case 0:
      break;
    case 1:
      r = (r + 1) & 15;
      break;
    case 2:
      r = (r + 15) & 15;
      break;
    default:
      if (gps_changed)
        r = dxy.decode_symbol(c->return_number[r].get(16));
      else
        r = (r + dxy.decode_symbol(c->return_gps_same) + 2) & 15;
      break;
  }
  p.ret = uint8_t(r);

  const uint32_t m = kPoint14ReturnMap[n][r];
  const uint32_t l = point14_return_level(n, r);
  const uint32_t cpr = (r == 1 ? 1u : 0u) + (r >= n ? 2u : 0u);
  const uint32_t single = n == 1 ? 1u : 0u;
  const uint32_t slot = (m << 1) | gps_changed;

  int32_t diff = c->ic_dx.decode(dxy, c->median_x[slot].get(), single);
  p.x += uint32_t(diff);
  c->median_x[slot].add(diff);
  const uint32_t kx = c->ic_dx.k();
  diff = c->ic_dy.decode(dxy, c->median_y[slot].get(), single + (kx < 20 ? (kx & ~1u) : 20));
  p.y += uint32_t(diff);
  c->median_y[slot].add(diff);

  if (active_[1]) {
    const uint32_t k = (kx + c->ic_dy.k()) / 2;
    p.z = uint32_t(
        c->ic_z.decode(dec_[1], int32_t(c->last_z[l]), single + (k < 18 ? (k & ~1u) : 18)));
    c->last_z[l] = p.z;
  }
  if (active_[2]) {
    const uint32_t idx = ((p.classification & 0x1Fu) << 1) + (cpr == 3 ? 1u : 0u);
    p.classification = uint8_t(dec_[2].decode_symbol(c->classification[idx].get(256)));
  }
  if (active_[3]) {
    const uint32_t last_flags = ((p.flags15 >> 2) & 0x30u) | (p.flags15 & 0x0Fu);
    const uint32_t f = dec_[3].decode_symbol(c->flags[last_flags].get(64));
    p.flags15 = uint8_t((p.flags15 & 0x30u) | ((f & 0x30u) << 2) | (f & 0x0Fu));
  }
  if (active_[4]) {
    const uint32_t s = (cpr << 1) | gps_changed;
    p.intensity = uint16_t(c->ic_intensity.decode(dec_[4], c->last_intensity[s], cpr));
    c->last_intensity[s] = p.intensity;
  }
  if (active_[5] && angle_changed) {
    p.scan_angle =
        uint16_t(c->ic_scan_angle.decode(dec_[5], int32_t(int16_t(p.scan_angle)), gps_changed));
  }
  if (active_[6]) {
    p.user_data = uint8_t(dec_[6].decode_symbol(c->user_data[p.user_data >> 2].get(256)));
  }
  if (active_[7] && source_changed) {
    p.point_source = uint16_t(c->ic_point_source.decode(dec_[7], p.point_source, 0));
  }
  if (active_[8] && gps_changed) {
    decode_gps(*c);
    p.gps = c->gps_seq[c->gps_last];
  }

  p.store(item);
  p.gps_changed = gps_changed != 0;
}

// GPS time as the integer bit pattern of the double, with up to four interleaved sequences
// (laz-format.md 5.2 with the v3 symbol layout).
void Point14Decoder::decode_gps(Point14Context& c) {
  ArithDecoder& d = dec_[8];
  // A valid stream switches sequence at most once before coding the time; the bound only
  // stops corrupt data from spinning.
  for (int hops = 0; hops < 4; ++hops) {
    const uint32_t last = c.gps_last;
    uint32_t sym;
    if (c.gps_diff[last] == 0) {
      sym = d.decode_symbol(c.gps_0diff);
      if (sym == 0) {
        const int32_t delta = c.ic_gps.decode(d, 0, 0);
        c.gps_diff[last] = delta;
        c.gps_seq[last] += uint64_t(int64_t(delta));
        c.gps_extreme[last] = 0;
        return;
      }
      if (sym >= 2) {
        c.gps_last = (last + sym - 1) & 3;
        continue;
      }
    } else {
      sym = d.decode_symbol(c.gps_multi);
      const int32_t last_diff = c.gps_diff[last];
      if (sym == 1) {
        c.gps_seq[last] += uint64_t(int64_t(c.ic_gps.decode(d, last_diff, 1)));
        c.gps_extreme[last] = 0;
        return;
      }
      if (sym < kGps14CodeFull) {
        int32_t delta;
        bool extreme = false;
        if (sym == 0) {
          delta = c.ic_gps.decode(d, 0, 7);
          extreme = true;
        } else if (sym < kGps14Multi) {
          delta = c.ic_gps.decode(d, wrap_mul32(int32_t(sym), last_diff), sym < 10 ? 2 : 3);
        } else if (sym == kGps14Multi) {
          delta = c.ic_gps.decode(d, wrap_mul32(int32_t(kGps14Multi), last_diff), 4);
          extreme = true;
        } else {
          const int32_t factor = int32_t(kGps14Multi) - int32_t(sym);  // -1 .. -10
          if (factor > -10) {
            delta = c.ic_gps.decode(d, wrap_mul32(factor, last_diff), 5);
          } else {
            delta = c.ic_gps.decode(d, wrap_mul32(-10, last_diff), 6);
            extreme = true;
          }
        }
        if (extreme && ++c.gps_extreme[last] > 3) {
          c.gps_diff[last] = delta;
          c.gps_extreme[last] = 0;
        }
        c.gps_seq[last] += uint64_t(int64_t(delta));
        return;
      }
      if (sym > kGps14CodeFull) {
        c.gps_last = (last + sym - kGps14CodeFull) & 3;
        continue;
      }
    }
    // New sequence: high half predicted from the current sequence, low half raw.
    const uint32_t next = (c.gps_next + 1) & 3;
    const uint32_t high = uint32_t(c.ic_gps.decode(d, int32_t(uint32_t(c.gps_seq[last] >> 32)), 8));
    c.gps_seq[next] = (uint64_t(high) << 32) | d.read_int();
    c.gps_next = next;
    c.gps_last = next;
    c.gps_diff[next] = 0;
    c.gps_extreme[next] = 0;
    return;
  }
  corrupt_ = true;
}

}  // namespace lidarhd::laz::detail
