// Helpers shared by the page tests (tst_*.qml): walking what a page shows and typing into it.
.pragma library

// Calls f(item) for item and every visual descendant.
function walk(item, f) {
    if (!item)
        return;
    f(item);
    const kids = item.children;
    for (let i = 0; kids && i < kids.length; ++i)
        walk(kids[i], f);
}

// The text of every visible item under `item` that shows one (labels, buttons, fields).
function texts(item) {
    const out = [];
    walk(item, it => {
        if (it.visible && typeof it.text === "string" && it.text !== "")
            out.push(it.text);
    });
    return out;
}

// True when some visible text under `item` contains `needle`.
function shows(item, needle) {
    return texts(item).some(t => t.indexOf(needle) >= 0);
}

// The first visible descendant of `item` for which pred(it) holds (null when none).
function find(item, pred) {
    let found = null;
    walk(item, it => {
        if (!found && it.visible && pred(it))
            found = it;
    });
    return found;
}

// The visible button (or other control) under `item` whose text is exactly `text`.
function button(item, text) {
    return find(item, it => it.text === text && typeof it.clicked === "function");
}

// Waits up to `timeout` ms for pred() to hold; else fails with describe(), which tells the state
// at the end of the wait.
function waitUntil(testCase, pred, timeout, describe) {
    const end = Date.now() + timeout;
    while (!pred()) {
        if (Date.now() > end)
            testCase.fail(describe());
        testCase.wait(50);
    }
}

// Row `row` of a ListView once its delegate exists (delegates are created at the next polish).
function rowItem(testCase, view, row) {
    testCase.tryVerify(() => view.itemAtIndex(row) !== null, 5000,
                       view.objectName + " shows row " + row);
    return view.itemAtIndex(row);
}

// The delegates of a ListView, in row order (rows outside the viewport may be null).
function rows(view) {
    const out = [];
    for (let i = 0; i < view.count; ++i)
        out.push(view.itemAtIndex(i));
    return out;
}

// True when neither `item`, its ancestors nor its descendants wait for a polish (a layout that
// has not placed its children yet: a click now could land where a control is about to move).
function settled(testCase, item) {
    for (let it = item; it; it = it.parent) {
        if (testCase.isPolishScheduled(it))
            return false;
    }
    let ok = true;
    walk(item, it => {
        if (ok && testCase.isPolishScheduled(it))
            ok = false;
    });
    return ok;
}

// Clicks `item` once the layouts around it are settled.
function click(testCase, item) {
    testCase.verify(item, "an item to click");
    testCase.tryVerify(() => settled(testCase, item), 5000, "the layout settles");
    testCase.mouseClick(item);
}

// Types `text` into whatever has the focus, one key at a time, as a user would.
function type(testCase, text) {
    for (let i = 0; i < text.length; ++i)
        testCase.keyClick(text[i]);
}

// Clicks a text field (focusing it), selects what it holds and types `text` over it; `enter`
// presses Return at the end.
function retype(testCase, field, text, enter) {
    click(testCase, field);
    testCase.verify(field.activeFocus, "the field takes the focus when clicked");
    testCase.keyClick(Qt.Key_A, Qt.ControlModifier);
    if (text === "")
        testCase.keyClick(Qt.Key_Backspace);
    else
        type(testCase, text);
    if (enter)
        testCase.keyClick(Qt.Key_Return);
}
