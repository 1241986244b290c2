// Scheduler: token budgets, chunked prefill mixed with decodes, preemption under a tiny pool,
// aborts and finished requests freeing blocks at once, priorities, prefix caching, stop checks.
// Driven with a fake model: a fake KV cache stores, at each token's slot, a hash of the sequence
// up to that token, and every step checks that each request reads exactly its own history
// through its block table; the "sampled" token is a hash of the whole sequence so far, so a
// request's output does not depend on how it was scheduled.
#include <QtTest>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "kv/kv_cache_manager.h"
#include "sched/scheduler.h"

using namespace folio;

namespace {

// "r" + std::to_string(i) without GCC 12's -Wrestrict false positive.
std::string name(const char* prefix, int i) {
    std::string s(prefix);
    s.append(std::to_string(i));
    return s;
}

uint64_t chain_hash(const std::vector<int32_t>& tokens, int32_t upto) {
    uint64_t h = 1469598103934665603ull;
    for (int32_t i = 0; i <= upto; ++i) {
        h ^= static_cast<uint64_t>(tokens[static_cast<size_t>(i)]) + 0x9E3779B97F4A7C15ull;
        h *= 1099511628211ull;
    }
    return h;
}

int32_t fake_token(const std::vector<int32_t>& tokens) {
    return 3 +
           static_cast<int32_t>(chain_hash(tokens, static_cast<int32_t>(tokens.size()) - 1) % 500);
}

std::vector<int32_t> make_prompt(int32_t seed, int32_t len) {
    std::vector<int32_t> p;
    for (int32_t i = 0; i < len; ++i) p.push_back(3 + (seed * 131 + i * 7919) % 500);
    return p;
}

StopCriteria max_tokens(int32_t n) {
    StopCriteria s;
    s.max_tokens = n;
    return s;
}

struct Sim {
    SchedulerConfig cfg;
    int32_t block_size;
    KVCacheManager kv;
    Scheduler sched;
    std::vector<uint64_t> kv_slots;
    std::map<std::string, std::vector<int32_t>> outputs;
    std::map<std::string, RequestStatus> status;
    std::vector<SchedulerOutput> history;  // request pointers inside are stale; counts only
    int64_t arrivals = 0;

    Sim(int32_t num_blocks, int32_t bs, SchedulerConfig c, bool caching = true)
        : cfg(c),
          block_size(bs),
          kv(num_blocks, bs, caching),
          sched(c, kv),
          kv_slots(static_cast<size_t>(num_blocks) * bs, 0) {}

    void add(const std::string& id, std::vector<int32_t> prompt, StopCriteria stop,
             int32_t priority = 0) {
        sched.add_request(std::make_unique<Request>(id, std::move(prompt), std::move(stop),
                                                    priority, arrivals++));
        outputs[id];
    }

    int32_t used_blocks() const { return kv.num_blocks() - 1 - kv.num_free_blocks(); }

