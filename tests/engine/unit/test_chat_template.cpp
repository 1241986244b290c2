// Chat templates: every golden rendering of shared/golden/chat (llama.cpp's output for real
// model templates) reproduced byte for byte, the Jinja features one by one, errors with their
// line:column, hostile templates that must fail cleanly, and the model entry points.
#include <QtTest>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "model/model.h"
#include "shared_data.h"

using folio::chat::ChatTemplate;
using folio::chat::RenderOptions;
using folio::chat::TemplateError;
using nlohmann::ordered_json;

namespace {

std::vector<ordered_json> golden_rows() {
    std::vector<ordered_json> rows;
    std::ifstream in(folio::test::shared_path("golden/chat/renders.jsonl"));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) rows.push_back(ordered_json::parse(line));
    return rows;
}

// "first difference at byte N: got «...» want «...»" with some context, or empty when equal.
std::string describe_difference(const std::string& got, const std::string& want) {
    if (got == want) return {};
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    const size_t from = i > 40 ? i - 40 : 0;
    auto excerpt = [&](const std::string& s) {
        return ordered_json(s.substr(std::min(from, s.size()), 100))
            .dump(-1, ' ', false, ordered_json::error_handler_t::replace);
    };
    return "first difference at byte " + std::to_string(i) + " (got " + std::to_string(got.size()) +
           " bytes, want " + std::to_string(want.size()) + ")\n  got:  " + excerpt(got) +
           "\n  want: " + excerpt(want);
}

std::string render(const std::string& source, const ordered_json& messages = ordered_json::array(),
                   RenderOptions opts = {}) {
    return ChatTemplate::parse(source).render(messages, opts);
}

// Renders with `vars` as extra variables and no messages.
std::string render_vars(const std::string& source,
                        const nlohmann::json& vars = nlohmann::json::object()) {
    RenderOptions opts;
    opts.extra = vars;
    return ChatTemplate::parse(source).render(ordered_json::array(), opts);
}

// The message of the TemplateError that rendering `source` throws; "" when none.
std::string error_of(const std::string& source,
                     const nlohmann::json& vars = nlohmann::json::object()) {
    try {
        render_vars(source, vars);
    } catch (const TemplateError& e) {
        return e.what();
    }
    return {};
}

}  // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT

  private slots:
    void goldenRenders_data();
    void goldenRenders();
    void everyGoldenTemplateParses();

    void textAndWhitespaceControl();
    void expressionsAndOperators();
    void printingValues();
    void conditionalsAndLoops();
    void loopFilterElseBreakContinue();
    void setScopingAndNamespace();
    void macros();
    void filters();
    void tojsonFormatting();
    void tests();
    void stringListDictMethods();
    void slicingAndIndexing();
    void globals();

    void syntaxErrorsNameLineAndColumn();
    void runtimeErrors();
    void hostileTemplatesFailCleanly();

    void plainFallback();
    void llamaCppCompatibility();
    void forModel();
};

// ---- golden renderings ----

void TestChatTemplate::goldenRenders_data() {
    QTest::addColumn<int>("index");
    const auto rows = golden_rows();
    QVERIFY(rows.size() >= 150);
    for (size_t i = 0; i < rows.size(); ++i) {
        const std::string name = rows[i]["template"].get<std::string>() + "/" +
                                 rows[i]["conversation"].get<std::string>();
        QTest::newRow(name.c_str()) << int(i);
    }
}

