// The Chat page's parts beyond plain streaming: Markdown code blocks, fitting a long
// conversation into the context (oldest turns left out, visibly), regenerate, edit and resend,
// copy, per-conversation system prompt / sampling / model, and conversation search — over the
// real library and stories260K.
#include <QAbstractItemModelTester>
#include <QClipboard>
#include <QGuiApplication>
#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "chat_prompt.h"
#include "conversation_list_model.h"
#include "conversation_settings.h"
#include "engine_client.h"
#include "folio/engine.h"
#include "folio/store.h"
#include "markdown_blocks.h"
#include "message_list_model.h"
#include "shared_data.h"

namespace fs = std::filesystem;
using Tester = QAbstractItemModelTester;

namespace {

constexpr int kContext = 96;  // a small context, so a few turns outgrow it

QString storiesPath() {
    return QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string());
}

// A user turn long enough that a handful of them do not fit in kContext tokens.
std::string longTurn(int i) {
    return "Turn " + std::to_string(i) +
           ": the little dog ran to the park and played with a red ball all day long.";
}

}  // namespace

class TestChat : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase();
    void splitsMarkdownAtCodeFences();
    void fitsLongConversationsIntoTheContext();
    void showsWhatWasLeftOutOfTheContext();
    void regenerateReplacesTheLastReply();
    void editAndResendReplacesTheRest();
    void copiesToTheClipboard();
    void savesTheReplyAsItStreams();
    void conversationSettingsApplyAndPersist();
    void conversationSettingsRefuseBadValues();
    void conversationModelIsRequested();
    void searchFiltersConversations();

  private:
    // Sends and waits for the reply; returns its stats.
    QVariantMap reply(const std::function<bool()>& start);

    std::shared_ptr<folio::store::Library> m_library;
    std::shared_ptr<folio::store::ConversationStore> m_store;
    std::unique_ptr<EngineClient> m_client;
};

void TestChat::initTestCase() {
    const fs::path dir = folio::test::scratch_dir("ui_chat");
    fs::remove_all(dir);
    fs::create_directories(dir);
    m_library = std::make_shared<folio::store::Library>(dir);
    m_store = std::make_shared<folio::store::ConversationStore>(*m_library);
    m_client = std::make_unique<EngineClient>(m_store);
    m_client->setEngineConfigurator([](folio::EngineConfig& c) { c.max_model_len = kContext; });
    folio::SamplingParams sampling;
    sampling.temperature = 0.0f;  // greedy: replies are reproducible
    sampling.max_tokens = 12;
    m_client->setSampling(sampling);
    QSignalSpy loaded(m_client.get(), &EngineClient::modelLoaded);
    m_client->loadModel(storiesPath());
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 60000);
    QCOMPARE(m_client->contextLength(), kContext);
    QCOMPARE(m_client->modelPath(), storiesPath());
}

QVariantMap TestChat::reply(const std::function<bool()>& start) {
    QSignalSpy finished(m_client.get(), &EngineClient::replyFinished);
    if (!start()) return {{"started", false}};
    if (!finished.wait(60000) && finished.isEmpty()) return {{"timeout", true}};
    return finished.takeFirst().at(1).toMap();
}

void TestChat::splitsMarkdownAtCodeFences() {
    const auto blocks = splitMarkdownCodeBlocks(
        "Here is **code**:\n\n```cpp main\nint main() {\n    return 0;\n}\n```\nAnd more "
        "text.\n~~~\nplain ``` inside\n~~~~\n    ``` indented four: not a fence");
    QCOMPARE(blocks.size(), size_t{5});
    QVERIFY(!blocks[0].code);
    QCOMPARE(blocks[0].text, QStringLiteral("Here is **code**:\n"));
    QVERIFY(blocks[1].code);
    QCOMPARE(blocks[1].language, QStringLiteral("cpp"));
    QCOMPARE(blocks[1].text, QStringLiteral("int main() {\n    return 0;\n}"));
    QCOMPARE(blocks[2].text, QStringLiteral("And more text."));
    QVERIFY(blocks[3].code);  // ~~~ closed by the longer ~~~~; ``` inside is code
    QCOMPARE(blocks[3].text, QStringLiteral("plain ``` inside"));
    QVERIFY(!blocks[4].code);  // four spaces of indent: prose
    QCOMPARE(blocks[4].text, QStringLiteral("    ``` indented four: not a fence"));

    // A reply still streaming: the open fence runs to the end.
    const auto open = splitMarkdownCodeBlocks("Try:\n```python\nprint(1)\n");
    QCOMPARE(open.size(), size_t{2});
    QVERIFY(open[1].code);
    QCOMPARE(open[1].text, QStringLiteral("print(1)\n"));
    // Four spaces of indent, or a backtick in the info string: not fences.
    QCOMPARE(splitMarkdownCodeBlocks("    ```\nx").size(), size_t{1});
    QCOMPARE(splitMarkdownCodeBlocks("``` a`b\nx").front().code, false);
    QVERIFY(splitMarkdownCodeBlocks("").empty());
}

