// KVCacheManager: scripted allocation / sharing / eviction sequences with exact block ids, prefix
// cache statistics, parallel sampling, and a randomized scheduler-like run checking invariants.
#include <QtTest>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kv/kv_cache_manager.h"

using namespace folio;

namespace {

using Ids = std::vector<int32_t>;

std::vector<int32_t> range(int32_t first, int32_t count) {
    std::vector<int32_t> out;
    for (int32_t i = 0; i < count; ++i) out.push_back(first + i);
    return out;
}

std::vector<int32_t> concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

KVRequest make_request(std::string id, std::vector<int32_t> tokens) {
    KVRequest r;
    r.request_id = std::move(id);
    r.token_ids = std::move(tokens);
    return r;
}

// Schedules a waiting request the way the scheduler does: prefix-cache lookup, then allocation of
// the rest of its tokens (or `chunk` of them); on success the step "runs".
std::optional<Ids> admit(KVCacheManager& m, KVRequest& r, int32_t chunk = -1) {
    const ComputedBlocks hit = m.get_computed_blocks(r);
    const int32_t n = chunk > 0 ? chunk : r.num_tokens() - hit.num_computed_tokens;
    std::optional<Ids> ids = m.allocate_slots(r, n, hit.num_computed_tokens, hit.block_ids);
    if (ids) r.num_computed_tokens = hit.num_computed_tokens + n;
    return ids;
}

// One decode step: the sampled token is appended, then its slot is allocated and computed.
std::optional<Ids> decode(KVCacheManager& m, KVRequest& r, int32_t token) {
    r.token_ids.push_back(token);
    std::optional<Ids> ids = m.allocate_slots(r, r.num_tokens() - r.num_computed_tokens);
    if (ids) r.num_computed_tokens = r.num_tokens();
    return ids;
}

// Everything observable about the pool, to check that a failed allocation changed nothing.
struct PoolSnapshot {
    Ids free_ids;
    std::vector<int32_t> ref_cnts;
    std::vector<std::optional<BlockHash>> hashes;
    std::vector<std::pair<uint64_t, int32_t>> entries;  // (hash low64, block id), sorted

