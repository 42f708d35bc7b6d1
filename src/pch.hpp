// Precompiled for the event-loop files: the Asio and Beast headers they all share.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>
#include "gatewayd/io/net.hpp"
