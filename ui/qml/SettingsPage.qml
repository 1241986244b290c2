// The Settings page: engine, default sampling, appearance and data folder. Uses only the
// `settings` context property (SettingsController); every change is saved at once (the data
// folder when Enter is pressed or "Use this folder" clicked). Tab goes through the controls
// from top to bottom; each has an accessible name.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Page {
    id: page
    objectName: "settingsPage"
    title: qsTr("Settings")
    Accessible.name: title

    component AutoSpinBox: SpinBox {
        editable: true
        textFromValue: (value, locale) => value === 0 ? qsTr("Auto") : Number(value).toLocaleString(locale, "f", 0)
        valueFromText: (text, locale) => text === qsTr("Auto") ? 0 : Number.fromLocaleString(locale, text)
        Layout.preferredWidth: 180
    }

    component SectionLabel: Label {
        font.bold: true
        font.pixelSize: 16
        Layout.columnSpan: 2
        Layout.topMargin: 8
    }

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
                objectName: "settingsNotice"
                visible: settings.notice !== ""
                text: settings.notice
                color: "#b26a00"
                wrapMode: Text.Wrap
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16
                Accessible.name: settings.notice
            }

            GridLayout {
                columns: 2
                columnSpacing: 12
                rowSpacing: 8
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16

                SectionLabel { text: qsTr("Engine (applies when the model is reloaded)") }

                Label { text: qsTr("CPU threads") }
                AutoSpinBox {
                    objectName: "threadsSpin"
                    from: 0
                    to: settings.maxThreads
                    value: settings.threads
                    Accessible.name: qsTr("CPU threads, 0 for all cores")
                    onValueModified: settings.threads = value
                }

                Label { text: qsTr("Context length (tokens)") }
                AutoSpinBox {
                    objectName: "contextSpin"
                    from: 0
                    to: 1048576
                    stepSize: 1024
                    value: settings.contextLength
                    Accessible.name: qsTr("Context length in tokens, 0 for the model's own")
                    onValueModified: settings.contextLength = value
                }

                Label { text: qsTr("KV cache memory (MiB)") }
                AutoSpinBox {
                    objectName: "kvMemorySpin"
                    from: 0
                    to: 1048576
                    stepSize: 256
                    value: settings.kvCacheMemoryMb
                    Accessible.name: qsTr("KV cache memory in MiB, 0 for automatic")
                    onValueModified: settings.kvCacheMemoryMb = value
                }

                SectionLabel { text: qsTr("Default sampling") }

                Label { text: qsTr("Temperature: %1").arg(settings.temperature.toFixed(2)) }
                Slider {
                    objectName: "temperatureSlider"
                    from: 0
                    to: 2
                    stepSize: 0.05
                    value: settings.temperature
                    Layout.fillWidth: true
                    Accessible.name: qsTr("Temperature")
                    Accessible.description: settings.temperature.toFixed(2)
                    onMoved: settings.temperature = value
                }

                Label { text: qsTr("Top P: %1").arg(settings.topP.toFixed(2)) }
                Slider {
                    objectName: "topPSlider"
                    from: 0.05
                    to: 1
                    stepSize: 0.05
                    value: settings.topP
                    Layout.fillWidth: true
                    Accessible.name: qsTr("Top P")
                    Accessible.description: settings.topP.toFixed(2)
                    onMoved: settings.topP = value
                }

                Label { text: qsTr("Max tokens") }
                SpinBox {
                    objectName: "maxTokensSpin"
                    editable: true
                    from: 1
                    to: 32768
                    stepSize: 64
                    value: settings.maxTokens
                    Layout.preferredWidth: 180
                    Accessible.name: qsTr("Maximum tokens per reply")
                    onValueModified: settings.maxTokens = value
                }

                SectionLabel { text: qsTr("Appearance") }

                Label { text: qsTr("Theme") }
                ComboBox {
                    objectName: "themeCombo"
                    textRole: "text"
                    valueRole: "value"
                    model: [
                        { value: "system", text: qsTr("System") },
                        { value: "light", text: qsTr("Light") },
                        { value: "dark", text: qsTr("Dark") }
                    ]
                    currentIndex: ["system", "light", "dark"].indexOf(settings.theme)
                    Layout.preferredWidth: 180
                    Accessible.name: qsTr("Theme")
                    onActivated: settings.theme = currentValue
                }

                SectionLabel { text: qsTr("Storage") }

                Label { text: qsTr("Data folder") }
                RowLayout {
                    Layout.fillWidth: true
                    TextField {
                        id: dataFolderField
                        objectName: "dataFolderField"
                        text: settings.dataFolder
                        Layout.fillWidth: true
                        selectByMouse: true
                        Accessible.name: qsTr("Data folder (applies at the next start)")
                        onAccepted: settings.dataFolder = text
                    }
                    Button {
                        objectName: "dataFolderApplyButton"
                        text: qsTr("Use this folder")
                        enabled: dataFolderField.text !== settings.dataFolder
                        Accessible.name: qsTr("Use the folder typed as the data folder")
                        onClicked: settings.dataFolder = dataFolderField.text
                    }
                }
                Item { implicitWidth: 1 }
                Label {
                    objectName: "dataFolderHint"
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    font.pixelSize: 12
                    color: palette.placeholderText
                    text: qsTr("Models, chats and settings live here; in use now: %1. A new "
                               + "folder applies at the next start; the old one is left as it "
                               + "is.").arg(settings.currentDataFolder)
                }
            }

            Label {
                objectName: "settingsErrorLabel"
                visible: settings.lastError !== ""
                text: settings.lastError
                color: "#c62828"
                wrapMode: Text.Wrap
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Accessible.name: qsTr("Error: %1").arg(settings.lastError)
            }

            Button {
                objectName: "resetSettingsButton"
                text: qsTr("Restore defaults")
                Accessible.name: text
                Layout.leftMargin: 16
                Layout.bottomMargin: 16
                onClicked: settings.resetToDefaults()
            }
        }
    }
}
