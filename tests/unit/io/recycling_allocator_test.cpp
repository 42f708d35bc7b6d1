#include "gatewayd/io/recycling_allocator.hpp"

#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <semaphore>
#include <set>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define GATEWAYD_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GATEWAYD_TEST_ASAN 1
#endif
#endif

#if defined(GATEWAYD_TEST_ASAN)
// <sanitizer/allocator_interface.h>, which GCC does not install.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace {

using gw::recycling_allocator;
using gw::detail::recycled_allocate;
using gw::detail::recycled_deallocate;
using gw::detail::tagged_allocate;
using gw::detail::tagged_deallocate;

// What src/io/recycling_allocator.cpp states: size classes of 64 bytes, blocks up to 8 KiB are
// recycled, and a thread keeps at most 256 KiB of free blocks per class ("bounds what a burst
// leaves behind").
constexpr std::size_t granule = 64;
constexpr std::size_t largest_recycled = 8192;
constexpr std::size_t kept_bytes_per_class = 256 * 1024;

std::size_t class_ceiling(std::size_t bytes) { return (bytes + granule - 1) / granule * granule; }

// Bytes the C allocator has handed out and not had back: a block kept on a free list still
// counts, one given back with free() does not. glibc's count is of chunks (a 4096-byte block is
// 4112), ASan's of the bytes asked for. Both are exact for blocks too big for glibc's per-thread
// cache (over 1032 bytes), so the tests below measure only such blocks.
std::optional<std::size_t> heap_in_use() {
#if defined(GATEWAYD_TEST_ASAN)
    return __sanitizer_get_current_allocated_bytes();
#elif defined(__GLIBC__)
    const auto info = ::mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return std::nullopt;
#endif
}

// How much the count went down (up), 0 when it went the other way: never a wrapped difference.
std::size_t fell(std::size_t before, std::size_t after) { return before > after ? before - after : 0; }
std::size_t rose(std::size_t before, std::size_t after) { return after > before ? after - before : 0; }

// A block is at least this big for malloc; nullopt where that cannot be asked.
std::optional<std::size_t> usable_size(void* block) {
#if defined(__GLIBC__)
    return ::malloc_usable_size(block);
#else
    (void)block;
    return std::nullopt;
#endif
}

// The lists are per thread: a new thread starts with empty ones, whatever earlier tests left on
// the main thread.
void on_fresh_thread(const std::function<void()>& body) {
    std::thread thread(body);
    thread.join();
}

TEST(RecyclingAllocator, AFreedBlockIsHandedOutAgainForEverySizeOfItsClass) {
    on_fresh_thread([] {
        // Pairs of sizes in one class: the first size frees the block, the second gets it back.
        const std::vector<std::pair<std::size_t, std::size_t>> pairs{
            {1, 64}, {100, 120}, {65, 128}, {1000, 1024}, {4033, 4096}, {4096, 4033}, {8129, 8192}};
        for (const auto& [first_size, second_size] : pairs) {
            ASSERT_EQ(class_ceiling(first_size), class_ceiling(second_size));
            recycling_allocator<char> alloc;
            char* first = alloc.allocate(first_size);
            // Handed out for the smallest size of its class, the block is big enough for all of it.
            if (const auto usable = usable_size(first)) {
                EXPECT_GE(*usable, class_ceiling(first_size)) << first_size;
            }
            std::memset(first, 'x', first_size);
            alloc.deallocate(first, first_size);
            // Stateless: another instance, even of another type, gets the block back.
            recycling_allocator<char> other{recycling_allocator<std::uint64_t>{}};
            EXPECT_TRUE(alloc == other);
            char* second = other.allocate(second_size);
            EXPECT_EQ(second, first) << first_size << " then " << second_size;
            std::memset(second, 'y', class_ceiling(second_size));  // the whole class is the caller's
            other.deallocate(second, second_size);
        }
    });
}

TEST(RecyclingAllocator, EveryFreedBlockComesBackBeforeMallocIsAsked) {
    on_fresh_thread([] {
        constexpr std::size_t size = 200;
        std::set<void*> freed;
        std::vector<void*> blocks;
        for (int i = 0; i < 16; ++i) blocks.push_back(recycled_allocate(size));
        for (void* block : blocks) {
            freed.insert(block);
            recycled_deallocate(block, size);
        }
        std::set<void*> again;
        for (int i = 0; i < 16; ++i) again.insert(recycled_allocate(size));
        EXPECT_EQ(again, freed);
        for (void* block : again) recycled_deallocate(block, size);
    });
}