void TestChatTemplate::goldenRenders() {
    QFETCH(int, index);
    static const auto rows = golden_rows();
    static std::map<std::string, ChatTemplate> cache;
    const ordered_json& row = rows[size_t(index)];
    const std::string name = row["template"];
    auto it = cache.find(name);
    if (it == cache.end()) {
        const auto source = folio::test::read_file(folio::test::shared_path("golden/chat/" + name));
        it = cache.emplace(name, ChatTemplate::parse(source)).first;
    }
    RenderOptions opts;
    opts.add_generation_prompt = row["add_generation_prompt"];
    opts.bos_token = row["bos_token"];
    opts.eos_token = row["eos_token"];
    opts.date = "2026-11-21";
    std::string got;
    try {
        got = it->second.render(row["messages"], opts);
    } catch (const TemplateError& e) {
        QFAIL(qPrintable(QString::fromStdString(
            name + " / " + row["conversation"].get<std::string>() + ": " + e.what())));
    }
    const std::string diff = describe_difference(got, row["prompt"]);
    if (!diff.empty())
        QFAIL(qPrintable(QString::fromStdString(
            name + " / " + row["conversation"].get<std::string>() + ": " + diff)));
}

void TestChatTemplate::everyGoldenTemplateParses() {
    const auto dir = folio::test::shared_path("golden/chat");
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".jinja") continue;
        ++count;
        try {
            ChatTemplate::parse(folio::test::read_file(entry.path()));
        } catch (const TemplateError& e) {
            QFAIL(qPrintable(
                QString::fromStdString(entry.path().filename().string() + ": " + e.what())));
        }
    }
    QVERIFY(count >= 50);
}

// ---- language features ----

void TestChatTemplate::textAndWhitespaceControl() {
    QCOMPARE(render_vars("plain text"), std::string("plain text"));
    QCOMPARE(render_vars("a {{- ' b ' -}} c"), std::string("a b c"));
    QCOMPARE(render_vars("a  {#- comment -#}  b"), std::string("ab"));
    // trim_blocks: the newline after a block tag goes; lstrip_blocks: indentation before it goes
    QCOMPARE(render_vars("{% if true %}\n    x\n    {% endif %}\ny"), std::string("    x\ny"));
    // ... but not before {{ }} and not with {%+
    QCOMPARE(render_vars("  {{ 1 }}\n  {%+ if true %}z{% endif %}"), std::string("  1\n  z"));
    // one trailing newline of the source is dropped, \r\n normalized
    QCOMPARE(render_vars("line\r\n\n"), std::string("line\n"));
    QCOMPARE(render_vars("{{ '}}' }}{{ {'a': {'b': 1}}['a']['b'] }}"), std::string("}}1"));
}

void TestChatTemplate::expressionsAndOperators() {
    QCOMPARE(render_vars("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} "
                         "{{ -7 % 3 }}"),
             std::string("7 9 3 -4 1 2"));
    QCOMPARE(render_vars("{{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 1.5 + 1 }}"),
             std::string("3.5 2.0 1024 2.5"));
    QCOMPARE(render_vars("{{ 'a' ~ 1 ~ none }} {{ 'ab' * 3 }} {{ [1] + [2] }}"),
             std::string("a1None ababab [1, 2]"));
    QCOMPARE(render_vars("{{ 1 < 2 and 2 <= 2 and 3 > 2 and 'b' >= 'a' and 1 == 1.0 and 1 != 2 }}"),
             std::string("True"));
    QCOMPARE(render_vars(
                 "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}"),
             std::string("True True True True"));
    QCOMPARE(
        render_vars("{{ 'yes' if x else 'no' }} {{ 'yes' if not x else 'no' }}", {{"x", false}}),
        std::string("no yes"));
    QCOMPARE(render_vars("[{{ 'shown' if false }}]"), std::string("[]"));
    // and/or return operands as Python does
    QCOMPARE(render_vars("{{ '' or 'fallback' }} {{ 'a' and 'b' }} {{ 0 or none }}"),
             std::string("fallback b None"));
    // `is` binds tighter than `not` and arithmetic
    QCOMPARE(render_vars("{{ not x is defined }} {{ x is not defined }}"),
             std::string("True True"));
    QCOMPARE(render_vars("{{ 'a' 'b' }}"), std::string("ab"));
}

