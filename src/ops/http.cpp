#include "ops/http.h"

#include "common/hex.h"

#include <algorithm>
#include <cctype>

namespace geodns::ops {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_token_char(char c) {
  // RFC 9110 5.6.2 tchar
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

std::optional<std::string> HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

std::optional<std::string> HttpRequest::query_param(std::string_view name) const {
  auto pairs = parse_form(query);
  if (!pairs) return std::nullopt;
  for (auto& [k, v] : *pairs) {
    if (k == name) return v;
  }
  return std::nullopt;
}

HttpParser::State HttpParser::fail(int status, std::string message) {
  state_ = State::error;
  error_status_ = status;
  error_message_ = std::move(message);
  buffer_.clear();
  return state_;
}

HttpParser::State HttpParser::feed(std::string_view data) {
  if (state_ != State::incomplete) return state_;
  if (body_start_ == 0) {
    // Only keep what can still be part of a bounded head; the search restarts a little
    // before the old end so a "\r\n\r\n" split across reads is found.
    const size_t search_from = buffer_.size() >= 3 ? buffer_.size() - 3 : 0;
    buffer_.append(data);
    size_t end = buffer_.find("\r\n\r\n", search_from);
    size_t sep = 4;
    if (end == std::string::npos) {
      end = buffer_.find("\n\n", search_from);  // tolerate bare LF (hand-typed requests)
      sep = 2;
    }
    if (end == std::string::npos) {
      if (buffer_.size() > limits_.max_header_bytes) {
        return fail(431, "request header larger than " + std::to_string(limits_.max_header_bytes) +
                             " bytes");
      }
      return state_;
    }
    if (end > limits_.max_header_bytes) {
      return fail(
          431, "request header larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
    }
    if (parse_head(std::string_view(buffer_).substr(0, end)) == State::error) return state_;
    body_start_ = end + sep;
  } else {
    buffer_.append(data);
  }
  if (buffer_.size() - body_start_ >= content_length_) {
    request_.body = buffer_.substr(body_start_, content_length_);
    buffer_.clear();
    state_ = State::complete;
  }
  return state_;
}

HttpParser::State HttpParser::parse_head(std::string_view head) {
  // Request line: METHOD SP request-target SP HTTP-version
  size_t eol = head.find('\n');
  std::string_view line = trim(head.substr(0, eol));
  head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 1);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(400, "malformed request line");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), is_token_char)) {
    return fail(400, "malformed method");
  }
  if (target.empty() || target.front() != '/') return fail(400, "request target must be a path");
  if (!version.starts_with("HTTP/1.")) return fail(505, "only HTTP/1.x is supported");
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail(400, "control character in request target");
    }
  }
  request_.method = std::string(method);
  request_.target = std::string(target);
  const size_t q = target.find('?');
  auto path = url_decode(target.substr(0, q), false);
  if (!path) return fail(400, "bad percent-encoding in path");
  request_.path = std::move(*path);
  if (q != std::string_view::npos) request_.query = std::string(target.substr(q + 1));

  bool have_length = false;
  while (!head.empty()) {
    eol = head.find('\n');
    std::string_view h = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 1);
    if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
    if (h.empty()) continue;
    if (h.front() == ' ' || h.front() == '\t') return fail(400, "obsolete header folding");
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(400, "malformed header line");
    const std::string_view name = h.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) {
      return fail(400, "malformed header name");
    }
    std::string lname = lower(name);
    std::string value(trim(h.substr(colon + 1)));
    if (lname == "content-length") {
      if (value.empty() || value.size() > 9 || !std::all_of(value.begin(), value.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) != 0;
          })) {
        return fail(400, "bad Content-Length");
      }
      const size_t n = std::stoul(value);
      if (have_length && n != content_length_) return fail(400, "conflicting Content-Length");
      if (n > limits_.max_body_bytes) {
        return fail(
            413, "request body larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
      }
      content_length_ = n;
      have_length = true;
    } else if (lname == "transfer-encoding") {
      return fail(501, "Transfer-Encoding is not supported; send Content-Length");
    }
    request_.headers.emplace_back(std::move(lname), std::move(value));
  }
  return state_;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 422:
      return "Unprocessable Content";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string serialize(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(reason_phrase(response.status)) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += "Connection: close\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  out += response.body;
  return out;
}

std::optional<std::string> url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' ||
        c == ':') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::optional<HeaderList> parse_form(std::string_view text) {
  HeaderList out;
  while (!text.empty()) {
    const size_t amp = text.find('&');
    std::string_view part = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    auto key = url_decode(part.substr(0, eq), true);
    auto value =
        url_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

}  // namespace geodns::ops
