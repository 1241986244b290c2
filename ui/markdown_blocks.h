#pragma once
// Splits a chat message's Markdown at its fenced code blocks (``` or ~~~, CommonMark rules:
// up to three spaces of indent, a closing fence of the same character at least as long), so the
// Chat page renders prose as Markdown (Qt's MarkdownText) and each code block in a monospace
// frame with its own Copy button. A fence still open at the end (a reply streaming in) runs to
// the end of the text.
#include <QString>
#include <QVariantList>
#include <vector>

struct MarkdownBlock {
    bool code = false;
    QString text;      // prose: Markdown; code: the code, without the fences
    QString language;  // code: the info string's first word ("" when none)
};

std::vector<MarkdownBlock> splitMarkdownCodeBlocks(const QString& markdown);

// The same blocks as a QML-friendly list of {"code": bool, "text": ..., "language": ...}.
QVariantList markdownBlocksForQml(const QString& markdown);
