// The job API end to end, in process: POST /v1/jobs through the admin server to a real
// supervisor, each job's states as GET shows them, cancellation, limits and refusals.
#include "jobs/job_registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "admin_support.hpp"
#include "metrics_support.hpp"

namespace loopvisor::test {
namespace {

using service::JobState;

config::JobsConfig jobs_config() {
  config::JobsConfig j;
  j.max_active = 8;
  j.max_finished = 100;
  j.default_timeout = 20s;
  j.exec_allow = {"/bin/sh"};
  j.exec_max_output_bytes = 16;
  return j;
}

struct JobsFixture : AdminFixture {
  explicit JobsFixture(config::JobsConfig jobs = jobs_config(), config::AdminConfig admin = ephemeral())
      : AdminFixture(quick_shutdown(), std::move(admin), {}, std::move(jobs)) {}
  static SupervisorOptions quick_shutdown() {
    auto o = watched();
    o.shutdown_grace = 100ms;  // jobs a test leaves running are cancelled, not waited for
    return o;
  }
};

/// POSTs `body`; expects 202 and returns the job's id.
std::string start(Client& c, const std::string& body) {
  const auto res = c.post_json("/v1/jobs", body);
  EXPECT_EQ(res.result(), http::status::accepted) << res.body();
  const auto job = body_of(res);
  EXPECT_EQ(res[http::field::location], "/v1/jobs/" + std::string(job.at("id").as_string()));
  return std::string(job.at("id").as_string());
}

/// The job's record once it has ended (waiting up to the test bound, without polling).
json::object final_record(Client& c, const std::string& id) {
  const auto res = c.get("/v1/jobs/" + id + "?wait_ms=20000");
  EXPECT_EQ(res.result(), http::status::ok) << res.body();
  return body_of(res);
}

std::string message_of(const http::response<http::string_body>& res) {
  return std::string(body_of(res).at("message").as_string());
}

TEST(JobApi, SleepJobRunsOnItsLoopAndWaitingReturnsItsResult) {
  JobsFixture f;
  auto c = f.client();
  const auto id = start(c, R"({"kind": "sleep", "args": {"duration_ms": 20}, "name": "nap", "loop": 1})");
  const auto job = final_record(c, id);
  EXPECT_EQ(job.at("state"), "succeeded");
  EXPECT_EQ(job.at("name"), "nap");
  EXPECT_EQ(job.at("loop"), 1);
  EXPECT_EQ(job.at("result").at("slept_ms"), 20);
  EXPECT_TRUE(job.at("error").is_null());
  EXPECT_GE(job.at("run_seconds").as_double(), 0.02);
}

TEST(JobApi, SameKeyPicksTheSameLoop) {
  JobsFixture f;
  auto c = f.client();
  const auto a =
      final_record(c, start(c, R"({"kind": "sleep", "args": {"duration_ms": 0}, "key": "tenant-7"})"));
  const auto b =
      final_record(c, start(c, R"({"kind": "sleep", "args": {"duration_ms": 0}, "key": "tenant-7"})"));
  EXPECT_EQ(a.at("loop"), b.at("loop"));
  EXPECT_EQ(a.at("loop"), f.supervisor.loop_for_key("tenant-7").index());
}

TEST(JobApi, DeleteCancelsARunningJobAndItsRecordSaysSo) {
  JobsFixture f;
  auto c = f.client();
  const auto id = start(c, R"({"kind": "sleep", "args": {"duration_ms": 600000}})");
  ASSERT_TRUE(eventually([&] { return body_of(c.get("/v1/jobs/" + id)).at("state") == "running"; }));
  const auto res = c.request(http::verb::delete_, "/v1/jobs/" + id);
  EXPECT_EQ(res.result(), http::status::accepted);
  EXPECT_EQ(body_of(res).at("cancel_requested"), true);
  EXPECT_EQ(body_of(res).at("removed"), false);
  const auto job = final_record(c, id);
  EXPECT_EQ(job.at("state"), "cancelled");
  EXPECT_EQ(job.at("error"), "cancelled by a DELETE request");
}

TEST(JobApi, AQueuedJobCancelledBeforeItStartsNeverRuns) {
  JobsFixture f;
  auto c = f.client();
  Signal release;
  f.supervisor.loop(0).call_soon_threadsafe([&] { release.wait(); });  // loop 0 cannot start it
  const auto id = start(c, R"({"kind": "sleep", "args": {"duration_ms": 0}, "loop": 0})");
  const auto res = c.request(http::verb::delete_, "/v1/jobs/" + id);
  release.set();
  EXPECT_EQ(res.result(), http::status::accepted);
  const auto job = final_record(c, id);
  EXPECT_EQ(job.at("state"), "cancelled");
  EXPECT_TRUE(job.at("started_at").is_null()) << "it never ran";
  EXPECT_EQ(job.at("error"), "cancelled by a DELETE request before it started");
}

TEST(JobApi, DeleteForgetsAFinishedJob) {
  JobsFixture f;
  auto c = f.client();
  const auto id = start(c, R"({"kind": "sleep", "args": {"duration_ms": 0}})");
  EXPECT_EQ(final_record(c, id).at("state"), "succeeded");
  const auto res = c.request(http::verb::delete_, "/v1/jobs/" + id);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_of(res).at("removed"), true);
  EXPECT_EQ(c.get("/v1/jobs/" + id).result(), http::status::not_found);
  EXPECT_EQ(c.request(http::verb::delete_, "/v1/jobs/" + id).result(), http::status::not_found);
}

TEST(JobApi, AJobPastItsTimeLimitEndsTimedOut) {
  JobsFixture f;
  auto c = f.client();
  const auto id = start(c, R"({"kind": "sleep", "args": {"duration_ms": 600000}, "timeout_ms": 50})");
  const auto job = final_record(c, id);
  EXPECT_EQ(job.at("state"), "timed_out");
  EXPECT_EQ(job.at("timeout_ms"), 50);
  EXPECT_NE(std::string(job.at("error").as_string()).find("50 ms"), std::string::npos);
}

TEST(JobApi, ExecJobKeepsExitCodeAndOutputAndFailsOnNonZeroExit) {
  JobsFixture f;
  auto c = f.client();
  auto job =
      final_record(c, start(c, R"({"kind": "exec", "args": {"argv": ["/bin/sh", "-c", "cat; echo done"],
                                        "input": "in:"}})"));
  EXPECT_EQ(job.at("state"), "succeeded");
  EXPECT_EQ(job.at("result").at("stdout"), "in:done\n");
  EXPECT_EQ(job.at("result").at("exit_code"), 0);