void TestChatTemplate::printingValues() {
    QCOMPARE(render_vars("{{ true }} {{ false }} {{ none }} {{ undefined_name }}|"),
             std::string("True False None |"));
    QCOMPARE(render_vars("{{ [1, 'a', none, true, 2.5] }}"),
             std::string("[1, 'a', None, True, 2.5]"));
    QCOMPARE(render_vars("{{ {'k': \"it's\"} }}"), std::string("{'k': \"it's\"}"));
    QCOMPARE(render_vars("{{ 1e20 }} {{ 0.1 }} {{ 1e-5 }} {{ 100.0 }} {{ 3 }}"),
             std::string("1e+20 0.1 1e-05 100.0 3"));
    QCOMPARE(render_vars("{{ big }} {{ frac }}", {{"big", 12345678901234}, {"frac", 0.25}}),
             std::string("12345678901234 0.25"));
}

void TestChatTemplate::conditionalsAndLoops() {
    QCOMPARE(
        render_vars("{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}", {{"x", 2}}),
        std::string("two"));
    QCOMPARE(
        render_vars("{% for x in [10, 20, 30] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}"
                    "{{ loop.last }}{{ loop.length }}{{ loop.revindex }};{% endfor %}"),
        std::string("10TrueFalse33;21FalseFalse32;32FalseTrue31;"));
    QCOMPARE(render_vars(
                 "{% for x in 'ab' %}{{ loop.previtem }}-{{ x }}-{{ loop.nextitem }};{% endfor %}"),
             std::string("-a-b;a-b-;"));
    QCOMPARE(render_vars("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }} {% endfor %}"),
             std::string("a=1 b=2 "));
    QCOMPARE(render_vars("{% for k in {'z': 1, 'a': 2} %}{{ k }}{% endfor %}"), std::string("za"));
    QCOMPARE(render_vars("{% for x in [1,2,3] %}{{ loop.cycle('o', 'e') }}{% endfor %}"),
             std::string("oeo"));
    QCOMPARE(render_vars("{% for x in [[1, 2], [3, 4]] %}{% for y in x %}{{ loop.index }}{{ y }}{% "
                         "endfor %}|{% endfor %}"),
             std::string("1122|1324|"));
}

