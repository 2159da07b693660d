// JSON response helpers.
#include "http_types.hpp"

#include "text.hpp"

#include <fmt/format.h>
#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

#include "loopvisor/version.hpp"

namespace loopvisor::service {

Response json_response(http::status status, const boost::json::value& body) {
  Response res{status, 11};
  res.set(http::field::server, "loopvisord/" LOOPVISOR_VERSION);
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(body);
  res.body() += '\n';
  return res;
}

Response json_error(http::status status, std::string_view code, std::string_view message) {
  // Messages may quote what the client sent: invalid UTF-8 in them would make the JSON invalid.
  return json_response(status, boost::json::object{{"error", code},
                                                   {"status", static_cast<unsigned>(status)},
                                                   {"message", valid_utf8(message)}});
}

std::optional<std::size_t> query_number(const boost::urls::url_view& target, std::string_view name,
                                        std::size_t min, std::size_t max, std::string& error) {
  const auto it = target.params().find(name);
  if (it == target.params().end()) return std::nullopt;
  const std::string text = (*it).value;
  std::size_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
    error = fmt::format("query parameter {}='{}' must be an integer from {} to {}", name, text, min, max);
    return std::nullopt;
  }
  return v;
}

}  // namespace loopvisor::service
