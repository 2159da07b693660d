// The audit log's lines and the summary of a job request they carry.
#include "audit_log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../text.hpp"

namespace loopvisor::service {

namespace {

constexpr std::size_t argv_bytes = 1024;

std::string shown(std::string_view text) {
  return display_safe(text) ? std::string(text) : fmt::format("<{} bytes, not display-safe>", text.size());
}

}  // namespace

std::string job_request_summary(std::string_view body) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(body, ec);
  const auto* fields = ec ? nullptr : value.if_object();
  const auto* kind = fields != nullptr ? fields->if_contains("kind") : nullptr;
  if (kind == nullptr || !kind->is_string()) return "kind=?";
  std::string out = "kind=" + shown(kind->get_string());
  if (const auto* name = fields->if_contains("name"); name != nullptr && name->is_string()) {
    out += " name=" + shown(name->get_string());
  }
  const auto* args = fields->if_contains("args");
  const auto* argv = args != nullptr && args->is_object() ? args->get_object().if_contains("argv") : nullptr;
  if (kind->get_string() == "exec" && argv != nullptr) {
    std::string text = boost::json::serialize(*argv);  // escapes C0 controls, keeps other UTF-8
    if (text.size() > argv_bytes) {
      std::size_t cut = argv_bytes;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // a UTF-8 boundary
      text = text.substr(0, cut) + "...";
    }
    out += " argv=" + shown(text);
  }
  return out;
}

void audit(std::string_view client, std::string_view event) {
  spdlog::info("audit: {} (client {})", event, client);
}

}  // namespace loopvisor::service
