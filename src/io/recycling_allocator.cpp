#include "gatewayd/io/recycling_allocator.hpp"

#include <array>
#include <cstdlib>
#include <new>

namespace gw::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = 128;                     // blocks up to 8 KiB are recycled
constexpr std::size_t max_kept_bytes_per_class = 256 * 1024;  // bounds what a burst leaves behind
constexpr std::size_t tag_bytes = 16;                    // keeps the caller's block 16-aligned

struct free_block {
    free_block* next;
};

// Whether this thread's lists still exist. Kept outside them, trivially destructible: a store
// to a member in the destructor is dead to the compiler (the object's lifetime ends there) and
// GCC removed it at -O2, so frees after the lists were gone were pushed onto a dead list.
thread_local bool lists_alive = true;

struct free_lists {
    std::array<free_block*, classes> heads{};
    std::array<std::size_t, classes> counts{};

    ~free_lists() {
        // Frees that come later on this thread (other thread_local destructors) go to free().
        lists_alive = false;
        for (auto*& head : heads) {
            while (head != nullptr) {
                free_block* next = head->next;
                std::free(head);
                head = next;
            }
            head = nullptr;
        }
    }
};

thread_local free_lists lists;

// The class index of a size, or `classes` when it is too big to recycle.
std::size_t class_of(std::size_t bytes) {
    const std::size_t index = (bytes + granule - 1) / granule;
    return index == 0 ? 0 : (index <= classes ? index - 1 : classes);
}

std::size_t kept_limit(std::size_t index) { return max_kept_bytes_per_class / ((index + 1) * granule); }

}  // namespace

void* recycled_allocate(std::size_t bytes) {
    const std::size_t index = class_of(bytes);
    if (index < classes && lists_alive) {
        if (free_block* block = lists.heads[index]) {
            lists.heads[index] = block->next;
            --lists.counts[index];
            return block;
        }
        bytes = (index + 1) * granule;
    }
    void* block = std::malloc(bytes);
    if (block == nullptr) throw std::bad_alloc();
    return block;
}

void recycled_deallocate(void* block, std::size_t bytes) noexcept {
    if (block == nullptr) return;
    const std::size_t index = class_of(bytes);
    if (index < classes && lists_alive && lists.counts[index] < kept_limit(index)) {
        auto* node = static_cast<free_block*>(block);
        node->next = lists.heads[index];
        lists.heads[index] = node;
        ++lists.counts[index];
        return;
    }
    std::free(block);
}

void* tagged_allocate(std::size_t bytes) {
    auto* block = static_cast<unsigned char*>(recycled_allocate(bytes + tag_bytes));
    *reinterpret_cast<std::size_t*>(block) = bytes + tag_bytes;
    return block + tag_bytes;
}

void tagged_deallocate(void* pointer) noexcept {
    if (pointer == nullptr) return;
    auto* block = static_cast<unsigned char*>(pointer) - tag_bytes;
    recycled_deallocate(block, *reinterpret_cast<std::size_t*>(block));
}

}  // namespace gw::detail
