#pragma once

#include <cstddef>
#include <optional>

namespace gw {

// Round robin that skips what is not available: each call starts one past the last choice, so
// a backend that comes back is not flooded and the others keep their turn.
class round_robin {
public:
    template <class Available>
    std::optional<std::size_t> next(std::size_t count, Available&& available) {
        for (std::size_t step = 0; step < count; ++step) {
            const std::size_t candidate = (cursor_ + step) % count;
            if (available(candidate)) {
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
