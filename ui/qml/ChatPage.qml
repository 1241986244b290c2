// The Chat page: conversations on the left (new, search, rename, delete), the chat on the right
// (Markdown and code blocks, copy, edit and resend, regenerate, stop), the conversation's own
// settings (model, system prompt, sampling) in a panel, and live speed and context use.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Item {
    id: page

    required property var client
    required property var conversations
    required property var messages
    // ConversationSettings (optional: without it the settings panel is hidden).
    property var chatSettings: null
    // The row whose message is being edited (-1: none).
    property int editingRow: -1

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
            Layout.preferredWidth: 250
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

                TextField {
                    objectName: "conversationSearch"
                    Layout.fillWidth: true
                    placeholderText: qsTr("Search conversations")
                    Accessible.name: qsTr("Search conversations")
                    text: conversations.filter
                    onTextEdited: conversations.filter = text
                    Keys.onEscapePressed: conversations.filter = ""
                }

                ListView {
                    id: conversationList
                    objectName: "conversationList"
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    clip: true
                    model: conversations
                    currentIndex: conversations.currentRow
                    keyNavigationEnabled: true
                    activeFocusOnTab: true
                    Accessible.name: qsTr("Conversations")
                    Keys.onReturnPressed: conversations.select(currentIndex)
                    Keys.onUpPressed: conversations.select(Math.max(0, currentIndex - 1))
                    Keys.onDownPressed: conversations.select(Math.min(count - 1, currentIndex + 1))
                    Keys.onPressed: event => {
                        if (event.key === Qt.Key_F2 && currentIndex >= 0) {
                            currentItem.renaming = true;
                            event.accepted = true;
                        }
                    }
                    delegate: ItemDelegate {
                        id: conversationDelegate
                        required property int index
                        required property string title
                        property bool renaming: false
                        width: ListView.view.width
                        text: renaming ? "" : title
                        highlighted: index === conversations.currentRow
                        Accessible.name: title
                        onClicked: conversations.select(index)
                        onDoubleClicked: renaming = true
                        onRenamingChanged: if (renaming) {
                            renameField.text = title;
                            renameField.forceActiveFocus();
                            renameField.selectAll();
                        }

                        TextField {
                            id: renameField
                            objectName: "renameField"
                            visible: conversationDelegate.renaming
                            anchors.fill: parent
                            Accessible.name: qsTr("Conversation title")
                            onAccepted: {
                                if (text.trim() !== "")
                                    conversations.renameConversation(conversationDelegate.index, text.trim());
                                conversationDelegate.renaming = false;
                            }
                            Keys.onEscapePressed: conversationDelegate.renaming = false
                            onActiveFocusChanged: if (!activeFocus) conversationDelegate.renaming = false
                        }
                    }
                }

                Label {
                    visible: conversations.count === 0 && conversations.filter !== ""
                    text: qsTr("No conversation matches.")
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                }

                RowLayout {
                    Layout.fillWidth: true
                    Button {
                        objectName: "renameChatButton"
                        text: qsTr("Rename")
                        Accessible.name: qsTr("Rename conversation")
                        Layout.fillWidth: true
                        enabled: conversations.currentRow >= 0
                        onClicked: conversationList.currentItem.renaming = true
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
                    // Errors (a model that cannot load) are long: wrap them, never cut them.
                    wrapMode: Text.Wrap
                    maximumLineCount: 4
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
                ProgressBar {
                    objectName: "contextBar"
                    visible: client.contextLength > 0
                    Layout.preferredWidth: 80
                    from: 0
                    to: Math.max(1, client.contextLength)
                    value: client.contextUsed
                    Accessible.name: qsTr("Context used")
                }
                Label {
                    objectName: "contextLabel"
                    visible: client.contextLength > 0
                    text: qsTr("%1 / %2 tokens").arg(client.contextUsed).arg(client.contextLength)
                    Accessible.name: qsTr("Context used")
                }
                Button {
                    id: settingsToggle
                    objectName: "chatSettingsButton"
                    visible: page.chatSettings !== null
                    checkable: true
                    text: qsTr("Chat settings")
                    Accessible.name: text
                    onCheckedChanged: if (checked && page.chatSettings) page.chatSettings.refreshModels()
                }
            }

            Frame {
                objectName: "chatSettingsPanel"
                visible: settingsToggle.checked && page.chatSettings !== null
                Layout.fillWidth: true

                GridLayout {
                    anchors.fill: parent
                    columns: 4
                    enabled: conversations.currentId > 0

                    Label { text: qsTr("Model") }
                    ComboBox {
                        objectName: "chatModelBox"
                        Layout.columnSpan: 3
                        Layout.fillWidth: true
                        model: page.chatSettings ? page.chatSettings.modelChoices : []
                        textRole: "name"
                        valueRole: "id"
                        Accessible.name: qsTr("Model of this conversation")
                        currentIndex: page.chatSettings ? indexOfValue(page.chatSettings.modelId) : -1
                        onActivated: page.chatSettings.setModelId(currentValue)
                    }

                    Label { text: qsTr("System prompt") }
                    TextArea {
                        objectName: "systemPromptField"
                        Layout.columnSpan: 3
                        Layout.fillWidth: true
                        Layout.preferredHeight: 60
                        wrapMode: TextEdit.Wrap
                        placeholderText: qsTr("Instructions for the assistant in this conversation")
                        background: Rectangle {
                            color: palette.base
                            border.color: parent.activeFocus ? palette.highlight : palette.mid
                            radius: 2
                        }
                        Accessible.name: qsTr("System prompt")
                        text: page.chatSettings ? page.chatSettings.systemPrompt : ""
                        onEditingFinished: if (page.chatSettings) page.chatSettings.systemPrompt = text
                    }

                    Switch {
                        objectName: "customSamplingSwitch"
                        Layout.columnSpan: 4
                        text: qsTr("Own sampling for this conversation (else the Settings page's)")
                        Accessible.name: qsTr("Own sampling for this conversation")
                        checked: page.chatSettings ? page.chatSettings.customSampling : false
                        onToggled: page.chatSettings.customSampling = checked
                    }

                    Label { text: qsTr("Temperature") }
                    TextField {
                        objectName: "chatTemperatureField"
                        enabled: page.chatSettings && page.chatSettings.customSampling
                        text: page.chatSettings ? page.chatSettings.temperature.toFixed(2) : ""
                        validator: DoubleValidator { bottom: 0; top: 2; decimals: 2 }
                        Accessible.name: qsTr("Temperature")
                        onEditingFinished: page.chatSettings.temperature = Number(text)
                    }
                    Label { text: qsTr("Top-p") }
                    TextField {
                        objectName: "chatTopPField"
                        enabled: page.chatSettings && page.chatSettings.customSampling
                        text: page.chatSettings ? page.chatSettings.topP.toFixed(2) : ""
                        validator: DoubleValidator { bottom: 0.01; top: 1; decimals: 2 }
                        Accessible.name: qsTr("Top-p")
                        onEditingFinished: page.chatSettings.topP = Number(text)
                    }
                    Label { text: qsTr("Max tokens") }
                    SpinBox {
                        objectName: "chatMaxTokensBox"
                        enabled: page.chatSettings && page.chatSettings.customSampling
                        from: 1
                        to: 32768
                        editable: true
                        value: page.chatSettings ? page.chatSettings.maxTokens : 512
                        Accessible.name: qsTr("Max tokens")
                        onValueModified: page.chatSettings.maxTokens = value
                    }
                    Label {
                        objectName: "chatSettingsError"
                        Layout.columnSpan: 2
                        Layout.fillWidth: true
                        visible: text !== ""
                        color: "firebrick"
                        wrapMode: Text.Wrap
                        text: page.chatSettings ? page.chatSettings.lastError : ""
                    }
                }
            }

            Label {
                objectName: "contextNotice"
                // Changes while another page shows: Qt 6.4's layouts would keep stale space. (Not
                // `visible`: that also flips with the page, relaying it out on every show.)
                Layout.preferredHeight: messages.contextNotice !== "" ? implicitHeight : 0
                visible: messages.contextNotice !== ""
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                text: messages.contextNotice
                font.italic: true
                Accessible.name: text
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
                ScrollBar.vertical: ScrollBar {}
                delegate: Frame {
                    id: messageDelegate
                    required property int index
                    required property var messageId
                    required property string role
                    required property string content
                    required property bool streaming
                    required property var blocks
                    required property bool inContext
                    readonly property bool editing: index >= 0 && page.editingRow === index
                    readonly property bool lastReply: role === "assistant" && index === messageView.count - 1
                    width: ListView.view.width - 12
                    opacity: inContext ? 1.0 : 0.5
                    onEditingChanged: if (editing) {
                        editArea.text = content;
                        editArea.forceActiveFocus();
                    }

                    ColumnLayout {
                        width: parent.width

                        RowLayout {
                            Layout.fillWidth: true
                            Label {
                                text: messageDelegate.role === "user" ? qsTr("You") : qsTr("Assistant")
                                font.bold: true
                            }
                            Label {
                                visible: !messageDelegate.inContext
                                text: qsTr("(not in the model's context)")
                                font.italic: true
                            }
                            Item { Layout.fillWidth: true }
                            ToolButton {
                                objectName: "copyMessageButton"
                                text: qsTr("Copy")
                                visible: !messageDelegate.streaming && !messageDelegate.editing
                                Accessible.name: qsTr("Copy message")
                                onClicked: messages.copyToClipboard(messageDelegate.content)
                            }
                            ToolButton {
                                objectName: "editMessageButton"
                                text: qsTr("Edit")
                                visible: messageDelegate.role === "user" && !messageDelegate.editing
                                enabled: !client.busy && client.modelReady
                                Accessible.name: qsTr("Edit and resend")
                                onClicked: page.editingRow = messageDelegate.index
                            }
                            ToolButton {
                                objectName: "regenerateButton"
                                text: qsTr("Regenerate")
                                visible: messageDelegate.lastReply && !messageDelegate.streaming
                                enabled: !client.busy && client.modelReady
                                Accessible.name: qsTr("Regenerate reply")
                                onClicked: client.regenerate(conversations.currentId)
                            }
                        }

                        Repeater {
                            model: messageDelegate.editing ? [] : messageDelegate.blocks
                            delegate: Loader {
                                id: blockLoader
                                required property var modelData
                                required property int index
                                readonly property bool last: index === messageDelegate.blocks.length - 1
                                Layout.fillWidth: true
                                sourceComponent: blockLoader.modelData.code ? codeBlock : proseBlock

                                Component {
                                    id: proseBlock
                                    Label {
                                        objectName: "messageText"
                                        wrapMode: Text.Wrap
                                        textFormat: Text.MarkdownText
                                        text: blockLoader.modelData.text + (messageDelegate.streaming && blockLoader.last ? " ▍" : "")
                                        Accessible.name: blockLoader.modelData.text
                                        onLinkActivated: link => Qt.openUrlExternally(link)
                                    }
                                }
                                Component {
                                    id: codeBlock
                                    Frame {
                                        objectName: "codeBlock"
                                        background: Rectangle {
                                            color: palette.alternateBase
                                            border.color: palette.mid
                                            radius: 4
                                        }
                                        ColumnLayout {
                                            width: parent.width
                                            RowLayout {
                                                Layout.fillWidth: true
                                                Label {
                                                    text: blockLoader.modelData.language !== "" ? blockLoader.modelData.language : qsTr("code")
                                                    font.italic: true
                                                    Layout.fillWidth: true
                                                }
                                                ToolButton {
                                                    objectName: "copyCodeButton"
                                                    text: qsTr("Copy code")
                                                    Accessible.name: text
                                                    onClicked: messages.copyToClipboard(blockLoader.modelData.text)
                                                }
                                            }
                                            Label {
                                                Layout.fillWidth: true
                                                font.family: "monospace"
                                                textFormat: Text.PlainText
                                                wrapMode: Text.WrapAnywhere
                                                text: blockLoader.modelData.text
                                                Accessible.name: blockLoader.modelData.text
                                            }
                                        }
                                    }
                                }
                            }
                        }

                        Label {
                            visible: messageDelegate.streaming && messageDelegate.blocks.length === 0
                            text: "▍"
                        }

                        ColumnLayout {
                            visible: messageDelegate.editing
                            Layout.fillWidth: true
                            TextArea {
                                id: editArea
                                objectName: "editMessageField"
                                Layout.fillWidth: true
                                wrapMode: TextEdit.Wrap
                                Accessible.name: qsTr("Edited message")
                                background: Rectangle {
                                    color: palette.base
                                    border.color: parent.activeFocus ? palette.highlight : palette.mid
                                    radius: 2
                                }
                            }
                            RowLayout {
                                Button {
                                    objectName: "resendButton"
                                    text: qsTr("Send edited")
                                    Accessible.name: text
                                    enabled: editArea.text.trim() !== "" && !client.busy
                                    onClicked: {
                                        const id = messageDelegate.messageId;
                                        page.editingRow = -1;
                                        client.editAndResend(conversations.currentId, id, editArea.text);
                                    }
                                }
                                Button {
                                    objectName: "cancelEditButton"
                                    text: qsTr("Cancel")
                                    Accessible.name: qsTr("Cancel editing")
                                    onClicked: page.editingRow = -1
                                }
                            }
                        }
                    }
                }
            }

            Label {
                objectName: "errorLabel"
                // As contextNotice.
                Layout.preferredHeight: client.lastError !== "" ? implicitHeight : 0
                visible: client.lastError !== ""
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: "firebrick"
                text: qsTr("The reply failed: %1").arg(client.lastError)
                Accessible.name: text
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

    Connections {
        target: page.conversations
        function onCurrentChanged() {
            page.editingRow = -1;
        }
    }
}