    bool operator==(const PoolSnapshot&) const = default;
};

PoolSnapshot snapshot(const KVCacheManager& m) {
    const BlockPool& pool = m.block_pool();
    PoolSnapshot s;
    s.free_ids = pool.free_block_ids();
    for (int32_t i = 0; i < pool.num_blocks(); ++i) {
        s.ref_cnts.push_back(pool.block(i).ref_cnt);
        s.hashes.push_back(pool.block(i).block_hash);
    }
    for (const auto& [hash, id] : pool.cached_block_entries())
        s.entries.emplace_back(hash.low64, id);
    std::sort(s.entries.begin(), s.entries.end());
    return s;
}

int32_t ref(const KVCacheManager& m, int32_t id) {
    return m.block_pool().block(id).ref_cnt;
}
bool cached(const KVCacheManager& m, const BlockHash& h) {
    return m.block_pool().get_cached_block(h) != nullptr;
}

// ---- randomized run ----

struct SimRequest {
    KVRequest kv;
    bool running = false;  // holds blocks
    int32_t max_tokens = 0;
};

// What a physical block slot holds: the token and the extra key it was computed with.
struct Slot {
    int32_t token = -1;
    uint64_t key = ~0ULL;
    bool operator==(const Slot&) const = default;
};

uint64_t key_of(const KVRequest& r) {
    return r.extra_keys.empty() ? 0 : r.extra_keys[0];
}

// Checks every invariant of the manager and its pool against the live requests.
void check_invariants(const KVCacheManager& m,
                      const std::vector<std::unique_ptr<SimRequest>>& live) {
    const BlockPool& pool = m.block_pool();
    const int32_t n = pool.num_blocks();
    const int32_t bs = m.block_size();

    // Free queue: no duplicates, no null block, consistent count.
    const Ids free_ids = pool.free_block_ids();
    QCOMPARE(static_cast<int32_t>(free_ids.size()), pool.get_num_free_blocks());
    QCOMPARE(m.num_free_blocks(), pool.get_num_free_blocks());
    std::vector<int32_t> times_in_queue(static_cast<size_t>(n), 0);
    for (int32_t id : free_ids) {
        QVERIFY(id > 0 && id < n);
        ++times_in_queue[static_cast<size_t>(id)];
    }

    // Holders per block, from the live requests' block tables.
    std::vector<int32_t> holders(static_cast<size_t>(n), 0);
    for (const auto& sr : live) {
        const KVRequest& r = sr->kv;
        const Ids ids = m.get_block_ids(r.request_id);
        if (!sr->running) {
            QVERIFY(ids.empty());
            continue;
        }
        QCOMPARE(static_cast<int32_t>(ids.size()), m.num_blocks_for_tokens(r.num_computed_tokens));
        QVERIFY(std::set<int32_t>(ids.begin(), ids.end()).size() == ids.size());
        for (size_t i = 0; i < ids.size(); ++i) {
            const int32_t id = ids[i];
            QVERIFY2(id > 0 && id < n, "null block or out of range in a block table");
            ++holders[static_cast<size_t>(id)];
            const KVCacheBlock& b = pool.block(id);
            const bool full = static_cast<int32_t>(i + 1) * bs <= r.num_computed_tokens;
            if (m.enable_caching() && full) {
                QVERIFY2(b.block_hash.has_value(), "full block without a hash");
                QVERIFY(*b.block_hash == r.block_hashes[i]);
            } else {
                QVERIFY2(!b.block_hash.has_value(), "hash on a partial block");
            }
        }
        // The request's hashes are those of its tokens.
        KVRequest fresh;
        fresh.token_ids = r.token_ids;
        fresh.extra_keys = r.extra_keys;
        fresh.update_block_hashes(bs);
        QVERIFY(r.block_hashes.size() <= fresh.block_hashes.size());
        QVERIFY(
            std::equal(r.block_hashes.begin(), r.block_hashes.end(), fresh.block_hashes.begin()));
    }

    // Every block is either free (ref 0, queued once) or held (ref == holders, not queued).
    const KVCacheBlock& null_block = pool.block(0);
    QVERIFY(null_block.is_null && null_block.ref_cnt == 0 && !null_block.in_free_queue());
    QVERIFY(!null_block.block_hash.has_value() && holders[0] == 0 && times_in_queue[0] == 0);
    int32_t num_used = 0;
    int32_t num_hashed = 0;
    for (int32_t id = 1; id < n; ++id) {
        const KVCacheBlock& b = pool.block(id);
        QCOMPARE(b.block_id, id);
        QVERIFY(!b.is_null);
        QCOMPARE(b.ref_cnt, holders[static_cast<size_t>(id)]);
        if (b.ref_cnt == 0) {
            QCOMPARE(times_in_queue[static_cast<size_t>(id)], 1);
            QVERIFY(b.in_free_queue());
        } else {
            QCOMPARE(times_in_queue[static_cast<size_t>(id)], 0);
            QVERIFY(!b.in_free_queue());
            ++num_used;
        }
        if (b.block_hash) ++num_hashed;
    }
    QCOMPARE(pool.get_num_free_blocks() + num_used, n - 1);
    if (n > 1) QCOMPARE(m.usage(), static_cast<double>(num_used) / (n - 1));

    // The map holds exactly the hashed blocks, each under its own hash.
    const auto entries = pool.cached_block_entries();
    QCOMPARE(static_cast<int32_t>(entries.size()), num_hashed);
    std::set<int32_t> mapped;
    for (const auto& [hash, id] : entries) {
        QVERIFY(pool.block(id).block_hash.has_value() && *pool.block(id).block_hash == hash);
        QVERIFY2(mapped.insert(id).second, "block mapped twice");
        const KVCacheBlock* found = pool.get_cached_block(hash);
        QVERIFY(found != nullptr && found->block_hash == hash);
    }
    if (!m.enable_caching()) QCOMPARE(num_hashed, 0);
}

}  // namespace

class TestKVCacheManager : public QObject {
    Q_OBJECT