    // One step; QVERIFY-style failures are reported through the return value of check().
    bool step(std::string* error = nullptr) {
        SchedulerOutput so = sched.schedule();
        auto fail = [&](const std::string& e) {
            if (error) *error = e;
            return false;
        };
        int32_t total = 0;
        for (const ScheduledRequest& s : so.requests) total += s.num_scheduled_tokens;
        if (total != so.total_num_scheduled_tokens) return fail("token total mismatch");
        if (total > cfg.max_num_batched_tokens) return fail("token budget exceeded");
        if (static_cast<int32_t>(so.requests.size()) > cfg.max_num_seqs)
            return fail("max_num_seqs exceeded (scheduled)");
        if (sched.num_running() > cfg.max_num_seqs) return fail("max_num_seqs exceeded (running)");
        for (const std::string& id : so.failed_request_ids)
            status[id] = RequestStatus::FinishedError;
        // Store K/V of every scheduled token, then check every request reads its own history.
        for (const ScheduledRequest& s : so.requests) {
            const auto& tokens = s.request->kv.token_ids;
            const int32_t end = s.num_computed_tokens + s.num_scheduled_tokens;
            if (static_cast<int32_t>(s.block_ids.size()) * block_size < end)
                return fail("block table too short");
            for (int32_t p = s.num_computed_tokens; p < end; ++p)
                kv_slots[static_cast<size_t>(s.block_ids[p / block_size] * block_size +
                                             p % block_size)] = chain_hash(tokens, p);
        }
        std::vector<int32_t> sampled(so.requests.size(), -1);
        for (size_t i = 0; i < so.requests.size(); ++i) {
            const ScheduledRequest& s = so.requests[i];
            const auto& tokens = s.request->kv.token_ids;
            const int32_t end = s.num_computed_tokens + s.num_scheduled_tokens;
            for (int32_t p = 0; p < end; ++p) {
                const int32_t block = s.block_ids[static_cast<size_t>(p / block_size)];
                if (block == 0) return fail("null block in a block table");
                if (kv_slots[static_cast<size_t>(block * block_size + p % block_size)] !=
                    chain_hash(tokens, p))
                    return fail("request " + s.request->request_id() + " reads a wrong KV at " +
                                std::to_string(p));
            }
            if (s.sample) sampled[i] = fake_token(tokens);
        }
        const std::vector<RequestUpdate> updates = sched.update_from_output(so, sampled);
        for (const RequestUpdate& u : updates) {
            if (u.new_token_id >= 0 && !u.stopped_by_token)
                outputs[u.request_id].push_back(u.new_token_id);
            if (is_finished(u.status)) status[u.request_id] = u.status;
        }
        history.push_back(std::move(so));
        return true;
    }

    bool run(int max_steps = 10000, std::string* error = nullptr) {
        for (int i = 0; i < max_steps && sched.has_unfinished_requests(); ++i)
            if (!step(error)) return false;
        return !sched.has_unfinished_requests();
    }
};

// The tokens `prompt` produces when it runs alone in a roomy pool.
std::vector<int32_t> alone(const std::vector<int32_t>& prompt, int32_t n) {
    Sim sim(1024, 4, SchedulerConfig{4, 64, 4096});
    sim.add("x", prompt, max_tokens(n));
    sim.run();
    return sim.outputs["x"];
}

}  // namespace

class TestScheduler : public QObject {
    Q_OBJECT
  private slots:
    void budgets_respected_every_step() {
        SchedulerConfig cfg{4, 48, 1024};
        Sim sim(200, 4, cfg);
        std::map<std::string, std::pair<std::vector<int32_t>, int32_t>> reqs;
        for (int i = 0; i < 14; ++i) {
            const std::string id = name("r", i);
            auto prompt = make_prompt(i, 1 + (i * 37) % 150);
            const int32_t n = 1 + (i * 13) % 20;
            reqs[id] = {prompt, n};
            sim.add(id, prompt, max_tokens(n));
        }
        std::string err;
        QVERIFY2(sim.run(10000, &err), err.c_str());
        for (const auto& [id, r] : reqs) {
            QCOMPARE(sim.status[id], RequestStatus::FinishedLength);
            QCOMPARE(sim.outputs[id], alone(r.first, r.second));
        }
        // The budget was used: some steps were full.
        int full = 0;
        for (const auto& so : sim.history)
            full += so.total_num_scheduled_tokens == cfg.max_num_batched_tokens;
        QVERIFY(full > 0);
        QCOMPARE(sim.used_blocks(), 0);
    }

