#include "gatewayd/redis/redirect_policy.hpp"

namespace gw {

redirect_step redirect_policy::fail(std::string_view reason, bool refresh) {
    redirect_step step;
    step.what = redirect_step::action::store_error;
    step.reason = reason;
    step.refresh = refresh;
    return step;
}

redirect_step redirect_policy::next(const std::optional<redis_reply>& reply, std::string_view asked_host) {
    // A node that does not answer may have failed over: the map may be stale.
    if (!reply) return fail("no answer", true);
    const redis_error error = classify_error(*reply, asked_host);
    redirect_step step;
    switch (error.what) {
    case redis_error::kind::none:
        return step;
    case redis_error::kind::moved:
        if (++redirects_ > max_redirects) return fail("too many redirects", true);
        step.what = redirect_step::action::send_to;
        step.target = error.target;
        step.slot = error.slot;
        step.move_slot = true;
        step.refresh = true;
        asking_ = false;
        return step;
    case redis_error::kind::ask:
        // An ASKING command sent elsewhere again means the migration moved on: start over later.
        if (asked_) return fail("ASK after ASK");
        if (++redirects_ > max_redirects) return fail("too many redirects", true);
        asked_ = true;
        asking_ = true;
        step.what = redirect_step::action::ask;
        step.target = error.target;
        step.slot = error.slot;
        return step;
    case redis_error::kind::tryagain:
        if (++retries_ > max_retries) return fail("TRYAGAIN");
        step.what = redirect_step::action::wait_then_send;
        step.wait = std::chrono::milliseconds(5 << (retries_ - 1));
        asking_ = false;
        asked_ = false;
        return step;
    case redis_error::kind::noscript:
        if (script_text_) return fail("NOSCRIPT after EVAL");
        script_text_ = true;
        step.what = redirect_step::action::script_text;
        return step;
    case redis_error::kind::clusterdown:
        return fail("CLUSTERDOWN", true);
    case redis_error::kind::readonly:
        return fail("READONLY", true);
    case redis_error::kind::other:
        break;
    }
    return fail("error reply");
}

}  // namespace gw