  private slots:
    // A: 3.5 blocks; B shares A's first 2 full blocks; free A; C evicts LRU blocks; no-room; D
    // and F reuse freed-but-cached blocks from the middle of the free queue.
    void scriptedSharingAndEviction() {
        KVCacheManager m(12, 4);  // usable blocks 1..11
        QCOMPARE(m.num_free_blocks(), 11);
        QCOMPARE(m.block_pool().free_block_ids(), range(1, 11));

        KVRequest a = make_request("A", range(100, 14));
        QCOMPARE(m.get_computed_blocks(a).num_computed_tokens, 0);
        QCOMPARE(m.get_num_blocks_to_allocate(a, 14), 4);
        QCOMPARE(m.allocate_slots(a, 14), std::optional<Ids>(Ids{1, 2, 3, 4}));
        a.num_computed_tokens = 14;
        QCOMPARE(m.get_block_ids("A"), (Ids{1, 2, 3, 4}));
        QCOMPARE(a.block_hashes.size(), size_t{3});
        QCOMPARE(m.block_pool().get_cached_block(a.block_hashes[0])->block_id, 1);
        QCOMPARE(m.block_pool().get_cached_block(a.block_hashes[2])->block_id, 3);
        QVERIFY(!m.block_pool().block(4).block_hash.has_value());  // 2 tokens: partial
        QCOMPARE(m.block_pool().num_cached_blocks(), 3);

        // B = A's first 8 tokens + 5 of its own.
        KVRequest b = make_request("B", concat(range(100, 8), range(200, 5)));
        const ComputedBlocks hit_b = m.get_computed_blocks(b);
        QCOMPARE(hit_b.block_ids, (Ids{1, 2}));
        QCOMPARE(hit_b.num_computed_tokens, 8);
        QCOMPARE(m.get_num_blocks_to_allocate(b, 5, 8, hit_b.block_ids), 2);
        QCOMPARE(m.allocate_slots(b, 5, 8, hit_b.block_ids), std::optional<Ids>(Ids{5, 6}));
        b.num_computed_tokens = 13;
        QCOMPARE(m.get_block_ids("B"), (Ids{1, 2, 5, 6}));
        QCOMPARE(ref(m, 1), 2);
        QCOMPARE(ref(m, 2), 2);
        QCOMPARE(ref(m, 3), 1);
        QCOMPARE(ref(m, 5), 1);
        QCOMPARE(m.block_pool().get_cached_block(b.block_hashes[2])->block_id, 5);
        QCOMPARE(m.block_pool().free_block_ids(), range(7, 5));

        // Free A: its own blocks go to the tail last-first; shared ones stay held by B.
        m.free(a);
        QVERIFY(m.get_block_ids("A").empty());
        QCOMPARE(m.block_pool().free_block_ids(), (Ids{7, 8, 9, 10, 11, 4, 3}));
        QCOMPARE(ref(m, 1), 1);
        QCOMPARE(ref(m, 2), 1);
        QCOMPARE(ref(m, 3), 0);
        QVERIFY(cached(m, a.block_hashes[2]));  // free but still cached
        m.free(a);                              // no-op
        QCOMPARE(m.num_free_blocks(), 7);

        // C: 7 full blocks, no shared prefix. Takes the whole queue in LRU order; block 3's hash
        // (A's third block) is dropped.
        KVRequest c = make_request("C", range(300, 28));
        QCOMPARE(m.get_computed_blocks(c).num_computed_tokens, 0);
        QCOMPARE(m.allocate_slots(c, 28), std::optional<Ids>(Ids{7, 8, 9, 10, 11, 4, 3}));
        c.num_computed_tokens = 28;
        QVERIFY(!cached(m, a.block_hashes[2]));
        QVERIFY(cached(m, a.block_hashes[0]) && cached(m, a.block_hashes[1]));
        QCOMPARE(m.block_pool().get_cached_block(c.block_hashes[6])->block_id, 3);
        QCOMPARE(m.block_pool().num_cached_blocks(), 2 + 1 + 7);
        QCOMPARE(m.num_free_blocks(), 0);
        QCOMPARE(m.usage(), 1.0);

        // E does not fit: "no room", and nothing changed.
        KVRequest e = make_request("E", range(700, 5));
        const PoolSnapshot before = snapshot(m);
        const ComputedBlocks hit_e = m.get_computed_blocks(e);
        QVERIFY(hit_e.block_ids.empty());
        QCOMPARE(m.get_num_blocks_to_allocate(e, 5), 2);
        QCOMPARE(m.allocate_slots(e, 5), std::nullopt);
        QVERIFY(snapshot(m) == before);
        QVERIFY(m.get_block_ids("E").empty());

        // Free B, then C: queue = B's 6, 5, 2, 1 then C's 3, 4, 11, 10, 9, 8, 7.
        m.free(b);
        QCOMPARE(m.block_pool().free_block_ids(), (Ids{6, 5, 2, 1}));
        m.free(c);
        QCOMPARE(m.block_pool().free_block_ids(), (Ids{6, 5, 2, 1, 3, 4, 11, 10, 9, 8, 7}));
        QCOMPARE(m.usage(), 0.0);

        // D = B's first 12 tokens + 1: hits 1, 2, 5 (5 from the middle), 1 new block from the head.
        KVRequest d = make_request("D", b.token_ids);
        d.token_ids.resize(12);
        d.token_ids.push_back(400);
        const ComputedBlocks hit_d = m.get_computed_blocks(d);
        QCOMPARE(hit_d.block_ids, (Ids{1, 2, 5}));
        QCOMPARE(m.get_num_blocks_to_allocate(d, 1, 12, hit_d.block_ids), 4);  // 3 free hits + 1
        QCOMPARE(m.allocate_slots(d, 1, 12, hit_d.block_ids), std::optional<Ids>(Ids{6}));
        d.num_computed_tokens = 13;
        QCOMPARE(m.get_block_ids("D"), (Ids{1, 2, 5, 6}));
        QCOMPARE(m.block_pool().free_block_ids(), (Ids{3, 4, 11, 10, 9, 8, 7}));
        QCOMPARE(ref(m, 5), 1);

        // F = C's first 8 tokens + 1: hits 7 (tail) and 8 (middle); the new block is the LRU
        // head 3, C's last block, whose hash goes.
        KVRequest f = make_request("F", concat(range(300, 8), {600}));
        const ComputedBlocks hit_f = m.get_computed_blocks(f);
        QCOMPARE(hit_f.block_ids, (Ids{7, 8}));
        QVERIFY(cached(m, c.block_hashes[6]));
        QCOMPARE(m.allocate_slots(f, 1, 8, hit_f.block_ids), std::optional<Ids>(Ids{3}));
        QVERIFY(!cached(m, c.block_hashes[6]));
        QCOMPARE(m.block_pool().free_block_ids(), (Ids{4, 11, 10, 9}));
        QCOMPARE(m.get_block_ids("F"), (Ids{7, 8, 3}));

        // Null block 0 was never handed out.
        QCOMPARE(m.block_pool().null_block().ref_cnt, 0);
        QVERIFY(!m.block_pool().null_block().in_free_queue());
    }

