#pragma once

#include "gatewayd/config/host_port.hpp"
#include "gatewayd/redis/redis_error.hpp"
#include "gatewayd/redis/redis_protocol.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gw {

// What to do next with one command sent to a Redis Cluster, given what the last send got.
struct redirect_step {
    enum class action {
        done,            // the reply is the answer
        store_error,     // give up: the caller's on_store_error decides
        send_to,         // send it again to `target` (after MOVED)
        ask,             // ASKING, then the command, to `target` (after ASK)
        script_text,     // the node lacks the script: the same again as EVAL with its text
        wait_then_send,  // TRYAGAIN: after `wait`, send it again to the slot's owner
    };
    action what = action::done;
    host_port target;
    std::uint16_t slot = 0;
    bool move_slot = false;  // MOVED: `slot` lives on `target` from now on
    bool refresh = false;    // the slot map should be read again (in the background)
    std::chrono::milliseconds wait{};
    std::string_view reason;  // store_error: why, for the log
};

// The redirect rules for one command (I/O-free; the cluster client sends what it says):
// MOVED fixes the slot and asks for a map refresh; ASK is followed once, with ASKING;
// TRYAGAIN waits (5 ms, doubling) and starts over at the slot's owner; NOSCRIPT sends the
// script's text once; CLUSTERDOWN, READONLY, no answer and anything else are store errors.
// At most `max_redirects` MOVED and ASK together, `max_retries` TRYAGAIN.
class redirect_policy {
public:
    static constexpr int max_redirects = 5;
    static constexpr int max_retries = 5;

    // `reply` answered the last send, which went to `asked_host`; nothing: no reply came.
    redirect_step next(const std::optional<redis_reply>& reply, std::string_view asked_host);

    // The next send carries ASKING.
    bool asking() const { return asking_; }
    // The next send is EVAL with the script's text rather than EVALSHA.
    bool script_text() const { return script_text_; }
    int redirects() const { return redirects_; }

private:
    redirect_step fail(std::string_view reason, bool refresh = false);

    int redirects_ = 0;
    int retries_ = 0;
    bool asking_ = false;
    bool asked_ = false;  // an ASK was followed since the last start at the owner
    bool script_text_ = false;
};

}  // namespace gw
