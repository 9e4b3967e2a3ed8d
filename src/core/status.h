// Status and Result<T>: how every module reports failure.
//
// A Status is cheap when OK (no allocation) and carries a code a caller can
// branch on plus a message that names the thing that went wrong (file and
// offset, collection and field, expected and actual value). Failover and retry
// logic branch on codes, never on message text. Exceptions never cross a
// module boundary.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ark {

enum class StatusCode : int {
  kOk = 0,
  kNotFound = 1,
  kInvalidArgument = 2,
  kCorruption = 3,
  kIOError = 4,
  kUnavailable = 5,  // transient: the caller may retry
  kFailedPrecondition = 6,
  kAlreadyExists = 7,
  kFenced = 8,  // a newer epoch exists: this node must stop writing
  kPermissionDenied = 9,
  kNotSupported = 10,
  kResourceExhausted = 11,  // disk full, rate limited, over a limit
  kCancelled = 12,
  kTimedOut = 13,
  kInternal = 14,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Fenced(std::string m) { return {StatusCode::kFenced, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status NotSupported(std::string m) { return {StatusCode::kNotSupported, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status TimedOut(std::string m) { return {StatusCode::kTimedOut, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  bool Is(StatusCode c) const { return code() == c; }
  bool IsNotFound() const { return Is(StatusCode::kNotFound); }
  bool IsCorruption() const { return Is(StatusCode::kCorruption); }
  // True for codes where trying again later may succeed.
  bool IsRetryable() const {
    return Is(StatusCode::kUnavailable) || Is(StatusCode::kTimedOut);
  }

  // "Corruption: wal/0000.wal offset 4096: checksum mismatch"
  std::string ToString() const;

  // Returns a copy whose message is "context: message" (same code).
  Status WithContext(std::string_view context) const;

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

// Result<T>: a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) {
      v_ = Status::Internal("Result constructed from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ark

#define ARK_CONCAT_INNER(a, b) a##b
#define ARK_CONCAT(a, b) ARK_CONCAT_INNER(a, b)

// Returns early from the enclosing function if `expr` (a Status) is not OK.
#define ARK_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::ark::Status ark_status_ = (expr);        \
    if (!ark_status_.ok()) return ark_status_; \
  } while (0)

// ARK_ASSIGN_OR_RETURN(auto x, SomethingReturningResult());
#define ARK_ASSIGN_OR_RETURN(lhs, expr) \
  ARK_ASSIGN_OR_RETURN_IMPL(ARK_CONCAT(ark_result_, __LINE__), lhs, expr)
#define ARK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
