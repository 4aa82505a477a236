// PointReader: turns a LAS/LAZ/COPC file into records, one "unit" (a LAZ chunk, a COPC node or a
// run of uncompressed records) at a time. Units are independent, so they decode in parallel into
// their final place and the output never depends on the thread count.
#include "lidarhd/io/reader.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "io/copc/copc.hpp"
#include "io/las/le_bytes.hpp"
#include "io/laz/chunk_table.hpp"
#include "io/laz/laszip_vlr.hpp"
#include "io/laz/layered_chunk.hpp"
#include "io/laz/pointwise_chunk.hpp"
#include "lidarhd/core/error.hpp"
#include "util/sha256.hpp"

namespace lidarhd::io {
namespace {

constexpr uint64_t kLasRunPoints = 1u << 16;  // points per unit of an uncompressed file
// A chunk claiming more points than this per compressed byte is rejected before any allocation
// (real LAZ stays far below 100; the bound only stops lying tables from sizing buffers).
constexpr uint64_t kMaxPointsPerByte = 4096;

std::vector<laz::detail::Item> to_items(const LaszipInfo& z) {
  std::vector<laz::detail::Item> items;
  for (const auto& it : z.items) items.push_back({it.type, it.size, it.version});
  return items;
}

// Per-thread decoding state: the item decoders keep their models between chunks.
struct Worker {
  std::unique_ptr<laz::detail::PointwiseChunkDecoder> pointwise;
  std::unique_ptr<laz::detail::LayeredChunkDecoder> layered;
  std::vector<uint8_t> bytes;
};

}  // namespace

struct PointReader::Impl {
  std::unique_ptr<ByteSource> src;
  ReadOptions opt;
  LasFileInfo info;
  std::vector<laz::detail::Item> items;
  std::vector<ChunkInfo> table;   // chunks of the file, in file order
  std::vector<ChunkInfo> units;   // what is read: the table, or the selected COPC nodes
  bool filter_box = false;        // COPC query: keep only points inside opt.box
  uint64_t selected_points = 0;   // points in `units` before box filtering
  Worker main_worker;

  // streaming state
  size_t next_unit = 0;
  std::vector<uint8_t> pending;
  uint64_t pending_points = 0, pending_pos = 0;

  uint32_t reclen() const { return info.header.record_length; }
  bool layered() const { return info.laszip && info.laszip->compressor == 3; }

  std::string unit_name(size_t i) const {
    return info.path + (filter_box || opt.max_level >= 0 ? " COPC node " : " chunk ") +
           std::to_string(i);
  }

  void open() {
    info = read_las_info(*src);
    if (opt.threads == 0) opt.threads = 1;
    if (info.laszip) items = to_items(*info.laszip);
    laz::ChunkTable t = laz::read_chunk_table(*src, info);
    table = std::move(t.chunks);
    if (!t.usable) walk_chunks(t);
    check_plausible(table);
    const bool query = info.copc && (opt.box || opt.max_level >= 0);
    if (query) {
      for (const auto& n : copc::select_nodes(*src, info, opt.box, opt.max_level))
        units.push_back({0, uint64_t(n.point_count), n.offset, uint64_t(n.byte_size)});
      check_plausible(units);
      filter_box = opt.box.has_value();
    } else {
      units = table;
    }
    for (auto& u : units) {
      u.first_point = selected_points;
      selected_points += u.point_count;
    }
    if (!info.laszip) {
      // Uncompressed: split the single run into units so that streaming stays bounded.
      std::vector<ChunkInfo> runs;
      for (uint64_t p = 0; p < selected_points; p += kLasRunPoints) {
        const uint64_t n = std::min(kLasRunPoints, selected_points - p);
        runs.push_back({p, n, info.header.offset_to_points + p * reclen(), n * reclen()});
      }
      units = std::move(runs);
    }
  }

  void check_plausible(const std::vector<ChunkInfo>& chunks) const {
    for (size_t i = 0; i < chunks.size(); ++i) {
      const auto& c = chunks[i];
      if (c.offset > info.file_size || c.bytes > info.file_size - c.offset)
        throw FormatError("laz", unit_name(i) + " lies outside the file (offset " +
                                     std::to_string(c.offset) + ", " + std::to_string(c.bytes) +
                                     " bytes, file has " + std::to_string(info.file_size) + ")");
      if (info.laszip && c.point_count > 1 && c.point_count - 1 > c.bytes * kMaxPointsPerByte)
        throw FormatError("laz", unit_name(i) + " claims " + std::to_string(c.point_count) +
                                     " points in " + std::to_string(c.bytes) +
                                     " bytes, which no LAZ stream can hold");
    }
  }