void TestChatTemplate::loopFilterElseBreakContinue() {
    QCOMPARE(render_vars(
                 "{% for x in range(10) if x is odd %}{{ x }}{{ '/' if loop.last }}{% endfor %}"),
             std::string("13579/"));
    QCOMPARE(render_vars("{% for x in [] %}a{% else %}empty{% endfor %}"), std::string("empty"));
    QCOMPARE(render_vars("{% for x in undefined_list %}a{% else %}none{% endfor %}"),
             std::string("none"));
    QCOMPARE(render_vars("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}"
                         "{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
             std::string("013"));
}

void TestChatTemplate::setScopingAndNamespace() {
    // a set inside a loop does not leak out; a namespace carries state out
    QCOMPARE(
        render_vars("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{% endfor %}{{ x }}"),
        std::string("1"));
    QCOMPARE(render_vars(
                 "{% set ns = namespace(x=1, l=[]) %}{% for i in [1, 2] %}{% set ns.x = ns.x + i %}"
                 "{% set _ = ns.l.append(i) %}{% endfor %}{{ ns.x }} {{ ns.l }}"),
             std::string("4 [1, 2]"));
    QCOMPARE(render_vars("{% set a, b = [1, 2] %}{{ b }}{{ a }}"), std::string("21"));
    QCOMPARE(render_vars("{% set block %}  text {{ 1 }}{% endset %}[{{ block }}]"),
             std::string("[  text 1]"));
    QCOMPARE(render_vars("{% set s | upper %}abc{% endset %}{{ s }}"), std::string("ABC"));
    QVERIFY(error_of("{% set d = {} %}{% set d.x = 1 %}").find("namespace") != std::string::npos);
    // if blocks do not open a scope
    QCOMPARE(render_vars("{% if true %}{% set y = 5 %}{% endif %}{{ y }}"), std::string("5"));
}

void TestChatTemplate::macros() {
    QCOMPARE(render_vars("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
                         "{{ greet('A') }} {{ greet('B', '?') }} {{ greet(punct='.', name='C') }}"),
             std::string("Hi A! Hi B? Hi C."));
    // recursion with a depth that ends, and the macro sees top-level variables
    QCOMPARE(render_vars("{% set sep = ',' %}{% macro count(n) %}{{ n }}{% if n > 0 %}{{ sep }}{{ "
                         "count(n - 1) }}"
                         "{% endif %}{% endmacro %}{{ count(3) }}"),
             std::string("3,2,1,0"));
    QCOMPARE(
        render_vars(
            "{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inside{% endcall %}"),
        std::string("[inside]"));
    QCOMPARE(render_vars("{% macro m(a) %}{{ a is defined }}{% endmacro %}{{ m() }}"),
             std::string("False"));
}

void TestChatTemplate::filters() {
    QCOMPARE(render_vars("{{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'Hello' | length "
                         "}}|{{ 'été' | length }}"),
             std::string("x|hi|5|3"));
    QCOMPARE(render_vars("{{ [1, 2, 3] | join(', ') }} {{ ['a', 'b'] | join }} {{ 'aBc' | upper }} "
                         "{{ 'ÉTÉ' | lower }}"),
             std::string("1, 2, 3 ab ABC été"));
    QCOMPARE(render_vars("{{ 'hello world' | capitalize }} {{ 'hello world-wide' | title }}"),
             std::string("Hello world Hello World-Wide"));
    QCOMPARE(render_vars("{{ x | default('d') }} {{ '' | default('d') }} {{ '' | default('d', "
                         "true) }} {{ none | d('n') }}"),
             std::string("d  d None"));
    QCOMPARE(render_vars("{{ {'b': 1, 'A': 2} | dictsort }} {{ {'a': 1} | items | list }}"),
             std::string("[['A', 2], ['b', 1]] [['a', 1]]"));
    QCOMPARE(render_vars("{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', "
                         "'A', 'c'] | sort }}"),
             std::string("[1, 2, 3] [3, 2, 1] ['A', 'b', 'c']"));
    QCOMPARE(render_vars("{{ [1, 2, 2, 1] | unique | list }} {{ [1, 2] | reverse | list }} {{ "
                         "'abc' | reverse }}"),
             std::string("[1, 2] [2, 1] cba"));
    QCOMPARE(
        render_vars("{{ [1, 2] | first }}{{ [1, 2] | last }} {{ 'abc' | list }} {{ 42 | string }}"),
        std::string("12 ['a', 'b', 'c'] 42"));
    QCOMPARE(render_vars("{{ '3' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ 2.7 | int }}"),
             std::string("4 0 2.5 2"));
    QCOMPARE(render_vars("{{ 'a-b-a' | replace('a', 'x') }} {{ 'one two  three' | wordcount }}"),
             std::string("x-b-x 3"));
    QCOMPARE(render_vars("{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}"),
             std::string("a\n  b\n\n  c|  a\n  b"));
    const nlohmann::json msgs = nlohmann::json::parse(
        R"([{"role":"user","n":1},{"role":"tool","n":2},{"role":"user","n":3}])");
    QCOMPARE(render_vars(
                 "{{ m | selectattr('role', 'equalto', 'user') | map(attribute='n') | list }}"
                 "{{ m | rejectattr('role', 'eq', 'user') | map(attribute='n') | list }}"
                 "{{ m | selectattr('n') | list | length }}"
                 "{{ [1, 2, 3, 4] | select('even') | list }}{{ [1, 2, 3] | reject('odd') | list }}"
                 "{{ ['a', 'B'] | map('upper') | join }}",
                 {{"m", msgs}}),
             std::string("[1, 3][2]3[2, 4][2]AB"));
    QCOMPARE(render_vars("{{ '{\"a\": [1, 2.5, null]}' | from_json }}"),
             std::string("{'a': [1, 2.5, None]}"));
    QCOMPARE(render_vars("{{ '<a&b>' | e }}{{ '<x>' | safe }}"), std::string("&lt;a&amp;b&gt;<x>"));
}

void TestChatTemplate::tojsonFormatting() {
    const nlohmann::json v =
        ordered_json::parse(R"({"name":"f","args":{"z":1,"a":[true,null,1.5,"é\"\n<>"]}})");
    QCOMPARE(render_vars("{{ v | tojson }}", {{"v", v}}),
             std::string(R"({"args": {"a": [true, null, 1.5, "é\"\n<>"], "z": 1}, "name": "f"})"));
    QCOMPARE(render_vars("{{ {'b': 1, 'a': [1, 2]} | tojson(indent=2) }}"),
             std::string("{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2\n  ]\n}"));
    QCOMPARE(render_vars("{{ {'b': 1, 'a': 'é'} | tojson(ensure_ascii=true, sort_keys=true) }}"),
             std::string(R"({"a": "\u00e9", "b": 1})"));
    QCOMPARE(render_vars("{{ {'a': [1, 2]} | tojson(separators=(',', ':')) }}"),
             std::string(R"({"a":[1,2]})"));
    QCOMPARE(
        render_vars("{{ [] | tojson }}{{ {} | tojson }}{{ '\x01' | tojson }}{{ 'a' | tojson }}"),
        std::string("[]{}\"\\u0001\"\"a\""));
}

