// A build without MPI (LIDARHD_MPI=OFF): lidarhd process under mpirun refuses to run instead of
// having every rank process every tile.
#include <algorithm>
#include <cstdlib>

#include "lidarhd/core/error.hpp"
#include "pipeline/run_common.hpp"

namespace lidarhd::pipeline::detail {

int mpi_world_size() {
  const char* v = std::getenv("OMPI_COMM_WORLD_SIZE");
  return v ? std::max(1, std::atoi(v)) : 1;
}

RunSummary run_process_mpi(const ProcessOptions&) {
  throw ArgumentError("process", "started under mpirun, but this build has no MPI support: "
                                 "install libopenmpi-dev and rebuild (LIDARHD_MPI=ON)");
}

}  // namespace lidarhd::pipeline::detail
