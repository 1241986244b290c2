// ModelsPage (qrc:/folio/ModelsPage.qml) against the fake hub (acme/micro-llama-GGUF in Q2_K,
// Q4_K_M, Q8_0 and F16; FOLIO_MEM_AVAILABLE fixes the memory at 32 MB) and the test's library.
import QtQuick
import QtTest
import "pages.js" as Pages

Item {
    id: root
    width: 1200
    height: 860

    TestCase {
        id: testCase
        name: "ModelsPage"
        when: windowShown

        property Component page: Qt.createComponent("qrc:/folio/ModelsPage.qml")

        function createPage() {
            compare(page.status, Component.Ready, page.errorString());
            const p = createTemporaryObject(page, root, {
                library: library,
                hubSearch: hubSearch,
                quants: quants,
                downloads: downloads,
                width: root.width,
                height: root.height
            });
            verify(p, "ModelsPage is created");
            return p;
        }

        // Searches the hub for `query` through the field and the button; the results view.
        function search(p, query) {
            const field = findChild(p, "hubSearchField");
            const button = findChild(p, "hubSearchButton");
            verify(field && button);
            Pages.retype(testCase, field, query, false);
            compare(field.text, query);
            Pages.click(testCase, button);
            tryVerify(() => !hubSearch.busy, 20000, "the search ends");
            compare(hubSearch.error, "");
            return findChild(p, "hubResultsView");
        }

        // Clicks the search result of `repo` and waits for its quantizations.
        function openRepo(p, results, repo) {
            let row = -1;
            for (let i = 0; i < results.count; ++i) {
                if (results.itemAtIndex(i) && Pages.shows(results.itemAtIndex(i), repo))
                    row = i;
            }
            verify(row >= 0, repo + " is listed");
            Pages.click(testCase, results.itemAtIndex(row));
            tryVerify(() => quants.repo === repo && !quants.busy, 20000, "the quantizations load");
            compare(quants.error, "");
            const view = findChild(p, "quantsView");
            tryCompare(view, "count", 4);
            return view;
        }

        // The quantization row showing `quant` (its first text).
        function quantRow(view, quant) {
            for (let i = 0; i < view.count; ++i) {
                const item = view.itemAtIndex(i);
                if (item && Pages.texts(item)[0] === quant)
                    return item;
            }
            return null;
        }

        function test_1_searchAndQuantizations() {
            const p = createPage();
            verify(findChild(p, "libraryEmptyLabel").visible, "the library starts empty");

            const results = search(p, "micro");
            tryCompare(results, "count", 2);
            // Most downloaded first, with the counts.
            verify(Pages.shows(results.itemAtIndex(0), "acme/micro-llama-GGUF"));
            verify(Pages.shows(results.itemAtIndex(0), "↓4321"));
            verify(Pages.shows(results.itemAtIndex(0), "♥12"));
            verify(Pages.shows(results.itemAtIndex(1), "someone/Micro-Chat-GGUF"));

            // Pick a repo: one row per quantization, best first, with size, memory and fit.
            const view = openRepo(p, results, "acme/micro-llama-GGUF");
            verify(results.itemAtIndex(0).highlighted, "the picked repo is highlighted");
            verify(Pages.shows(p, "acme/micro-llama-GGUF — memory at"), "the repo header");
            const order = Pages.rows(view).map(r => Pages.texts(r)[0]);
            compare(order, ["F16", "Q8_0", "Q4_K_M", "Q2_K"]);
            for (const quant of order) {
                const row = quantRow(view, quant);
                const t = Pages.texts(row);
                verify(t.some(s => /^needs [0-9.,]+ [kKMG]i?B$/.test(s)), quant + " shows its memory: " + t);
                verify(t.some(s => /^[0-9.,]+ [kKMG]i?B$/.test(s)), quant + " shows its size: " + t);
                verify(Pages.button(row, "Download").enabled);
            }
            // The fit badges: F16 is tight at 32 MB, the rest fit; Q8_0 is recommended.
            verify(Pages.shows(quantRow(view, "F16"), "tight"));
            for (const quant of ["Q8_0", "Q4_K_M", "Q2_K"])
                verify(Pages.texts(quantRow(view, quant)).includes("fits"), quant + " fits");
            verify(Pages.texts(quantRow(view, "Q8_0")).includes("recommended"));
            for (const quant of ["F16", "Q4_K_M", "Q2_K"])
                verify(!Pages.texts(quantRow(view, quant)).includes("recommended"), quant);

            // A search without results empties the list.
            const none = search(p, "nothing-like-this");
            tryCompare(none, "count", 0);
        }

        function test_2_downloadDefaultAndDelete() {
            const p = createPage();
            const results = search(p, "micro-llama");
            tryCompare(results, "count", 1);
            const view = openRepo(p, results, "acme/micro-llama-GGUF");

            // Download Q2_K: a row with progress that ends done, and the model in the library.
            const downloadsView = findChild(p, "downloadsView");
            verify(!downloadsView.visible);
            Pages.click(testCase, Pages.button(quantRow(view, "Q2_K"), "Download"));
            tryCompare(downloadsView, "count", 1);
            verify(downloadsView.visible);
            Pages.waitUntil(testCase, () => Pages.shows(downloadsView.itemAtIndex(0), "(done)"),
                            30000, () => "the download did not finish: "
                                         + Pages.texts(downloadsView.itemAtIndex(0)));
            verify(Pages.button(downloadsView.itemAtIndex(0), "Dismiss"));

            const libraryView = findChild(p, "libraryView");
            tryCompare(libraryView, "count", 1, 10000);
            verify(!findChild(p, "libraryEmptyLabel").visible);
            tryVerify(() => libraryView.itemAtIndex(0) !== null);
            verify(Pages.shows(libraryView.itemAtIndex(0), "micro-llama-Q2_K"));
            verify(Pages.shows(libraryView.itemAtIndex(0), "Q2_K · llama"));
            verify(!Pages.shows(libraryView.itemAtIndex(0), "default"));

            // Select it, make it the default, then delete it.
            const setDefault = findChild(p, "setDefaultButton");
            const del = findChild(p, "deleteModelButton");
            verify(!setDefault.enabled && !del.enabled, "nothing selected yet");
            Pages.click(testCase, libraryView.itemAtIndex(0));
            verify(setDefault.enabled && del.enabled);
            Pages.click(testCase, setDefault);
            tryVerify(() => libraryView.itemAtIndex(0) &&
                            Pages.shows(libraryView.itemAtIndex(0), "★ default"));
            verify(library.defaultPath.indexOf("micro-llama-Q2_K.gguf") >= 0, library.defaultPath);
            Pages.click(testCase, del);
            tryCompare(libraryView, "count", 0, 10000);
            verify(findChild(p, "libraryEmptyLabel").visible);

            // Dismiss forgets the finished download.
            Pages.click(testCase, Pages.button(downloadsView.itemAtIndex(0), "Dismiss"));
            tryCompare(downloads, "count", 0);
            verify(!downloadsView.visible);
        }
    }
}
