// StopStringMatcher: stop strings over streamed text deltas.
#include <QtTest>

#include <random>
#include <string>
#include <vector>

#include "sampling/stop_strings.h"

using namespace folio;

namespace {

struct Streamed {
    std::string text;  // everything emitted, flush included
    std::vector<std::string> chunks;
    bool stopped = false;
    int32_t stop_index = -1;
};

// Feeds `deltas` in order (stopping at the first match, as the engine would) and flushes.
Streamed stream(const std::vector<std::string>& stops, const std::vector<std::string>& deltas) {
    StopStringMatcher m(stops);
    Streamed out;
    for (const std::string& d : deltas) {
        StopStringMatcher::Result r = m.feed(d);
        out.text += r.text;
        out.chunks.push_back(r.text);
        if (r.stopped) {
            out.stopped = true;
            out.stop_index = r.stop_index;
            break;
        }
    }
    out.text += m.flush();
    return out;
}

std::vector<std::string> bytes_of(const std::string& s) {
    std::vector<std::string> out;
    for (char c : s) out.emplace_back(1, c);
    return out;
}

// Splits UTF-8 text into code points.
std::vector<std::string> chars_of(const std::string& s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        out.push_back(s.substr(i, len));
        i += len;
    }
    return out;
}

bool valid_utf8(const std::string& s) {
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t len = c < 0x80 ? 1 : c < 0xC0 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (len == 0 || i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        }
        i += len;
    }
    return true;
}

}  // namespace

class TestStopStrings : public QObject {
    Q_OBJECT

  private slots:
    void noStopStringsPassThrough();
    void matchInOneDelta();
    void splitAcrossOneCharDeltas();
    void heldTextReleasedWhenItDiverges();
    void multipleStopStrings();
    void overlappingPrefixes();
    void selfOverlappingStopString();
    void unicode();
    void stopAtVeryStart();
    void flushReleasesHeldText();
    void afterStopNothingMore();
    void splitInvariance();
};

void TestStopStrings::noStopStringsPassThrough() {
    StopStringMatcher m({});
    QVERIFY(m.empty());
    QCOMPARE(m.feed("hello").text, std::string("hello"));
    QCOMPARE(m.flush(), std::string());
    // Empty strings are ignored rather than matching everywhere.
    const Streamed s = stream({""}, {"abc", "def"});
    QCOMPARE(s.text, std::string("abcdef"));
    QVERIFY(!s.stopped);
}

void TestStopStrings::matchInOneDelta() {
    const Streamed s = stream({"STOP"}, {"Hello STOP world"});
    QCOMPARE(s.text, std::string("Hello "));
    QVERIFY(s.stopped);
    QCOMPARE(s.stop_index, 0);
}

void TestStopStrings::splitAcrossOneCharDeltas() {
    const Streamed s = stream({"</answer>"}, bytes_of("The result is 42</answer> trailing"));
    QCOMPARE(s.text, std::string("The result is 42"));
    QVERIFY(s.stopped);
    // Never a partial stop string on screen: no emitted chunk contains '<'.
    for (const std::string& c : s.chunks) QVERIFY(c.find('<') == std::string::npos);
    // Split across a few bigger deltas too.
    const Streamed t = stream({"</answer>"}, {"The result is 42</", "ans", "wer> trailing"});
    QCOMPARE(t.text, std::string("The result is 42"));
    QVERIFY(t.stopped);
}

void TestStopStrings::heldTextReleasedWhenItDiverges() {
    StopStringMatcher m({"STOP"});
    StopStringMatcher::Result r = m.feed("Hello S");
    QCOMPARE(r.text, std::string("Hello "));
    QVERIFY(!r.stopped);
    r = m.feed("T");
    QCOMPARE(r.text, std::string());
    r = m.feed("x");
    QCOMPARE(r.text, std::string("STx"));
    r = m.feed(" ST");
    QCOMPARE(r.text, std::string(" "));
    r = m.feed("OP!");
    QCOMPARE(r.text, std::string());
    QVERIFY(r.stopped);
    QCOMPARE(m.matched(), std::string_view("STOP"));
}

void TestStopStrings::multipleStopStrings() {
    // The first to complete wins, whatever its position in the list.
    Streamed s = stream({"world", "lo w"}, {"hello world"});
    QCOMPARE(s.text, std::string("hel"));
    QCOMPARE(s.stop_index, 1);
    s = stream({"world", "lo w"}, bytes_of("hello world"));
    QCOMPARE(s.text, std::string("hel"));
    QCOMPARE(s.stop_index, 1);
    // Only one of them present.
    s = stream({"\n\n", "User:", "###"}, {"Sure", ". Here", " it is.\nUs", "er: next"});
    QCOMPARE(s.text, std::string("Sure. Here it is.\n"));
    QCOMPARE(s.stop_index, 1);
    // None present: everything comes out, partly on flush.
    s = stream({"\n\n", "User:"}, {"a\n", "b Us"});
    QCOMPARE(s.text, std::string("a\nb Us"));
    QVERIFY(!s.stopped);
}

