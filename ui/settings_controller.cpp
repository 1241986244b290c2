#include "settings_controller.h"

#include <QColor>
#include <QDir>
#include <QFileInfo>
#include <QGuiApplication>
#include <QPalette>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryFile>
#include <QWindow>
#include <algorithm>
#include <exception>
#include <thread>

#include "folio/engine.h"
#include "folio/store.h"

namespace {

constexpr const char* kThreads = "engine.threads";
constexpr const char* kContextLength = "engine.context_length";
constexpr const char* kKvCacheMib = "engine.kv_cache_mib";
constexpr const char* kTemperature = "sampling.temperature";
constexpr const char* kTopP = "sampling.top_p";
constexpr const char* kMaxTokens = "sampling.max_tokens";
constexpr const char* kTheme = "ui.theme";
constexpr const char* kConfigDataFolder = "data/folder";  // in the config file
constexpr int kMaxContext = 1 << 20;
constexpr int kMaxKvMib = 1 << 20;  // 1 TiB

bool validTheme(const QString& t) {
    return t == u"light" || t == u"dark" || t == u"system";
}

struct Colors {
    QColor window, text, base, alternateBase, button, highlight, highlightedText, link, light,
        midlight, mid, dark, shadow, placeholder, disabledText, toolTipBase;
};

QPalette makePalette(const Colors& c) {
    QPalette p;
    p.setColor(QPalette::Window, c.window);
    p.setColor(QPalette::WindowText, c.text);
    p.setColor(QPalette::Base, c.base);
    p.setColor(QPalette::AlternateBase, c.alternateBase);
    p.setColor(QPalette::ToolTipBase, c.toolTipBase);
    p.setColor(QPalette::ToolTipText, c.text);
    p.setColor(QPalette::PlaceholderText, c.placeholder);
    p.setColor(QPalette::Text, c.text);
    p.setColor(QPalette::Button, c.button);
    p.setColor(QPalette::ButtonText, c.text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x55, 0x55));
    p.setColor(QPalette::Light, c.light);
    p.setColor(QPalette::Midlight, c.midlight);
    p.setColor(QPalette::Mid, c.mid);
    p.setColor(QPalette::Dark, c.dark);
    p.setColor(QPalette::Shadow, c.shadow);
    p.setColor(QPalette::Highlight, c.highlight);
    p.setColor(QPalette::HighlightedText, c.highlightedText);
    p.setColor(QPalette::Link, c.link);
    p.setColor(QPalette::LinkVisited, c.link);
    for (const auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
        p.setColor(QPalette::Disabled, role, c.disabledText);
    }
    p.setColor(QPalette::Disabled, QPalette::Highlight, c.mid);
    return p;
}

// An existing, writable folder at `folder` (created when missing); else why not.
QString checkWritableFolder(const QString& folder) {
    const QFileInfo info(folder);
    if (info.exists() && !info.isDir()) {
        return SettingsController::tr("%1 is a file, not a folder.").arg(folder);
    }
    if (!QDir().mkpath(folder) || !QFileInfo(folder).isDir()) {
        return SettingsController::tr("The folder %1 cannot be created.").arg(folder);
    }
    QTemporaryFile probe(QDir(folder).filePath(QStringLiteral(".folio-write-test-XXXXXX")));
    if (!probe.open()) {
        return SettingsController::tr("The folder %1 is not writable.").arg(folder);
    }
    return {};
}

}  // namespace

SettingsController::SettingsController(folio::store::Library* library, QString configFile,
                                       QObject* parent)
    : QObject(parent), m_configFile(std::move(configFile)) {
    if (library) {
        m_libraryDir = QString::fromStdString(library->data_dir().string());
        try {
            m_store = std::make_unique<folio::store::SettingsStore>(*library);
        } catch (const std::exception& e) {
            m_lastError = QString::fromUtf8(e.what());
        }
    }
    m_appliedDataFolder = m_libraryDir;
    const QString saved = savedDataFolder(m_configFile);
    m_dataFolder = saved.isEmpty() ? m_libraryDir : saved;
    load();
    markApplied();
}

SettingsController::~SettingsController() = default;

void SettingsController::load() {
    if (!m_store) return;
    try {
        auto get = [this](const char* key) {
            const auto v = m_store->get(key);
            return v ? QString::fromStdString(*v) : QString();
        };
        bool ok = false;
        int i = get(kThreads).toInt(&ok);
        if (ok && i >= 0 && i <= maxThreads()) m_threads = i;
        i = get(kContextLength).toInt(&ok);
        if (ok && i >= 0 && i <= kMaxContext) m_contextLength = i;
        i = get(kKvCacheMib).toInt(&ok);
        if (ok && i >= 0 && i <= kMaxKvMib) m_kvCacheMemoryMb = i;
        double d = get(kTemperature).toDouble(&ok);
        if (ok && d >= 0.0 && d <= 2.0) m_temperature = d;
        d = get(kTopP).toDouble(&ok);
        if (ok && d > 0.0 && d <= 1.0) m_topP = d;
        i = get(kMaxTokens).toInt(&ok);
        if (ok && i >= 1 && i <= 32768) m_maxTokens = i;
        const QString theme = get(kTheme);
        if (validTheme(theme)) m_theme = theme;
    } catch (const std::exception& e) {
        m_lastError = QString::fromUtf8(e.what());
    }
}

