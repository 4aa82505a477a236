// Synthetic orthophotos of a synthetic scene (`lidarhd synth --ortho / --irc`): the scene seen from
// straight above, rasterised from the same objects the points are drawn from, so that colours
// agree with the LiDAR classes (roofs, tree crowns, cars, roads and bridge, water, fields,
// meadows, gardens, power line). RGB (true colour) and IRC (IGN's false-colour band order: near
// infrared, red, green), 8 bits per band, north-up, covering exactly the tile's square.
//
// The colours are materials (red tiles, slate, bitumen, gravel, asphalt, water, crops, grass,
// leaves) with roof and crown shading from a south-south-east sun and deterministic texture
// noise: the same scene and resolution give the same pixels whatever the thread count. The near
// infrared follows the materials (vegetation bright, water dark) and, for roofs and cars, the
// LiDAR reflectance drawn for the object, so that NIR agrees with the 1064 nm intensities.
//
// Rendering needs no GDAL; writing the GeoTIFF does (without GDAL, write_ortho_geotiff throws).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lidarhd/synth/scene.hpp"

namespace lidarhd::synth {

struct OrthoOptions {
  double resolution = 0.2;  // pixel side, metres (IGN's BD ORTHO: 0.2 m); must divide the tile
  bool rgb = true;          // render the true-colour image
  bool irc = true;          // render the false-colour (NIR, R, G) image
  unsigned threads = 0;     // OpenMP threads; 0: OpenMP's default. Pixels do not depend on it
};

struct OrthoImage {
  int width = 0, height = 0, bands = 0;
  // Pixel-interleaved, rows from north to south:
  //   pixels[(size_t(row) * width + col) * bands + band].
  std::vector<uint8_t> pixels;
  // Lambert-93 of the image's north-west corner (the outer corner of pixel (0, 0)) and the pixel
  // side: the centre of pixel (row, col) is (x0 + (col + 0.5) res, y0 - (row + 0.5) res).
  double x0 = 0, y0 = 0, res = 0;

  bool empty() const { return pixels.empty(); }
  uint8_t at(int row, int col, int band) const {
    return pixels[(size_t(row) * size_t(width) + size_t(col)) * size_t(bands) + size_t(band)];
  }
};

struct Orthophoto {
  OrthoImage rgb;  // bands red, green, blue (empty unless options.rgb)
  OrthoImage irc;  // bands near infrared, red, green (empty unless options.irc)
};

// Throws ArgumentError ("synth: --ortho-resolution ...") unless the resolution is 0.01 to 100 m,
// divides the tile side and gives at most 2.5e8 pixels.
void check_ortho_options(const SceneOptions& scene, const OrthoOptions& options);

// Renders the images of a scene made by build_scene().
Orthophoto render_ortho(const Scene& scene, const OrthoOptions& options = {});

enum class OrthoKind { kRgb, kIrc };

// Writes `image` as a GeoTIFF (EPSG:2154, tiled 256 x 256, DEFLATE with horizontal predictor,
// pixel-interleaved, no timestamp: the same pixels give the same bytes). `path` must end in .tif
// or .tiff; the file appears atomically (temporary file in the same folder, then rename).
// `threads`: compression threads. Returns the file size in bytes.
uint64_t write_ortho_geotiff(const OrthoImage& image, OrthoKind kind, const std::string& path,
                             unsigned threads = 1);

}  // namespace lidarhd::synth