void TestChat::fitsLongConversationsIntoTheContext() {
    const auto engine = m_client->engine();
    QVERIFY(engine);
    const auto tmpl = folio::chat::ChatTemplate::for_model(engine->model());
    nlohmann::json messages = nlohmann::json::array();
    for (int i = 0; i < 8; ++i) {
        messages.push_back({{"role", "user"}, {"content", longTurn(i)}});
        messages.push_back({{"role", "assistant"}, {"content", "Once upon a time."}});
    }
    messages.push_back({{"role", "user"}, {"content", "What next?"}});
    const int64_t budget = 60;
    const FittedChatPrompt fitted = fitChatPrompt(*engine, tmpl, "Be brief.", messages, budget);
    QVERIFY(fitted.dropped > 0);
    QVERIFY(static_cast<int64_t>(fitted.tokens.size()) <= budget);
    // Whole turns go: what is kept starts with a user message, and the newest one is kept.
    QCOMPARE(messages[static_cast<size_t>(fitted.dropped)]["role"].get<std::string>(), "user");
    QVERIFY(static_cast<size_t>(fitted.dropped) < messages.size());
    // Keeping one more turn would not have fitted.
    nlohmann::json more = nlohmann::json::array({{{"role", "system"}, {"content", "Be brief."}}});
    for (size_t i = static_cast<size_t>(fitted.dropped) - 2; i < messages.size(); ++i)
        more.push_back(messages[i]);
    QVERIFY(static_cast<int64_t>(chatPromptTokens(*engine, tmpl, more).size()) > budget);
    // All of it fits in a big budget.
    QCOMPARE(fitChatPrompt(*engine, tmpl, "", messages, 100000).dropped, 0);
    // A last message that cannot fit at all is an error that says so.
    const nlohmann::json huge =
        nlohmann::json::array({{{"role", "user"}, {"content", std::string(2000, 'a')}}});
    QVERIFY_THROWS_EXCEPTION(ChatPromptTooLong, fitChatPrompt(*engine, tmpl, "", huge, budget));
    // The answer keeps at most half the context.
    folio::SamplingParams p;
    p.max_tokens = 1000;
    QCOMPARE(chatPromptBudget(96, p), int64_t{48});
    p.max_tokens = 16;
    QCOMPARE(chatPromptBudget(96, p), int64_t{80});
}

