#pragma once

#include <array>
#include <string>
#include <string_view>

namespace gw {

// A Lua script as Redis caches it: its text, and the SHA1 that EVALSHA calls it by (computed
// here, as Redis does, so no SCRIPT LOAD round trip is needed to learn it).
class redis_script {
public:
    explicit redis_script(std::string text);

    const std::string& text() const { return text_; }
    std::string_view sha1() const { return {sha1_.data(), sha1_.size()}; }

private:
    std::string text_;
    std::array<char, 40> sha1_{};  // lower-case hex
};

}  // namespace gw
