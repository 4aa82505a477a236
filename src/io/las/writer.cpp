// LasWriter: header and VLRs up front (patched at close), records streamed, LAZ chunks encoded
// threads-at-a-time. Chunk boundaries depend only on the chunk size (and end_chunk() calls), and
// chunks are pure functions of their records, so the bytes never depend on the thread count.
#include "lidarhd/io/writer.hpp"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cmath>
#include <ctime>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

#include "io/atomic_file.hpp"
#include "io/las/header_write.hpp"
#include "io/las/le_bytes.hpp"
#include "io/laz/chunk_encoder.hpp"
#include "lidarhd/core/error.hpp"
#include "lidarhd/io/byte_source.hpp"

namespace lidarhd::io {

bool output_is_laz(const std::string& path, const std::string& component) {
  auto ends_with = [&](const std::string& tail) {
    if (path.size() < tail.size()) return false;
    for (size_t i = 0; i < tail.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(path[path.size() - tail.size() + i])) != tail[i])
        return false;
    }
    return true;
  };
  if (ends_with(".copc.laz")) {
    throw ArgumentError(component, path + ": writing COPC is not supported; name the output .laz "
                                          "(plain LAZ) or .las");
  }
  if (ends_with(".laz")) return true;
  if (ends_with(".las")) return false;
  throw ArgumentError(component, path + ": the output name must end in .las or .laz (it chooses "
                                        "uncompressed or LAZ)");
}

namespace {

std::string num(uint64_t v) { return std::to_string(v); }

uint8_t min_minor_for(uint8_t point_format) {
  return point_format >= 6 ? 4 : point_format >= 4 ? 3 : 2;
}

// Global-encoding bits defined by each version: 1.2 bit 0, 1.3 bits 0-2, 1.4 bits 0-4.
uint16_t encoding_mask(uint8_t minor) { return minor >= 4 ? 0x1F : minor == 3 ? 0x07 : 0x01; }

// Names the reader invents for bytes without a descriptor follow the record offset.
bool is_generated_name(const ExtraDim& d) {
  return d.name == "extra_bytes_" + std::to_string(d.offset);
}

void check_scale_offset(const std::array<double, 3>& scale, const std::array<double, 3>& offset) {
  for (int a = 0; a < 3; ++a) {
    if (!std::isfinite(scale[a]) || scale[a] == 0.0 || !std::isfinite(offset[a]))
      throw ArgumentError("las", std::string(1, "xyz"[a]) + " scale/offset (" +
                                     std::to_string(scale[a]) + ", " + std::to_string(offset[a]) +
                                     ") must be finite with a non-zero scale");
  }
}

}  // namespace

LasFileInfo make_las_info(uint8_t point_format, const std::array<double, 3>& scale,
                          const std::array<double, 3>& offset) {
  LasFileInfo info;
  LasHeader& h = info.header;
  h.point_format = point_format;
  h.record_length = uint16_t(point_format_base_size(point_format));
  h.version_minor = min_minor_for(point_format);
  h.scale = scale;
  h.offset = offset;
  h.system_id = "lidarhd";
  if (point_format >= 6) h.global_encoding = 0x10;  // WKT CRS, as the spec asks for PDRF 6-10
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (gmtime_r(&now, &tm)) {
    h.creation_day = uint16_t(tm.tm_yday + 1);
    h.creation_year = uint16_t(tm.tm_year + 1900);
  }
  return info;
}

struct LasWriter::Impl {
  std::string path;
  WriteOptions opt;
  LasHeader h;
  std::vector<Vlr> vlrs, evlrs;
  std::vector<ExtraDim> dims;
  std::string source_path;
  std::unique_ptr<detail::AtomicFile> file;
  bool started = false, closed = false;

  // Statistics of the records written.
  // Header statistics of the records written so far. LAZ chunks compute theirs on the encoding
  // threads and merge them in order, so no pass over the records stays serial.
  struct Stats {
    int32_t lo[3] = {INT32_MAX, INT32_MAX, INT32_MAX}, hi[3] = {INT32_MIN, INT32_MIN, INT32_MIN};
    uint64_t by_return[16] = {};

