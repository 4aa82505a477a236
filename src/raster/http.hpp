// A small HTTP GET client over libcurl for the WMS source, and its retry policy. The policy is
// pure (no clock, no randomness of its own) so that tests can pin every decision.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

namespace lidarhd::raster::http {

struct Response {
  int transport_code = 0;       // CURLcode; 0 = a complete HTTP response arrived
  std::string transport_error;  // curl's message when transport_code != 0
  long status = 0;              // HTTP status (0 when nothing arrived)
  std::string content_type;     // Content-Type of the final response, "" when absent
  std::string retry_after;      // Retry-After header value, "" when absent
  std::string body;
  bool ok() const { return transport_code == 0; }
};

// One libcurl easy handle: keeps its connections alive between requests. Not thread-safe: use one
// Client per thread. Never throws for network problems (they come back in Response); throws
// IoError only when libcurl cannot be initialised.
class Client {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Response get(const std::string& url, double timeout_s);

 private:
  void* handle_ = nullptr;  // CURL*, kept out of this header
};

// Percent-encodes everything but RFC 3986 unreserved characters (for query values).
std::string url_encode(const std::string& value);

// ---- retry policy ----

struct RetryPolicy {
  int retries = 5;            // after the first attempt
  double backoff_s = 1.0;     // delay before the first retry
  double max_backoff_s = 60;  // cap on any delay, Retry-After included
};

// Transport failures worth another attempt: timeouts, refused/reset connections, truncated
// transfers, empty replies. Not: malformed URLs, unsupported protocols, TLS certificate errors.
bool retryable_transport(int curl_code);
bool timed_out(int curl_code);
// HTTP statuses worth another attempt: 408, 429 and 5xx.
bool retryable_status(long status);

// Seconds to wait from a Retry-After value: delta-seconds ("120") or an HTTP-date, relative to
// `now`; nullopt when absent or unreadable. A date in the past gives 0.
std::optional<double> parse_retry_after(const std::string& value, std::time_t now);

// Delay before retry number `attempt` (0 = the first retry): the server's Retry-After when it
// gave one, else backoff * 2^attempt scaled by a jitter factor in [0.5, 1] taken from `unit`
// (a uniform number in [0, 1)); both capped by max_backoff_s.
double retry_delay(const RetryPolicy& policy, int attempt, double unit,
                   std::optional<double> retry_after_s = std::nullopt);

}  // namespace lidarhd::raster::http
