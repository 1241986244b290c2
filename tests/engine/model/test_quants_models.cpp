// The reference quantization code against llama.cpp's output: the micro-llama-{TYPE}.gguf files
// hold the weights of micro-llama-F32.gguf quantized by llama.cpp. Dequantizing their tensors
// must come close to the F32 weights, and quantizing the F32 weights must reproduce the files'
// bytes exactly.
#include <QtTest>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "shared_data.h"
#include "tensor/dtype.h"
#include "tensor/quants.h"

using namespace folio;

namespace {

struct ErrSum {
    double err2 = 0, ref2 = 0;
    void add(const float* ref, const float* got, int64_t n) {
        for (int64_t i = 0; i < n; ++i) {
            const double d = static_cast<double>(got[i]) - ref[i];
            err2 += d * d;
            ref2 += static_cast<double>(ref[i]) * ref[i];
        }
    }
    double rel() const { return ref2 > 0 ? std::sqrt(err2 / ref2) : 0.0; }
};

// Upper bounds for the relative RMS error of the dequantized weights (seeded normal weights).
double dequant_bound(DType t) {
    switch (t) {
        case DType::F32:
            return 0.0;
        case DType::F16:
            return 3e-4;
        case DType::BF16:
            return 2.5e-3;
        case DType::Q8_0:
            return 7e-3;
        case DType::Q6_K:
            return 2.3e-2;
        case DType::Q5_0:
            return 5.2e-2;
        case DType::Q5_1:
            return 4.7e-2;
        case DType::Q5_K:
            return 4.5e-2;
        case DType::Q4_0:
            return 1.05e-1;
        case DType::Q4_1:
            return 9.5e-2;
        case DType::IQ4_NL:
            return 9.5e-2;
        case DType::Q4_K:
            return 8.8e-2;
        case DType::Q3_K:
            return 1.9e-1;
        case DType::Q2_K:
            return 3.6e-1;
        default:
            return 0.0;
    }
}

// Every type the shared files hold is reproduced byte for byte (ggml's quantize_row_*_ref, and
// for IQ4_NL the searched quantize_iq4_nl that llama-quantize runs). The legacy types are the hard
// requirement; the K-quants and IQ4_NL are exact too with the engine's baseline x86-64 flags (no
// FMA contraction), so any change there is flagged.
bool must_be_exact(DType t) {
    return dtype_traits(t).supported;
}

struct ExactStat {
    int64_t tensors = 0, exact_tensors = 0, blocks = 0, diff_blocks = 0;
};

}  // namespace

class TestQuantsModels : public QObject {
    Q_OBJECT

    std::unique_ptr<gguf::GgufFile> m_f32;

    const float* f32_tensor(const gguf::TensorInfo& q) {
        const gguf::TensorInfo* t = m_f32->find_tensor(q.name);
        if (!t || t->type != DType::F32 || t->num_elements() != q.num_elements()) return nullptr;
        return reinterpret_cast<const float*>(t->data);
    }

  private slots:
    void initTestCase() {
        m_f32 = gguf::GgufFile::open(test::shared_path("models/micro-llama-F32.gguf"));
        QVERIFY(m_f32);
        QVERIFY(!m_f32->tensors().empty());
    }

    void weights_data() {
        QTest::addColumn<QString>("file");
        for (const char* f : {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL",
                              "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K"})
            QTest::newRow(f) << QString(f);
    }

    void weights() {
        QFETCH(QString, file);
        const auto path = test::shared_path("models/micro-llama-" + file.toStdString() + ".gguf");
        const auto model = gguf::GgufFile::open(path);
        QVERIFY(model);

        std::map<DType, ErrSum> file_err, ours_err;
        std::map<DType, ExactStat> exact;
        std::vector<float> deq;
        std::vector<uint8_t> requant;
        for (const auto& t : model->tensors()) {
            const float* ref = f32_tensor(t);
            QVERIFY2(ref,
                     qPrintable(QString("no matching F32 tensor for %1")
                                    .arg(QString::fromUtf8(t.name.data(), int(t.name.size())))));
            const int64_t n = t.num_elements();
            const auto& traits = dtype_traits(t.type);
            QVERIFY(traits.supported);
            QCOMPARE(t.ne[0] % traits.block_size, int64_t{0});
            QCOMPARE(t.nbytes, dtype_row_size(t.type, n));

            // llama.cpp's quantization, decoded by us.
            deq.resize(static_cast<size_t>(n));
            dequantize_row(t.type, t.data, deq.data(), n);
            file_err[t.type].add(ref, deq.data(), n);

            // Our quantization of the same weights (row by row, as llama.cpp does).
            requant.assign(t.nbytes, 0);
            const size_t row_bytes = dtype_row_size(t.type, t.ne[0]);
            const int64_t rows = n / t.ne[0];
            for (int64_t r = 0; r < rows; ++r)
                quantize_row_ref(t.type, ref + r * t.ne[0], requant.data() + r * row_bytes,
                                 t.ne[0]);
            auto& st = exact[t.type];
            ++st.tensors;
            const size_t bsz = traits.type_size;
            int64_t diff = 0;
            for (size_t off = 0; off < t.nbytes; off += bsz)
                if (std::memcmp(requant.data() + off, t.data + off, bsz) != 0) ++diff;
            st.blocks += static_cast<int64_t>(t.nbytes / bsz);
            st.diff_blocks += diff;
            if (diff == 0) ++st.exact_tensors;

            if (diff != 0) {
                // Not byte-exact: our quantization must be at least as good as llama.cpp's.
                ErrSum theirs, ours;
                std::vector<float> deq2(static_cast<size_t>(n));
                dequantize_row(t.type, requant.data(), deq2.data(), n);
                theirs.add(ref, deq.data(), n);
                ours.add(ref, deq2.data(), n);
                ours_err[t.type].add(ref, deq2.data(), n);
                QVERIFY2(ours.rel() <= theirs.rel() * 1.002,
                         qPrintable(QString("%1 %2: ours %3 vs llama.cpp %4")
                                        .arg(file)
                                        .arg(QString::fromUtf8(t.name.data(), int(t.name.size())))
                                        .arg(ours.rel())
                                        .arg(theirs.rel())));
            }
        }

        for (const auto& [type, e] : file_err) {
            const auto& st = exact[type];
            qInfo(
                "%-7s %-7s tensors %3lld  dequant rel RMS %.5f  requant exact %lld/%lld tensors, "
                "%lld/%lld blocks differ",
                qPrintable(file), dtype_name(type).data(), static_cast<long long>(st.tensors),
                e.rel(), static_cast<long long>(st.exact_tensors),
                static_cast<long long>(st.tensors), static_cast<long long>(st.diff_blocks),
                static_cast<long long>(st.blocks));
            QVERIFY2(e.rel() <= dequant_bound(type), dtype_name(type).data());
            if (must_be_exact(type))
                QVERIFY2(st.diff_blocks == 0,
                         qPrintable(QString("%1 tensors of %2 are not byte-exact")
                                        .arg(dtype_name(type).data())
                                        .arg(file)));
        }
    }
};

QTEST_GUILESS_MAIN(TestQuantsModels)
#include "test_quants_models.moc"
