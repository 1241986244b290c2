#pragma once
// Runs the built `folio` binary the way a user or script does, for tests of the CLI contracts.
// Header-only (Qt): folio_test_support itself links no Qt.
#include <QByteArray>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include "shared_data.h"

namespace folio::test {

struct FolioRun {
    int exit_code = -1;  // -1: crashed, or killed after the timeout
    QByteArray out, err;
};

inline FolioRun run_folio(
    const QStringList& args, int timeout_ms = 120000,
    const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QString::fromStdString(folio_binary().string()), args);
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished(5000);
        return {-1, p.readAllStandardOutput(), p.readAllStandardError()};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

}  // namespace folio::test
