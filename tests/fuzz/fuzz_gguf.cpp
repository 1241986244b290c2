// libFuzzer target for the GGUF reader: any input must load or throw GgufError. A file that loads
// is read through every accessor, then rewritten with GgufWriter; the rewrite must load again
// with the same metadata and tensors.
#include <cstring>
#include <string>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"

using namespace folio::gguf;

namespace {

#define FUZZ_ASSERT(cond)              \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (0)

template <class Fn>
void ignore_gguf_error(Fn&& fn) {
    try {
        fn();
    } catch (const GgufError&) {
    }
}

void read_everything(const GgufFile& f) {
    for (const Metadatum& md : f.metadata()) {
        FUZZ_ASSERT(f.find(md.key) == &md);
        (void)GgufFile::format_value(md.value);
        ignore_gguf_error([&] { f.get_string(md.key); });
        ignore_gguf_error([&] { f.get_int(md.key); });
        ignore_gguf_error([&] { f.get_float(md.key); });
        ignore_gguf_error([&] { f.get_bool(md.key); });
        ignore_gguf_error([&] { f.get_string_array(md.key); });
        ignore_gguf_error([&] { f.get_f32_array(md.key); });
        ignore_gguf_error([&] { f.get_int_array(md.key); });
    }
    volatile uint8_t sink = 0;
    for (const TensorInfo& t : f.tensors()) {
        FUZZ_ASSERT(f.find_tensor(t.name) == &t);
        FUZZ_ASSERT(f.tensor_data(t) == t.data);
        if (t.nbytes) sink = sink + t.data[0] + t.data[t.nbytes - 1];
    }
}

void check_rewrite(const GgufFile& f) {
    GgufWriter w(f.version());
    w.copy_metadata_from(f);
    for (const TensorInfo& t : f.tensors()) {
        w.add_tensor_ref(t.name, t.type, std::span(t.ne.data(), static_cast<size_t>(t.n_dims)),
                         std::span(t.data, t.nbytes));
    }
    const std::vector<uint8_t> bytes = w.to_bytes();
    const auto g = GgufFile::from_memory(bytes.data(), bytes.size(), "rewrite.gguf");
    FUZZ_ASSERT(g->metadata().size() == f.metadata().size());
    FUZZ_ASSERT(g->tensors().size() == f.tensors().size());
    FUZZ_ASSERT(g->alignment() == f.alignment());
    for (size_t i = 0; i < f.metadata().size(); ++i) {
        const Metadatum& a = f.metadata()[i];
        const Metadatum& b = g->metadata()[i];
        FUZZ_ASSERT(a.key == b.key && a.value.type == b.value.type);
        FUZZ_ASSERT(GgufFile::format_value(a.value, 64) == GgufFile::format_value(b.value, 64));
    }
    for (size_t i = 0; i < f.tensors().size(); ++i) {
        const TensorInfo& a = f.tensors()[i];
        const TensorInfo& b = g->tensors()[i];
        FUZZ_ASSERT(a.name == b.name && a.type == b.type && a.ne == b.ne && a.nbytes == b.nbytes);
        FUZZ_ASSERT(a.nbytes == 0 || std::memcmp(a.data, b.data, a.nbytes) == 0);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::unique_ptr<GgufFile> f;
    try {
        f = GgufFile::from_memory(data, size, "fuzz.gguf");
    } catch (const GgufError& e) {
        FUZZ_ASSERT(std::strncmp(e.what(), "fuzz.gguf: ", 11) == 0);
        return 0;
    }
    read_everything(*f);
    check_rewrite(*f);
    return 0;
}