    // A hit whose blocks are free counts them as needed: no room when they don't all fit.
    void noRoomCountsEvictableHits() {
        KVCacheManager m(5, 4);  // usable 1..4
        KVRequest a = make_request("A", range(0, 12));
        QVERIFY(admit(m, a).has_value());  // blocks 1, 2, 3
        m.free(a);
        QCOMPARE(m.block_pool().free_block_ids(), (Ids{4, 3, 2, 1}));

        KVRequest hog = make_request("hog", range(500, 4));
        QCOMPARE(m.allocate_slots(hog, 4), std::optional<Ids>(Ids{4}));
        hog.num_computed_tokens = 4;

        // B = A's 12 tokens + 5 of its own: hits 1, 2, 3, all free. 17 tokens need 5 blocks:
        // 3 free hits + 2 new > 3 free blocks.
        KVRequest b = make_request("B", concat(range(0, 12), range(900, 5)));
        const ComputedBlocks hit = m.get_computed_blocks(b);
        QCOMPARE(hit.block_ids, (Ids{1, 2, 3}));
        QCOMPARE(m.get_num_blocks_to_allocate(b, 5, 12, hit.block_ids), 5);
        const PoolSnapshot before = snapshot(m);
        QCOMPARE(m.allocate_slots(b, 5, 12, hit.block_ids), std::nullopt);
        QVERIFY(snapshot(m) == before);
        QVERIFY(m.get_block_ids("B").empty());
        // A 1-token chunk needs 4 blocks (3 free hits + 1 new): still more than 3.
        QCOMPARE(m.get_num_blocks_to_allocate(b, 1, 12, hit.block_ids), 4);
        QCOMPARE(m.allocate_slots(b, 1, 12, hit.block_ids), std::nullopt);
        QVERIFY(snapshot(m) == before);

        m.free(hog);
        QCOMPARE(m.block_pool().free_block_ids(), (Ids{3, 2, 1, 4}));
        QCOMPARE(m.allocate_slots(b, 5, 12, hit.block_ids), std::nullopt);  // 5 > 4 usable
        QCOMPARE(m.allocate_slots(b, 1, 12, hit.block_ids), std::optional<Ids>(Ids{4}));
        QCOMPARE(m.get_block_ids("B"), (Ids{1, 2, 3, 4}));
        QCOMPARE(m.num_free_blocks(), 0);
    }

    // The whole prompt is never a hit: at least the last token is recomputed.
    void lastTokenIsRecomputed() {
        KVCacheManager m(10, 4);
        KVRequest a = make_request("A", range(0, 8));
        QVERIFY(admit(m, a).has_value());
        QCOMPARE(m.block_pool().num_cached_blocks(), 2);

        KVRequest same = make_request("same", range(0, 8));  // exactly 2 cached blocks
        const ComputedBlocks hit = m.get_computed_blocks(same);
        QCOMPARE(hit.block_ids, (Ids{1}));
        QCOMPARE(hit.num_computed_tokens, 4);
        QCOMPARE(m.allocate_slots(same, 4, 4, hit.block_ids), std::optional<Ids>(Ids{3}));
        same.num_computed_tokens = 8;

        KVRequest longer = make_request("longer", range(0, 9));
        // Block 3 ("same"'s recomputed second block) carries the same hash as block 2: either is
        // a valid hit.
        const Ids longer_hit = m.get_computed_blocks(longer).block_ids;
        QCOMPARE(longer_hit.size(), size_t{2});
        QCOMPARE(longer_hit[0], 1);
        QVERIFY(longer_hit[1] == 2 || longer_hit[1] == 3);
        QCOMPARE(m.block_pool().block(3).block_hash, m.block_pool().block(2).block_hash);

        KVRequest one = make_request("one", range(0, 1));
        QVERIFY(m.get_computed_blocks(one).block_ids.empty());
        KVRequest empty = make_request("empty", {});
        QVERIFY(m.get_computed_blocks(empty).block_ids.empty());
    }