  job = final_record(c, start(c, R"({"kind": "exec", "args": {"argv": ["/bin/sh", "-c",
                                    "printf '\\377' >&2; printf 0123456789abcdefXYZ; exit 3"]}})"));
  EXPECT_EQ(job.at("state"), "failed");
  EXPECT_EQ(job.at("error"), "/bin/sh exited with code 3");
  EXPECT_EQ(job.at("result").at("exit_code"), 3);
  EXPECT_EQ(job.at("result").at("stdout"), "0123456789abcdef") << "cut at exec_max_output_bytes";
  EXPECT_EQ(job.at("result").at("stdout_truncated"), true);
  EXPECT_EQ(job.at("result").at("stderr"), "\xEF\xBF\xBD") << "a byte that is not UTF-8 is replaced";
}

TEST(JobApi, ListingsCarrySummariesAndOnlyTheJobItselfItsResult) {
  // Regression: 1,000 exec jobs with 64 KiB of control bytes each made one listing a 787 MB
  // body. A listing now holds no results (and errors cut short), whatever the jobs returned.
  JobsFixture f;
  auto c = f.client();
  const auto id = start(c, R"({"kind": "exec", "args": {"argv": ["/bin/sh", "-c",
                               "printf '\\001%.0s' $(seq 100); exit 1"]}})");
  const auto job = final_record(c, id);
  ASSERT_EQ(job.at("state"), "failed");
  EXPECT_EQ(job.at("result").at("stdout").as_string().size(), 16u) << "the job itself has it";
  const auto page = body_of(c.get("/v1/jobs"));
  const auto& item = page.at("jobs").as_array().at(0).as_object();
  EXPECT_EQ(item.at("id"), job.at("id"));
  EXPECT_FALSE(item.contains("result"));
  EXPECT_EQ(item.at("result_omitted"), true);
  EXPECT_EQ(item.at("error"), job.at("error"));
  service::JobSnapshot long_error;
  long_error.error = std::string(600, 'e') + "\xC3\xA9";
  EXPECT_EQ(service::summary_of(long_error).error, std::string(service::summary_error_bytes, 'e') + "...");
}