    void add(const uint8_t* recs, uint64_t n, uint32_t rl, uint8_t ret_mask) {
      for (uint64_t i = 0; i < n; ++i) {
        const uint8_t* r = recs + i * rl;
        for (int a = 0; a < 3; ++a) {
          const int32_t v = detail::i32_at(r + 4 * a);
          lo[a] = std::min(lo[a], v);
          hi[a] = std::max(hi[a], v);
        }
        ++by_return[r[14] & ret_mask];
      }
    }
    void merge(const Stats& o) {
      for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], o.lo[a]), hi[a] = std::max(hi[a], o.hi[a]);
      for (int r = 0; r < 16; ++r) by_return[r] += o.by_return[r];
    }
  };
  Stats stats;
  uint64_t count = 0;  // records accepted by write_records

  // LAZ state.
  std::vector<laz::detail::Item> items;
  uint64_t pointer_at = 0;         // the i64 chunk-table offset
  std::vector<uint8_t> pending;    // records of the buffered chunks (complete ones, then open)
  std::vector<uint64_t> complete;  // point counts of the complete buffered chunks
  uint64_t open_points = 0;
  std::vector<ChunkInfo> chunks;

  bool variable() const { return opt.chunk_size == kVariableChunks; }
  uint64_t chunk_limit() const { return variable() ? kDefaultChunkSize : opt.chunk_size; }

  void check_usable(const char* what) const {
    if (closed) throw ArgumentError("las", std::string(what) + ": " + path + " is already closed");
  }

  void start() {
    if (started) return;
    started = true;
    std::vector<Vlr> out_vlrs = vlrs;
    if (!dims.empty()) out_vlrs.push_back(detail::make_extra_bytes_vlr(dims));
    if (opt.compressed) {
      const uint32_t extra = h.record_length - point_format_base_size(h.point_format);
      const LaszipInfo z = detail::laszip_info_for(h.point_format, extra, opt.chunk_size);
      for (const auto& it : z.items) items.push_back({it.type, it.size, it.version});
      out_vlrs.push_back(detail::make_laszip_vlr(z));
    }
    std::vector<uint8_t> vlr_bytes;
    for (const Vlr& v : out_vlrs) detail::append_vlr(vlr_bytes, v);
    const uint64_t to_points = uint64_t(h.header_size) + vlr_bytes.size();
    if (to_points > 0xFFFFFFFFu)
      throw ArgumentError("las", path + ": the VLRs take " + num(vlr_bytes.size()) +
                                     " bytes, more than a LAS header can point past");
    h.offset_to_points = uint32_t(to_points);
    h.vlr_count = uint32_t(out_vlrs.size());
    file->write(detail::serialize_header(h, opt.compressed));
    file->write(vlr_bytes);
    if (opt.compressed) {
      pointer_at = file->position();
      const int64_t placeholder = 0;
      file->write(&placeholder, 8);
    }
  }

  uint8_t return_mask() const { return h.point_format >= 6 ? 15 : 7; }

  void finish_chunk() {
    complete.push_back(open_points);
    open_points = 0;
    // Rounds of 16 chunks per thread by default: fewer barriers keep both threads busy (1.6x
    // instead of 1.4x with 4 per round on 2 cores); memory stays bounded by the round.
    if (complete.size() >= round_chunks()) encode_complete();
  }

  size_t round_chunks() const {
    return std::max(1u, opt.chunks_per_round) * size_t(std::max(1u, opt.threads));
  }

  std::vector<uint8_t> encode_one(const uint8_t* recs, uint64_t n) const {
    return h.point_format >= 6 ? laz::detail::encode_layered_chunk(items, recs, n)
                               : laz::detail::encode_pointwise_chunk(items, recs, n);
  }

  // Encodes the complete buffered chunks (in parallel) and writes them in order.
  void encode_complete() {
    if (complete.empty()) return;
    const uint64_t used = encode_round(pending.data(), complete);
    pending.erase(pending.begin(), pending.begin() + ptrdiff_t(used * h.record_length));
    complete.clear();
  }

  // Encodes chunks of `counts` points laid out one after the other from `base` (in parallel),
  // writes them in order and returns the points used.
  uint64_t encode_round(const uint8_t* base, const std::vector<uint64_t>& counts) {
    const size_t k = counts.size();
    if (k == 0) return 0;
    const uint32_t rl = h.record_length;
    std::vector<uint64_t> first(k, 0);
    for (size_t i = 1; i < k; ++i) first[i] = first[i - 1] + counts[i - 1];
    std::vector<std::vector<uint8_t>> encoded(k);
    std::vector<Stats> chunk_stats(k);
    const auto job = [&](size_t i) {
      const uint8_t* recs = base + first[i] * rl;
      chunk_stats[i].add(recs, counts[i], rl, return_mask());
      encoded[i] = encode_one(recs, counts[i]);
    };
    const size_t n_threads = std::min<size_t>(std::max(1u, opt.threads), k);
    if (n_threads <= 1) {
      for (size_t i = 0; i < k; ++i) job(i);
    } else {
      std::atomic<size_t> next{0};
      std::exception_ptr error;
      size_t error_chunk = SIZE_MAX;
      std::mutex mutex;
      std::vector<std::thread> threads;
      for (size_t t = 0; t < n_threads; ++t) {
        threads.emplace_back([&] {
          for (size_t i; (i = next.fetch_add(1)) < k;) {
            try {
              job(i);
            } catch (...) {
              // Report the first failing chunk in file order, whatever the timing.
              std::lock_guard<std::mutex> lock(mutex);
              if (i < error_chunk) error_chunk = i, error = std::current_exception();
            }
          }
        });
      }
      for (auto& th : threads) th.join();
      if (error) std::rethrow_exception(error);
    }
    uint64_t point = chunks.empty() ? 0 : chunks.back().first_point + chunks.back().point_count;
    for (size_t i = 0; i < k; ++i) {
      stats.merge(chunk_stats[i]);
      chunks.push_back({point, counts[i], file->position(), encoded[i].size()});
      file->write(encoded[i]);
      point += counts[i];
      std::vector<uint8_t>().swap(encoded[i]);
    }
    return first[k - 1] + counts[k - 1];
  }

  void finalize_header() {
    h.point_count = count;
    const auto& by_return = stats.by_return;
    h.points_by_return.fill(0);
    h.legacy_points_by_return.fill(0);
    for (int r = 1; r <= 15; ++r) h.points_by_return[r - 1] = by_return[r];
    const bool legacy_fits = count <= 0xFFFFFFFFu;
    if (h.version_minor >= 4 && (h.point_format >= 6 || !legacy_fits)) {
      h.legacy_point_count = 0;  // the spec's rule for PDRF 6-10 (and counts over 32 bits)
    } else {
      h.legacy_point_count = uint32_t(count);
      for (int r = 1; r <= 5; ++r) h.legacy_points_by_return[r - 1] = uint32_t(by_return[r]);
    }
    for (int a = 0; a < 3; ++a) {
      if (count == 0) {
        h.min[a] = h.max[a] = 0;
        continue;
      }
      const double p = stats.lo[a] * h.scale[a] + h.offset[a];
      const double q = stats.hi[a] * h.scale[a] + h.offset[a];
      h.min[a] = std::min(p, q);
      h.max[a] = std::max(p, q);
    }
  }

  void write_evlrs() {
    h.evlr_count = uint32_t(evlrs.size());
    h.evlr_start = evlrs.empty() ? 0 : file->position();
    std::unique_ptr<ByteSource> src;
    for (const Vlr& v : evlrs) {
      const uint64_t size = v.data.empty() ? v.data_size : v.data.size();
      if (v.user_id == "LASF_Spec" && v.record_id == 65535) h.waveform_start = file->position();
      file->write(detail::evlr_header(v, size));
      if (!v.data.empty() || size == 0) {
        file->write(v.data);
        continue;
      }
      // Payload too large to have been loaded (waveforms): copy it from the source file.
      if (!src) src = open_file_source(source_path);
      std::vector<uint8_t> buf(size_t(1) << 20);
      for (uint64_t done = 0; done < size;) {
        const size_t n = size_t(std::min<uint64_t>(buf.size(), size - done));
        src->read(v.data_offset + done, n, buf.data());
        file->write(buf.data(), n);
        done += n;
      }
    }
  }

  void close() {
    start();
    if (opt.compressed) {
      if (open_points) finish_chunk();
      encode_complete();
      const uint64_t table_at = file->position();
      file->write(laz::detail::encode_chunk_table(chunks, variable()));
      const int64_t pointer = int64_t(table_at);
      file->write_at(pointer_at, &pointer, 8);
    }
    if (h.version_minor >= 4) write_evlrs();
    finalize_header();
    const std::vector<uint8_t> header = detail::serialize_header(h, opt.compressed);
    file->write_at(0, header.data(), header.size());
    file->commit();
  }
};

