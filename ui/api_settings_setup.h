#pragma once
// Puts the Local API and Settings pages' controllers into a QML engine, before the main QML is
// loaded: context properties `localApi` (LocalApiController) and `settings` (SettingsController),
// which LocalApiPage.qml and SettingsPage.qml use (and nothing else). Also restores the main
// window's geometry once it is created and saves it when it changes, and applies the theme now
// and whenever it changes.
#include <QString>

class QObject;
class QQmlApplicationEngine;
class EngineClient;
class SettingsController;
namespace folio::store {
class Library;
}

// `client` and `library` (may be null) must outlive `parent`, which owns both controllers.
// `configFile`: where the data folder is remembered (SettingsController); empty: nowhere.
// Returns the settings controller.
SettingsController* registerApiAndSettings(QQmlApplicationEngine& qml, EngineClient* client,
                                           folio::store::Library* library, QObject* parent,
                                           const QString& configFile = {});
