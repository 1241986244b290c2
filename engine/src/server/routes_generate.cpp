// POST /v1/completions and POST /v1/chat/completions, streamed (SSE) or not.
#include <algorithm>

#include "model/model.h"
#include "server/api_error.h"
#include "server/json_fields.h"
#include "server/server_impl.h"
#include "tokenizer/vocab.h"

namespace folio::server {

namespace {

// The request field an engine or sampling message is about: its first word when that is a
// known field, else `fallback`.
std::string param_of(const std::string& message, const std::string& fallback) {
    static const char* kFields[] = {"temperature",
                                    "top_k",
                                    "top_p",
                                    "min_p",
                                    "repetition_penalty",
                                    "presence_penalty",
                                    "frequency_penalty",
                                    "logit_bias",
                                    "seed",
                                    "stop",
                                    "stop_token_ids",
                                    "max_tokens",
                                    "min_tokens",
                                    "logprobs",
                                    "n"};
    std::string first = message.substr(0, message.find_first_of(" [:"));
    for (const char* f : kFields)
        if (first == f) return first;
    return fallback;
}

double seconds_between(RequestMetrics::Clock::time_point a, RequestMetrics::Clock::time_point b) {
    if (a == RequestMetrics::Clock::time_point{} || b == RequestMetrics::Clock::time_point{})
        return -1.0;
    return std::chrono::duration<double>(b - a).count();
}

void record_metrics(ServerState& impl, const std::string& model, const RequestOutput& out, int n) {
    const RequestMetrics& m = out.metrics;
    double ttft = seconds_between(m.arrival_time, m.first_token_time);
    double tpot = -1.0;
    int64_t per_choice = out.usage.completion_tokens / std::max(n, 1);
    if (per_choice > 1 && ttft >= 0)
        tpot = seconds_between(m.first_token_time, m.last_token_time) /
               static_cast<double>(per_choice - 1);
    double e2e = seconds_between(m.arrival_time, m.finished_time);
    impl.metrics.record_generation(model, ttft, tpot, e2e);
}

// A submitted generation: the parsed request, its engine handles (one per prompt) and the
// in-flight registration that lets the watchdog and drain() abort it.
struct Generation {
    GenerationRequest request;
    std::shared_ptr<ModelEntry> model;
    std::shared_ptr<InflightGuard> guard;
    std::vector<RequestHandle> handles;
    std::string id;
    int64_t created = 0;
    const char* object = "";
};

json base_object(const Generation& g, const char* object) {
    return {{"id", g.id},
            {"object", object},
            {"created", g.created},
            {"model", g.model->id},
            {"system_fingerprint", "folio"}};
}

// ---- streaming --------------------------------------------------------------------------------

struct StreamState {
    ServerState* impl = nullptr;
    std::shared_ptr<RequestContext> ctx;
    Generation gen;
    std::vector<bool> handle_done;
    std::vector<RequestUsage> usage;
    std::vector<size_t> text_offset;  // per choice (completions logprobs)
    bool started = false;
    bool complete = false;

    int n() const { return gen.request.sampling.n; }
    bool chat() const { return gen.request.endpoint == Endpoint::Chat; }
    const Vocab& vocab() const { return gen.model->engine->model().vocab(); }

    void add_chunk(std::string& out, json choices) const {
        json chunk = base_object(gen, chat() ? "chat.completion.chunk" : "text_completion");
        chunk["choices"] = std::move(choices);
        if (gen.request.include_usage) chunk["usage"] = nullptr;
        out += "data: " + dump_json(chunk) + "\n\n";
    }