void TestChat::showsWhatWasLeftOutOfTheContext() {
    const qint64 c = m_store->create_conversation("long");
    for (int i = 0; i < 6; ++i) {
        m_store->add_message(c, "user", longTurn(i));
        m_store->add_message(c, "assistant", "They had fun.");
    }
    MessageListModel messages(m_store, m_client.get());
    Tester tester(&messages, Tester::FailureReportingMode::QtTest);
    messages.setConversationId(c);
    QCOMPARE(messages.droppedCount(), 0);
    QSignalSpy trimmed(m_client.get(), &EngineClient::contextTrimmed);
    const QVariantMap stats = reply([&] { return m_client->sendMessage(c, "And then?"); });
    QCOMPARE(stats.value("error").toString(), QString());
    QCOMPARE(trimmed.count(), 1);
    const int dropped = trimmed.first().at(1).toInt();
    QVERIFY2(dropped >= 2, qPrintable(QString::number(dropped)));
    QCOMPARE(trimmed.first().at(2).toInt(), kContext);
    QCOMPARE(messages.droppedCount(), dropped);
    QVERIFY(messages.contextNotice().contains(QString::number(dropped)));
    QVERIFY(messages.contextNotice().contains(QString::number(kContext)));
    // The left-out rows say so; the newest ones are in the context.
    QCOMPARE(messages.index(0).data(MessageListModel::InContextRole).toBool(), false);
    QCOMPARE(messages.index(dropped - 1).data(MessageListModel::InContextRole).toBool(), false);
    QCOMPARE(messages.index(dropped).data(MessageListModel::InContextRole).toBool(), true);
    QCOMPARE(messages.index(messages.rowCount() - 1).data(MessageListModel::InContextRole).toBool(),
             true);
    // Nothing was deleted: every message is still stored and listed.
    QCOMPARE(messages.rowCount(), static_cast<int>(m_store->messages(c).size()));
    QVERIFY(m_client->contextUsed() > 0 && m_client->contextUsed() <= kContext);

    // Another conversation has no notice.
    messages.setConversationId(m_store->create_conversation("short"));
    QCOMPARE(messages.contextNotice(), QString());
}

void TestChat::regenerateReplacesTheLastReply() {
    const qint64 c = m_store->create_conversation("regen");
    MessageListModel messages(m_store, m_client.get());
    Tester tester(&messages, Tester::FailureReportingMode::QtTest);
    messages.setConversationId(c);
    QVariantMap stats = reply([&] { return m_client->sendMessage(c, "Once upon a time"); });
    QVERIFY(stats.value("messageId").toLongLong() > 0);
    const auto before = m_store->messages(c);
    QCOMPARE(before.size(), size_t{2});

    QSignalSpy removed(m_client.get(), &EngineClient::messagesRemoved);
    QSignalSpy deltas(m_client.get(), &EngineClient::tokenDelta);
    stats = reply([&] { return m_client->regenerate(c); });
    QCOMPARE(removed.count(), 1);
    QVERIFY(deltas.count() > 0);  // a new reply streamed in
    const auto after = m_store->messages(c);
    QCOMPARE(after.size(), size_t{2});  // the old reply went, the new one replaced it
    QCOMPARE(after[0].id, before[0].id);
    QCOMPARE(stats.value("messageId").toLongLong(), after[1].id);
    QCOMPARE(after[1].role, std::string("assistant"));
    QCOMPARE(after[1].content, before[1].content);  // greedy: the same text again
    QCOMPARE(messages.rowCount(), 2);
    QCOMPARE(messages.index(1).data(MessageListModel::IdRole).toLongLong(), after[1].id);

    // A conversation without a user message has nothing to regenerate.
    const qint64 empty = m_store->create_conversation("empty");
    QVERIFY(!m_client->regenerate(empty));
}

void TestChat::editAndResendReplacesTheRest() {
    const qint64 c = m_store->create_conversation("edit");
    MessageListModel messages(m_store, m_client.get());
    Tester tester(&messages, Tester::FailureReportingMode::QtTest);
    messages.setConversationId(c);
    reply([&] { return m_client->sendMessage(c, "Once upon a time"); });
    reply([&] { return m_client->sendMessage(c, "The cat"); });
    const auto before = m_store->messages(c);
    QCOMPARE(before.size(), size_t{4});

    // Not a user message, or empty text: refused, nothing changes.
    QVERIFY(!m_client->editAndResend(c, before[1].id, "x"));
    QVERIFY(!m_client->editAndResend(c, before[0].id, "   "));
    QCOMPARE(m_store->messages(c).size(), size_t{4});

    const QVariantMap stats =
        reply([&] { return m_client->editAndResend(c, before[0].id, "A little bird"); });
    QCOMPARE(stats.value("error").toString(), QString());
    const auto after = m_store->messages(c);
    QCOMPARE(after.size(), size_t{2});
    QCOMPARE(after[0].content, std::string("A little bird"));
    QCOMPARE(after[1].role, std::string("assistant"));
    QCOMPARE(messages.rowCount(), 2);
    QCOMPARE(messages.index(0).data(MessageListModel::ContentRole).toString(),
             QStringLiteral("A little bird"));
}