LasWriter::LasWriter(const std::string& path, const LasFileInfo& source, WriteOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  m.opt = options;
  m.source_path = source.path;
  const LasHeader& s = source.header;
  const int pf = options.point_format < 0 ? s.point_format : options.point_format;
  if (pf > 10)
    throw ArgumentError("las", "point format " + num(uint64_t(pf)) +
                                   " does not exist (LAS defines 0 to 10)");
  const uint8_t need = min_minor_for(uint8_t(pf));
  int minor = options.version_minor;
  if (minor < 0) {
    minor = std::max<int>({s.version_major == 1 ? s.version_minor : 4, need, 2});
  } else if (minor < 2 || minor > 4) {
    throw ArgumentError("las", "LAS version 1." + num(uint64_t(minor)) +
                                   " cannot be written (choose 1.2, 1.3 or 1.4)");
  } else if (minor < need) {
    throw ArgumentError("las", "point format " + num(uint64_t(pf)) + " needs LAS 1." + num(need) +
                                   " or later, not 1." + num(uint64_t(minor)));
  }
  if (m.opt.threads == 0) m.opt.threads = 1;
  if (options.compressed && options.chunk_size == 0)
    throw ArgumentError("laz", "chunk size must be at least 1 point (or 4294967295 for "
                               "variable-size chunks)");

  LasHeader& h = m.h;
  h = s;
  h.version_major = 1;
  h.version_minor = uint8_t(minor);
  h.header_size = detail::header_size_for(h.version_minor);
  h.point_format = uint8_t(pf);
  h.compressed = options.compressed;
  h.software = options.software;
  if (options.scale) h.scale = *options.scale;
  if (options.offset) h.offset = *options.offset;
  check_scale_offset(h.scale, h.offset);
  h.waveform_start = 0;
  h.evlr_start = 0;
  h.evlr_count = 0;

  // Extra bytes keep their order right after the new format's standard fields.
  const uint32_t src_base = point_format_base_size(s.point_format);
  const uint32_t dst_base = point_format_base_size(h.point_format);
  const uint32_t extra = s.record_length > src_base ? s.record_length - src_base : 0;
  if (dst_base + extra > 0xFFFF)
    throw ArgumentError("las", "records would be " + num(dst_base + extra) +
                                   " bytes, over the 65535 LAS allows");
  h.record_length = uint16_t(dst_base + extra);
  for (ExtraDim d : source.extra_dims) {
    const bool generated = is_generated_name(d);
    d.offset = d.offset - src_base + dst_base;
    if (generated) d.name = "extra_bytes_" + std::to_string(d.offset);
    m.dims.push_back(std::move(d));
  }

  // VLRs: the LASzip and Extra Bytes records are regenerated; COPC ones do not describe a plain
  // LAS/LAZ file.
  bool has_wkt = false;
  const auto keep = [](const Vlr& v) {
    return !detail::is_laszip_vlr(v) && !detail::is_extra_bytes_vlr(v) && !detail::is_copc_vlr(v);
  };
  for (const Vlr& v : source.vlrs)
    if (keep(v)) m.vlrs.push_back(v), has_wkt |= detail::is_wkt_vlr(v);
  for (const Vlr& v : source.evlrs) {
    if (!keep(v)) continue;
    has_wkt |= detail::is_wkt_vlr(v);
    if (h.version_minor >= 4) {
      m.evlrs.push_back(v);
    } else if (!v.data.empty() && v.data.size() <= 0xFFFF) {
      Vlr moved = v;  // LAS < 1.4 has no EVLRs: a small one becomes a VLR
      moved.extended = false;
      m.vlrs.push_back(std::move(moved));
    } else if (v.data_size > 0) {
      throw ArgumentError("las", source.path + ": EVLR " + v.user_id + "/" + num(v.record_id) +
                                     " (" + num(v.data_size) +
                                     " bytes) cannot be stored in LAS 1." + num(h.version_minor) +
                                     "; write LAS 1.4");
    }
  }
  h.global_encoding &= encoding_mask(h.version_minor);
  if (h.version_minor >= 4 && h.point_format >= 6 && has_wkt) h.global_encoding |= 0x10;

  // Last, so that a refused option leaves nothing on disk.
  m.file = std::make_unique<detail::AtomicFile>(path);
}

