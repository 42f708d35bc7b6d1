#pragma once

#include "gatewayd/config/config.hpp"
#include "gatewayd/upstream/backend.hpp"
#include "gatewayd/upstream/backend_state.hpp"

#include <memory>

namespace gw {

// The routing state for `settings`: the route table, a pool per route and the default pool.
// Backends of `previous` whose URL stays are taken over with their breaker, health and pooled
// connections; the others are created, with the process-wide state `registry` keeps per URL.
std::shared_ptr<backend_set> build_backend_set(const config& settings, const endpoint_map& endpoints,
                                               const backend_set* previous, backend_registry& registry);

}  // namespace gw
