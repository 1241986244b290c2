// The Documents page: open a .txt or .md file, summarize it, list its key points or ask a
// question about it; one row per run with its progress, Cancel, the result and Export (Markdown).
// Uses only the `documents` context property (DocumentProcessor; its `jobs` list model).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

Page {
    id: page
    objectName: "documentsPage"
    title: qsTr("Documents")
    Accessible.name: title

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
                placeholderText: qsTr("Path of a .txt or .md file")
                Accessible.name: qsTr("Document path")
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
                text: qsTr("Open and run")
                enabled: pathField.text.trim() !== ""
                         && (taskBox.currentValue !== "ask" || questionField.text.trim() !== "")
                onClicked: {
                    const id = documents.process(pathField.text, taskBox.currentValue, questionField.text)
                    status.text = id < 0 ? qsTr("Cannot run: load a model first (and give a question to ask).") : ""
                }
            }
        }
        Label {
            id: status
            visible: text !== ""
            color: "firebrick"
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
                        }
                        Button {
                            text: qsTr("Cancel")
                            visible: row.active
                            onClicked: documents.cancel(row.jobId)
                        }
                        Button {
                            text: qsTr("Export")
                            visible: row.jobState === "done"
                            onClicked: {
                                const out = row.path.replace(/\.[^./]*$/, "") + "." + row.task + ".md"
                                exported.text = documents.exportMarkdown(row.jobId, out)
                                        ? qsTr("Exported to %1").arg(out) : qsTr("Export failed")
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
                        id: exported
                        visible: text !== ""
                    }
                }
            }
        }
    }
}
