#include "api_settings_setup.h"

#include <QPointer>
#include <QQmlApplicationEngine>
#include <QQmlContext>
#include <QQuickWindow>
#include <QTimer>

#include "engine_client.h"
#include "local_api_controller.h"
#include "settings_controller.h"

namespace {

constexpr int kGeometrySaveDelayMs = 500;

void rememberGeometry(QQuickWindow* window, SettingsController* settings) {
    settings->restoreWindowGeometry(window);
    auto* timer = new QTimer(settings);
    timer->setSingleShot(true);
    timer->setInterval(kGeometrySaveDelayMs);
    QPointer<QQuickWindow> guard(window);
    QObject::connect(timer, &QTimer::timeout, settings, [guard, settings] {
        if (guard) settings->saveWindowGeometry(guard);
    });
    const auto later = [timer] { timer->start(); };
    QObject::connect(window, &QWindow::xChanged, timer, later);
    QObject::connect(window, &QWindow::yChanged, timer, later);
    QObject::connect(window, &QWindow::widthChanged, timer, later);
    QObject::connect(window, &QWindow::heightChanged, timer, later);
    QObject::connect(window, &QWindow::windowStateChanged, timer, later);
}

}  // namespace

SettingsController* registerApiAndSettings(QQmlApplicationEngine& qml, EngineClient* client,
                                           folio::store::Library* library, QObject* parent,
                                           const QString& configFile) {
    auto* localApi = new LocalApiController(client, library, parent);
    auto* settings = new SettingsController(library, configFile, parent);
    qml.rootContext()->setContextProperty(QStringLiteral("localApi"), localApi);
    qml.rootContext()->setContextProperty(QStringLiteral("settings"), settings);
    // The engine settings go into every model load and count as applied once it loaded; the
    // sampling defaults go into every reply from now on.
    client->setEngineConfigurator([settings](folio::EngineConfig& c) { settings->applyTo(c); });
    QObject::connect(client, &EngineClient::modelLoaded, settings,
                     &SettingsController::markApplied);
    const auto applySampling = [client, settings] {
        folio::SamplingParams p;
        p.temperature = static_cast<float>(settings->temperature());
        p.top_p = static_cast<float>(settings->topP());
        p.max_tokens = settings->maxTokens();
        client->setSampling(p);
    };
    applySampling();
    QObject::connect(settings, &SettingsController::changed, client, applySampling);
    QObject::connect(&qml, &QQmlApplicationEngine::objectCreated, settings,
                     [settings](QObject* object, const QUrl&) {
                         if (auto* window = qobject_cast<QQuickWindow*>(object)) {
                             rememberGeometry(window, settings);
                         }
                     });
    settings->applyTheme();
    QObject::connect(settings, &SettingsController::themeChanged, settings,
                     &SettingsController::applyTheme);
    return settings;
}
