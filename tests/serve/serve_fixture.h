// A `peft serve` running in this process on a free port, over the converted stories260K and a
// folder of adapters of every method (parameters moved off their initial values, so each
// changes the output), with a raw-socket helper for what an HTTP client library will not send.
#pragma once
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <random>
#include <regex>
#include <thread>

#include "adapters/adapter_io.h"
#include "adapters/registry.h"
#include "cli/stories_suite.h"
#include "serve/server.h"

namespace peft::test {

struct ServeMethod {
  const char* name;  // the adapter's folder under adapters/
  const char* method;
  Json config;
};

inline std::vector<ServeMethod> serve_methods() {
  return {
      {"lora", "lora", Json{{"r", 4}, {"lora_alpha", 8}, {"target_modules", "all-linear"}}},
      {"ia3", "ia3", Json::object()},
      {"bottleneck", "bottleneck", Json{{"bottleneck_size", 8}}},
      {"parallel", "bottleneck", Json{{"bottleneck_size", 4}, {"use_parallel_adapter", true}}},
      {"prompt", "prompt", Json{{"num_virtual_tokens", 4}}},
      {"prefix", "prefix", Json{{"num_virtual_tokens", 3}}},
      {"adamix", "adamix", Json{{"r", 4}, {"num_experts", 3}, {"share_up", false}}},
      {"adalink", "adalink", Json{{"r", 4}}},
  };
}

class ServeSuite : public StoriesSuite {
 protected:
  static void SetUpTestSuite() {
    StoriesSuite::SetUpTestSuite();
    adapter_dir_ = *dir_ / "adapters";
    std::filesystem::create_directories(adapter_dir_);
    auto model = load_model(model_);
    ASSERT_TRUE(model.is_ok()) << model.status().message();
    std::mt19937 gen(5);
    std::normal_distribution<float> noise(0.f, 0.3f);
    for (const ServeMethod& m : serve_methods()) {
      auto a = find_method(m.method)->create(**model, m.config, m.name, 3);
      ASSERT_TRUE(a.is_ok()) << a.status().message();
      for (Param& p : (*a)->params().all())
        for (int64_t i = 0; i < p.value.numel(); ++i) p.value.f32()[i] += noise(gen);
      ASSERT_TRUE(save_adapter(**a, adapter_dir_ + "/" + m.name, model_).is_ok());
    }
    // The LoRA as llama.cpp's GGUF adapter too: `"model": "lora-gguf"` finds lora-gguf.gguf.
    auto r = run_peft("export --format gguf-lora --model " + model_ + " --adapter " + adapter_dir_ + "/lora --out " +
                      adapter_dir_ + "/lora-gguf.gguf");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // `peft generate`'s output for a prompt, greedy, with an adapter of adapters/ (or none).
  static std::string cli_generate(const std::string& adapter, const std::string& prompt, int64_t max_tokens,
                                  const std::string& extra = "") {
    const std::string a = adapter.empty() ? "" : " --adapter " + adapter_dir_ + "/" + adapter;
    auto r = run_peft("generate --model " + model_ + a + " --prompt '" + prompt + "' --max-new-tokens " +
                      std::to_string(max_tokens) + " " + extra);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  static inline std::string adapter_dir_;
};

// The server on a thread; stopped and joined at scope exit.
class RunningServer {
 public:
  explicit RunningServer(serve::ServeOptions o) {
    o.port = 0;
    auto s = serve::Server::create(o);
    EXPECT_TRUE(s.is_ok()) << s.status().message();
    if (!s.is_ok()) return;
    server_ = std::move(*s);
    std::promise<int> bound;
    auto got = bound.get_future();
    thread_ = std::thread([this, &bound] {
      Status st = server_->run([&bound](int port) { bound.set_value(port); });
      EXPECT_TRUE(st.is_ok()) << st.message();
    });
    port_ = got.get();
  }
  ~RunningServer() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }
  // POST `body` as JSON; {status, body}.
  std::pair<int, std::string> post(const std::string& path, const std::string& body) const {
    auto c = client();
    auto r = c.Post(path, body, "application/json");
    if (!r) return {-1, "no response: " + httplib::to_string(r.error())};
    return {r->status, r->body};
  }
  std::string get(const std::string& path) const {
    auto c = client();
    auto r = c.Get(path);
    return r ? r->body : std::string();
  }
  // A metric's value from /metrics (the first line starting with `name` + " "), or -1.
  double metric(const std::string& name) const {
    const std::string text = get("/metrics");
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    return -1;
  }
  // Sends raw bytes, reads until the peer closes, at most `max_bytes`, or `read_ms` passes.
  std::string raw(const std::string& bytes, size_t max_bytes = 1 << 16, int read_ms = 2000) const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return "";
    }
    timeval tv{read_ms / 1000, (read_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    [[maybe_unused]] ssize_t w = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    std::string out;
    char buf[4096];
    while (out.size() < max_bytes) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, size_t(n));
    }
    ::close(fd);
    return out;
  }

 private:
  std::unique_ptr<serve::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// The text of a completion (or of a chat answer), and its finish reason.
inline std::pair<std::string, std::string> completion_text(const std::string& body) {
  auto j = Json::parse(body);
  const Json& c = j.at("choices").at(0);
  const std::string text =
      c.contains("message") ? c["message"]["content"].get<std::string>() : c["text"].get<std::string>();
  return {text, c["finish_reason"].get<std::string>()};
}

// The concatenated text of a server-sent-events stream, and its last finish reason.
inline std::pair<std::string, std::string> stream_text(const std::string& body) {
  std::string text, finish;
  std::istringstream in(body);
  std::string line;
  bool done = false;
  while (std::getline(in, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    if (line == "data: [DONE]") {
      done = true;
      continue;
    }
    auto j = Json::parse(line.substr(6));
    if (j["choices"].empty()) continue;
    const Json& c = j["choices"][0];
    if (c.contains("text")) text += c["text"].get<std::string>();
    if (c.contains("delta") && c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
    if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
  }
  if (!done) finish += " (no [DONE])";
  return {text, finish};
}

}  // namespace peft::test
