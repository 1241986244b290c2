// folio::Engine's public API on a real model (stories260K): streaming deltas, aborts freeing KV
// blocks, parallel sampling (n > 1) sharing prompt blocks, logprobs, finish reasons and usage,
// clear validation errors while the engine keeps serving, shutdown with live requests.
#include <QtTest/QtTest>

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "folio/engine.h"
#include "model/model.h"
#include "shared_data.h"

using namespace folio;

namespace {

std::string golden_text(const std::string& prompt) {
    std::istringstream in(test::read_file(test::shared_path("golden/logits/stories260K.jsonl")));
    std::string line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line);
        if (j["prompt"] == prompt) return j["text"].get<std::string>();
    }
    return {};
}

SamplingParams greedy(int max_tokens) {
    SamplingParams p;
    p.temperature = 0;
    p.max_tokens = max_tokens;
    return p;
}

RequestSpec text_request(const std::string& prompt, const SamplingParams& p) {
    RequestSpec s;
    s.prompt = prompt;
    s.sampling = p;
    return s;
}

// Polls stats until `pred` holds (the engine thread publishes them after each iteration).
template <typename Pred>
bool wait_for_stats(const Engine& e, Pred pred) {
    for (int i = 0; i < 2000; ++i) {
        if (pred(e.stats())) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

std::string expect_invalid(Engine& e, RequestSpec spec) {
    try {
        e.submit(std::move(spec));
    } catch (const std::invalid_argument& ex) {
        return ex.what();
    }
    return "<no error>";
}

}  // namespace

class TestEngineApi : public QObject {
    Q_OBJECT

    std::shared_ptr<const Model> model_;
    std::unique_ptr<Engine> engine_;

    EngineConfig config() const {
        EngineConfig c;
        c.num_threads = 2;
        c.num_kv_blocks = 256;
        c.max_model_len = 512;
        return c;
    }

  private slots:
    void initTestCase() {
        model_ =
            std::shared_ptr<const Model>(Model::load(test::shared_path("models/stories260K.gguf")));
        engine_ = Engine::create(model_, config());
        QCOMPARE(engine_->info().num_kv_blocks, int64_t{256});
        QCOMPARE(engine_->info().max_model_len, int64_t{512});
        QVERIFY(engine_->info().bytes_per_block > 0);
    }

    void streaming_deltas_concatenate_to_final_text() {
        const std::string expected = golden_text("Once upon a time");
        QVERIFY(!expected.empty());
        RequestHandle h = engine_->submit(text_request("Once upon a time", greedy(32)));
        QVERIFY(!h.request_id().empty());
        QCOMPARE(h.prompt_token_ids(), model_->vocab().tokenize("Once upon a time", true, false));
        std::string text;
        std::vector<int32_t> tokens;
        int deltas = 0;
        std::optional<RequestOutput> last;
        while (auto out = h.next()) {
            ++deltas;
            QCOMPARE(out->request_id, h.request_id());
            for (const auto& c : out->outputs) {
                QCOMPARE(c.index, 0);
                text += c.text;
                tokens.insert(tokens.end(), c.token_ids.begin(), c.token_ids.end());
            }
            last = std::move(out);
        }
        QVERIFY(h.done());
        QVERIFY(!h.next().has_value());
        QVERIFY(deltas > 10);  // streamed, not one blob
        QVERIFY(last && last->finished);
        QCOMPARE(text, expected);
        QCOMPARE(static_cast<int>(tokens.size()), 32);
        QCOMPARE(last->outputs.back().finish_reason, std::optional(FinishReason::Length));
        QCOMPARE(last->usage.prompt_tokens, static_cast<int64_t>(h.prompt_token_ids().size()));
        QCOMPARE(last->usage.completion_tokens, int64_t{32});
        QVERIFY(last->metrics.prefill_seconds() > 0);
        QVERIFY(last->metrics.decode_seconds() > 0);
        QVERIFY(last->metrics.finished_time >= last->metrics.last_token_time);
        QCOMPARE(model_->vocab().detokenize(tokens, false, false), expected);

        // collect() merges the same stream.
        RequestOutput merged =
            engine_->submit(text_request("Once upon a time", greedy(32))).collect();
        QCOMPARE(merged.outputs.size(), size_t{1});
        QCOMPARE(merged.outputs[0].text, expected);
        QCOMPARE(merged.outputs[0].token_ids, tokens);
    }

    void stop_strings_and_finish_reasons() {
        SamplingParams p = greedy(32);
        p.stop = {"little"};
        RequestOutput out = engine_->submit(text_request("Once upon a time", p)).collect();
        QCOMPARE(out.outputs[0].finish_reason, std::optional(FinishReason::Stop));
        QCOMPARE(out.outputs[0].text, std::string(", there was a "));
        // A stop token: the golden continuation's third token.
        RequestSpec spec = text_request("Once upon a time", greedy(32));
        RequestOutput full = engine_->submit(spec).collect();
        spec.sampling.stop_token_ids = {full.outputs[0].token_ids[2]};
        RequestOutput stopped = engine_->submit(spec).collect();
        QCOMPARE(stopped.outputs[0].finish_reason, std::optional(FinishReason::Stop));
        QCOMPARE(stopped.outputs[0].token_ids,
                 std::vector<int32_t>(full.outputs[0].token_ids.begin(),
                                      full.outputs[0].token_ids.begin() + 2));
        QCOMPARE(stopped.usage.completion_tokens, int64_t{3});  // the stop token counts
        // The context limit ends a request with Length.
        EngineConfig c = config();
        c.max_model_len = 20;
        auto small = Engine::create(model_, c);
        SamplingParams unbounded;
        unbounded.temperature = 0;
        unbounded.ignore_eos = true;
        RequestSpec s2;
        s2.prompt_tokens = model_->vocab().tokenize("Once upon a time", true, false);
        s2.sampling = unbounded;
        RequestOutput capped = small->submit(s2).collect();
        QCOMPARE(capped.outputs[0].finish_reason, std::optional(FinishReason::Length));
        QCOMPARE(capped.outputs[0].token_ids.size() + s2.prompt_tokens.size(), size_t{20});
    }

    void abort_mid_stream_frees_blocks() {
        SamplingParams p;
        p.temperature = 0;
        p.ignore_eos = true;  // runs to the context limit unless aborted
        RequestHandle h = engine_->submit(text_request("Once upon a time", p));
        int seen = 0;
        while (seen < 3) {
            auto out = h.next();
            QVERIFY(out && !out->finished);
            seen += static_cast<int>(out->outputs.size());
        }
        QVERIFY(engine_->stats().kv_blocks_used > 0);
        h.abort();
        std::optional<FinishReason> reason;
        while (auto out = h.next())
            for (const auto& c : out->outputs)
                if (c.finish_reason) reason = c.finish_reason;
        QCOMPARE(reason, std::optional(FinishReason::Abort));
        EngineStats s = engine_->stats();
        QCOMPARE(s.kv_blocks_used, int64_t{0});
        QCOMPARE(s.num_running, 0);
        QCOMPARE(s.num_waiting, 0);
        QCOMPARE(s.kv_blocks_free, s.kv_blocks_total);

        // Abort by id, and by dropping the handle (a client disconnect).
        RequestSpec spec = text_request("Once upon a time", p);
        spec.request_id = "to-abort";
        RequestHandle h2 = engine_->submit(spec);
        QVERIFY(h2.next().has_value());
        engine_->abort("to-abort");
        RequestOutput rest = h2.collect();
        QVERIFY(rest.finished);
        QCOMPARE(rest.outputs.back().finish_reason, std::optional(FinishReason::Abort));
        {
            RequestHandle dropped = engine_->submit(text_request("The dog", p));
            QVERIFY(dropped.next().has_value());
        }
        QVERIFY(wait_for_stats(*engine_, [](const EngineStats& st) {
            return st.kv_blocks_used == 0 && st.num_running == 0;
        }));
        // The id is free again once the request finished.
        RequestSpec again_spec = text_request("Once upon a time", greedy(4));
        again_spec.request_id = "to-abort";
        RequestOutput again = engine_->submit(again_spec).collect();
        QCOMPARE(again.outputs[0].token_ids.size(), size_t{4});
    }

    void parallel_sampling_is_reproducible_and_shares_blocks() {
        // A prompt of 3+ blocks, so the n children can share its full blocks.
        std::vector<int32_t> prompt = model_->vocab().tokenize(
            "The quick brown fox jumps over the lazy dog. It was a sunny day and", true, false);
        QVERIFY(prompt.size() >= 33);
        SamplingParams p;
        p.temperature = 1.0f;
        p.seed = 1234;
        p.n = 4;
        p.max_tokens = 24;
        p.ignore_eos = true;
        RequestSpec spec;
        spec.prompt_tokens = prompt;
        spec.sampling = p;
        const EngineStats before = engine_->stats();
        RequestOutput a = engine_->submit(spec).collect();
        const EngineStats after = engine_->stats();
        RequestOutput b = engine_->submit(spec).collect();
        QCOMPARE(a.outputs.size(), size_t{4});
        std::set<std::vector<int32_t>> distinct;
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(a.outputs[i].index, i);
            QCOMPARE(a.outputs[i].token_ids.size(), size_t{24});
            QCOMPARE(a.outputs[i].token_ids, b.outputs[i].token_ids);  // reproducible
            QCOMPARE(a.outputs[i].text, b.outputs[i].text);
            distinct.insert(a.outputs[i].token_ids);
        }
        QCOMPARE(distinct.size(), size_t{4});  // n different completions
        // Children 1..3 found the prompt's full blocks computed by child 0.
        const int32_t shared = static_cast<int32_t>((prompt.size() - 1) / 16 * 16);
        for (int i = 1; i < 4; ++i) QCOMPARE(a.outputs[i].num_cached_tokens, shared);
        QVERIFY(after.prefix_cache_hits - before.prefix_cache_hits >= 3 * shared);
        QCOMPARE(a.usage.prompt_tokens, static_cast<int64_t>(prompt.size()));
        QCOMPARE(a.usage.completion_tokens, int64_t{4 * 24});
        // Another seed gives other completions.
        spec.sampling.seed = 99;
        RequestOutput c = engine_->submit(spec).collect();
        QVERIFY(c.outputs[0].token_ids != a.outputs[0].token_ids);
    }

    void logprobs_when_asked() {
        SamplingParams p = greedy(8);
        p.logprobs = 3;
        RequestOutput out = engine_->submit(text_request("Once upon a time", p)).collect();
        const auto& c = out.outputs[0];
        QCOMPARE(c.logprobs.size(), c.token_ids.size());
        for (size_t i = 0; i < c.logprobs.size(); ++i) {
            const PositionLogprobs& lp = c.logprobs[i];
            QCOMPARE(lp.token, c.token_ids[i]);
            QCOMPARE(lp.top.size(), size_t{3});
            QVERIFY(lp.logprob <= 0.0f);
            QCOMPARE(lp.top[0].token, lp.token);  // greedy picks the most likely token
            QCOMPARE(lp.top[0].logprob, lp.logprob);
            QVERIFY(lp.top[0].logprob >= lp.top[1].logprob &&
                    lp.top[1].logprob >= lp.top[2].logprob);
        }
        RequestOutput none = engine_->submit(text_request("Once upon a time", greedy(8))).collect();
        QVERIFY(none.outputs[0].logprobs.empty());
    }

    void bad_inputs_fail_clearly_and_others_keep_running() {
        SamplingParams p = greedy(32);
        RequestHandle good = engine_->submit(text_request("Once upon a time", p));

        QVERIFY(expect_invalid(*engine_, RequestSpec{}).find("empty") != std::string::npos);
        RequestSpec too_long;
        too_long.prompt_tokens.assign(600, 5);
        QVERIFY(expect_invalid(*engine_, too_long).find("context of 512") != std::string::npos);
        RequestSpec fills;
        fills.prompt_tokens.assign(512, 5);
        QVERIFY(expect_invalid(*engine_, fills).find("fills the context") != std::string::npos);
        RequestSpec bad_temp = text_request("hi", p);
        bad_temp.sampling.temperature = -1;
        QVERIFY(expect_invalid(*engine_, bad_temp).find("temperature") != std::string::npos);
        RequestSpec bad_token;
        bad_token.prompt_tokens = {1, 100000};
        QVERIFY(expect_invalid(*engine_, bad_token).find("out of range") != std::string::npos);
        RequestSpec bad_n = text_request("hi", p);
        bad_n.sampling.n = 0;
        QVERIFY(expect_invalid(*engine_, bad_n).find("n must be") != std::string::npos);
        RequestSpec bad_stop = text_request("hi", p);
        bad_stop.sampling.stop_token_ids = {-3};
        QVERIFY(expect_invalid(*engine_, bad_stop).find("stop_token_ids") != std::string::npos);
        // A live request's id is refused. The holder runs to the end of the context (about 500
        // tokens), so it is still live when the duplicate arrives even on a loaded machine; the
        // 32-token `good` request sometimes finished first.
        SamplingParams long_run = greedy(500);
        long_run.ignore_eos = true;
        RequestHandle holder = engine_->submit(text_request("Once upon a time", long_run));
        RequestSpec dup = text_request("hi", p);
        dup.request_id = holder.request_id();
        QVERIFY(expect_invalid(*engine_, dup).find("already in use") != std::string::npos);
        holder.abort();

        RequestOutput out = good.collect();
        QCOMPARE(out.outputs[0].text, golden_text("Once upon a time"));
        QVERIFY(out.error.empty());

        // Engine configuration errors are clear too.
        EngineConfig c = config();
        c.num_kv_blocks = 4;
        c.max_model_len = 512;
        try {
            Engine::create(model_, c);
            QFAIL("a context larger than the KV cache was accepted");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(std::string(e.what()).find("max_model_len") != std::string::npos, e.what());
        }
    }

    void scoring_returns_prompt_logits() {
        std::vector<int32_t> tokens = model_->vocab().tokenize("Once upon a time", true, false);
        RequestSpec spec;
        spec.prompt_tokens = tokens;
        spec.return_prompt_logits = true;
        RequestOutput out = engine_->submit(spec).collect();
        const int64_t n_vocab = engine_->info().n_vocab;
        QCOMPARE(static_cast<int64_t>(out.prompt_logits.size()),
                 static_cast<int64_t>(tokens.size()) * n_vocab);
        QVERIFY(out.outputs.empty() || out.outputs[0].token_ids.empty());
        // The last row's argmax is the greedy continuation's first token.
        const float* last = out.prompt_logits.data() + (tokens.size() - 1) * n_vocab;
        const auto best = static_cast<int32_t>(std::max_element(last, last + n_vocab) - last);
        RequestOutput gen = engine_->submit(text_request("Once upon a time", greedy(1))).collect();
        QCOMPARE(gen.outputs[0].token_ids.at(0), best);
    }

    void counters_and_rates() {
        RequestOutput out =
            engine_->submit(text_request("Hello world, this is a test", greedy(16))).collect();
        QVERIFY(out.finished);
        EngineStats s = engine_->stats();
        QVERIFY(s.num_steps > 0);
        QVERIFY(s.num_requests_finished > 0);
        QVERIFY(s.prompt_tokens_total > 0);
        QVERIFY(s.generation_tokens_total > 0);
        QVERIFY(s.generation_tokens_per_s > 0);
        QVERIFY(s.prompt_tokens_per_s > 0);
        QVERIFY(s.prefix_cache_hit_rate > 0);  // earlier tests reused prompts
    }

    void priorities_order_the_queue() {
        // One sequence at a time: the urgent request, submitted last, runs before the others
        // still waiting.
        EngineConfig c = config();
        c.max_num_seqs = 1;
        auto e = Engine::create(model_, c);
        SamplingParams p = greedy(16);
        std::vector<RequestHandle> hs;
        for (int i = 0; i < 3; ++i) {
            RequestSpec s = text_request("Once upon a time", p);
            s.priority = 1;
            hs.push_back(e->submit(s));
        }
        RequestSpec urgent = text_request("The dog", p);
        urgent.priority = 0;
        RequestHandle u = e->submit(urgent);
        RequestOutput uo = u.collect();
        RequestOutput last = hs.back().collect();
        QVERIFY(uo.metrics.first_scheduled_time < last.metrics.first_scheduled_time);
    }

    void shutdown_aborts_live_requests() {
        auto e = Engine::create(model_, config());
        SamplingParams p;
        p.temperature = 0;
        p.ignore_eos = true;
        RequestHandle h = e->submit(text_request("Once upon a time", p));
        QVERIFY(h.next().has_value());
        e.reset();
        RequestOutput rest = h.collect();
        QVERIFY(rest.finished);
        QCOMPARE(rest.outputs.back().finish_reason, std::optional(FinishReason::Abort));
        h.abort();  // harmless after the engine is gone
    }

    void cleanupTestCase() { engine_.reset(); }
};

QTEST_GUILESS_MAIN(TestEngineApi)
#include "test_engine_api.moc"
