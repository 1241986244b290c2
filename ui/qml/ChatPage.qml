// The Chat page: conversations on the left, the chat on the right (moved from Main.qml).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Item {
    id: page

    required property var client
    required property var conversations
    required property var messages

    function send() {
        if (!client.modelReady || client.busy || input.text.trim() === "")
            return;
        let id = conversations.currentId;
        if (id <= 0)
            id = conversations.createConversation("");
        if (id > 0 && client.sendMessage(id, input.text))
            input.clear();
    }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        Pane {
            Layout.preferredWidth: 240
            Layout.fillHeight: true

            ColumnLayout {
                anchors.fill: parent

                Button {
                    objectName: "newChatButton"
                    text: qsTr("New chat")
                    Accessible.name: text
                    Layout.fillWidth: true
                    onClicked: conversations.createConversation("")
                }

                ListView {
                    id: conversationList
                    objectName: "conversationList"
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    clip: true
                    model: conversations
                    currentIndex: conversations.currentRow
                    Accessible.name: qsTr("Conversations")
                    delegate: ItemDelegate {
                        required property int index
                        required property string title
                        width: ListView.view.width
                        text: title
                        highlighted: index === conversations.currentRow
                        Accessible.name: title
                        onClicked: conversations.select(index)
                    }
                }

                Button {
                    objectName: "deleteChatButton"
                    text: qsTr("Delete")
                    Accessible.name: qsTr("Delete conversation")
                    Layout.fillWidth: true
                    enabled: conversations.currentRow >= 0 && !client.busy
                    onClicked: conversations.removeConversation(conversations.currentRow)
                }
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.margins: 8

            RowLayout {
                Layout.fillWidth: true
                Label {
                    objectName: "statusLabel"
                    Layout.fillWidth: true
                    elide: Text.ElideRight
                    font.bold: true
                    text: client.modelReady ? client.modelName : client.status
                    Accessible.name: qsTr("Model status")
                }
                Label {
                    objectName: "speedLabel"
                    visible: client.lastTokensPerSecond > 0
                    text: qsTr("%1 tokens/s").arg(client.lastTokensPerSecond.toFixed(1))
                    Accessible.name: qsTr("Generation speed")
                }
            }

            ListView {
                id: messageView
                objectName: "messageView"
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                spacing: 8
                model: messages
                Accessible.name: qsTr("Messages")
                onCountChanged: positionViewAtEnd()
                onContentHeightChanged: if (client.busy) positionViewAtEnd()
                delegate: Frame {
                    required property string role
                    required property string content
                    required property bool streaming
                    width: ListView.view.width
                    ColumnLayout {
                        width: parent.width
                        Label {
                            text: role === "user" ? qsTr("You") : qsTr("Assistant")
                            font.bold: true
                        }
                        Label {
                            Layout.fillWidth: true
                            wrapMode: Text.Wrap
                            textFormat: Text.PlainText
                            text: content + (streaming ? " ▍" : "")
                            Accessible.name: content
                        }
                    }
                }
            }

            RowLayout {
                Layout.fillWidth: true
                TextField {
                    id: input
                    objectName: "messageInput"
                    Layout.fillWidth: true
                    focus: true
                    enabled: client.modelReady
                    placeholderText: qsTr("Type a message and press Enter")
                    Accessible.name: qsTr("Message")
                    onAccepted: page.send()
                }
                Button {
                    objectName: "sendButton"
                    text: qsTr("Send")
                    Accessible.name: text
                    enabled: client.modelReady && !client.busy && input.text.trim() !== ""
                    onClicked: page.send()
                }
                Button {
                    objectName: "stopButton"
                    text: qsTr("Stop")
                    Accessible.name: text
                    enabled: client.busy
                    onClicked: client.stop()
                }
            }
        }
    }
}
