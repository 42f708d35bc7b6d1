#include "gatewayd/http/header_rewrite.hpp"

#include "gatewayd/http/optional_whitespace.hpp"
#include "gatewayd/http/request_head_scanner.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <array>
#include <vector>

namespace gw {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::array hop_by_hop{
    http::field::connection, http::field::keep_alive, http::field::proxy_connection,
    http::field::te, http::field::trailer, http::field::transfer_encoding, http::field::upgrade,
};

// Joins every occurrence of a header with ", ", as RFC 9110 allows for list-valued fields.
std::string joined_values(const header_fields& fields, std::string_view name) {
    std::string joined;
    auto [first, last] = fields.equal_range(name);
    for (auto it = first; it != last; ++it) {
        const std::string_view value = trim_ows(it->value());
        if (value.empty()) continue;
        if (!joined.empty()) joined += ", ";
        joined += value;
    }
    return joined;
}

}  // namespace

void remove_hop_by_hop(header_fields& fields, upgrade_offer* offer) {
    // One pass by field code (no name lookups); the names a Connection header lists are
    // collected on the way and erased afterwards, which is rare enough to allocate for.
    std::vector<std::string> named;
    for (auto it = fields.begin(); it != fields.end();) {
        const http::field code = it->name();
        if (std::find(hop_by_hop.begin(), hop_by_hop.end(), code) == hop_by_hop.end()) {
            ++it;
            continue;
        }
        if (code == http::field::connection) {
            std::string_view rest = it->value();
            while (!rest.empty()) {
                const auto comma = rest.find(',');
                const std::string_view token = trim_ows(rest.substr(0, comma));
                if (offer != nullptr && beast::iequals(token, "upgrade")) offer->connection_upgrade = true;
                if (!token.empty() && !beast::iequals(token, "keep-alive") && !beast::iequals(token, "close")) {
                    named.emplace_back(token);
                }
                rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            }
        } else if (code == http::field::upgrade && offer != nullptr) {
            const std::string_view value = trim_ows(it->value());
            if (!value.empty()) {
                if (!offer->protocols.empty()) offer->protocols += ", ";
                offer->protocols += value;
            }
        }
        it = fields.erase(it);
    }
    for (const auto& name : named) fields.erase(name);
}

std::string tunnel_protocols(const upgrade_offer& offer) {
    std::string kept;
    if (!offer.connection_upgrade) return kept;
    std::string_view rest = offer.protocols;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string_view token = trim_ows(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        // A protocol is name[/version]; h2c in any version is HTTP/2, which we do not speak.
        const std::string_view name = token.substr(0, token.find('/'));
        if (token.empty() || beast::iequals(trim_ows(name), "h2c")) continue;
        if (!kept.empty()) kept += ", ";
        kept += token;
    }
    return kept;
}

std::string forwarded_for(std::string_view incoming, bool peer_trusted, std::string_view peer_ip) {
    const std::string_view chain = trim_ows(incoming);
    if (!peer_trusted || chain.empty()) return std::string(peer_ip);
    std::string value;
    value.reserve(chain.size() + 2 + peer_ip.size());
    value.append(chain).append(", ").append(peer_ip);
    return value;
}

bool rewrite_request_headers(header_fields& fields, const forwarding_info& info, std::string* upgrade) {
    upgrade_offer offer;
    remove_hop_by_hop(fields, upgrade != nullptr ? &offer : nullptr);
    if (upgrade != nullptr && offer.connection_upgrade) {
        *upgrade = tunnel_protocols(offer);
        if (!upgrade->empty()) {
            fields.set(http::field::connection, "upgrade");
            fields.set(http::field::upgrade, *upgrade);
        }
    } else if (upgrade != nullptr && !upgrade->empty()) {
        upgrade->clear();
    }
    const std::string incoming_for = info.peer_trusted ? joined_values(fields, "X-Forwarded-For") : std::string{};
    std::string forwarded = forwarded_for(incoming_for, info.peer_trusted, info.peer_ip);
    if (forwarded.size() > max_field_bytes) return false;
    fields.set("X-Forwarded-For", std::move(forwarded));

    // Only a trusted proxy may tell us the original scheme and host; anyone else gets ours.
    if (!info.peer_trusted || fields.count("X-Forwarded-Proto") == 0) {
        fields.set("X-Forwarded-Proto", info.secure ? "https" : "http");
    }
    if (!info.peer_trusted || fields.count("X-Forwarded-Host") == 0) {
        const auto host = fields.find(http::field::host);
        if (host != fields.end()) {
            fields.set("X-Forwarded-Host", host->value());
        } else {
            fields.erase("X-Forwarded-Host");
        }
    }
    fields.set("X-Request-Id", info.request_id);
    return true;
}

void rewrite_response_headers(header_fields& fields, std::string_view request_id) {
    remove_hop_by_hop(fields);
    fields.set("X-Request-Id", request_id);
}

void rewrite_switching_headers(header_fields& fields, std::string_view request_id) {
    upgrade_offer offer;
    remove_hop_by_hop(fields, &offer);
    fields.set(http::field::connection, "upgrade");
    if (!offer.protocols.empty()) fields.set(http::field::upgrade, offer.protocols);
    fields.set("X-Request-Id", request_id);
}

void set_rate_limit_headers(header_fields& fields, const rate_decision& decision, const rate_header_choice& choice,
                            bool refused) {
    if (refused) fields.set(http::field::retry_after, std::to_string(decision.retry_after));
    if (choice.x_ratelimit) {
        fields.set("X-RateLimit-Limit", std::to_string(decision.limit));
        fields.set("X-RateLimit-Remaining", std::to_string(decision.remaining));
        fields.set("X-RateLimit-Reset", std::to_string(decision.reset_seconds));
    }
    if (!choice.policy.empty()) {
        fields.set("RateLimit-Policy", choice.policy);
        std::string current;
        current.reserve(decision.rule.size() + 32);
        current.append("\"").append(decision.rule).append("\";r=").append(std::to_string(decision.remaining));
        current.append(";t=").append(std::to_string(decision.reset_seconds));
        fields.set("RateLimit", current);
    }
}

}  // namespace gw