LasWriter::~LasWriter() = default;
LasWriter::LasWriter(LasWriter&&) noexcept = default;
LasWriter& LasWriter::operator=(LasWriter&&) noexcept = default;

ExtraDim LasWriter::add_extra_dim(ExtraDim d) {
  Impl& m = *impl_;
  m.check_usable("add_extra_dim");
  if (m.started)
    throw ArgumentError("las", "add_extra_dim('" + d.name + "') after the first records of " +
                                   m.path + ": add extra dimensions before writing points");
  if (d.name.empty() || d.name.size() > 32)
    throw ArgumentError("las", "extra dimension name '" + d.name + "' is " + num(d.name.size()) +
                                   " bytes; the Extra Bytes VLR holds names of 1 to 32 bytes");
  if (d.description.size() > 32)
    throw ArgumentError("las", "extra dimension '" + d.name + "': description is " +
                                   num(d.description.size()) + " bytes, over the 32 allowed");
  for (const ExtraDim& e : m.dims)
    if (e.name == d.name)
      throw ArgumentError("las", "extra dimension '" + d.name + "' already exists in " + m.path);
  if (d.type == ExtraType::kUndocumented) {
    if (d.size == 0)
      throw ArgumentError("las", "extra dimension '" + d.name + "': raw bytes need a size");
    d.elements = 1;
    d.options = 0;
    d.no_data.reset();
  } else {
    if (uint8_t(d.type) > uint8_t(ExtraType::kF64))
      throw ArgumentError("las", "extra dimension '" + d.name + "' has an unknown type");
    if (d.elements < 1 || d.elements > 3)
      throw ArgumentError("las", "extra dimension '" + d.name + "': 1 to 3 elements, not " +
                                     num(d.elements));
    d.size = extra_type_size(d.type) * d.elements;
    for (uint32_t e = 0; e < d.elements; ++e) {
      if (!std::isfinite(d.scale[e]) || d.scale[e] == 0.0 || !std::isfinite(d.offset_value[e]))
        throw ArgumentError("las", "extra dimension '" + d.name +
                                       "': scale must be finite and non-zero, offset finite");
      if (d.scale[e] != 1.0) d.options |= 0x08;
      if (d.offset_value[e] != 0.0) d.options |= 0x10;
    }
    if (d.no_data) d.options |= 0x01;
  }
  if (uint32_t(m.h.record_length) + d.size > 0xFFFF)
    throw ArgumentError("las", "extra dimension '" + d.name + "' would make records longer than "
                                                              "the 65535 bytes LAS allows");
  d.offset = m.h.record_length;
  m.h.record_length = uint16_t(m.h.record_length + d.size);
  m.dims.push_back(d);
  return d;
}

