// load_config_text on arbitrary text: never crash or throw; the answer is either a validated
// config or a list of positioned errors, never both and never neither.
#include "fuzz_check.hpp"

#include "gatewayd/config/config_loader.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view file_name = "fuzz.yaml";

bool valid_route_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

bool in_range(gw::duration value) {
    return value >= gw::duration::zero() && value <= std::chrono::hours{24 * 365};
}

// What the contract promises about any config the loader accepts.
void check_config(const gw::config& settings) {
    FUZZ_CHECK(settings.threads >= 1 && settings.threads <= 256);
    FUZZ_CHECK(settings.client.max_header_bytes >= 1024 && settings.client.max_header_bytes <= 1024 * 1024);
    for (const auto value : {settings.shutdown_timeout, settings.client.header_timeout, settings.client.idle_timeout,
                             settings.client.body_timeout, settings.upstream.connect_timeout, settings.upstream.timeout,
                             settings.upstream.idle_timeout, settings.health_check.interval,
                             settings.health_check.timeout, settings.circuit_breaker.interval,
                             settings.circuit_breaker.open_timeout, settings.rate_limit.window, settings.redis.timeout}) {
        FUZZ_CHECK(in_range(value));
    }
    FUZZ_CHECK(settings.circuit_breaker.failure_ratio > 0.0 && settings.circuit_breaker.failure_ratio <= 1.0);
    FUZZ_CHECK(settings.rate_limit.store == "redis" || settings.rate_limit.store == "memory");
    FUZZ_CHECK(settings.rate_limit.on_store_error == "memory" || settings.rate_limit.on_store_error == "allow" ||
               settings.rate_limit.on_store_error == "deny");
    std::set<std::string> names;
    for (const auto& route : settings.routes) {
        FUZZ_CHECK(valid_route_name(route.name));
        FUZZ_CHECK(names.insert(route.name).second);
        FUZZ_CHECK(route.path_prefix.starts_with('/'));
        FUZZ_CHECK(std::none_of(route.path_prefix.begin(), route.path_prefix.end(),
                                [](unsigned char c) { return c <= 0x20 || c == 0x7f; }));
        for (const auto& target : route.backends.value_or(std::vector<gw::backend_config>{})) {
            FUZZ_CHECK(!target.url.empty() && !target.host.empty());
        }
        if (route.rate_limit && route.rate_limit->window) FUZZ_CHECK(in_range(*route.rate_limit->window));
    }
    for (const auto& target : settings.backends) FUZZ_CHECK(!target.url.empty() && !target.host.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view yaml{reinterpret_cast<const char*>(data), size};
    // An exception escaping here is a crash as far as libFuzzer is concerned.
    const gw::config_result result = gw::load_config_text(yaml, std::string{file_name});
    FUZZ_CHECK(result.value.has_value() != !result.errors.empty());
    if (result.value) check_config(*result.value);
    for (const auto& error : result.errors) {
        FUZZ_CHECK(!error.message.empty());
        FUZZ_CHECK(error.line >= 0 && error.column >= 0);
        FUZZ_CHECK(error.to_string().starts_with(std::string{file_name} + ":"));
    }
    // Errors come in file order, so that the first one printed is the first one in the file.
    FUZZ_CHECK(std::is_sorted(result.errors.begin(), result.errors.end(), [](const auto& a, const auto& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    }));
    return 0;
}
