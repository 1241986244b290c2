// Sampler, penalties, logit bias, logprobs and SamplingParams::validate().
#include <QElapsedTimer>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "folio/sampling_params.h"
#include "sampling/logit_ops.h"
#include "sampling/penalties.h"
#include "sampling/sampler.h"

using namespace folio;

namespace {

std::vector<float> logits_from_probs(const std::vector<double>& probs) {
    std::vector<float> out;
    for (double p : probs) out.push_back(p > 0 ? static_cast<float>(std::log(p)) : -INFINITY);
    return out;
}

std::vector<double> softmax(const std::vector<float>& logits, double temperature = 1.0) {
    const double m = *std::max_element(logits.begin(), logits.end());
    std::vector<double> p;
    double sum = 0;
    for (float x : logits) {
        p.push_back(std::exp((x - m) / temperature));
        sum += p.back();
    }
    for (double& v : p) v /= sum;
    return p;
}

token_id sample_once(const SamplingParams& params, std::vector<float> logits) {
    Sampler s(params, static_cast<int32_t>(logits.size()));
    return s.sample(logits, {}, {});
}

// Draw `draws` tokens, each from a fresh sampler with seed i (exercises seeding, not one stream).
std::map<token_id, int> draw_over_seeds(SamplingParams params, const std::vector<float>& logits,
                                        int draws) {
    std::map<token_id, int> counts;
    for (int i = 0; i < draws; ++i) {
        params.seed = static_cast<uint64_t>(i);
        counts[sample_once(params, logits)]++;
    }
    return counts;
}

std::set<token_id> keys(const std::map<token_id, int>& m) {
    std::set<token_id> out;
    for (const auto& [k, v] : m) out.insert(k);
    return out;
}

std::set<token_id> distribution_set(const SamplingParams& params, std::vector<float> logits) {
    Sampler s(params, static_cast<int32_t>(logits.size()));
    std::set<token_id> out;
    for (const TokenProb& tp : s.distribution(logits, {}, {})) out.insert(tp.token);
    return out;
}

std::vector<float> random_logits(size_t n, uint64_t seed, float scale = 3.0f) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> out(n);
    for (float& x : out) x = dist(rng);
    return out;
}

}  // namespace

class TestSampling : public QObject {
    Q_OBJECT

  private slots:
    void greedyIsArgmaxLowestIdOnTies();
    void topK1EqualsGreedy();
    void topKKeepsExactSet();
    void topPKeepsExpectedSet();
    void topPLargeVocabMatchesFullSort();
    void minPKeepsExpectedSet();
    void topPAndMinPCombine();
    void temperatureToZeroApproachesGreedy();
    void seedReproducibleAndIndependent();
    void frequenciesMatchSoftmax();
    void denseDrawAcrossBlocks();
    void logitOpsMatchReference();
    void repetitionPenaltyValues();
    void presenceFrequencyPenaltyValues();
    void penaltyWindow();
    void logitBias();
    void minTokensBansEos();
    void logprobs();
    void validateMessages();
    void largeVocabNotQuadratic();
};

void TestSampling::greedyIsArgmaxLowestIdOnTies() {
    SamplingParams p;
    p.temperature = 0.0f;
    QCOMPARE(sample_once(p, {1.0f, 5.0f, 3.0f, 5.0f}), 1);
    QCOMPARE(sample_once(p, {7.0f, 7.0f, 7.0f}), 0);
    QCOMPARE(sample_once(p, {-INFINITY, -INFINITY, -3.0f}), 2);
    QCOMPARE(sample_once(p, {NAN, 1.0f, NAN, 2.0f}), 3);
    // Greedy ignores the seed and any number of draws.
    const auto logits = random_logits(1000, 7);
    const auto expected =
        static_cast<token_id>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    const auto counts = draw_over_seeds(p, logits, 50);
    QCOMPARE(counts.size(), size_t{1});
    QCOMPARE(counts.begin()->first, expected);
}

void TestSampling::topK1EqualsGreedy() {
    for (float temp : {0.01f, 0.5f, 1.0f, 5.0f, 100.0f}) {
        SamplingParams p;
        p.top_k = 1;
        p.temperature = temp;
        for (uint64_t seed = 0; seed < 20; ++seed) {
            p.seed = seed;
            auto logits = random_logits(500, seed);
            logits[17] = logits[401] = 50.0f;  // a tie at the top: lowest id wins
            QCOMPARE(sample_once(p, logits), 17);
        }
    }
}