    void add_output(std::string& out, size_t handle, const RequestOutput& o) {
        for (const CompletionOutput& c : o.outputs) {
            const int64_t index = static_cast<int64_t>(handle) * n() + c.index;
            const bool with_lp = gen.request.logprobs && !c.logprobs.empty();
            json finish = c.finish_reason ? json(finish_reason_string(c.finish_reason)) : json();
            if (chat()) {
                if (!c.text.empty() || with_lp)
                    add_chunk(
                        out,
                        json::array({{{"index", index},
                                      {"delta", {{"content", c.text}}},
                                      {"logprobs",
                                       with_lp ? chat_logprobs_json(vocab(), c.logprobs) : json()},
                                      {"finish_reason", nullptr}}}));
                if (c.finish_reason)
                    add_chunk(out, json::array({{{"index", index},
                                                 {"delta", json::object()},
                                                 {"logprobs", nullptr},
                                                 {"finish_reason", finish}}}));
            } else if (!c.text.empty() || with_lp || c.finish_reason) {
                json lp;
                if (with_lp)
                    lp = completion_logprobs_json(vocab(), c.logprobs,
                                                  text_offset[static_cast<size_t>(index)]);
                else if (gen.request.logprobs)
                    lp = {{"tokens", json::array()},
                          {"token_logprobs", json::array()},
                          {"top_logprobs", json::array()},
                          {"text_offset", json::array()}};
                add_chunk(out, json::array({{{"index", index},
                                             {"text", c.text},
                                             {"logprobs", lp},
                                             {"finish_reason", finish}}}));
            }
        }
        if (o.finished) {
            handle_done[handle] = true;
            usage[handle] = o.usage;
            record_metrics(*impl, gen.model->id, o, n());
            if (!o.error.empty()) {
                out += "data: " +
                       dump_json(error_body("generation failed: " + o.error, "server_error", "",
                                            "engine_error")) +
                       "\n\n";
                ctx->note = "engine error: " + o.error;
            }
        }
    }

    // One provider call: whatever the engine produced (blocking for at least one output).
    std::string next_events() {
        std::string out;
        if (!started) {
            started = true;
            if (chat()) {
                const int64_t total = static_cast<int64_t>(gen.handles.size()) * n();
                for (int64_t i = 0; i < total; ++i)
                    add_chunk(out,
                              json::array({{{"index", i},
                                            {"delta", {{"role", "assistant"}, {"content", ""}}},
                                            {"logprobs", nullptr},
                                            {"finish_reason", nullptr}}}));
                return out;
            }
        }
        bool progressed = false;
        for (size_t i = 0; i < gen.handles.size(); ++i) {
            while (!handle_done[i]) {
                auto o = gen.handles[i].try_next();
                if (!o) break;
                add_output(out, i, *o);
                progressed = true;
            }
        }
        if (!progressed) {
            for (size_t i = 0; i < gen.handles.size(); ++i) {
                if (handle_done[i]) continue;
                if (auto o = gen.handles[i].next())
                    add_output(out, i, *o);
                else
                    handle_done[i] = true;
                break;
            }
        }
        if (std::all_of(handle_done.begin(), handle_done.end(), [](bool b) { return b; })) {
            int64_t prompt = 0, completion = 0, cached = 0;
            for (const auto& u : usage) {
                prompt += u.prompt_tokens;
                completion += u.completion_tokens;
                cached += u.cached_prompt_tokens;
            }
            ctx->prompt_tokens = prompt;
            ctx->completion_tokens = completion;
            if (gen.request.include_usage) {
                json chunk = base_object(gen, chat() ? "chat.completion.chunk" : "text_completion");
                chunk["choices"] = json::array();
                chunk["usage"] = usage_json(prompt, completion, cached);
                out += "data: " + dump_json(chunk) + "\n\n";
            }
            out += "data: [DONE]\n\n";
            complete = true;
        }
        return out;
    }

