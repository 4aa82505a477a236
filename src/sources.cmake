# Explicit source lists, one block per component (architecture.md convention 10).
set(LIDARHD_SOURCES
  # core
  src/core/device.cpp
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
  # io/laz: pointwise items (compressors 1 and 2)
  src/io/laz/point10.cpp
  src/io/laz/gpstime11.cpp
  src/io/laz/rgb12.cpp
  src/io/laz/byte10.cpp
  src/io/laz/pointwise_chunk.cpp
  # io/laz: layered items (compressor 3)
  src/io/laz/point14.cpp
  src/io/laz/rgb14.cpp
  src/io/laz/byte14.cpp
  src/io/laz/layered_chunk.cpp
  # io: reading files
  src/io/copc/copc.cpp
  src/io/reader.cpp
)
set(LIDARHD_CUDA_SOURCES
  src/core/device_cuda.cu
  src/core/point_stats_cuda.cu
)
set(LIDARHD_APP_SOURCES
  apps/lidarhd/main.cpp
  apps/lidarhd/cmd_info.cpp
)