void TestSampling::topKKeepsExactSet() {
    // Descending order 4, 1, {2, 6} (tie), 0 ...; top_k = 3 keeps 4, 1 and the lower id of the tie.
    const std::vector<float> logits = {0.0f, 2.0f, 1.5f, -1.0f, 2.5f, -2.0f, 1.5f, 0.5f};
    SamplingParams p;
    p.top_k = 3;
    const std::set<token_id> expected = {1, 2, 4};
    QCOMPARE(distribution_set(p, logits), expected);
    QCOMPARE(keys(draw_over_seeds(p, logits, 3000)), expected);
    // top_k >= vocab and top_k = -1 / 0 keep everything.
    for (int k : {-1, 0, 8, 100}) {
        p.top_k = k;
        QCOMPARE(distribution_set(p, logits).size(), logits.size());
    }
}

void TestSampling::topPKeepsExpectedSet() {
    // Probabilities (shuffled ids): 0.40 @3, 0.30 @0, 0.20 @4, 0.06 @1, 0.04 @2.
    const auto logits = logits_from_probs({0.30, 0.06, 0.04, 0.40, 0.20});
    SamplingParams p;
    p.top_p = 0.85f;  // 0.40 + 0.30 + 0.20 = 0.90 >= 0.85 is the smallest such head
    const std::set<token_id> expected = {0, 3, 4};
    QCOMPARE(distribution_set(p, logits), expected);
    const auto counts = draw_over_seeds(p, logits, 9000);
    QCOMPARE(keys(counts), expected);
    // Renormalized over the kept mass of 0.9.
    QVERIFY(std::abs(counts.at(3) / 9000.0 - 0.40 / 0.9) < 0.03);
    QVERIFY(std::abs(counts.at(0) / 9000.0 - 0.30 / 0.9) < 0.03);
    QVERIFY(std::abs(counts.at(4) / 9000.0 - 0.20 / 0.9) < 0.03);

    p.top_p = 0.35f;  // the top token alone
    QCOMPARE(distribution_set(p, logits), std::set<token_id>{3});
    p.top_p = 0.65f;  // 0.40 + 0.30
    QCOMPARE(distribution_set(p, logits), (std::set<token_id>{0, 3}));
    p.top_p = 0.95f;  // all but the 0.04 one (0.96 >= 0.95)
    QCOMPARE(distribution_set(p, logits), (std::set<token_id>{0, 1, 3, 4}));
    p.top_p = 1.0f;
    QCOMPARE(distribution_set(p, logits).size(), size_t{5});
    // Temperature applies before top_p: at T = 1 top_p 0.8 keeps three tokens; at T = 0.5 the top
    // two hold (0.16 + 0.09) / 0.2952 = 0.847 of the mass.
    p.top_p = 0.8f;
    QCOMPARE(distribution_set(p, logits), (std::set<token_id>{0, 3, 4}));
    p.temperature = 0.5f;
    QCOMPARE(distribution_set(p, logits), (std::set<token_id>{0, 3}));
}

void TestSampling::topPLargeVocabMatchesFullSort() {
    // Large vocabularies take the incremental-sort path; compare with a brute-force full sort.
    for (float top_p : {0.5f, 0.9f, 0.99f}) {
        for (float scale : {0.3f, 3.0f}) {  // nearly flat (head spans many chunks) and peaked
            const auto logits = random_logits(20000, 11, scale);
            const auto probs = softmax(logits);
            std::vector<token_id> order(logits.size());
            std::iota(order.begin(), order.end(), 0);
            std::sort(order.begin(), order.end(), [&](token_id a, token_id b) {
                return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
            });
            std::set<token_id> expected;
            double cum = 0;
            for (token_id t : order) {
                expected.insert(t);
                cum += probs[t];
                if (cum >= top_p) break;
            }
            SamplingParams p;
            p.top_p = top_p;
            const auto got = distribution_set(p, logits);
            // Float vs double rounding may move the boundary by one token at most.
            QVERIFY2(
                std::abs(static_cast<long>(got.size()) - static_cast<long>(expected.size())) <= 1,
                qPrintable(QString("top_p %1 scale %2: %3 vs %4")
                               .arg(top_p)
                               .arg(scale)
                               .arg(got.size())
                               .arg(expected.size())));
            const auto& smaller = got.size() < expected.size() ? got : expected;
            const auto& larger = got.size() < expected.size() ? expected : got;
            QVERIFY(std::includes(larger.begin(), larger.end(), smaller.begin(), smaller.end()));
            // Draws stay inside the kept set.
            p.seed = 5;
            Sampler s(p, static_cast<int32_t>(logits.size()));
            for (int i = 0; i < 200; ++i) {
                auto copy = logits;
                QVERIFY(got.count(s.sample(copy, {}, {})) == 1);
            }
        }
    }
}