void TestChatTemplate::tests() {
    QCOMPARE(render_vars("{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 'a' is string "
                         "}}{{ 1 is number }}"),
             std::string("FalseTrueTrueTrueTrue"));
    QCOMPARE(render_vars("{{ {} is mapping }}{{ [] is mapping }}{{ [] is iterable }}{{ 'a' is "
                         "iterable }}{{ 3 is iterable }}"),
             std::string("TrueFalseTrueTrueFalse"));
    QCOMPARE(render_vars("{{ [] is sequence }}{{ true is boolean }}{{ 1 is boolean }}{{ false is "
                         "false }}{{ true is true }}"),
             std::string("TrueTrueFalseTrueTrue"));
    QCOMPARE(
        render_vars(
            "{{ 4 is divisibleby 2 }}{{ 3 is odd }}{{ 'a' is eq 'a' }}{{ 'a' is equalto('b') }}"
            "{{ 2 is in [1, 2] }}{{ 'abc' is lower }}{{ 1 is integer }}{{ 1.0 is float }}"),
        std::string("TrueTrueTrueFalseTrueTrueTrueTrue"));
    QCOMPARE(render_vars("{{ raise_exception is callable }}{{ x is not none }}"),
             std::string("TrueTrue"));
}

void TestChatTemplate::stringListDictMethods() {
    QCOMPARE(
        render_vars(
            "{{ '  a b  '.strip() }}|{{ 'xxa'.lstrip('x') }}|{{ 'a\n'.rstrip() }}|{{ "
            "'a,b,,c'.split(',') }}"
            "|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a/b/c'.rsplit('/', 1) }}"),
        std::string("a b|a|a|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a/b', 'c']"));
    QCOMPARE(render_vars("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}{{ "
                         "'Ab'.upper() }}{{ 'Ab'.lower() }}"
                         "{{ 'hello world'.title() }}{{ 'aaa'.replace('a', 'b', 2) }}{{ "
                         "'abcb'.find('b') }}{{ 'abcb'.count('b') }}"),
             std::string("TrueTrueABabHello Worldbba12"));
    QCOMPARE(render_vars("{{ '{} and {}'.format(1, 'x') }} {{ '{0}{0}{name}'.format('r', name='n') "
                         "}} {{ '{{}}'.format() }}"),
             std::string("1 and x rrn {}"));
    QCOMPARE(render_vars("{{ '-'.join(['a', 'b']) }} {{ '12'.isdigit() }}"),
             std::string("a-b True"));
    QCOMPARE(
        render_vars(
            "{% set l = [1, 2, 3] %}{{ l.pop() }}{{ l.pop(0) }}{{ l }}{% set _ = l.insert(0, 9) %}"
            "{% set _ = l.extend([7]) %}{{ l }}{{ l.index(7) }}"),
        std::string("31[2][9, 2, 7]2"));
    QCOMPARE(render_vars(
                 "{% set d = {'a': 1, 'b': 2} %}{{ d.get('a') }}{{ d.get('x') }}{{ d.get('x', 0) }}"
                 "{{ d.keys() | list }}{{ d.values() | list }}{{ d.items() | list }}{{ d.pop('a') "
                 "}}{{ d }}"),
             std::string("1None0['a', 'b'][1, 2][['a', 1], ['b', 2]]1{'b': 2}"));
    // dict methods win over keys for attribute syntax, keys win for subscripts
    QCOMPARE(render_vars("{% set d = {'items': 'key'} %}{{ d['items'] }} {{ d.items() | list }}"),
             std::string("key [['items', 'key']]"));
}

