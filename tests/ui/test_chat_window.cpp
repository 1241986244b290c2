// The Chat page in folio-desktop's window, driven by clicks and keys (xcb under xvfb-run), over a
// data folder seeded with a Markdown reply and a long conversation: code blocks render with a
// Copy button that fills the clipboard; search and rename in the conversation list; edit and
// resend, regenerate; the conversation's settings panel; a conversation longer than the context
// says so and fades what was left out. Leaves screenshots in the build tree (ui_chat_window).
#include <QClipboard>
#include <QGuiApplication>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSignalSpy>
#include <QTest>
#include <algorithm>
#include <filesystem>
#include <memory>

#include "conversation_list_model.h"
#include "conversation_settings.h"
#include "desktop_app.h"
#include "engine_client.h"
#include "folio/store.h"
#include "message_list_model.h"
#include "shared_data.h"

namespace fs = std::filesystem;

namespace {

const char* const kMarkdownReply =
    "## A plan\n\nHere is **bold** and *italic* text, and a list:\n\n- one\n- two\n\n"
    "```cpp\nint main() {\n    return 42;\n}\n```\n\nThat is all.";

// Every visible item with that objectName, in the order of the visual tree (which, unlike the
// QObject tree, holds the delegates of views and repeaters).
void collectVisible(QQuickItem* item, const QString& name, QList<QQuickItem*>& out) {
    if (!item->isVisible()) return;
    if (item->objectName() == name) out.push_back(item);
    for (QQuickItem* child : item->childItems()) collectVisible(child, name, out);
}

QList<QQuickItem*> visibleItems(QQuickWindow* window, const char* name) {
    QList<QQuickItem*> out;
    collectVisible(window->contentItem(), QString::fromLatin1(name), out);
    return out;
}

QQuickItem* visibleItem(QQuickWindow* window, const char* name) {
    const auto items = visibleItems(window, name);
    return items.isEmpty() ? nullptr : items.front();
}

void clickItem(QQuickWindow* window, QQuickItem* item) {
    QVERIFY(item);
    const QPointF center = item->mapToScene(QPointF(item->width() / 2, item->height() / 2));
    QTest::mouseClick(window, Qt::LeftButton, Qt::NoModifier, center.toPoint());
}

void typeText(QQuickWindow* window, const QString& text) {
    for (const QChar ch : text) QTest::keyClick(window, ch.toLatin1());
}

}  // namespace

class TestChatWindow : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase();
    void rendersMarkdownAndCopiesCode();
    void searchesAndRenames();
    void editsResendsAndRegenerates();
    void settingsPanelSavesTheSystemPrompt();
    void saysWhenTheContextOverflows();

  private:
    void screenshot(const QString& name);
    void selectConversation(qint64 id);

    fs::path m_scratch;
    std::unique_ptr<DesktopApp> m_app;
    qint64 m_markdown = 0, m_long = 0, m_pirates = 0;
};

void TestChatWindow::initTestCase() {
    m_scratch = folio::test::scratch_dir("ui_chat_window");
    fs::remove_all(m_scratch);
    fs::create_directories(m_scratch);
    qputenv("FOLIO_DESKTOP_CONFIG", (m_scratch / "config" / "folio-desktop.conf").c_str());
    qunsetenv("FOLIO_DATA_DIR");
    const fs::path data = m_scratch / "data";
    {
        folio::store::Library library(data);
        folio::store::ConversationStore store(library);
        // A small context and greedy replies of a few tokens.
        folio::store::SettingsStore settings(library);
        settings.set("engine.context_length", "96");
        settings.set("sampling.temperature", "0");
        settings.set("sampling.max_tokens", "8");
        m_long = store.create_conversation("A long story");
        for (int i = 0; i < 6; ++i) {
            store.add_message(m_long, "user",
                              "Part " + std::to_string(i) +
                                  ": the little dog ran to the park and played all day long.");
            store.add_message(m_long, "assistant", "They had fun.");
        }
        m_pirates = store.create_conversation("Pirates");
        store.add_message(m_pirates, "user", "Tell me about pirate ships");
        store.add_message(m_pirates, "assistant", "They sail.");
        m_markdown = store.create_conversation("Markdown demo");
        store.add_message(m_markdown, "user", "Show me some code");
        store.add_message(m_markdown, "assistant", kMarkdownReply);
    }
    const QString model =
        QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string());
    m_app =
        std::make_unique<DesktopApp>(DesktopOptions{model, QString::fromStdString(data.string())});
    QVERIFY2(m_app->start(), qPrintable(m_app->errorString()));
    QVERIFY(QTest::qWaitForWindowExposed(m_app->window(), 10000));
    QTRY_VERIFY_WITH_TIMEOUT(m_app->client()->modelReady(), 60000);
}

