#include "model/hparams.h"

#include "gguf/gguf_file.h"

namespace folio {
namespace {

gguf::GgufError bad_key(const gguf::GgufFile& f, const std::string& key, const std::string& why) {
    const auto* md = f.find(key);
    return gguf::GgufError(f.path(), md ? md->offset : 0, key, why);
}

}  // namespace

ModelHParams load_hparams(const gguf::GgufFile& f) {
    ModelHParams hp;
    hp.arch = std::string(f.require_string("general.architecture"));
    hp.name = std::string(f.get_string("general.name").value_or(""));
    const std::string a = hp.arch + ".";
    auto positive = [&](const std::string& key, int64_t v) {
        if (v <= 0 || v > (int64_t{1} << 31)) throw bad_key(f, key, "must be a positive count");
        return v;
    };
    hp.n_embd = positive(a + "embedding_length", f.require_int(a + "embedding_length"));
    hp.n_layer = positive(a + "block_count", f.require_int(a + "block_count"));
    hp.n_ff = positive(a + "feed_forward_length", f.require_int(a + "feed_forward_length"));
    hp.n_head = positive(a + "attention.head_count", f.require_int(a + "attention.head_count"));
    hp.n_head_kv = positive(a + "attention.head_count_kv",
                            f.get_int(a + "attention.head_count_kv").value_or(hp.n_head));
    hp.n_ctx_train = f.get_int(a + "context_length").value_or(2048);
    if (hp.n_head % hp.n_head_kv != 0)
        throw bad_key(f, a + "attention.head_count_kv", "must divide attention.head_count");
    if (auto kl = f.get_int(a + "attention.key_length")) {
        hp.head_dim = positive(a + "attention.key_length", *kl);
        if (auto vl = f.get_int(a + "attention.value_length"); vl && *vl != hp.head_dim)
            throw bad_key(f, a + "attention.value_length", "must equal attention.key_length");
    } else {
        if (hp.n_embd % hp.n_head != 0)
            throw bad_key(f, a + "attention.head_count", "must divide embedding_length");
        hp.head_dim = hp.n_embd / hp.n_head;
    }
    hp.n_rot = f.get_int(a + "rope.dimension_count").value_or(hp.head_dim);
    if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
        throw bad_key(f, a + "rope.dimension_count", "must be even and at most the head size");
    hp.rms_eps =
        static_cast<float>(f.get_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5));
    hp.rope_freq_base = static_cast<float>(f.get_float(a + "rope.freq_base").value_or(10000.0));
    if (auto type = f.get_string(a + "rope.scaling.type"); type && *type == "linear") {
        double factor = f.get_float(a + "rope.scaling.factor").value_or(1.0);
        if (factor <= 0) throw bad_key(f, a + "rope.scaling.factor", "must be positive");
        hp.rope_freq_scale = static_cast<float>(1.0 / factor);
    }
    if (auto n = f.get_int(a + "vocab_size")) {
        hp.n_vocab = *n;
    } else if (auto tokens = f.get_string_array("tokenizer.ggml.tokens")) {
        hp.n_vocab = static_cast<int64_t>(tokens->size());
    }
    return hp;
}

}  // namespace folio