void TestChatTemplate::slicingAndIndexing() {
    QCOMPARE(render_vars("{% set l = [0, 1, 2, 3, 4] %}{{ l[1:3] }}{{ l[:2] }}{{ l[3:] }}{{ "
                         "l[::-1] }}{{ l[::2] }}"
                         "{{ l[-2:] }}{{ l[-1] }}{{ l[10] is defined }}"),
             std::string("[1, 2][0, 1][3, 4][4, 3, 2, 1, 0][0, 2, 4][3, 4]4False"));
    QCOMPARE(render_vars("{{ 'héllo'[1] }}{{ 'héllo'[1:3] }}{{ 'abc'[::-1] }}{{ 'abc'[-1] }}"),
             std::string("éélcbac"));
    QCOMPARE(
        render_vars("{{ m.role }} {{ m['content'] }} {{ m.missing is defined }} {{ m.list.0 }}",
                    {{"m", {{"role", "user"}, {"content", "hi"}, {"list", {5, 6}}}}}),
        std::string("user hi False 5"));
}

void TestChatTemplate::globals() {
    QCOMPARE(render_vars(
                 "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(3, 0, -1) | list }}"),
             std::string("[0, 1, 2] [1, 3, 5] [3, 2, 1]"));
    QCOMPARE(render_vars("{{ dict(a=1) }} {{ namespace(a=1).a }}"), std::string("{'a': 1} 1"));
    RenderOptions opts;
    opts.date = "2026-11-21";
    QCOMPARE(render("{{ strftime_now('%Y-%m-%d %d %b %Y %A %B') }}", ordered_json::array(), opts),
             std::string("2026-11-21 21 Nov 2026 Saturday November"));
    QCOMPARE(render("{{ date_string }}|{{ datetime }}", ordered_json::array(), opts),
             std::string("21 Nov 2026|Nov 21 2026"));
    opts.date.clear();
    QCOMPARE(render("{{ strftime_now('%Y') | length }}", ordered_json::array(), opts),
             std::string("4"));
}

// ---- errors ----

