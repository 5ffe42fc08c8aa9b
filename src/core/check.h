// PEFT_CHECK: broken internal invariants abort with file:line (bad input uses Status).
#pragma once
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace peft::detail {
[[noreturn]] inline void check_failed(const char* file, int line, const char* cond, const std::string& msg) {
  std::fprintf(stderr, "%s:%d: check failed: %s %s\n", file, line, cond, msg.c_str());
  std::abort();
}
}  // namespace peft::detail

#define PEFT_CHECK(cond, ...)                                                                            \
  do {                                                                                                   \
    if (!(cond)) ::peft::detail::check_failed(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__)); \
  } while (0)
