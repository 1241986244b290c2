#pragma once
// StringIndex: a flat open-addressing hash map from byte strings to int32 values, for the
// vocabulary's text -> id and merge -> rank tables (hundreds of thousands of short keys that are
// built once and then only read). Keys live in one arena, so building and destroying it costs a
// few allocations instead of one per key. Reads are thread-safe once built.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace folio {

class StringIndex {
  public:
    void reserve(size_t num_keys);
    // Adds key -> value. For a key already present: replaces its value when `overwrite`,
    // otherwise keeps the first one.
    void insert(std::string_view key, int32_t value, bool overwrite);
    // The value for `key`, or `missing`.
    int32_t find(std::string_view key, int32_t missing = -1) const;
    size_t size() const { return m_entries.size(); }

  private:
    struct Entry {
        uint32_t offset;  // into m_arena
        uint32_t length;
        int32_t value;
    };
    static uint64_t hash(std::string_view key);
    void grow();
    bool key_equals(const Entry& e, std::string_view key) const {
        return std::string_view(m_arena).substr(e.offset, e.length) == key;
    }

    // Each slot: 0 when empty, else (upper 32 bits of the hash << 32) | (entry index + 1).
    std::vector<uint64_t> m_slots;
    std::vector<Entry> m_entries;
    std::string m_arena;
};

}  // namespace folio