    void abort_all() {
        for (auto& h : gen.handles)
            if (!h.done()) h.abort();
    }
};

void start_stream(ServerState& impl, httplib::Response& res,
                  const std::shared_ptr<RequestContext>& ctx, Generation gen) {
    auto st = std::make_shared<StreamState>();
    st->impl = &impl;
    st->ctx = ctx;
    st->handle_done.assign(gen.handles.size(), false);
    st->usage.resize(gen.handles.size());
    st->text_offset.assign(gen.handles.size() * static_cast<size_t>(gen.request.sampling.n), 0);
    st->gen = std::move(gen);
    ctx->deferred = true;  // logged when the stream ends (StreamState → RequestContext dtor)
    ctx->status = 200;
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream", [st](size_t, httplib::DataSink& sink) -> bool {
            try {
                if (st->complete) {
                    sink.done();
                    return true;
                }
                std::string out = st->next_events();
                if (!out.empty() && !sink.write(out.data(), out.size())) {
                    st->abort_all();
                    st->ctx->note = "aborted: client disconnected";
                    return false;
                }
                if (st->complete) sink.done();
                return true;
            } catch (...) {
                st->abort_all();
                st->ctx->note = "aborted: internal error while streaming";
                return false;
            }
        });
}

// ---- non-streaming ----------------------------------------------------------------------------

void respond_whole(ServerState& impl, httplib::Response& res,
                   const std::shared_ptr<RequestContext>& ctx, Generation& gen) {
    const bool chat = gen.request.endpoint == Endpoint::Chat;
    const int n = gen.request.sampling.n;
    const Vocab& vocab = gen.model->engine->model().vocab();
    json choices = json::array();
    int64_t prompt = 0, completion = 0, cached = 0;
    for (size_t i = 0; i < gen.handles.size(); ++i) {
        RequestOutput out = gen.handles[i].collect();
        record_metrics(impl, gen.model->id, out, n);
        if (!out.error.empty())
            throw ApiError(500, "generation failed: " + out.error, "", "engine_error");
        prompt += out.usage.prompt_tokens;
        completion += out.usage.completion_tokens;
        cached += out.usage.cached_prompt_tokens;
        std::sort(out.outputs.begin(), out.outputs.end(),
                  [](const auto& a, const auto& b) { return a.index < b.index; });
        for (const CompletionOutput& c : out.outputs) {
            const int64_t index = static_cast<int64_t>(i) * n + c.index;
            json finish = c.finish_reason ? json(finish_reason_string(c.finish_reason)) : json();
            if (chat) {
                choices.push_back(
                    {{"index", index},
                     {"message", {{"role", "assistant"}, {"content", c.text}}},
                     {"logprobs",
                      gen.request.logprobs ? chat_logprobs_json(vocab, c.logprobs) : json()},
                     {"finish_reason", finish}});
            } else {
                size_t offset = 0;
                choices.push_back(
                    {{"index", index},
                     {"text", c.text},
                     {"logprobs", gen.request.logprobs
                                      ? completion_logprobs_json(vocab, c.logprobs, offset)
                                      : json()},
                     {"finish_reason", finish}});
            }
        }
    }
    if (impl.inflight.aborted(gen.guard->token())) ctx->note = "aborted";
    ctx->prompt_tokens = prompt;
    ctx->completion_tokens = completion;
    json body = base_object(gen, chat ? "chat.completion" : "text_completion");
    body["choices"] = std::move(choices);
    body["usage"] = usage_json(prompt, completion, cached);
    send_json(res, 200, body);
}

}  // namespace

std::vector<int32_t> text_prompt_tokens(const Engine& engine, const PromptInput& prompt,
                                        const std::string& param, bool add_special) {
    const int64_t n_vocab =
        std::min<int64_t>(engine.info().n_vocab, engine.model().vocab().n_tokens());
    std::vector<int32_t> tokens =
        prompt.is_text ? engine.model().vocab().tokenize(prompt.text, add_special, true)
                       : as_token_array(prompt.tokens, param, n_vocab);
    if (tokens.empty()) throw bad_param(param, param + " is empty after tokenization");
    return tokens;
}

