// Runs a fuzz target over every file in the directories named on the command line, so that a
// build without libFuzzer (g++) replays the seed corpus and every input that once crashed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sys/resource.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

int main(int argc, char** argv) {
#if !defined(__SANITIZE_ADDRESS__)
    // An input that makes a library allocate without end fails fast instead of taking the host.
    const rlimit memory{std::uint64_t{4} << 30, std::uint64_t{4} << 30};
    setrlimit(RLIMIT_AS, &memory);
#endif
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    namespace fs = std::filesystem;
    std::size_t replayed = 0;
    for (int i = 1; i < argc; ++i) {
        const fs::path dir{argv[i]};
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            std::fprintf(stderr, "not a directory: %s\n", argv[i]);
            return 2;
        }
        // Sorted, so that a failure is reproducible in the same order.
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(dir)) {
            // Dot files (.gitkeep) only keep an empty directory in git.
            if (entry.is_regular_file() && entry.path().filename().string().front() != '.') {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            std::ifstream in{file, std::ios::binary};
            const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
            std::fprintf(stderr, "replay %s (%zu bytes)\n", file.c_str(), bytes.size());
            LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
            ++replayed;
        }
    }
    std::fprintf(stderr, "replayed %zu input(s) without a failure\n", replayed);
    // Replaying nothing proves nothing: a wrong path must not pass.
    return replayed == 0 ? 1 : 0;
}
