#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include "gguf/gguf_file.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace folio {

namespace {

constexpr std::string_view kSpmSpace = "\xe2\x96\x81";  // U+2581 "▁"

uint32_t attr_from_type(TokenType t) {
    switch (t) {
        case TokenType::Unknown:
            return kAttrUnknown;
        case TokenType::Unused:
            return kAttrUnused;
        case TokenType::Normal:
            return kAttrNormal;
        case TokenType::Control:
            return kAttrControl;
        case TokenType::UserDefined:
            return kAttrUserDefined;
        case TokenType::Byte:
            return kAttrByte;
        case TokenType::Undefined:
            break;
    }
    return kAttrUndefined;
}

bool is_c_space(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

bool contains_any(const std::string& s, std::initializer_list<const char*> subs) {
    for (const char* sub : subs)
        if (s.find(sub) != std::string::npos) return true;
    return false;
}

std::string lowercase(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    std::string out;
    out.reserve(s.size());
    size_t pos = 0;
    for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
        out.append(s, pos, hit - pos);
        out.append(to);
    }
    out.append(s, pos, std::string::npos);
    s.swap(out);
}

// llama.cpp's clean_up_tokenization_spaces passes over detokenized text.
void clean_up_spaces(std::string& text) {
    const auto pass = [&](auto&& keep_space_before) {
        if (text.empty()) return;
        size_t total = 1;
        for (size_t i = 1; i < text.size(); ++i) {
            const char x = text[i];
            if (text[i - 1] == ' ' && !keep_space_before(i)) --total;
            text[total++] = x;
        }
        text.resize(total);
    };
    // " ?" " !" " ." " ,"
    pass([&](size_t i) {
        const char x = text[i];
        return !(x == '?' || x == '!' || x == '.' || x == ',');
    });
    // " ' " -> "'"
    if (!text.empty()) {
        size_t total = 1;
        for (size_t i = 1; i < text.size(); ++i) {
            const char x = text[i];
            if (x == '\'' && i + 1 < text.size() && text[i - 1] == ' ' && text[i + 1] == ' ') {
                --total;
                text[++i] = '\0';  // as llama.cpp: the next check sees no space here
            }
            text[total++] = x;
        }
        text.resize(total);
    }
    // " 's" " 'm" " 're" " 've"
    pass([&](size_t i) {
        if (text[i] != '\'' || i + 1 >= text.size()) return true;
        const char x1 = text[i + 1];
        if (x1 == 's' || x1 == 'm') return false;
        if (i + 2 < text.size()) {
            const char x2 = text[i + 2];
            if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) return false;
        }
        return true;
    });
}

}  // namespace

Vocab::~Vocab() = default;

const Vocab::TokenData& Vocab::data(token_id id) const {
    if (id < 0 || id >= n_tokens())
        throw std::out_of_range("token id " + std::to_string(id) +
                                " out of range (vocabulary has " + std::to_string(n_tokens()) +
                                " tokens)");
    return m_tokens[static_cast<size_t>(id)];
}

std::string_view Vocab::token_text(token_id id) const {
    return data(id).text;
}
float Vocab::token_score(token_id id) const {
    return data(id).score;
}
TokenType Vocab::token_type(token_id id) const {
    return data(id).type;
}
uint32_t Vocab::token_attr(token_id id) const {
    return data(id).attr;
}

bool Vocab::is_eog(token_id id) const {
    return id != kNoToken && std::binary_search(m_eog.begin(), m_eog.end(), id);
}

token_id Vocab::find_token(std::string_view text) const {
    return m_token_to_id.find(text, kNoToken);
}

int32_t Vocab::merge_rank(std::string_view left, std::string_view right) const {
    thread_local std::string key;
    key.assign(left);
    key += '\xff';
    key.append(right);
    return m_merge_ranks.find(key, -1);
}

