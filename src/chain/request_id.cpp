#include "gatewayd/chain/request_id.hpp"

#include <random>

namespace gw {

bool acceptable_request_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (const char c : id) {
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') return false;
    }
    return true;
}

namespace {

std::uint64_t split_mix(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

request_id_generator::request_id_generator() : request_id_generator(std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32)) {}

request_id_generator::request_id_generator(std::uint64_t seed) {
    for (auto& word : state_) word = split_mix(seed);
}

// xoshiro256**: fast and good enough for identifiers (not for secrets).
std::uint64_t request_id_generator::next_word() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
}

std::array<char, 32> request_id_generator::next() {
    // Two hex digits per byte from a table: this runs for every request.
    static constexpr auto pairs = [] {
        constexpr char digits[] = "0123456789abcdef";
        std::array<char, 512> table{};
        for (int byte = 0; byte < 256; ++byte) {
            table[2 * byte] = digits[byte & 0xf];
            table[2 * byte + 1] = digits[byte >> 4];
        }
        return table;
    }();
    std::array<char, 32> id;
    for (int half = 0; half < 2; ++half) {
        std::uint64_t word = next_word();
        for (int i = 0; i < 8; ++i, word >>= 8) {
            const auto byte = static_cast<std::size_t>(word & 0xff);
            id[half * 16 + 2 * i] = pairs[2 * byte];
            id[half * 16 + 2 * i + 1] = pairs[2 * byte + 1];
        }
    }
    return id;
}

}  // namespace gw
