#include "gatewayd/redis/redis_deployment.hpp"

#include "gatewayd/redis/cluster_redis.hpp"
#include "gatewayd/redis/sentinel_redis.hpp"
#include "gatewayd/redis/standalone_redis.hpp"

#include <boost/container/small_vector.hpp>

#include <array>
#include <charconv>

namespace gw {

std::unique_ptr<redis_deployment> make_redis_deployment(boost::asio::io_context& io, const redis_config& settings) {
    if (settings.mode == "sentinel") return std::make_unique<sentinel_redis>(io, settings);
    if (settings.mode == "cluster") return std::make_unique<cluster_redis>(io, settings);
    return std::make_unique<standalone_redis>(io, settings);
}

void append_eval(std::string& out, const redis_script& script, bool text, std::span<const std::string_view> keys,
                 std::span<const std::string_view> args) {
    std::array<char, 8> key_count{};
    const auto count_end = std::to_chars(key_count.data(), key_count.data() + key_count.size(), keys.size()).ptr;
    boost::container::small_vector<std::string_view, 16> words{
        text ? std::string_view("EVAL") : std::string_view("EVALSHA"),
        text ? std::string_view(script.text()) : script.sha1(),
        {key_count.data(), static_cast<std::size_t>(count_end - key_count.data())}};
    words.insert(words.end(), keys.begin(), keys.end());
    words.insert(words.end(), args.begin(), args.end());
    append_command(out, words);
}

}  // namespace gw