std::vector<int32_t> chat_prompt_tokens(ModelEntry& model, const json& messages,
                                        const json& tools) {
    const Model& m = model.engine->model();
    chat::RenderOptions options = chat::RenderOptions::for_model(m);
    options.add_generation_prompt = true;
    if (tools.is_array()) options.tools = nlohmann::ordered_json::parse(tools.dump());
    std::string text;
    try {
        text = model.chat_template().render(messages, options);
    } catch (const chat::TemplateError& e) {
        throw bad_param("messages",
                        std::string("the chat template rejected the messages: ") + e.what());
    }
    const Vocab& vocab = m.vocab();
    std::vector<int32_t> tokens = vocab.tokenize(text, false, true);
    if (vocab.add_bos() && vocab.bos() != kNoToken &&
        (tokens.empty() || tokens[0] != vocab.bos())) {
        std::string_view bos_text = vocab.token_text(vocab.bos());
        if (bos_text.empty() || !std::string_view(text).starts_with(bos_text))
            tokens.insert(tokens.begin(), vocab.bos());
    }
    if (tokens.empty()) throw bad_param("messages", "the rendered chat prompt is empty");
    return tokens;
}

void ServerState::handle_generation(const httplib::Request& req, httplib::Response& res,
                                    const std::shared_ptr<RequestContext>& ctx, Endpoint endpoint) {
    json body = parse_json_object(req.body);
    Generation gen;
    gen.request = parse_generation_request(body, endpoint, limits);
    gen.model = resolve_model(gen.request.model);
    ctx->model = gen.model->id;
    const std::shared_ptr<Engine>& engine = gen.model->engine;
    const int64_t n_vocab = engine->info().n_vocab;
    if (std::string err = gen.request.sampling.validate(static_cast<int32_t>(n_vocab));
        !err.empty())
        throw bad_param(param_of(err, "logprobs"), err);

    const bool chat = endpoint == Endpoint::Chat;
    std::vector<std::vector<int32_t>> prompts;
    std::vector<std::string> params;
    if (chat) {
        prompts.push_back(chat_prompt_tokens(*gen.model, gen.request.messages, gen.request.tools));
        params.push_back("messages");
    } else {
        for (size_t i = 0; i < gen.request.prompts.size(); ++i) {
            std::string param =
                gen.request.prompts.size() == 1 ? "prompt" : "prompt[" + std::to_string(i) + "]";
            prompts.push_back(text_prompt_tokens(*engine, gen.request.prompts[i], param));
            params.push_back(param);
        }
    }
    const int64_t ctx_len = engine->info().max_model_len;
    for (size_t i = 0; i < prompts.size(); ++i) {
        const auto len = static_cast<int64_t>(prompts[i].size());
        if (len >= ctx_len)
            throw bad_param(chat ? "messages" : "prompt",
                            "This model's maximum context length is " + std::to_string(ctx_len) +
                                " tokens, but " + params[i] + " has " + std::to_string(len) +
                                " tokens (at least one token must remain for the completion)");
    }

    gen.id = make_id(chat ? "chatcmpl-" : "cmpl-");
    gen.created = unix_time_now();
    gen.guard =
        std::make_shared<InflightGuard>(inflight, inflight.add(engine, ConnectionWatch::find(req)));
    for (size_t i = 0; i < prompts.size(); ++i) {
        RequestSpec spec;
        spec.prompt_tokens = std::move(prompts[i]);
        spec.sampling = gen.request.sampling;
        try {
            gen.handles.push_back(engine->submit(std::move(spec)));
        } catch (const std::invalid_argument& e) {
            throw bad_param(param_of(e.what(), chat ? "messages" : "prompt"), e.what());
        }
        inflight.add_request_id(gen.guard->token(), gen.handles.back().request_id());
    }

    if (gen.request.stream) {
        start_stream(*this, res, ctx, std::move(gen));
    } else {
        respond_whole(*this, res, ctx, gen);
    }
}

}  // namespace folio::server
