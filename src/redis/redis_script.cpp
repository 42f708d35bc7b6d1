#include "gatewayd/redis/redis_script.hpp"

#include <openssl/evp.h>

namespace gw {

redis_script::redis_script(std::string text) : text_(std::move(text)) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(text_.data(), text_.size(), digest, &size, EVP_sha1(), nullptr);
    constexpr char hex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < size && 2 * i + 1 < sha1_.size(); ++i) {
        sha1_[2 * i] = hex[digest[i] >> 4];
        sha1_[2 * i + 1] = hex[digest[i] & 0xf];
    }
}

}  // namespace gw