  // No usable chunk table: find each fixed-size chunk's bytes by decoding the chunks in order
  // (the decoder consumes exactly a chunk's bytes), as LASzip does.
  void walk_chunks(const laz::ChunkTable& t) {
    if (table.empty() && info.header.point_count > 0)
      throw FormatError("laz", t.problem + "; without a chunk table the chunks cannot be found");
    const uint64_t area = t.data_end > t.data_start ? t.data_end - t.data_start : 0;
    std::vector<uint8_t> bytes = src->read_vector(t.data_start, size_t(area));
    std::vector<uint8_t> records;
    uint64_t pos = 0;
    for (size_t i = 0; i < table.size(); ++i) {
      auto& c = table[i];
      if (c.point_count - 1 > (area - pos) * kMaxPointsPerByte)
        throw FormatError("laz", t.problem + "; and " + unit_name(i) + " does not fit the file");
      records.resize(size_t(c.point_count) * reclen());
      const laz::detail::ByteSpan span{bytes.data() + pos, size_t(area - pos)};
      const size_t used = decode_span(main_worker, span, c.point_count, records.data(), i);
      c.offset = t.data_start + pos;
      c.bytes = used;
      pos += used;
    }
  }

  // Decodes one chunk given as bytes; returns the bytes consumed.
  size_t decode_span(Worker& w, laz::detail::ByteSpan span, uint64_t n, uint8_t* out,
                     size_t unit) {
    const std::string what = unit_name(unit);
    if (layered()) {
      if (!w.layered) w.layered = std::make_unique<laz::detail::LayeredChunkDecoder>(items, opt.layers);
      return w.layered->decode(span, n, out, what);
    }
    if (!w.pointwise) w.pointwise = std::make_unique<laz::detail::PointwiseChunkDecoder>(items, what);
    return w.pointwise->decode(span, n, out, what);
  }

  // Decodes unit i into out (unit point_count records) and returns how many records remain after
  // the COPC box filter (kept at the front of out).
  uint64_t decode_unit(Worker& w, size_t i, uint8_t* out) {
    const ChunkInfo& u = units[i];
    if (u.point_count == 0) return 0;
    if (!info.laszip) {
      src->read(u.offset, size_t(u.bytes), out);
    } else {
      w.bytes.resize(size_t(u.bytes));
      src->read(u.offset, w.bytes.size(), w.bytes.data());
      decode_span(w, {w.bytes.data(), w.bytes.size()}, u.point_count, out, i);
    }
    return filter_box ? filter(out, u.point_count) : u.point_count;
  }

  uint64_t filter(uint8_t* recs, uint64_t n) const {
    const auto& h = info.header;
    const Box& box = *opt.box;
    uint64_t kept = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t* r = recs + i * reclen();
      const double x = detail::i32_at(r) * h.scale[0] + h.offset[0];
      const double y = detail::i32_at(r + 4) * h.scale[1] + h.offset[1];
      const double z = detail::i32_at(r + 8) * h.scale[2] + h.offset[2];
      if (!box.contains(x, y, z)) continue;
      if (kept != i) std::memmove(recs + kept * reclen(), r, reclen());
      ++kept;
    }
    return kept;
  }

