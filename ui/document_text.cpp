#include "document_text.h"

#include <poppler-qt6.h>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QRectF>
#include <QStringDecoder>
#include <memory>
#include <mutex>

namespace {

// Poppler's complaints about damaged files (QT_LOGGING_RULES="folio.poppler.debug=true").
Q_LOGGING_CATEGORY(lcPoppler, "folio.poppler", QtWarningMsg)

void routePopplerMessages() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poppler::setDebugErrorFunction(
            [](const QString& message, const QVariant&) { qCDebug(lcPoppler) << message; },
            QVariant());
    });
}

// Typeset ligatures (U+FB00..U+FB06: ff, fi, fl, ffi, ffl, long st, st) back to their letters,
// so "\uFB01re" reads as "fire".
QString expandLigatures(QString text) {
    for (qsizetype i = text.size() - 1; i >= 0; --i) {
        const char16_t c = text.at(i).unicode();
        if (c >= 0xFB00 && c <= 0xFB06) {
            text.replace(i, 1, QString(QChar(c)).normalized(QString::NormalizationForm_KC));
        }
    }
    return text;
}

QString tr(const char* text) {
    return QCoreApplication::translate("DocumentText", text);
}

bool blank(const QString& text) {
    return text.trimmed().isEmpty();
}

DocumentText::Result readPlain(const QString& path, const QString& name) {
    DocumentText::Result r;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        r.error = tr("Cannot read %1: %2").arg(name, file.errorString());
        return r;
    }
    const QByteArray bytes = file.readAll();
    QStringDecoder utf8(QStringDecoder::Utf8);  // drops a leading BOM
    r.text = utf8.decode(bytes);
    if (blank(r.text)) r.error = tr("%1 is empty.").arg(name);
    return r;
}

DocumentText::Result readPdf(const QString& path, const QString& name) {
    DocumentText::Result r;
    QFile probe(path);
    if (!probe.open(QIODevice::ReadOnly)) {
        r.error = tr("Cannot read %1: %2").arg(name, probe.errorString());
        return r;
    }
    probe.close();
    routePopplerMessages();
    const std::unique_ptr<Poppler::Document> doc = Poppler::Document::load(path);
    if (!doc) {
        r.error =
            tr("Cannot read %1: it is not a valid PDF file (damaged or incomplete).").arg(name);
        return r;
    }
    if (doc->isLocked()) {
        r.error = tr("Cannot read %1: the PDF is encrypted (password protected).").arg(name);
        return r;
    }
    const int numPages = doc->numPages();
    if (numPages <= 0) {
        r.error = tr("Cannot read %1: the PDF has no pages.").arg(name);
        return r;
    }
    QStringList pages;
    for (int i = 0; i < numPages; ++i) {
        const std::unique_ptr<Poppler::Page> page = doc->page(i);
        if (!page) continue;
        const QString text = expandLigatures(page->text(QRectF()));
        if (!blank(text)) pages << text.trimmed();
    }
    r.pages = numPages;
    if (pages.isEmpty()) {
        r.error = tr("%1 has no text to read: its pages are images only (a scan?). Folio does not "
                     "recognize text in images.")
                      .arg(name);
        return r;
    }
    r.text = pages.join(QStringLiteral("\n\n"));
    return r;
}

}  // namespace

namespace DocumentText {

QStringList supportedSuffixes() {
    return {QStringLiteral("txt"), QStringLiteral("md"), QStringLiteral("pdf")};
}

bool isSupported(const QString& path) {
    return supportedSuffixes().contains(QFileInfo(path).suffix().toLower());
}

QString unsupportedMessage(const QString& path) {
    if (isSupported(path)) return {};
    const QFileInfo info(path);
    const QString what =
        info.suffix().isEmpty()
            ? tr("%1 has no file type").arg(info.fileName())
            : tr("%1: .%2 files are not supported").arg(info.fileName(), info.suffix().toLower());
    return tr("%1. Folio reads .txt, .md and .pdf documents.").arg(what);
}

QString localPath(const QUrl& url) {
    if (url.isLocalFile()) return url.toLocalFile();
    return url.scheme().isEmpty() ? url.path() : QString();
}

QString localPath(const QString& pathOrUrl) {
    const QString s = pathOrUrl.trimmed();
    if (s.startsWith(QLatin1String("file:"))) return QUrl(s).toLocalFile();
    return s;
}

Result read(const QString& path) {
    const QFileInfo info(path);
    const QString name = info.fileName().isEmpty() ? path : info.fileName();
    Result r;
    if (!isSupported(path)) {
        r.error = unsupportedMessage(path);
        return r;
    }
    if (!info.exists()) {
        r.error = tr("Cannot read %1: no such file.").arg(name);
        return r;
    }
    if (!info.isFile()) {
        r.error = tr("Cannot read %1: it is not a file.").arg(name);
        return r;
    }
    if (info.suffix().toLower() == QLatin1String("pdf")) return readPdf(path, name);
    return readPlain(path, name);
}

}  // namespace DocumentText
