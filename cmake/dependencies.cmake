# Debian packages (scripts/install-deps installs them).
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)      # SHA-256 of decoded records (lidarhd info --checksum)
find_package(OpenMP REQUIRED)       # CPU parallel_for
find_package(CLI11 REQUIRED)        # command-line parsing
find_package(nlohmann_json REQUIRED)  # JSON output
