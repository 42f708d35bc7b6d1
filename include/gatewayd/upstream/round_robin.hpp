#pragma once

#include "gatewayd/upstream/balancer.hpp"

#include <cstddef>
#include <optional>

namespace gw {

// Round robin that skips what is not admitted: each pick starts one past the last choice, so a
// backend that comes back is not flooded and the others keep their turn.
class round_robin final : public balancer {
public:
    std::optional<std::size_t> pick(std::span<const std::shared_ptr<backend>> members,
                                    const candidate_filter& admits) override {
        const std::size_t count = members.size();
        for (std::size_t step = 0; step < count; ++step) {
            const std::size_t candidate = (cursor_ + step) % count;
            if (admits(candidate)) {
                cursor_ = candidate + 1;
                return candidate;
            }
        }
        return std::nullopt;
    }

private:
    std::size_t cursor_ = 0;
};

}  // namespace gw
