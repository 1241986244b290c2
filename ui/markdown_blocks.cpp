#include "markdown_blocks.h"

#include <QStringList>
#include <QVariantMap>

namespace {

struct Fence {
    QChar ch;
    qsizetype length = 0;
    QString info;
};

// The fence that `line` opens or closes, if it is one.
bool parseFence(const QString& line, Fence& fence) {
    qsizetype i = 0;
    while (i < line.size() && i < 3 && line[i] == u' ') ++i;
    if (i >= line.size() || (line[i] != u'`' && line[i] != u'~')) return false;
    const QChar ch = line[i];
    qsizetype n = 0;
    while (i + n < line.size() && line[i + n] == ch) ++n;
    if (n < 3) return false;
    const QString info = line.mid(i + n).trimmed();
    if (ch == u'`' && info.contains(u'`')) return false;  // not a fence (CommonMark)
    fence = {ch, n, info};
    return true;
}

}  // namespace

std::vector<MarkdownBlock> splitMarkdownCodeBlocks(const QString& markdown) {
    std::vector<MarkdownBlock> blocks;
    QStringList current;
    bool inCode = false;
    Fence open;
    const auto flush = [&](bool code, const QString& language) {
        QString text = current.join(u'\n');
        current.clear();
        if (!code && text.trimmed().isEmpty()) return;
        blocks.push_back({code, std::move(text), language});
    };
    for (const QString& line : markdown.split(u'\n')) {
        Fence fence;
        if (!inCode && parseFence(line, fence)) {
            flush(false, {});
            open = fence;
            inCode = true;
        } else if (inCode && parseFence(line, fence) && fence.ch == open.ch &&
                   fence.length >= open.length && fence.info.isEmpty()) {
            flush(true, open.info.section(u' ', 0, 0));
            inCode = false;
        } else {
            current.push_back(line);
        }
    }
    if (inCode) {
        flush(true, open.info.section(u' ', 0, 0));
    } else {
        flush(false, {});
    }
    return blocks;
}

QVariantList markdownBlocksForQml(const QString& markdown) {
    QVariantList out;
    for (const MarkdownBlock& b : splitMarkdownCodeBlocks(markdown)) {
        out.push_back(QVariantMap{{"code", b.code}, {"text", b.text}, {"language", b.language}});
    }
    return out;
}
