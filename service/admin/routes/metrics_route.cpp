// GET /metrics: the collectors, serialised at request time.
#include <boost/beast/http/field.hpp>

#include "loopvisor/metrics.hpp"
#include "loopvisor/version.hpp"
#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> metrics_route(RequestView, const AdminContext& context) {
  if (!context.metrics.enabled) {
    co_return json_error(http::status::not_found, "metrics_disabled",
                         "metrics are switched off ([metrics] enabled = false, LOOPVISOR_METRICS_ENABLED, "
                         "--metrics-enabled)");
  }
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collector : context.collectors) {
    auto part = collector->Collect();
    families.insert(families.end(), std::make_move_iterator(part.begin()),
                    std::make_move_iterator(part.end()));
  }
  Response res{http::status::ok, 11};
  res.set(http::field::server, "loopvisord/" LOOPVISOR_VERSION);
  // prometheus-cpp's own Exposer leaves out version=0.0.4; Prometheus wants it.
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = serialize_metrics(families);
  co_return res;
}

}  // namespace loopvisor::service
