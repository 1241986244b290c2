#include "model/model.h"

#include <stdexcept>

namespace folio {

std::unique_ptr<Model> Model::load(const std::filesystem::path& path) {
    std::unique_ptr<Model> m(new Model());
    m->m_file = gguf::GgufFile::open(path);
    const auto& f = *m->m_file;
    const auto arch_name = f.require_string("general.architecture");
    m->m_arch = find_architecture(arch_name);
    if (!m->m_arch) {
        throw std::runtime_error(path.string() + ": architecture '" + std::string(arch_name) +
                                 "' is not supported (supported: " + supported_architectures() +
                                 ")");
    }
    m->m_hparams = load_hparams(f);
    m->m_hparams.rope_type = m->m_arch->rope_type;
    m->m_vocab = Vocab::from_gguf(f);
    if (m->m_hparams.n_vocab == 0) m->m_hparams.n_vocab = m->m_vocab->n_tokens();
    if (m->m_hparams.n_vocab != m->m_vocab->n_tokens()) {
        throw std::runtime_error(path.string() + ": vocab_size " +
                                 std::to_string(m->m_hparams.n_vocab) + " disagrees with " +
                                 std::to_string(m->m_vocab->n_tokens()) + " tokenizer tokens");
    }
    m->m_weights = m->m_arch->bind(f, m->m_hparams);
    return m;
}

size_t Model::weight_bytes() const {
    size_t total = 0;
    for (const auto& t : m_file->tensors()) total += t.nbytes;
    return total;
}

}  // namespace folio