void SettingsController::save(const char* key, const QString& value) {
    if (m_store) {
        try {
            m_store->set(key, value.toStdString());
        } catch (const std::exception& e) {
            m_lastError = QString::fromUtf8(e.what());
        }
    }
    emit changed();
}

int SettingsController::maxThreads() const {
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

bool SettingsController::reloadRequired() const {
    return m_threads != m_appliedThreads || m_contextLength != m_appliedContextLength ||
           m_kvCacheMemoryMb != m_appliedKvCacheMemoryMb;
}

QString SettingsController::notice() const {
    QStringList parts;
    if (reloadRequired()) parts << tr("Reload the model to apply the engine settings.");
    if (restartRequired()) {
        parts << tr("Restart Folio to use the new data folder (%1 is in use until then).")
                     .arg(m_appliedDataFolder);
    }
    return parts.join(u' ');
}

void SettingsController::setError(const QString& error) {
    m_lastError = error;
    emit changed();
}

void SettingsController::setThreads(int threads) {
    if (threads < 0 || threads > maxThreads() || threads == m_threads) return;
    m_threads = threads;
    save(kThreads, QString::number(threads));
}

void SettingsController::setContextLength(int tokens) {
    if (tokens < 0 || tokens > kMaxContext || tokens == m_contextLength) return;
    m_contextLength = tokens;
    save(kContextLength, QString::number(tokens));
}

void SettingsController::setKvCacheMemoryMb(int mib) {
    if (mib < 0 || mib > kMaxKvMib || mib == m_kvCacheMemoryMb) return;
    m_kvCacheMemoryMb = mib;
    save(kKvCacheMib, QString::number(mib));
}

void SettingsController::setTemperature(double temperature) {
    if (!(temperature >= 0.0 && temperature <= 2.0) || temperature == m_temperature) return;
    m_temperature = temperature;
    save(kTemperature, QString::number(temperature));
}

void SettingsController::setTopP(double topP) {
    if (!(topP > 0.0 && topP <= 1.0) || topP == m_topP) return;
    m_topP = topP;
    save(kTopP, QString::number(topP));
}

void SettingsController::setMaxTokens(int maxTokens) {
    if (maxTokens < 1 || maxTokens > 32768 || maxTokens == m_maxTokens) return;
    m_maxTokens = maxTokens;
    save(kMaxTokens, QString::number(maxTokens));
}

void SettingsController::setTheme(const QString& theme) {
    if (!validTheme(theme) || theme == m_theme) return;
    m_theme = theme;
    save(kTheme, theme);
    emit themeChanged();
}

void SettingsController::setDataFolder(const QString& folder) {
    QString path = folder.trimmed();
    if (path == u"~" || path.startsWith(QStringLiteral("~/"))) {
        path = QDir::homePath() + path.mid(1);
    }
    if (path.isEmpty()) return setError(tr("Enter a folder for Folio's data."));
    if (!QDir::isAbsolutePath(path)) {
        return setError(tr("Enter a full path (one that starts with /), not %1.").arg(path));
    }
    const QString clean = QDir::cleanPath(path);
    if (clean == m_dataFolder) {
        if (!m_lastError.isEmpty()) setError({});
        return;
    }
    if (const QString problem = checkWritableFolder(clean); !problem.isEmpty()) {
        return setError(problem);
    }
    if (!m_configFile.isEmpty()) {
        QSettings config(m_configFile, QSettings::IniFormat);
        config.setValue(QLatin1String(kConfigDataFolder), clean);
        config.sync();
        if (config.status() != QSettings::NoError) {
            return setError(tr("The data folder cannot be remembered in %1.").arg(m_configFile));
        }
    }
    m_dataFolder = clean;
    m_lastError.clear();
    emit changed();
}

QString SettingsController::defaultConfigFile() {
    const QString env = qEnvironmentVariable("FOLIO_DESKTOP_CONFIG");
    if (!env.isEmpty()) return env;
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation);
    return QDir(dir).filePath(QStringLiteral("folio-desktop/folio-desktop.conf"));
}

QString SettingsController::savedDataFolder(const QString& configFile) {
    if (configFile.isEmpty() || !QFileInfo::exists(configFile)) return {};
    const QSettings config(configFile, QSettings::IniFormat);
    const QString folder = config.value(QLatin1String(kConfigDataFolder)).toString();
    return QDir::isAbsolutePath(folder) ? QDir::cleanPath(folder) : QString();
}

