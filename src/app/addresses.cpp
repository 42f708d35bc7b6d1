#include "gatewayd/app/addresses.hpp"

#include <boost/asio/io_context.hpp>

namespace gw {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::optional<tcp::endpoint> resolve(const std::string& host, std::uint16_t port, std::string& error) {
    asio::io_context io;
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    const auto results = resolver.resolve(host.empty() ? "0.0.0.0" : host, std::to_string(port),
                                          tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
        error = ec ? ec.message() : "no address";
        return std::nullopt;
    }
    return results.begin()->endpoint();
}

std::optional<endpoint_map> resolve_backends(const config& settings, std::string& error) {
    endpoint_map endpoints;
    auto add = [&](const backend_config& target) {
        if (endpoints.contains(target.url)) return true;
        const auto endpoint = resolve(target.host, target.port, error);
        if (!endpoint) {
            error = "cannot resolve backend " + target.url + ": " + error;
            return false;
        }
        endpoints.emplace(target.url, *endpoint);
        return true;
    };
    for (const auto& target : settings.backends) {
        if (!add(target)) return std::nullopt;
    }
    for (const auto& route : settings.routes) {
        for (const auto& target : route.backends.value_or(std::vector<backend_config>{})) {
            if (!add(target)) return std::nullopt;
        }
    }
    return endpoints;
}

}  // namespace gw
