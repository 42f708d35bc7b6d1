#include "gatewayd/recycling_allocator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using gw::recycling_allocator;

TEST(RecyclingAllocator, AFreedBlockIsHandedOutAgainForTheSameSizeClass) {
    recycling_allocator<char> alloc;
    char* first = alloc.allocate(100);
    std::memset(first, 'x', 100);
    alloc.deallocate(first, 100);
    // 100 and 120 bytes share a 128-byte class: the freed block comes back, no new malloc.
    char* second = alloc.allocate(120);
    EXPECT_EQ(first, second);
    alloc.deallocate(second, 120);
}

TEST(RecyclingAllocator, DifferentClassesDoNotShareBlocks) {
    recycling_allocator<char> alloc;
    char* small = alloc.allocate(32);
    alloc.deallocate(small, 32);
    char* big = alloc.allocate(1000);
    EXPECT_NE(small, big);
    std::memset(big, 'y', 1000);  // under ASan an undersized block would be reported here
    alloc.deallocate(big, 1000);
}

TEST(RecyclingAllocator, BlocksAboveTheLargestClassGoStraightToMalloc) {
    recycling_allocator<char> alloc;
    char* huge = alloc.allocate(1 << 20);
    std::memset(huge, 'z', 1 << 20);
    alloc.deallocate(huge, 1 << 20);
}

TEST(RecyclingAllocator, WorksAsAContainerAllocator) {
    std::map<int, std::string, std::less<>, recycling_allocator<std::pair<const int, std::string>>> map;
    for (int i = 0; i < 1000; ++i) map.emplace(i, std::to_string(i));
    for (int i = 0; i < 1000; i += 2) map.erase(i);
    ASSERT_EQ(map.size(), 500u);
    EXPECT_EQ(map.at(999), "999");
}

TEST(TaggedAllocate, KeepsSixteenByteAlignmentAndRecyclesWithoutTheSize) {
    std::vector<void*> blocks;
    for (std::size_t size : {1u, 15u, 16u, 17u, 500u, 4000u, 5000u}) {
        void* p = gw::detail::tagged_allocate(size);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u) << size;
        std::memset(p, 0xab, size);
        blocks.push_back(p);
    }
    void* reused_candidate = blocks[4];
    for (void* p : blocks) gw::detail::tagged_deallocate(p);
    // The 500-byte block was freed last of its class among these: asked again, it comes back.
    void* again = gw::detail::tagged_allocate(500);
    EXPECT_EQ(again, reused_candidate);
    gw::detail::tagged_deallocate(again);
    gw::detail::tagged_deallocate(nullptr);
}

}  // namespace
