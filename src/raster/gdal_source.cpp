// GDAL-readable orthophotos as block sources. A folder becomes an in-memory VRT mosaic of its
// rasters. Blocks are read with one RasterIO each (GDAL decodes only the tiles/strips they
// touch); the dataset handle is not thread-safe, so reads are serialised.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <optional>

#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_utils.h>

#include "lidarhd/core/error.hpp"
#include "lidarhd/raster/file_source.hpp"
#include "raster/gdal_util.hpp"

namespace lidarhd::raster {
namespace {

namespace fs = std::filesystem;

bool is_raster_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".tif" || ext == ".tiff" || ext == ".jp2" || ext == ".jpg" || ext == ".jpeg" ||
         ext == ".png" || ext == ".vrt";
}

// "path|size|mtime" for a file, and for a folder the same for every raster in it: a changed
// file gives a new cache identity.
std::string file_identity(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::is_regular_file(p, ec) ? fs::file_size(p, ec) : 0;
  const auto time = fs::last_write_time(p, ec).time_since_epoch().count();
  return p.string() + "|" + std::to_string(size) + "|" + std::to_string(time);
}

class GdalFileSource final : public RasterSource {
 public:
  GdalFileSource(const std::string& path, const FileSourceOptions& options)
      : path_(path), block_size_(options.block_size) {
    if (block_size_ < 16 || block_size_ > 8192) {
      throw ArgumentError("raster", "block size " + std::to_string(block_size_) +
                                        " is outside 16-8192 pixels");
    }
    detail::gdal_init();
    std::error_code ec;
    if (!fs::exists(path, ec)) throw IoError("raster", path + ": no such file or folder");
    CPLErrorReset();
    {
      detail::QuietGdal quiet;
      if (fs::is_directory(path, ec)) {
        ds_ = open_folder();
      } else {
        key_ = file_identity(path);
        ds_ = GDALOpen(path.c_str(), GA_ReadOnly);
      }
    }
    if (!ds_) {
      throw IoError("raster", path + ": GDAL cannot open it (" +
                                  detail::gdal_last_error("not a raster GDAL can read") + ")");
    }
    try {
      describe_dataset(options);
    } catch (...) {
      GDALClose(ds_);
      throw;
    }
  }

  ~GdalFileSource() override { GDALClose(ds_); }

  std::string describe() const override { return path_; }
  std::string cache_key() const override { return "file:" + key_ + "|" + std::to_string(block_size_); }
  const PixelGrid& grid() const override { return grid_; }
  int bands() const override { return bands_; }
  int block_size() const override { return block_size_; }
  std::string crs_wkt() const override { return wkt_; }

  std::vector<BlockPtr> read_blocks(const std::vector<BlockKey>& keys) override {
    std::vector<BlockPtr> out;
    out.reserve(keys.size());
    std::lock_guard<std::mutex> lock(mutex_);
    for (const BlockKey& k : keys) out.push_back(read_block(k));
    return out;
  }

 private:
  GDALDatasetH open_folder() {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(path_)) {
      if (entry.is_regular_file() && is_raster_name(entry.path())) files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      throw IoError("raster", path_ + ": the folder holds no raster (.tif, .jp2, .jpg, .png, .vrt)");
    }
    key_ = "folder:" + path_;
    std::vector<const char*> names;
    for (const auto& f : files) {
      key_ += ";" + file_identity(f);
      names.push_back(f.c_str());
    }
    GDALBuildVRTOptions* opt = GDALBuildVRTOptionsNew(nullptr, nullptr);
    GDALDatasetH vrt = GDALBuildVRT("", static_cast<int>(names.size()), nullptr, names.data(), opt,
                                    nullptr);
    GDALBuildVRTOptionsFree(opt);
    return vrt;
  }