TEST(JobApi, ExecOfAProgramNotAllowedIsForbidden) {
  JobsFixture f;
  auto c = f.client();
  auto res = c.post_json("/v1/jobs", R"({"kind": "exec", "args": {"argv": ["/bin/ls"]}})");
  EXPECT_EQ(res.result(), http::status::forbidden);
  EXPECT_NE(message_of(res).find("/bin/ls"), std::string::npos);

  auto off = jobs_config();
  off.exec_allow.clear();
  JobsFixture g(off);
  auto d = g.client();
  res = d.post_json("/v1/jobs", R"({"kind": "exec", "args": {"argv": ["/bin/sh"]}})");
  EXPECT_EQ(res.result(), http::status::forbidden);
  EXPECT_NE(message_of(res).find("exec_allow"), std::string::npos);
}

// The drill job: off by default (403 naming the switch); on, it holds its loop until the
// watchdog calls that loop stalled, then ends as succeeded and the stall stays counted.
TEST(JobApi, BlockJobIsForbiddenUnlessAllowedAndFreezesItsLoopForTheWatchdog) {
  {
    JobsFixture f;
    auto c = f.client();
    const auto res = c.post_json("/v1/jobs", R"({"kind": "block", "args": {"duration_ms": 10}})");
    EXPECT_EQ(res.result(), http::status::forbidden);
    EXPECT_NE(message_of(res).find("allow_block"), std::string::npos) << res.body();
  }
  auto allowed = jobs_config();
  allowed.allow_block = true;
  JobsFixture f(allowed);
  auto c = f.client();
  EXPECT_EQ(c.post_json("/v1/jobs", R"({"kind": "block", "args": {"duration_ms": 600001}})").result(),
            http::status::bad_request);
  const auto id = start(c, R"({"kind": "block", "args": {"duration_ms": 1500}, "loop": 1})");
  http::response<http::string_body> ready;
  ASSERT_TRUE(eventually([&] {
    ready = c.get("/readyz");
    return ready.result() == http::status::service_unavailable;
  }));
  EXPECT_EQ(body_of(ready).at("reasons").as_array()[0].at("loop"), 1) << ready.body();
  const auto job = final_record(c, id);
  EXPECT_EQ(job.at("state"), "succeeded");
  EXPECT_EQ(job.at("result").at("blocked_ms"), 1500);
  EXPECT_TRUE(has_line(c.get("/metrics").body(), "loopvisor_loop_stalls_total{loop=\"1\"} 1"));
}

