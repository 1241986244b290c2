// packaging/systemd: the unit passes `systemd-analyze verify` (with ExecStart pointing at the
// built binary), scores as hardened by `systemd-analyze security`, stops no sooner than the
// drain grace period, and its sysusers.d file parses.
#include <QtTest/QtTest>

#include <fstream>
#include <regex>
#include <string>

#include "shared_data.h"

namespace {

namespace fs = std::filesystem;

fs::path packaging_dir() {
    return fs::path(__FILE__).parent_path().parent_path().parent_path() / "packaging";
}

struct Result {
    int exit_code = -1;
    std::string out;  // stdout and stderr
};

Result run(const QString& program, const QStringList& args) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(program, args);
    if (!p.waitForFinished(60000)) return {};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            p.readAllStandardOutput().toStdString()};
}

std::string unit_text() {
    return folio::test::read_file(packaging_dir() / "systemd" / "folio.service");
}

// The unit with ExecStart on the built binary, as `make install` writes it.
QString installed_copy() {
    std::string text = unit_text();
    const std::string from = "/usr/bin/folio";
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + 1))
        text.replace(at, from.size(), folio::test::folio_binary().string());
    const fs::path path = folio::test::scratch_dir("systemd-unit") / "folio.service";
    std::ofstream(path) << text;
    return QString::fromStdString(path.string());
}

// The value of `Key=` in the unit (the last one wins, as in systemd); empty when absent.
std::string unit_value(const std::string& key) {
    std::string value;
    std::istringstream in(unit_text());
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + "=", 0) == 0) value = line.substr(key.size() + 1);
    return value;
}

}  // namespace

class TestSystemdUnit : public QObject {
    Q_OBJECT

  private slots:
    void verifyPasses() {
        if (QStandardPaths::findExecutable("systemd-analyze").isEmpty())
            QSKIP("systemd-analyze is not installed (installers/install-deps.sh installs it)");
        const Result r = run("systemd-analyze", {"verify", "--man=no", installed_copy()});
        QVERIFY2(r.exit_code == 0, r.out.c_str());
        // Warnings do not fail verify; any line about our unit is one.
        QVERIFY2(r.out.find("folio.service") == std::string::npos, r.out.c_str());
    }

    void hardeningScoresOk() {
        if (QStandardPaths::findExecutable("systemd-analyze").isEmpty())
            QSKIP("systemd-analyze is not installed");
        const Result r = run("systemd-analyze", {"security", "--offline=true", installed_copy()});
        QVERIFY2(r.exit_code == 0, r.out.c_str());
        std::smatch m;
        QVERIFY2(std::regex_search(r.out, m,
                                   std::regex("Overall exposure level for "
                                              "folio.service: ([0-9.]+)")),
                 r.out.c_str());
        // 0 = fully locked down, 10 = unprotected; systemd calls below 2 "OK".
        QVERIFY2(std::stod(m[1]) < 2.0, r.out.c_str());
    }

    void contract() {
        QCOMPARE(unit_value("Type"), std::string("notify"));
        QCOMPARE(unit_value("NotifyAccess"), std::string("main"));
        QVERIFY(unit_value("ExecStart").rfind("/usr/bin/folio serve", 0) == 0);
        QVERIFY(!unit_value("WatchdogSec").empty());
        QCOMPARE(unit_value("Restart"), std::string("on-failure"));
        // systemd must not SIGKILL before the drain's default grace (30 s) has run out.
        const std::string stop = unit_value("TimeoutStopSec");
        QVERIFY2(std::regex_match(stop, std::regex("[0-9]+s")), stop.c_str());
        QVERIFY(std::stoi(stop) > 30);
        QCOMPARE(unit_value("CapabilityBoundingSet"), std::string());
        QVERIFY(unit_text().find("\nCapabilityBoundingSet=\n") != std::string::npos);
        QCOMPARE(unit_value("User"), std::string("folio"));
    }

    void sysusersParses() {
        if (QStandardPaths::findExecutable("systemd-sysusers").isEmpty())
            QSKIP("systemd-sysusers is not installed");
        const fs::path root = folio::test::scratch_dir("systemd-sysusers-root");
        fs::create_directories(root / "etc");
        const Result r = run(
            "systemd-sysusers",
            {"--root", QString::fromStdString(root.string()), "--dry-run",
             QString::fromStdString((packaging_dir() / "systemd" / "folio.sysusers").string())});
        QVERIFY2(r.exit_code == 0, r.out.c_str());
        QVERIFY2(r.out.find("Creating user 'folio'") != std::string::npos, r.out.c_str());
    }
};

QTEST_GUILESS_MAIN(TestSystemdUnit)
#include "test_systemd_unit.moc"