void TestChat::copiesToTheClipboard() {
    MessageListModel messages(m_store, m_client.get());
    messages.copyToClipboard(QStringLiteral("int x = 1;"));
    QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("int x = 1;"));
}

// A crash mid-reply loses at most the last second of it: the reply is in the store from its
// first text on, as one message that grows, and the list shows it once.
void TestChat::savesTheReplyAsItStreams() {
    const qint64 c = m_store->create_conversation("checkpoint");
    MessageListModel messages(m_store, m_client.get());
    Tester tester(&messages, Tester::FailureReportingMode::QtTest);
    messages.setConversationId(c);
    std::vector<folio::store::MessageRecord> atFirstDelta;
    int rowsAfterReload = 0;
    QMetaObject::Connection first;
    first = connect(m_client.get(), &EngineClient::tokenDelta, this, [&] {
        disconnect(first);
        atFirstDelta = m_store->messages(c);  // before finishReply ran
        messages.reload();                    // e.g. the conversation reopened mid-reply
        rowsAfterReload = messages.rowCount();
    });
    const QVariantMap stats = reply([&] { return m_client->sendMessage(c, "Once upon a time"); });
    QCOMPARE(atFirstDelta.size(), size_t{2});
    QCOMPARE(atFirstDelta[1].role, std::string("assistant"));
    QVERIFY(!atFirstDelta[1].content.empty());
    QCOMPARE(rowsAfterReload, 2);  // the saved part is not shown twice
    const auto after = m_store->messages(c);
    QCOMPARE(after.size(), size_t{2});  // one message, grown, not a second one
    QCOMPARE(after[1].id, atFirstDelta[1].id);
    QCOMPARE(stats.value("messageId").toLongLong(), after[1].id);
    QVERIFY(after[1].content.starts_with(atFirstDelta[1].content));
    QCOMPARE(messages.rowCount(), 2);
    QCOMPARE(messages.index(1).data(MessageListModel::ContentRole).toString(),
             QString::fromStdString(after[1].content));
    QCOMPARE(messages.index(1).data(MessageListModel::StreamingRole).toBool(), false);
}

void TestChat::conversationSettingsApplyAndPersist() {
    const qint64 tuned = m_store->create_conversation("tuned");
    const qint64 plain = m_store->create_conversation("plain");
    {
        ConversationSettings settings(m_store, m_library, m_client.get());
        settings.setConversationId(tuned);
        QVERIFY(!settings.customSampling());
        QCOMPARE(settings.maxTokens(), 12);  // the app's sampling
        settings.setSystemPrompt(QStringLiteral("You tell short stories."));
        settings.setMaxTokens(3);
        QVERIFY(settings.customSampling());
        QCOMPARE(settings.lastError(), QString());
    }
    // A new instance (as after a restart) reads them back.
    ConversationSettings settings(m_store, m_library, m_client.get());
    settings.setConversationId(tuned);
    QCOMPARE(settings.systemPrompt(), QStringLiteral("You tell short stories."));
    QVERIFY(settings.customSampling());
    QCOMPARE(settings.maxTokens(), 3);
    QCOMPARE(settings.temperature(), 0.0);

    // The replies follow them: at most 3 tokens here, the app's 12 in the other conversation.
    QVariantMap stats = reply([&] { return m_client->sendMessage(tuned, "Once upon a time"); });
    QVERIFY2(stats.value("tokens").toInt() <= 3, qPrintable(stats.value("tokens").toString()));
    QCOMPARE(stats.value("finishReason").toString(), QStringLiteral("length"));
    stats = reply([&] { return m_client->sendMessage(plain, "Once upon a time"); });
    QVERIFY2(stats.value("tokens").toInt() > 3, qPrintable(stats.value("tokens").toString()));

    // Off again: the overrides are forgotten.
    settings.setCustomSampling(false);
    QCOMPARE(m_store->find_conversation(tuned)->sampling, std::string());
    QCOMPARE(settings.maxTokens(), 12);
}

