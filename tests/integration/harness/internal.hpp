// Helpers the harness sources share among themselves. Not part of what the tests see:
// harness.hpp does not include this header.
#pragma once

#include "harness/basics.hpp"

#include <netinet/in.h>
#include <sys/time.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace it::internal {

// Throws std::runtime_error with `what` and strerror(errno).
[[noreturn]] void fail_errno(std::string_view what);

std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
// Without leading and trailing spaces, tabs, CR and LF.
std::string trim(std::string_view text);

timeval to_timeval(millis timeout);
sockaddr_in loopback(std::uint16_t port);
// A listening loopback socket on a kernel-chosen port.
int listen_loopback(std::uint16_t& port);

// 1, 2, 3, ... over the whole test process: numbers the files that run_to_exit, mock_backend
// and gateway_process write into a test's directory.
int next_file_number();

}  // namespace it::internal