  void describe_dataset(const FileSourceOptions& options) {
    double gt[6];
    if (GDALGetGeoTransform(ds_, gt) != CE_None) {
      throw FormatError("raster", path_ + ": no georeferencing (no GeoTIFF tags and no world file)");
    }
    if (gt[2] != 0 || gt[4] != 0 || gt[1] <= 0 || gt[5] >= 0) {
      throw FormatError("raster", path_ + ": rotated or south-up rasters are not supported; "
                                          "warp it north-up first (gdalwarp)");
    }
    grid_.x0 = gt[0], grid_.y0 = gt[3], grid_.res_x = gt[1], grid_.res_y = -gt[5];
    grid_.width = GDALGetRasterXSize(ds_), grid_.height = GDALGetRasterYSize(ds_);
    const int count = GDALGetRasterCount(ds_);
    if (count < 1) throw FormatError("raster", path_ + ": the raster has no band");
    // A 4th band is alpha in RGBA images; colours never need more than three bands.
    bands_ = std::min(count, 3);
    if (options.bands > 0) bands_ = std::min(bands_, options.bands);
    for (int b = 1; b <= bands_; ++b) {
      GDALRasterBandH band = GDALGetRasterBand(ds_, b);
      if (GDALGetRasterDataType(band) != GDT_Byte) {
        throw FormatError("raster", path_ + ": band " + std::to_string(b) + " is " +
                                        GDALGetDataTypeName(GDALGetRasterDataType(band)) +
                                        "; only 8-bit orthophotos are supported (gdal_translate "
                                        "-ot Byte -scale converts)");
      }
      int has = 0;
      const double nd = GDALGetRasterNoDataValue(band, &has);
      if (has && nd >= 0 && nd <= 255 && nd == std::floor(nd)) nodata_.push_back(static_cast<uint8_t>(nd));
    }
    if (static_cast<int>(nodata_.size()) != bands_) nodata_.clear();  // NoData on some bands only
    // An alpha band or a dataset mask (not a mere NoData value) says which pixels hold data.
    const int flags = GDALGetMaskFlags(GDALGetRasterBand(ds_, 1));
    mask_ = (flags & GMF_PER_DATASET) && !(flags & GMF_ALL_VALID) && !(flags & GMF_NODATA);
    wkt_ = options.crs.empty() ? std::string(GDALGetProjectionRef(ds_)) : detail::crs_to_wkt(options.crs);
    if (!options.crs.empty() && wkt_.empty()) {
      throw ArgumentError("raster", "cannot parse the raster CRS '" + options.crs + "'");
    }
  }

  BlockPtr read_block(const BlockKey& k) {
    const int64_t b = block_size_;
    const int64_t c0 = k.bx * b, r0 = k.by * b;
    const int64_t c1 = std::min(c0 + b, grid_.width), r1 = std::min(r0 + b, grid_.height);
    if (c0 < 0 || r0 < 0 || c0 >= c1 || r0 >= r1) return nullptr;
    auto block = std::make_shared<Block>();
    block->size = block_size_;
    block->bands = bands_;
    block->pixels.assign(size_t(b * b * bands_), 0);
    block->valid.assign(size_t(b * b), kPixelOutside);
    const int w = static_cast<int>(c1 - c0), h = static_cast<int>(r1 - r0);
    std::vector<int> band_map(bands_);
    for (int i = 0; i < bands_; ++i) band_map[i] = i + 1;
    CPLErrorReset();
    detail::QuietGdal quiet;
    if (GDALDatasetRasterIO(ds_, GF_Read, static_cast<int>(c0), static_cast<int>(r0), w, h,
                            block->pixels.data(), w, h, GDT_Byte, bands_, band_map.data(), bands_,
                            static_cast<int>(b * bands_), 1) != CE_None) {
      throw IoError("raster", path_ + ": reading pixels " + std::to_string(c0) + "," +
                                  std::to_string(r0) + " (" + w_h(w, h) + ") failed: " +
                                  detail::gdal_last_error());
    }
    if (mask_) {
      std::vector<uint8_t> mask(size_t(w) * h);
      if (GDALRasterIO(GDALGetMaskBand(GDALGetRasterBand(ds_, 1)), GF_Read, static_cast<int>(c0),
                       static_cast<int>(r0), w, h, mask.data(), w, h, GDT_Byte, 0, 0) != CE_None) {
        throw IoError("raster", path_ + ": reading the mask failed: " + detail::gdal_last_error());
      }
      for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) block->valid[size_t(r * b + c)] = mask[size_t(r) * w + c] ? kPixelData : kPixelNoData;
    } else {
      for (int r = 0; r < h; ++r) std::fill_n(block->valid.begin() + r * b, w, kPixelData);
    }
    if (!nodata_.empty()) mark_nodata(*block, w, h);
    return block;
  }

  // NoData is a pixel whose every band equals its band's NoData value: IGN declares 255, and a
  // saturated white in one band (a bright roof) is data, not a hole.
  void mark_nodata(Block& block, int w, int h) const {
    const int64_t b = block_size_;
    for (int r = 0; r < h; ++r) {
      for (int c = 0; c < w; ++c) {
        const uint8_t* px = &block.pixels[size_t((r * b + c) * bands_)];
        bool all = true;
        for (int k = 0; k < bands_ && all; ++k) all = px[k] == nodata_[k];
        if (all) block.valid[size_t(r * b + c)] = kPixelNoData;
      }
    }
  }

  static std::string w_h(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

  std::string path_, key_, wkt_;
  int block_size_;
  GDALDatasetH ds_ = nullptr;
  PixelGrid grid_;
  int bands_ = 0;
  std::vector<uint8_t> nodata_;  // per band, or empty
  bool mask_ = false;
  std::mutex mutex_;
};

}  // namespace

std::unique_ptr<RasterSource> open_raster_file(const std::string& path,
                                               const FileSourceOptions& options) {
  detail::gdal_init();
  const auto cap = static_cast<GIntBig>(options.gdal_cache_bytes);
  if (cap > 0 && GDALGetCacheMax64() > cap) GDALSetCacheMax64(cap);
  return std::make_unique<GdalFileSource>(path, options);
}

}  // namespace lidarhd::raster
