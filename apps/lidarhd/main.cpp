#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "lidarhd/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"lidarhd: airborne LiDAR tiles (LAS/LAZ/COPC) to machine-learning-ready data"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lidarhd 0.1.0");
  lidarhd::cli::register_info(app);
  lidarhd::cli::register_features(app);
  lidarhd::cli::register_convert(app);
  lidarhd::cli::register_synth(app);
  lidarhd::cli::register_colorize(app);
  lidarhd::cli::register_process(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const lidarhd::Error& e) {
    std::fprintf(stderr, "lidarhd: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lidarhd: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lidarhd: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