TEST(JobApi, BadRequestsAreRefusedNamingTheProblem) {
  JobsFixture f;
  auto c = f.client();
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "not JSON"},
      {"[1]", "JSON object"},
      {R"({"args": {}})", "'kind' is required"},
      {R"({"kind": "bake"})", "kind 'bake' is not known"},
      {R"({"kind": "sleep", "color": 1})", "unknown field 'color'"},
      {R"({"kind": "sleep", "args": []})", "'args' must be a JSON object"},
      {R"({"kind": "sleep", "args": {"duration_ms": 1}, "name": "a\nb"})", "without control characters"},
      // Regression: C1 controls, line separators and bidi overrides were accepted and logged raw.
      {R"({"kind": "sleep", "args": {"duration_ms": 1}, "name": "a\u0085b"})", "without control characters"},
      {R"({"kind": "sleep", "args": {"duration_ms": 1}, "name": "a\u2028b"})", "line separators"},
      {R"({"kind": "sleep", "args": {"duration_ms": 1}, "name": "evil\u202Etxt.exe"})", "bidirectional"},
      {R"({"kind": "sleep"})", "args.duration_ms is required"},
      {R"({"kind": "sleep", "args": {"duration_ms": -1}})", "args.duration_ms must be an integer"},
      {R"({"kind": "sleep", "args": {"duration_ms": 1, "x": 2}})", "args.x"},
      {R"({"kind": "sleep", "args": {"duration_ms": 1}, "timeout_ms": 0})", "'timeout_ms' must be"},
      {R"({"kind": "sleep", "args": {"duration_ms": 1}, "loop": 2})",
       "'loop' must be a loop index from 0 to 1"},
      {R"({"kind": "sleep", "args": {"duration_ms": 1}, "loop": 0, "key": "k"})", "not both"},
      {R"({"kind": "exec", "args": {"argv": []}})", "args.argv is required"},
      {R"({"kind": "exec", "args": {"argv": ["/bin/sh", 1]}})", "args.argv[] must be a string"},
  };
  for (const auto& [body, expected] : cases) {
    const auto res = c.post_json("/v1/jobs", body);
    EXPECT_EQ(res.result(), http::status::bad_request) << body;
    EXPECT_NE(message_of(res).find(expected), std::string::npos) << body << " -> " << message_of(res);
  }
  http::request<http::string_body> form{http::verb::post, "/v1/jobs", 11};
  form.set(http::field::host, "localhost");
  form.set(http::field::content_type, "application/x-www-form-urlencoded");
  form.body() = "kind=sleep";
  EXPECT_EQ(c.send(form).result(), http::status::unsupported_media_type);
  EXPECT_EQ(c.get("/v1/jobs/abc").result(), http::status::not_found);
  EXPECT_EQ(c.get("/v1/jobs/1/more").result(), http::status::not_found);
  EXPECT_EQ(c.get("/v1/jobs?state=done").result(), http::status::bad_request);
  EXPECT_EQ(c.get("/v1/jobs/" + f.jobs->ids().format(1) + "?wait_ms=x").result(), http::status::bad_request);
  EXPECT_EQ(body_of(c.get("/v1/jobs")).at("total"), 0) << "nothing refused was recorded";
  EXPECT_EQ(
      c.post_json("/v1/jobs", R"({"kind": "sleep", "args": {"duration_ms": 1}, "name": "caf\u00e9 \u6f22"})")
          .result(),
      http::status::accepted)
      << "other non-ASCII names are fine";
}

TEST(JobApi, BeyondMaxActiveJobsAreRefusedWith429AndAcceptedOnesAreKept) {
  auto config = jobs_config();
  config.max_active = 2;
  JobsFixture f(config);
  auto c = f.client();
  const auto a = start(c, R"({"kind": "sleep", "args": {"duration_ms": 600000}})");
  const auto b = start(c, R"({"kind": "sleep", "args": {"duration_ms": 600000}})");
  const auto res = c.post_json("/v1/jobs", R"({"kind": "sleep", "args": {"duration_ms": 0}})");
  EXPECT_EQ(res.result(), http::status::too_many_requests);
  EXPECT_EQ(res[http::field::retry_after], "1");
  EXPECT_NE(message_of(res).find("max_active"), std::string::npos);
  // One listing (a job may move from queued to running between two): both accepted jobs are
  // there and active.
  const auto listed = body_of(c.get("/v1/jobs"));
  EXPECT_EQ(listed.at("total"), 2);
  for (const auto& job : listed.at("jobs").as_array()) {
    const auto state = service::parse_job_state(job.at("state").as_string());
    ASSERT_TRUE(state.has_value());
    EXPECT_FALSE(service::is_final(*state)) << job;
  }
  // Once one ends there is room again.
  EXPECT_EQ(c.request(http::verb::delete_, "/v1/jobs/" + a).result(), http::status::accepted);
  EXPECT_EQ(final_record(c, a).at("state"), "cancelled");
  start(c, R"({"kind": "sleep", "args": {"duration_ms": 0}})");
  (void)b;
  const auto metrics = c.get("/metrics").body();
  EXPECT_TRUE(has_line(metrics, "loopvisor_jobs_rejected_total{reason=\"too_many\"} 1")) << metrics;
  EXPECT_TRUE(has_line(metrics, "loopvisor_jobs_submitted_total{kind=\"sleep\"} 3")) << metrics;
}

