#pragma once
// Puts the Local API and Settings pages' controllers into a QML engine, before the main QML is
// loaded: context properties `localApi` (LocalApiController) and `settings` (SettingsController),
// which LocalApiPage.qml and SettingsPage.qml use (and nothing else). Also restores the main
// window's geometry once it is created and saves it when it changes.
class QObject;
class QQmlApplicationEngine;
class EngineClient;
namespace folio::store {
class Library;
}

// `client` and `library` (may be null) must outlive `parent`, which owns both controllers.
void registerApiAndSettings(QQmlApplicationEngine& qml, EngineClient* client,
                            folio::store::Library* library, QObject* parent);