std::unique_ptr<Vocab> Vocab::from_gguf(const gguf::GgufFile& f) {
    VocabSpec spec;
    const auto model = f.get_string("tokenizer.ggml.model");
    if (!model) throw std::runtime_error(f.path() + ": missing key tokenizer.ggml.model");
    spec.model = std::string(*model);
    if (auto v = f.get_string("tokenizer.ggml.pre")) spec.pre = std::string(*v);
    if (auto v = f.get_string("general.name")) spec.name = std::string(*v);
    if (auto v = f.get_string("general.architecture")) {
        spec.architecture = std::string(*v);
        spec.vocab_size = f.get_int(spec.architecture + ".vocab_size");
    }
    const bool no_vocab = spec.model == "no_vocab" || spec.model == "none";
    if (auto toks = f.get_string_array("tokenizer.ggml.tokens")) {
        spec.tokens.assign(toks->begin(), toks->end());
    } else if (!no_vocab) {
        throw std::runtime_error(f.path() + ": missing key tokenizer.ggml.tokens");
    }
    if (auto v = f.get_f32_array("tokenizer.ggml.scores")) spec.scores = std::move(*v);
    if (auto v = f.get_int_array("tokenizer.ggml.token_type"))
        spec.token_types.assign(v->begin(), v->end());
    if (auto v = f.get_string_array("tokenizer.ggml.merges")) {
        spec.merges.assign(v->begin(), v->end());
    } else if (spec.model == "gpt2") {
        throw std::runtime_error(f.path() + ": missing key tokenizer.ggml.merges (BPE tokenizer)");
    }
    const std::pair<const char*, std::optional<int64_t>*> ids[] = {
        {"tokenizer.ggml.bos_token_id", &spec.bos_id},
        {"tokenizer.ggml.eos_token_id", &spec.eos_id},
        {"tokenizer.ggml.eot_token_id", &spec.eot_id},
        {"tokenizer.ggml.eom_token_id", &spec.eom_id},
        {"tokenizer.ggml.unknown_token_id", &spec.unk_id},
        {"tokenizer.ggml.seperator_token_id", &spec.sep_id},
        {"tokenizer.ggml.padding_token_id", &spec.pad_id},
        {"tokenizer.ggml.mask_token_id", &spec.mask_id},
        {"tokenizer.ggml.fim_pad_token_id", &spec.fim_pad_id},
        {"tokenizer.ggml.fim_rep_token_id", &spec.fim_rep_id},
        {"tokenizer.ggml.fim_sep_token_id", &spec.fim_sep_id},
    };
    for (const auto& [key, dst] : ids) *dst = f.get_int(key);
    spec.add_bos = f.get_bool("tokenizer.ggml.add_bos_token");
    spec.add_eos = f.get_bool("tokenizer.ggml.add_eos_token");
    spec.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix");
    spec.remove_extra_whitespaces = f.get_bool("tokenizer.ggml.remove_extra_whitespaces");
    try {
        return from_spec(std::move(spec));
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(f.path() + ": " + e.what());
    }
}

