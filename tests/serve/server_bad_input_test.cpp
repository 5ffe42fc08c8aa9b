// Nothing a client sends crashes peft serve or leaks a slot: every malformed request we could
// think of and a few hundred random mutations of valid ones get an answer (4xx for the bad,
// OpenAI-style error bodies), and afterwards the server still answers correctly with no
// request left in flight.
#include <gtest/gtest.h>

#include <random>

#include "serve_fixture.h"

namespace peft::test {
namespace {

class ServeBadInput : public ServeSuite {};

std::string http_post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// The status of a raw HTTP/1.1 response, or -1.
int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return -1;
  return std::atoi(response.substr(9, 3).c_str());
}

TEST_F(ServeBadInput, MalformedAndMutatedRequestsGet4xxAndLeakNothing) {
  serve::ServeOptions o;
  o.model_path = model_;
  o.adapter_dir = adapter_dir_;
  o.adapters = {{"l", adapter_dir_ + "/lora"}};
  o.chat_template = shared_path("data/chat_templates/templates/Qwen-Qwen2.5-7B-Instruct.jinja");
  o.max_body_bytes = 64 << 10;
  RunningServer server(o);
  const std::string valid = Json{{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}}.dump();
  const std::string want = completion_text(server.post("/v1/completions", valid).second).first;
  ASSERT_FALSE(want.empty());

  struct Bad {
    std::string path, body;
    int status;
  };
  const std::string C = "/v1/completions", H = "/v1/chat/completions";
  const std::vector<Bad> bad = {
      {C, "", 400},
      {C, "{", 400},
      {C, "[]", 400},
      {C, "null", 400},
      {C, "\"prompt\"", 400},
      {C, R"({"prompt": 1})", 400},
      {C, R"({"prompt": ["a", "b"]})", 400},
      {C, R"({"prompt": []})", 400},
      {C, R"({"prompt": [-1]})", 400},
      {C, R"({"prompt": [99999999]})", 400},
      {C, R"({"prompt": [1.5]})", 400},
      {C, R"({"prompt": [[1, 2], [3]]})", 400},
      {C, R"({"max_tokens": 5})", 400},
      {C, R"({"prompt": "x", "max_tokens": -1})", 400},
      {C, R"({"prompt": "x", "max_tokens": 0})", 400},
      {C, R"({"prompt": "x", "max_tokens": 1e12})", 400},
      {C, R"({"prompt": "x", "max_tokens": "5"})", 400},
      {C, R"({"prompt": "x", "max_tokens": 1.5})", 400},
      {C, R"({"prompt": "x", "temperature": -1})", 400},
      {C, R"({"prompt": "x", "temperature": "hot"})", 400},
      {C, R"({"prompt": "x", "top_p": 0})", 400},
      {C, R"({"prompt": "x", "top_p": 2})", 400},
      {C, R"({"prompt": "x", "top_k": -5})", 400},
      {C, R"({"prompt": "x", "seed": "x"})", 400},
      {C, R"({"prompt": "x", "stop": 5})", 400},
      {C, R"({"prompt": "x", "stop": [1]})", 400},
      {C, R"({"prompt": "x", "n": 2})", 400},
      {C, R"({"prompt": "x", "best_of": 3})", 400},
      {C, R"({"prompt": "x", "presence_penalty": 0.5})", 400},
      {C, R"({"prompt": "x", "logit_bias": {"5": 100}})", 400},
      {C, R"({"prompt": "x", "echo": true})", 400},
      {C, R"({"prompt": "x", "logprobs": 50})", 400},
      {C, R"({"prompt": "x", "logprobs": true})", 400},
      {C, R"({"prompt": "x", "stream": "yes"})", 400},
      {C, R"({"prompt": "x", "stream_options": 1})", 400},
      {C, R"({"prompt": "x", "lora": "x"})", 400},
      {C, R"({"prompt": "x", "lora": [{"id": -1}]})", 400},
      {C, R"({"prompt": "x", "lora": [{"scale": 1}]})", 400},
      {C, R"({"prompt": "x", "lora": [{"id": 3}]})", 400},
      {C, R"({"prompt": "x", "model": 5})", 400},
      {C, R"({"prompt": "x", "model": "../../etc"})", 400},
      {C, R"({"prompt": "x", "model": "nope"})", 404},
      {C, R"({"prompt": "x", "model": ""})", 200},
      {C, "{\"prompt\": \"\xff\xfe\"}", 400},
      {C, R"({"prompt": "\ud800"})", 400},
      {C, std::string(100, '[') + std::string(100, ']'), 400},
      {C, std::string(20000, '['), 400},
      {C, Json{{"prompt", std::string(3000, 'a')}}.dump(), 400},  // longer than the context
      {C, Json{{"prompt", std::string(70 << 10, 'a')}}.dump(), 413},
      {H, R"({"prompt": "x"})", 400},
      {H, R"({"messages": []})", 400},
      {H, R"({"messages": [1]})", 400},
      {H, R"({"messages": [{"role": "x", "content": "y"}]})", 400},
      {H, R"({"messages": [{"role": "user"}]})", 400},
      {H, R"({"messages": [{"role": "user", "content": 5}]})", 400},
      {H, R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})", 400},
      {H, R"({"messages": [{"role": "user", "content": "x"}], "logprobs": 3})", 400},
      {H, R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 3})", 400},
      {H, R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})", 400},
      {"/v1/load_lora_adapter", "{}", 400},
      {"/v1/load_lora_adapter", R"({"lora_name": "a", "lora_path": "/etc"})", 400},
      {"/v1/load_lora_adapter", R"({"lora_name": "a", "lora_path": "../x"})", 400},
      {"/v1/load_lora_adapter", R"({"lora_name": "a", "lora_path": "nope"})", 404},
      {"/v1/unload_lora_adapter", R"({"lora_name": 5})", 400},
      {"/v1/unload_lora_adapter", R"({"lora_name": "l"})", 400},
      {"/v1/nothing", "{}", 404},
  };
  for (const Bad& b : bad) {
    auto [status, body] = server.post(b.path, b.body);
    EXPECT_EQ(status, b.status) << b.path << " " << b.body.substr(0, 80) << " -> " << body.substr(0, 200);
    if (status >= 400) {
      auto j = Json::parse(body, nullptr, false);
      EXPECT_TRUE(!j.is_discarded() && j.contains("error") && j["error"].contains("message"))
          << b.body.substr(0, 80) << " -> " << body.substr(0, 200);
    }
  }

  // Broken HTTP: no crash, a 4xx or a closed connection.
  const std::vector<std::string> raw = {
      "GARBAGE\r\n\r\n",
      "POST /v1/completions HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
      "POST /v1/completions HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
      "POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
      "POST /v1/completions HTTP/1.1\r\nHost\r\n\r\n",
      "POST /v1/completions HTTP/1.1\r\nX: " + std::string(100000, 'a') + "\r\n\r\n",
      http_post("/v1/completions", valid).substr(0, 120),  // the body cut short, then the peer closes
      "GET /v1/completions HTTP/1.1\r\n\r\n",
      "DELETE /v1/models HTTP/1.1\r\n\r\n",
  };
  for (const std::string& r : raw) {
    const int status = status_of(server.raw(r, 1 << 16, 500));
    EXPECT_TRUE(status == -1 || (status >= 400 && status < 500)) << r.substr(0, 60) << " -> " << status;
  }

  // Random mutations of valid requests: bytes flipped, cut, repeated; values swapped for other
  // types. Any answer but a crash or a 5xx is fine.
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {C, valid},
      {C, Json{{"model", "lora"}, {"prompt", "Hi"}, {"max_tokens", 6}, {"stream", true}, {"logprobs", 2}}.dump()},
      {C, Json{{"prompt", {1, 2, 3}}, {"max_tokens", 4}, {"stop", {"a", "b"}}, {"lora", {{{"id", 0}, {"scale", 0.5}}}}}
              .dump()},
      {H,
       Json{{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 5}, {"seed", 3}, {"temperature", 0.7}}
           .dump()},
      {"/v1/load_lora_adapter", Json{{"lora_name", "m"}, {"lora_path", "ia3"}}.dump()},
  };
  std::mt19937 gen(12345);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(gen); };
  const std::vector<Json> odd_values = {nullptr,
                                        true,
                                        -1,
                                        0,
                                        1e300,
                                        -1e300,
                                        "",
                                        "..",
                                        Json::array(),
                                        Json::object(),
                                        2147483648LL,
                                        -9223372036854775807LL,
                                        0.5,
                                        Json::array({Json::array()})};
  int answered = 0;
  for (int i = 0; i < 300; ++i) {
    auto [path, body] = seeds[pick(seeds.size())];
    const int kind = int(pick(5));
    if (kind == 0) {
      for (int k = 0; k < 3; ++k) body[pick(body.size())] = char(pick(256));
    } else if (kind == 1) {
      body.resize(pick(body.size()));
    } else if (kind == 2) {
      const size_t at = pick(body.size());
      body.insert(at, body.substr(pick(body.size())));
    } else {
      Json j = Json::parse(body);
      auto it = j.begin();
      std::advance(it, long(pick(j.size())));
      *it = kind == 3 ? odd_values[pick(odd_values.size())] : Json(std::string(pick(50), char('a' + pick(26))));
      body = j.dump();
    }
    auto [status, answer] = server.post(path, body);
    EXPECT_TRUE(status == 200 || status == 400 || status == 404 || status == 413)
        << path << " " << body.substr(0, 100) << " -> " << status << " " << answer.substr(0, 200);
    answered += status > 0;
    if (path == "/v1/load_lora_adapter" && status == 200)  // leave the name free for the next one
      (void)server.post("/v1/unload_lora_adapter", Json{{"lora_name", Json::parse(body)["lora_name"]}}.dump());
  }
  EXPECT_EQ(answered, 300);

  // Still right, with nothing left in flight.
  EXPECT_EQ(server.get("/health"), "{}");
  EXPECT_EQ(completion_text(server.post("/v1/completions", valid).second).first, want);
  EXPECT_EQ(server.metric("peft_requests_in_flight"), 0);  // released before the answer is written
  // The batch gauges are refreshed after each scheduler step, just after the answer went out.
  for (int i = 0; i < 100 && server.metric("peft_requests_running") + server.metric("peft_requests_waiting") != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(server.metric("peft_requests_running"), 0);
  EXPECT_EQ(server.metric("peft_requests_waiting"), 0);
}

}  // namespace
}  // namespace peft::test