void TestStopStrings::overlappingPrefixes() {
    // "ab" completes before "abc" could, in either list order and either split.
    for (const auto& stops : {std::vector<std::string>{"abc", "ab"}, {"ab", "abc"}}) {
        for (const auto& deltas : {std::vector<std::string>{"xabcd"}, bytes_of("xabcd")}) {
            const Streamed s = stream(stops, deltas);
            QCOMPARE(s.text, std::string("x"));
            QVERIFY(s.stopped);
            QCOMPARE(stops[static_cast<size_t>(s.stop_index)], std::string("ab"));
        }
    }
    // Same end: the longer one (starting earlier) wins.
    const Streamed s = stream({"bc", "abc"}, bytes_of("xabc"));
    QCOMPARE(s.text, std::string("x"));
    QCOMPARE(s.stop_index, 1);
    // "abd" held as a prefix of "abc", then released.
    const Streamed t = stream({"abc"}, bytes_of("xabdabc"));
    QCOMPARE(t.text, std::string("xabd"));
}

void TestStopStrings::selfOverlappingStopString() {
    // After "aa" diverges from "aab" at the third 'a', the last two 'a's may still start it.
    Streamed s = stream({"aab"}, bytes_of("aaab!"));
    QCOMPARE(s.text, std::string("a"));
    QVERIFY(s.stopped);
    s = stream({"abab"}, bytes_of("xababab"));
    QCOMPARE(s.text, std::string("x"));
    s = stream({"abac"}, bytes_of("ababac"));
    QCOMPARE(s.text, std::string("ab"));
}

void TestStopStrings::unicode() {
    const std::string text = "你好🛑再见";
    for (const auto& deltas : {chars_of(text), bytes_of(text), std::vector<std::string>{text}}) {
        const Streamed s = stream({"🛑"}, deltas);
        QCOMPARE(s.text, std::string("你好"));
        QVERIFY(s.stopped);
    }
    // Per-character deltas: every emitted chunk is whole UTF-8, including held-then-released text.
    const Streamed s = stream({"é!", "日本語"}, chars_of("café au lait, 日本で日本語"));
    QCOMPARE(s.text, std::string("café au lait, 日本で"));
    for (const std::string& c : s.chunks) QVERIFY(valid_utf8(c));
    // Same first byte, different character: no false match.
    const Streamed t = stream({"é"}, chars_of("èê"));
    QCOMPARE(t.text, std::string("èê"));
    QVERIFY(!t.stopped);
}

void TestStopStrings::stopAtVeryStart() {
    Streamed s = stream({"STOP"}, {"STOP and more"});
    QCOMPARE(s.text, std::string());
    QVERIFY(s.stopped);
    s = stream({"STOP"}, bytes_of("STOP and more"));
    QCOMPARE(s.text, std::string());
    QVERIFY(s.stopped);
    for (const std::string& c : s.chunks) QVERIFY(c.empty());
}

void TestStopStrings::flushReleasesHeldText() {
    StopStringMatcher m({"<end>"});
    StopStringMatcher::Result r = m.feed("value <en");
    QCOMPARE(r.text, std::string("value "));
    QCOMPARE(m.flush(), std::string("<en"));
    QCOMPARE(m.flush(), std::string());
    // After a flush the matcher starts clean.
    r = m.feed("d>");
    QCOMPARE(r.text, std::string("d>"));
}

void TestStopStrings::afterStopNothingMore() {
    StopStringMatcher m({"x"});
    StopStringMatcher::Result r = m.feed("abxcd");
    QCOMPARE(r.text, std::string("ab"));
    QVERIFY(m.stopped());
    r = m.feed("more");
    QVERIFY(r.text.empty());
    QVERIFY(r.stopped);
    QCOMPARE(r.stop_index, 0);
    QCOMPARE(m.flush(), std::string());
}

void TestStopStrings::splitInvariance() {
    // Random text over a small alphabet, random splits: the result equals the one-shot result,
    // which equals the text up to the earliest-ending match.
    std::mt19937 rng(7);
    const std::vector<std::string> stops = {"abc", "bca", "cc", "abab"};
    for (int iter = 0; iter < 2000; ++iter) {
        std::string text;
        const int len = static_cast<int>(rng() % 20);
        for (int i = 0; i < len; ++i) text += static_cast<char>('a' + rng() % 3);
        std::vector<std::string> deltas;
        for (size_t i = 0; i < text.size();) {
            const size_t n = std::min(text.size() - i, static_cast<size_t>(1 + rng() % 4));
            deltas.push_back(text.substr(i, n));
            i += n;
        }
        // Reference: the first end position at which some stop string ends (the longest one if
        // several end there).
        std::string expected = text;
        bool expected_stop = false;
        for (size_t end = 1; end <= text.size() && !expected_stop; ++end) {
            for (const std::string& st : stops) {
                if (end >= st.size() && text.compare(end - st.size(), st.size(), st) == 0 &&
                    (!expected_stop || end - st.size() < expected.size())) {
                    expected = text.substr(0, end - st.size());
                    expected_stop = true;
                }
            }
        }
        const Streamed split = stream(stops, deltas);
        const Streamed whole = stream(stops, {text});
        QCOMPARE(split.text, expected);
        QCOMPARE(whole.text, expected);
        QCOMPARE(split.stopped, expected_stop);
        QCOMPARE(split.stop_index, whole.stop_index);
    }
}

QTEST_GUILESS_MAIN(TestStopStrings)
#include "test_stop_strings.moc"