std::unique_ptr<Vocab> Vocab::from_spec(VocabSpec spec) {
    std::unique_ptr<Vocab> v(new Vocab());
    v->m_model = spec.model;
    v->m_pre = spec.pre;

    if (spec.model == "no_vocab" || spec.model == "none") {
        v->m_type = VocabType::None;
        const int64_t n = spec.vocab_size.value_or(0);
        v->m_tokens.resize(n > 0 ? static_cast<size_t>(n) : 0);
        for (auto& t : v->m_tokens) t.attr = kAttrUndefined, t.type = TokenType::Undefined;
        v->m_pieces.assign(v->m_tokens.size(), std::string());
        return v;
    }
    if (spec.model == "llama") {
        v->m_type = VocabType::Spm;
        v->m_bos = 1, v->m_eos = 2, v->m_unk = 0;
        v->m_add_space_prefix = true;
        v->m_add_bos = true;
        v->m_add_eos = false;
        v->m_clean_spaces = false;
    } else if (spec.model == "gpt2") {
        v->m_type = VocabType::Bpe;
        const BpePreConfig cfg = bpe_pre_config(spec.pre);
        // Gemma4-style vocabularies merge raw UTF-8 (no byte-level encoding) and escape spaces
        // as U+2581; refuse them rather than tokenize them wrongly.
        if (!cfg.byte_encode || cfg.escape_whitespaces)
            throw std::runtime_error("pre-tokenizer (tokenizer.ggml.pre) '" + spec.pre +
                                     "' needs BPE without byte-level encoding, which Folio does "
                                     "not support yet");
        v->m_bos = 11, v->m_eos = 11;
        if (cfg.no_bos) v->m_bos = kNoToken;
        v->m_add_space_prefix = false;
        v->m_clean_spaces = cfg.clean_spaces;
        v->m_ignore_merges = cfg.ignore_merges;
        v->m_add_bos = cfg.add_bos;
        v->m_pre_tokenizer = std::make_unique<PreTokenizer>(cfg.regexes);
    } else {
        throw std::runtime_error("unsupported tokenizer model (tokenizer.ggml.model) '" +
                                 spec.model + "'; supported: llama (SPM), gpt2 (BPE), no_vocab");
    }
    if (spec.add_space_prefix) v->m_add_space_prefix = *spec.add_space_prefix;
    if (spec.remove_extra_whitespaces)
        v->m_remove_extra_whitespaces = *spec.remove_extra_whitespaces;

    const size_t n = spec.tokens.size();
    if (n == 0) throw std::runtime_error("empty token list (tokenizer.ggml.tokens)");
    if (n > static_cast<size_t>(INT32_MAX)) throw std::runtime_error("too many tokens");
    if (!spec.scores.empty() && spec.scores.size() < n)
        throw std::runtime_error("tokenizer.ggml.scores has " + std::to_string(spec.scores.size()) +
                                 " entries for " + std::to_string(n) + " tokens");
    if (!spec.token_types.empty() && spec.token_types.size() < n)
        throw std::runtime_error("tokenizer.ggml.token_type has " +
                                 std::to_string(spec.token_types.size()) + " entries for " +
                                 std::to_string(n) + " tokens");

    v->m_tokens.resize(n);
    v->m_token_to_id.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        TokenData& t = v->m_tokens[i];
        t.text = std::move(spec.tokens[i]);
        if (t.text.empty()) t.text = "[EMPTY_" + std::to_string(i) + "]";
        t.score = spec.scores.empty() ? 0.0f : spec.scores[i];
        t.type = spec.token_types.empty() ? TokenType::Normal
                                          : static_cast<TokenType>(spec.token_types[i]);
        t.attr = attr_from_type(t.type);
        v->m_token_to_id.insert(t.text, static_cast<token_id>(i), true);  // last one wins
    }

    if (v->m_type == VocabType::Bpe) {
        v->m_merge_ranks.reserve(spec.merges.size());
        std::string key;
        for (size_t i = 0; i < spec.merges.size(); ++i) {
            const std::string& word = spec.merges[i];
            const size_t pos = word.find(' ', 1);
            key.clear();
            if (pos != std::string::npos) {
                key.append(word, 0, pos);
                key += '\xff';
                key.append(word, pos + 1, std::string::npos);
            } else {
                key += '\xff';
            }
            v->m_merge_ranks.insert(key, static_cast<int32_t>(i), false);  // first one wins
        }
    }

    v->init_special_tokens(spec);
    v->init_caches();
    return v;
}

