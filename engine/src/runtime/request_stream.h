#pragma once
// RequestStream: one request's output queue between the engine thread (producer) and the
// client's RequestHandle (consumer). Thread-safe.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "folio/request_output.h"

namespace folio {

class EngineCore;

class RequestStream {
  public:
    RequestStream(std::string request_id, std::vector<int32_t> prompt_token_ids,
                  std::weak_ptr<EngineCore> core);

    const std::string& request_id() const { return request_id_; }
    const std::vector<int32_t>& prompt_token_ids() const { return prompt_token_ids_; }

    // Engine side: queues an output; the one with finished == true closes the stream.
    void push(RequestOutput output);

    // Client side.
    std::optional<RequestOutput> next();      // blocks; nullopt after the final output
    std::optional<RequestOutput> try_next();  // nullopt when nothing is ready
    bool done() const;                        // the final output was taken
    bool closed() const;                      // the final output was pushed
    void abort();                             // asks the engine (no-op once closed)

  private:
    std::optional<RequestOutput> pop_locked();

    const std::string request_id_;
    const std::vector<int32_t> prompt_token_ids_;
    const std::weak_ptr<EngineCore> core_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<RequestOutput> queue_;
    bool closed_ = false;
    bool done_ = false;
};

}  // namespace folio
