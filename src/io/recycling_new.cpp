// The daemon's global operator new and delete, over the per-thread free lists of
// recycling_allocator: coroutine frames, Asio operations and strings that each request makes
// and drops are recycled instead of going through malloc every time. Linked into the gatewayd
// executable only, and left out of sanitizer builds so that ASan keeps checking every new.
#include "gatewayd/io/recycling_allocator.hpp"

#include <new>

void* operator new(std::size_t bytes) { return gw::detail::tagged_allocate(bytes); }
void* operator new[](std::size_t bytes) { return gw::detail::tagged_allocate(bytes); }
void operator delete(void* pointer) noexcept { gw::detail::tagged_deallocate(pointer); }
void operator delete[](void* pointer) noexcept { gw::detail::tagged_deallocate(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { gw::detail::tagged_deallocate(pointer); }
void operator delete[](void* pointer, std::size_t) noexcept { gw::detail::tagged_deallocate(pointer); }
