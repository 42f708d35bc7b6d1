#pragma once

#include "gatewayd/config/config.hpp"

#include <optional>

namespace gw {

// The rate-limit settings a request runs with: the top level's, or, for a route with its own
// `rate_limit`, the top level's with the route's fields over them (its `rules` replacing the top
// level's), counting under `<key_prefix><route>:`. Without an override the top level is
// returned as it is (no copy); otherwise the merged settings are built in `storage`.
const rate_limit_config& limits_for(const config& settings, const route_config* route,
                                    std::optional<rate_limit_config>& storage);

}  // namespace gw
