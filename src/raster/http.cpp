#include "raster/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>

#include "lidarhd/core/error.hpp"

namespace lidarhd::raster::http {
namespace {

// curl_global_init is not thread-safe and must run before any handle exists; never cleaned up
// (other libraries in the process, GDAL among them, may use libcurl too).
void global_init() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    throw IoError("http",
                  std::string("libcurl cannot be initialised: ") + curl_easy_strerror(result));
  }
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<Response*>(user)->body.append(data, size * count);
  return size * count;
}

std::string trim(std::string s) {
  const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && space(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && space(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// Headers arrive one line at a time, for every response of a redirect chain: a status line
// starts a new response, so only the final response's Retry-After is kept.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  const std::string line(data, size * count);
  if (line.compare(0, 5, "HTTP/") == 0) {
    response->retry_after.clear();
  } else if (line.size() > 12) {
    std::string name = line.substr(0, 12);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (name == "retry-after:") response->retry_after = trim(line.substr(12));
  }
  return size * count;
}

}  // namespace

Client::Client() {
  global_init();
  handle_ = curl_easy_init();
  if (!handle_) throw IoError("http", "curl_easy_init failed");
}

Client::~Client() { curl_easy_cleanup(static_cast<CURL*>(handle_)); }

Response Client::get(const std::string& url, double timeout_s) {
  CURL* curl = static_cast<CURL*>(handle_);
  Response response;
  char error[CURL_ERROR_SIZE] = {0};
  // Clamped so that absurd values cannot overflow the conversion (a day is long enough).
  const double clamped_s =
      std::isfinite(timeout_s) ? std::clamp(timeout_s, 0.001, 86400.0) : 86400.0;
  const long timeout_ms = static_cast<long>(std::ceil(clamped_s * 1000));
  curl_easy_reset(curl);  // keeps live connections, forgets the previous request's options
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // several handles run on several threads
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 30000L));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever this libcurl can decode
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "lidarhd");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);

  const CURLcode code = curl_easy_perform(curl);
  response.transport_code = static_cast<int>(code);
  if (code != CURLE_OK) {
    response.transport_error = error[0] ? error : curl_easy_strerror(code);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  char* type = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) {
    response.content_type = type;
  }
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // `error` dies with this frame
  return response;
}

std::string url_encode(const std::string& value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (const unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

bool timed_out(int curl_code) { return curl_code == CURLE_OPERATION_TIMEDOUT; }

bool retryable_transport(int curl_code) {
  switch (curl_code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:  // DNS hiccups are usually transient
    case CURLE_COULDNT_CONNECT:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_PARTIAL_FILE:  // Content-Length promised more than arrived
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:  // a cut gzip stream
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN:
      return true;
    default:
      return false;
  }
}

bool retryable_status(long status) {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

std::optional<double> parse_retry_after(const std::string& value, std::time_t now) {
  const std::string v = trim(value);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    if (v.size() > 9) return std::nullopt;  // nonsense; the cap would apply anyway
    return static_cast<double>(std::stol(v));
  }
  const std::time_t when = curl_getdate(v.c_str(), nullptr);
  if (when == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::max(0.0, std::difftime(when, now));
}

double retry_delay(const RetryPolicy& policy, int attempt, double unit,
                   std::optional<double> retry_after_s) {
  const double cap = std::max(0.0, policy.max_backoff_s);
  if (retry_after_s) return std::clamp(*retry_after_s, 0.0, cap);
  // 2^attempt overflows nothing below 1024, and the cap applies long before.
  const double base = std::min(cap, policy.backoff_s * std::ldexp(1.0, std::min(attempt, 60)));
  const double u = std::clamp(unit, 0.0, 1.0);
  return std::max(0.0, base * (0.5 + 0.5 * u));
}

}  // namespace lidarhd::raster::http
