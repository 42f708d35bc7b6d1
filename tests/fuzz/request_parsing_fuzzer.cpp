// The request checks that run before anything is forwarded, on arbitrary bytes: the head
// scanner, the body decoder, path normalisation and Host validation. Never crash, and
// - the head scanner and the chunked decoder give the same answer however the bytes are split;
// - a normalised path is a fixed point, starts with '/', and has no dot segment left;
// - a valid Host holds no byte that could end a header or a request line.
#include "fuzz_check.hpp"

#include "gatewayd/http/body_decoder.hpp"
#include "gatewayd/http/host_header.hpp"
#include "gatewayd/http/request_head_scanner.hpp"
#include "gatewayd/http/request_path.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace {

void check_head(std::string_view bytes, std::size_t split) {
    gw::request_head_scanner whole(4096);
    const auto once = whole.scan(bytes);
    gw::request_head_scanner pieces(4096);
    auto twice = pieces.scan(bytes.substr(0, split));
    if (twice.verdict == gw::head_verdict::need_more) twice = pieces.scan(bytes);
    FUZZ_CHECK(once.verdict == twice.verdict);
    if (once.verdict != gw::head_verdict::complete) return;
    FUZZ_CHECK(once.skip == twice.skip && once.size == twice.size);
    FUZZ_CHECK(once.skip + once.size <= bytes.size() && once.size <= 4096);
    FUZZ_CHECK(bytes.substr(once.skip, once.size).ends_with("\r\n\r\n"));
}

struct decoded {
    std::string body;
    std::size_t consumed = 0;
    bool done = false;
    bool failed = false;
};

decoded decode_chunked(std::string_view wire, std::size_t piece, std::size_t room_size) {
    gw::body_decoder decoder = gw::body_decoder::chunked(1 << 20);
    decoded out;
    std::string room(room_size, '\0');
    std::size_t fed = 0;
    // Bounded: every round either consumes a byte or produces one, or the loop ends.
    while (!decoder.done() && !decoder.failed() && fed < wire.size()) {
        const std::string_view available = wire.substr(fed, piece);
        const auto step = decoder.decode({available.data(), available.size()}, room);
        FUZZ_CHECK(step.consumed <= available.size() && step.produced <= room.size());
        if (step.consumed == 0 && step.produced == 0) break;
        out.body.append(room.data(), step.produced);
        fed += step.consumed;
    }
    out.consumed = fed;
    out.done = decoder.done();
    out.failed = decoder.failed();
    return out;
}

void check_chunked(std::string_view wire, std::size_t piece, std::size_t room) {
    const auto whole = decode_chunked(wire, wire.size() + 1, 1 << 16);
    const auto split = decode_chunked(wire, piece, room);
    FUZZ_CHECK(whole.done == split.done && whole.failed == split.failed);
    if (whole.done) FUZZ_CHECK(whole.body == split.body && whole.consumed == split.consumed);
}

void check_path(std::string_view target, const gw::path_rules& rules) {
    const auto out = gw::normalize_path(target, rules);
    if (out.problem) return;
    const std::string result = out.target ? *out.target : std::string(target);
    FUZZ_CHECK(result.starts_with('/'));
    const std::string_view path = std::string_view(result).substr(0, result.find('?'));
    FUZZ_CHECK(path.find("/./") == std::string_view::npos && path.find("/../") == std::string_view::npos);
    FUZZ_CHECK(!path.ends_with("/.") && !path.ends_with("/.."));
    if (rules.merge_slashes) FUZZ_CHECK(path.find("//") == std::string_view::npos);
    const auto again = gw::normalize_path(result, rules);
    FUZZ_CHECK(!again.problem && !again.target);
}

void check_host(std::string_view value) {
    if (!gw::valid_host(value)) return;
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        FUZZ_CHECK(u > 0x20 && u < 0x7f && c != '/' && c != '?' && c != '#' && c != '@');
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t piece = data[0] % 16 + 1;
    const std::size_t room = data[1] % 8 + 1;
    const std::string_view bytes{reinterpret_cast<const char*>(data) + 2, size - 2};
    check_head(bytes, bytes.size() * piece / 17);
    check_chunked(bytes, piece, room);
    check_path(bytes, {});
    check_path(bytes, {.reject_encoded_slashes = false, .merge_slashes = false});
    check_host(bytes);
    return 0;
}
