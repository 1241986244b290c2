#include "settings_controller.h"

#include <QDir>
#include <QSettings>
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
constexpr const char* kDataFolder = "data.folder";
constexpr int kMaxContext = 1 << 20;
constexpr int kMaxKvMib = 1 << 20;  // 1 TiB

bool validTheme(const QString& t) {
    return t == u"light" || t == u"dark" || t == u"system";
}

}  // namespace

SettingsController::SettingsController(folio::store::Library* library, QObject* parent)
    : QObject(parent) {
    if (library) {
        m_libraryDir = QString::fromStdString(library->data_dir().string());
        try {
            m_store = std::make_unique<folio::store::SettingsStore>(*library);
        } catch (const std::exception& e) {
            m_lastError = QString::fromUtf8(e.what());
        }
    }
    m_dataFolder = m_libraryDir;
    load();
    m_appliedDataFolder = m_libraryDir.isEmpty() ? m_dataFolder : m_libraryDir;
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
        const QString folder = get(kDataFolder);
        if (!folder.isEmpty()) m_dataFolder = folder;
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
    if (restartRequired()) parts << tr("Restart Folio to use the new data folder.");
    return parts.join(u' ');
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
}

void SettingsController::setDataFolder(const QString& folder) {
    const QString clean = QDir::cleanPath(folder.trimmed());
    if (folder.trimmed().isEmpty() || !QDir::isAbsolutePath(clean) || clean == m_dataFolder) {
        return;
    }
    m_dataFolder = clean;
    save(kDataFolder, clean);
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
    if (!m_libraryDir.isEmpty()) setDataFolder(m_libraryDir);
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
