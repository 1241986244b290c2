// The desktop view models (ConversationListModel, MessageListModel) under QAbstractItemModelTester,
// and EngineClient streaming a reply from stories260K into them and into the library.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>
#include <filesystem>
#include <memory>

#include "conversation_list_model.h"
#include "engine_client.h"
#include "folio/store.h"
#include "message_list_model.h"
#include "shared_data.h"

namespace fs = std::filesystem;
using Tester = QAbstractItemModelTester;

class TestViewModels : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase();
    void conversationListModel();
    void refusesToSendWithoutModel();
    void streamsAReply();
    void stopEndsTheReply();
    void settingsReachTheEngineAndReplies();
    void cleanupTestCase();

  private:
    QString lastRowContent(const MessageListModel& m) const {
        return m.index(m.rowCount() - 1).data(MessageListModel::ContentRole).toString();
    }

    std::unique_ptr<folio::store::Library> m_library;
    std::shared_ptr<folio::store::ConversationStore> m_store;
    std::unique_ptr<EngineClient> m_client;
};

void TestViewModels::initTestCase() {
    const fs::path dir = folio::test::scratch_dir("ui_view_models");
    fs::remove_all(dir);
    fs::create_directories(dir);
    m_library = std::make_unique<folio::store::Library>(dir);
    m_store = std::make_shared<folio::store::ConversationStore>(*m_library);
    m_client = std::make_unique<EngineClient>(m_store);
    QSignalSpy loaded(m_client.get(), &EngineClient::modelLoaded);
    m_client->loadModel(
        QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string()));
    QVERIFY(m_client->loading());  // loading happens off this thread
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 60000);
    QVERIFY(m_client->modelReady());
    QCOMPARE(m_client->modelName(), QStringLiteral("stories260K"));
}

void TestViewModels::conversationListModel() {
    ConversationListModel model(m_store);
    Tester tester(&model, Tester::FailureReportingMode::QtTest);
    QSignalSpy current(&model, &ConversationListModel::currentChanged);
    const int before = model.rowCount();
    const qint64 a = model.createConversation();
    const qint64 b = model.createConversation(QStringLiteral("second"));
    QVERIFY(a > 0 && b > a);
    QCOMPARE(model.rowCount(), before + 2);
    QCOMPARE(model.currentId(), b);
    QCOMPARE(model.index(0).data(ConversationListModel::TitleRole).toString(),
             QStringLiteral("second"));
    QCOMPARE(model.index(1).data(ConversationListModel::TitleRole).toString(),
             QStringLiteral("New chat"));
    QVERIFY(model.renameConversation(1, QStringLiteral("first")));
    QCOMPARE(m_store->find_conversation(a)->title, std::string("first"));
    QVERIFY(!model.renameConversation(99, QStringLiteral("x")));
    model.select(1);
    QCOMPARE(model.currentId(), a);
    QVERIFY(current.count() >= 3);
    QVERIFY(model.removeConversation(0));  // above the selection: the selection stays on `a`
    QCOMPARE(model.currentId(), a);
    QVERIFY(model.removeConversation(0));
    QCOMPARE(model.rowCount(), before);
    QVERIFY(!m_store->find_conversation(a));
    model.reload();
    QCOMPARE(model.rowCount(), before);
}

void TestViewModels::refusesToSendWithoutModel() {
    EngineClient idle(m_store);
    const qint64 c = m_store->create_conversation("idle");
    QVERIFY(!idle.modelReady());
    QVERIFY(!idle.sendMessage(c, QStringLiteral("hello")));
    QVERIFY(!m_client->sendMessage(c, QStringLiteral("   ")));
    QVERIFY(m_store->messages(c).empty());
    m_store->delete_conversation(c);
}