const LasHeader& LasWriter::header() const { return impl_->h; }
const std::vector<ExtraDim>& LasWriter::extra_dims() const { return impl_->dims; }
uint16_t LasWriter::record_length() const { return impl_->h.record_length; }
uint8_t LasWriter::point_format() const { return impl_->h.point_format; }
const std::string& LasWriter::path() const { return impl_->path; }
uint64_t LasWriter::points_written() const { return impl_->count; }

void LasWriter::write_records(const uint8_t* records, uint64_t n) {
  Impl& m = *impl_;
  m.check_usable("write_records");
  if (n == 0) return;
  if (m.h.version_minor < 4 && m.count + n > 0xFFFFFFFFu)
    throw ArgumentError("las", m.path + ": LAS 1." + num(m.h.version_minor) +
                                   " holds at most 4294967295 points; write LAS 1.4");
  m.start();
  const uint32_t rl = m.h.record_length;
  m.count += n;
  if (!m.opt.compressed) {
    m.stats.add(records, n, rl, m.return_mask());
    m.file->write(records, size_t(n) * rl);
    return;
  }
  while (n > 0) {
    const uint64_t limit = m.chunk_limit();
    if (m.open_points == 0 && m.complete.empty() && n >= limit) {
      // Whole chunks straight from the caller's records: no copy into the buffer.
      const std::vector<uint64_t> counts(std::min<uint64_t>(n / limit, m.round_chunks()), limit);
      const uint64_t used = m.encode_round(records, counts);
      records += used * rl;
      n -= used;
      continue;
    }
    const uint64_t take = std::min(n, limit - m.open_points);
    m.pending.insert(m.pending.end(), records, records + take * rl);
    m.open_points += take;
    records += take * rl;
    n -= take;
    if (m.open_points == m.chunk_limit()) m.finish_chunk();
  }
}

void LasWriter::end_chunk() {
  Impl& m = *impl_;
  m.check_usable("end_chunk");
  if (!m.opt.compressed || !m.variable())
    throw ArgumentError("laz", m.path + ": end_chunk() needs a LAZ file with variable-size "
                                        "chunks (chunk size 4294967295)");
  if (m.open_points) m.finish_chunk();
}

void LasWriter::close() {
  Impl& m = *impl_;
  m.check_usable("close");
  m.closed = true;
  try {
    m.close();
  } catch (...) {
    m.file->abort();
    throw;
  }
}

}  // namespace lidarhd::io
