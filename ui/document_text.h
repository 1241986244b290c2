#pragma once
// DocumentText: the text of a document file for the Documents page — .txt and .md read as UTF-8
// (a byte-order mark is dropped), .pdf page by page through Poppler's Qt 6 binding (typeset
// ligatures such as U+FB01 "fi" expanded to their letters; Poppler's messages go to the logging
// category folio.poppler). Anything
// else is refused with a message naming the supported types. Reentrant: the DocumentProcessor
// calls it on its worker threads.
#include <QString>
#include <QStringList>
#include <QUrl>

namespace DocumentText {

struct Result {
    QString text;   // pages of a PDF separated by a blank line
    QString error;  // "" on success: a sentence for the user, naming the file
    int pages = 0;  // PDF pages read; 0 for text files
    bool ok() const { return error.isEmpty(); }
};

// Lower-case suffixes without the dot: "txt", "md", "pdf".
QStringList supportedSuffixes();
// Whether the path's suffix is one of those (case-insensitive).
bool isSupported(const QString& path);
// "" for a supported path, else the sentence that refuses it.
QString unsupportedMessage(const QString& path);
// A local path from a file:// URL (as text or QUrl) or a plain path; "" for a non-local URL.
QString localPath(const QString& pathOrUrl);
QString localPath(const QUrl& url);

// The whole text of the file, or an error for a missing or unreadable file, an unsupported
// type, an encrypted (locked) PDF, a PDF without a text layer (scanned images) or an empty one.
Result read(const QString& path);

}  // namespace DocumentText