    // n > 1: the children are requests with the same prompt and share its full blocks, even when
    // admitted in the same step; partial and generated blocks are their own.
    void parallelSamplingSharesPrompt() {
        KVCacheManager m(16, 4);
        const std::vector<int32_t> prompt = range(10, 10);  // 2 full blocks + 2 tokens
        std::vector<KVRequest> kids;
        for (int i = 0; i < 3; ++i)
            kids.push_back(make_request(std::string("p-").append(std::to_string(i)), prompt));

        QCOMPARE(admit(m, kids[0]), std::optional<Ids>(Ids{1, 2, 3}));
        QCOMPARE(admit(m, kids[1]), std::optional<Ids>(Ids{4}));
        QCOMPARE(admit(m, kids[2]), std::optional<Ids>(Ids{5}));
        QCOMPARE(m.get_block_ids("p-1"), (Ids{1, 2, 4}));
        QCOMPARE(m.get_block_ids("p-2"), (Ids{1, 2, 5}));
        QCOMPARE(ref(m, 1), 3);
        QCOMPARE(ref(m, 2), 3);
        for (int32_t id : {3, 4, 5}) QCOMPARE(ref(m, id), 1);
        QCOMPARE(m.num_free_blocks(), 10);

        // Two decode steps: children 0 and 1 sample the same tokens, child 2 others.
        const std::vector<std::vector<int32_t>> samples = {
            {20, 21, 22}, {20, 21, 23}, {30, 31, 32}};
        for (int step = 0; step < 2; ++step) {
            for (int i = 0; i < 3; ++i) {
                QCOMPARE(decode(m, kids[static_cast<size_t>(i)],
                                samples[static_cast<size_t>(i)][static_cast<size_t>(step)]),
                         std::optional<Ids>(Ids{}));
            }
        }
        // Third blocks are full now: equal content in 3 and 4 gives one hash on both blocks.
        QCOMPARE(kids[0].block_hashes[2], kids[1].block_hashes[2]);
        QVERIFY(kids[2].block_hashes[2] != kids[0].block_hashes[2]);
        QCOMPARE(m.block_pool().block(3).block_hash, std::optional(kids[0].block_hashes[2]));
        QCOMPARE(m.block_pool().block(4).block_hash, std::optional(kids[0].block_hashes[2]));
        QCOMPARE(m.block_pool().num_cached_blocks(), 2 + 3);

        // Third step: each needs a new block.
        QCOMPARE(decode(m, kids[0], 22), std::optional<Ids>(Ids{6}));
        QCOMPARE(decode(m, kids[1], 23), std::optional<Ids>(Ids{7}));
        QCOMPARE(decode(m, kids[2], 32), std::optional<Ids>(Ids{8}));

        for (KVRequest& k : kids) m.free(k);
        QCOMPARE(m.block_pool().free_block_ids(),
                 (Ids{9, 10, 11, 12, 13, 14, 15, 6, 3, 7, 4, 8, 5, 2, 1}));
        QCOMPARE(m.usage(), 0.0);

        // A follow-up with child 1's text reuses the prompt blocks and one of the duplicates.
        KVRequest again = make_request("again", concat(prompt, {20, 21, 23}));
        const ComputedBlocks hit = m.get_computed_blocks(again);
        QCOMPARE(hit.block_ids.size(), size_t{3});
        QCOMPARE(hit.block_ids[0], 1);
        QCOMPARE(hit.block_ids[1], 2);
        QVERIFY(hit.block_ids[2] == 3 || hit.block_ids[2] == 4);
    }

    void prefixCacheStats() {
        KVCacheManager m(32, 4);
        QCOMPARE(m.prefix_cache_hit_rate(), 0.0);
        KVRequest x = make_request("X", range(0, 16));
        QVERIFY(admit(m, x).has_value());  // 16 queried, 0 hit
        KVRequest y = make_request("Y", concat(range(0, 8), range(50, 3)));
        QVERIFY(admit(m, y).has_value());  // 11 queried, 8 hit
        KVRequest z = make_request("Z", range(0, 16));
        QVERIFY(admit(m, z).has_value());  // 16 queried, 12 hit (the last block is recomputed)
        QCOMPARE(m.get_block_ids("Y"), (Ids{1, 2, 5}));
        QCOMPARE(m.get_block_ids("Z"), (Ids{1, 2, 3, 6}));

        const PrefixCacheStats& s = m.prefix_cache_stats();
        QCOMPARE(s.requests, int64_t{3});
        QCOMPARE(s.queries, int64_t{43});
        QCOMPARE(s.hits, int64_t{20});
        QCOMPARE(m.prefix_cache_hit_rate(), 20.0 / 43.0);

        // A preempted request that comes back finds its own blocks.
        m.free(x);
        x.num_computed_tokens = 0;
        const ComputedBlocks back = m.get_computed_blocks(x);
        QCOMPARE(back.block_ids, (Ids{1, 2, 3}));
        QCOMPARE(m.prefix_cache_stats().hits, int64_t{32});
        QCOMPARE(m.prefix_cache_stats().queries, int64_t{59});

        m.reset_prefix_cache_stats();
        QCOMPARE(m.prefix_cache_stats().requests, int64_t{0});
        QCOMPARE(m.prefix_cache_hit_rate(), 0.0);
    }

