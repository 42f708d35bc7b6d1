#include "gatewayd/io/timed_stream.hpp"

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

}  // namespace gw
