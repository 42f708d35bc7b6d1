#include "gatewayd/upstream/try_outcome.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace std::chrono_literals;
using gw::next_try;

TEST(BreakerOutcome, FiveHundredsAndFailuresBeforeAResponseCountAgainstTheBackend) {
    using gw::breaker_outcome;
    using gw::exchange_stage;
    EXPECT_EQ(gw::breaker_outcome_of(exchange_stage::completed, 200), breaker_outcome::success);
    EXPECT_EQ(gw::breaker_outcome_of(exchange_stage::completed, 404), breaker_outcome::success);
    EXPECT_EQ(gw::breaker_outcome_of(exchange_stage::completed, 499), breaker_outcome::success);
    EXPECT_EQ(gw::breaker_outcome_of(exchange_stage::completed, 500), breaker_outcome::failure);
    EXPECT_EQ(gw::breaker_outcome_of(exchange_stage::completed, 503), breaker_outcome::failure);
    EXPECT_EQ(gw::breaker_outcome_of(exchange_stage::before_response, 0), breaker_outcome::failure);
    EXPECT_EQ(gw::breaker_outcome_of(exchange_stage::client_gone, 0), breaker_outcome::neither);
}

TEST(RetryPolicy, EachFailureLeadsWhereTheContractSays) {
    const struct {
        gw::failed_try failure;
        bool fresh_tried;
        bool body_read;
        next_try expected;
    } cases[] = {
        // A refused or timed-out connect: nothing reached the backend.
        {{.connect_failed = true}, false, false, next_try::other_backend},
        {{.connect_failed = true, .timed_out = true}, false, false, next_try::other_backend},
        {{.connect_failed = true}, false, true, next_try::answer},
        // A pooled connection closed by the backend: once more on a fresh one, not a retry.
        {{.stale = true}, false, false, next_try::fresh_connection},
        {{.stale = true}, true, false, next_try::other_backend},
        {{.stale = true}, false, true, next_try::answer},
        // Reset or garbage before a response.
        {{}, false, false, next_try::other_backend},
        {{}, true, false, next_try::other_backend},
        {{}, false, true, next_try::answer},
        // A backend that timed out holding the request is not handed it again, nor is another.
        {{.timed_out = true}, false, false, next_try::answer},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(gw::after_failed_try(c.failure, c.fresh_tried, c.body_read), c.expected)
            << "connect_failed=" << c.failure.connect_failed << " stale=" << c.failure.stale
            << " timed_out=" << c.failure.timed_out << " fresh_tried=" << c.fresh_tried << " body_read=" << c.body_read;
    }
}

TEST(NoBackendRetryAfter, IsTheSoonestABackendMayBeBack) {
    const struct {
        std::vector<gw::backend_wait> backends;
        std::uint64_t expected;
    } cases[] = {
        {{{true, true, 8'200ms}}, 9},                       // an open breaker: its time left, rounded up
        {{{false, true, 0ms}}, 5},                          // down: one health-check interval
        {{{false, true, 0ms}, {true, true, 2'001ms}}, 3},   // the soonest of them
        {{{true, true, 0ms}}, 1},                           // half-open already: at least 1
        {{{true, false, 0ms}}, 1},                          // no breaker: at least 1
        {{}, 1},                                            // an empty pool
        {{{true, true, 10h}}, 3600},                        // at most an hour
    };
    for (const auto& c : cases) EXPECT_EQ(gw::no_backend_retry_after(c.backends, 5s), c.expected);
}

}  // namespace