void TestSampling::minPKeepsExpectedSet() {
    // p = 0.5 @2, 0.2 @0, 0.1 @5, 0.09 @1, 0.06 @3, 0.05 @4. min_p 0.19 → keep p >= 0.095.
    const auto logits = logits_from_probs({0.2, 0.09, 0.5, 0.06, 0.05, 0.1});
    SamplingParams p;
    p.min_p = 0.19f;
    const std::set<token_id> expected = {0, 2, 5};
    QCOMPARE(distribution_set(p, logits), expected);
    const auto counts = draw_over_seeds(p, logits, 8000);
    QCOMPARE(keys(counts), expected);
    QVERIFY(std::abs(counts.at(2) / 8000.0 - 0.5 / 0.8) < 0.03);
    p.min_p = 1.0f;
    QCOMPARE(distribution_set(p, logits), std::set<token_id>{2});
    p.min_p = 0.11f;  // threshold 0.055: drops only the 0.05 one
    QCOMPARE(distribution_set(p, logits), (std::set<token_id>{0, 1, 2, 3, 5}));
}

void TestSampling::topPAndMinPCombine() {
    const auto logits = logits_from_probs({0.2, 0.09, 0.5, 0.06, 0.05, 0.1});
    SamplingParams p;
    // top_p alone: 0.5 + 0.2 + 0.1 = 0.8 >= 0.75 → {2, 0, 5}; min_p 0.3 alone → p >= 0.15 → {2, 0}.
    p.top_p = 0.75f;
    p.min_p = 0.3f;
    QCOMPARE(distribution_set(p, logits), (std::set<token_id>{0, 2}));
    // min_p looser than top_p: top_p decides.
    p.top_p = 0.6f;  // {2, 0}
    p.min_p = 0.05f;
    QCOMPARE(distribution_set(p, logits), (std::set<token_id>{0, 2}));
    // With top_k too: top_k 4 → {2,0,5,1}, mass 0.89; top_p 0.89 of that → 0.792 → {2,0,5}.
    p.top_k = 4;
    p.top_p = 0.89f;
    p.min_p = 0.0f;
    QCOMPARE(distribution_set(p, logits), (std::set<token_id>{0, 2, 5}));
    // Probabilities are renormalized over the kept set.
    Sampler s(p, 6);
    auto copy = logits;
    const auto dist = s.distribution(copy, {}, {});
    QCOMPARE(dist.size(), size_t{3});
    QCOMPARE(dist[0].token, 2);
    QVERIFY(std::abs(dist[0].prob - 0.5 / 0.8) < 1e-5);
    QVERIFY(std::abs(dist[2].prob - 0.1 / 0.8) < 1e-5);
}

void TestSampling::temperatureToZeroApproachesGreedy() {
    const std::vector<float> logits = {1.0f, 1.5f, 0.8f, 1.2f};
    SamplingParams p;
    double prev_fraction = 0;
    for (float temp : {2.0f, 1.0f, 0.3f, 0.1f}) {
        p.temperature = temp;
        const auto counts = draw_over_seeds(p, logits, 4000);
        const double fraction = counts.count(1) ? counts.at(1) / 4000.0 : 0.0;
        QVERIFY2(fraction > prev_fraction, qPrintable(QString("T=%1: %2").arg(temp).arg(fraction)));
        prev_fraction = fraction;
    }
    p.temperature = 0.01f;  // P(other) ~ exp(-30)
    QCOMPARE(keys(draw_over_seeds(p, logits, 2000)), std::set<token_id>{1});
    p.temperature = 1e-30f;  // 1/T overflows float: still the argmax, no NaN
    QCOMPARE(keys(draw_over_seeds(p, logits, 100)), std::set<token_id>{1});
}

