// AdminServer in-process: routes, JSON errors, limits, timeouts, keep-alive, and a stalled
// loop showing in /readyz and /metrics while the admin thread keeps answering.
#include "admin/admin_server.hpp"

#include <gtest/gtest.h>

#include "admin/admin_metrics.hpp"
#include "admin/router.hpp"
#include "admin_support.hpp"
#include "loopvisor/supervisor.hpp"

namespace loopvisor::test {
namespace {

TEST(AdminServer, HealthAndLivenessAnswerWithJson) {
  AdminFixture f;
  auto c = f.client();
  for (const char* path : {"/healthz", "/livez"}) {
    const auto res = c.get(path);
    EXPECT_EQ(res.result(), http::status::ok) << path;
    EXPECT_EQ(res[http::field::content_type], "application/json");
    EXPECT_EQ(body_of(res).at("status"), "alive");
  }
}

TEST(AdminServer, MetricsUseTheVersionedTextFormatAndCarryEveryLoop) {
  AdminFixture f;
  const auto res = f.client().get("/metrics");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res.body().find("loopvisor_loop_callbacks_total{loop=\"1\"}"), std::string::npos);
  EXPECT_NE(res.body().find("process_open_fds "), std::string::npos);
}

TEST(AdminServer, MetricsSwitchedOffAnswer404AndCollectNothing) {
  config::MetricsConfig off;
  off.enabled = false;
  AdminFixture f(AdminFixture::watched(), AdminFixture::ephemeral(), off);
  const auto res = f.client().get("/metrics");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(body_of(res).at("error"), "metrics_disabled");
  EXPECT_TRUE(service::default_collectors(f.supervisor, off).empty());
}

TEST(AdminServer, UnknownPathWrongMethodAndBadQueryGetJsonErrors) {
  AdminFixture f;
  auto c = f.client();
  auto res = c.get("/nope");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_NE(std::string(body_of(res).at("message").as_string()).find("/readyz"), std::string::npos);
  res = c.request(http::verb::post, "/metrics", "x");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD");
  EXPECT_EQ(body_of(res).at("error"), "method_not_allowed");
  res = c.get("/debug/tasks?limit=0");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_NE(std::string(body_of(res).at("message").as_string()).find("limit='0'"), std::string::npos);
  res = c.get("/debug/tasks?loop=7");
  EXPECT_EQ(res.result(), http::status::bad_request);
}

TEST(AdminServer, RequestsNeedExactlyOneHost) {
  // Regression: HTTP/1.1 requests without a Host header, or with two, were served.
  AdminFixture f;
  const std::pair<const char*, bool> cases[] = {
      {"GET /healthz HTTP/1.1\r\n\r\n", false},
      {"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", false},
      {"GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", false},
      {"GET /healthz HTTP/1.0\r\n\r\n", true},
      {"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", true},
  };
  for (const auto& [request, ok] : cases) {
    auto c = f.client();
    c.send_raw(request);
    const auto res = c.read();
    EXPECT_EQ(res.result(), ok ? http::status::ok : http::status::bad_request) << request;
    if (!ok) {
      EXPECT_EQ(body_of(res).at("error"), "bad_host") << request;
    }
  }
}

TEST(AdminServer, ErrorBodiesAreValidJsonWhateverTheRequestHeld) {
  // Regression: an error echoed the target's invalid UTF-8 and the body was not valid JSON.
  AdminFixture f;
  auto c = f.client();
  c.send_raw("GET /nope\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto res = c.read();
  EXPECT_EQ(res.result(), http::status::bad_request);  // not a valid request target
  EXPECT_NO_THROW((void)body_of(res)) << res.body();
  EXPECT_NE(res.body().find("\xEF\xBF\xBD"), std::string::npos) << "replaced, not dropped";
}

TEST(AdminServer, HelpListsEveryRouteFromTheTable) {
  AdminFixture f;
  const auto body = body_of(f.client().get("/help"));
  const auto& routes = body.at("routes").as_array();
  ASSERT_EQ(routes.size(), service::admin_routes().size());
  std::vector<std::string> paths;
  for (const auto& r : routes) paths.emplace_back(r.at("path").as_string());
  for (const char* want :
       {"/metrics", "/healthz", "/livez", "/readyz", "/debug/loops", "/debug/tasks", "/help"})
    EXPECT_NE(std::find(paths.begin(), paths.end(), want), paths.end()) << want;
}

TEST(AdminServer, RequestsAreCountedByRouteAndCodeWithBoundedLabels) {
  AdminFixture f;
  auto c = f.client();
  (void)c.get("/healthz");
  (void)c.get("/healthz?verbose=1");
  (void)c.get("/no/such/path/1");
  (void)c.get("/no/such/path/2");
  (void)c.request(http::verb::post, "/readyz");
  const auto text = c.get("/metrics").body();
  EXPECT_NE(text.find("loopvisor_admin_requests_total{code=\"200\",route=\"/healthz\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("loopvisor_admin_requests_total{code=\"404\",route=\"unmatched\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("loopvisor_admin_requests_total{code=\"405\",route=\"/readyz\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(text.find("/no/such/path"), std::string::npos) << "unknown paths must not become label values";
}

TEST(AdminServer, HeadAnswersLikeGetWithoutABody) {
  AdminFixture f;
  auto c = f.client();
  const auto res = c.request(http::verb::head, "/healthz");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_TRUE(res.body().empty());
  EXPECT_EQ(c.get("/healthz").result(), http::status::ok);  // the connection is still in sync
}

TEST(AdminServer, KeepAliveServesManyRequestsOnOneConnection) {
  AdminFixture f;
  auto c = f.client();
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(c.get(i % 2 ? "/healthz" : "/debug/loops").result(), http::status::ok);
  const auto last = c.request(http::verb::get, "/healthz", {}, false);
  EXPECT_EQ(last.result(), http::status::ok);
  EXPECT_TRUE(c.closed_by_server());
}

TEST(AdminServer, OversizeBodyAndHeaderAre413AndTheConnectionCloses) {
  auto admin = AdminFixture::ephemeral();
  admin.max_body_bytes = 1000;
  admin.max_header_bytes = 1024;
  AdminFixture f(AdminFixture::watched(), admin);
  {
    auto c = f.client();
    const auto res = c.request(http::verb::post, "/metrics", std::string(5000, 'x'));
    EXPECT_EQ(res.result(), http::status::payload_too_large);
    EXPECT_EQ(body_of(res).at("error"), "body_too_large");
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    auto c = f.client();
    c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'y') + "\r\n\r\n");
    const auto res = c.read();
    EXPECT_EQ(res.result(), http::status::payload_too_large);
    EXPECT_EQ(body_of(res).at("error"), "header_too_large");
  }
}

TEST(AdminServer, SlowHeaderOrBodyGets408) {
  auto admin = AdminFixture::ephemeral();
  admin.header_timeout = 100ms;
  admin.body_timeout = 100ms;
  AdminFixture f(AdminFixture::watched(), admin);
  {
    auto c = f.client();
    c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // the header never ends
    const auto res = c.read();
    EXPECT_EQ(res.result(), http::status::request_timeout);
    EXPECT_NE(std::string(body_of(res).at("message").as_string()).find("header did not arrive within 100 ms"),
              std::string::npos);
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    auto c = f.client();
    c.send_raw("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");  // 7 bytes short
    const auto res = c.read();
    EXPECT_EQ(res.result(), http::status::request_timeout);
    EXPECT_NE(res.body().find("body did not arrive"), std::string::npos);
  }
}

TEST(AdminServer, IdleKeepAliveConnectionIsClosed) {
  auto admin = AdminFixture::ephemeral();
  admin.idle_timeout = 100ms;
  AdminFixture f(AdminFixture::watched(), admin);
  auto c = f.client();
  EXPECT_EQ(c.get("/healthz").result(), http::status::ok);
  EXPECT_TRUE(c.closed_by_server());
}

TEST(AdminServer, MalformedRequestIs400) {
  AdminFixture f;
  auto c = f.client();
  c.send_raw("THIS IS NOT HTTP\r\n\r\n");
  const auto res = c.read();
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(body_of(res).at("error"), "bad_request");
}

TEST(AdminServer, DebugLoopsListsEveryLoopWithItsThreadName) {
  AdminFixture f;
  const auto body = body_of(f.client().get("/debug/loops"));
  const auto& loops = body.at("loops").as_array();
  ASSERT_EQ(loops.size(), 2u);
  EXPECT_EQ(loops[1].at("thread_name"), "lv-loop-1");
  EXPECT_EQ(loops[1].at("stalled"), false);
  EXPECT_TRUE(loops[0].as_object().contains("busy_ratio"));
  EXPECT_TRUE(loops[0].as_object().contains("lag_seconds"));
}

TEST(AdminServer, DebugTasksPagesThroughLiveTasks) {
  AdminFixture f;
  std::vector<ThreadFuture<void>> waiting;  // live until cancelled at the end
  for (int i = 0; i < 5; ++i) {
    waiting.push_back(f.supervisor.loop(i % 2).run_coroutine_threadsafe(
        asio::awaitable<void>(loopvisor::sleep(bound)), "waiter"));
  }
  auto c = f.client();
  ASSERT_TRUE(eventually([&] { return body_of(c.get("/debug/tasks")).at("total").as_int64() >= 5; }));
  auto page = body_of(c.get("/debug/tasks?limit=2"));
  ASSERT_EQ(page.at("tasks").as_array().size(), 2u);
  EXPECT_EQ(page.at("next_offset"), 2);
  const auto first_id = page.at("tasks").as_array()[0].at("id").as_int64();
  const auto& task = page.at("tasks").as_array()[0].as_object();
  EXPECT_EQ(task.at("name"), "waiter");
  EXPECT_TRUE(task.contains("state") && task.contains("age_seconds") && task.contains("loop"));
  auto next = body_of(c.get("/debug/tasks?limit=2&offset=2"));
  EXPECT_GT(next.at("tasks").as_array()[0].at("id").as_int64(), first_id);
  auto only = body_of(c.get("/debug/tasks?loop=1"));
  for (const auto& t : only.at("tasks").as_array()) EXPECT_EQ(t.at("loop"), 1);
  auto past_end = body_of(c.get("/debug/tasks?offset=1000000"));
  EXPECT_TRUE(past_end.at("tasks").as_array().empty());
  EXPECT_TRUE(past_end.at("next_offset").is_null());
  for (auto& w : waiting) EXPECT_TRUE(w.cancel());
}

TEST(AdminServer, ReadinessFailsWhileDrainingAndNamesIt) {
  AdminFixture f;
  auto c = f.client();
  EXPECT_EQ(c.get("/readyz").result(), http::status::ok);
  f.readiness.start_draining();
  const auto res = c.get("/readyz");
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(body_of(res).at("reasons").as_array()[0].at("reason"), "draining");
}

// The stall test: block one loop longer than the threshold; /readyz turns 503 naming
// that loop and its stalled metric is 1 — answered by the admin thread while the loop is
// blocked; after it unblocks, both recover.
TEST(AdminServer, StalledLoopFailsReadinessAndShowsInMetricsThenRecovers) {
  AdminFixture f;
  auto c = f.client();
  ASSERT_EQ(c.get("/readyz").result(), http::status::ok);
  Signal release;
  f.supervisor.loop(1).call_soon_threadsafe([&] { release.wait(); });  // blocks loop 1 on purpose

  http::response<http::string_body> ready;
  ASSERT_TRUE(eventually([&] {
    ready = c.get("/readyz");
    return ready.result() == http::status::service_unavailable;
  }));
  const auto reason = body_of(ready).at("reasons").as_array()[0].as_object();
  EXPECT_EQ(reason.at("loop"), 1);
  EXPECT_EQ(reason.at("name"), "lv-loop-1");
  EXPECT_EQ(reason.at("reason"), "stalled");
  EXPECT_EQ(body_of(ready).at("reasons").as_array().size(), 1u) << "loop 0 is not stalled";
  const auto metrics = c.get("/metrics").body();
  EXPECT_NE(metrics.find("loopvisor_loop_stalled{loop=\"1\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("loopvisor_loop_stalled{loop=\"0\"} 0\n"), std::string::npos);
  // /debug/tasks does not hang on the stalled loop.
  const auto tasks = body_of(c.get("/debug/tasks"));
  EXPECT_EQ(tasks.at("unanswered_loops").as_array()[0].at("loop"), 1);

  release.set();
  EXPECT_TRUE(eventually([&] { return c.get("/readyz").result() == http::status::ok; }));
  const auto after = c.get("/metrics").body();
  EXPECT_NE(after.find("loopvisor_loop_stalled{loop=\"1\"} 0\n"), std::string::npos);
  // The stall stays on record after it ended, as a counter (the flag alone misses a stall
  // between two scrapes); the probe answered late lands in a bucket up to a minute.
  EXPECT_NE(after.find("loopvisor_loop_stalls_total{loop=\"1\"} 1\n"), std::string::npos) << after;
  EXPECT_NE(after.find("loopvisor_loop_stalls_total{loop=\"0\"} 0\n"), std::string::npos);
  EXPECT_NE(after.find("loopvisor_loop_lag_seconds_bucket{loop=\"1\",le=\"60\"}"), std::string::npos);
  EXPECT_NE(after.find("loopvisor_loop_queue_capacity{loop=\"0\"} "), std::string::npos);
}

TEST(AdminServer, ReadinessFailsWhenTheWatchdogStopsProbing) {
  // Regression: with the watchdog thread paused (and a loop stopped), /readyz stayed 200.
  auto freeze = std::make_shared<std::atomic<bool>>(false);
  auto frozen = std::make_shared<Signal>();
  auto thaw = std::make_shared<Signal>();
  auto options = AdminFixture::watched();
  options.watchdog.on_round = [freeze, frozen, thaw] {
    if (freeze->load()) {
      frozen->set();
      thaw->wait();
    }
  };
  AdminFixture f(options);
  auto c = f.client();
  ASSERT_EQ(c.get("/readyz").result(), http::status::ok);
  freeze->store(true);
  ASSERT_TRUE(frozen->wait());
  http::response<http::string_body> ready;
  ASSERT_TRUE(eventually([&] {
    ready = c.get("/readyz");
    return ready.result() == http::status::service_unavailable;
  }));
  const auto reason = body_of(ready).at("reasons").as_array()[0].as_object();
  EXPECT_EQ(reason.at("reason"), "watchdog_silent");
  freeze->store(false);
  thaw->set();
  EXPECT_TRUE(eventually([&] { return c.get("/readyz").result() == http::status::ok; }));
}

TEST(AdminServer, ConnectionsBeyondTheLimitAndTheReserveAreClosed) {
  auto admin = AdminFixture::ephemeral();
  admin.max_connections = 1;
  admin.probe_reserve = 0;
  AdminFixture f(AdminFixture::watched(), admin);
  auto first = f.client();
  first.send_raw("GET /healthz HTTP/1.1\r\n");  // mid-request: busy, so it cannot be evicted
  auto second = f.client();
  EXPECT_TRUE(second.closed_by_server());
  first.send_raw("Host: x\r\n\r\n");
  EXPECT_EQ(first.read().result(), http::status::ok);
  EXPECT_NE(f.client()
                .get("/metrics")
                .body()
                .find("loopvisor_admin_connections_refused_total{reason=\"max_connections\"} 1\n"),
            std::string::npos);
}

TEST(AdminServer, IdleKeepAliveConnectionsMakeRoomForNewClients) {
  // Regression: idle keep-alive clients held every slot and /healthz was refused for the whole
  // idle timeout.
  auto admin = AdminFixture::ephemeral();
  admin.max_connections = 4;
  admin.probe_reserve = 0;
  AdminFixture f(AdminFixture::watched(), admin);
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<Client>(f.server->local_endpoint()));
    ASSERT_EQ(idle.back()->get("/healthz").result(), http::status::ok);
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(f.client().get("/debug/loops").result(), http::status::ok) << i;
  EXPECT_TRUE(idle.front()->closed_by_server()) << "the longest-idle connection made room";
}

TEST(AdminServer, ProbesAnswerWhileEverySlotIsHeldBySilentClients) {
  // Regression: connections that never finish a request blocked /healthz for the header timeout.
  auto admin = AdminFixture::ephemeral();
  admin.max_connections = 2;
  admin.probe_reserve = 2;
  admin.header_timeout = 60s;  // they stay for the whole test
  AdminFixture f(AdminFixture::watched(), admin);
  std::vector<std::unique_ptr<Client>> silent;
  for (int i = 0; i < 2; ++i) {
    silent.push_back(std::make_unique<Client>(f.server->local_endpoint()));
    silent.back()->send_raw("GET /healthz HTTP/1.1\r\n");
  }
  // Accepted in order: these two are past max_connections, in the probe reserve.
  auto other = f.client();
  auto res = other.get("/debug/loops");
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(body_of(res).at("error"), "too_many_connections");
  EXPECT_EQ(res[http::field::retry_after], "1");
  EXPECT_TRUE(other.closed_by_server()) << "one request per reserve connection";
  for (const char* probe : {"/healthz", "/livez", "/readyz"}) {
    auto c = f.client();
    EXPECT_EQ(c.get(probe).result(), http::status::ok) << probe;
  }
}

TEST(AdminServer, OneClientAddressCannotTakeEverySlot) {
  auto admin = AdminFixture::ephemeral();
  admin.max_connections_per_client = 2;
  AdminFixture f(AdminFixture::watched(), admin);
  auto a = f.client();
  auto b = f.client();
  a.send_raw("GET /healthz HTTP/1.1\r\n");
  b.send_raw("GET /healthz HTTP/1.1\r\n");
  auto c = f.client();
  EXPECT_TRUE(c.closed_by_server());
  a.send_raw("Host: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(a.read().result(), http::status::ok);
  EXPECT_TRUE(a.closed_by_server());
  // a's place is free again once its session has ended.
  EXPECT_TRUE(eventually([&] {
    try {
      auto d = f.client();
      return d.get("/metrics")
                 .body()
                 .find("loopvisor_admin_connections_refused_total{reason=\"per_client\"} 1\n") !=
             std::string::npos;
    } catch (const std::exception&) {
      return false;
    }
  }));
}

TEST(AdminServer, DebugRoutesNeedTheBearerTokenWhenOneIsConfiguredMetricsAndHealthDoNot) {
  auto admin = AdminFixture::ephemeral();
  admin.auth_token = "s3cret-token";
  AdminFixture f(AdminFixture::watched(), admin);
  auto c = f.client();
  auto res = c.get("/debug/loops");
  EXPECT_EQ(res.result(), http::status::unauthorized);
  EXPECT_EQ(res[http::field::www_authenticate], "Bearer realm=\"loopvisord\"");
  EXPECT_EQ(body_of(res).at("error"), "unauthorized");
  for (const char* wrong :
       {"Bearer s3cret-tokem", "Bearer s3cret-token2", "Bearer ", "Basic s3cret-token", "s3cret-token"}) {
    Client other = f.client();
    other.send_raw(std::string("GET /debug/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: ") + wrong +
                   "\r\n\r\n");
    EXPECT_EQ(other.read().result(), http::status::unauthorized) << wrong;
  }
  // RFC 7235: the scheme is case-insensitive (it was matched case-sensitively).
  for (const char* right_header : {"Bearer s3cret-token", "bearer s3cret-token", "BEARER  s3cret-token"}) {
    Client right = f.client();
    right.send_raw(std::string("GET /debug/loops HTTP/1.1\r\nHost: x\r\nAuthorization: ") + right_header +
                   "\r\n\r\n");
    EXPECT_EQ(right.read().result(), http::status::ok) << right_header;
  }
  for (const char* open : {"/metrics", "/healthz", "/livez", "/readyz"})
    EXPECT_EQ(c.get(open).result(), http::status::ok) << open;
}

TEST(AdminServer, BindFailureNamesTheAddress) {
  AdminFixture f;
  auto admin = AdminFixture::ephemeral();
  admin.listen.port = f.server->local_endpoint().port();  // taken
  service::AdminContext context;
  context.supervisor = &f.supervisor;
  context.readiness = &f.readiness;
  context.admin = admin;
  try {
    service::AdminServer second(std::move(context));
    ADD_FAILURE() << "a second server bound the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("admin.listen = 127.0.0.1:" + std::to_string(admin.listen.port)),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace loopvisor::test
