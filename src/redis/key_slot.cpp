#include "gatewayd/redis/key_slot.hpp"

#include <array>

namespace gw {

namespace {

// One entry per byte value: the CRC of that byte alone, so a key costs one lookup per byte.
constexpr std::array<std::uint16_t, 256> crc16_table() {
    std::array<std::uint16_t, 256> table{};
    for (unsigned byte = 0; byte < 256; ++byte) {
        unsigned crc = byte << 8;
        for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
        table[byte] = static_cast<std::uint16_t>(crc & 0xFFFF);
    }
    return table;
}

constexpr auto table = crc16_table();

}  // namespace

std::uint16_t crc16_xmodem(std::string_view bytes) {
    unsigned crc = 0;
    for (const char c : bytes) {
        crc = ((crc << 8) ^ table[((crc >> 8) ^ static_cast<unsigned char>(c)) & 0xFF]) & 0xFFFF;
    }
    return static_cast<std::uint16_t>(crc);
}

std::string_view hash_tag(std::string_view key) {
    const auto open = key.find('{');
    if (open == std::string_view::npos) return key;
    const auto close = key.find('}', open + 1);
    if (close == std::string_view::npos || close == open + 1) return key;
    return key.substr(open + 1, close - open - 1);
}

std::uint16_t key_slot(std::string_view key) { return crc16_xmodem(hash_tag(key)) % cluster_slots; }

}  // namespace gw