TEST(JobApi, OldestFinishedRecordsAreForgottenBeyondMaxFinished) {
  auto config = jobs_config();
  config.max_finished = 2;
  JobsFixture f(config);
  auto c = f.client();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(start(c, R"({"kind": "sleep", "args": {"duration_ms": 0}, "loop": 0})"));
    final_record(c, ids.back());
  }
  EXPECT_EQ(c.get("/v1/jobs/" + ids[0]).result(), http::status::not_found);
  EXPECT_EQ(c.get("/v1/jobs/" + ids[2]).result(), http::status::ok);
  const auto list = body_of(c.get("/v1/jobs?limit=1"));
  EXPECT_EQ(list.at("total"), 2);
  EXPECT_EQ(list.at("jobs").as_array()[0].at("id").as_string(), ids[1]);
  EXPECT_EQ(list.at("next_offset"), 1);
}

TEST(JobApi, DrainingRefusesNewJobsWhileRunningOnesEndOnShutdownAsCancelled) {
  JobsFixture f;
  auto c = f.client();
  const auto id = start(c, R"({"kind": "sleep", "args": {"duration_ms": 600000}})");
  ASSERT_TRUE(eventually([&] { return body_of(c.get("/v1/jobs/" + id)).at("state") == "running"; }));
  f.readiness.start_draining();
  const auto res = c.post_json("/v1/jobs", R"({"kind": "sleep", "args": {"duration_ms": 0}})");
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(body_of(res).at("error"), "draining");
  (void)f.supervisor.shutdown(50ms);
  // The admin server still answers after the runtime has gone: the record tells how it ended.
  const auto job = body_of(c.get("/v1/jobs/" + id));
  EXPECT_EQ(job.at("state"), "cancelled");
  EXPECT_EQ(job.at("error"), "cancelled by the daemon's shutdown");
}

TEST(JobApi, ASubmissionThatReachesAClosedRuntimeIsRefusedNotLost) {
  JobsFixture f;
  auto c = f.client();
  (void)f.supervisor.shutdown(0ms);
  const auto closed = c.post_json("/v1/jobs", R"({"kind": "sleep", "args": {"duration_ms": 0}})");
  EXPECT_EQ(closed.result(), http::status::service_unavailable);
  EXPECT_EQ(body_of(closed).at("error"), "closed");
  EXPECT_EQ(body_of(c.get("/v1/jobs")).at("total"), 0);
}