    void chunked_prefill_alongside_decodes() {
        SchedulerConfig cfg{8, 32, 1024};
        Sim sim(200, 4, cfg);
        sim.add("a", make_prompt(1, 5), max_tokens(40));
        sim.add("b", make_prompt(2, 6), max_tokens(40));
        std::string err;
        QVERIFY2(sim.step(&err), err.c_str());  // a and b prefill
        QVERIFY2(sim.step(&err), err.c_str());  // a and b decode
        QCOMPARE(sim.history.back().total_num_scheduled_tokens, 2);
        const auto long_prompt = make_prompt(3, 200);
        sim.add("long", long_prompt, max_tokens(5));
        std::vector<int> chunks;
        while (sim.status.count("long") == 0) {
            const size_t before = sim.history.size();
            QVERIFY2(sim.step(&err), err.c_str());
            const SchedulerOutput& so = sim.history[before];
            int decodes = 0, long_tokens = 0;
            for (const auto& s : so.requests) {
                // a and b only decode now (1 token on top of computed ones); the rest is long.
                if (s.num_scheduled_tokens == 1 && s.num_computed_tokens > 0)
                    ++decodes;
                else
                    long_tokens = s.num_scheduled_tokens;
            }
            if (long_tokens > 1) {
                chunks.push_back(long_tokens);
                // Decodes of a and b ride in the same step as the chunk.
                QCOMPARE(decodes, 2);
            }
            QVERIFY(sim.history.size() < 200);
        }
        // 200 prompt tokens in chunks of budget - 2 decodes = 30, the last one smaller.
        QCOMPARE(std::accumulate(chunks.begin(), chunks.end(), 0), 200);
        QCOMPARE(static_cast<int>(chunks.size()), 7);
        for (size_t i = 0; i + 1 < chunks.size(); ++i) QCOMPARE(chunks[i], 30);
        QVERIFY2(sim.run(10000, &err), err.c_str());
        QCOMPARE(sim.outputs["long"], alone(long_prompt, 5));
        QCOMPARE(sim.outputs["a"], alone(make_prompt(1, 5), 40));
    }

    // With long_prefill_token_threshold, a long prompt is computed in chunks no larger than the
    // cap even when the budget has room, and the decodes beside it run every step.
    void long_prefill_is_capped_per_step() {
        SchedulerConfig cfg{8, 64, 1024};
        cfg.long_prefill_token_threshold = 16;
        Sim sim(200, 4, cfg);
        sim.add("a", make_prompt(1, 5), max_tokens(40));
        std::string err;
        QVERIFY2(sim.step(&err), err.c_str());  // a prefills (5 <= 16)
        const auto long_prompt = make_prompt(3, 100);
        sim.add("long", long_prompt, max_tokens(3));
        std::vector<int> chunks;
        while (sim.status.count("long") == 0) {
            const size_t before = sim.history.size();
            QVERIFY2(sim.step(&err), err.c_str());
            const SchedulerOutput& so = sim.history[before];
            bool a_decoded = false;
            for (const auto& s : so.requests) {
                if (s.num_scheduled_tokens > 1) chunks.push_back(s.num_scheduled_tokens);
                if (s.num_scheduled_tokens == 1 && s.num_computed_tokens >= 5) a_decoded = true;
            }
            if (sim.status.count("a") == 0) QVERIFY(a_decoded);
            QVERIFY(sim.history.size() < 200);
        }
        QCOMPARE(std::accumulate(chunks.begin(), chunks.end(), 0), 100);
        for (int c : chunks) QVERIFY(c <= 16);
        QCOMPARE(static_cast<int>(chunks.size()), 7);  // 6 x 16 + 4
        QVERIFY2(sim.run(10000, &err), err.c_str());
        QCOMPARE(sim.outputs["long"], alone(long_prompt, 3));
        QCOMPARE(sim.outputs["a"], alone(make_prompt(1, 5), 40));
    }

