// SettingsPage (qrc:/folio/SettingsPage.qml) with the `settings` SettingsController over the
// test's library and config file; testSupport.persistedSetting() reads back what was saved
// through a fresh controller.
import QtQuick
import QtTest
import "pages.js" as Pages

Item {
    id: root
    width: 1000
    height: 900

    TestCase {
        id: testCase
        name: "SettingsPage"
        when: windowShown

        property Component page: Qt.createComponent("qrc:/folio/SettingsPage.qml")

        function createPage() {
            compare(page.status, Component.Ready, page.errorString());
            const p = createTemporaryObject(page, root, {
                width: root.width,
                height: root.height
            });
            verify(p, "SettingsPage is created");
            return p;
        }

        function initTestCase() {
            // Engine settings count as applied once the model loaded (no notice before a change).
            tryVerify(() => client.modelReady, 60000, "stories260K loads");
            tryVerify(() => !settings.reloadRequired);
        }

        function test_1_threadsAndTemperature() {
            const p = createPage();
            const threads = findChild(p, "threadsSpin");
            const slider = findChild(p, "temperatureSlider");
            const notice = findChild(p, "settingsNotice");
            verify(threads && slider && notice);

            // Threads: "Auto" (all cores) until the up arrow is clicked.
            compare(settings.threads, 0);
            compare(threads.value, 0);
            verify(Pages.shows(threads, "Auto"));
            verify(!notice.visible);
            Pages.click(testCase, threads.up.indicator);
            compare(threads.value, 1);
            compare(settings.threads, 1);
            compare(testSupport.persistedSetting("threads"), 1);
            verify(Pages.shows(threads, "1"));
            // An engine setting applies at the next model load: the page says so.
            verify(settings.reloadRequired);
            verify(notice.visible);
            verify(notice.text.indexOf("Reload the model") >= 0, notice.text);

            // Temperature: a click a quarter along the slider (0..2), then one step right.
            fuzzyCompare(settings.temperature, 0.8, 1e-9);
            verify(Pages.shows(p, "Temperature: 0.80"));
            tryVerify(() => Pages.settled(testCase, slider));
            const x = slider.leftPadding + slider.handle.width / 2
                      + 0.25 * (slider.availableWidth - slider.handle.width);
            mouseClick(slider, x, slider.height / 2);
            fuzzyCompare(settings.temperature, 0.5, 0.05);
            verify(slider.activeFocus);
            const clicked = settings.temperature;
            keyClick(Qt.Key_Right);
            fuzzyCompare(settings.temperature, clicked + 0.05, 1e-6);
            fuzzyCompare(slider.value, settings.temperature, 1e-9);
            verify(Pages.shows(p, "Temperature: " + settings.temperature.toFixed(2)));
            fuzzyCompare(testSupport.persistedSetting("temperature"), settings.temperature, 1e-5);
        }

        function test_2_invalidInputIsRejected() {
            const p = createPage();
            const threads = findChild(p, "threadsSpin");
            const maxTokens = findChild(p, "maxTokensSpin");
            const folder = findChild(p, "dataFolderField");
            const error = findChild(p, "settingsErrorLabel");
            verify(threads && maxTokens && folder && error);
            verify(!error.visible);

            // More threads than cores: never taken beyond maxThreads.
            Pages.retype(testCase, threads.contentItem, "99", true);
            verify(settings.threads <= settings.maxThreads, settings.threads);
            verify(threads.value <= settings.maxThreads, threads.value);
            compare(testSupport.persistedSetting("threads"), settings.threads);

            // Zero tokens per reply: at least 1 stays.
            Pages.retype(testCase, maxTokens.contentItem, "0", true);
            verify(settings.maxTokens >= 1, settings.maxTokens);
            compare(testSupport.persistedSetting("maxTokens"), settings.maxTokens);

            // The controller refuses what the controls would not produce.
            const temperature = settings.temperature;
            settings.temperature = 5;
            compare(settings.temperature, temperature);
            settings.theme = "purple";
            compare(settings.theme, "system");

            // A relative data folder: refused with a message, nothing saved.
            const dataDir = settings.dataFolder;
            compare(dataDir, testSupport.dataDir);
            Pages.retype(testCase, folder, "relative/folder", true);
            tryVerify(() => error.visible);
            verify(error.text.indexOf("full path") >= 0, error.text);
            compare(settings.dataFolder, dataDir);
            compare(testSupport.persistedSetting("dataFolder"), dataDir);
            verify(!settings.restartRequired);

            // An absolute one is taken, remembered, and asks for a restart.
            const next = testSupport.dataDir + "/next";
            Pages.retype(testCase, folder, next, true);
            compare(settings.dataFolder, next);
            tryVerify(() => !error.visible);
            compare(testSupport.persistedSetting("dataFolder"), next);
            verify(settings.restartRequired);
            verify(findChild(p, "settingsNotice").text.indexOf("Restart") >= 0);
        }

        function test_3_restoreDefaults() {
            const p = createPage();
            verify(settings.threads !== 0 || settings.restartRequired, "earlier tests changed it");
            Pages.click(testCase, findChild(p, "resetSettingsButton"));
            compare(settings.threads, 0);
            fuzzyCompare(settings.temperature, 0.8, 1e-9);
            compare(settings.dataFolder, testSupport.dataDir);
            compare(testSupport.persistedSetting("threads"), 0);
            fuzzyCompare(testSupport.persistedSetting("temperature"), 0.8, 1e-9);
            compare(testSupport.persistedSetting("dataFolder"), testSupport.dataDir);
            verify(Pages.shows(findChild(p, "threadsSpin"), "Auto"));
            verify(Pages.shows(p, "Temperature: 0.80"));
            tryVerify(() => !findChild(p, "settingsNotice").visible, 5000, "nothing to apply");
        }
    }
}