void TestSampling::seedReproducibleAndIndependent() {
    const auto logits = random_logits(2000, 3, 1.0f);
    SamplingParams p;
    p.top_p = 0.95f;
    auto run = [&](uint64_t seed, uint64_t seq_index = 0) {
        p.seed = seed;
        Sampler s(p, static_cast<int32_t>(logits.size()), {}, seq_index);
        std::vector<token_id> out;
        for (int i = 0; i < 64; ++i) {
            auto copy = logits;
            out.push_back(s.sample(copy, {}, out));
        }
        return out;
    };
    const auto a = run(42);
    QCOMPARE(run(42), a);
    QVERIFY(run(43) != a);
    QVERIFY(run(42, 1) != a);
    QCOMPARE(run(42, 1), run(42, 1));

    // Interleaving another request's sampler does not disturb this one.
    p.seed = 42;
    Sampler mine(p, static_cast<int32_t>(logits.size()));
    SamplingParams other_params;
    other_params.seed = 7;
    Sampler other(other_params, static_cast<int32_t>(logits.size()));
    std::vector<token_id> interleaved;
    for (int i = 0; i < 64; ++i) {
        auto copy = logits;
        other.sample(copy, {}, {});
        copy = logits;
        interleaved.push_back(mine.sample(copy, {}, interleaved));
    }
    QCOMPARE(interleaved, a);

    // No seed: two samplers almost surely differ.
    p.seed.reset();
    Sampler r1(p, static_cast<int32_t>(logits.size()));
    Sampler r2(p, static_cast<int32_t>(logits.size()));
    std::vector<token_id> s1, s2;
    for (int i = 0; i < 64; ++i) {
        auto c1 = logits, c2 = logits;
        s1.push_back(r1.sample(c1, {}, {}));
        s2.push_back(r2.sample(c2, {}, {}));
    }
    QVERIFY(s1 != s2);
}

void TestSampling::frequenciesMatchSoftmax() {
    const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 1.0f, 0.0f, 1.7f, -0.3f, 0.9f};
    for (float temp : {1.0f, 0.7f, 1.6f}) {
        const auto probs = softmax(logits, temp);
        SamplingParams p;
        p.temperature = temp;
        p.seed = 1234;
        Sampler s(p, static_cast<int32_t>(logits.size()));
        const int draws = 20000;
        std::vector<int> counts(logits.size(), 0);
        for (int i = 0; i < draws; ++i) {
            auto copy = logits;
            counts[s.sample(copy, {}, {})]++;
        }
        double chi2 = 0;
        for (size_t t = 0; t < logits.size(); ++t) {
            const double f = static_cast<double>(counts[t]) / draws;
            const double sigma = std::sqrt(probs[t] * (1 - probs[t]) / draws);
            QVERIFY2(std::abs(f - probs[t]) < 4.5 * sigma + 1e-4,
                     qPrintable(
                         QString("T=%1 token %2: %3 vs %4").arg(temp).arg(t).arg(f).arg(probs[t])));
            const double expected = probs[t] * draws;
            chi2 += (counts[t] - expected) * (counts[t] - expected) / expected;
        }
        QVERIFY2(chi2 < 30.0, qPrintable(QString("chi2 %1 (7 dof)").arg(chi2)));  // p ~ 1e-4
    }
}

void TestSampling::denseDrawAcrossBlocks() {
    // No truncation on a large vocabulary draws from dense weights in blocks; the mass of three
    // tokens far apart and of the flat rest must come out right.
    const int32_t vocab = 10000;
    std::vector<double> probs(vocab, 0.1 / (vocab - 3));
    probs[3] = 0.2;
    probs[4321] = 0.3;
    probs[9999] = 0.4;
    const auto logits = logits_from_probs(probs);
    SamplingParams p;
    p.seed = 99;
    Sampler s(p, vocab);
    const int draws = 20000;
    std::map<token_id, int> counts;
    for (int i = 0; i < draws; ++i) {
        auto copy = logits;
        const token_id t = s.sample(copy, {}, {});
        counts[(t == 3 || t == 4321 || t == 9999) ? t : -1]++;
    }
    for (const auto& [t, expected] :
         std::vector<std::pair<token_id, double>>{{3, 0.2}, {4321, 0.3}, {9999, 0.4}, {-1, 0.1}}) {
        const double f = static_cast<double>(counts[t]) / draws;
        QVERIFY2(std::abs(f - expected) < 4.5 * std::sqrt(expected * (1 - expected) / draws),
                 qPrintable(QString("token %1: %2 vs %3").arg(t).arg(f).arg(expected)));
    }
}