    void preemption_under_tiny_pool() {
        // 12 usable blocks of 4 tokens = 48 token kv_slots; 4 requests of 10 + 20 tokens need 32.
        SchedulerConfig cfg{8, 64, 48};
        Sim sim(13, 4, cfg);
        std::vector<std::vector<int32_t>> prompts;
        for (int i = 0; i < 4; ++i) {
            prompts.push_back(make_prompt(10 + i, 10));
            sim.add(name("p", i), prompts.back(), max_tokens(20));
        }
        std::string err;
        QVERIFY2(sim.run(10000, &err), err.c_str());
        QVERIFY(sim.sched.counters().num_preemptions > 0);
        int preempt_steps = 0;
        for (const auto& so : sim.history) preempt_steps += !so.preempted_request_ids.empty();
        QVERIFY(preempt_steps > 0);
        for (int i = 0; i < 4; ++i) {
            const std::string id = name("p", i);
            QCOMPARE(sim.status[id], RequestStatus::FinishedLength);
            QCOMPARE(sim.outputs[id], alone(prompts[static_cast<size_t>(i)], 20));
        }
        QCOMPARE(sim.used_blocks(), 0);
    }

    void preemption_takes_lowest_priority_first() {
        SchedulerConfig cfg{8, 64, 48};
        Sim sim(13, 4, cfg);
        sim.add("low", make_prompt(1, 10), max_tokens(30), /*priority=*/5);
        sim.add("high", make_prompt(2, 10), max_tokens(30), /*priority=*/0);
        std::string err;
        std::vector<std::string> preempted;
        while (sim.sched.has_unfinished_requests()) {
            QVERIFY2(sim.step(&err), err.c_str());
            for (const auto& id : sim.history.back().preempted_request_ids) preempted.push_back(id);
            QVERIFY(sim.history.size() < 1000);
        }
        QVERIFY(!preempted.empty());
        for (const auto& id : preempted) QCOMPARE(id, std::string("low"));
        QCOMPARE(sim.outputs["low"], alone(make_prompt(1, 10), 30));
        QCOMPARE(sim.outputs["high"], alone(make_prompt(2, 10), 30));
    }

    void waiting_admitted_by_priority_then_arrival() {
        SchedulerConfig cfg{1, 64, 1024};
        Sim sim(100, 4, cfg);
        sim.add("first", make_prompt(1, 4), max_tokens(1), 1);
        sim.add("second", make_prompt(2, 4), max_tokens(1), 1);
        sim.add("urgent", make_prompt(3, 4), max_tokens(1), 0);
        std::vector<std::string> order;
        std::string err;
        while (sim.sched.has_unfinished_requests()) {
            const auto before = sim.status.size();
            QVERIFY2(sim.step(&err), err.c_str());
            if (sim.status.size() > before) {
                for (const auto& [id, st] : sim.status)
                    if (std::find(order.begin(), order.end(), id) == order.end())
                        order.push_back(id);
            }
        }
        QCOMPARE(order, (std::vector<std::string>{"urgent", "first", "second"}));
    }

    void abort_frees_blocks_in_the_same_step() {
        SchedulerConfig cfg{8, 64, 1024};
        Sim sim(100, 4, cfg);
        sim.add("keep", make_prompt(1, 20), max_tokens(50));
        sim.add("drop", make_prompt(2, 30), max_tokens(50));
        std::string err;
        for (int i = 0; i < 3; ++i) QVERIFY2(sim.step(&err), err.c_str());
        const int32_t used_before = sim.used_blocks();
        const int32_t drop_blocks = static_cast<int32_t>(sim.kv.get_block_ids("drop").size());
        QVERIFY(drop_blocks > 0);
        const std::vector<std::string> ids{"drop", "unknown"};
        QCOMPARE(sim.sched.finish_requests(ids, RequestStatus::FinishedAborted),
                 std::vector<std::string>{"drop"});
        QCOMPARE(sim.used_blocks(), used_before - drop_blocks);
        QVERIFY(sim.sched.get_request("drop") == nullptr);
        QCOMPARE(sim.sched.num_running(), 1);
        QVERIFY2(sim.step(&err), err.c_str());
        QCOMPARE(static_cast<int>(sim.history.back().requests.size()), 1);
        // Aborting a waiting request works too.
        sim.add("queued", make_prompt(3, 8), max_tokens(5));
        const std::vector<std::string> q{"queued"};
        sim.sched.finish_requests(q, RequestStatus::FinishedAborted);
        QCOMPARE(sim.sched.num_waiting(), 0);
        QVERIFY2(sim.run(10000, &err), err.c_str());
        QCOMPARE(sim.used_blocks(), 0);
    }

