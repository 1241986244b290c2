#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "tokenizer/unicode.h"

namespace folio {

namespace {

// The regex sets, written exactly as llama.cpp's llm_tokenizer_bpe has them (its "adapted" forms
// where the original used constructs std::regex lacks).
const char* const kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const char* const kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "{1,"
    "3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kPoro =
    " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+";
const char* const kTekken =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?"
    "=["
    "\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+("
    "?!\\S)|\\s+";
const char* const kGpt4o =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'"
    "[vV]["
    "eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z])"
    ")*(?:'"
    "[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n/"
    "]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kDeepseek3 =
    "[!\"#$%&'()*+,\\-./"
    ":;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
    "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";
const char* const kDeepseek3Cjk = "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+";
const char* const kBailing =
    "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
const char* const kSeedCoder =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "{1}| "
    "?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Qwen3.5: letter runs take combining marks along.
const char* const kQwen35 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}"
    "\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Pseudo-regexes naming custom splitters (llama.cpp's own names for them).
const char* const kKimiK2 = "\\p{Han}+";
const char* const kAfmoeDigits = "\\p{AFMoE_digits}";
// tiny_aya's digit regex; llama.cpp runs the AFMoE digit splitter for it rather than the regex.
const char* const kTinyAyaDigits = "\\d{1,3}(?=(?:\\d{3})*\\b)";
// AFMoE's CJK / Asian-scripts class, as llama.cpp writes it in literals: its Thai range starts at
// U+0E40 (not at the block start U+0E00); the compatibility ideographs are U+F900-U+FAFF.
const char* const kAfmoeCjk =
    "[\\x{4E00}-\\x{9FFF}\\x{3400}-\\x{4DBF}\\x{F900}-\\x{FAFF}\\x{3040}-\\x{309F}\\x{30A0}-"
    "\\x{30FF}\\x{FF65}-\\x{FF9F}\\x{2F00}-\\x{2FDF}\\x{0E40}-\\x{0E7F}\\x{0E80}-\\x{0EFF}"
    "\\x{1780}-\\x{17FF}\\x{1000}-\\x{109F}\\x{AA60}-\\x{AA7F}\\x{A9E0}-\\x{A9FF}\\x{AC00}-"
    "\\x{D7AF}\\x{1100}-\\x{11FF}]+";
// tiny_aya / cohere2moe main regex: gpt-4o's original case classes, kept as llama.cpp keeps them;
// collapsed, [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}] both mean [\p{L}\p{M}].
const char* const kTinyAya =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'["
    "sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}"
    "\\p{Lm}"
    "\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL]["
    "lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kJais2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}"
    "(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!"
    "\\S)|\\s{1}";
const char* const kSpark25 =
    "[!\"#$%&'()*+,\\-./"
    ":;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
    "?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+";
const char* const kYoutuCjk =
    "[\\x{AC00}-\\x{D7A3}\\x{3131}-\\x{318E}]+|[\\x{FF01}\\x{2026}\\x{201C}\\x{201D}\\x{2018}"
    "\\x{2019}\\x{2014}\\x{FF1A}\\x{FF1B}\\x{FF0C}\\x{3001}-\\x{303F}\\x{FE30}-\\x{FE4F}]+|["
    "\\x{3105}-\\x{312F}]+|[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+";
const char* const kYoutu =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?:'["
    "sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}"
    "\\p{Lm}"
    "\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL]["
    "lL]|'[dD])?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kGraniteEmbMulti =
    "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+(?:'[sS]|'"
    "[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^"
    "a-"
    "z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kExaoneMoe =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{"
    "M}*"
    "(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
const char* const kMiniCpm5 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Qwen2 without the contraction branch, so Turkish apostrophe suffixes stay attached.
const char* const kUfakzeka =
    "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!"
    "\\S)|\\s+";
const char* const kNewlines = "[^\\n]+|[\\n]+";

enum class Group {
    Default,
    Llama3,
    DeepseekLlm,
    Deepseek3,
    DeepseekCoder,
    Falcon,
    Starcoder,
    Gpt2,
    Qwen2,
    Poro,
    Chatglm4,
    Viking,
    Tekken,
    Chameleon,
    Gpt4o,
    Superbpe,
    Bailingmoe,
    SeedCoder,
    Qwen35,
    KimiK2,
    Afmoe,
    TinyAya,
    Jais2,
    Spark25,
    Youtu,
    GraniteEmbMulti,
    Laguna,
    ExaoneMoe,
    MiniCpm5,
    Ufakzeka,
    Newlines,
    Whitespace,
};

std::vector<std::string> group_regexes(Group g) {
    switch (g) {
        case Group::Llama3:
        case Group::Chatglm4:
            return {kLlama3};
        case Group::DeepseekLlm:
            return {
                "[\r\n]",
                "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
                "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{"
                "37D}"
                "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{"
                "3F7}-"
                "\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
                "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{"
                "1D6B}-"
                "\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{"
                "1F45}"
                "\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{"
                "1F7D}"
                "\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{"
                "1FCC}"
                "\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{"
                "1FF6}-"
                "\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{"
                "2124}"
                "\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{"
                "213F}"
                "\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{"
                "2CE4}"
                "\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{"
                "A722}-"
                "\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{"
                "FB06}"
                "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
                "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{"
                "10CF2}"
                "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
                "\\s?[!-/"
                ":-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
                "\\s+$",
                "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
                "\\p{N}+",
            };
        case Group::Deepseek3:
            return {"\\p{N}{1,3}", kDeepseek3Cjk, kDeepseek3};
        case Group::DeepseekCoder:
            return {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
                    "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}"};
        case Group::Falcon:
            return {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"};
        case Group::Starcoder:
            return {"\\p{N}", kGpt2};
        case Group::Gpt2:
            return {kGpt2};
        case Group::Qwen2:
            return {kQwen2};
        case Group::Poro:
            return {kPoro};
        case Group::Viking:
            return {kPoro, "\\p{N}"};
        case Group::Tekken:
            return {kTekken};
        case Group::Chameleon:
            return {
                "<sentinel:[0-9]+>",      "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
                "([\\t\\n]|    |  )",     "\\p{N}",
                "[\\p{P}!-/:-@\\[-`{-~]", kGpt2,
            };
        case Group::Gpt4o:
            return {kGpt4o};
        case Group::Superbpe:
            return {"\\p{N}+", "(?=(\\d{3})+(?!\\d))"};
        case Group::Bailingmoe:
            return {kBailing};
        case Group::SeedCoder:
            return {kSeedCoder};
        case Group::Qwen35:
            return {kQwen35};
        case Group::KimiK2:
            return {kKimiK2};
        case Group::Afmoe:
            return {kAfmoeDigits, kAfmoeCjk, kDeepseek3};
        case Group::TinyAya:
            return {kTinyAyaDigits, kTinyAya};
        case Group::Jais2:
            return {kJais2};
        case Group::Spark25:
            return {"\\p{N}{1,3}", kDeepseek3Cjk, kSpark25, "\\p{N}"};
        case Group::Youtu:
            return {kYoutuCjk, kYoutu};
        case Group::GraniteEmbMulti:
            return {kGraniteEmbMulti};
        case Group::Laguna:
            return {kNewlines, kQwen2};
        case Group::ExaoneMoe:
            return {kExaoneMoe};
        case Group::MiniCpm5:
            return {"\\p{N}{1,3}", kMiniCpm5};
        case Group::Ufakzeka:
            return {kUfakzeka};
        case Group::Newlines:
            return {kNewlines};
        case Group::Whitespace:
            return {"\\S+"};
        case Group::Default:
            break;
    }
    return {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"};
}

struct PreName {
    const char* name;
    Group group;
    bool clean_spaces;
    bool ignore_merges;
    bool add_bos;
    bool no_bos;
    bool spm_style = false;  // no byte encoding (gemma4, sarvam-moe, whitespace)
    bool escape_whitespaces = false;
};

// tokenizer.ggml.pre values llama.cpp recognizes, with its per-name flags (llama-vocab.cpp,
// llama_vocab::impl::load). Names are matched exactly, as llama.cpp does.
const PreName kPreNames[] = {
    {"default", Group::Default, true, false, false, false},
    {"llama3", Group::Llama3, true, true, true, false},
    {"llama-v3", Group::Llama3, true, true, true, false},
    {"llama-bpe", Group::Llama3, true, true, true, false},
    {"falcon3", Group::Llama3, true, true, true, false},
    {"falcon-h1", Group::Llama3, true, true, true, false},
    {"pixtral", Group::Llama3, true, true, true, false},
    {"jina-v5-nano", Group::Llama3, true, true, true, false},
    {"midm-2.0", Group::Llama3, true, true, true, false},
    {"lfm2", Group::Llama3, true, true, true, false},
    {"dbrx", Group::Llama3, true, false, false, false},
    {"smaug-bpe", Group::Llama3, true, false, false, false},
    {"deepseek-llm", Group::DeepseekLlm, false, false, false, false},
    {"deepseek-coder", Group::DeepseekCoder, false, false, false, false},
    {"deepseek-v3", Group::Deepseek3, false, false, false, false},
    {"hunyuan-dense", Group::Deepseek3, false, false, false, false},
    {"hy_v4", Group::Deepseek3, false, false, false, false},
    {"joyai-llm", Group::Deepseek3, false, false, false, false},
    {"spark2_5", Group::Spark25, false, false, false, false},
    {"youtu", Group::Youtu, false, true, false, false},
    {"minicpm5", Group::MiniCpm5, true, true, false, false},
    {"falcon", Group::Falcon, true, false, false, false},
    {"mpt", Group::Gpt2, true, false, false, false},
    {"starcoder", Group::Starcoder, true, false, false, false},
    {"refact", Group::Starcoder, true, false, false, false},
    {"command-r", Group::Starcoder, false, false, false, false},
    {"smollm", Group::Starcoder, false, false, false, false},
    {"codeshell", Group::Starcoder, true, false, false, false},
    {"exaone", Group::Starcoder, true, false, false, false},
    {"minerva-7b", Group::Starcoder, true, false, false, false},
    {"mellum2", Group::Starcoder, true, false, false, false},
    {"gpt-2", Group::Gpt2, true, false, false, false},
    {"phi-2", Group::Gpt2, true, false, false, false},
    {"jina-es", Group::Gpt2, true, false, false, false},
    {"jina-de", Group::Gpt2, true, false, false, false},
    {"gigachat", Group::Gpt2, true, false, false, false},
    {"jina-v2-es", Group::Gpt2, true, false, false, false},
    {"jina-v2-de", Group::Gpt2, true, false, false, false},
    {"a.x-4.0", Group::Gpt2, true, false, false, false},
    {"mellum", Group::Gpt2, true, false, false, false},
    {"modern-bert", Group::Gpt2, true, false, false, false},
    {"jina-v1-en", Group::Gpt2, true, false, false, false},
    {"jina-v2-code", Group::Gpt2, true, false, false, false},
    {"roberta-bpe", Group::Gpt2, true, false, false, false},
    {"exaone4", Group::Gpt2, true, false, false, false},
    {"olmo", Group::Gpt2, true, false, false, false},
    {"jais", Group::Gpt2, true, false, false, false},
    {"trillion", Group::Gpt2, false, false, false, false},
    {"granite-docling", Group::Gpt2, false, false, false, false},
    {"qwen2", Group::Qwen2, false, false, false, false},
    {"deepseek-r1-qwen", Group::Qwen2, false, false, false, false},
    {"kormo", Group::Qwen2, false, false, false, false},
    {"f2llmv2", Group::Qwen2, false, false, false, false},
    {"solar-open", Group::Qwen2, false, false, false, false},
    {"qwen35", Group::Qwen35, false, false, false, false},
    {"ufakzeka", Group::Ufakzeka, false, false, false, false},
    {"laguna", Group::Laguna, false, false, false, false},
    {"exaone-moe", Group::ExaoneMoe, true, false, false, false},
    {"jais-2", Group::Jais2, true, false, false, false},
    {"megrez", Group::Qwen2, true, false, false, false},
    {"stablelm2", Group::Qwen2, true, false, false, false},
    {"hunyuan", Group::Qwen2, false, false, false, false},
    {"grok-2", Group::Qwen2, false, false, false, false},
    {"poro-chat", Group::Poro, false, false, false, false},
    {"bloom", Group::Poro, true, false, false, false},
    {"gpt3-finnish", Group::Poro, true, false, false, false},
    {"glm4", Group::Chatglm4, true, false, false, true},
    {"chatglm-bpe", Group::Chatglm4, true, false, false, true},
    {"viking", Group::Viking, false, false, false, false},
    {"tekken", Group::Tekken, false, true, true, false},
    {"chameleon", Group::Chameleon, false, false, true, false},
    {"gpt-4o", Group::Gpt4o, false, false, false, false},
    {"llama4", Group::Gpt4o, false, false, false, false},
    {"kanana2", Group::Gpt4o, false, false, false, false},
    {"talkie", Group::Gpt4o, false, false, false, false},
    {"minimax-m2", Group::Gpt4o, false, false, false, false},
    {"granite-embed-multi-97m", Group::GraniteEmbMulti, false, true, false, false},
    {"tiny_aya", Group::TinyAya, false, false, false, false},
    {"cohere2moe", Group::TinyAya, false, false, false, false},
    {"kimi-k2", Group::KimiK2, false, false, false, false},
    {"afmoe", Group::Afmoe, false, false, false, false},
    {"gemma4", Group::Newlines, true, false, false, false, true, true},
    {"granite-embed-multi-311m", Group::Newlines, true, false, false, false, true, true},
    {"sarvam-moe", Group::Newlines, false, false, false, false, true, true},
    {"whitespace", Group::Whitespace, true, false, false, false, true, false},
    {"superbpe", Group::Superbpe, false, false, false, false},
    {"bailingmoe", Group::Bailingmoe, false, false, false, false},
    {"bailingmoe2", Group::Bailingmoe, false, false, false, false},
    {"llada-moe", Group::Bailingmoe, false, false, false, false},
    {"seed-coder", Group::SeedCoder, false, false, false, false},
};

const char* group_name(Group g) {
    switch (g) {
        case Group::Default:
            return "default";
        case Group::Llama3:
            return "llama3";
        case Group::DeepseekLlm:
            return "deepseek-llm";
        case Group::Deepseek3:
            return "deepseek-v3";
        case Group::DeepseekCoder:
            return "deepseek-coder";
        case Group::Falcon:
            return "falcon";
        case Group::Starcoder:
            return "starcoder";
        case Group::Gpt2:
            return "gpt-2";
        case Group::Qwen2:
            return "qwen2";
        case Group::Poro:
            return "poro";
        case Group::Chatglm4:
            return "chatglm4";
        case Group::Viking:
            return "viking";
        case Group::Tekken:
            return "tekken";
        case Group::Chameleon:
            return "chameleon";
        case Group::Gpt4o:
            return "gpt-4o";
        case Group::Superbpe:
            return "superbpe";
        case Group::Bailingmoe:
            return "bailingmoe";
        case Group::SeedCoder:
            return "seed-coder";
        case Group::Qwen35:
            return "qwen35";
        case Group::KimiK2:
            return "kimi-k2";
        case Group::Afmoe:
            return "afmoe";
        case Group::TinyAya:
            return "tiny_aya";
        case Group::Jais2:
            return "jais-2";
        case Group::Spark25:
            return "spark2_5";
        case Group::Youtu:
            return "youtu";
        case Group::GraniteEmbMulti:
            return "granite-embed-multi";
        case Group::Laguna:
            return "laguna";
        case Group::ExaoneMoe:
            return "exaone-moe";
        case Group::MiniCpm5:
            return "minicpm5";
        case Group::Ufakzeka:
            return "ufakzeka";
        case Group::Newlines:
            return "gemma4";
        case Group::Whitespace:
            return "whitespace";
    }
    return "?";
}

// ---- collapsed representation (llama.cpp's unicode_regex_split) ----

struct Category {
    const char* pattern;  // as written in a regex
    uint16_t flag;
    char byte;          // stand-in byte in the collapsed text
    const char* ascii;  // the ASCII members, as a class fragment
};

const Category kCategories[] = {
    {"\\p{N}", unicode::CptFlags::NUMBER, '\xD1', "\x30-\x39"},
    {"\\p{L}", unicode::CptFlags::LETTER, '\xD2', "\x41-\x5A\x61-\x7A"},
    {"\\p{P}", unicode::CptFlags::PUNCTUATION, '\xD3',
     "\x21-\x23\x25-\x2A\x2C-\x2F\x3A-\x3B\x3F-\x40\\\x5B-\\\x5D\x5F\\\x7B\\\x7D"},
    {"\\p{M}", unicode::CptFlags::ACCENT_MARK, '\xD4', ""},
    // ~ is Sm; llama.cpp's older tables left it out of \p{S}
    {"\\p{S}", unicode::CptFlags::SYMBOL, '\xD5', "\\\x24\\\x2B\x3C-\x3E\x5E\x60\\\x7C\\\x7E"},
};

// Letter subcategories: llama.cpp collapses each of them to the whole of \p{L}.
const char* const kLetterSubcategories[] = {"\\p{Lu}", "\\p{Ll}", "\\p{Lt}", "\\p{Lm}", "\\p{Lo}"};

// The category a `\p{..}` name stands for in collapsed mode, or nullptr.
const Category* category_of(std::string_view pat) {
    for (const auto& c : kCategories)
        if (pat == c.pattern) return &c;
    for (const char* sub : kLetterSubcategories)
        if (pat == sub) return &kCategories[1];
    return nullptr;
}

bool uses_categories(const std::string& re) {
    for (const auto& c : kCategories)
        if (re.find(c.pattern) != std::string::npos) return true;
    for (const char* sub : kLetterSubcategories)
        if (re.find(sub) != std::string::npos) return true;
    return false;
}

char collapse_cpt(uint32_t cpt) {
    if (cpt < 128) return static_cast<char>(cpt);
    const auto flags = unicode::cpt_flags(cpt);
    if (flags.is_whitespace()) return '\x0B';
    for (const auto& c : kCategories)
        if (flags.category() == c.flag) return c.byte;
    return '\xD0';
}

std::string collapse_regex(const std::string& re) {
    for (unsigned char ch : re)
        if (ch >= 128)
            throw std::runtime_error(
                "pre-tokenizer regex mixes unicode categories and non-ASCII "
                "characters: " +
                re);
    std::string out;
    bool inside = false;
    for (size_t i = 0; i < re.size(); ++i) {
        if (re[i] == '[' && (i == 0 || re[i - 1] != '\\')) {
            out += '[';
            inside = true;
            continue;
        }
        if (inside && re[i] == ']' && re[i - 1] != '\\') {
            out += ']';
            inside = false;
            continue;
        }
        if (re[i] == '\\' && i + 3 < re.size() && re[i + 1] == 'p' && re[i + 2] == '{') {
            const size_t close = re.find('}', i + 3);
            const Category* cat = close == std::string::npos
                                      ? nullptr
                                      : category_of(std::string_view(re).substr(i, close - i + 1));
            if (cat) {
                if (!inside) out += '[';
                out += cat->byte;
                out += cat->ascii;
                if (!inside) out += ']';
                i = close;
                continue;
            }
        }
        out += re[i];
    }
    return out;
}

struct CodeDeleter {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
struct MatchDataDeleter {
    void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
};
struct JitStackDeleter {
    void operator()(pcre2_jit_stack* s) const { pcre2_jit_stack_free(s); }
};
struct MatchContextDeleter {
    void operator()(pcre2_match_context* m) const { pcre2_match_context_free(m); }
};

std::string pcre2_message(int code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(code, buf, sizeof(buf));
    return reinterpret_cast<const char*>(buf);
}

}  // namespace

struct PreTokenizer::Regex {
    enum class Mode { Gpt2, Llama3, KimiK2, AfmoeDigits, Collapsed, Utf } mode;
    std::string source;
    std::unique_ptr<pcre2_code, CodeDeleter> code;
};

BpePreConfig bpe_pre_config(std::string_view pre) {
    if (pre.empty()) pre = "default";
    for (const auto& p : kPreNames) {
        if (pre == p.name) {
            BpePreConfig cfg;
            cfg.name = group_name(p.group);
            cfg.regexes = group_regexes(p.group);
            cfg.clean_spaces = p.clean_spaces;
            cfg.ignore_merges = p.ignore_merges;
            cfg.add_bos = p.add_bos;
            cfg.no_bos = p.no_bos;
            cfg.byte_encode = !p.spm_style;
            cfg.escape_whitespaces = p.escape_whitespaces;
            return cfg;
        }
    }
    std::string known;
    for (const auto& n : known_bpe_pre_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::runtime_error("unknown pre-tokenizer type (tokenizer.ggml.pre) '" +
                             std::string(pre) + "'; known: " + known);
}

std::vector<std::string> known_bpe_pre_names() {
    std::vector<std::string> names;
    for (const auto& p : kPreNames) names.emplace_back(p.name);
    std::sort(names.begin(), names.end());
    return names;
}

PreTokenizer::PreTokenizer(const std::vector<std::string>& regexes) {
    for (const auto& re : regexes) {
        auto r = std::make_unique<Regex>();
        r->source = re;
        if (re == kGpt2) {
            r->mode = Regex::Mode::Gpt2;
        } else if (re == kLlama3) {
            r->mode = Regex::Mode::Llama3;
        } else if (re == kKimiK2) {
            r->mode = Regex::Mode::KimiK2;
        } else if (re == kAfmoeDigits || re == kTinyAyaDigits) {
            r->mode = Regex::Mode::AfmoeDigits;
        } else {
            std::string pattern;
            uint32_t options = PCRE2_DOLLAR_ENDONLY;
            if (uses_categories(re)) {
                r->mode = Regex::Mode::Collapsed;
                pattern = collapse_regex(re);
                m_need_collapsed = true;
            } else {
                r->mode = Regex::Mode::Utf;
                pattern = re;
                options |= PCRE2_UTF;
                m_need_utf = true;
            }
            int err = 0;
            PCRE2_SIZE err_off = 0;
            pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()),
                                             pattern.size(), options, &err, &err_off, nullptr);
            if (!code)
                throw std::runtime_error("cannot compile pre-tokenizer regex '" + re +
                                         "': " + pcre2_message(err) + " at offset " +
                                         std::to_string(err_off));
            r->code.reset(code);
            pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
        }
        m_regexes.push_back(std::move(r));
    }
}

PreTokenizer::~PreTokenizer() = default;

namespace {

// Splits each piece of `offsets` with `code` over `subject`, whose units are described by
// `unit_of_cpt` (prefix sums: subject offset of each codepoint; nullptr when one unit per cpt).
std::vector<size_t> regex_split(const pcre2_code* code, std::string_view subject,
                                const std::vector<size_t>* unit_of_cpt,
                                const std::vector<size_t>& offsets, bool utf) {
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(
        pcre2_match_data_create_from_pattern(code, nullptr));
    std::unique_ptr<pcre2_match_context, MatchContextDeleter> mctx(
        pcre2_match_context_create(nullptr));
    std::unique_ptr<pcre2_jit_stack, JitStackDeleter> jit_stack(
        pcre2_jit_stack_create(32 * 1024, 16 * 1024 * 1024, nullptr));
    if (!md || !mctx || !jit_stack) throw std::bad_alloc();
    pcre2_jit_stack_assign(mctx.get(), nullptr, jit_stack.get());

    const auto unit = [&](size_t cpt) { return unit_of_cpt ? (*unit_of_cpt)[cpt] : cpt; };
    const auto cpt_at = [&](size_t u) -> size_t {
        if (!unit_of_cpt) return u;
        return static_cast<size_t>(std::lower_bound(unit_of_cpt->begin(), unit_of_cpt->end(), u) -
                                   unit_of_cpt->begin());
    };

    std::vector<size_t> out;
    out.reserve(offsets.size());
    size_t cpt_start = 0;
    for (size_t len : offsets) {
        const size_t seg_begin = unit(cpt_start);
        const size_t seg_end = unit(cpt_start + len);
        const auto* seg = reinterpret_cast<PCRE2_SPTR>(subject.data() + seg_begin);
        const size_t seg_len = seg_end - seg_begin;
        size_t last = 0;  // in units, relative to seg_begin
        size_t pos = 0;
        uint32_t opts = 0;
        const auto push_units = [&](size_t from, size_t to) {
            const size_t a = cpt_at(seg_begin + from), b = cpt_at(seg_begin + to);
            if (b > a) out.push_back(b - a);
        };
        while (pos <= seg_len) {
            const int rc = pcre2_match(code, seg, seg_len, pos,
                                       opts | (utf ? PCRE2_NO_UTF_CHECK : 0), md.get(), mctx.get());
            if (rc == PCRE2_ERROR_NOMATCH) {
                if (opts == 0 || pos >= seg_len) break;
                // the empty match at pos cannot be extended: move on one character
                ++pos;
                if (utf)
                    while (pos < seg_len && (seg[pos] & 0xC0) == 0x80) ++pos;
                opts = 0;
                continue;
            }
            if (rc < 0)
                throw std::runtime_error("pre-tokenizer regex failed: " + pcre2_message(rc));
            const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
            const size_t ms = ov[0], me = ov[1];
            if (ms > last) push_units(last, ms);
            push_units(ms, me);
            last = me;
            pos = me;
            opts = ms == me ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
            if (ms == me && me >= seg_len) break;
        }
        if (last < seg_len) push_units(last, seg_len);
        cpt_start += len;
    }
    return out;
}

}  // namespace

std::vector<size_t> PreTokenizer::split(const std::vector<uint32_t>& cpts) const {
    std::vector<size_t> offsets;
    if (cpts.empty()) return offsets;
    offsets.push_back(cpts.size());

    std::string collapsed;
    if (m_need_collapsed) {
        collapsed.resize(cpts.size());
        for (size_t i = 0; i < cpts.size(); ++i) collapsed[i] = collapse_cpt(cpts[i]);
    }
    std::string utf;
    std::vector<size_t> unit_of_cpt;
    if (m_need_utf) {
        unit_of_cpt.reserve(cpts.size() + 1);
        for (uint32_t c : cpts) {
            unit_of_cpt.push_back(utf.size());
            if (c >= 0x80 && unicode::is_whitespace(c)) c = 0x0B;
            if (c >= 0xD800 && c <= 0xDFFF) c = unicode::kReplacementChar;  // not valid UTF
            unicode::append_utf8(utf, c);
        }
        unit_of_cpt.push_back(utf.size());
    }

    for (const auto& r : m_regexes) {
        switch (r->mode) {
            case Regex::Mode::Gpt2:
                offsets = split_gpt2(cpts, offsets);
                break;
            case Regex::Mode::Llama3:
                offsets = split_llama3(cpts, offsets);
                break;
            case Regex::Mode::KimiK2:
                offsets = split_kimi_k2(cpts, offsets);
                break;
            case Regex::Mode::AfmoeDigits:
                offsets = split_afmoe_digits(cpts, offsets);
                break;
            case Regex::Mode::Collapsed:
                offsets = regex_split(r->code.get(), collapsed, nullptr, offsets, false);
                break;
            case Regex::Mode::Utf:
                offsets = regex_split(r->code.get(), utf, &unit_of_cpt, offsets, true);
                break;
        }
    }
    return offsets;
}

}  // namespace folio
