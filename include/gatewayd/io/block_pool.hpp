#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace gw {

// Fixed-size blocks for body chunks and upstream read buffers, recycled by one event loop: a
// request in steady state allocates none, and an idle connection holds none.
class block_pool {
public:
    static constexpr std::size_t block_size = 64 * 1024;

    // A block on loan, returned to the pool when the lease ends.
    class lease {
    public:
        lease(block_pool* pool, std::unique_ptr<char[]> block) : pool_(pool), block_(std::move(block)) {}
        lease(lease&&) noexcept = default;
        lease& operator=(lease&&) = delete;
        lease(const lease&) = delete;
        ~lease() {
            if (block_) pool_->give_back(std::move(block_));
        }
        std::span<char> span() const { return {block_.get(), block_size}; }

    private:
        block_pool* pool_;
        std::unique_ptr<char[]> block_;
    };

    explicit block_pool(std::size_t max_kept = 256) : max_kept_(max_kept) {}

    lease acquire() {
        if (free_.empty()) return lease(this, std::make_unique_for_overwrite<char[]>(block_size));
        auto block = std::move(free_.back());
        free_.pop_back();
        return lease(this, std::move(block));
    }

private:
    // Beyond max_kept a burst's blocks go back to the allocator rather than being hoarded.
    void give_back(std::unique_ptr<char[]> block) {
        if (free_.size() < max_kept_) free_.push_back(std::move(block));
    }

    std::size_t max_kept_;
    std::vector<std::unique_ptr<char[]>> free_;
};

}  // namespace gw
