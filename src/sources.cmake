# Explicit source lists, one block per component (architecture.md convention 10).
set(LIDARHD_SOURCES
  # core
  src/core/device.cpp
  src/core/host_memory.cpp
  src/core/simd.cpp
  src/core/point_stats.cpp
  src/core/point_stats_cpu.cpp
  src/util/sha256.cpp
  # io/las
  src/io/las/header.cpp
  src/io/las/point_format.cpp
  src/io/las/extra_bytes.cpp
  src/io/las/crs.cpp
  src/io/las/point_table.cpp
  # io/laz: container
  src/io/laz/laszip_vlr.cpp
  src/io/laz/chunk_table.cpp
  src/io/laz/chunk_table_enc.cpp
  # io/laz: pointwise items (compressors 1 and 2)
  src/io/laz/point10.cpp
  src/io/laz/gpstime11.cpp
  src/io/laz/rgb12.cpp
  src/io/laz/byte10.cpp
  src/io/laz/wavepacket13.cpp
  src/io/laz/pointwise_chunk.cpp
  src/io/laz/point10_enc.cpp
  src/io/laz/gpstime11_enc.cpp
  src/io/laz/rgb12_enc.cpp
  src/io/laz/byte10_enc.cpp
  src/io/laz/pointwise_chunk_enc.cpp
  # io/laz: layered items (compressor 3)
  src/io/laz/point14.cpp
  src/io/laz/rgb14.cpp
  src/io/laz/byte14.cpp
  src/io/laz/wavepacket14.cpp
  src/io/laz/layered_chunk.cpp
  src/io/laz/point14_enc.cpp
  src/io/laz/rgb14_enc.cpp
  src/io/laz/byte14_enc.cpp
  src/io/laz/layered_chunk_enc.cpp
  # io: reading files
  src/io/byte_source.cpp
  src/io/copc/copc.cpp
  src/io/reader.cpp
  # io: writing files
  src/io/atomic_file.cpp
  src/io/las/header_write.cpp
  src/io/las/point_convert.cpp
  src/io/las/writer.cpp
  # spatial: exact neighbour search
  src/spatial/neighbors.cpp
  src/spatial/grid_cpu.cpp
  # features: per-point feature catalogue (docs/features.md)
  src/features/catalog.cpp
  src/features/ground.cpp
  src/features/features.cpp
  src/features/features_cpu.cpp
  # synth: synthetic scenes for demos, tests and benchmarks
  src/synth/layout.cpp
  src/synth/pulses.cpp
  src/synth/scene.cpp
  src/synth/ortho.cpp
  # raster: blocks, caches and sampling for colourisation (no GDAL needed)
  src/raster/block_cache.cpp
  src/raster/sample.cpp
  src/raster/sample_cpu.cpp
  src/raster/colorize.cpp
  src/raster/colorize_file.cpp
)
# raster sources that need GDAL/libcurl (LIDARHD_GDAL=ON), and what replaces them without
set(LIDARHD_GDAL_SOURCES
  src/synth/ortho_write.cpp  # synth --ortho / --irc: GeoTIFF output
  src/raster/gdal_util.cpp
  src/raster/gdal_source.cpp
  src/raster/crs_transform.cpp
  src/raster/http.cpp
  src/raster/wms_source.cpp
  src/raster/wms_image.cpp
)
set(LIDARHD_NO_GDAL_SOURCES
  src/raster/no_gdal.cpp
)
# patches: binning, sampling, augmentation, labels (no external dependency)
# data/labels.json is compiled into the library (embedded.cpp.in), so the binary needs no data
# folder at run time; editing the JSON re-runs the configure step.
file(READ "${PROJECT_SOURCE_DIR}/data/labels.json" LIDARHD_LABELS_JSON)
configure_file(src/patches/embedded.cpp.in "${PROJECT_BINARY_DIR}/generated/embedded.cpp" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${PROJECT_SOURCE_DIR}/data/labels.json")
list(APPEND LIDARHD_SOURCES
  src/patches/patches.cpp
  src/patches/patches_cpu.cpp
  src/patches/patches_fps.cpp
  src/patches/labels.cpp
  "${PROJECT_BINARY_DIR}/generated/embedded.cpp"
  src/patches/dataset_common.cpp  # record checks, split by tile
  src/patches/dataset_laz.cpp     # LAZ patches (io::LasWriter only)
)
# dataset writers and configs that need HDF5/libzip/yaml-cpp (LIDARHD_DATASETS=ON)
set(LIDARHD_DATASET_SOURCES
  src/io/npz/npy.cpp
  src/io/npz/zip_writer.cpp
  src/io/hdf5/h5_util.cpp
  src/patches/dataset_npz.cpp
  src/patches/dataset_hdf5.cpp
  src/patches/dataset_metadata.cpp
  src/pipeline/config.cpp
  src/pipeline/inputs.cpp
  src/pipeline/manifest.cpp
  src/pipeline/outputs.cpp
  src/pipeline/stream_tile.cpp
  src/pipeline/tile.cpp
  src/pipeline/chunked_features.cpp
  src/pipeline/run_common.cpp
  src/pipeline/run.cpp
)
set(LIDARHD_NO_DATASET_SOURCES
  src/patches/no_datasets.cpp
)
set(LIDARHD_CUDA_SOURCES
  src/core/device_cuda.cu
  src/core/point_stats_cuda.cu
  src/spatial/grid_cuda.cu
  src/features/features_cuda.cu
  src/raster/sample_cuda.cu
  src/patches/patches_cuda.cu
)
set(LIDARHD_APP_SOURCES
  apps/lidarhd/main.cpp
  apps/lidarhd/cmd_info.cpp
  apps/lidarhd/cmd_features.cpp
  apps/lidarhd/cmd_convert.cpp
  apps/lidarhd/cmd_synth.cpp
  apps/lidarhd/cmd_colorize.cpp
  apps/lidarhd/cmd_process.cpp
)
