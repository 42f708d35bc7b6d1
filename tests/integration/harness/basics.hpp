// What every part of the integration harness shares: clock and duration names, paths, sizes.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

namespace it {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using millis = std::chrono::milliseconds;
namespace fs = std::filesystem;

constexpr std::uint64_t mib = 1024 * 1024;

}  // namespace it
