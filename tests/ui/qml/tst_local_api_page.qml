// LocalApiPage (qrc:/folio/LocalApiPage.qml) with the `localApi` LocalApiController serving
// stories260K from EngineClient; a client (XMLHttpRequest) calls the API while it is on.
import QtQuick
import QtTest
import "pages.js" as Pages

Item {
    id: root
    width: 1000
    height: 800

    TestCase {
        id: testCase
        name: "LocalApiPage"
        when: windowShown

        property Component page: Qt.createComponent("qrc:/folio/LocalApiPage.qml")

        function createPage() {
            compare(page.status, Component.Ready, page.errorString());
            const p = createTemporaryObject(page, root, {
                width: root.width,
                height: root.height
            });
            verify(p, "LocalApiPage is created");
            return p;
        }

        // An HTTP request as a client would send it; the finished XMLHttpRequest.
        function request(method, url, key, body) {
            const xhr = new XMLHttpRequest();
            xhr.open(method, url);
            if (key !== "")
                xhr.setRequestHeader("Authorization", "Bearer " + key);
            xhr.setRequestHeader("Content-Type", "application/json");
            xhr.send(body ? JSON.stringify(body) : "");
            tryVerify(() => xhr.readyState === XMLHttpRequest.DONE, 30000, method + " " + url);
            return xhr;
        }

        function initTestCase() {
            tryVerify(() => client.modelReady, 60000, "stories260K loads");
        }

        function cleanupTestCase() {
            if (localApi.running)
                localApi.stop(0);
            tryVerify(() => !localApi.running && !localApi.busy, 20000);
        }

        function test_switchOnServeAndOff() {
            const p = createPage();
            const toggle = findChild(p, "apiSwitch");
            const status = findChild(p, "apiStatusLabel");
            const portField = findChild(p, "portField");
            const keyField = findChild(p, "apiKeyField");
            const requests = findChild(p, "requestCountLabel");
            const speed = findChild(p, "tokensPerSecondLabel");
            const snippet = findChild(p, "snippetArea");
            verify(toggle && status && portField && keyField && requests && speed && snippet);

            // Off, ready to start: a model is loaded and a key was generated.
            verify(!toggle.checked);
            tryVerify(() => toggle.enabled, 10000, "the switch can be turned on");
            compare(status.text, "");
            verify(keyField.text.startsWith("folio-"), "a key is shown");
            compare(keyField.echoMode, TextInput.Password);
            compare(requests.text, "0");

            // A free port through the port field (Return applies it).
            const port = testSupport.freePort();
            verify(port > 0);
            Pages.retype(testCase, portField, String(port), true);
            compare(localApi.port, port);
            compare(portField.text, String(port));
            const base = "http://127.0.0.1:" + port + "/v1";
            verify(snippet.text.indexOf(base) >= 0, "the plugin configuration names " + base);

            // On: the status says where it listens; the settings lock while it runs.
            Pages.click(testCase, toggle);
            Pages.waitUntil(testCase, () => localApi.running, 20000,
                            () => "the server did not start: " + localApi.lastError);
            verify(toggle.checked);
            compare(status.text, "Listening on " + base);
            verify(!portField.enabled && !keyField.enabled);
            verify(!findChild(p, "apiErrorLabel").visible);

            // A client lists the model and completes a prompt with the key; one without is refused.
            const key = keyField.text;
            const models = request("GET", base + "/models", key);
            compare(models.status, 200);
            compare(JSON.parse(models.responseText).data[0].id, "stories260K");
            compare(request("GET", base + "/models", "").status, 401);
            const completion = request("POST", base + "/completions", key, {
                model: "stories260K",
                prompt: "Once upon a time",
                max_tokens: 8
            });
            compare(completion.status, 200, completion.responseText);
            verify(JSON.parse(completion.responseText).choices[0].text.length > 0);

            // The page counts them and shows the speed.
            tryCompare(requests, "text", "3", 10000);
            Pages.waitUntil(testCase,
                            () => speed.text !== "0.0 tokens/s" && /tokens\/s$/.test(speed.text),
                            10000, () => "no speed is shown: " + speed.text);

            // Off again: the port is free and the settings unlock.
            // (The client's idle keep-alive connection holds the stop for up to the server's
            // keep_alive_timeout, 5 s.)
            Pages.click(testCase, toggle);
            tryVerify(() => !localApi.running && !localApi.busy, 20000, "the server stops");
            verify(!toggle.checked);
            compare(status.text, "");
            verify(portField.enabled && keyField.enabled);
            compare(speed.text, "0.0 tokens/s");
        }

        function test_showAndGenerateKey() {
            const p = createPage();
            const keyField = findChild(p, "apiKeyField");
            const show = findChild(p, "showKeyCheck");
            const generate = findChild(p, "generateKeyButton");
            tryVerify(() => !localApi.busy);
            const before = keyField.text;
            Pages.click(testCase, show);
            compare(keyField.echoMode, TextInput.Normal);
            verify(generate.enabled);
            Pages.click(testCase, generate);
            verify(keyField.text !== before, "a new key is shown");
            verify(keyField.text.startsWith("folio-"));
            compare(localApi.apiKey, keyField.text);
            Pages.click(testCase, show);
            compare(keyField.echoMode, TextInput.Password);
        }
    }
}
