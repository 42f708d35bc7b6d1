#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>

namespace gw {

struct backend;

// Asks whether the backend at an index may take the request now. The caller decides (health,
// circuit breaker, backends this request tried already) and may take a breaker admission when
// it says yes, so it is asked for one backend at a time, in the balancer's order.
class candidate_filter {
public:
    template <class Filter>
    explicit candidate_filter(Filter& filter)
        : object_(&filter), call_([](void* object, std::size_t index) { return (*static_cast<Filter*>(object))(index); }) {}
    bool operator()(std::size_t index) const { return call_(object_, index); }

private:
    void* object_;
    bool (*call_)(void*, std::size_t);
};

// The order in which a pool's backends are offered a request. A balancer only ranks: which
// backends can take the request is the filter's business, so health and breakers stay out of
// it, and a least-connections or peak-EWMA balancer is one more implementation of this.
class balancer {
public:
    virtual ~balancer() = default;
    // The first backend, in this balancer's order, that `admits` accepts; nothing when none does.
    virtual std::optional<std::size_t> pick(std::span<const std::shared_ptr<backend>> members,
                                            const candidate_filter& admits) = 0;
};

}  // namespace gw