void TestSampling::logitOpsMatchReference() {
    // exp_nonpositive against libm.
    double worst = 0;
    for (float x = -87.0f; x <= 0.0f; x += 0.00731f) {
        const double ref = std::exp(static_cast<double>(x));
        worst = std::max(worst, std::abs(logit_ops::exp_nonpositive(x) - ref) / ref);
    }
    QVERIFY2(worst < 5e-7, qPrintable(QString("max relative error %1").arg(worst)));
    QCOMPARE(logit_ops::exp_nonpositive(0.0f), 1.0f);
    QCOMPARE(logit_ops::exp_nonpositive(-INFINITY), 0.0f);
    QCOMPARE(logit_ops::exp_nonpositive(NAN), 0.0f);
    QCOMPARE(logit_ops::exp_nonpositive(-100.0f), 0.0f);

    // Vector passes on every length around the lane / unroll boundaries, with -inf, NaN and ties.
    std::mt19937 rng(5);
    for (size_t n = 1; n < 70; ++n) {
        for (int rep = 0; rep < 20; ++rep) {
            std::vector<float> x(n);
            for (float& v : x) {
                const unsigned r = rng() % 10;
                v = r == 0 ? -INFINITY : r == 1 ? NAN : static_cast<float>(rng() % 7) - 3.0f;
            }
            float ref_max = -INFINITY, ref_min = INFINITY;
            int32_t ref_arg = 0;
            size_t ref_count = 0;
            double ref_sum = 0;
            for (size_t i = 0; i < n; ++i) {
                if (x[i] > ref_max) {
                    ref_max = x[i];
                    ref_arg = static_cast<int32_t>(i);
                }
                if (x[i] > -INFINITY && x[i] < ref_min) ref_min = x[i];
                if (x[i] >= 1.0f) {
                    ref_count++;
                    ref_sum += x[i];
                }
            }
            float mx, mn;
            logit_ops::value_range(x, &mx, &mn);
            QCOMPARE(mx, ref_max);
            QCOMPARE(mn, ref_min);
            QCOMPARE(logit_ops::argmax(x), ref_arg);
            QCOMPARE(logit_ops::count_at_least(x, 1.0f), ref_count);
            QCOMPARE(logit_ops::sum_at_least(x, 1.0f), ref_sum);
            std::vector<logit_ops::Candidate> out(n);
            QCOMPARE(logit_ops::collect_at_least(x, 1.0f, out.data()), ref_count);
            for (size_t i = 0; i < ref_count; ++i) QVERIFY(x[out[i].id] == out[i].value);
        }
    }
    // Ties across lanes: the lowest index wins.
    std::vector<float> x(1000, 0.0f);
    x[999] = x[517] = x[18] = 5.0f;
    QCOMPARE(logit_ops::argmax(x), 18);
}

void TestSampling::repetitionPenaltyValues() {
    SamplingParams p;
    p.repetition_penalty = 2.0f;
    std::vector<float> logits = {2.0f, -2.0f, 1.0f, 0.5f, 3.0f, 0.0f};
    const std::vector<int32_t> prompt = {0, 5};
    const std::vector<int32_t> generated = {1, 1};
    apply_penalties(logits, p, prompt, generated);
    // Positive → divided, negative → multiplied, zero stays zero; each seen token once.
    QCOMPARE(logits, (std::vector<float>{1.0f, -4.0f, 1.0f, 0.5f, 3.0f, 0.0f}));

    p.repetition_penalty = 0.5f;  // < 1 encourages repeats
    logits = {2.0f, -2.0f, 1.0f};
    apply_penalties(logits, p, std::vector<int32_t>{0, 1}, {});
    QCOMPARE(logits, (std::vector<float>{4.0f, -1.0f, 1.0f}));

    // Through the Sampler: penalties happen before the greedy argmax.
    SamplingParams g;
    g.temperature = 0.0f;
    g.repetition_penalty = 1.5f;
    Sampler s(g, 3);
    std::vector<float> l2 = {3.0f, 2.5f, 1.0f};
    QCOMPARE(s.sample(l2, std::vector<int32_t>{0}, {}), 1);
    QCOMPARE(l2[0], 2.0f);
}