void TestViewModels::streamsAReply() {
    ConversationListModel conversations(m_store);
    MessageListModel messages(m_store, m_client.get());
    Tester convTester(&conversations, Tester::FailureReportingMode::QtTest);
    Tester msgTester(&messages, Tester::FailureReportingMode::QtTest);
    connect(m_client.get(), &EngineClient::messageSaved, &conversations,
            &ConversationListModel::onMessageSaved);
    const qint64 c = conversations.createConversation();
    messages.setConversationId(c);

    QSignalSpy deltas(m_client.get(), &EngineClient::tokenDelta);
    QSignalSpy finished(m_client.get(), &EngineClient::replyFinished);
    // While it streams, the assistant row grows in place and says so.
    int streamingSeen = 0;
    connect(m_client.get(), &EngineClient::tokenDelta, &messages, [&] {
        const QModelIndex last = messages.index(messages.rowCount() - 1);
        if (messages.rowCount() == 2 && last.data(MessageListModel::StreamingRole).toBool())
            ++streamingSeen;
    });
    QVERIFY(m_client->sendMessage(c, QStringLiteral("Once upon a time")));
    QVERIFY(m_client->busy());
    QVERIFY(!m_client->sendMessage(c, QStringLiteral("again")));  // one reply at a time
    QCOMPARE(messages.rowCount(), 2);  // the user's message and the growing reply
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QVERIFY(!m_client->busy());

    QString reply;
    for (const auto& args : deltas) {
        QCOMPARE(args.at(0).toLongLong(), c);
        reply += args.at(1).toString();
    }
    QVERIFY(deltas.count() > 1);
    QVERIFY(!reply.isEmpty());
    QCOMPARE(streamingSeen, deltas.count());

    const QVariantMap stats = finished.at(0).at(1).toMap();
    QCOMPARE(finished.at(0).at(0).toLongLong(), c);
    QVERIFY2(QStringList({"stop", "length"}).contains(stats["finishReason"].toString()),
             qPrintable(stats["finishReason"].toString() + " " + stats["error"].toString()));
    QVERIFY(stats["tokens"].toLongLong() >= deltas.count());
    QVERIFY(stats["tokensPerSecond"].toDouble() > 0);
    QCOMPARE(m_client->lastTokensPerSecond(), stats["tokensPerSecond"].toDouble());

    QCOMPARE(messages.rowCount(), 2);
    QCOMPARE(messages.index(0).data(MessageListModel::ContentRole).toString(),
             QStringLiteral("Once upon a time"));
    QCOMPARE(lastRowContent(messages), reply);
    QVERIFY(!messages.index(1).data(MessageListModel::StreamingRole).toBool());
    QCOMPARE(messages.index(1).data(MessageListModel::IdRole).toLongLong(),
             stats["messageId"].toLongLong());

    const auto saved = m_store->messages(c);
    QCOMPARE(saved.size(), size_t{2});
    QCOMPARE(saved[0].role, std::string("user"));
    QCOMPARE(saved[1].role, std::string("assistant"));
    QCOMPARE(QString::fromStdString(saved[1].content), reply);
    // The untitled conversation is named after its first message.
    QCOMPARE(conversations.index(conversations.rowOf(c)).data().toString(),
             QStringLiteral("Once upon a time"));

    // Reloading shows what the library has.
    messages.reload();
    QCOMPARE(messages.rowCount(), 2);
    QCOMPARE(lastRowContent(messages), reply);
}

void TestViewModels::stopEndsTheReply() {
    MessageListModel messages(m_store, m_client.get());
    Tester tester(&messages, Tester::FailureReportingMode::QtTest);
    const qint64 c = m_store->create_conversation("stopped");
    messages.setConversationId(c);
    QSignalSpy finished(m_client.get(), &EngineClient::replyFinished);

    QVERIFY(m_client->sendMessage(c, QStringLiteral("Once upon a time")));
    m_client->stop();  // mid-reply: before or after the engine got it, it ends as aborted
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QCOMPARE(finished.at(0).at(1).toMap()["finishReason"].toString(), QStringLiteral("abort"));
    QVERIFY(!m_client->busy());
    // What arrived (maybe nothing) is what the model and the library keep.
    const auto saved = m_store->messages(c);
    QCOMPARE(static_cast<size_t>(messages.rowCount()), saved.size());
    QCOMPARE(lastRowContent(messages), QString::fromStdString(saved.back().content));

    // The client is ready for the next message.
    QVERIFY(m_client->sendMessage(c, QStringLiteral("Once upon a time")));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
    QCOMPARE(m_store->messages(c).back().role, std::string("assistant"));
}

void TestViewModels::settingsReachTheEngineAndReplies() {
    // What the Settings page sets: the next model load gets the engine settings, the next reply
    // the sampling.
    EngineClient client(m_store);
    client.setEngineConfigurator([](folio::EngineConfig& c) {
        c.max_model_len = 200;
        c.num_threads = 1;
    });
    folio::SamplingParams sampling;
    sampling.temperature = 0.0f;
    sampling.max_tokens = 5;
    client.setSampling(sampling);
    QSignalSpy loaded(&client, &EngineClient::modelLoaded);
    client.loadModel(
        QString::fromStdString(folio::test::shared_path("models/stories260K.gguf").string()));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, 60000);
    QCOMPARE(client.engine()->info().max_model_len, int64_t{200});

    const qint64 c = m_store->create_conversation("short");
    QSignalSpy finished(&client, &EngineClient::replyFinished);
    QVERIFY(client.sendMessage(c, QStringLiteral("Once upon a time")));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    const QVariantMap stats = finished.at(0).at(1).toMap();
    QCOMPARE(stats["finishReason"].toString(), QStringLiteral("length"));
    QCOMPARE(stats["tokens"].toInt(), 5);
}

void TestViewModels::cleanupTestCase() {
    m_client.reset();  // joins its threads
}

QTEST_GUILESS_MAIN(TestViewModels)
#include "test_view_models.moc"
