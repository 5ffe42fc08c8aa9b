// peft serve as a client sees it: mixed-adapter batches answer exactly what `peft generate
// --adapter` prints, streams and whole answers agree, adapters load on demand and stay
// inside --adapter-dir, and bad requests get 4xx without leaking a slot.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "serve_fixture.h"

namespace peft::test {
namespace {

class Serve : public ServeSuite {
 protected:
  serve::ServeOptions options() const {
    serve::ServeOptions o;
    o.model_path = model_;
    o.adapter_dir = adapter_dir_;
    o.max_batch = 16;
    return o;
  }
};

std::string completion_body(const std::string& model, const std::string& prompt, int64_t max_tokens,
                            bool stream = false) {
  return Json{{"model", model},   {"prompt", prompt},   {"max_tokens", max_tokens},
              {"temperature", 0}, {"ignore_eos", true}, {"stream", stream}}
      .dump();
}

TEST_F(Serve, ConcurrentRequestsOfEveryMethodGetWhatPeftGenerateGivesEachAlone) {
  serve::ServeOptions o = options();
  o.adapters = {{"pinned-lora", adapter_dir_ + "/lora"}};
  RunningServer server(o);
  // Every method from --adapter-dir, a pinned adapter and the base, all at once; half of
  // them streamed. 120 tokens each keep them in the batch together.
  std::vector<std::string> models = {"", "pinned-lora"};
  for (const ServeMethod& m : serve_methods()) models.push_back(m.name);
  const int64_t n = 120;
  const std::string prompt = "Once upon a time";
  std::vector<std::pair<int, std::string>> answers(models.size());
  std::vector<std::thread> clients;
  for (size_t i = 0; i < models.size(); ++i)
    clients.emplace_back(
        [&, i] { answers[i] = server.post("/v1/completions", completion_body(models[i], prompt, n, i % 2 == 1)); });
  for (auto& t : clients) t.join();
  for (size_t i = 0; i < models.size(); ++i) {
    ASSERT_EQ(answers[i].first, 200) << models[i] << ": " << answers[i].second;
    const auto [text, finish] = i % 2 ? stream_text(answers[i].second) : completion_text(answers[i].second);
    const std::string adapter = models[i] == "pinned-lora" ? "lora" : models[i];
    EXPECT_EQ(prompt + text + "\n", cli_generate(adapter, prompt, n, "--ignore-eos")) << "model '" << models[i] << "'";
    EXPECT_EQ(finish, "length") << models[i];
  }
  EXPECT_GT(server.metric("peft_mixed_decode_steps_total"), 0) << "no decode step mixed adapters";
  EXPECT_EQ(server.metric("peft_requests_in_flight"), 0);
}

TEST_F(Serve, ChatUsesTheTemplateAndStopsAtTheEndOfTurn) {
  serve::ServeOptions o = options();
  o.chat_template = shared_path("data/chat_templates/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
  RunningServer server(o);
  const std::string body = Json{
      {"model", "lora"},
      {"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
      {"max_tokens", 30},
      {"temperature", 0}}.dump();
  auto [status, answer] = server.post("/v1/chat/completions", body);
  ASSERT_EQ(status, 200) << answer;
  const std::string want = cli_generate("lora", "Tell me a story", 30, "--chat-template " + o.chat_template);
  EXPECT_EQ(completion_text(answer).first + "\n", want);
  auto j = Json::parse(answer);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  // The stream carries the same answer, role first.
  Json streamed = Json::parse(body);
  streamed["stream"] = true;
  auto [s2, events] = server.post("/v1/chat/completions", streamed.dump());
  ASSERT_EQ(s2, 200);
  EXPECT_EQ(stream_text(events).first + "\n", want);
  EXPECT_NE(events.find("\"role\":\"assistant\""), std::string::npos);
}

TEST_F(Serve, SamplingLogprobsStopStringsAndLoraScales) {
  serve::ServeOptions o = options();
  o.adapters = {{"l", adapter_dir_ + "/lora"}, {"ia3", adapter_dir_ + "/ia3"}};
  RunningServer server(o);
  // A seeded sample is what peft generate samples with the same seed.
  Json sampled = {{"prompt", "Once upon a time"},
                  {"max_tokens", 25},
                  {"temperature", 0.8},
                  {"top_k", 40},
                  {"top_p", 0.9},
                  {"seed", 1234}};
  auto [s1, a1] = server.post("/v1/completions", sampled.dump());
  ASSERT_EQ(s1, 200) << a1;
  EXPECT_EQ("Once upon a time" + completion_text(a1).first + "\n",
            cli_generate("", "Once upon a time", 25, "--temperature 0.8 --top-k 40 --top-p 0.9 --seed 1234"));
  // logprobs: one entry per token, the chosen one among the top alternatives, offsets add up.
  Json lp = {{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"temperature", 0}, {"logprobs", 3}};
  auto [s2, a2] = server.post("/v1/completions", lp.dump());
  ASSERT_EQ(s2, 200) << a2;
  auto j = Json::parse(a2);
  const Json& l = j["choices"][0]["logprobs"];
  ASSERT_EQ(l["tokens"].size(), 6u);
  std::string joined;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(l["text_offset"][i].get<size_t>(), joined.size());
    joined += l["tokens"][i].get<std::string>();
    EXPECT_LE(l["token_logprobs"][i].get<double>(), 0.0);
    EXPECT_EQ(l["top_logprobs"][i].size(), 3u);
    EXPECT_TRUE(l["top_logprobs"][i].contains(l["tokens"][i].get<std::string>()));  // greedy: the best
  }
  EXPECT_EQ(joined, j["choices"][0]["text"]);
  // A stop string ends the text before it, finish_reason "stop".
  const std::string full =
      completion_text(server.post("/v1/completions", completion_body("", "Once upon a time", 30)).second).first;
  const std::string stop = full.substr(12, 4);
  Json stopped = Json::parse(completion_body("", "Once upon a time", 30));
  stopped["stop"] = {stop};
  auto [t, why] = completion_text(server.post("/v1/completions", stopped.dump()).second);
  EXPECT_EQ(t, full.substr(0, full.find(stop)));
  EXPECT_EQ(why, "stop");
  // llama-server's "lora": scale 0 is the base, 1 the adapter, 0.5 = --adapter-scale 0.5.
  for (double scale : {0.0, 1.0, 0.5}) {
    Json b = Json::parse(completion_body("", "Once upon a time", 20));
    b["lora"] = {{{"id", 0}, {"scale", scale}}};
    auto [st, body] = server.post("/v1/completions", b.dump());
    ASSERT_EQ(st, 200) << body;
    const std::string want = scale == 0 ? cli_generate("", "Once upon a time", 20, "--ignore-eos")
                                        : cli_generate("lora", "Once upon a time", 20,
                                                       "--ignore-eos --adapter-scale " + std::to_string(scale));
    EXPECT_EQ("Once upon a time" + completion_text(body).first + "\n", want) << "scale " << scale;
  }
  Json bad = Json::parse(completion_body("", "x", 5));
  bad["lora"] = {{{"id", 1}, {"scale", 1}}};  // IA3 has no scale
  EXPECT_EQ(server.post("/v1/completions", bad.dump()).first, 400);
  bad["lora"] = {{{"id", 7}, {"scale", 1}}};
  EXPECT_EQ(server.post("/v1/completions", bad.dump()).first, 400);
}

TEST_F(Serve, AdaptersLoadOnDemandLeastRecentlyUsedLeaveAndNamesStayInsideTheFolder) {
  serve::ServeOptions o = options();
  o.max_loaded_adapters = 2;
  // A symlink inside the folder that leads out of it, to a valid adapter.
  TempDir outside;
  std::filesystem::copy(adapter_dir_ + "/lora", outside / "lora-copy", std::filesystem::copy_options::recursive);
  std::filesystem::create_directory_symlink(outside.path(), adapter_dir_ + "/escape");
  RunningServer server(o);
  for (const char* name : {"lora", "ia3", "prompt", "lora"}) {
    auto [s, body] = server.post("/v1/completions", completion_body(name, "Hi", 4));
    EXPECT_EQ(s, 200) << name << ": " << body;
  }
  EXPECT_EQ(server.metric("peft_adapter_loads_total"), 4);  // lora was evicted, then loaded again
  EXPECT_EQ(server.metric("peft_adapter_evictions_total"), 2);
  EXPECT_EQ(server.metric("peft_adapters_loaded"), 2);
  auto models = Json::parse(server.get("/v1/models"));
  EXPECT_EQ(models["data"].size(), 3u);  // the base and two adapters
  for (const char* name : {"../adapters/lora", "/etc", "escape/lora-copy", "lora/../../x", "escape"}) {
    auto [s, body] = server.post("/v1/completions", completion_body(name, "Hi", 4));
    EXPECT_EQ(s, 400) << name << ": " << body;
  }
  auto [s404, b404] = server.post("/v1/completions", completion_body("no-such-adapter", "Hi", 4));
  EXPECT_EQ(s404, 404);
  EXPECT_EQ(Json::parse(b404)["error"]["code"], "model_not_found");
  std::filesystem::remove(adapter_dir_ + "/escape");
  // vLLM's runtime loading: only paths inside the folder.
  EXPECT_EQ(server.post("/v1/load_lora_adapter", Json{{"lora_name", "x"}, {"lora_path", outside.path()}}.dump()).first,
            400);
  EXPECT_EQ(server.post("/v1/load_lora_adapter", Json{{"lora_name", "mine"}, {"lora_path", "lora"}}.dump()).first, 200);
  EXPECT_EQ(server.post("/v1/completions", completion_body("mine", "Hi", 4)).first, 200);
  EXPECT_EQ(server.post("/v1/unload_lora_adapter", Json{{"lora_name", "mine"}}.dump()).first, 200);
  EXPECT_EQ(server.post("/v1/completions", completion_body("mine", "Hi", 4)).first, 404);
  EXPECT_EQ(server.post("/v1/unload_lora_adapter", Json{{"lora_name", "mine"}}.dump()).first, 404);
}

TEST_F(Serve, AFullQueueAnswers503AndADisconnectFreesItsRow) {
  serve::ServeOptions o = options();
  o.max_batch = 1;
  o.max_queue = 1;
  RunningServer server(o);
  // A streamed request whose client leaves after the first chunk: cancelled at the next token.
  const std::string body = completion_body("", "Once upon a time", 480, true);
  const std::string req =
      "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::string head = server.raw(req, 600);
  EXPECT_NE(head.find("200 OK"), std::string::npos) << head;
  for (int i = 0; i < 100 && server.metric("peft_requests_in_flight") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(server.metric("peft_requests_in_flight"), 0);
  EXPECT_EQ(server.metric("peft_requests_total{outcome=\"cancelled\"}"), 1);
  // Four long requests at once on one row and one queue place: some get 503 + Retry-After.
  std::atomic<int> ok{0}, busy{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&] {
      auto c = server.client();
      auto r = c.Post("/v1/completions", completion_body("", "Once upon a time", 480), "application/json");
      if (r && r->status == 200) ++ok;
      if (r && r->status == 503 && r->get_header_value("Retry-After") == "1") ++busy;
    });
  for (auto& t : clients) t.join();
  EXPECT_GE(ok.load(), 1);
  EXPECT_GE(busy.load(), 1);
  EXPECT_EQ(ok + busy, 4);
  EXPECT_EQ(server.metric("peft_requests_in_flight"), 0);
}

TEST_F(Serve, AGgufLoraInTheFolderServesAsItsPeftFolderDoes) {
  RunningServer server(options());
  auto [s, body] = server.post("/v1/completions", completion_body("lora-gguf", "Once upon a time", 40));
  ASSERT_EQ(s, 200) << body;
  EXPECT_EQ("Once upon a time" + completion_text(body).first + "\n",
            cli_generate("lora-gguf.gguf", "Once upon a time", 40, "--ignore-eos"));
  EXPECT_EQ(
      completion_text(body).first,
      completion_text(server.post("/v1/completions", completion_body("lora", "Once upon a time", 40)).second).first);
}

TEST_F(Serve, ARequestPastItsTimeoutEndsWithLength) {
  serve::ServeOptions o = options();
  o.request_timeout_s = 1e-6;
  RunningServer server(o);
  auto [s, body] = server.post("/v1/completions", completion_body("", "Once upon a time", 400));
  ASSERT_EQ(s, 200) << body;
  EXPECT_EQ(completion_text(body).second, "length");
  EXPECT_LT(Json::parse(body)["usage"]["completion_tokens"].get<int>(), 400);
}

TEST_F(Serve, HealthModelsMetricsAndThePlayground) {
  RunningServer server(options());
  EXPECT_EQ(server.get("/health"), "{}");
  auto models = Json::parse(server.get("/v1/models"));
  EXPECT_EQ(models["data"][0]["id"], "stories260K");
  const std::string page = server.get("/");
  EXPECT_NE(page.find("peft.cpp playground"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos) << "the page loads nothing from elsewhere";
  EXPECT_EQ(page.find("https://"), std::string::npos);
  const std::string metrics = server.get("/metrics");
  for (const char* name : {"peft_requests_running", "peft_batch_size_bucket", "peft_queue_time_seconds_count",
                           "peft_generation_tokens_total", "peft_adapter_requests_total"})
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
}

}  // namespace
}  // namespace peft::test
