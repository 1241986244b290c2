// GET /v1/models, POST /v1/embeddings, POST /tokenize, POST /detokenize, GET /health,
// GET /metrics.
#include "model/model.h"
#include "server/api_error.h"
#include "server/json_fields.h"
#include "server/server_impl.h"
#include "tokenizer/vocab.h"

namespace folio::server {

namespace {
json model_json(const ModelEntry& m) {
    return {{"id", m.id},
            {"object", "model"},
            {"created", m.created},
            {"owned_by", "folio"},
            {"max_model_len", m.engine->info().max_model_len}};
}
}  // namespace

void ServerState::handle_models(const httplib::Request& req, httplib::Response& res,
                                const std::shared_ptr<RequestContext>&) {
    if (req.matches.size() > 1) {
        // An unknown id throws: 404, or 503 while models are still loading.
        send_json(res, 200, model_json(*resolve_model(req.matches[1])));
        return;
    }
    json data = json::array();
    for (const auto& m : models.list()) data.push_back(model_json(*m));
    send_json(res, 200, {{"object", "list"}, {"data", std::move(data)}});
}

void ServerState::handle_embeddings(const httplib::Request& req, httplib::Response& res,
                                    const std::shared_ptr<RequestContext>& ctx) {
    json body = parse_json_object(req.body);
    EmbeddingRequest er = parse_embedding_request(body, limits);
    auto model = resolve_model(er.model);
    ctx->model = model->id;
    const std::shared_ptr<Engine>& engine = model->engine;
    const int64_t ctx_len = engine->info().max_model_len;

    std::vector<std::vector<int32_t>> inputs;
    for (size_t i = 0; i < er.inputs.size(); ++i) {
        std::string param = er.inputs.size() == 1 ? "input" : "input[" + std::to_string(i) + "]";
        inputs.push_back(text_prompt_tokens(*engine, er.inputs[i], param));
        if (static_cast<int64_t>(inputs.back().size()) > ctx_len)
            throw bad_param("input", "This model's maximum context length is " +
                                         std::to_string(ctx_len) + " tokens, but " + param +
                                         " has " + std::to_string(inputs.back().size()) +
                                         " tokens");
    }

    InflightGuard guard(inflight, inflight.add(engine, ConnectionWatch::find(req)));
    std::vector<RequestHandle> handles;
    for (auto& tokens : inputs) {
        RequestSpec spec;
        spec.prompt_tokens = std::move(tokens);
        spec.return_embedding = true;
        spec.sampling.max_tokens = 1;
        try {
            handles.push_back(engine->submit(std::move(spec)));
        } catch (const std::invalid_argument& e) {
            throw bad_param("input", e.what());
        }
        inflight.add_request_id(guard.token(), handles.back().request_id());
    }
    json data = json::array();
    int64_t prompt_tokens = 0;
    for (size_t i = 0; i < handles.size(); ++i) {
        RequestOutput out = handles[i].collect();
        if (!out.error.empty())
            throw ApiError(500, "embedding failed: " + out.error, "", "engine_error");
        if (inflight.aborted(guard.token()))
            throw ApiError(503, "the request was aborted", "", "aborted");
        if (out.embedding.empty())
            throw ApiError(500, "the engine returned no embedding", "", "engine_error");
        prompt_tokens += out.usage.prompt_tokens;
        json item = {{"object", "embedding"}, {"index", i}};
        if (er.base64) {
            item["embedding"] = base64_floats(out.embedding);
        } else {
            json values = json::array();
            for (float v : out.embedding) values.push_back(v);
            item["embedding"] = std::move(values);
        }
        data.push_back(std::move(item));
    }
    ctx->prompt_tokens = prompt_tokens;
    send_json(res, 200,
              {{"object", "list"},
               {"data", std::move(data)},
               {"model", model->id},
               {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}});
}

void ServerState::handle_tokenize(const httplib::Request& req, httplib::Response& res,
                                  const std::shared_ptr<RequestContext>& ctx) {
    json body = parse_json_object(req.body);
    auto model = resolve_model(parse_model_field(body));
    ctx->model = model->id;
    std::vector<int32_t> tokens;
    const bool add_special = get_bool(body, "add_special_tokens").value_or(true);
    if (find_field(body, "messages")) {
        GenerationRequest chat = parse_generation_request(body, Endpoint::Chat, limits);
        tokens = chat_prompt_tokens(*model, chat.messages, chat.tools);
    } else {
        const json* prompt = find_field(body, "prompt");
        if (!prompt) throw bad_param("prompt", "prompt (or messages) is required");
        if (!prompt->is_string())
            throw bad_param("prompt", "prompt must be a string (got " + type_name(*prompt) + ")");
        tokens =
            model->engine->model().vocab().tokenize(prompt->get<std::string>(), add_special, true);
    }
    ctx->prompt_tokens = static_cast<int64_t>(tokens.size());
    send_json(res, 200,
              {{"tokens", tokens},
               {"count", tokens.size()},
               {"max_model_len", model->engine->info().max_model_len}});
}

void ServerState::handle_detokenize(const httplib::Request& req, httplib::Response& res,
                                    const std::shared_ptr<RequestContext>& ctx) {
    json body = parse_json_object(req.body);
    auto model = resolve_model(parse_model_field(body));
    ctx->model = model->id;
    const json* tokens_json = find_field(body, "tokens");
    if (!tokens_json) throw bad_param("tokens", "tokens is required");
    const Vocab& vocab = model->engine->model().vocab();
    std::vector<int32_t> tokens = as_token_array(*tokens_json, "tokens", vocab.n_tokens());
    send_json(res, 200, {{"prompt", vocab.detokenize(tokens, false, true)}});
}

void ServerState::handle_health(const httplib::Request&, httplib::Response& res,
                                const std::shared_ptr<RequestContext>&) {
    if (draining) {
        send_json(res, 503, {{"status", "draining"}});
    } else if (!ready) {
        send_json(res, 503, {{"status", "loading"}});
    } else {
        send_json(res, 200, {{"status", "ok"}});
    }
}

void ServerState::handle_metrics(const httplib::Request&, httplib::Response& res,
                                 const std::shared_ptr<RequestContext>&) {
    std::vector<std::pair<std::string, std::shared_ptr<Engine>>> engines;
    for (const auto& m : models.list()) engines.emplace_back(m->id, m->engine);
    res.status = 200;
    res.set_content(metrics.render(engines), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace folio::server
