#include "gguf/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gguf/gguf_internal.h"
#include "gguf/unique_fd.h"

namespace folio::gguf {

MappedFile::MappedFile(const std::filesystem::path& path) {
    auto fail = [&](const std::string& what) {
        throw GgufError(path.string(), 0, "file", detail::cat(what, ": ", std::strerror(errno)));
    };
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) fail("cannot open");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail("cannot stat");
    if (!S_ISREG(st.st_mode)) {
        throw GgufError(path.string(), 0, "file", "not a regular file");
    }
    m_size = static_cast<size_t>(st.st_size);
    if (m_size == 0) return;
    void* addr = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (addr == MAP_FAILED) fail("cannot map");
    m_addr = addr;
}

MappedFile::~MappedFile() {
    if (m_addr) ::munmap(m_addr, m_size);
}

void release_mapped_pages(const void* addr, size_t bytes) {
    static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<uintptr_t>(addr) + page - 1) & ~(page - 1);
    const auto end = (reinterpret_cast<uintptr_t>(addr) + bytes) & ~(page - 1);
    // Advice only: on failure the pages simply stay resident.
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace folio::gguf