TEST(RecyclingAllocator, DifferentClassesDoNotShareBlocks) {
    on_fresh_thread([] {
        recycling_allocator<char> alloc;
        char* small = alloc.allocate(32);
        alloc.deallocate(small, 32);
        char* big = alloc.allocate(1000);
        EXPECT_NE(small, big);  // the 64-byte block on the list is not handed out for 1000 bytes
        std::memset(big, 'y', 1000);
        // ...and it is still there for its own class.
        char* small_again = alloc.allocate(64);
        EXPECT_EQ(small_again, small);
        alloc.deallocate(small_again, 64);
        alloc.deallocate(big, 1000);
    });
}

TEST(RecyclingAllocator, BlocksAboveTheLargestClassGoBackToMallocWhenFreed) {
    if (!heap_in_use()) GTEST_SKIP() << "no way to read the C allocator's count here";
    on_fresh_thread([] {
        // The largest recycled size stays on the list: malloc still counts it.
        void* kept = recycled_allocate(largest_recycled);
        std::memset(kept, 'k', largest_recycled);
        auto before = *heap_in_use();
        recycled_deallocate(kept, largest_recycled);
        EXPECT_EQ(*heap_in_use(), before);
        void* kept_again = recycled_allocate(largest_recycled);
        EXPECT_EQ(kept_again, kept);
        recycled_deallocate(kept_again, largest_recycled);

        for (const std::size_t size : {largest_recycled + 1, std::size_t{64 * 1024}, std::size_t{1} << 20}) {
            recycling_allocator<char> alloc;
            char* block = alloc.allocate(size);
            std::memset(block, 'z', size);
            before = *heap_in_use();
            alloc.deallocate(block, size);
            EXPECT_GE(fell(before, *heap_in_use()), size) << size << " bytes not given back to malloc";
        }
    });
}

TEST(RecyclingAllocator, AThreadKeepsAtMost256KiBPerClass) {
    if (!heap_in_use()) GTEST_SKIP() << "no way to read the C allocator's count here";
    for (const std::size_t size : {std::size_t{2048}, largest_recycled}) {
        on_fresh_thread([size] {
            const std::size_t kept = kept_bytes_per_class / size;  // 128 and 32 blocks
            const std::size_t extra = 16;
            std::vector<void*> blocks;
            for (std::size_t i = 0; i < kept + extra; ++i) blocks.push_back(recycled_allocate(size));
            const std::set<void*> freed(blocks.begin(), blocks.end());
            const auto before = *heap_in_use();
            for (void* block : blocks) recycled_deallocate(block, size);
            const auto after = *heap_in_use();
            // The blocks past the bound went back to malloc, the others stayed on the list.
            EXPECT_GE(fell(before, after), extra * size) << size;
            EXPECT_LT(fell(before, after), (extra + 1) * size) << size;

            // The kept ones are handed out again without malloc...
            blocks.clear();
            for (std::size_t i = 0; i < kept; ++i) blocks.push_back(recycled_allocate(size));
            EXPECT_EQ(*heap_in_use(), after) << size;
            for (void* block : blocks) EXPECT_TRUE(freed.count(block)) << size;
            EXPECT_EQ(std::set<void*>(blocks.begin(), blocks.end()).size(), kept) << size;
            // ...and then the list is empty: the next block is malloc's.
            blocks.push_back(recycled_allocate(size));
            EXPECT_GE(rose(after, *heap_in_use()), size) << size;
            for (void* block : blocks) recycled_deallocate(block, size);
        });
    }
}

TEST(RecyclingAllocator, ABlockFreedOnAnotherThreadJoinsThatThreadsList) {
    constexpr std::size_t size = 300;  // the 320-byte class
    char* block = nullptr;
    std::binary_semaphore allocated{0};
    std::binary_semaphore moved{0};
    std::binary_semaphore checked{0};
    std::thread owner([&] {
        recycling_allocator<char> alloc;
        block = alloc.allocate(size);
        std::memset(block, 'a', size);
        allocated.release();
        moved.acquire();
        // The block is on the other thread's list now, not on this one's: this thread's next
        // block of the class is a new one (malloc cannot hand out one that is still on a list).
        char* mine = alloc.allocate(size);
        EXPECT_NE(mine, block);
        alloc.deallocate(mine, size);
        checked.release();
    });
    std::thread other([&] {
        recycling_allocator<char> alloc;
        allocated.acquire();
        alloc.deallocate(block, size);
        char* again = alloc.allocate(size);
        EXPECT_EQ(again, block);
        std::memset(again, 'b', class_ceiling(size));
        alloc.deallocate(again, size);
        moved.release();
        checked.acquire();  // stays alive (its list holding the block) until the owner has looked
    });
    owner.join();
    other.join();
}