void TestSampling::presenceFrequencyPenaltyValues() {
    SamplingParams p;
    p.presence_penalty = 0.5f;
    p.frequency_penalty = 0.25f;
    std::vector<float> logits = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    // Prompt tokens do not count for presence / frequency.
    apply_penalties(logits, p, std::vector<int32_t>{0, 0, 4}, std::vector<int32_t>{1, 1, 3, 1});
    QCOMPARE(logits[0], 1.0f);
    QCOMPARE(logits[1], 1.0f - (3 * 0.25f + 0.5f));
    QCOMPARE(logits[2], 1.0f);
    QCOMPARE(logits[3], 1.0f - (0.25f + 0.5f));
    QCOMPARE(logits[4], 1.0f);

    // Negative values encourage; repetition first, then the additive ones.
    p.presence_penalty = -1.0f;
    p.frequency_penalty = 0.0f;
    p.repetition_penalty = 2.0f;
    logits = {4.0f, -4.0f};
    apply_penalties(logits, p, std::vector<int32_t>{0}, std::vector<int32_t>{1});
    QCOMPARE(logits[0], 2.0f);          // prompt: repetition only
    QCOMPARE(logits[1], -8.0f + 1.0f);  // generated: repetition, then presence

    // Out-of-range ids in the context are ignored.
    logits = {0.0f, 0.0f};
    apply_penalties(logits, p, std::vector<int32_t>{-1, 7}, std::vector<int32_t>{99});
    QCOMPARE(logits, (std::vector<float>{0.0f, 0.0f}));

    // Scratch state does not leak into the next call.
    p = SamplingParams{};
    p.frequency_penalty = 1.0f;
    logits = {0.0f, 0.0f, 0.0f};
    apply_penalties(logits, p, {}, std::vector<int32_t>{2});
    QCOMPARE(logits, (std::vector<float>{0.0f, 0.0f, -1.0f}));
}

void TestSampling::penaltyWindow() {
    SamplingParams p;
    p.repetition_penalty = 2.0f;
    p.frequency_penalty = 1.0f;
    const std::vector<int32_t> prompt = {0, 1, 2};
    const std::vector<int32_t> generated = {3, 4, 3};
    auto run = [&](int32_t last_n) {
        p.penalty_last_n = last_n;
        std::vector<float> logits(5, 4.0f);
        apply_penalties(logits, p, prompt, generated);
        return logits;
    };
    // Whole context: prompt tokens halved; generated halved then -count.
    QCOMPARE(run(-1), (std::vector<float>{2.0f, 2.0f, 2.0f, 0.0f, 1.0f}));
    QCOMPARE(run(100), run(-1));
    // Last 4 tokens: {2, 3, 4, 3}.
    QCOMPARE(run(4), (std::vector<float>{4.0f, 4.0f, 2.0f, 0.0f, 1.0f}));
    // Last 2 tokens: {4, 3}: one occurrence of 3 in the window.
    QCOMPARE(run(2), (std::vector<float>{4.0f, 4.0f, 4.0f, 1.0f, 1.0f}));
    // 0 = off.
    QCOMPARE(run(0), std::vector<float>(5, 4.0f));
    QVERIFY(!penalties_enabled(p));
}

void TestSampling::logitBias() {
    // Additive values.
    std::vector<float> logits = {1.0f, 2.0f, 3.0f};
    apply_logit_bias(logits, {{0, 1.5f}, {2, -0.5f}, {7, 10.0f}, {-1, 10.0f}});
    QCOMPARE(logits, (std::vector<float>{2.5f, 2.0f, 2.5f}));

    const std::vector<float> peaked = {10.0f, 0.0f, 0.0f, -5.0f};
    SamplingParams p;
    // -100 bans even the most likely token, sampled and greedy.
    p.logit_bias = {{0, -100.0f}};
    QVERIFY(keys(draw_over_seeds(p, peaked, 2000)).count(0) == 0);
    p.temperature = 0.0f;
    QCOMPARE(sample_once(p, peaked), 1);
    // +100 forces an unlikely token.
    p.temperature = 1.0f;
    p.logit_bias = {{3, 100.0f}};
    QCOMPARE(keys(draw_over_seeds(p, peaked, 2000)), std::set<token_id>{3});
    // Bias applies before penalties: the biased logit is what gets divided.
    p.temperature = 0.0f;
    p.logit_bias = {{1, 4.0f}};
    p.repetition_penalty = 2.0f;
    Sampler s(p, 4);
    auto copy = peaked;
    s.sample(copy, std::vector<int32_t>{1}, {});
    QCOMPARE(copy[1], 2.0f);
}