TEST(JobApi, WaitingRequestsThatEndWithTheServerAreNeverWokenAfterIt) {
  JobsFixture f;
  auto c = f.client();
  const auto id = start(c, R"({"kind": "sleep", "args": {"duration_ms": 600000}})");
  c.send_raw("GET /v1/jobs/" + id + "?wait_ms=60000 HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_TRUE(eventually([&] { return f.jobs->counts().waiting == 1; }));
  f.server.reset();  // the waiting request's frame goes with the admin thread's io_context
  EXPECT_EQ(f.jobs->counts().waiting, 0u);
  // The job ends after the server has gone: its end must not reach the destroyed server
  // (ASan reports it if it does).
  const auto n = f.jobs->ids().parse(id);
  ASSERT_TRUE(n.has_value()) << id;
  ASSERT_TRUE(f.jobs->cancel_or_forget(*n).has_value());
  ASSERT_TRUE(eventually([&] { return f.jobs->get(*n)->state == JobState::cancelled; }));
}

TEST(JobApi, JobRoutesNeedTheTokenAndAnswer404WhenJobsAreOff) {
  auto admin = AdminFixture::ephemeral();
  admin.auth_token = "s3cret";
  JobsFixture f(jobs_config(), admin);
  auto c = f.client();
  EXPECT_EQ(c.post_json("/v1/jobs", R"({"kind": "sleep", "args": {"duration_ms": 0}})").result(),
            http::status::unauthorized);
  EXPECT_EQ(c.get("/v1/jobs").result(), http::status::unauthorized);

  AdminFixture without_jobs;
  const auto res = without_jobs.client().get("/v1/jobs");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(body_of(res).at("error"), "jobs_disabled");
}

TEST(JobApi, JobMetricsPassPromtool) {
  JobsFixture f;
  auto c = f.client();
  final_record(c, start(c, R"({"kind": "sleep", "args": {"duration_ms": 0}})"));
  const auto metrics = c.get("/metrics").body();
  EXPECT_TRUE(has_line(metrics, "loopvisor_jobs_finished_total{kind=\"sleep\",state=\"succeeded\"} 1"))
      << metrics;
  EXPECT_TRUE(has_line(metrics, "loopvisor_jobs_active 0"));
  // Every kind and final state is there from the start, so ratios and alerts have series.
  EXPECT_TRUE(has_line(metrics, "loopvisor_jobs_finished_total{kind=\"exec\",state=\"failed\"} 0"))
      << metrics;
  EXPECT_TRUE(has_line(metrics, "loopvisor_jobs_finished_total{kind=\"sleep\",state=\"timed_out\"} 0"));
  EXPECT_EQ(promtool_findings(metrics), "");
}

// Queued and running jobs are exported apart: a job waiting for a loop that is held shows as
// queued, a sleeping one as running, and both count as active.
TEST(JobApi, QueuedAndRunningJobsAreCountedApart) {
  JobsFixture f;
  auto c = f.client();
  const auto sleeping = start(c, R"({"kind": "sleep", "args": {"duration_ms": 600000}, "loop": 1})");
  ASSERT_TRUE(eventually([&] { return body_of(c.get("/v1/jobs/" + sleeping)).at("state") == "running"; }));
  std::atomic<bool> release{false};
  std::atomic<bool> holding{false};
  f.supervisor.loop(0).call_soon_threadsafe([&] {
    holding = true;
    const auto give_up = std::chrono::steady_clock::now() + bound;
    while (!release.load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  });
  ASSERT_TRUE(eventually([&] { return holding.load(); }));
  const auto waiting = start(c, R"({"kind": "sleep", "args": {"duration_ms": 0}, "loop": 0})");
  const auto metrics = c.get("/metrics").body();
  release = true;
  EXPECT_TRUE(has_line(metrics, "loopvisor_jobs_queued 1")) << metrics;
  EXPECT_TRUE(has_line(metrics, "loopvisor_jobs_running 1")) << metrics;
  EXPECT_TRUE(has_line(metrics, "loopvisor_jobs_active 2")) << metrics;
  EXPECT_EQ(final_record(c, waiting).at("state"), "succeeded");
  EXPECT_EQ(promtool_findings(metrics), "");
}

// The registry alone, hammered from several threads: every accepted job ends in exactly one
// final state, every waiter is called exactly once, and the counts add up.
TEST(JobRegistry, EveryAcceptedJobEndsOnceUnderConcurrentSubmitCancelAndWait) {
  SupervisorOptions options;
  options.loops = 2;
  Supervisor supervisor(options);
  auto config = jobs_config();
  config.max_active = 32;
  config.max_finished = 100000;
  service::JobRegistry registry(supervisor, config);

  constexpr int threads = 4;
  constexpr int per_thread = 150;
  std::atomic<int> accepted{0}, refused{0}, waiters{0}, woken{0};
  std::vector<std::vector<std::uint64_t>> ids(threads);
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        service::JobRequest request;
        request.kind = service::find_job_kind("sleep");
        request.body = request.kind->prepare(json::object{{"duration_ms", (i % 3 == 0) ? 0 : 1 + i % 2}},
                                             registry.config());
        request.timeout = (i % 7 == 0) ? 1ms : 10s;  // some end timed_out
        if (i % 5 == 0) request.key = "same";
        try {
          const auto job = registry.submit(std::move(request));
          ++accepted;
          bool forgotten = false;
          if (i % 4 == 0) {
            const auto removal = registry.cancel_or_forget(job.id);  // a job already over is forgotten
            forgotten = removal && removal->first == service::JobRegistry::Removal::forgotten;
            if (forgotten) {
              EXPECT_TRUE(service::is_final(removal->second.state));
            }
          }
          if (!forgotten) ids[t].push_back(job.id);
          if (i % 2 == 0 && registry.on_final(job.id, [&] { ++woken; })) ++waiters;
        } catch (const service::JobRejected& e) {
          EXPECT_EQ(e.reason(), service::JobRejected::Reason::too_many);
          ++refused;
        }
      }
    });
  }
  for (auto& p : producers) p.join();
  ASSERT_TRUE(eventually([&] { return registry.counts().active == 0; }));

  const auto counts = registry.counts();
  std::uint64_t finished = 0;
  for (const auto& [key, n] : counts.finished) finished += n;
  EXPECT_EQ(finished, static_cast<std::uint64_t>(accepted.load()));
  EXPECT_EQ(counts.submitted.at("sleep"), static_cast<std::uint64_t>(accepted.load()));
  EXPECT_EQ(accepted + refused, threads * per_thread);
  const std::uint64_t too_many = counts.rejected.count("too_many") ? counts.rejected.at("too_many") : 0;
  EXPECT_EQ(too_many, static_cast<std::uint64_t>(refused.load()));
  EXPECT_EQ(woken.load(), waiters.load()) << "each waiter is called once, when its job ends";
  EXPECT_EQ(counts.waiting, 0u);
  for (const auto& list : ids) {
    for (const auto id : list) {
      const auto job = registry.get(id);
      ASSERT_TRUE(job.has_value()) << id;
      EXPECT_TRUE(service::is_final(job->state)) << id << " " << service::to_string(job->state);
    }
  }
}

