#include "tokenizer/string_index.h"

#include <xxhash.h>

#include <stdexcept>

namespace folio {

uint64_t StringIndex::hash(std::string_view key) {
    return XXH3_64bits(key.data(), key.size());
}

void StringIndex::reserve(size_t num_keys) {
    m_entries.reserve(num_keys);
    size_t cap = 16;
    while (cap < num_keys * 2) cap *= 2;
    if (cap <= m_slots.size()) return;
    std::vector<uint64_t> old;
    old.swap(m_slots);
    m_slots.assign(cap, 0);
    const uint64_t mask = cap - 1;
    for (uint64_t s : old) {
        if (!s) continue;
        // the slot keeps only the upper hash bits: recompute the position from the key
        const Entry& e = m_entries[(s & 0xFFFFFFFFu) - 1];
        uint64_t pos = hash(std::string_view(m_arena).substr(e.offset, e.length)) & mask;
        while (m_slots[pos]) pos = (pos + 1) & mask;
        m_slots[pos] = s;
    }
}

void StringIndex::grow() {
    reserve(m_slots.empty() ? 8 : m_slots.size());
}

void StringIndex::insert(std::string_view key, int32_t value, bool overwrite) {
    if ((m_entries.size() + 1) * 2 > m_slots.size()) grow();
    if (m_arena.size() + key.size() > UINT32_MAX || m_entries.size() >= UINT32_MAX - 1)
        throw std::length_error("StringIndex: too many keys");
    const uint64_t h = hash(key);
    const uint64_t tag = h >> 32;
    const uint64_t mask = m_slots.size() - 1;
    uint64_t pos = h & mask;
    while (const uint64_t s = m_slots[pos]) {
        if ((s >> 32) == tag) {
            Entry& e = m_entries[(s & 0xFFFFFFFFu) - 1];
            if (key_equals(e, key)) {
                if (overwrite) e.value = value;
                return;
            }
        }
        pos = (pos + 1) & mask;
    }
    m_entries.push_back(
        Entry{static_cast<uint32_t>(m_arena.size()), static_cast<uint32_t>(key.size()), value});
    m_arena.append(key);
    m_slots[pos] = (tag << 32) | m_entries.size();
}

int32_t StringIndex::find(std::string_view key, int32_t missing) const {
    if (m_slots.empty()) return missing;
    const uint64_t h = hash(key);
    const uint64_t tag = h >> 32;
    const uint64_t mask = m_slots.size() - 1;
    for (uint64_t pos = h & mask;; pos = (pos + 1) & mask) {
        const uint64_t s = m_slots[pos];
        if (!s) return missing;
        if ((s >> 32) == tag) {
            const Entry& e = m_entries[(s & 0xFFFFFFFFu) - 1];
            if (key_equals(e, key)) return e.value;
        }
    }
}

}  // namespace folio
