#include "sched/request.h"

#include <utility>

#include "common/check.h"

namespace folio {

bool is_finished(RequestStatus status) {
    switch (status) {
        case RequestStatus::Waiting:
        case RequestStatus::Running:
        case RequestStatus::Preempted:
            return false;
        case RequestStatus::FinishedStopped:
        case RequestStatus::FinishedLength:
        case RequestStatus::FinishedAborted:
        case RequestStatus::FinishedError:
            return true;
    }
    return true;
}

const char* request_status_name(RequestStatus status) {
    switch (status) {
        case RequestStatus::Waiting:
            return "waiting";
        case RequestStatus::Running:
            return "running";
        case RequestStatus::Preempted:
            return "preempted";
        case RequestStatus::FinishedStopped:
            return "finished_stopped";
        case RequestStatus::FinishedLength:
            return "finished_length";
        case RequestStatus::FinishedAborted:
            return "finished_aborted";
        case RequestStatus::FinishedError:
            return "finished_error";
    }
    return "?";
}

Request::Request(std::string request_id, std::vector<int32_t> prompt_token_ids, StopCriteria stop,
                 int32_t priority, int64_t arrival_index)
    : num_prompt_tokens_(static_cast<int32_t>(prompt_token_ids.size())),
      stop_(std::move(stop)),
      priority_(priority),
      arrival_index_(arrival_index) {
    FOLIO_CHECK(num_prompt_tokens_ > 0);
    kv.request_id = std::move(request_id);
    kv.token_ids = std::move(prompt_token_ids);
}

}  // namespace folio