void TestChatTemplate::syntaxErrorsNameLineAndColumn() {
    auto parse_error = [](const std::string& src) -> std::string {
        try {
            ChatTemplate::parse(src);
        } catch (const TemplateError& e) {
            return e.what();
        }
        return {};
    };
    std::string e = parse_error("line one\n{% if x %}\n  {{ x + }}\n{% endif %}");
    QVERIFY2(e.find("3:") != std::string::npos, e.c_str());
    e = parse_error("{% for x in y %}\nno end");
    QVERIFY2(e.find("endfor") != std::string::npos, e.c_str());
    e = parse_error("ab\n  {% frobnicate %}");
    QVERIFY2(e.find("2:6") != std::string::npos && e.find("frobnicate") != std::string::npos,
             e.c_str());
    QVERIFY(!parse_error("{{ 'unterminated }}").empty());
    QVERIFY(!parse_error("{# unterminated comment").empty());
    QVERIFY(!parse_error("{{ x ").empty());
    QVERIFY(!parse_error("{% break %}").empty());
    QVERIFY(!parse_error("{% endif %}").empty());
    QVERIFY(!parse_error("{{ [1, 2 }}").empty());
}

void TestChatTemplate::runtimeErrors() {
    std::string e = error_of("ok\n{{ raise_exception('Conversation roles must alternate') }}");
    QVERIFY2(e.find("Conversation roles must alternate") != std::string::npos, e.c_str());
    QVERIFY2(e.find("2:") != std::string::npos, e.c_str());
    QVERIFY(error_of("{{ 1 + 'a' }}").find("unsupported operand") != std::string::npos);
    QVERIFY(error_of("{{ x.y }}").find("'x' is undefined") != std::string::npos);
    QVERIFY(error_of("{{ 1 // 0 }}").find("zero") != std::string::npos);
    QVERIFY(error_of("{{ 'a' | no_such_filter }}").find("no_such_filter") != std::string::npos);
    QVERIFY(error_of("{{ 1 is no_such_test }}").find("no_such_test") != std::string::npos);
    QVERIFY(error_of("{{ undefined_fn() }}").find("undefined_fn") != std::string::npos);
    QVERIFY(error_of("{% for x in 3 %}{% endfor %}").find("not iterable") != std::string::npos);
    QVERIFY(error_of("{{ '{' | from_json }}").find("from_json") != std::string::npos);
    // a None attribute is undefined, not an error
    QCOMPARE(render_vars("{{ none.x is defined }}"), std::string("False"));
}