TEST(RecyclingAllocator, AThreadsListsAreGivenBackToMallocWhenItEnds) {
    if (!heap_in_use()) GTEST_SKIP() << "no way to read the C allocator's count here";
    constexpr std::size_t blocks = 32;
    const auto base = *heap_in_use();
    std::size_t held = 0;
    std::binary_semaphore listed{0};
    std::binary_semaphore measured{0};
    std::thread thread([&] {
        std::vector<void*> taken;
        for (std::size_t i = 0; i < blocks; ++i) taken.push_back(recycled_allocate(largest_recycled));
        for (void* block : taken) recycled_deallocate(block, largest_recycled);
        listed.release();
        measured.acquire();
    });
    listed.acquire();
    held = *heap_in_use();
    measured.release();
    thread.join();
    EXPECT_GE(rose(base, held), blocks * largest_recycled);           // on the thread's list...
    EXPECT_GE(fell(held, *heap_in_use()), blocks * largest_recycled);  // ...and freed when it ended
}

// Once the lists are gone (a later thread_local destructor frees), a block goes to malloc. The
// flag that says so once sat in the destroyed object, and GCC dropped the store at -O2.
TEST(RecyclingAllocator, AFreeAfterTheListsAreGoneGoesToMalloc) {
    if (!heap_in_use()) GTEST_SKIP() << "no way to read the C allocator's count here";
    // A thread_local made before the lists is destroyed after them; what it frees then goes to free().
    struct late_holder {
        void* block = nullptr;
        ~late_holder() { recycled_deallocate(block, largest_recycled); }
    };
    std::size_t held = 0;
    std::binary_semaphore taken{0};
    std::binary_semaphore measured{0};
    std::thread thread([&] {
        thread_local late_holder holder;  // constructed here, before this thread's first allocation
        holder.block = recycled_allocate(largest_recycled);
        std::memset(holder.block, 'h', largest_recycled);
        taken.release();
        measured.acquire();
    });
    taken.acquire();
    held = *heap_in_use();
    measured.release();
    thread.join();
    EXPECT_GE(fell(held, *heap_in_use()), largest_recycled);
}

TEST(RecyclingAllocator, WorksAsAContainerAllocator) {
    std::map<int, std::string, std::less<>, recycling_allocator<std::pair<const int, std::string>>> map;
    for (int i = 0; i < 1000; ++i) map.emplace(i, std::to_string(i));
    for (int i = 0; i < 1000; i += 2) map.erase(i);
    ASSERT_EQ(map.size(), 500u);
    EXPECT_EQ(map.at(999), "999");
}

TEST(TaggedAllocate, KeepsSixteenByteAlignmentAndRecyclesWithoutTheSize) {
    on_fresh_thread([] {
        std::vector<void*> blocks;
        for (std::size_t size : {1u, 15u, 16u, 17u, 500u, 4000u, 5000u}) {
            void* p = tagged_allocate(size);
            EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u) << size;
            std::memset(p, 0xab, size);
            blocks.push_back(p);
        }
        void* reused_candidate = blocks[4];
        for (void* p : blocks) tagged_deallocate(p);
        // The 500-byte block went back to its class without the caller giving the size: asked
        // again for any size of that class (with the tag, 516 and 560 bytes are both in 576),
        // it comes back.
        void* again = tagged_allocate(544);
        EXPECT_EQ(again, reused_candidate);
        std::memset(again, 0xcd, 544);
        tagged_deallocate(again);
        tagged_deallocate(nullptr);
    });
}

TEST(TaggedAllocate, LargeBlocksGoBackToMallocWithoutTheSize) {
    if (!heap_in_use()) GTEST_SKIP() << "no way to read the C allocator's count here";
    on_fresh_thread([] {
        void* block = tagged_allocate(64 * 1024);
        std::memset(block, 0xef, 64 * 1024);
        const auto before = *heap_in_use();
        tagged_deallocate(block);
        EXPECT_GE(fell(before, *heap_in_use()), std::size_t{64 * 1024});
    });
}

}  // namespace
