#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gw {

// A client's X-Request-Id is kept only if it is short printable ASCII, so it can go into logs
// and headers as it is.
bool acceptable_request_id(std::string_view id);

// 128 random bits as 32 lowercase hex digits; one generator per event loop, no locking.
class request_id_generator {
public:
    request_id_generator();
    explicit request_id_generator(std::uint64_t seed);
    std::array<char, 32> next();

private:
    std::uint64_t next_word();
    std::array<std::uint64_t, 4> state_{};
};

}  // namespace gw
