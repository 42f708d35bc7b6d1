#pragma once

#include <cstddef>
#include <type_traits>

namespace gw {

namespace detail {
// Per-thread free lists by size class: what a loop frees is what it allocates next, so the
// steady state never reaches malloc. Blocks larger than the biggest class go to malloc.
void* recycled_allocate(std::size_t bytes);
void recycled_deallocate(void* block, std::size_t bytes) noexcept;
// The same lists for callers that do not pass the size back (global operator delete): the
// size is kept in a 16-byte tag in front of the block.
void* tagged_allocate(std::size_t bytes);
void tagged_deallocate(void* pointer) noexcept;
}  // namespace detail

// For objects an event loop makes and drops on every request (header fields): stateless, so
// any instance frees what another allocated, as long as it is on the same thread or the block
// simply moves to the freeing thread's list.
template <class T>
struct recycling_allocator {
    using value_type = T;
    using propagate_on_container_move_assignment = std::true_type;
    using is_always_equal = std::true_type;

    recycling_allocator() noexcept = default;
    template <class U>
    recycling_allocator(const recycling_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return static_cast<T*>(detail::recycled_allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { detail::recycled_deallocate(p, n * sizeof(T)); }

    template <class U>
    bool operator==(const recycling_allocator<U>&) const noexcept { return true; }
};

}  // namespace gw
