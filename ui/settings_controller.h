#pragma once
// SettingsController: the Settings page — engine (threads, context length, KV cache memory),
// default sampling (temperature, top_p, max tokens) and theme, kept in the library's settings
// table; the main window's geometry in <data folder>/desktop.ini (QSettings). The data folder
// cannot live in the library it chooses: it is kept in the config file (QSettings, INI, key
// data/folder; see defaultConfigFile()), which folio-desktop reads at start.
//
// GUI thread. Setters validate (out-of-range values are ignored) and save at once. Engine
// settings apply when a model is (re)loaded: reloadRequired and notice say so until
// markApplied(); a new data folder applies at the next start of folio-desktop (a folder that
// cannot be created or written is refused with lastError, and nothing changes). The theme
// applies at once through applyTheme() (the application palette; the Fusion style follows it).
#include <QObject>
#include <QString>
#include <memory>

class QPalette;
class QWindow;
namespace folio {
struct EngineConfig;
namespace store {
class Library;
class SettingsStore;
}  // namespace store
}  // namespace folio

class SettingsController : public QObject {
    Q_OBJECT
    Q_PROPERTY(int threads READ threads WRITE setThreads NOTIFY changed)  // 0: all cores
    Q_PROPERTY(int maxThreads READ maxThreads CONSTANT)
    // Tokens; 0: the model's training context.
    Q_PROPERTY(int contextLength READ contextLength WRITE setContextLength NOTIFY changed)
    // MiB; 0: what fits in free memory.
    Q_PROPERTY(int kvCacheMemoryMb READ kvCacheMemoryMb WRITE setKvCacheMemoryMb NOTIFY changed)
    Q_PROPERTY(double temperature READ temperature WRITE setTemperature NOTIFY changed)
    Q_PROPERTY(double topP READ topP WRITE setTopP NOTIFY changed)
    Q_PROPERTY(int maxTokens READ maxTokens WRITE setMaxTokens NOTIFY changed)
    Q_PROPERTY(QString theme READ theme WRITE setTheme NOTIFY changed)  // light, dark, system
    // The folder used at the next start (without --data-dir or FOLIO_DATA_DIR).
    Q_PROPERTY(QString dataFolder READ dataFolder WRITE setDataFolder NOTIFY changed)
    // The folder of the library open now.
    Q_PROPERTY(QString currentDataFolder READ currentDataFolder CONSTANT)
    Q_PROPERTY(bool reloadRequired READ reloadRequired NOTIFY changed)
    Q_PROPERTY(bool restartRequired READ restartRequired NOTIFY changed)
    // What must happen for the changes to apply ("" when nothing).
    Q_PROPERTY(QString notice READ notice NOTIFY changed)
    Q_PROPERTY(QString lastError READ lastError NOTIFY changed)

  public:
    // `library` may be null (nothing persists); it must outlive this object. `configFile`: where
    // the data folder is remembered; empty: it is not remembered.
    explicit SettingsController(folio::store::Library* library, QString configFile = {},
                                QObject* parent = nullptr);
    ~SettingsController() override;

    int threads() const { return m_threads; }
    int maxThreads() const;
    int contextLength() const { return m_contextLength; }
    int kvCacheMemoryMb() const { return m_kvCacheMemoryMb; }
    double temperature() const { return m_temperature; }
    double topP() const { return m_topP; }
    int maxTokens() const { return m_maxTokens; }
    QString theme() const { return m_theme; }
    QString dataFolder() const { return m_dataFolder; }
    QString currentDataFolder() const { return m_appliedDataFolder; }
    bool reloadRequired() const;
    bool restartRequired() const { return m_dataFolder != m_appliedDataFolder; }
    QString notice() const;
    QString lastError() const { return m_lastError; }

    void setThreads(int threads);
    void setContextLength(int tokens);
    void setKvCacheMemoryMb(int mib);
    void setTemperature(double temperature);
    void setTopP(double topP);
    void setMaxTokens(int maxTokens);
    void setTheme(const QString& theme);
    void setDataFolder(const QString& folder);

    // The engine settings into a config (for the next model load).
    void applyTo(folio::EngineConfig& config) const;

    // The theme's palette: "light" and "dark" fixed ones, "system" the platform's.
    static QPalette paletteFor(const QString& theme);
    // Sets the application palette for the current theme (needs a QGuiApplication).
    void applyTheme() const;

    // $FOLIO_DESKTOP_CONFIG, else <user config dir>/folio-desktop/folio-desktop.conf
    // (~/.config/folio-desktop/folio-desktop.conf).
    static QString defaultConfigFile();
    // The data folder remembered in `configFile` ("" when none).
    static QString savedDataFolder(const QString& configFile);

    // Window geometry (QSettings). restore does nothing when none was saved.
    void restoreWindowGeometry(QWindow* window) const;
    void saveWindowGeometry(const QWindow* window) const;

  public slots:
    // The engine settings now in effect are the current ones (after a model reload).
    void markApplied();
    // Every setting back to its default.
    void resetToDefaults();

  signals:
    void changed();
    void themeChanged();

  private:
    void load();
    void save(const char* key, const QString& value);
    void setError(const QString& error);
    QString geometryFile() const;

    std::unique_ptr<folio::store::SettingsStore> m_store;
    QString m_configFile;
    QString m_libraryDir;
    int m_threads = 0;
    int m_contextLength = 0;
    int m_kvCacheMemoryMb = 0;
    double m_temperature = 0.8;
    double m_topP = 0.95;
    int m_maxTokens = 512;
    QString m_theme = QStringLiteral("system");
    QString m_dataFolder;
    // The engine settings in effect (as of construction or markApplied).
    int m_appliedThreads = 0, m_appliedContextLength = 0, m_appliedKvCacheMemoryMb = 0;
    QString m_appliedDataFolder;  // the open library's folder
    QString m_lastError;
};