void TestChatTemplate::hostileTemplatesFailCleanly() {
    QElapsedTimer timer;
    timer.start();
    auto fails = [](const std::string& src) {
        try {
            ChatTemplate::parse(src).render(ordered_json::array(), RenderOptions{});
        } catch (const TemplateError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    // deep nesting in the parser
    QVERIFY(
        !fails("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}").empty());
    QVERIFY(!fails("{{ " + std::string(50000, '[') + " }}").empty());
    std::string ifs;
    for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
    QVERIFY(!fails(ifs).empty());
    QVERIFY(!fails("{{ " +
                   [] {
                       std::string s = "x";
                       for (int i = 0; i < 20000; ++i) s = "not " + s;
                       return s;
                   }() +
                   " }}")
                 .empty());
    // endless recursion, huge loops, exponential strings, huge ranges
    QVERIFY(fails("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("nested too deeply") !=
            std::string::npos);
    QVERIFY(
        fails("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
            .find("step limit") != std::string::npos);
    QVERIFY(
        !fails(
             "{% set ns = namespace(s='xx') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}"
             "{% endfor %}")
             .empty());
    QVERIFY(!fails("{{ 'x' * 10000000000 }}").empty());
    QVERIFY(!fails("{{ range(10000000000) }}").empty());
    QVERIFY(!fails("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}").empty());
    // self-referencing and deeply nested values
    QVERIFY(!fails("{% set l = [] %}{% set _ = l.append(l) %}{{ l }}").empty());
    QVERIFY(
        !fails("{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}"
               "{% endfor %}{{ ns.x | tojson }}")
             .empty());
    QVERIFY(!fails("{{ ('[' * 100000) | from_json }}").empty());
    QVERIFY2(timer.elapsed() < 30000, "hostile templates took too long");
}

// ---- fallback, compatibility, models ----

void TestChatTemplate::plainFallback() {
    const ChatTemplate t = ChatTemplate::plain_fallback();
    QVERIFY(t.is_fallback());
    const auto msgs = ordered_json::parse(
        R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}])");
    RenderOptions opts;
    opts.bos_token = "<s>";
    QCOMPARE(t.render(msgs, opts), std::string("system: Be brief.\nuser: Hi\nassistant:"));
    opts.add_generation_prompt = false;
    QCOMPARE(t.render(msgs, opts), std::string("system: Be brief.\nuser: Hi\n"));
    QVERIFY(!ChatTemplate::parse("{{ 1 }}").is_fallback());
}

void TestChatTemplate::llamaCppCompatibility() {
    const auto msgs =
        ordered_json::parse(R"([{"role":"system","content":"S"},{"role":"user","content":"U"}])");
    // a template that rejects system messages gets the system text merged into the next one
    const ChatTemplate strict = ChatTemplate::parse(
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('no system') }}{% endif %}"
        "{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}");
    QVERIFY(!strict.supports_system_role());
    QCOMPARE(strict.render(msgs, RenderOptions{}), std::string("[user:S\nU]"));
    // developer → system; bos stripped at the start only when asked
    const ChatTemplate t = ChatTemplate::parse(
        "{{ bos_token }}{% for m in messages %}[{{ m.role }}{{ m.content }}]{% endfor %}{{ "
        "eos_token }}");
    QVERIFY(t.supports_system_role());
    RenderOptions opts;
    opts.bos_token = "<s>";
    opts.eos_token = "</s>";
    const auto dev = ordered_json::parse(R"([{"role":"developer","content":"D"}])");
    QCOMPARE(t.render(dev, opts), std::string("[systemD]</s>"));
    opts.strip_bos = false;
    opts.strip_eos = true;
    QCOMPARE(t.render(dev, opts), std::string("<s>[systemD]"));
    // enable_thinking defaults to true; extra variables override
    QCOMPARE(render("{{ enable_thinking }}"), std::string("True"));
    RenderOptions think;
    think.extra = {{"enable_thinking", false}, {"custom", "c"}};
    QCOMPARE(render("{{ enable_thinking }}{{ custom }}", ordered_json::array(), think),
             std::string("Falsec"));
    // tools keep their key order
    RenderOptions tools;
    tools.tools = ordered_json::parse(R"([{"z":1,"a":2}])");
    QCOMPARE(render("{{ tools | tojson }}", ordered_json::array(), tools),
             std::string(R"([{"z": 1, "a": 2}])"));
}

void TestChatTemplate::forModel() {
    const auto qwen = folio::Model::load(folio::test::shared_path("models/tiny-qwen2-Q8_0.gguf"));
    const ChatTemplate qt = ChatTemplate::for_model(*qwen);
    QVERIFY(!qt.is_fallback());
    const RenderOptions qo = RenderOptions::for_model(*qwen);
    const auto msgs = ordered_json::parse(R"([{"role":"user","content":"Hello"}])");
    const std::string prompt = qt.render(msgs, qo);
    QVERIFY2(prompt.find("<|im_start|>user\nHello<|im_end|>") != std::string::npos, prompt.c_str());
    QVERIFY2(prompt.size() >= 22 && prompt.substr(prompt.size() - 22) == "<|im_start|>assistant\n",
             prompt.c_str());

    const auto llama = folio::Model::load(folio::test::shared_path("models/tiny-llama2-Q8_0.gguf"));
    const ChatTemplate lt = ChatTemplate::for_model(*llama);
    QVERIFY(lt.is_fallback());
    const RenderOptions lo = RenderOptions::for_model(*llama);
    QCOMPARE(lo.bos_token, std::string("<s>"));
    QCOMPARE(lo.eos_token, std::string("</s>"));
    QCOMPARE(lt.render(msgs, lo), std::string("user: Hello\nassistant:"));
}

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "test_chat_template.moc"