void TestChatWindow::screenshot(const QString& name) {
    const QString path = QString::fromStdString((m_scratch / name.toStdString()).string());
    QVERIFY2(m_app->window()->grabWindow().save(path), qPrintable(path));
    qInfo("screenshot: %s", qPrintable(path));
}

void TestChatWindow::selectConversation(qint64 id) {
    ConversationListModel* list = m_app->conversations();
    list->setFilter(QString());
    list->select(list->rowOf(id));
    QTRY_COMPARE(m_app->messages()->conversationId(), id);
}

void TestChatWindow::rendersMarkdownAndCopiesCode() {
    QQuickWindow* window = m_app->window();
    QCOMPARE(m_app->conversations()->currentId(), m_markdown);  // the most recent one
    // The prose renders as Markdown (no literal ** or ##), the code in its own block.
    QTRY_VERIFY(visibleItem(window, "codeBlock"));
    bool sawMarkdown = false;
    for (QQuickItem* text : visibleItems(window, "messageText")) {
        const QString shown = text->property("text").toString();
        if (shown.contains(QStringLiteral("**bold**"))) {
            sawMarkdown = true;
            QCOMPARE(text->property("textFormat").toInt(), 3);  // Text.MarkdownText
            QVERIFY(!shown.contains(QStringLiteral("int main")));
        }
    }
    QVERIFY(sawMarkdown);
    QGuiApplication::clipboard()->clear();
    clickItem(window, visibleItem(window, "copyCodeButton"));
    QTRY_COMPARE(QGuiApplication::clipboard()->text(),
                 QStringLiteral("int main() {\n    return 42;\n}"));
    // Copy on the message takes the whole Markdown.
    auto copies = visibleItems(window, "copyMessageButton");
    QCOMPARE(copies.size(), qsizetype{2});
    std::sort(copies.begin(), copies.end(), [](QQuickItem* a, QQuickItem* b) {
        return a->mapToScene({}).y() < b->mapToScene({}).y();
    });
    clickItem(window, copies.back());  // the reply's (lower on the page)
    QTRY_COMPARE(QGuiApplication::clipboard()->text(), QString::fromUtf8(kMarkdownReply));
    screenshot(QStringLiteral("chat-markdown.png"));
}

void TestChatWindow::searchesAndRenames() {
    QQuickWindow* window = m_app->window();
    ConversationListModel* list = m_app->conversations();
    QCOMPARE(list->rowCount(), 3);
    QQuickItem* search = visibleItem(window, "conversationSearch");
    clickItem(window, search);
    QTRY_VERIFY(search->hasActiveFocus());
    typeText(window, QStringLiteral("pirate"));  // in a message of "Pirates" only
    QTRY_COMPARE(list->rowCount(), 1);
    QCOMPARE(list->index(0).data(ConversationListModel::IdRole).toLongLong(), m_pirates);
    screenshot(QStringLiteral("chat-search.png"));
    QVERIFY(search->hasActiveFocus());
    QTest::keyClick(window, Qt::Key_Escape);  // clears the search
    QTRY_COMPARE(list->rowCount(), 3);

    selectConversation(m_pirates);
    clickItem(window, visibleItem(window, "renameChatButton"));
    QQuickItem* field = nullptr;
    QTRY_VERIFY((field = visibleItem(window, "renameField")) && field->hasActiveFocus());
    typeText(window, QStringLiteral("Sea stories"));  // the old title is selected: replaced
    QTest::keyClick(window, Qt::Key_Return);
    QTRY_VERIFY(!visibleItem(window, "renameField"));
    folio::store::Library library(m_scratch / "data");
    folio::store::ConversationStore store(library);
    QCOMPARE(store.find_conversation(m_pirates)->title, std::string("Sea stories"));
    QCOMPARE(list->index(list->rowOf(m_pirates)).data().toString(), QStringLiteral("Sea stories"));
}