  // Decodes units [first, last) into out (each at its own slot) on up to opt.threads threads;
  // returns the records kept per unit.
  std::vector<uint64_t> decode_range(size_t first, size_t last, uint8_t* out) {
    std::vector<uint64_t> kept(last - first, 0);
    const uint64_t base = first < units.size() ? units[first].first_point : 0;
    const auto slot = [&](size_t i) { return out + (units[i].first_point - base) * reclen(); };
    const size_t n_threads = std::min<size_t>(opt.threads, last - first);
    if (n_threads <= 1) {
      for (size_t i = first; i < last; ++i) kept[i - first] = decode_unit(main_worker, i, slot(i));
      return kept;
    }
    std::atomic<size_t> next{first};
    std::exception_ptr error;
    size_t error_unit = SIZE_MAX;
    std::mutex error_mutex;
    std::vector<std::thread> threads;
    std::vector<Worker> workers(n_threads);
    for (size_t t = 0; t < n_threads; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i; (i = next.fetch_add(1)) < last;) {
          try {
            kept[i - first] = decode_unit(t == 0 ? main_worker : workers[t], i, slot(i));
          } catch (...) {
            // Report the first failing unit in file order, whatever the thread timing.
            std::lock_guard<std::mutex> lock(error_mutex);
            if (i < error_unit) {
              error_unit = i;
              error = std::current_exception();
            }
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    if (error) std::rethrow_exception(error);
    return kept;
  }

  // Moves each unit's kept records next to the previous ones; returns the total kept.
  uint64_t compact(size_t first, size_t last, const std::vector<uint64_t>& kept, uint8_t* out) {
    uint64_t total = 0;
    const uint64_t base = first < units.size() ? units[first].first_point : 0;
    for (size_t i = first; i < last; ++i) {
      const uint8_t* from = out + (units[i].first_point - base) * reclen();
      const uint64_t n = kept[i - first];
      if (from != out + total * reclen()) std::memmove(out + total * reclen(), from, n * reclen());
      total += n;
    }
    return total;
  }
};

PointReader::PointReader(std::unique_ptr<ByteSource> source, ReadOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->src = std::move(source);
  impl_->opt = options;
  impl_->open();
}

PointReader::PointReader(const std::string& path, ReadOptions options)
    : PointReader(open_file_source(path), options) {}

PointReader::~PointReader() = default;
PointReader::PointReader(PointReader&&) noexcept = default;
PointReader& PointReader::operator=(PointReader&&) noexcept = default;

const LasFileInfo& PointReader::info() const { return impl_->info; }
uint64_t PointReader::point_count() const { return impl_->info.header.point_count; }
uint32_t PointReader::record_length() const { return impl_->reclen(); }
const std::vector<ChunkInfo>& PointReader::chunks() const { return impl_->table; }

std::vector<CopcNode> PointReader::copc_nodes() const {
  if (!impl_->info.copc) return {};
  return copc::select_nodes(*impl_->src, impl_->info, std::nullopt, -1);
}

std::vector<uint8_t> PointReader::read_all_records() {
  Impl& m = *impl_;
  std::vector<uint8_t> out(size_t(m.selected_points) * m.reclen());
  const auto kept = m.decode_range(0, m.units.size(), out.data());
  out.resize(size_t(m.compact(0, m.units.size(), kept, out.data())) * m.reclen());
  m.next_unit = m.units.size();
  return out;
}

uint64_t PointReader::read_batch(std::vector<uint8_t>& records, uint64_t max_points) {
  Impl& m = *impl_;
  if (max_points == 0) throw ArgumentError("io", "read_batch needs max_points > 0");
  const uint32_t rl = m.reclen();
  records.clear();
  uint64_t filled = 0;
  while (filled < max_points) {
    if (m.pending_pos == m.pending_points) {
      if (m.next_unit >= m.units.size()) break;
      // Refill: the next units, one per thread, decoded together.
      const size_t first = m.next_unit;
      const size_t last = std::min(m.units.size(), first + std::max<size_t>(1, m.opt.threads));
      const uint64_t span = m.units[last - 1].first_point + m.units[last - 1].point_count -
                            m.units[first].first_point;
      m.pending.resize(size_t(span) * rl);
      const auto kept = m.decode_range(first, last, m.pending.data());
      m.pending_points = m.compact(first, last, kept, m.pending.data());
      m.pending_pos = 0;
      m.next_unit = last;
      continue;
    }
    const uint64_t take = std::min(max_points - filled, m.pending_points - m.pending_pos);
    const uint8_t* from = m.pending.data() + m.pending_pos * rl;
    records.insert(records.end(), from, from + take * rl);
    m.pending_pos += take;
    filled += take;
  }
  return filled;
}

PointTable PointReader::read_table() {
  const std::vector<uint8_t> recs = read_all_records();
  return records_to_table(impl_->info, recs.data(), recs.size() / impl_->reclen());
}

std::string records_sha256(const std::string& path, unsigned threads) {
  ReadOptions opt;
  opt.threads = threads;
  PointReader reader(path, opt);
  util::Sha256 sha;
  std::vector<uint8_t> batch;
  while (reader.read_batch(batch, 1u << 20) > 0) sha.update(batch.data(), batch.size());
  return sha.hex_digest();
}

}  // namespace lidarhd::io
