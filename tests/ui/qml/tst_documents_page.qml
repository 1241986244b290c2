// DocumentsPage (qrc:/folio/DocumentsPage.qml) with the `documents` DocumentProcessor on
// stories260K (48 answer tokens) and small text files written by the test.
import QtQuick
import QtTest
import "pages.js" as Pages

Item {
    id: root
    width: 1000
    height: 800

    TestCase {
        id: testCase
        name: "DocumentsPage"
        when: windowShown

        property Component page: Qt.createComponent("qrc:/folio/DocumentsPage.qml")
        readonly property string story: "One day Lily found a red ball in the park. She played "
            + "with the ball and was happy. Then Tom came and they played together in the sun. "
            + "At night Lily went home and told Mom about her new friend.\n"

        function createPage() {
            compare(page.status, Component.Ready, page.errorString());
            const p = createTemporaryObject(page, root, {
                width: root.width,
                height: root.height
            });
            verify(p, "DocumentsPage is created");
            return p;
        }

        // The row of the job on `title` (the newest one when there are several).
        function jobRow(jobs, title) {
            let found = null;
            tryVerify(() => {
                for (let i = 0; i < jobs.count; ++i) {
                    const item = jobs.itemAtIndex(i);
                    if (item && item.title === title)
                        found = item;
                }
                return found !== null;
            }, 10000, "a row for " + title);
            return found;
        }

        function initTestCase() {
            tryVerify(() => client.modelReady, 60000, "stories260K loads");
        }

        function test_1_summarizeATextFile() {
            const path = testSupport.writeTextFile("lily.txt", story);
            verify(path !== "");
            const p = createPage();
            const pathField = findChild(p, "documentPath");
            const task = findChild(p, "documentTask");
            const question = findChild(p, "documentQuestion");
            const run = findChild(p, "documentRun");
            const jobs = findChild(p, "documentJobs");
            verify(pathField && task && question && run && jobs);

            verify(!run.enabled, "nothing to run without a file");
            compare(task.currentValue, "summarize");
            verify(!question.enabled, "no question for a summary");
            const before = jobs.count;

            Pages.retype(testCase, pathField, path, false);
            compare(pathField.text, path);
            verify(run.enabled);
            Pages.click(testCase, run);
            tryCompare(jobs, "count", before + 1);

            // The run's row: title, task and state, then its result once done.
            const row = jobRow(jobs, "lily");
            verify(Pages.shows(row, "lily — summarize ("));
            Pages.waitUntil(testCase, () => Pages.shows(row, "lily — summarize (done)"), 60000,
                            () => "the summary did not finish: " + Pages.texts(row));
            compare(row.progress, 1);
            compare(row.chunksDone, row.chunksTotal);
            verify(row.chunksTotal >= 1);
            compare(row.error, "");
            verify(row.result.trim() !== "", "a summary");
            const shown = Pages.find(row, it => it.readOnly === true && it.text === row.result);
            verify(shown, "the summary is shown");
            verify(!Pages.find(row, it => it.text === "Cancel"), "nothing to cancel once done");

            // Export: a save dialog suggests <title>.summarize.md beside the document (Qt's own
            // dialog, when Qt.labs.folderlistmodel is there; without it the page writes there).
            Pages.click(testCase, Pages.button(row, "Export"));
            const out = path.replace(/\.txt$/, ".summarize.md");
            const dialog = findChild(p, "documentExportDialog");
            if (dialog) {
                tryVerify(() => dialog.visible, 5000, "the save dialog opens");
                compare(decodeURIComponent(dialog.selectedFile.toString()), "file://" + out);
                // Its accept button, in the window's overlay (Qt 6.4 labels it Open, later Save).
                const save = Pages.button(root.parent, "Save") || Pages.button(root.parent, "Open");
                verify(save, "the dialog can be accepted: " + Pages.texts(root.parent));
                Pages.click(testCase, save);
                tryVerify(() => !dialog.visible, 5000, "the dialog closes");
            }
            tryVerify(() => Pages.shows(row, "Exported to " + out));
            const markdown = testSupport.readTextFile(out);
            verify(markdown.indexOf(row.result.trim()) >= 0, markdown);
        }

        function test_2_askAQuestion() {
            const path = testSupport.writeTextFile("tom.txt", story);
            const p = createPage();
            const pathField = findChild(p, "documentPath");
            const task = findChild(p, "documentTask");
            const question = findChild(p, "documentQuestion");
            const run = findChild(p, "documentRun");
            const jobs = findChild(p, "documentJobs");

            // "Ask a question" from the task list, by keyboard in its popup.
            Pages.click(testCase, task);
            tryVerify(() => task.popup.opened);
            keyClick(Qt.Key_Down);
            keyClick(Qt.Key_Down);
            keyClick(Qt.Key_Return);
            tryVerify(() => !task.popup.visible);
            compare(task.currentValue, "ask");
            verify(question.enabled);

            Pages.retype(testCase, pathField, path, false);
            verify(!run.enabled, "a question is needed to ask");
            Pages.retype(testCase, question, "Who found the ball?", false);
            verify(run.enabled);
            Pages.click(testCase, run);

            const row = jobRow(jobs, "tom");
            verify(Pages.shows(row, "Question: Who found the ball?"));
            Pages.waitUntil(testCase, () => Pages.shows(row, "tom — ask (done)"), 60000,
                            () => "no answer came: " + Pages.texts(row));
            verify(row.result.trim() !== "", "an answer");
            compare(row.progress, 1);
        }
    }
}
