// Status / Result<T>: recoverable errors for bad input (files, configs, flags).
#pragma once
#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace peft {

// An error message that names the file/field and says what was expected and found.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message), true); }
  template <typename... Args>
  static Status errorf(fmt::format_string<Args...> f, Args&&... args) {
    return error(fmt::format(f, std::forward<Args>(args)...));
  }
  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return is_ok(); }
  const std::string& message() const { return message_; }
  // Prefix the message with context, e.g. the file being read.
  Status with_context(const std::string& context) const {
    return failed_ ? Status(context + ": " + message_, true) : *this;
  }

 private:
  Status(std::string m, bool failed) : message_(std::move(m)), failed_(failed) {}
  std::string message_;
  bool failed_ = false;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.is_ok()) status_ = Status::error("internal: Result built from an ok Status");
  }
  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace peft

#define PEFT_CONCAT_INNER(a, b) a##b
#define PEFT_CONCAT(a, b) PEFT_CONCAT_INNER(a, b)

// Return early from a function returning Status/Result when `expr` failed.
#define PEFT_TRY(expr)                                      \
  do {                                                      \
    ::peft::Status peft_try_status_ = (expr);               \
    if (!peft_try_status_.is_ok()) return peft_try_status_; \
  } while (0)

#define PEFT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.is_ok()) return tmp.status();           \
  lhs = std::move(tmp).value()

// PEFT_ASSIGN_OR_RETURN(auto x, make_x()); declares x from a Result or returns its error.
#define PEFT_ASSIGN_OR_RETURN(lhs, expr) PEFT_ASSIGN_OR_RETURN_IMPL(PEFT_CONCAT(peft_result_, __LINE__), lhs, expr)