    void finished_requests_free_blocks() {
        SchedulerConfig cfg{8, 64, 1024};
        Sim sim(100, 4, cfg, /*caching=*/false);
        sim.add("short", make_prompt(1, 9), max_tokens(2));
        sim.add("long", make_prompt(2, 9), max_tokens(40));
        std::string err;
        QVERIFY2(sim.step(&err), err.c_str());  // prefill both, first token each
        const int32_t long_blocks = static_cast<int32_t>(sim.kv.get_block_ids("long").size());
        QVERIFY2(sim.step(&err), err.c_str());  // "short" samples its 2nd token: finished
        QCOMPARE(sim.status["short"], RequestStatus::FinishedLength);
        QVERIFY(sim.sched.get_request("short") == nullptr);
        QCOMPARE(sim.used_blocks(), long_blocks);
        QCOMPARE(sim.outputs["short"].size(), size_t{2});
    }

    void stop_tokens_and_min_tokens() {
        // The fake model's tokens for this prompt; make its 2nd and 4th tokens stop tokens.
        const auto prompt = make_prompt(7, 6);
        const auto ref = alone(prompt, 10);
        StopCriteria stop;
        stop.max_tokens = 10;
        stop.stop_token_ids = {ref[1], ref[3]};
        stop.min_tokens = 2;  // ref[1] is the 2nd token: too early to stop
        if (ref[0] == ref[3] || ref[2] == ref[1] || ref[2] == ref[3]) QSKIP("fake tokens collide");
        Sim sim(100, 4, SchedulerConfig{4, 64, 1024});
        sim.add("s", prompt, stop);
        std::string err;
        QVERIFY2(sim.run(10000, &err), err.c_str());
        QCOMPARE(sim.status["s"], RequestStatus::FinishedStopped);
        QCOMPARE(sim.outputs["s"], std::vector<int32_t>(ref.begin(), ref.begin() + 3));
    }

    void context_length_ends_requests() {
        Sim sim(100, 4, SchedulerConfig{4, 64, 20});
        sim.add("c", make_prompt(1, 15), StopCriteria{});
        std::string err;
        QVERIFY2(sim.run(10000, &err), err.c_str());
        QCOMPARE(sim.status["c"], RequestStatus::FinishedLength);
        QCOMPARE(sim.outputs["c"].size(), size_t{5});
    }

    void request_that_can_never_fit_fails() {
        // 4 usable blocks of 4 tokens: a 20-token prompt never fits; the other one still runs.
        Sim sim(5, 4, SchedulerConfig{4, 64, 1024});
        sim.add("big", make_prompt(1, 20), max_tokens(1));
        sim.add("small", make_prompt(2, 5), max_tokens(3));
        std::string err;
        QVERIFY2(sim.run(100, &err), err.c_str());
        QCOMPARE(sim.status["big"], RequestStatus::FinishedError);
        QCOMPARE(sim.status["small"], RequestStatus::FinishedLength);
        // Growing past the pool while alone fails too, instead of preempting itself forever.
        Sim grow(5, 4, SchedulerConfig{4, 64, 1024});
        grow.add("g", make_prompt(3, 10), max_tokens(30));
        QVERIFY2(grow.run(100, &err), err.c_str());
        QCOMPARE(grow.status["g"], RequestStatus::FinishedError);
        QCOMPARE(grow.outputs["g"].size(), size_t{16 - 10 + 1});
        QCOMPARE(grow.used_blocks(), 0);
    }