TEST(JobIds, AreUniquePerRunAndRefuseIdsOfAnotherRun) {
  const service::JobIds a, b;
  // Two runs (or replicas) draw their boots apart; equal ones would be a 1 in 2^32 event.
  EXPECT_NE(a.boot(), b.boot());
  EXPECT_EQ(a.format(17), a.boot() + "-17");
  EXPECT_EQ(a.parse(a.format(17)), 17u);
  EXPECT_FALSE(b.parse(a.format(17)).has_value());
  EXPECT_TRUE(service::JobIds::well_formed(a.format(17)));
  const std::string boot = a.boot();
  const std::vector<std::string> bad_ids = {"",           "17",         boot,
                                            boot + "-",   boot + "-0",  boot + "-017",
                                            boot + "-+1", boot + "-1x", boot + "-99999999999999999999",
                                            "ABCDEF12-1", "abcdef1-1",  "abcdef123-1",
                                            "ghijklmn-1"};
  for (const auto& bad : bad_ids) {
    EXPECT_FALSE(a.parse(bad).has_value()) << bad;
    EXPECT_FALSE(service::JobIds::well_formed(bad)) << bad;
  }
  EXPECT_THROW(service::JobIds("ABCDEF12"), std::invalid_argument);
  EXPECT_EQ(service::instance_name("pod-7"), "pod-7");
  EXPECT_FALSE(service::instance_name("").empty());
}

TEST(JobApi, RecordsNameTheirInstanceAndAnIdOfAnotherRunIsSaidToBelongElsewhere) {
  JobsFixture f;
  auto c = f.client();
  const auto id = start(c, R"({"kind": "sleep", "args": {"duration_ms": 1}})");
  EXPECT_TRUE(id.starts_with(f.jobs->ids().boot() + "-")) << id;
  const auto record = body_of(c.get("/v1/jobs/" + id));
  EXPECT_EQ(record.at("instance"), f.jobs->instance().c_str());
  EXPECT_FALSE(f.jobs->instance().empty());
  const service::JobIds other;
  const auto res = c.get("/v1/jobs/" + other.format(1));
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_NE(message_of(res).find("another replica or an earlier run owns it"), std::string::npos)
      << message_of(res);
  EXPECT_EQ(c.request(http::verb::delete_, "/v1/jobs/" + other.format(1)).result(), http::status::not_found);
}

// Regression: job timestamps were formatted by fmt 9 from a time_point, which uses the local
// time zone and drops the fraction, then marked Z: on a host not on UTC every created_at was
// off by the zone's offset (found by checking the job records against the OpenAPI schema).
TEST(JobJson, TimestampsAreUtcWithMillisecondsWhateverTheTimeZone) {
  const char* saved = std::getenv("TZ");
  const std::string previous = saved != nullptr ? saved : "";
  ::setenv("TZ", "Asia/Tokyo", 1);
  ::tzset();
  service::JobSnapshot job;
  // 2026-12-01T07:10:00.123Z
  job.created = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'796'109'000'123));
  const auto json = service::to_json(job);
  if (saved != nullptr) {
    ::setenv("TZ", previous.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  EXPECT_EQ(json.at("created_at").as_string(), "2026-12-01T07:10:00.123Z");
  EXPECT_TRUE(json.at("started_at").is_null());
}

}  // namespace
}  // namespace loopvisor::test