void TestChat::conversationSettingsRefuseBadValues() {
    const qint64 c = m_store->create_conversation("bad");
    ConversationSettings settings(m_store, m_library, m_client.get());
    QSignalSpy changed(&settings, &ConversationSettings::changed);
    settings.setTemperature(0.5);  // no conversation selected yet
    QVERIFY(!settings.lastError().isEmpty());
    settings.setConversationId(c);
    settings.setTemperature(3.0);
    QVERIFY(settings.lastError().contains(QStringLiteral("Temperature")));
    settings.setTopP(0.0);
    QVERIFY(settings.lastError().contains(QStringLiteral("Top-p")));
    settings.setMaxTokens(0);
    QVERIFY(settings.lastError().contains(QStringLiteral("Max tokens")));
    QVERIFY(!settings.setModelId(987654));
    QVERIFY(settings.lastError().contains(QStringLiteral("987654")));
    // Nothing was stored.
    const auto record = m_store->find_conversation(c);
    QCOMPARE(record->sampling, std::string());
    QCOMPARE(record->model_id, int64_t{0});
    QVERIFY(changed.count() > 0);  // the page hears about the errors
}

void TestChat::conversationModelIsRequested() {
    // Two library entries: the loaded stories260K, and a copy under another name.
    const fs::path copy = m_library->data_dir() / "stories-copy.gguf";
    fs::copy_file(storiesPath().toStdString(), copy, fs::copy_options::overwrite_existing);
    folio::store::ModelRecord loaded, other;
    loaded.path = storiesPath().toStdString();
    loaded.file = "stories260K.gguf";
    other.path = copy;
    other.file = "stories-copy.gguf";
    const int64_t loadedId = m_library->add_model(loaded);
    const int64_t otherId = m_library->add_model(other);

    ConversationSettings settings(m_store, m_library, m_client.get());
    QCOMPARE(settings.modelChoices().size(), qsizetype{3});  // "Loaded model" + two
    const qint64 c = m_store->create_conversation("model");
    settings.setConversationId(c);
    QSignalSpy wanted(&settings, &ConversationSettings::modelWanted);
    QVERIFY(settings.setModelId(loadedId));
    QCOMPARE(wanted.count(), 0);  // already loaded
    QVERIFY(settings.setModelId(otherId));
    QCOMPARE(wanted.count(), 1);
    QCOMPARE(wanted.first().at(0).toString(), QString::fromStdString(copy.string()));
    QCOMPARE(m_store->find_conversation(c)->model_id, otherId);

    // Selecting the conversation again asks for its model again; "Loaded model" does not.
    settings.setConversationId(0);
    settings.setConversationId(c);
    QCOMPARE(wanted.count(), 2);
    QVERIFY(settings.setModelId(0));
    QCOMPARE(wanted.count(), 2);
    QCOMPARE(m_store->find_conversation(c)->model_id, int64_t{0});
}

void TestChat::searchFiltersConversations() {
    const qint64 pirates = m_store->create_conversation("Pirates");
    const qint64 other = m_store->create_conversation("Other");
    m_store->add_message(other, "user", "tell me about PIRATE ships");
    ConversationListModel list(m_store);
    Tester tester(&list, Tester::FailureReportingMode::QtTest);
    const int all = list.rowCount();
    list.select(list.rowOf(pirates));
    list.setFilter(QStringLiteral("pirate"));
    QCOMPARE(list.rowCount(), 2);
    QVERIFY(list.rowOf(pirates) >= 0 && list.rowOf(other) >= 0);
    QCOMPARE(list.currentId(), pirates);  // still selected: it matches
    list.setFilter(QStringLiteral("no such words"));
    QCOMPARE(list.rowCount(), 0);
    QCOMPARE(list.currentId(), qint64{0});
    // A new chat clears the filter and goes on top.
    const qint64 fresh = list.createConversation();
    QCOMPARE(list.filter(), QString());
    QCOMPARE(list.rowCount(), all + 1);
    QCOMPARE(list.currentId(), fresh);
}

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    TestChat test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "test_chat.moc"
