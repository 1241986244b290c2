#include "runtime/request_stream.h"

#include <utility>

#include "runtime/engine_core.h"

namespace folio {

RequestStream::RequestStream(std::string request_id, std::vector<int32_t> prompt_token_ids,
                             std::weak_ptr<EngineCore> core)
    : request_id_(std::move(request_id)),
      prompt_token_ids_(std::move(prompt_token_ids)),
      core_(std::move(core)) {}

void RequestStream::push(RequestOutput output) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (closed_) return;
        closed_ = output.finished;
        queue_.push_back(std::move(output));
    }
    cv_.notify_all();
}

std::optional<RequestOutput> RequestStream::pop_locked() {
    if (queue_.empty()) return std::nullopt;
    RequestOutput out = std::move(queue_.front());
    queue_.pop_front();
    if (out.finished) done_ = true;
    return out;
}

std::optional<RequestOutput> RequestStream::next() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (done_) return std::nullopt;
    cv_.wait(lock, [this] { return !queue_.empty(); });
    return pop_locked();
}

std::optional<RequestOutput> RequestStream::try_next() {
    std::lock_guard<std::mutex> lock(mutex_);
    return pop_locked();
}

bool RequestStream::done() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_;
}

bool RequestStream::closed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
}

void RequestStream::abort() {
    if (closed()) return;
    if (std::shared_ptr<EngineCore> core = core_.lock()) core->abort_request(request_id_);
}

}  // namespace folio
