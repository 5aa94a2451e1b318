// Status and StatusOr<T>: expected failures as values.
//
// A Status is either OK or carries a canonical Code and a human-readable message. Codes map
// one-to-one onto HTTP statuses and MLflow error codes in http/error_mapping (one table), so
// a module chooses the code that describes the failure and never thinks about HTTP.
//
// Thread-safety: values; copy freely.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cairn {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // the caller sent something malformed or out of range
  kNotFound,            // the named thing does not exist
  kAlreadyExists,       // a create collided with an existing thing
  kFailedPrecondition,  // the thing exists but is in the wrong state (e.g. a deleted run)
  kResourceExhausted,   // a size or rate limit was hit
  kUnavailable,         // transient; retrying may succeed (e.g. the database is busy)
  kUnimplemented,       // a recognised request this build does not support
  kDeadlineExceeded,    // a timeout elapsed
  kPermissionDenied,
  kInternal,            // a bug or an environment failure (disk, database corruption)
};

// "INVALID_ARGUMENT", "NOT_FOUND", ...
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: run 'abc' not found"
  std::string ToString() const;

  // Optional override of the MLflow error code for this error (e.g. "RESOURCE_ALREADY_EXISTS"
  // where MLflow answers 400 rather than the 409 that kAlreadyExists maps to). Empty = derive
  // from code().
  const std::string& mlflow_error_code() const { return mlflow_error_code_; }
  Status&& WithMlflowCode(std::string error_code) && {
    mlflow_error_code_ = std::move(error_code);
    return std::move(*this);
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string mlflow_error_code_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {Code::kResourceExhausted, std::move(m)};
}
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {Code::kUnimplemented, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Aborts the process with a message: for broken invariants only, never for user input.
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, std::string_view msg);

#define CAIRN_CHECK(cond)                                        \
  do {                                                           \
    if (!(cond)) ::cairn::CheckFailed(__FILE__, __LINE__, #cond, ""); \
  } while (0)

// StatusOr<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(const T& value) : value_(value) {}             // NOLINT: implicit by design
  StatusOr(T&& value) : value_(std::move(value)) {}       // NOLINT
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) CheckFailed(__FILE__, __LINE__, "!status.ok()", "StatusOr from OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    CheckOk();
    return *value_;
  }
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckOk() const {
    if (!value_) CheckFailed(__FILE__, __LINE__, "ok()", status_.ToString());
  }
  Status status_;
  std::optional<T> value_;
};

#define CAIRN_CONCAT_INNER(a, b) a##b
#define CAIRN_CONCAT(a, b) CAIRN_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    ::cairn::Status _st = (expr);             \
    if (!_st.ok()) return _st;                \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(CAIRN_CONCAT(_status_or_, __LINE__), lhs, expr)

}  // namespace cairn