void Vocab::init_special_tokens(const VocabSpec& spec) {
    const auto set_id = [&](const std::optional<int64_t>& value, token_id& dst) {
        if (value && *value >= 0 && *value < n_tokens()) dst = static_cast<token_id>(*value);
    };
    set_id(spec.bos_id, m_bos);
    set_id(spec.eos_id, m_eos);
    set_id(spec.eot_id, m_eot);
    set_id(spec.eom_id, m_eom);
    set_id(spec.unk_id, m_unk);
    set_id(spec.sep_id, m_sep);
    set_id(spec.pad_id, m_pad);
    set_id(spec.mask_id, m_mask);
    set_id(spec.fim_pad_id, m_fim_pad);
    set_id(spec.fim_rep_id, m_fim_rep);
    set_id(spec.fim_sep_id, m_fim_sep);
    if (spec.add_bos) m_add_bos = *spec.add_bos;
    if (spec.add_eos) m_add_eos = *spec.add_eos;

    const auto mark_control = [&](token_id id) { m_tokens[id].attr |= kAttrControl; };
    // llama.cpp finds these by text when the metadata does not name them (first hit of the list).
    const auto detect = [&](token_id& dst, std::initializer_list<const char*> texts) {
        if (dst != kNoToken) return;
        for (const char* t : texts) {
            if (const token_id id = find_token(t); id != kNoToken) {
                dst = id;
                mark_control(id);
                return;
            }
        }
    };
    detect(m_eot, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                   "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<end_of_utterance>"});
    detect(m_eom, {"<|eom_id|>"});
    detect(m_fim_pad, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
    detect(m_fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
    detect(m_fim_sep, {"<|file_sep|>"});

    std::vector<token_id> eog;
    for (token_id id : {m_fim_pad, m_fim_rep, m_fim_sep})
        if (id != kNoToken) eog.push_back(id);
    for (const char* t :
         {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
          "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
          "<|end_of_text|>", "<end_of_utterance>"}) {
        if (const token_id id = find_token(t); id != kNoToken) {
            eog.push_back(id);
            mark_control(id);
        }
    }
    // gpt-oss: always rendered
    for (const char* t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})
        if (const token_id id = find_token(t); id != kNoToken) m_tokens[id].attr = kAttrUserDefined;
    for (token_id id : {m_eos, m_eot, m_eom})
        if (id != kNoToken) eog.push_back(id);
    std::sort(eog.begin(), eog.end());
    eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
    // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation
    const auto has = [&](const char* t) {
        const token_id id = find_token(t);
        return id != kNoToken && std::binary_search(eog.begin(), eog.end(), id);
    };
    if (has("<|end|>") && ((has("<|return|>") && has("<|call|>")) ||
                           ((has("<|call|>") || has("<|calls|>")) && has("<|flush|>")))) {
        const token_id end = find_token("<|end|>");
        eog.erase(std::find(eog.begin(), eog.end(), end));
        m_tokens[end].attr = kAttrUserDefined;
    }
    m_eog = std::move(eog);

    // control / user-defined / unknown tokens, longest text first, parsed out of raw text
    for (token_id id = 0; id < n_tokens(); ++id)
        if (m_tokens[id].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown))
            m_special_tokens.push_back(id);
    std::stable_sort(m_special_tokens.begin(), m_special_tokens.end(), [&](token_id a, token_id b) {
        return m_tokens[a].text.size() > m_tokens[b].text.size();
    });

    // per-token attributes llama.cpp derives from the model / tokenizer names
    const std::string name = lowercase(spec.name);
    const auto set_attr = [&](const char* text, uint32_t attr, bool on) {
        const token_id id = find_token(text);
        if (id == kNoToken) return;
        if (on)
            m_tokens[id].attr |= attr;
        else
            m_tokens[id].attr &= ~attr;
    };
    if (contains_any(spec.pre, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
        contains_any(spec.architecture, {"nomic-bert-moe", "jina-bert-v3"})) {
        set_attr("<mask>", kAttrLstrip, true);
    } else if (contains_any(name, {"phi-3", "phi3"})) {
        for (token_id id : m_special_tokens) m_tokens[id].attr |= kAttrRstrip;
        set_attr("</s>", kAttrRstrip, true);
        for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(t, kAttrRstrip, false);
    } else if (contains_any(name, {"modern-bert"})) {
        set_attr("[MASK]", kAttrLstrip, true);
    }
}

void Vocab::init_caches() {
    // SPM byte fallback
    static const char* hex = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
        const char buf[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
        token_id id = find_token(buf);
        if (id == kNoToken) id = find_token(std::string(1, static_cast<char>(b)));
        if (id == kNoToken) id = m_unk != kNoToken ? m_unk : 0;
        m_byte_tokens[b] = id;
    }
    m_pieces.resize(m_tokens.size());
    for (token_id id = 0; id < n_tokens(); ++id) m_pieces[id] = make_piece(id);
}

