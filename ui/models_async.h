#pragma once
// runAsync: runs `work` on a thread pool and hands its result to `done` on the GUI thread (the
// thread of `context`), unless `context` is gone by then. `work` must not throw: it returns its
// errors as part of T. The Models page's view models use it for library, hub and disk work.
#include <QFutureWatcher>
#include <QObject>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>
#include <utility>

template <typename Work, typename Done>
void runAsync(QObject* context, Work work, Done done, QThreadPool* pool = nullptr) {
    using T = decltype(work());
    auto* watcher = new QFutureWatcher<T>(context);
    QObject::connect(watcher, &QFutureWatcherBase::finished, context,
                     [watcher, done = std::move(done)] {
                         done(watcher->result());
                         watcher->deleteLater();
                     });
    watcher->setFuture(
        QtConcurrent::run(pool ? pool : QThreadPool::globalInstance(), std::move(work)));
}
