#include "sched/scheduler.h"

#include <algorithm>
#include <utility>

#include "common/check.h"

namespace folio {
namespace {

bool served_before(const Request* a, const Request* b) {
    return a->before(*b);
}

void erase_from(std::vector<Request*>& queue, const Request* request) {
    auto it = std::find(queue.begin(), queue.end(), request);
    if (it != queue.end()) queue.erase(it);
}

}  // namespace

Scheduler::Scheduler(const SchedulerConfig& config, KVCacheManager& kv_cache_manager)
    : config_(config), kv_(kv_cache_manager) {
    FOLIO_CHECK(config.max_num_seqs >= 1);
    FOLIO_CHECK(config.max_num_batched_tokens >= 1);
    FOLIO_CHECK(config.max_model_len >= 1);
}

void Scheduler::add_request(std::unique_ptr<Request> request) {
    FOLIO_CHECK(request != nullptr);
    FOLIO_CHECK(requests_.find(request->request_id()) == requests_.end());
    FOLIO_CHECK(request->num_computed_tokens() == 0 && request->num_output_tokens() == 0);
    FOLIO_CHECK(request->stop().prompt_only ? request->num_prompt_tokens() <= config_.max_model_len
                                            : request->num_prompt_tokens() < config_.max_model_len);
    request->status = RequestStatus::Waiting;
    Request* raw = request.get();
    requests_.emplace(raw->request_id(), std::move(request));
    insert_waiting(raw);
}

std::vector<std::string> Scheduler::finish_requests(std::span<const std::string> request_ids,
                                                    RequestStatus status) {
    FOLIO_CHECK(is_finished(status));
    std::vector<std::string> finished;
    for (const std::string& id : request_ids) {
        auto it = requests_.find(id);
        if (it == requests_.end()) continue;
        finished.push_back(id);
        finish(it->second.get(), status);
    }
    return finished;
}

SchedulerOutput Scheduler::schedule() {
    SchedulerOutput out;
    int32_t budget = config_.max_num_batched_tokens;
    auto cap_prefill = [this](int32_t num_new) {
        const int32_t cap = config_.long_prefill_token_threshold;
        return cap > 0 ? std::min(num_new, cap) : num_new;
    };
    bool preempted_any = false;

    auto add_scheduled = [&](Request* req, int32_t num_new) {
        ScheduledRequest s;
        s.request = req;
        s.num_computed_tokens = req->num_computed_tokens();
        s.num_scheduled_tokens = num_new;
        s.sample = s.num_computed_tokens + num_new == req->num_tokens();
        s.all_hidden = req->stop().prompt_only && req->stop().prompt_hidden;
        s.all_logits = req->stop().prompt_only && !s.all_hidden;
        s.num_prompt_positions =
            std::max(0, std::min(s.num_computed_tokens + num_new, req->num_prompt_tokens()) -
                            s.num_computed_tokens);
        out.requests.push_back(std::move(s));
        out.total_num_scheduled_tokens += num_new;
        budget -= num_new;
    };

    // 1. Running requests, highest priority first. Victims come from the back of running_, which
    //    this loop has not reached yet, so no request scheduled in this step is ever preempted.
    size_t i = 0;
    while (i < running_.size() && budget > 0) {
        Request* req = running_[i];
        const int32_t num_new =
            std::min(cap_prefill(req->num_tokens() - req->num_computed_tokens()), budget);
        FOLIO_CHECK(num_new > 0);
        bool allocated = false;
        while (true) {
            if (kv_.allocate_slots(req->kv, num_new)) {
                allocated = true;
                break;
            }
            if (running_.size() == 1) {
                // Alone and still no room: every other block is free, so it can never fit.
                out.failed_request_ids.push_back(req->request_id());
                finish(req, RequestStatus::FinishedError);
                break;
            }
            Request* victim = running_.back();
            running_.pop_back();
            out.preempted_request_ids.push_back(victim->request_id());
            preempt(victim);
            preempted_any = true;
            if (victim == req) break;  // everything after it went first; it waits too
        }
        if (!allocated) break;
        add_scheduled(req, num_new);
        ++i;
    }

    // 2. Waiting requests, unless this step had to preempt (no room to spare then).
    while (!preempted_any && !waiting_.empty() && budget > 0 &&
           static_cast<int32_t>(running_.size()) < config_.max_num_seqs) {
        Request* req = waiting_.front();
        FOLIO_CHECK(req->num_computed_tokens() == 0);
        // A prompt-only request needs an output for every prompt position, so it computes them
        // all (its full blocks are still cached for later requests).
        const ComputedBlocks hit =
            req->stop().prompt_only ? ComputedBlocks{} : kv_.get_computed_blocks(req->kv);
        const int32_t num_new =
            std::min(cap_prefill(req->num_tokens() - hit.num_computed_tokens), budget);
        FOLIO_CHECK(num_new > 0);
        if (!kv_.allocate_slots(req->kv, num_new, hit.num_computed_tokens, hit.block_ids)) {
            if (running_.empty()) {
                // Every block is free (or an evictable cached prefix) and it still does not fit.
                out.failed_request_ids.push_back(req->request_id());
                finish(req, RequestStatus::FinishedError);
                continue;
            }
            break;  // head-of-line: wait for blocks to be freed
        }
        waiting_.erase(waiting_.begin());
        req->kv.num_computed_tokens = hit.num_computed_tokens;
        if (req->num_cached_tokens < 0) req->num_cached_tokens = hit.num_computed_tokens;
        req->status = RequestStatus::Running;
        insert_running(req);
        add_scheduled(req, num_new);
    }

    for (ScheduledRequest& s : out.requests) {
        s.block_ids = kv_.get_block_ids(s.request->request_id());
    }
    if (!out.empty()) ++counters_.num_steps;
    return out;
}

std::vector<RequestUpdate> Scheduler::update_from_output(
    const SchedulerOutput& output, std::span<const int32_t> sampled_token_ids) {
    std::vector<RequestUpdate> updates;
    updates.reserve(output.requests.size());
    for (size_t i = 0; i < output.requests.size(); ++i) {
        const ScheduledRequest& s = output.requests[i];
        Request* req = s.request;
        FOLIO_CHECK(req->status == RequestStatus::Running);
        FOLIO_CHECK(req->num_computed_tokens() == s.num_computed_tokens);
        req->kv.num_computed_tokens += s.num_scheduled_tokens;

        RequestUpdate u;
        u.request_id = req->request_id();
        RequestStatus status = RequestStatus::Running;
        if (s.sample) {
            if (req->stop().prompt_only) {
                status = RequestStatus::FinishedLength;
            } else {
                FOLIO_CHECK(i < sampled_token_ids.size() && sampled_token_ids[i] >= 0);
                const int32_t token = sampled_token_ids[i];
                req->append_output_token(token);
                u.new_token_id = token;
                status = check_stop(*req, token, u.stopped_by_token);
            }
        }
        u.status = status;
        u.num_output_tokens = req->num_output_tokens();
        updates.push_back(std::move(u));
        if (is_finished(status)) finish(req, status);
    }
    return updates;
}

const Request* Scheduler::get_request(const std::string& request_id) const {
    auto it = requests_.find(request_id);
    return it == requests_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Scheduler::live_request_ids() const {
    std::vector<std::string> ids;
    ids.reserve(requests_.size());
    for (const auto& [id, req] : requests_) ids.push_back(id);
    return ids;
}

void Scheduler::preempt(Request* request) {
    kv_.free(request->kv);
    request->kv.num_computed_tokens = 0;
    request->status = RequestStatus::Preempted;
    ++request->num_preemptions;
    ++counters_.num_preemptions;
    insert_waiting(request);
}

void Scheduler::insert_waiting(Request* request) {
    waiting_.insert(std::upper_bound(waiting_.begin(), waiting_.end(), request, served_before),
                    request);
}

void Scheduler::insert_running(Request* request) {
    running_.insert(std::upper_bound(running_.begin(), running_.end(), request, served_before),
                    request);
}

void Scheduler::finish(Request* request, RequestStatus status) {
    erase_from(running_, request);
    erase_from(waiting_, request);
    kv_.free(request->kv);
    request->status = status;
    const std::string id = request->request_id();
    requests_.erase(id);  // destroys the request
}

RequestStatus Scheduler::check_stop(const Request& request, int32_t token, bool& by_token) const {
    by_token = false;
    const StopCriteria& stop = request.stop();
    const int32_t num_output = request.num_output_tokens();
    if (num_output > stop.min_tokens &&
        std::find(stop.stop_token_ids.begin(), stop.stop_token_ids.end(), token) !=
            stop.stop_token_ids.end()) {
        by_token = true;
        return RequestStatus::FinishedStopped;
    }
    if (num_output >= stop.max_tokens) return RequestStatus::FinishedLength;
    if (request.num_tokens() >= config_.max_model_len) return RequestStatus::FinishedLength;
    return RequestStatus::Running;
}

}  // namespace folio
