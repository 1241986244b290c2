// The Models page: the local library on the left (default model, delete); on the right the hub:
// search, a repo's quantizations with their memory fit, and the downloads in flight.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs

Item {
    id: page

    required property var library
    required property var hubSearch
    // DesktopApp (openModelFile); null where the page runs without it (tests).
    property var desktopApp: null
    required property var quants
    required property var downloads

    property int libraryRow: -1

    function fitColor(fit) {
        if (fit === "fits")
            return "#2e7d32";
        if (fit === "tight")
            return "#ef6c00";
        if (fit === "does not fit")
            return "#c62828";
        return "#757575";
    }

    RowLayout {
        anchors.fill: parent
        anchors.margins: 8
        spacing: 12

        // ---- the library ----
        ColumnLayout {
            Layout.preferredWidth: parent.width * 0.32
            Layout.fillHeight: true

            Label {
                text: qsTr("On this computer")
                font.bold: true
                font.pixelSize: 16
            }
            // First run: what Folio needs and the two ways to get it.
            Frame {
                objectName: "welcomeCard"
                visible: library.count === 0
                Layout.fillWidth: true
                // Qt 6.4's layouts miss a child hidden while the page itself is hidden (another
                // page showing); without this the library list keeps the card's space. The
                // condition, not `visible`, which also flips with the page itself.
                Layout.preferredHeight: library.count === 0 ? implicitHeight : 0
                ColumnLayout {
                    width: parent.width
                    Label {
                        text: qsTr("Welcome to Folio")
                        font.bold: true
                        font.pixelSize: 18
                    }
                    Label {
                        objectName: "libraryEmptyLabel"
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        text: qsTr("Folio runs language models on this computer; nothing you type leaves it. "
                                   + "To start, get a model: pick one from the hub (the badges say what fits "
                                   + "this machine, and a small one downloads in minutes), or open a GGUF file "
                                   + "you already have.")
                    }
                    RowLayout {
                        Button {
                            objectName: "popularModelsButton"
                            text: qsTr("Show popular models")
                            Accessible.name: text
                            highlighted: true
                            onClicked: {
                                searchField.text = "";
                                hubSearch.search("");
                            }
                        }
                        Button {
                            objectName: "openModelFileButton"
                            text: qsTr("Open a GGUF file…")
                            Accessible.name: qsTr("Open a GGUF model file")
                            visible: page.desktopApp !== null
                            onClicked: {
                                if (modelDialogLoader.item)
                                    modelDialogLoader.item.open();
                                else
                                    welcomeStatus.text = qsTr("No file dialog is available here: start folio-desktop with -m MODEL.gguf.");
                            }
                        }
                    }
                    Label {
                        id: welcomeStatus
                        objectName: "welcomeStatus"
                        visible: text !== ""
                        Layout.fillWidth: true
                        wrapMode: Text.Wrap
                        color: "firebrick"
                    }
                }
            }
            ListView {
                id: libraryView
                objectName: "libraryView"
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: library
                currentIndex: page.libraryRow
                Accessible.name: qsTr("Models on this computer")
                delegate: ItemDelegate {
                    required property int index
                    required property string name
                    required property string sizeText
                    required property string weightType
                    required property string architecture
                    required property var contextLength
                    required property bool isDefault
                    width: ListView.view.width
                    highlighted: index === page.libraryRow
                    Accessible.name: name + (isDefault ? qsTr(", default") : "")
                    onClicked: page.libraryRow = index
                    contentItem: ColumnLayout {
                        spacing: 2
                        RowLayout {
                            Label {
                                Layout.fillWidth: true
                                text: name
                                font.bold: true
                                elide: Text.ElideRight
                            }
                            Label {
                                visible: isDefault
                                text: qsTr("★ default")
                                color: palette.link
                            }
                        }
                        Label {
                            Layout.fillWidth: true
                            elide: Text.ElideRight
                            font.pixelSize: 12
                            text: [weightType, architecture,
                                   contextLength > 0 ? qsTr("%1 ctx").arg(contextLength) : "",
                                   sizeText].filter(s => s !== "").join(" · ")
                        }
                    }
                }
            }
            Label {
                visible: library.error !== ""
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: "#c62828"
                text: library.error
            }
            RowLayout {
                Button {
                    objectName: "setDefaultButton"
                    text: qsTr("Use by default")
                    Accessible.name: qsTr("Use the selected model by default")
                    enabled: page.libraryRow >= 0 && page.libraryRow < library.count
                    onClicked: library.setDefault(page.libraryRow)
                }
                Button {
                    objectName: "deleteModelButton"
                    text: qsTr("Delete")
                    Accessible.name: qsTr("Delete the selected model")
                    enabled: page.libraryRow >= 0 && page.libraryRow < library.count
                    onClicked: {
                        library.removeModel(page.libraryRow);
                        page.libraryRow = -1;
                    }
                }
            }
        }

        ToolSeparator {
            Layout.fillHeight: true
            orientation: Qt.Vertical
        }

        // ---- the hub ----
        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true

            Label {
                text: qsTr("Get models")
                font.bold: true
                font.pixelSize: 16
            }
            RowLayout {
                Layout.fillWidth: true
                TextField {
                    id: searchField
                    objectName: "hubSearchField"
                    Layout.fillWidth: true
                    placeholderText: qsTr("Search GGUF models on the hub")
                    Accessible.name: qsTr("Search text for the hub")
                    onAccepted: hubSearch.search(text)
                }
                Button {
                    objectName: "hubSearchButton"
                    text: qsTr("Search")
                    Accessible.name: qsTr("Search the hub")
                    enabled: !hubSearch.busy
                    onClicked: hubSearch.search(searchField.text)
                }
                BusyIndicator {
                    running: hubSearch.busy || quants.busy
                    Accessible.name: qsTr("Working")
                    Layout.preferredHeight: 28
                    Layout.preferredWidth: 28
                }
            }
            Label {
                visible: hubSearch.error !== ""
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: "#c62828"
                text: hubSearch.error
            }
            ListView {
                id: resultsView
                objectName: "hubResultsView"
                Layout.fillWidth: true
                Layout.preferredHeight: 120
                clip: true
                model: hubSearch
                Accessible.name: qsTr("Search results")
                delegate: ItemDelegate {
                    required property string repo
                    required property var downloads
                    required property var likes
                    width: ListView.view.width
                    highlighted: repo === quants.repo
                    text: qsTr("%1   ↓%2  ♥%3").arg(repo).arg(downloads).arg(likes)
                    Accessible.name: repo
                    onClicked: quants.load(repo)
                }
            }

            Label {
                visible: quants.repo !== ""
                Layout.fillWidth: true
                elide: Text.ElideRight
                font.bold: true
                text: quants.availableBytes > 0
                      ? qsTr("%1 — memory at %2 tokens, %3 available")
                            .arg(quants.repo).arg(quants.contextLength)
                            .arg(Qt.locale().formattedDataSize(quants.availableBytes))
                      : quants.repo
            }
            Label {
                visible: quants.error !== ""
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                color: "#c62828"
                text: quants.error
            }
            ListView {
                objectName: "quantsView"
                Layout.fillWidth: true
                Layout.fillHeight: true
                clip: true
                model: quants
                Accessible.name: qsTr("Quantizations")
                delegate: ItemDelegate {
                    id: quantRow
                    required property int index
                    required property string quant
                    required property string sizeText
                    required property string memoryText
                    required property string fit
                    required property bool recommended
                    required property bool complete
                    width: ListView.view.width
                    Accessible.name: qsTr("%1, %2, needs %3, %4").arg(quant).arg(sizeText)
                                         .arg(memoryText).arg(fit)
                    contentItem: RowLayout {
                        Label {
                            Layout.preferredWidth: 64
                            text: quant
                            font.bold: true
                        }
                        Label {
                            Layout.preferredWidth: 72
                            text: sizeText
                        }
                        Label {
                            Layout.preferredWidth: 122
                            text: qsTr("needs %1").arg(memoryText)
                        }
                        Rectangle {
                            radius: 4
                            color: page.fitColor(quantRow.fit)
                            implicitWidth: fitLabel.implicitWidth + 10
                            implicitHeight: fitLabel.implicitHeight + 4
                            Label {
                                id: fitLabel
                                anchors.centerIn: parent
                                text: quantRow.fit
                                color: "white"
                                font.pixelSize: 11
                            }
                        }
                        Label {
                            visible: recommended
                            text: qsTr("recommended")
                            color: "#2e7d32"
                            font.italic: true
                            font.pixelSize: 11
                        }
                        Item { Layout.fillWidth: true }
                        Button {
                            text: qsTr("Download")
                            Accessible.name: qsTr("Download %1").arg(quant)
                            enabled: complete
                            onClicked: downloads.pullQuant(quants, quantRow.index)
                        }
                    }
                }
            }

            Label {
                visible: downloads.count > 0
                text: qsTr("Downloads")
                font.bold: true
            }
            ListView {
                objectName: "downloadsView"
                visible: downloads.count > 0
                Layout.fillWidth: true
                Layout.preferredHeight: Math.min(contentHeight, 150)
                clip: true
                model: downloads
                Accessible.name: qsTr("Downloads")
                delegate: Frame {
                    id: downloadRow
                    required property int index
                    required property string label
                    required property real progress
                    required property string detail
                    required property string state
                    required property string error
                    required property bool canCancel
                    required property bool canResume
                    width: ListView.view.width
                    RowLayout {
                        anchors.fill: parent
                        ColumnLayout {
                            Layout.fillWidth: true
                            Label {
                                Layout.fillWidth: true
                                elide: Text.ElideRight
                                text: downloadRow.label + "  (" + downloadRow.state + ")"
                            }
                            ProgressBar {
                                Layout.fillWidth: true
                                value: downloadRow.progress
                                Accessible.name: qsTr("Progress of %1").arg(downloadRow.label)
                            }
                            Label {
                                Layout.fillWidth: true
                                elide: Text.ElideRight
                                font.pixelSize: 11
                                text: downloadRow.error !== "" ? downloadRow.error
                                                                : downloadRow.detail
                                color: downloadRow.error !== "" ? "#c62828" : palette.windowText
                            }
                        }
                        Button {
                            visible: downloadRow.canCancel
                            text: qsTr("Cancel")
                            Accessible.name: qsTr("Cancel %1").arg(downloadRow.label)
                            onClicked: downloads.cancel(downloadRow.index)
                        }
                        Button {
                            visible: downloadRow.canResume
                            text: qsTr("Resume")
                            Accessible.name: qsTr("Resume %1").arg(downloadRow.label)
                            onClicked: downloads.resume(downloadRow.index)
                        }
                        Button {
                            // A paused or failed download is discarded (its partial file goes).
                            readonly property bool discards: downloadRow.state !== "done"
                            visible: !downloadRow.canCancel
                            text: discards ? qsTr("Discard") : qsTr("Dismiss")
                            Accessible.name: discards
                                             ? qsTr("Discard the partial download of %1")
                                                   .arg(downloadRow.label)
                                             : qsTr("Dismiss %1").arg(downloadRow.label)
                            onClicked: downloads.dismiss(downloadRow.index)
                        }
                    }
                }
            }
        }
    }

    Loader {
        id: modelDialogLoader
        active: page.desktopApp !== null
        sourceComponent: FileDialog {
            objectName: "modelFileDialog"
            title: qsTr("Open a GGUF model")
            fileMode: FileDialog.OpenFile
            nameFilters: [qsTr("GGUF models (*.gguf)")]
            onAccepted: welcomeStatus.text = page.desktopApp.openModelFile(selectedFile.toString())
        }
    }
}
