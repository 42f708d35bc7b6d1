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

stream_parts timed_stream::release() {
    return {std::move(socket()), std::move(ssl_)};
}

void timed_stream::adopt(stream_parts parts) {
    close();
    socket() = std::move(parts.socket);
    ssl_ = std::move(parts.ssl);
}

}  // namespace gw
