// Result<T>: the error channel of every load and control path (never the packet path).
// An Error carries the file, line and column where it has them, so that it prints as
// `zones/example.com.toml:12:9: unknown datacenter "fra2"`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace geodns {

struct Error {
  std::string message;
  std::string file;     // empty when the error has no source file
  uint32_t line = 0;    // 1-based; 0 = unknown
  uint32_t column = 0;  // 1-based; 0 = unknown

  // "file:line:column: message", dropping the parts that are unknown.
  std::string to_string() const {
    std::string out;
    if (!file.empty()) {
      out += file;
      if (line != 0) {
        out += ':' + std::to_string(line);
        if (column != 0) out += ':' + std::to_string(column);
      }
      out += ": ";
    }
    out += message;
    return out;
  }
};

inline Error make_error(std::string message) {
  return Error{std::move(message), {}, 0, 0};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace geodns
