// ChatPage (qrc:/folio/ChatPage.qml) with EngineClient on stories260K, the conversation list and
// message models over the test's library (context properties from test_qml_pages.cpp).
import QtQuick
import QtTest
import "pages.js" as Pages

Item {
    id: root
    width: 1000
    height: 700

    TestCase {
        id: testCase
        name: "ChatPage"
        when: windowShown

        property Component page: Qt.createComponent("qrc:/folio/ChatPage.qml")

        SignalSpy {
            id: deltas
            target: client
            signalName: "tokenDelta"
        }
        SignalSpy {
            id: finished
            target: client
            signalName: "replyFinished"
        }

        function createPage() {
            compare(page.status, Component.Ready, page.errorString());
            const p = createTemporaryObject(page, root, {
                client: client,
                conversations: conversations,
                messages: messages,
                width: root.width,
                height: root.height
            });
            verify(p, "ChatPage is created");
            return p;
        }

        // The visible texts of a message row (the role and the content).
        function messageTexts(view, row) {
            return Pages.texts(view.itemAtIndex(row));
        }

        function initTestCase() {
            tryVerify(() => client.modelReady, 60000, "stories260K loads");
        }

        function test_1_sendStreamsAReply() {
            const p = createPage();
            const input = findChild(p, "messageInput");
            const send = findChild(p, "sendButton");
            const stop = findChild(p, "stopButton");
            const list = findChild(p, "conversationList");
            const view = findChild(p, "messageView");
            const status = findChild(p, "statusLabel");
            verify(input && send && stop && list && view && status);

            compare(status.text, "stories260K");
            compare(list.count, 0);
            compare(view.count, 0);
            verify(input.enabled);
            verify(!send.enabled, "nothing to send yet");
            verify(!stop.enabled);

            Pages.click(testCase, input);
            verify(input.activeFocus);
            Pages.type(testCase, "Once upon a time");
            compare(input.text, "Once upon a time");
            verify(send.enabled);
            deltas.clear();
            finished.clear();
            Pages.click(testCase, send);
            compare(input.text, "", "the field is cleared once sent");

            // The conversation is created, selected and named after the first message.
            tryCompare(list, "count", 1);
            compare(conversations.currentRow, 0);
            tryVerify(() => list.itemAtIndex(0) && list.itemAtIndex(0).text === "Once upon a time",
                      5000, "the conversation is titled after the first message");
            verify(list.itemAtIndex(0).highlighted);

            // The user's message and the reply stream into the view.
            tryCompare(view, "count", 2);
            verify(Pages.shows(Pages.rowItem(testCase, view, 0), "Once upon a time"));
            tryCompare(finished, "count", 1, 60000);
            const stats = finished.signalArguments[0][1];
            verify(["stop", "length"].includes(stats.finishReason),
                   stats.finishReason + " " + stats.error);
            verify(deltas.count > 1, "the reply came in several pieces (" + deltas.count + ")");
            let reply = "";
            for (let i = 0; i < deltas.count; ++i)
                reply += deltas.signalArguments[i][1];
            verify(reply.trim() !== "", "the reply has text");

            // What the window shows is what was streamed, and it was stored.
            tryVerify(() => !client.busy);
            Pages.waitUntil(testCase,
                            () => messageTexts(view, 1).some(t => t.indexOf(reply.trim()) >= 0),
                            5000, () => "the reply " + JSON.stringify(reply) + " is not shown: "
                                        + JSON.stringify(messageTexts(view, 1)));
            verify(!messageTexts(view, 1).some(t => t.indexOf("▍") >= 0),
                   "no streaming marker once finished");
            const saved = testSupport.savedMessages(conversations.currentId);
            compare(saved.length, 2);
            compare(saved[0].role, "user");
            compare(saved[0].content, "Once upon a time");
            compare(saved[1].role, "assistant");
            compare(saved[1].content, reply);

            // Ready for the next message; the speed of this one is shown.
            verify(!stop.enabled);
            tryVerify(() => findChild(p, "speedLabel").visible);
            verify(/tokens\/s/.test(findChild(p, "speedLabel").text));
        }

        function test_2_newSelectAndDeleteConversations() {
            const p = createPage();
            const list = findChild(p, "conversationList");
            const view = findChild(p, "messageView");
            const newChat = findChild(p, "newChatButton");
            const del = findChild(p, "deleteChatButton");
            tryVerify(() => !client.busy);
            compare(list.count, 1, "the conversation of the first test");
            tryCompare(view, "count", 2);

            Pages.click(testCase, newChat);
            tryCompare(list, "count", 2);
            compare(conversations.currentRow, 0);
            tryVerify(() => list.itemAtIndex(0) && list.itemAtIndex(0).text === "New chat");
            tryCompare(view, "count", 0, 5000, "a new conversation has no messages");

            // Clicking the older conversation shows its messages again.
            Pages.click(testCase, Pages.rowItem(testCase, list, 1));
            compare(conversations.currentRow, 1);
            tryCompare(view, "count", 2);
            verify(Pages.shows(Pages.rowItem(testCase, view, 0), "Once upon a time"));

            // Delete removes the selected one (and its messages) from the list.
            Pages.click(testCase, list.itemAtIndex(0));
            compare(conversations.currentRow, 0);
            verify(del.enabled);
            Pages.click(testCase, del);
            tryCompare(list, "count", 1);
            tryVerify(() => list.itemAtIndex(0) && list.itemAtIndex(0).text === "Once upon a time");
        }
    }
}
