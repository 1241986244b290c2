// The Local API page: an OpenAI-compatible server on 127.0.0.1 over the loaded model, for IDE
// plugins. Uses only the `localApi` context property (LocalApiController).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Page {
    id: page
    objectName: "localApiPage"
    title: qsTr("Local API")
    Accessible.name: title

    ScrollView {
        id: scroll
        anchors.fill: parent
        contentWidth: availableWidth

        ColumnLayout {
            width: scroll.availableWidth
            spacing: 12

            Label {
                text: page.title
                font.pixelSize: 22
                font.bold: true
                Layout.topMargin: 16
                Layout.leftMargin: 16
            }

            Label {
                text: qsTr("Serve the loaded model to IDE plugins and scripts on this computer (127.0.0.1 only).")
                wrapMode: Text.Wrap
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16
            }

            GridLayout {
                columns: 2
                columnSpacing: 12
                rowSpacing: 8
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16

                Label { text: qsTr("Local API") }
                RowLayout {
                    Switch {
                        id: apiSwitch
                        objectName: "apiSwitch"
                        checked: localApi.running
                        enabled: !localApi.busy && (localApi.running || localApi.canStart)
                        text: localApi.busy ? qsTr("…") : (localApi.running ? qsTr("On") : qsTr("Off"))
                        Accessible.name: qsTr("Local API server")
                        onToggled: {
                            if (checked)
                                localApi.start();
                            else
                                localApi.stop();
                            checked = Qt.binding(() => localApi.running);
                        }
                    }
                    Label {
                        objectName: "apiStatusLabel"
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        text: localApi.running ? qsTr("Listening on %1").arg(localApi.baseUrl)
                                               : localApi.startBlockedReason
                        Accessible.name: qsTr("Server status")
                    }
                }

                Label { text: qsTr("Port") }
                TextField {
                    id: portField
                    objectName: "portField"
                    text: localApi.port
                    enabled: !localApi.running && !localApi.busy
                    inputMethodHints: Qt.ImhDigitsOnly
                    validator: IntValidator { bottom: 1; top: 65535 }
                    Layout.preferredWidth: 120
                    Accessible.name: qsTr("Port")
                    onEditingFinished: localApi.port = parseInt(text)
                }

                Label { text: qsTr("API key") }
                RowLayout {
                    Layout.fillWidth: true
                    TextField {
                        id: keyField
                        objectName: "apiKeyField"
                        text: localApi.apiKey
                        enabled: !localApi.running && !localApi.busy
                        echoMode: showKey.checked ? TextInput.Normal : TextInput.Password
                        Layout.fillWidth: true
                        Accessible.name: qsTr("API key")
                        onEditingFinished: localApi.apiKey = text
                    }
                    CheckBox {
                        id: showKey
                        objectName: "showKeyCheck"
                        text: qsTr("Show")
                        Accessible.name: qsTr("Show API key")
                    }
                    Button {
                        objectName: "generateKeyButton"
                        text: qsTr("Generate")
                        enabled: !localApi.running && !localApi.busy
                        Accessible.name: qsTr("Generate a new API key")
                        onClicked: localApi.generateApiKey()
                    }
                    Button {
                        objectName: "copyKeyButton"
                        text: qsTr("Copy")
                        Accessible.name: qsTr("Copy the API key")
                        onClicked: {
                            keyField.selectAll();
                            keyField.copy();
                            keyField.deselect();
                        }
                    }
                }

                Label { text: qsTr("Allowed origins") }
                TextField {
                    objectName: "originsField"
                    text: localApi.allowedOrigins.join(", ")
                    placeholderText: qsTr("none (browser pages cannot call the API)")
                    enabled: !localApi.running && !localApi.busy
                    Layout.fillWidth: true
                    Accessible.name: qsTr("Allowed origins, separated by commas")
                    onEditingFinished: localApi.allowedOrigins = text.split(",")
                }

                Label { text: qsTr("Requests") }
                Label {
                    objectName: "requestCountLabel"
                    text: localApi.requestCount
                    Accessible.name: qsTr("Requests served: %1").arg(localApi.requestCount)
                }

                Label { text: qsTr("Speed") }
                Label {
                    objectName: "tokensPerSecondLabel"
                    text: qsTr("%1 tokens/s").arg(localApi.tokensPerSecond.toFixed(1))
                    Accessible.name: qsTr("Generation speed: %1 tokens per second")
                                         .arg(localApi.tokensPerSecond.toFixed(1))
                }
            }

            Label {
                objectName: "apiErrorLabel"
                visible: localApi.lastError !== ""
                text: localApi.lastError
                color: "#c62828"
                wrapMode: Text.Wrap
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16
                Accessible.name: qsTr("Error: %1").arg(localApi.lastError)
            }

            RowLayout {
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16
                Label {
                    text: qsTr("Configuration for IDE plugins")
                    font.bold: true
                    Layout.fillWidth: true
                }
                Button {
                    objectName: "copySnippetButton"
                    text: qsTr("Copy")
                    Accessible.name: qsTr("Copy the plugin configuration")
                    onClicked: localApi.copySnippet()
                }
            }

            TextArea {
                objectName: "snippetArea"
                text: localApi.snippet
                readOnly: true
                selectByMouse: true
                wrapMode: TextEdit.Wrap
                font.family: "monospace"
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16
                Layout.bottomMargin: 16
                Accessible.name: qsTr("Plugin configuration")
            }
        }
    }
}