void TestChatWindow::editsResendsAndRegenerates() {
    QQuickWindow* window = m_app->window();
    selectConversation(m_pirates);
    MessageListModel* messages = m_app->messages();
    QCOMPARE(messages->rowCount(), 2);
    QSignalSpy finished(m_app->client(), &EngineClient::replyFinished);

    clickItem(window, visibleItem(window, "editMessageButton"));
    QQuickItem* editor = nullptr;
    QTRY_VERIFY((editor = visibleItem(window, "editMessageField")) && editor->hasActiveFocus());
    QCOMPARE(editor->property("text").toString(), QStringLiteral("Tell me about pirate ships"));
    QTest::keyClick(window, Qt::Key_A, Qt::ControlModifier);
    typeText(window, QStringLiteral("Once upon a time"));
    screenshot(QStringLiteral("chat-edit.png"));
    clickItem(window, visibleItem(window, "resendButton"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QCOMPARE(messages->rowCount(), 2);
    QCOMPARE(messages->index(0).data(MessageListModel::ContentRole).toString(),
             QStringLiteral("Once upon a time"));
    const QString reply = messages->index(1).data(MessageListModel::ContentRole).toString();
    QVERIFY(!reply.isEmpty() && reply != QStringLiteral("They sail."));

    QTRY_VERIFY(visibleItem(window, "regenerateButton") &&
                visibleItem(window, "regenerateButton")->isEnabled());
    clickItem(window, visibleItem(window, "regenerateButton"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
    QCOMPARE(messages->rowCount(), 2);
    // Greedy sampling: the regenerated reply is the same text, stored once.
    QCOMPARE(messages->index(1).data(MessageListModel::ContentRole).toString(), reply);
}

void TestChatWindow::settingsPanelSavesTheSystemPrompt() {
    QQuickWindow* window = m_app->window();
    selectConversation(m_markdown);
    clickItem(window, visibleItem(window, "chatSettingsButton"));
    QQuickItem* prompt = nullptr;
    QTRY_VERIFY((prompt = visibleItem(window, "systemPromptField")));
    clickItem(window, prompt);
    QTRY_VERIFY(prompt->hasActiveFocus());
    typeText(window, QStringLiteral("You are terse."));
    clickItem(window, visibleItem(window, "customSamplingSwitch"));  // focus leaves: saved
    QTRY_COMPARE(m_app->chatSettings()->systemPrompt(), QStringLiteral("You are terse."));
    QTRY_VERIFY(m_app->chatSettings()->customSampling());
    QCOMPARE(m_app->chatSettings()->maxTokens(), 8);  // starts from the app's sampling
    QCOMPARE(visibleItem(window, "customSamplingSwitch")->property("checked").toBool(), true);
    QVERIFY(visibleItem(window, "chatTemperatureField")->isEnabled());
    QTest::qWait(400);  // the switch's handle slides over
    screenshot(QStringLiteral("chat-settings.png"));
    folio::store::Library library(m_scratch / "data");
    folio::store::ConversationStore store(library);
    const auto record = store.find_conversation(m_markdown);
    QCOMPARE(record->system_prompt, std::string("You are terse."));
    QVERIFY(!record->sampling.empty());
    clickItem(window, visibleItem(window, "chatSettingsButton"));  // closes the panel
    QTRY_VERIFY(!visibleItem(window, "systemPromptField"));
}

void TestChatWindow::saysWhenTheContextOverflows() {
    QQuickWindow* window = m_app->window();
    selectConversation(m_markdown);
    QTRY_VERIFY(!visibleItem(window, "contextNotice"));  // a short one fits
    // Opening the long conversation already says what no longer fits.
    selectConversation(m_long);
    QTRY_VERIFY(visibleItem(window, "contextNotice"));
    const int droppedOnOpen = m_app->messages()->droppedCount();
    QVERIFY(droppedOnOpen > 0);
    QSignalSpy finished(m_app->client(), &EngineClient::replyFinished);
    QQuickItem* input = visibleItem(window, "messageInput");
    clickItem(window, input);
    QTRY_VERIFY(input->hasActiveFocus());
    typeText(window, QStringLiteral("What happened next?"));
    QTest::keyClick(window, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QCOMPARE(finished.first().at(1).toMap().value("error").toString(), QString());
    QQuickItem* notice = nullptr;
    QTRY_VERIFY((notice = visibleItem(window, "contextNotice")));
    QVERIFY(notice->property("text").toString().contains(QStringLiteral("96 tokens")));
    QVERIFY(m_app->messages()->droppedCount() >= droppedOnOpen);  // one more turn now
    QQuickItem* used = visibleItem(window, "contextLabel");
    QVERIFY(used);
    QVERIFY(used->property("text").toString().endsWith(QStringLiteral("/ 96 tokens")));
    QTRY_VERIFY(m_app->window()->findChild<QQuickItem*>(QStringLiteral("messageView")));
    m_app->window()
        ->findChild<QQuickItem*>(QStringLiteral("messageView"))
        ->setProperty("contentY", 0);  // show the faded, left-out messages
    screenshot(QStringLiteral("chat-context.png"));
}

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    TestChatWindow test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "test_chat_window.moc"
