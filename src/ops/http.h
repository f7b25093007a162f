// A deliberately small HTTP/1.1 request parser and response writer for the control endpoint.
// It serves operators and scrapers on loopback, so it supports exactly what they send: one
// request per connection, Content-Length bodies (no chunked encoding), bounded sizes. Pure: no
// sockets, so every malformed input is unit-tested.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace geodns::ops {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/explain?name=www.example.com."
  std::string path;    // "/explain" (percent-decoded)
  std::string query;   // "name=www.example.com." (raw)
  HeaderList headers;  // names lower-cased, values trimmed
  std::string body;

  // The first header with this (lower-case) name, or nullopt.
  std::optional<std::string> header(std::string_view lower_name) const;
  // A decoded query-string parameter, or nullopt.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024;
};

class HttpParser {
 public:
  enum class State { incomplete, complete, error };

  explicit HttpParser(HttpLimits limits = {}) : limits_(limits) {}

  // Appends bytes received from the client. Once complete or error, further bytes are ignored
  // (one request per connection).
  State feed(std::string_view data);
  State state() const noexcept { return state_; }
  const HttpRequest& request() const noexcept { return request_; }
  // On error: the status to answer with (400, 413, 431, 501, 505) and why.
  int error_status() const noexcept { return error_status_; }
  const std::string& error_message() const noexcept { return error_message_; }

 private:
  State fail(int status, std::string message);
  State parse_head(std::string_view head);

  HttpLimits limits_;
  State state_ = State::incomplete;
  std::string buffer_;
  size_t body_start_ = 0;  // 0 = head not parsed yet
  size_t content_length_ = 0;
  HttpRequest request_;
  int error_status_ = 0;
  std::string error_message_;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  HeaderList headers;  // extra headers (Allow, WWW-Authenticate, Cache-Control...)
};

// Status line, headers (Content-Length, Connection: close) and body.
std::string serialize(const HttpResponse& response);
std::string_view reason_phrase(int status);

// Percent-decoding; `plus_is_space` for query strings and form bodies. nullopt on a bad escape.
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space);
std::string url_encode(std::string_view text);
// "a=1&b=two" -> pairs, decoded; malformed escapes make the whole thing nullopt.
std::optional<HeaderList> parse_form(std::string_view text);

}  // namespace geodns::ops
