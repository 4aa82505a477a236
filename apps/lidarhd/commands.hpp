// Each subcommand registers itself on the root app; main() only dispatches and turns errors
// into one clear line and a non-zero exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace lidarhd::cli {

void register_info(CLI::App& app);
void register_features(CLI::App& app);
void register_convert(CLI::App& app);
void register_synth(CLI::App& app);
void register_colorize(CLI::App& app);
void register_process(CLI::App& app);  // and `config`

}  // namespace lidarhd::cli
