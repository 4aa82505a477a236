# Dependencies: Debian packages installed by scripts/install-deps. Machines without them (the GPU
# machines have no package registry) can pass -DLIDARHD_DEPS_DIR=<folder made by
# scripts/gpu-check --pack>: header-only libraries, GoogleTest sources and a static libcrypto.
set(LIDARHD_DEPS_DIR "" CACHE PATH "Fallback folder of dependencies (scripts/gpu-check --pack)")

find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED)  # CPU parallel_for

# SHA-256 of decoded records (lidarhd info --checksum).
find_package(OpenSSL COMPONENTS Crypto QUIET)
if(NOT OpenSSL_FOUND AND LIDARHD_DEPS_DIR AND EXISTS "${LIDARHD_DEPS_DIR}/include/openssl")
  unset(OPENSSL_INCLUDE_DIR CACHE)
  unset(OPENSSL_CRYPTO_LIBRARY CACHE)
  set(OPENSSL_ROOT_DIR "${LIDARHD_DEPS_DIR}")
  set(OPENSSL_USE_STATIC_LIBS TRUE)
  find_package(OpenSSL COMPONENTS Crypto QUIET)
endif()
if(NOT OpenSSL_FOUND)
  message(FATAL_ERROR "lidarhd: OpenSSL (libcrypto) not found: install libssl-dev (scripts/"
                      "install-deps) or pass -DLIDARHD_DEPS_DIR (scripts/gpu-check --pack)")
endif()

# Header-only libraries: the package's CMake config when installed, else the bare headers.
function(lidarhd_header_only target package header debian)
  find_package(${package} CONFIG QUIET)
  if(TARGET ${target})
    return()
  endif()
  find_path(LIDARHD_${package}_INCLUDE_DIR ${header} HINTS "${LIDARHD_DEPS_DIR}/include")
  if(NOT LIDARHD_${package}_INCLUDE_DIR)
    message(FATAL_ERROR "lidarhd: ${package} (${header}) not found: install ${debian} (scripts/"
                        "install-deps) or pass -DLIDARHD_DEPS_DIR (scripts/gpu-check --pack)")
  endif()
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${LIDARHD_${package}_INCLUDE_DIR}")
  message(STATUS "lidarhd: ${package} headers from ${LIDARHD_${package}_INCLUDE_DIR}")
endfunction()

# JSON: the CLI's --json output, data/labels.json, metadata.json and the run manifest.
lidarhd_header_only(nlohmann_json::nlohmann_json nlohmann_json nlohmann/json.hpp
                    nlohmann-json3-dev)
if(LIDARHD_APP)
  lidarhd_header_only(CLI11::CLI11 CLI11 CLI/CLI.hpp libcli11-dev)  # command-line parsing
endif()

# Colourisation: GDAL reads orthophotos (GeoTIFF, JPEG 2000, VRT mosaics) and decodes WMS images,
# PROJ (through GDAL) reprojects points; libcurl talks to the WMS.
if(LIDARHD_GDAL)
  find_package(GDAL QUIET)
  find_package(CURL QUIET)
  if(NOT GDAL_FOUND OR NOT CURL_FOUND)
    message(FATAL_ERROR "lidarhd: GDAL or libcurl not found: install libgdal-dev and "
                        "libcurl4-openssl-dev (scripts/install-deps), or pass -DLIDARHD_GDAL=OFF "
                        "(no raster sources: lidarhd colorize then refuses to run)")
  endif()
endif()

# Dataset files (HDF5 patches, NPZ = zip of .npy through libzip) and YAML configs (yaml-cpp).
if(LIDARHD_DATASETS)
  find_package(HDF5 COMPONENTS C QUIET)
  # Not libzip's CMake config: Debian's references tools (zipcmp, ...) that libzip-dev lacks.
  find_path(LIDARHD_ZIP_INCLUDE zip.h)
  find_library(LIDARHD_ZIP_LIBRARY zip)
  if(LIDARHD_ZIP_INCLUDE AND LIDARHD_ZIP_LIBRARY AND NOT TARGET lidarhd_zip)
    add_library(lidarhd_zip INTERFACE IMPORTED GLOBAL)
    set_target_properties(lidarhd_zip PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${LIDARHD_ZIP_INCLUDE}"
      INTERFACE_LINK_LIBRARIES "${LIDARHD_ZIP_LIBRARY}")
  endif()
  find_package(yaml-cpp CONFIG QUIET)
  if(NOT HDF5_FOUND OR NOT TARGET lidarhd_zip OR NOT TARGET yaml-cpp)
    message(FATAL_ERROR "lidarhd: HDF5, libzip or yaml-cpp not found: install libhdf5-dev, "
                        "libzip-dev and libyaml-cpp-dev (scripts/install-deps), or pass "
                        "-DLIDARHD_DATASETS=OFF (no dataset files: lidarhd process refuses to run)")
  endif()
endif()

# MPI for lidarhd process across ranks and nodes (OpenMPI from Debian).
if(LIDARHD_DATASETS AND LIDARHD_MPI)
  find_package(MPI COMPONENTS CXX QUIET)
  if(NOT MPI_CXX_FOUND)
    message(FATAL_ERROR "lidarhd: MPI not found: install libopenmpi-dev (scripts/install-deps), "
                        "or pass -DLIDARHD_MPI=OFF")
  endif()
endif()
