// The admin server's access log, audit log, request duration histogram and /version: what each
// line says, at which level, and that no token or client-chosen path ever reaches a log line.
#include <gtest/gtest.h>

#include "admin/admin_metrics.hpp"
#include "admin/audit_log.hpp"
#include "admin_support.hpp"
#include "log_capture.hpp"
#include "loopvisor/build_info.hpp"

namespace loopvisor::test {
namespace {

config::AdminConfig with_token() {
  auto admin = AdminFixture::ephemeral();
  admin.auth_token = "s3cret-token";
  return admin;
}

http::response<http::string_body> get_with(Client& c, const std::string& target, const std::string& auth) {
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::authorization, auth);
  return c.send(std::move(req));
}

TEST(AdminAccessLog, ApiRequestsAndRefusalsAreLoggedAtInfoWithoutTheToken) {
  LogCapture log;
  AdminFixture f(AdminFixture::watched(), with_token());
  auto c = f.client();
  EXPECT_EQ(get_with(c, "/debug/loops", "Bearer wrong-guess").result(), http::status::unauthorized);
  EXPECT_EQ(get_with(c, "/debug/loops?x=1", "Bearer s3cret-token").result(), http::status::ok);

  const auto refused = log.matching("admin access: GET /debug/loops 401");
  ASSERT_EQ(refused.size(), 1u) << log.text();
  EXPECT_NE(refused[0].find("[info]"), std::string::npos) << refused[0];
  EXPECT_NE(refused[0].find("auth=refused"), std::string::npos) << refused[0];
  EXPECT_NE(refused[0].find("client=127.0.0.1:"), std::string::npos) << refused[0];
  EXPECT_NE(refused[0].find("route=/debug/loops"), std::string::npos) << refused[0];
  const auto served = log.matching("admin access: GET /debug/loops 200");
  ASSERT_EQ(served.size(), 1u) << log.text();
  EXPECT_NE(served[0].find("auth=ok"), std::string::npos) << served[0];
  EXPECT_EQ(served[0].find("x=1"), std::string::npos) << "the query is not logged: " << served[0];
  EXPECT_EQ(log.text().find("wrong-guess"), std::string::npos) << log.text();
  EXPECT_EQ(log.text().find("s3cret"), std::string::npos) << log.text();
}

TEST(AdminAccessLog, ProbesAndScrapesGoToDebugOnly) {
  LogCapture log(spdlog::level::info);
  AdminFixture f;
  auto c = f.client();
  EXPECT_EQ(c.get("/healthz").result(), http::status::ok);
  EXPECT_EQ(c.get("/metrics").result(), http::status::ok);
  EXPECT_TRUE(log.matching("admin access:").empty()) << log.text();
  spdlog::set_level(spdlog::level::debug);
  EXPECT_EQ(c.get("/healthz").result(), http::status::ok);
  const auto lines = log.matching("admin access: GET /healthz 200");
  ASSERT_EQ(lines.size(), 1u) << log.text();
  EXPECT_NE(lines[0].find("[debug]"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("auth=open"), std::string::npos) << lines[0];
}

TEST(AdminAccessLog, UnknownPathsAreLoggedAsUnmatchedNotAsTheClientsBytes) {
  LogCapture log;
  AdminFixture f;
  auto c = f.client();
  EXPECT_EQ(c.get("/no/such/path-%E2%80%AE-forged").result(), http::status::not_found);
  EXPECT_EQ(c.get("/no/such/path-\xE2\x80\xAE-forged").result(), http::status::bad_request);
  EXPECT_EQ(c.request(http::verb::post, "/healthz").result(), http::status::method_not_allowed);
  const auto unmatched = log.matching("admin access: GET unmatched 404");
  ASSERT_EQ(unmatched.size(), 1u) << log.text();
  EXPECT_NE(unmatched[0].find("auth=-"), std::string::npos) << unmatched[0];
  EXPECT_EQ(log.matching("admin access: GET unmatched 400").size(), 1u) << log.text();
  EXPECT_EQ(log.text().find("forged"), std::string::npos) << log.text();
  EXPECT_EQ(log.matching("admin access: POST /healthz 405").size(), 1u) << log.text();
}

TEST(AdminAccessLog, DurationsAreAHistogramPerRouteWithBoundedLabels) {
  AdminFixture f;
  auto c = f.client();
  (void)c.get("/healthz");
  (void)c.get("/healthz");
  (void)c.get("/no/such/path");
  const auto text = c.get("/metrics").body();
  EXPECT_NE(text.find("# TYPE loopvisor_admin_request_duration_seconds histogram"), std::string::npos)
      << text;
  EXPECT_NE(text.find("loopvisor_admin_request_duration_seconds_count{route=\"/healthz\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("loopvisor_admin_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("loopvisor_admin_request_duration_seconds_count{route=\"unmatched\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("/no/such/path"), std::string::npos);
}

TEST(AdminAccessLog, JobSubmissionsCancellationsAndForbiddenExecsAreAudited) {
  LogCapture log;
  config::JobsConfig jobs;
  jobs.exec_allow = {"/bin/true"};
  AdminFixture f(AdminFixture::watched(), AdminFixture::ephemeral(), {}, jobs);
  auto c = f.client();
  auto res = c.post_json("/v1/jobs", R"({"kind":"sleep","args":{"duration_ms":600000},"name":"nap"})");
  ASSERT_EQ(res.result(), http::status::accepted) << res.body();
  const std::string id(body_of(res).at("id").as_string());
  res = c.request(http::verb::delete_, "/v1/jobs/" + id);
  ASSERT_EQ(res.result(), http::status::accepted) << res.body();
  res = c.post_json("/v1/jobs", R"({"kind":"exec","args":{"argv":["/bin/rm","-rf","/srv"]}})");
  ASSERT_EQ(res.result(), http::status::forbidden) << res.body();
  res = c.post_json("/v1/jobs", R"({"kind":"sleep","args":{"duration_ms":"soon"}})");
  ASSERT_EQ(res.result(), http::status::bad_request) << res.body();

  const auto submitted = log.matching("audit: job " + id + " submitted on loop ");
  ASSERT_EQ(submitted.size(), 1u) << log.text();
  EXPECT_NE(submitted[0].find("kind=sleep name=nap"), std::string::npos) << submitted[0];
  EXPECT_NE(submitted[0].find("(client 127.0.0.1:"), std::string::npos) << submitted[0];
  EXPECT_EQ(log.matching("audit: job " + id + " cancel requested").size(), 1u) << log.text();
  const auto forbidden = log.matching("audit: job submission refused (job_forbidden): kind=exec");
  ASSERT_EQ(forbidden.size(), 1u) << log.text();
  EXPECT_NE(forbidden[0].find(R"(argv=["/bin/rm","-rf","/srv"])"), std::string::npos) << forbidden[0];
  EXPECT_EQ(log.matching("audit:").size(), 3u) << "a malformed request is not audited:\n" << log.text();
}

TEST(AdminAccessLog, JobRequestSummariesNeverCarryLogForgingText) {
  EXPECT_EQ(service::job_request_summary("not json"), "kind=?");
  EXPECT_EQ(service::job_request_summary(R"({"kind":7})"), "kind=?");
  EXPECT_EQ(service::job_request_summary(R"({"kind":"sleep","name":"a\nb"})"),
            "kind=sleep name=<3 bytes, not display-safe>");
  const auto bidi =
      service::job_request_summary(R"({"kind":"exec","args":{"argv":["/bin/echo","\u202Egnp.exe"]}})");
  EXPECT_NE(bidi.find("argv=<"), std::string::npos) << bidi;
  std::string long_argv = R"({"kind":"exec","args":{"argv":[")" + std::string(5000, 'a') + R"("]}})";
  const auto cut = service::job_request_summary(long_argv);
  EXPECT_LT(cut.size(), 1100u);
  EXPECT_TRUE(cut.ends_with("...")) << cut;
}

TEST(AdminVersion, IsOpenAndAgreesWithBuildInfo) {
  AdminFixture f(AdminFixture::watched(), with_token());
  const auto res = f.client().get("/version");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  const auto body = body_of(res);
  const auto info = build_info();
  EXPECT_EQ(body.at("version"), info.version.c_str());
  EXPECT_EQ(body.at("revision"), info.revision.c_str());
  EXPECT_EQ(body.at("commit_date"), info.commit_date.c_str());
  EXPECT_EQ(body.at("boost"), info.boost.c_str());
  EXPECT_EQ(body.at("compiler"), info.compiler.c_str());
  EXPECT_FALSE(info.revision.empty());
  EXPECT_EQ(info.boost, "1.81.0");
  const auto metrics = f.client().get("/metrics").body();
  EXPECT_NE(metrics.find("revision=\"" + info.revision + "\""), std::string::npos) << metrics;
}

}  // namespace
}  // namespace loopvisor::test