void TestSampling::minTokensBansEos() {
    const std::vector<float> logits = {0.0f, 9.0f, 8.0f, 1.0f};  // 1 = EOS, 2 = stop token
    SamplingParams p;
    p.temperature = 0.0f;
    p.min_tokens = 2;
    p.stop_token_ids = {2};
    const std::vector<token_id> eos = {1};
    Sampler s(p, 4, eos);
    auto copy = logits;
    QCOMPARE(s.sample(copy, {}, {}), 3);
    copy = logits;
    QCOMPARE(s.sample(copy, {}, std::vector<token_id>{3}), 3);
    copy = logits;
    QCOMPARE(s.sample(copy, {}, std::vector<token_id>{3, 3}), 1);  // min_tokens reached
    // ignore_eos: EOS is not a stop, so it is not banned; stop tokens still are.
    p.ignore_eos = true;
    Sampler s2(p, 4, eos);
    copy = logits;
    QCOMPARE(s2.sample(copy, {}, {}), 1);
    p.logit_bias = {{1, -100.0f}};
    Sampler s3(p, 4, eos);
    copy = logits;
    QCOMPARE(s3.sample(copy, {}, {}), 3);
}

void TestSampling::logprobs() {
    const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f, -1.0f};
    const auto probs = softmax(logits);
    const TokenLogprobs lp = compute_logprobs(logits, 2, 3);
    QVERIFY(std::abs(lp.logprob - std::log(probs[2])) < 1e-6);
    QCOMPARE(lp.top.size(), size_t{3});
    QCOMPARE(lp.top[0].token, 1);  // tie with 3: lower id first
    QCOMPARE(lp.top[1].token, 3);
    QCOMPARE(lp.top[2].token, 2);
    for (const TokenLogprob& t : lp.top)
        QVERIFY(std::abs(t.logprob - std::log(probs[t.token])) < 1e-6);
    QCOMPARE(compute_logprobs(logits, 0, 10).top.size(), logits.size());
    QVERIFY(compute_logprobs(logits, 0, 0).top.empty());

    // Through the Sampler: after bias and penalties, before temperature / truncation.
    SamplingParams p;
    p.logprobs = 2;
    p.temperature = 0.3f;
    p.top_k = 1;
    p.logit_bias = {{4, 4.0f}, {0, -100.0f}};  // token 4 → 3.0, token 0 banned
    Sampler s(p, 5);
    auto copy = logits;
    TokenLogprobs out;
    const token_id t = s.sample(copy, {}, {}, &out);
    QCOMPARE(t, 1);
    const auto biased = softmax({-INFINITY, 3.0f, 2.0f, 3.0f, 3.0f});
    QVERIFY(std::abs(out.logprob - std::log(biased[1])) < 1e-6);
    QCOMPARE(out.top.size(), size_t{2});
    QCOMPARE(out.top[0].token, 1);
    QCOMPARE(out.top[1].token, 3);
    QVERIFY(std::isinf(compute_logprobs(copy, 0, 0).logprob));
}

void TestSampling::validateMessages() {
    QVERIFY(SamplingParams{}.validate().empty());
    auto check = [](auto mutate, const char* expected_prefix) {
        SamplingParams p;
        mutate(p);
        const std::string msg = p.validate(1000);
        QVERIFY2(msg.rfind(expected_prefix, 0) == 0,
                 qPrintable(QString("got '%1', want '%2...'").arg(msg.c_str(), expected_prefix)));
    };
    check([](SamplingParams& p) { p.temperature = -1; }, "temperature must be >= 0");
    check([](SamplingParams& p) { p.temperature = NAN; }, "temperature must be >= 0");
    check([](SamplingParams& p) { p.top_p = 0; }, "top_p must be in (0, 1]");
    check([](SamplingParams& p) { p.top_p = 1.5f; }, "top_p must be in (0, 1]");
    check([](SamplingParams& p) { p.top_k = -2; }, "top_k must be");
    check([](SamplingParams& p) { p.min_p = -0.1f; }, "min_p must be in [0, 1]");
    check([](SamplingParams& p) { p.repetition_penalty = 0; }, "repetition_penalty must be > 0");
    check([](SamplingParams& p) { p.presence_penalty = 2.5f; },
          "presence_penalty must be in [-2, 2]");
    check([](SamplingParams& p) { p.frequency_penalty = -3; },
          "frequency_penalty must be in [-2, 2]");
    check([](SamplingParams& p) { p.penalty_last_n = -5; }, "penalty_last_n must be");
    check(
        [](SamplingParams& p) {
            p.logit_bias = {{5, 101.0f}};
        },
        "logit_bias values must be in [-100, 100]");
    check([](SamplingParams& p) { p.logit_bias = {{1000, 1.0f}}; }, "logit_bias token id 1000");
    check([](SamplingParams& p) { p.stop = {"ok", ""}; }, "stop strings must not be empty");
    check([](SamplingParams& p) { p.stop_token_ids = {-1}; }, "stop_token_ids token id -1");
    check([](SamplingParams& p) { p.max_tokens = 0; }, "max_tokens must be >= 1");
    check([](SamplingParams& p) { p.min_tokens = -1; }, "min_tokens must be >= 0");
    check(
        [](SamplingParams& p) {
            p.max_tokens = 5;
            p.min_tokens = 6;
        },
        "min_tokens must be <= max_tokens");
    check([](SamplingParams& p) { p.logprobs = 21; }, "logprobs must be in [0, 20]");
    check([](SamplingParams& p) { p.n = 0; }, "n must be >= 1");
    SamplingParams p;
    p.temperature = -1;
    QCOMPARE(QString::fromStdString(p.validate()), QString("temperature must be >= 0 (got -1)"));
    // Valid edge values.
    p = SamplingParams{};
    p.temperature = 0;
    p.top_k = -1;
    p.top_p = 1;
    p.min_p = 1;
    p.logprobs = 0;
    p.logit_bias = {{999, -100.0f}};
    p.max_tokens = 1;
    p.min_tokens = 1;
    QVERIFY(p.validate(1000).empty());
    QVERIFY(p.validate().empty());  // no vocab size: token ids unchecked above 0
}

