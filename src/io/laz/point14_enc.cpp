// POINT14 v3/v4 layered encoder (laz-format.md 5.5), the mirror of point14.cpp. Every field is
// coded into its layer for every point; at the end of the chunk a layer other than XY and Z is
// kept only if its field changed somewhere, exactly as LASzip's writer decides.
#include <cstring>

#include "io/laz/layered_encoders.hpp"

namespace lidarhd::laz::detail {
namespace {

enum : size_t {
  kXy = 0,
  kZ = 1,
  kClass = 2,
  kFlags = 3,
  kIntensity = 4,
  kAngle = 5,
  kUser = 6,
  kSource = 7,
  kGps = 8
};

// LASzip compares GPS times as doubles. Bit patterns are compared too: +0.0 and -0.0 compare
// equal, and treating them as unchanged would lose the sign (LASzip does lose it).
inline bool gps_differs(uint64_t a, uint64_t b) {
  if (a != b) return true;
  double d;
  std::memcpy(&d, &a, 8);
  return d != d;  // NaN: LASzip codes a change (a zero delta), which stays lossless
}

// The multiplier between two GPS deltas as LASzip computes it: float ratio rounded half away
// from zero; x86's conversion turns out-of-range values into INT32_MIN, which we spell out (a
// plain cast would be undefined behaviour).
inline int32_t gps_multiplier(int32_t diff, int32_t last_diff) {
  const float f = float(diff) / float(last_diff);
  const float q = f >= 0.0f ? f + 0.5f : f - 0.5f;
  if (!(q < 2147483648.0f) || q < -2147483648.0f) return INT32_MIN;
  return int32_t(q);
}

inline bool fits_i32(int64_t v) { return v == int64_t(int32_t(v)); }

}  // namespace

Point14Encoder::Point14Encoder(uint16_t version) : v4_(version == 4) {}

Point14EncContext& Point14Encoder::context_for(uint32_t channel, const Point14Fields& seed) {
  if (!ctx_[channel]) ctx_[channel] = std::make_unique<Point14EncContext>();
  Point14EncContext& c = *ctx_[channel];
  c.start(seed);
  used_[channel] = true;
  return c;
}

void Point14Encoder::init(const uint8_t* first, uint32_t& context) {
  for (auto& e : enc_) e.reset();
  for (auto& e : emit_) e = false;
  emit_[kXy] = emit_[kZ] = true;  // always emitted, even when constant
  for (auto& u : used_) u = false;
  Point14Fields seed;
  seed.load(first);
  current_ = (seed.flags15 >> 4) & 3;
  context = current_;
  context_for(current_, seed);
}

void Point14Encoder::encode_point(const uint8_t* item, uint32_t& context) {
  Point14EncContext* c = ctx_[current_].get();
  Point14Fields cur;
  cur.load(item);

  // Return context of the previous point of the current channel.
  const uint32_t lpr = (c->last.ret == 1 ? 1u : 0u) + (c->last.ret >= c->last.nret ? 2u : 0u) +
                       (c->last.gps_changed ? 4u : 0u);

  // Changes are measured against the last point of the new point's channel; a channel seen for
  // the first time starts from the current channel's last point.
  const uint32_t channel = (cur.flags15 >> 4) & 3;
  const bool switched = channel != current_;
  const Point14Fields* lp = &c->last;
  if (switched && used_[channel]) lp = &ctx_[channel]->last;

  const bool source_changed = cur.point_source != lp->point_source;
  const bool gps_changed = gps_differs(cur.gps, lp->gps);
  const bool angle_changed = cur.scan_angle != lp->scan_angle;
  const uint32_t n = cur.nret, r = cur.ret;
  const uint32_t last_n = lp->nret, last_r = lp->ret;

  uint32_t mask = (switched ? 1u << 6 : 0u) | (source_changed ? 1u << 5 : 0u) |
                  (gps_changed ? 1u << 4 : 0u) | (angle_changed ? 1u << 3 : 0u) |
                  (n != last_n ? 1u << 2 : 0u);
  if (r != last_r) {
    if (r == ((last_r + 1) & 15))
      mask |= 1;
    else if (r == ((last_r + 15) & 15))
      mask |= 2;
    else
      mask |= 3;
  }

  ArithEncoder& exy = enc_[kXy];
  exy.encode_symbol(c->changed[lpr], mask);
  if (switched) {
    // Coded with the old channel's model as (new - old - 1) mod 4.
    exy.encode_symbol(c->scanner_channel, (channel - current_ + 3) & 3);
    if (!used_[channel]) context_for(channel, c->last);
    current_ = channel;
    c = ctx_[channel].get();
    lp = &c->last;
    if (!v4_) context = channel;  // v3 hands the channel over only on a switch
  }
  if (v4_) context = current_;

  if (mask & (1u << 2)) exy.encode_symbol(c->number_of_returns[last_n].get(16), n);
  if ((mask & 3) == 3) {
    if (gps_changed)
      exy.encode_symbol(c->return_number[last_r].get(16), r);
    else
      exy.encode_symbol(c->return_gps_same, (r - last_r + 14) & 15);  // r = last + sym + 2
  }

  const uint32_t m = kPoint14ReturnMap[n][r];
  const uint32_t l = point14_return_level(n, r);
  const uint32_t cpr = (r == 1 ? 1u : 0u) + (r >= n ? 2u : 0u);
  const uint32_t single = n == 1 ? 1u : 0u;
  const uint32_t gps_bit = gps_changed ? 1u : 0u;
  const uint32_t slot = (m << 1) | gps_bit;

  int32_t diff = int32_t(cur.x - lp->x);
  c->ic_dx.encode(exy, c->median_x[slot].get(), diff, single);
  c->median_x[slot].add(diff);
  const uint32_t kx = c->ic_dx.k();
  diff = int32_t(cur.y - lp->y);
  c->ic_dy.encode(exy, c->median_y[slot].get(), diff, single + (kx < 20 ? (kx & ~1u) : 20));
  c->median_y[slot].add(diff);

  const uint32_t k = (kx + c->ic_dy.k()) / 2;
  c->ic_z.encode(enc_[kZ], int32_t(c->last_z[l]), int32_t(cur.z),
                 single + (k < 18 ? (k & ~1u) : 18));
  c->last_z[l] = cur.z;

  if (cur.classification != lp->classification) emit_[kClass] = true;
  const uint32_t class_ctx = ((lp->classification & 0x1Fu) << 1) + (cpr == 3 ? 1u : 0u);
  enc_[kClass].encode_symbol(c->classification[class_ctx].get(256), cur.classification);

  const uint32_t last_flags = ((lp->flags15 >> 2) & 0x30u) | (lp->flags15 & 0x0Fu);
  const uint32_t flags = ((cur.flags15 >> 2) & 0x30u) | (cur.flags15 & 0x0Fu);
  if (flags != last_flags) emit_[kFlags] = true;
  enc_[kFlags].encode_symbol(c->flags[last_flags].get(64), flags);

  if (cur.intensity != lp->intensity) emit_[kIntensity] = true;
  const uint32_t islot = (cpr << 1) | gps_bit;
  c->ic_intensity.encode(enc_[kIntensity], c->last_intensity[islot], cur.intensity, cpr);
  c->last_intensity[islot] = cur.intensity;

  if (angle_changed) {
    emit_[kAngle] = true;
    c->ic_scan_angle.encode(enc_[kAngle], int16_t(lp->scan_angle), int16_t(cur.scan_angle),
                            gps_bit);
  }

  if (cur.user_data != lp->user_data) emit_[kUser] = true;
  enc_[kUser].encode_symbol(c->user_data[lp->user_data >> 2].get(256), cur.user_data);

  if (source_changed) {
    emit_[kSource] = true;
    c->ic_point_source.encode(enc_[kSource], lp->point_source, cur.point_source, 0);
  }

  if (gps_changed) {
    emit_[kGps] = true;
    encode_gps(*c, cur.gps);
  }

  c->last = cur;
  c->last.gps_changed = gps_changed;
}

// GPS time as the integer bit pattern of the double, with up to four interleaved sequences: the
// encoder side of Point14Decoder::decode_gps.
void Point14Encoder::encode_gps(Point14EncContext& c, uint64_t gps) {
  ArithEncoder& e = enc_[kGps];
  // A time that fits no sequence's 32-bit reach starts a new one; one that fits another
  // sequence switches to it first (at most one switch, then the fitting delta is coded).
  for (int pass = 0; pass < 2; ++pass) {
    const uint32_t last = c.gps_last;
    const bool zero_diff = c.gps_diff[last] == 0;
    const int64_t diff64 = int64_t(gps - c.gps_seq[last]);
    if (!fits_i32(diff64)) {
      uint32_t other = 1;
      while (other < 4 && !fits_i32(int64_t(gps - c.gps_seq[(last + other) & 3]))) ++other;
      if (other < 4) {
        if (zero_diff)
          e.encode_symbol(c.gps_0diff, other + 1);
        else
          e.encode_symbol(c.gps_multi, kGps14CodeFull + other);
        c.gps_last = (last + other) & 3;
        continue;
      }
      // New sequence: high half predicted from the current sequence, low half raw.
      if (zero_diff)
        e.encode_symbol(c.gps_0diff, 1);
      else
        e.encode_symbol(c.gps_multi, kGps14CodeFull);
      c.ic_gps.encode(e, int32_t(uint32_t(c.gps_seq[last] >> 32)), int32_t(uint32_t(gps >> 32)),
                      8);
      e.write_int(uint32_t(gps));
      const uint32_t next = (c.gps_next + 1) & 3;
      c.gps_next = next;
      c.gps_last = next;
      c.gps_diff[next] = 0;
      c.gps_extreme[next] = 0;
      c.gps_seq[next] = gps;
      return;
    }

    const int32_t delta = int32_t(diff64);
    if (zero_diff) {
      e.encode_symbol(c.gps_0diff, 0);
      c.ic_gps.encode(e, 0, delta, 0);
      c.gps_diff[last] = delta;
      c.gps_extreme[last] = 0;
    } else {
      const int32_t last_diff = c.gps_diff[last];
      const int32_t multi = gps_multiplier(delta, last_diff);
      bool extreme = false;
      if (multi == 1) {
        e.encode_symbol(c.gps_multi, 1);
        c.ic_gps.encode(e, last_diff, delta, 1);
        c.gps_extreme[last] = 0;
      } else if (multi > 0) {
        if (multi < int32_t(kGps14Multi)) {
          e.encode_symbol(c.gps_multi, uint32_t(multi));
          c.ic_gps.encode(e, wrap_mul32(multi, last_diff), delta, multi < 10 ? 2 : 3);
        } else {
          e.encode_symbol(c.gps_multi, kGps14Multi);
          c.ic_gps.encode(e, wrap_mul32(int32_t(kGps14Multi), last_diff), delta, 4);
          extreme = true;
        }
      } else if (multi < 0) {
        if (multi > -10) {
          e.encode_symbol(c.gps_multi, uint32_t(int32_t(kGps14Multi) - multi));
          c.ic_gps.encode(e, wrap_mul32(multi, last_diff), delta, 5);
        } else {
          e.encode_symbol(c.gps_multi, kGps14Multi + 10);
          c.ic_gps.encode(e, wrap_mul32(-10, last_diff), delta, 6);
          extreme = true;
        }
      } else {
        e.encode_symbol(c.gps_multi, 0);
        c.ic_gps.encode(e, 0, delta, 7);
        extreme = true;
      }
      // Repeated outliers mean the spacing really changed: adopt the new delta.
      if (extreme && ++c.gps_extreme[last] > 3) {
        c.gps_diff[last] = delta;
        c.gps_extreme[last] = 0;
      }
    }
    c.gps_seq[last] = gps;
    return;
  }
}

void Point14Encoder::finish() {
  for (size_t i = 0; i < kLayers; ++i)
    if (emit_[i]) enc_[i].done();
}

ByteSpan Point14Encoder::layer(size_t i) const {
  if (i >= kLayers || !emit_[i]) return {};
  return {enc_[i].bytes().data(), enc_[i].bytes().size()};
}

}  // namespace lidarhd::laz::detail
