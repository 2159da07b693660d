// HTTP types of the admin server, and JSON response helpers every route uses.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <boost/url/url_view.hpp>

namespace loopvisor::service {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/// A request with its target already parsed (path and query).
struct RequestView {
  const Request& message;
  boost::urls::url_view target;
  std::string_view id;            ///< the {id} path segment, for routes that have one
  std::string_view client = "-";  ///< the peer's "address:port", for the audit log
};

/// Query parameter `name` as an unsigned number in [min, max]; nullopt when absent. Sets
/// `error` (naming the parameter and the range) for a value that is not one.
std::optional<std::size_t> query_number(const boost::urls::url_view& target, std::string_view name,
                                        std::size_t min, std::size_t max, std::string& error);

/// `body` serialised as JSON with `status`.
Response json_response(http::status status, const boost::json::value& body);

/// The error body every 4xx/5xx carries: {"error": code, "status": n, "message": message}.
/// `code` is a short machine-readable word (not_found, method_not_allowed, ...); `message`
/// says what was wrong and what to do.
Response json_error(http::status status, std::string_view code, std::string_view message);

}  // namespace loopvisor::service
