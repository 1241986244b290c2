// folio-desktop's main window: a slim page bar on the left (Chat, Models, Local API, Settings,
// Documents; Ctrl+1..5, or Tab to a page button and Space) and the current page. Colours come
// from the palette, which the theme setting sets (SettingsController::applyTheme).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ApplicationWindow {
    id: window

    required property var client
    required property var conversations
    required property var messages
    required property var library
    required property var hubSearch
    required property var quants
    required property var downloads

    // 0 Chat, 1 Models, 2 Local API, 3 Settings, 4 Documents.
    property int currentPage: 0

    width: 960
    height: 640
    visible: true
    title: qsTr("Folio")

    component NavButton: Button {
        required property int page
        Layout.fillWidth: true
        flat: true
        checkable: true
        checked: window.currentPage === page
        focusPolicy: Qt.StrongFocus
        // Qt 6.4 gives a checkable button the CheckBox role (Accessible.role cannot change it):
        // the current page is the checked one.
        Accessible.name: qsTr("%1 page").arg(text)
        Accessible.description: qsTr("Ctrl+%1").arg(page + 1)
        ToolTip.visible: hovered
        ToolTip.text: qsTr("%1 (Ctrl+%2)").arg(text).arg(page + 1)
        onClicked: window.currentPage = page
    }

    Shortcut { sequence: "Ctrl+1"; onActivated: window.currentPage = 0 }
    Shortcut { sequence: "Ctrl+2"; onActivated: window.currentPage = 1 }
    Shortcut { sequence: "Ctrl+3"; onActivated: window.currentPage = 2 }
    Shortcut { sequence: "Ctrl+4"; onActivated: window.currentPage = 3 }
    Shortcut { sequence: "Ctrl+5"; onActivated: window.currentPage = 4 }

    RowLayout {
        anchors.fill: parent
        spacing: 0

        Pane {
            objectName: "navBar"
            Layout.preferredWidth: 104
            Layout.fillHeight: true
            padding: 4
            Accessible.role: Accessible.PageTabList
            Accessible.name: qsTr("Pages")

            ColumnLayout {
                anchors.fill: parent
                spacing: 2

                NavButton { objectName: "navChat"; page: 0; text: qsTr("Chat") }
                NavButton { objectName: "navModels"; page: 1; text: qsTr("Models") }
                NavButton { objectName: "navLocalApi"; page: 2; text: qsTr("Local API") }
                NavButton { objectName: "navSettings"; page: 3; text: qsTr("Settings") }
                NavButton { objectName: "navDocuments"; page: 4; text: qsTr("Documents") }
                Item { Layout.fillHeight: true }
            }
        }

        ToolSeparator {
            Layout.fillHeight: true
            orientation: Qt.Vertical
            padding: 0
        }

        StackLayout {
            objectName: "pages"
            Layout.fillWidth: true
            Layout.fillHeight: true
            currentIndex: window.currentPage

            ChatPage {
                objectName: "chatPage"
                client: window.client
                conversations: window.conversations
                messages: window.messages
                chatSettings: conversationSettings
            }
            ModelsPage {
                objectName: "modelsPage"
                library: window.library
                hubSearch: window.hubSearch
                quants: window.quants
                downloads: window.downloads
                desktopApp: desktop
            }
            // Pages written elsewhere; a missing file only leaves its page empty.
            Loader {
                objectName: "localApiLoader"
                source: "LocalApiPage.qml"
            }
            Loader {
                objectName: "settingsLoader"
                source: "SettingsPage.qml"
            }
            Loader {
                objectName: "documentsLoader"
                source: "DocumentsPage.qml"
            }
        }
    }
}