    void prefix_caching_shares_blocks() {
        Sim sim(100, 4, SchedulerConfig{8, 256, 1024});
        auto prefix = make_prompt(5, 40);
        auto a = prefix, b = prefix;
        a.push_back(7);
        b.push_back(8);
        sim.add("a", a, max_tokens(4));
        std::string err;
        QVERIFY2(sim.step(&err), err.c_str());
        sim.add("b", b, max_tokens(4));
        QVERIFY2(sim.step(&err), err.c_str());
        const Request* rb = sim.sched.get_request("b");
        QVERIFY(rb != nullptr);
        QCOMPARE(rb->num_cached_tokens, 40);
        const auto ba = sim.kv.get_block_ids("a"), bb = sim.kv.get_block_ids("b");
        QVERIFY(std::equal(ba.begin(), ba.begin() + 10, bb.begin()));
        QVERIFY(sim.kv.prefix_cache_hit_rate() > 0);
        QVERIFY2(sim.run(10000, &err), err.c_str());
        QCOMPARE(sim.outputs["b"], alone(b, 4));
        // Parallel sampling style: equal prompts admitted in the same step share blocks too.
        Sim par(100, 4, SchedulerConfig{8, 256, 1024});
        for (int i = 0; i < 3; ++i) par.add(name("c", i), prefix, max_tokens(3));
        QVERIFY2(par.step(&err), err.c_str());
        QCOMPARE(par.history[0].total_num_scheduled_tokens, 40 + 4 + 4);
        QVERIFY2(par.run(10000, &err), err.c_str());
        for (int i = 0; i < 3; ++i) QCOMPARE(par.outputs[name("c", i)], alone(prefix, 3));
    }

    void randomized_invariants() {
        // Many requests with random lengths, priorities and aborts against a small pool.
        uint64_t state = 12345;
        auto rnd = [&](int n) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            return static_cast<int>((state >> 33) % static_cast<uint64_t>(n));
        };
        SchedulerConfig cfg{6, 40, 120};
        Sim sim(40, 4, cfg);
        std::map<std::string, std::pair<std::vector<int32_t>, int32_t>> reqs;
        std::set<std::string> aborted;
        int next = 0;
        std::string err;
        for (int stepi = 0; stepi < 3000 && (next < 60 || sim.sched.has_unfinished_requests());
             ++stepi) {
            if (next < 60 && rnd(3) == 0) {
                const std::string id = name("q", next);
                auto prompt = make_prompt(rnd(4) == 0 ? 99 : next, 1 + rnd(60));
                const int32_t n = 1 + rnd(40);
                reqs[id] = {prompt, n};
                sim.add(id, prompt, max_tokens(n), rnd(3));
                ++next;
            }
            if (rnd(40) == 0 && next > 0) {
                const std::vector<std::string> ids{name("q", rnd(next))};
                for (const auto& id :
                     sim.sched.finish_requests(ids, RequestStatus::FinishedAborted))
                    aborted.insert(id);
            }
            QVERIFY2(sim.step(&err), err.c_str());
        }
        QVERIFY(!sim.sched.has_unfinished_requests());
        QCOMPARE(sim.used_blocks(), 0);
        QVERIFY(sim.sched.counters().num_preemptions > 0);
        for (const auto& [id, r] : reqs) {
            if (aborted.count(id)) continue;
            QCOMPARE(sim.status[id], RequestStatus::FinishedLength);
            const auto& out = sim.outputs[id];
            const auto ref = alone(r.first, r.second);
            // Requests cut by max_model_len (120) are a prefix of the reference.
            QVERIFY(out.size() <= ref.size());
            QVERIFY(std::equal(out.begin(), out.end(), ref.begin()));
        }
    }
};

QTEST_GUILESS_MAIN(TestScheduler)
#include "test_scheduler.moc"
