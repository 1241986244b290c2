// The Documents page: open (Open… or drop onto the page) a .txt, .md or .pdf file, summarize it,
// list its key points or ask a question about it; one row per run with its progress, Cancel, the
// result, Export (a save dialog, Markdown) and Remove. Results stored by earlier sessions are
// listed first. Uses only the `documents` context property (DocumentProcessor; its `jobs` model).
import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts

Page {
    id: page
    objectName: "documentsPage"
    title: qsTr("Documents")
    Accessible.name: title

    readonly property bool runnable: taskBox.currentValue !== "ask" || questionField.text.trim() !== ""

    // Starts a run of the chosen task on `path`; false (and the reason shown) when refused.
    function run(path) {
        const id = documents.process(path, taskBox.currentValue, questionField.text)
        status.text = id < 0 ? documents.lastError : ""
        return id >= 0
    }

    // Files chosen or dropped (URLs): one goes into the path field; several start a run each
    // when the task can run, else the first goes into the field.
    function openFiles(urls) {
        const paths = documents.supportedPaths(urls)
        if (paths.length === 0) {
            status.text = qsTr("Folio reads .txt, .md and .pdf documents.")
            return
        }
        status.text = ""
        if (paths.length > 1 && page.runnable) {
            for (let i = 0; i < paths.length; ++i)
                page.run(paths[i])
            return
        }
        pathField.text = paths[0]
    }

    function localPath(url) {
        return decodeURIComponent(url.toString().replace(/^file:\/\//, ""))
    }

    // Qt's own file dialog needs Qt.labs.folderlistmodel (qml6-module-qt-labs-folderlistmodel);
    // without it Qt 6.4 fails to create the dialog, and may crash opening it. Then Open says so
    // and Export writes the suggested file.
    readonly property bool fileDialogs: {
        try {
            Qt.createQmlObject("import Qt.labs.folderlistmodel\nFolderListModel {}", page,
                               "folderListProbe").destroy()
            return true
        } catch (e) {
            return false
        }
    }

    function openDocument() {
        if (openLoader.item)
            openLoader.item.open()
        else
            status.text = qsTr("No file dialog is available here: type the path or drop the file on this page.")
    }

    // Writes the row's result as Markdown at `url` (file URL) and tells the row.
    function exportTo(row, url) {
        const out = page.localPath(url)
        row.exportMessage = documents.exportMarkdown(row.jobId, out) ? qsTr("Exported to %1").arg(out)
                                                                     : qsTr("Export to %1 failed").arg(out)
    }

    // Asks where to write the row's result, suggesting "<title>.<task>.md" beside the document.
    function exportJob(row) {
        const suggestion = documents.exportSuggestion(row.jobId).toString()
        const dialog = exportLoader.item
        if (!dialog) {
            page.exportTo(row, suggestion)
            return
        }
        dialog.row = row
        dialog.currentFolder = suggestion.substring(0, suggestion.lastIndexOf("/"))
        dialog.selectedFile = suggestion
        dialog.open()
    }

    Loader {
        id: openLoader
        active: page.fileDialogs
        sourceComponent: FileDialog {
            objectName: "documentOpenDialog"
            title: qsTr("Open a document")
            fileMode: FileDialog.OpenFile
            nameFilters: documents.nameFilters
            onAccepted: page.openFiles([selectedFile])
        }
    }

    Loader {
        id: exportLoader
        active: page.fileDialogs
        sourceComponent: FileDialog {
            objectName: "documentExportDialog"
            title: qsTr("Export as Markdown")
            fileMode: FileDialog.SaveFile
            defaultSuffix: "md"
            nameFilters: [qsTr("Markdown (*.md)")]
            property Item row: null  // the delegate that asked
            onAccepted: {
                if (row)
                    page.exportTo(row, selectedFile)
            }
        }
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 16
        spacing: 8

        Label {
            text: qsTr("Documents")
            font.bold: true
            font.pixelSize: 20
        }
        RowLayout {
            Layout.fillWidth: true
            TextField {
                id: pathField
                objectName: "documentPath"
                Layout.fillWidth: true
                placeholderText: qsTr("Path of a .txt, .md or .pdf file (or drop one here)")
                Accessible.name: qsTr("Document path")
            }
            Button {
                objectName: "documentOpen"
                text: qsTr("Open…")
                Accessible.name: qsTr("Open a document")
                onClicked: page.openDocument()
            }
            ComboBox {
                id: taskBox
                objectName: "documentTask"
                textRole: "label"
                valueRole: "task"
                model: [
                    { label: qsTr("Summarize"), task: "summarize" },
                    { label: qsTr("Key points"), task: "keypoints" },
                    { label: qsTr("Ask a question"), task: "ask" }
                ]
                Accessible.name: qsTr("Task")
            }
        }
        RowLayout {
            Layout.fillWidth: true
            TextField {
                id: questionField
                objectName: "documentQuestion"
                Layout.fillWidth: true
                enabled: taskBox.currentValue === "ask"
                placeholderText: qsTr("Question (for Ask a question)")
                Accessible.name: qsTr("Question")
            }
            Button {
                objectName: "documentRun"
                text: qsTr("Run")
                enabled: pathField.text.trim() !== "" && page.runnable
                onClicked: page.run(pathField.text)
            }
        }
        Label {
            id: status
            objectName: "documentStatus"
            visible: text !== ""
            color: "firebrick"
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        Label {
            visible: list.count === 0
            text: qsTr("Open or drop a .txt, .md or .pdf file, pick a task and Run.")
            opacity: 0.7
        }

        ListView {
            id: list
            objectName: "documentJobs"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            spacing: 12
            model: documents.jobs
            delegate: Frame {
                id: row
                required property int jobId
                required property string title
                required property string path
                required property string task
                required property string question
                required property string jobState
                required property double progress
                required property int chunksDone
                required property int chunksTotal
                required property string result
                required property string error
                property string exportMessage: ""
                width: ListView.view.width
                readonly property bool active: jobState === "reading" || jobState === "running" || jobState === "combining"

                ColumnLayout {
                    anchors.fill: parent
                    RowLayout {
                        Layout.fillWidth: true
                        Label {
                            text: row.title + " — " + row.task + " (" + row.jobState + ")"
                            font.bold: true
                            Layout.fillWidth: true
                            elide: Text.ElideRight
                            ToolTip.text: row.path
                            ToolTip.visible: hover.hovered
                            HoverHandler { id: hover }
                        }
                        Button {
                            text: qsTr("Cancel")
                            visible: row.active
                            onClicked: documents.cancel(row.jobId)
                        }
                        Button {
                            text: qsTr("Export")
                            visible: row.jobState === "done"
                            onClicked: page.exportJob(row)
                        }
                        Button {
                            text: qsTr("Remove")
                            visible: !row.active
                            Accessible.name: qsTr("Remove %1").arg(row.title)
                            onClicked: {
                                if (!documents.remove(row.jobId))
                                    status.text = documents.lastError
                            }
                        }
                    }
                    Label {
                        visible: row.question !== ""
                        text: qsTr("Question: %1").arg(row.question)
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                    }
                    ProgressBar {
                        Layout.fillWidth: true
                        value: row.progress
                        indeterminate: row.jobState === "reading" || row.jobState === "combining"
                        visible: row.active
                        Accessible.name: qsTr("%1 of %2 chunks").arg(row.chunksDone).arg(row.chunksTotal)
                    }
                    TextArea {
                        Layout.fillWidth: true
                        readOnly: true
                        wrapMode: Text.Wrap
                        visible: row.result !== "" || row.error !== ""
                        text: row.error !== "" ? row.error : row.result
                    }
                    Label {
                        visible: row.exportMessage !== ""
                        text: row.exportMessage
                        wrapMode: Text.Wrap
                        Layout.fillWidth: true
                    }
                }
            }
        }
    }

    // Files dragged onto the page (from a file manager).
    DropArea {
        id: dropArea
        objectName: "documentDrop"
        anchors.fill: parent
        onEntered: drag => {
            drag.accepted = drag.hasUrls && documents.supportedPaths(drag.urls).length > 0
        }
        onDropped: drop => {
            page.openFiles(drop.urls)
            drop.acceptProposedAction()
        }
    }
    Rectangle {
        anchors.fill: parent
        visible: dropArea.containsDrag
        color: "transparent"
        border.color: palette.highlight
        border.width: 3
        radius: 4
    }
}
