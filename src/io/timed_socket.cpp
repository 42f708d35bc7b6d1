#include "gatewayd/io/timed_socket.hpp"

#include <boost/beast/core/error.hpp>

namespace gw {

timed_socket::timed_socket(net::socket socket) : state_(std::make_shared<state>(std::move(socket))) {}

timed_socket::~timed_socket() {
    state_->deadline = clock::time_point::max();
    ++state_->generation;
    state_->timer.cancel();
    boost::system::error_code ignored;
    state_->socket.close(ignored);
}

void timed_socket::expires_after(clock::duration timeout, on_expiry action) {
    // The precise clock: the coarse one can lag it by more than its stated resolution (7 ms seen
    // against 4 ms), and a deadline computed from it could then fire early.
    expires_at(clock::now() + timeout, action);
}

void timed_socket::expires_at(clock::time_point deadline, on_expiry action) {
    state& s = *state_;
    s.deadline = deadline;
    s.action = action;
    s.expired = false;
    // A wait armed for this deadline or earlier re-arms itself when it fires.
    if (deadline != clock::time_point::max() && (!s.waiting || deadline < s.armed_for)) arm(state_);
}

boost::system::error_code timed_socket::outcome(const boost::system::error_code& ec) const {
    if (ec && state_->expired) return boost::beast::error::timeout;
    return ec;
}

void timed_socket::arm(const std::shared_ptr<state>& shared) {
    state& s = *shared;
    s.armed_for = s.deadline;
    s.waiting = true;
    const std::uint64_t generation = ++s.generation;
    s.timer.expires_at(s.deadline);
    s.timer.async_wait([shared, generation](const boost::system::error_code&) {
        state& s = *shared;
        if (generation != s.generation) return;
        s.waiting = false;
        if (s.deadline == clock::time_point::max()) return;
        if (clock::now() < s.deadline) {
            arm(shared);
            return;
        }
        s.expired = true;
        boost::system::error_code ignored;
        if (s.action == on_expiry::cancel) {
            s.socket.cancel(ignored);
        } else {
            s.socket.close(ignored);
        }
    });
}

}  // namespace gw