    void cachingDisabled() {
        KVCacheManager m(8, 4, false);
        QVERIFY(!m.enable_caching());
        KVRequest a = make_request("A", range(0, 9));
        QVERIFY(m.get_computed_blocks(a).block_ids.empty());
        QCOMPARE(admit(m, a), std::optional<Ids>(Ids{1, 2, 3}));
        KVRequest b = make_request("B", range(0, 9));
        QVERIFY(m.get_computed_blocks(b).block_ids.empty());
        QCOMPARE(admit(m, b), std::optional<Ids>(Ids{4, 5, 6}));
        QCOMPARE(m.block_pool().num_cached_blocks(), 0);
        QCOMPARE(m.prefix_cache_stats().requests, int64_t{0});
        m.free(a);
        m.free(b);
        QCOMPARE(m.num_free_blocks(), 7);
    }

    // Chunked prefill: blocks are added chunk by chunk and cached as they fill.
    void chunkedPrefill() {
        KVCacheManager m(16, 4);
        QCOMPARE(m.num_blocks_for_tokens(0), 0);
        QCOMPARE(m.num_blocks_for_tokens(1), 1);
        QCOMPARE(m.num_blocks_for_tokens(8), 2);
        QCOMPARE(m.num_blocks_for_tokens(9), 3);
        KVRequest a = make_request("A", range(0, 21));
        QCOMPARE(admit(m, a, 6), std::optional<Ids>(Ids{1, 2}));
        QCOMPARE(m.block_pool().num_cached_blocks(), 1);
        QCOMPARE(m.allocate_slots(a, 2), std::optional<Ids>(Ids{}));
        a.num_computed_tokens += 2;
        QCOMPARE(m.block_pool().num_cached_blocks(), 2);
        QCOMPARE(m.allocate_slots(a, 13), std::optional<Ids>(Ids{3, 4, 5, 6}));
        a.num_computed_tokens += 13;
        QCOMPARE(m.block_pool().num_cached_blocks(), 5);
        QCOMPARE(m.get_block_ids("A"), (Ids{1, 2, 3, 4, 5, 6}));
        // Slots reserved past the request's tokens (lookahead) are never cached: only what the
        // request really has.
        KVRequest ahead = make_request("ahead", range(700, 6));
        QCOMPARE(m.allocate_slots(ahead, 10), std::optional<Ids>(Ids{7, 8, 9}));
        QCOMPARE(m.block_pool().num_cached_blocks(), 6);
        QVERIFY(!m.block_pool().block(8).block_hash.has_value());
        // A request with other extra keys (another adapter) shares nothing.
        KVRequest lora = make_request("lora", range(0, 21));
        lora.extra_keys = {42};
        QVERIFY(m.get_computed_blocks(lora).block_ids.empty());
    }

    void randomized_data() {
        QTest::addColumn<uint32_t>("seed");
        QTest::addColumn<int32_t>("num_blocks");
        QTest::addColumn<int32_t>("block_size");
        QTest::addColumn<bool>("caching");
        QTest::addColumn<int32_t>("num_ops");
        QTest::newRow("bs4-seed1") << 1u << 48 << 4 << true << 6000;
        QTest::newRow("bs4-seed2") << 2u << 48 << 4 << true << 6000;
        QTest::newRow("bs4-seed3-tight") << 3u << 20 << 4 << true << 6000;
        QTest::newRow("bs16-seed4") << 4u << 24 << 16 << true << 4000;
        QTest::newRow("bs1-seed5") << 5u << 96 << 1 << true << 3000;
        QTest::newRow("nocache-seed6") << 6u << 48 << 4 << false << 4000;
    }

