#pragma once

#include <cstdint>
#include <string_view>

namespace gw {

// Redis Cluster spreads keys over this many hash slots.
inline constexpr std::uint16_t cluster_slots = 16384;

// CRC16 (XMODEM: polynomial 0x1021, initial value 0), the checksum Redis Cluster places keys with.
std::uint16_t crc16_xmodem(std::string_view bytes);

// The part of a key that decides its slot: between the first '{' and the first '}' after it when
// that is not empty ("{user1}.a" and "{user1}.b" share a slot); otherwise the whole key.
std::string_view hash_tag(std::string_view key);

// The cluster slot of `key`: CRC16 of its hash tag, modulo 16384.
std::uint16_t key_slot(std::string_view key);

}  // namespace gw