std::string Vocab::make_piece(token_id id) const {
    const TokenData& t = m_tokens[id];
    if (t.attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return t.text;
    if (m_type == VocabType::Spm) {
        if (t.attr & kAttrNormal) {
            std::string s = t.text;
            replace_all(s, kSpmSpace, " ");
            return s;
        }
        if (t.attr & kAttrByte) {
            // "<0xNN>"
            const long byte = t.text.size() > 3 ? std::strtol(t.text.c_str() + 3, nullptr, 16) : 0;
            return std::string(1, static_cast<char>(byte));
        }
    } else if (m_type == VocabType::Bpe) {
        if (t.attr & kAttrNormal) {
            std::string out;
            size_t off = 0;
            while (off < t.text.size()) {
                const size_t start = off;
                const uint32_t cpt = unicode::decode_one(t.text, off);
                const int byte =
                    unicode::utf8_to_byte(std::string_view(t.text).substr(start, off - start));
                if (byte >= 0) {
                    out += static_cast<char>(byte);
                } else {
                    // not a byte-level character (llama.cpp writes the same marker)
                    const std::string utf8 = unicode::encode(cpt);
                    out += "[UNK_BYTE_0x";
                    static const char* hx = "0123456789abcdef";
                    for (unsigned char c : utf8) out += hx[c >> 4], out += hx[c & 15];
                    out += t.text + "]";
                }
            }
            return out;
        }
    }
    return std::string();
}

std::string Vocab::token_to_piece(token_id id, bool special) const {
    const TokenData& t = data(id);
    if (!special && (t.attr & (kAttrUnknown | kAttrControl))) return std::string();
    return m_pieces[static_cast<size_t>(id)];
}

std::vector<Vocab::Fragment> Vocab::partition(std::string_view text, bool parse_special) const {
    std::vector<Fragment> frags{{kNoToken, 0, text.size()}};
    std::vector<Fragment> next;
    for (const token_id id : m_special_tokens) {
        const TokenData& t = m_tokens[id];
        if (!parse_special && (t.attr & (kAttrControl | kAttrUnknown))) continue;
        const std::string_view st = t.text;
        next.clear();
        for (const Fragment& f : frags) {
            if (f.token != kNoToken) {
                next.push_back(f);
                continue;
            }
            size_t base = f.offset, len = f.length;
            while (true) {
                const size_t match = text.substr(0, base + len).find(st, base);
                if (match == std::string_view::npos) {
                    if (len > 0) next.push_back({kNoToken, base, len});
                    break;
                }
                size_t left_len = match - base;
                if (t.attr & kAttrLstrip)
                    while (left_len > 0 && is_c_space(text[base + left_len - 1])) --left_len;
                if (left_len > 0) next.push_back({kNoToken, base, left_len});
                next.push_back({id, 0, 0});
                size_t right = match + st.size();
                size_t right_len = base + len - right;
                if (t.attr & kAttrRstrip)
                    while (right_len > 0 && is_c_space(text[right])) ++right, --right_len;
                base = right;
                len = right_len;
                if (len == 0) break;
            }
        }
        frags.swap(next);
    }
    return frags;
}

std::vector<token_id> Vocab::tokenize(std::string_view text, bool add_special,
                                      bool parse_special) const {
    if (m_type == VocabType::None)
        throw std::runtime_error("the model has no vocabulary (tokenizer.ggml.model = " + m_model +
                                 ")");
    std::vector<token_id> out;
    const std::vector<Fragment> frags =
        text.empty() ? std::vector<Fragment>{} : partition(text, parse_special);
    if (add_special && m_add_bos && m_bos != kNoToken) out.push_back(m_bos);

    if (m_type == VocabType::Spm) {
        bool prev_special = true;  // prefix the first fragment with a space
        std::string buf;
        for (const Fragment& f : frags) {
            if (f.token != kNoToken) {
                out.push_back(f.token);
                prev_special = true;
                continue;
            }
            buf.clear();
            if (m_add_space_prefix && prev_special) buf = " ";
            buf.append(text.substr(f.offset, f.length));
            replace_all(buf, " ", kSpmSpace);
            detail::spm_tokenize(*this, buf, out);
            prev_special = false;
        }
    } else {
        for (const Fragment& f : frags) {
            if (f.token != kNoToken)
                out.push_back(f.token);
            else
                detail::bpe_tokenize(*this, text.substr(f.offset, f.length), out);
        }
    }

    if (add_special && m_add_eos && m_eos != kNoToken) out.push_back(m_eos);
    return out;
}

std::string Vocab::detokenize(std::span<const token_id> ids, bool remove_special,
                              bool unparse_special) const {
    if (m_type == VocabType::None) return std::string();
    bool remove_space = m_add_space_prefix;
    if (remove_special && m_add_bos && !ids.empty() && ids.front() == m_bos) {
        remove_space = false;
        ids = ids.subspan(1);
    }
    if (remove_special && m_add_eos && !ids.empty() && ids.back() == m_eos)
        ids = ids.first(ids.size() - 1);

    std::string text;
    for (const token_id id : ids) {
        const std::string piece = token_to_piece(id, unparse_special);
        const size_t skip = remove_space && !piece.empty() && piece[0] == ' ' ? 1 : 0;
        text.append(piece, skip, std::string::npos);
        remove_space = false;
    }
    if (m_clean_spaces) clean_up_spaces(text);
    return text;
}

}  // namespace folio