    // A scheduler-like random run: requests from a few shared stems (plus parallel-sampling
    // forks and other adapters), chunked prefill, decode, preemption, finish and abort. After
    // every operation all invariants are checked, and every prefix-cache hit is checked against
    // the KV actually written into the hit blocks.
    void randomized() {
        QFETCH(uint32_t, seed);
        QFETCH(int32_t, num_blocks);
        QFETCH(int32_t, block_size);
        QFETCH(bool, caching);
        QFETCH(int32_t, num_ops);

        std::mt19937 rng(seed);
        auto uniform = [&rng](int32_t lo, int32_t hi) {  // inclusive
            return lo + static_cast<int32_t>(rng() % static_cast<uint32_t>(hi - lo + 1));
        };
        KVCacheManager m(num_blocks, block_size, caching);
        const int32_t max_request_tokens = (num_blocks - 1) * block_size * 2 / 3;

        std::vector<std::vector<int32_t>> stems;
        for (int i = 0; i < 4; ++i) {
            std::vector<int32_t> stem;
            const int32_t len = uniform(0, max_request_tokens / 2);
            for (int32_t t = 0; t < len; ++t) stem.push_back(uniform(0, 1000));
            stems.push_back(std::move(stem));
        }

        // What each physical slot holds, as written by the simulated forward passes.
        std::vector<std::vector<Slot>> kv(static_cast<size_t>(num_blocks),
                                          std::vector<Slot>(static_cast<size_t>(block_size)));
        std::vector<std::unique_ptr<SimRequest>> live;
        int next_id = 0;
        int64_t num_hits = 0, num_no_room = 0, num_finished = 0;
        int64_t num_shared_writes = 0;  // KV written into a block another request holds: a bug

        auto find_block_table = [&](const KVRequest& r) { return m.get_block_ids(r.request_id); };
        // The step runs: KV of tokens [from, to) is written into the request's blocks.
        auto execute = [&](SimRequest& sr, int32_t from, int32_t to) -> bool {
            const Ids table = find_block_table(sr.kv);
            for (int32_t pos = from; pos < to; ++pos) {
                const int32_t id = table[static_cast<size_t>(pos / block_size)];
                if (m.block_pool().block(id).ref_cnt != 1) ++num_shared_writes;
                kv[static_cast<size_t>(id)][static_cast<size_t>(pos % block_size)] =
                    Slot{sr.kv.token_ids[static_cast<size_t>(pos)], key_of(sr.kv)};
            }
            sr.kv.num_computed_tokens = to;
            sr.running = true;
            if (to == sr.kv.num_tokens()) {
                if (sr.kv.num_tokens() >= sr.max_tokens) return true;  // finished
                sr.kv.token_ids.push_back(uniform(0, 3));              // sampled
            }
            return false;
        };
        auto remove_live = [&](size_t i) {
            m.free(live[i]->kv);
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
        };
        auto preempt = [&](SimRequest& sr) {
            m.free(sr.kv);
            sr.kv.num_computed_tokens = 0;
            sr.running = false;
        };
        auto add_request = [&](std::vector<int32_t> tokens, std::vector<uint64_t> keys) {
            auto sr = std::make_unique<SimRequest>();
            sr->kv.request_id = std::string("r").append(std::to_string(next_id++));
            sr->kv.token_ids = std::move(tokens);
            sr->kv.extra_keys = std::move(keys);
            sr->max_tokens = std::min(sr->kv.num_tokens() + uniform(0, 24), max_request_tokens);
            sr->max_tokens = std::max(sr->max_tokens, sr->kv.num_tokens());
            live.push_back(std::move(sr));
        };

        for (int32_t op = 0; op < num_ops; ++op) {
            const int32_t dice = uniform(0, 99);
            if (dice < 14 && live.size() < 24) {
                // New request: a prefix of a stem + a random suffix from a small vocabulary.
                const auto& stem = stems[static_cast<size_t>(uniform(0, 3))];
                std::vector<int32_t> tokens(
                    stem.begin(), stem.begin() + uniform(0, static_cast<int32_t>(stem.size())));
                const int32_t suffix = uniform(tokens.empty() ? 1 : 0, 12);
                for (int32_t t = 0; t < suffix; ++t) tokens.push_back(uniform(0, 5));
                if (static_cast<int32_t>(tokens.size()) > max_request_tokens) {
                    tokens.resize(static_cast<size_t>(max_request_tokens));
                }
                std::vector<uint64_t> keys;
                if (uniform(0, 9) == 0) keys.push_back(static_cast<uint64_t>(uniform(1, 2)));
                add_request(std::move(tokens), std::move(keys));
            } else if (dice < 17 && !live.empty() && live.size() < 24) {
                // Parallel sampling: n children with the same prompt.
                const SimRequest& parent =
                    *live[static_cast<size_t>(uniform(0, static_cast<int32_t>(live.size()) - 1))];
                const int32_t n = uniform(2, 4);
                for (int32_t i = 0; i < n; ++i)
                    add_request(parent.kv.token_ids, parent.kv.extra_keys);
            } else if (dice < 80 && !live.empty()) {
                // Schedule one request for a step.
                const size_t i =
                    static_cast<size_t>(uniform(0, static_cast<int32_t>(live.size()) - 1));
                SimRequest& sr = *live[i];
                const PoolSnapshot before = snapshot(m);
                std::optional<Ids> new_ids;
                int32_t from = sr.kv.num_computed_tokens;
                int32_t chunk = 0;
                const Ids table_before = find_block_table(sr.kv);
                if (!sr.running) {
                    const ComputedBlocks hit = m.get_computed_blocks(sr.kv);
                    QVERIFY(hit.num_computed_tokens <= std::max(sr.kv.num_tokens() - 1, 0));
                    QCOMPARE(hit.num_computed_tokens,
                             static_cast<int32_t>(hit.block_ids.size()) * block_size);
                    if (!caching) QVERIFY(hit.block_ids.empty());
                    // Every hit block holds exactly this request's KV for those positions.
                    for (size_t b = 0; b < hit.block_ids.size(); ++b) {
                        for (int32_t s = 0; s < block_size; ++s) {
                            const size_t pos =
                                b * static_cast<size_t>(block_size) + static_cast<size_t>(s);
                            QVERIFY2((kv[static_cast<size_t>(hit.block_ids[b])][static_cast<size_t>(
                                          s)] == Slot{sr.kv.token_ids[pos], key_of(sr.kv)}),
                                     "prefix-cache hit on a block with other KV");
                        }
                    }
                    num_hits += static_cast<int64_t>(hit.block_ids.size());
                    from = hit.num_computed_tokens;
                    chunk = uniform(1, std::min(sr.kv.num_tokens() - from, 24));
                    new_ids =
                        m.allocate_slots(sr.kv, chunk, hit.num_computed_tokens, hit.block_ids);
                    if (new_ids) {
                        const Ids table = find_block_table(sr.kv);
                        QVERIFY(
                            std::equal(hit.block_ids.begin(), hit.block_ids.end(), table.begin()));
                        QVERIFY(std::equal(
                            new_ids->begin(), new_ids->end(),
                            table.begin() + static_cast<std::ptrdiff_t>(hit.block_ids.size())));
                        QCOMPARE(table.size(), hit.block_ids.size() + new_ids->size());
                    }
                } else {
                    chunk = uniform(1, std::min(sr.kv.num_tokens() - from, 24));
                    new_ids = m.allocate_slots(sr.kv, chunk);
                    if (new_ids) QCOMPARE(find_block_table(sr.kv), concat(table_before, *new_ids));
                }
                if (new_ids) {
                    for (int32_t id : *new_ids) QVERIFY(id != 0);
                    if (execute(sr, from, from + chunk)) {
                        ++num_finished;
                        remove_live(i);
                    }
                } else {
                    ++num_no_room;
                    QVERIFY2(snapshot(m) == before, "failed allocation changed the pool");
                    QCOMPARE(find_block_table(sr.kv), table_before);
                    // Make room like the scheduler: preempt the request itself or another one.
                    if (uniform(0, 1) == 0) {
                        SimRequest& victim = *live[static_cast<size_t>(
                            uniform(0, static_cast<int32_t>(live.size()) - 1))];
                        if (victim.running) preempt(victim);
                    }
                }
            } else if (dice < 90 && !live.empty()) {
                // Finish or abort (waiting or mid-prefill or decoding).
                remove_live(static_cast<size_t>(uniform(0, static_cast<int32_t>(live.size()) - 1)));
            } else if (dice < 98 && !live.empty()) {
                SimRequest& sr =
                    *live[static_cast<size_t>(uniform(0, static_cast<int32_t>(live.size()) - 1))];
                if (sr.running) preempt(sr);
            } else {
                const bool anyone_holds = std::any_of(live.begin(), live.end(),
                                                      [](const auto& sr) { return sr->running; });
                QCOMPARE(m.reset_prefix_cache(), !anyone_holds);
                if (!anyone_holds) QCOMPARE(m.block_pool().num_cached_blocks(), 0);
            }
            QCOMPARE(num_shared_writes, int64_t{0});
            check_invariants(m, live);
            if (QTest::currentTestFailed()) {
                qWarning("failed after op %d", op);
                return;
            }
        }
        while (!live.empty()) remove_live(live.size() - 1);
        check_invariants(m, live);
        QCOMPARE(m.num_free_blocks(), num_blocks - 1);
        QCOMPARE(m.usage(), 0.0);
        // The run exercised what it is meant to.
        QVERIFY(num_no_room > 0);
        QVERIFY(num_finished > 0);
        if (caching) QVERIFY(num_hits > 0);
        qInfo("hits %lld, no-room %lld, finished %lld, hit rate %.3f",
              static_cast<long long>(num_hits), static_cast<long long>(num_no_room),
              static_cast<long long>(num_finished), m.prefix_cache_hit_rate());
    }
};

QTEST_GUILESS_MAIN(TestKVCacheManager)
#include "test_kv_cache_manager.moc"
