// folio-desktop [-m MODEL.gguf] [--data-dir DIR]: the chat window (ui/desktop_app.h).
#include <QCommandLineParser>
#include <QGuiApplication>
#include <QQuickStyle>
#include <cstdio>

#include "desktop_app.h"

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    QGuiApplication::setApplicationName(QStringLiteral("folio-desktop"));
    QGuiApplication::setApplicationDisplayName(QStringLiteral("Folio"));
    QQuickStyle::setStyle(QStringLiteral("Fusion"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Chat with a local model."));
    parser.addHelpOption();
    const QCommandLineOption model({QStringLiteral("m"), QStringLiteral("model")},
                                   QStringLiteral("The GGUF model to load; it joins the library "
                                                  "(default: the library's default or most "
                                                  "recently used one)."),
                                   QStringLiteral("MODEL.gguf"));
    const QCommandLineOption dataDir(QStringLiteral("data-dir"),
                                     QStringLiteral("The data folder (default: $FOLIO_DATA_DIR, "
                                                    "else the one chosen in Settings, else "
                                                    "$XDG_DATA_HOME/folio)."),
                                     QStringLiteral("DIR"));
    parser.addOptions({model, dataDir});
    parser.process(app);

    DesktopApp desktop({parser.value(model), parser.value(dataDir)});
    if (!desktop.start()) {
        std::fprintf(stderr, "folio-desktop: %s\n", qPrintable(desktop.errorString()));
        return 1;
    }
    return QGuiApplication::exec();
}