void TestSampling::largeVocabNotQuadratic() {
    // 150k vocabulary, every path. Not a timed assertion: prints per-token cost, and would take
    // minutes if any path sorted the whole vocabulary per step quadratically.
    const int32_t vocab = 152064;
    const auto peaked = random_logits(vocab, 99, 3.0f);
    const std::vector<float> flat(vocab, 0.0f);  // worst case for top_p: the head is everything
    std::vector<int32_t> context(32768);
    std::mt19937 rng(1);
    for (auto& t : context) t = static_cast<int32_t>(rng() % vocab);

    struct Case {
        const char* name;
        SamplingParams params;
        const std::vector<float>* logits;
    };
    std::vector<Case> cases;
    auto add = [&](const char* name, auto mutate, const std::vector<float>* logits) {
        SamplingParams p;
        p.seed = 1;
        mutate(p);
        cases.push_back({name, p, logits});
    };
    add(
        "greedy", [](SamplingParams& p) { p.temperature = 0; }, &peaked);
    add(
        "full softmax", [](SamplingParams&) {}, &peaked);
    add(
        "top_k 40", [](SamplingParams& p) { p.top_k = 40; }, &peaked);
    add(
        "top_p 0.9", [](SamplingParams& p) { p.top_p = 0.9f; }, &peaked);
    add(
        "top_p 0.9 flat", [](SamplingParams& p) { p.top_p = 0.9f; }, &flat);
    add(
        "min_p 0.05", [](SamplingParams& p) { p.min_p = 0.05f; }, &peaked);
    add(
        "top_k+top_p+min_p",
        [](SamplingParams& p) {
            p.top_k = 50;
            p.top_p = 0.95f;
            p.min_p = 0.01f;
        },
        &peaked);
    add(
        "penalties 32k ctx",
        [](SamplingParams& p) {
            p.repetition_penalty = 1.1f;
            p.frequency_penalty = 0.2f;
            p.presence_penalty = 0.2f;
            p.temperature = 0;
        },
        &peaked);
    add(
        "logprobs 20", [](SamplingParams& p) { p.logprobs = 20; }, &peaked);

    const std::span<const int32_t> prompt(context.data(), 30000);
    const std::span<const int32_t> generated(context.data() + 30000, context.size() - 30000);
    for (const Case& c : cases) {
        Sampler s(c.params, vocab);
        std::vector<float> row;
        TokenLogprobs lp;
        const int steps = 20;
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < steps; ++i) {
            row = *c.logits;
            const token_id t = s.sample(row, prompt, generated, c.params.logprobs ? &lp : nullptr);
            QVERIFY(t >= 0 && t < vocab);
        }
        qInfo("%-20s %8.1f us/token", c.name, timer.nsecsElapsed() / 1e3 / steps);
    }
}

QTEST_GUILESS_MAIN(TestSampling)
#include "test_sampling.moc"
