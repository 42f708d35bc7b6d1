#include "gatewayd/io/timed_stream.hpp"

#include <boost/asio/error.hpp>

#include <cerrno>

namespace gw {

void timed_stream::start_tls(tls::ssl_ptr ssl) {
    ssl_ = std::move(ssl);
    tls::attach(ssl_.get(), socket().native_handle());
}

void timed_stream::close() {
    if (ssl_ && socket().is_open()) tls::send_close_notify(ssl_.get());
    ssl_.reset();
    boost::system::error_code ignored;
    socket().close(ignored);
}

void timed_stream::adopt(net::socket& socket, tls::ssl_ptr& ssl) {
    // Usually closed already (released to the pool, or closed after the last try): no second close.
    if (ssl_ || this->socket().is_open()) close();
    this->socket() = std::move(socket);
    ssl_ = std::move(ssl);
}

std::size_t timed_stream::read_some_now(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) {
    ec = {};
    if (buffer.size() == 0) return 0;  // recv would say 0, which reads as the end of the stream
    // MSG_DONTWAIT, not the descriptor's flags: Asio keeps its own view of those.
    const auto n = ::recv(socket().native_handle(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) {
        ec = boost::asio::error::eof;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        ec = boost::asio::error::would_block;
    } else {
        ec.assign(errno, boost::system::system_category());
    }
    return 0;
}

void timed_stream::release_held() {
    boost::system::error_code ignored;
    socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
}

}  // namespace gw
