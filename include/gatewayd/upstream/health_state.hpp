#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gw {

// Up/down of one backend from consecutive probe results: `unhealthy_threshold` bad probes in a
// row take it down, `healthy_threshold` good ones bring it back; a passive failure takes it down
// at once.
class health_state {
public:
    health_state(std::uint64_t healthy_threshold, std::uint64_t unhealthy_threshold)
        : healthy_threshold_(healthy_threshold), unhealthy_threshold_(unhealthy_threshold) {}

    bool healthy() const { return healthy_; }

    // New thresholds apply from the next probe; the current run and state are kept.
    void set_thresholds(std::uint64_t healthy_threshold, std::uint64_t unhealthy_threshold) {
        healthy_threshold_ = healthy_threshold;
        unhealthy_threshold_ = unhealthy_threshold;
    }

    // Returns true when this result changed healthy().
    bool record_probe(bool good);
    bool mark_down();

private:
    std::uint64_t healthy_threshold_;
    std::uint64_t unhealthy_threshold_;
    std::uint64_t good_in_row_ = 0;
    std::uint64_t bad_in_row_ = 0;
    bool healthy_ = true;
};

// The status code of an HTTP/1.x status line ("HTTP/1.1 200 OK"), if it is one.
std::optional<unsigned> parse_status_line(std::string_view line);

}  // namespace gw
