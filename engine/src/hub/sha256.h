#pragma once
// Streaming SHA-256 (OpenSSL libcrypto) with a lowercase hex result, as the hub lists LFS files.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

struct evp_md_ctx_st;

namespace folio::hub {

class Sha256 {
  public:
    Sha256();  // throws std::runtime_error when libcrypto cannot provide SHA-256
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t size);
    // The digest of everything updated so far, as 64 hex digits. Call once.
    std::string hex_final();

  private:
    evp_md_ctx_st* m_ctx;
};

// The hex SHA-256 of a whole file; throws std::runtime_error naming the path when unreadable.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace folio::hub
