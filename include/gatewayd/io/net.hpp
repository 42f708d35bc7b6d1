#pragma once

// The Asio types the daemon's coroutines, sockets and timers use: bound to the event loop's
// concrete executor instead of the type-erased any_io_executor, whose copy, destruction and
// property queries on every co_await took about a quarter of the proxy's own CPU.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace gw::net {

using executor = boost::asio::io_context::executor_type;
template <class T>
using awaitable = boost::asio::awaitable<T, executor>;
using tcp = boost::asio::ip::tcp;
using socket = tcp::socket::rebind_executor<executor>::other;
using acceptor = tcp::acceptor::rebind_executor<executor>::other;
using resolver = tcp::resolver::rebind_executor<executor>::other;
using steady_timer = boost::asio::steady_timer::rebind_executor<executor>::other;
using tcp_stream = boost::beast::basic_stream<tcp, executor, boost::beast::unlimited_rate_policy>;

inline constexpr boost::asio::use_awaitable_t<executor> use_awaitable{};
// Errors as values: co_await yields a tuple of (error_code, result...).
inline constexpr auto nothrow = boost::asio::as_tuple(use_awaitable);

// What Asio waits on, chosen when it is compiled (the start-up line names it). io_uring builds
// are possible but measured slower (docs/performance-analysis.md), so releases use epoll.
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
inline constexpr const char* reactor_name = "io_uring";
#elif defined(BOOST_ASIO_HAS_EPOLL)
inline constexpr const char* reactor_name = "epoll";
#else
inline constexpr const char* reactor_name = "select";
#endif

}  // namespace gw::net