QPalette SettingsController::paletteFor(const QString& theme) {
    if (theme == u"dark") {
        return makePalette({.window = QColor(0x2d, 0x2d, 0x30),
                            .text = QColor(0xe8, 0xe8, 0xe8),
                            .base = QColor(0x1e, 0x1e, 0x20),
                            .alternateBase = QColor(0x35, 0x35, 0x38),
                            .button = QColor(0x3a, 0x3a, 0x3d),
                            .highlight = QColor(0x3d, 0x8e, 0xd8),
                            .highlightedText = Qt::white,
                            .link = QColor(0x6c, 0xb4, 0xff),
                            .light = QColor(0x55, 0x55, 0x58),
                            .midlight = QColor(0x45, 0x45, 0x48),
                            .mid = QColor(0x2a, 0x2a, 0x2c),
                            .dark = QColor(0x1a, 0x1a, 0x1c),
                            .shadow = QColor(0x10, 0x10, 0x10),
                            .placeholder = QColor(0x90, 0x90, 0x94),
                            .disabledText = QColor(0x80, 0x80, 0x84),
                            .toolTipBase = QColor(0x3a, 0x3a, 0x3d)});
    }
    if (theme == u"light") {
        return makePalette({.window = QColor(0xef, 0xef, 0xef),
                            .text = Qt::black,
                            .base = Qt::white,
                            .alternateBase = QColor(0xf7, 0xf7, 0xf7),
                            .button = QColor(0xef, 0xef, 0xef),
                            .highlight = QColor(0x30, 0x8c, 0xc6),
                            .highlightedText = Qt::white,
                            .link = QColor(0x15, 0x65, 0xc0),
                            .light = Qt::white,
                            .midlight = QColor(0xca, 0xca, 0xca),
                            .mid = QColor(0xb8, 0xb8, 0xb8),
                            .dark = QColor(0x9f, 0x9f, 0x9f),
                            .shadow = QColor(0x76, 0x76, 0x76),
                            .placeholder = QColor(0x7f, 0x7f, 0x7f),
                            .disabledText = QColor(0xbe, 0xbe, 0xbe),
                            .toolTipBase = QColor(0xff, 0xff, 0xdc)});
    }
    // "system": an empty palette resolves to the platform theme's (which follows the desktop's
    // light or dark scheme where the platform theme reports one).
    return QPalette();
}

void SettingsController::applyTheme() const {
    if (qobject_cast<QGuiApplication*>(QCoreApplication::instance())) {
        QGuiApplication::setPalette(paletteFor(m_theme));
    }
}

void SettingsController::applyTo(folio::EngineConfig& config) const {
    config.num_threads = m_threads;
    config.max_model_len = m_contextLength;
    config.kv_cache_memory = static_cast<int64_t>(m_kvCacheMemoryMb) * 1024 * 1024;
}

void SettingsController::markApplied() {
    m_appliedThreads = m_threads;
    m_appliedContextLength = m_contextLength;
    m_appliedKvCacheMemoryMb = m_kvCacheMemoryMb;
    emit changed();
}

void SettingsController::resetToDefaults() {
    const SettingsController defaults(nullptr);
    setThreads(defaults.m_threads);
    setContextLength(defaults.m_contextLength);
    setKvCacheMemoryMb(defaults.m_kvCacheMemoryMb);
    setTemperature(defaults.m_temperature);
    setTopP(defaults.m_topP);
    setMaxTokens(defaults.m_maxTokens);
    setTheme(defaults.m_theme);
    // The data folder goes back to the one in use (a pending change is dropped).
    if (!m_appliedDataFolder.isEmpty()) setDataFolder(m_appliedDataFolder);
}

QString SettingsController::geometryFile() const {
    const QString dir = m_libraryDir.isEmpty() ? QDir::tempPath() : m_libraryDir;
    return QDir(dir).filePath(QStringLiteral("desktop.ini"));
}

void SettingsController::restoreWindowGeometry(QWindow* window) const {
    if (!window) return;
    QSettings ini(geometryFile(), QSettings::IniFormat);
    const QRect rect = ini.value(QStringLiteral("window/geometry")).toRect();
    if (rect.isValid() && rect.width() >= 320 && rect.height() >= 240) window->setGeometry(rect);
    if (ini.value(QStringLiteral("window/maximized")).toBool()) window->showMaximized();
}

void SettingsController::saveWindowGeometry(const QWindow* window) const {
    if (!window) return;
    QSettings ini(geometryFile(), QSettings::IniFormat);
    const bool maximized = window->windowStates().testFlag(Qt::WindowMaximized);
    ini.setValue(QStringLiteral("window/maximized"), maximized);
    if (!maximized) ini.setValue(QStringLiteral("window/geometry"), window->geometry());
}
