#pragma once

#include "gatewayd/io/net.hpp"
#include "gatewayd/tls/ssl_handle.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>

namespace gw::tls {

// TLS straight over a socket's descriptor, driven by readiness waits on the event loop, the
// way nginx and HAProxy do it: OpenSSL reads and writes the descriptor itself (no buffer pair
// and copies between it and the socket), and an idle connection keeps no record buffers
// (SSL_MODE_RELEASE_BUFFERS). The socket's deadline works as for plain TCP: closing or
// cancelling the socket ends a pending wait, and so the operation.

// Binds `ssl` to the descriptor. Its BIO sends with MSG_NOSIGNAL: a peer that went away must
// not raise SIGPIPE, which OpenSSL's own socket BIO would.
void attach(SSL* ssl, int fd);

// One non-blocking attempt: done (with the bytes moved), or what to wait for first, or failed.
enum class step_kind { done, want_read, want_write, failed };
struct step_result {
    step_kind kind = step_kind::done;
    std::size_t bytes = 0;
    boost::system::error_code error;  // failed: eof for a close_notify, stream_truncated for a cut
};
step_result handshake_step(SSL* ssl);
step_result read_step(SSL* ssl, void* data, std::size_t size);
step_result write_step(SSL* ssl, const void* data, std::size_t size);

// Sends close_notify without waiting for the peer's: one non-blocking attempt after a finished
// handshake, so that closing never waits on a peer that does not answer.
void send_close_notify(SSL* ssl);

// The largest plaintext of one TLS record: a write of smaller pieces is gathered up to this.
inline constexpr std::size_t max_record = 16 * 1024;
// The most one write operation sends; the caller's write loop asks again for the rest.
inline constexpr std::size_t max_write = 64 * 1024;

namespace detail {

// Drives one step function until it is done or fails, waiting for the socket between attempts.
// A step that completes before any wait is completed through a post, as a socket operation
// that finds its data ready is, so that no handler runs inside its own initiation.
template <class Step>
struct step_op {
    net::socket& socket;
    Step step;
    bool waited = false;
    bool posted = false;
    step_result result{};

    template <class Self>
    void operator()(Self& self, boost::system::error_code wait_error = {}) {
        if (posted) return self.complete(result.error, result.bytes);
        if (wait_error) return self.complete(wait_error, std::size_t{0});
        if (!socket.is_open()) {
            result = {step_kind::failed, 0, boost::asio::error::bad_descriptor};
        } else {
            result = step();
        }
        if (result.kind == step_kind::want_read || result.kind == step_kind::want_write) {
            waited = true;
            socket.async_wait(result.kind == step_kind::want_read ? net::socket::wait_read : net::socket::wait_write,
                              std::move(self));
            return;
        }
        if (waited) return self.complete(result.error, result.bytes);
        posted = true;
        boost::asio::post(socket.get_executor(), std::move(self));
    }
};

template <class Step>
step_op(net::socket&, Step) -> step_op<Step>;

// Where a write's bytes come from: the first piece (pieces that touch in memory count as one)
// when it fills a record, or else the pieces gathered into one record, so that a head, a
// chunk-size line and a body piece do not each become a record and a system call. Movable
// without moving the bytes: the gathered copy lives on the heap.
class write_plan {
public:
    template <class ConstBuffers>
    explicit write_plan(const ConstBuffers& buffers) {
        const auto begin = boost::asio::buffer_sequence_begin(buffers);
        const auto end = boost::asio::buffer_sequence_end(buffers);
        auto it = begin;
        const char* data = nullptr;
        std::size_t size = 0;
        next_piece(it, end, data, size);
        if (data == nullptr) return;
        if (size >= max_record || it == end) {
            data_ = data;
            size_ = std::min(size, max_write);
            return;
        }
        std::size_t total = 0;
        for (auto counted = begin; counted != end && total < max_record; ++counted) {
            total += boost::asio::const_buffer(*counted).size();
        }
        total = std::min(total, max_record);
        gathered_ = std::make_unique_for_overwrite<char[]>(total);
        while (data != nullptr && size_ < total) {
            const std::size_t take = std::min(size, total - size_);
            std::copy_n(data, take, gathered_.get() + size_);
            size_ += take;
            next_piece(it, end, data, size);
        }
        data_ = gathered_.get();
    }

    const char* data() const { return data_; }
    std::size_t size() const { return size_; }

private:
    // The next run of non-empty pieces that follow each other in memory.
    template <class Iterator>
    static void next_piece(Iterator& it, Iterator end, const char*& data, std::size_t& size) {
        data = nullptr;
        size = 0;
        for (; it != end; ++it) {
            const boost::asio::const_buffer piece(*it);
            if (piece.size() == 0) continue;
            const auto* start = static_cast<const char*>(piece.data());
            if (data == nullptr) {
                data = start;
                size = piece.size();
            } else if (data + size == start) {
                size += piece.size();
            } else {
                return;
            }
        }
    }

    const char* data_ = nullptr;
    std::size_t size_ = 0;
    std::unique_ptr<char[]> gathered_;
};

// Writes the whole plan, retrying after a wait with the same bytes, as OpenSSL requires (it
// may hold a record made of them that the socket did not take yet).
struct write_steps {
    SSL* ssl;
    write_plan plan;
    std::size_t written = 0;
    step_result operator()() {
        while (written < plan.size()) {
            auto step = write_step(ssl, plan.data() + written, plan.size() - written);
            if (step.kind != step_kind::done) return step;
            written += step.bytes;
        }
        return {step_kind::done, written, {}};
    }
};

}  // namespace detail

template <class Token>
auto async_handshake(SSL* ssl, net::socket& socket, Token&& token) {
    auto step = [ssl] { return handshake_step(ssl); };
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        detail::step_op{socket, step}, token, socket);
}

template <class MutableBuffers, class Token>
auto async_read_some(SSL* ssl, net::socket& socket, const MutableBuffers& buffers, Token&& token) {
    boost::asio::mutable_buffer target;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
        target = boost::asio::mutable_buffer(*it);
        if (target.size() != 0) break;
    }
    auto step = [ssl, target] { return read_step(ssl, target.data(), target.size()); };
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        detail::step_op{socket, step}, token, socket);
}

template <class ConstBuffers, class Token>
auto async_write_some(SSL* ssl, net::socket& socket, const ConstBuffers& buffers, Token&& token) {
    detail::write_steps steps{ssl, detail::write_plan(buffers)};
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        detail::step_op{socket, std::move(steps)}, token, socket);
}

}  // namespace gw::tls
