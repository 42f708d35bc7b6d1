#pragma once

#include "gatewayd/io/net.hpp"
#include "gatewayd/io/timed_socket.hpp"
#include "gatewayd/tls/ssl_handle.hpp"
#include "gatewayd/tls/tls_ops.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <sys/socket.h>

#include <cstddef>
#include <utility>

namespace gw {

// A timed_socket that may carry TLS: the connection loop, the relay and the exchange read and
// write through it the same way either way. Plain TCP goes straight to the socket (one test of
// a null pointer more than before); TLS goes through tls_ops, under the same deadline.
class timed_stream {
public:
    using executor_type = net::executor;
    using clock = timed_socket::clock;
    using on_expiry = timed_socket::on_expiry;

    explicit timed_stream(net::socket socket) : socket_(std::move(socket)) {}
    explicit timed_stream(const net::executor& executor) : socket_(executor) {}
    timed_stream(const timed_stream&) = delete;
    timed_stream& operator=(const timed_stream&) = delete;

    timed_socket& timed() { return socket_; }
    net::socket& socket() { return socket_.socket(); }
    executor_type get_executor() { return socket_.get_executor(); }

    void expires_at(clock::time_point deadline, on_expiry action = on_expiry::close) {
        socket_.expires_at(deadline, action);
    }
    void expires_after(clock::duration timeout, on_expiry action = on_expiry::close) {
        socket_.expires_after(timeout, action);
    }
    void expires_never() { socket_.expires_never(); }
    bool timed_out() const { return socket_.timed_out(); }
    boost::system::error_code outcome(const boost::system::error_code& ec) const { return socket_.outcome(ec); }

    // TLS from now on over the open socket; the handshake is the caller's next step.
    void start_tls(tls::ssl_ptr ssl);
    bool secure() const { return ssl_ != nullptr; }
    SSL* ssl() const { return ssl_.get(); }

    // Sends close_notify when TLS is up (without waiting for the peer's), then closes the
    // socket; the TLS session goes with it.
    void close();

    // A pooled connection (its socket, and its TLS session unless it is plain) taken in; and
    // the TLS session given up when the socket goes back to the pool. Moved once each way.
    void adopt(net::socket& socket, tls::ssl_ptr& ssl);
    tls::ssl_ptr release_tls() { return std::move(ssl_); }

    template <class Token>
    auto async_handshake(Token&& token) {
        return tls::async_handshake(ssl_.get(), socket_.socket(), std::forward<Token>(token));
    }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        if (ssl_) [[unlikely]] {
            return tls::async_read_some(ssl_.get(), socket_.socket(), buffers, std::forward<Token>(token));
        }
        return socket_.async_read_some(buffers, std::forward<Token>(token));
    }
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        if (ssl_) [[unlikely]] {
            return tls::async_write_some(ssl_.get(), socket_.socket(), buffers, std::forward<Token>(token));
        }
        return socket_.async_write_some(buffers, std::forward<Token>(token));
    }

    // Plain TCP only (the caller checks secure()). What the socket holds now, without waiting:
    // ec is would_block when nothing is there, eof at the end of the stream.
    std::size_t read_some_now(boost::asio::mutable_buffer buffer, boost::system::error_code& ec);

    // Plain TCP only. A write with MSG_MORE: the kernel may keep a last partial segment back
    // until the next write, so a large body goes out in full segments, with fewer packets and
    // fewer wake-ups of the reader. The next plain write, or release_held(), sends it.
    template <class ConstBuffers, class Token>
    auto async_write_some_more(const ConstBuffers& buffers, Token&& token) {
        return socket_.socket().async_send(buffers, MSG_MORE, std::forward<Token>(token));
    }
    // Sends what MSG_MORE kept back (setting TCP_NODELAY again pushes pending segments).
    void release_held();

private:
    timed_socket socket_;
    tls::ssl_ptr ssl_;
};

}  // namespace gw
