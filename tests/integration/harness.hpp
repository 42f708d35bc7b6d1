// Test harness for the integration suite: real processes, real loopback sockets, bounded waits.
// The pieces live in harness/, one file for each thing the tests fake or drive; this header
// brings them all in, so a test includes just "harness.hpp".
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "harness/basics.hpp"
#include "harness/files_and_processes.hpp"
#include "harness/gateway_process.hpp"
#include "harness/http_client.hpp"
#include "harness/mock_backend.hpp"
#include "harness/ports.hpp"
#include "harness/raw_tcp_server.hpp"
#include "harness/redis_cluster.hpp"
#include "harness/redis_sentinel.hpp"
#include "harness/redis_server.hpp"
#include "harness/scripted_backend.hpp"
#include "harness/test_pki.hpp"
#include "harness/tls_client.hpp"
