// Config: defaults, the shipped file, precedence, sources in errors, the UTF-8 guard, flags.
#include "loopvisor/config/loader.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "daemon.hpp"
#include "loopvisor/config/command_line.hpp"
#include "loopvisor/config/config_error.hpp"
#include "loopvisor/config/schema.hpp"

namespace loopvisor::config {
namespace {

namespace service = loopvisor::service;

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

/// The message of the ConfigError `fn` throws ("" when it does not throw).
template <class F>
std::string error_of(F fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, ShippedFileSetsExactlyTheBuiltInDefaults) {
  const auto from_file = load_config(std::string(LOOPVISOR_SOURCE_DIR "/config/loopvisor.toml"), {}, {});
  const auto defaults = load_config(std::nullopt, {}, {});
  for (const auto& s : settings()) {
    EXPECT_EQ(s.print(from_file.config), s.print(defaults.config)) << s.name();
    EXPECT_TRUE(from_file.origin.at(s.name()).starts_with("file "))
        << s.name() << " is missing from the file";
    EXPECT_EQ(defaults.origin.at(s.name()), "default");
  }
  EXPECT_EQ(defaults.config.admin.listen, (Endpoint{"127.0.0.1", 9470}));
}

TEST(Config, RuntimeDefaultsAreTheSupervisorsDefaults) {
  const SupervisorOptions library;
  const auto daemon = service::supervisor_options(RuntimeConfig{});
  EXPECT_EQ(daemon.submit_queue_capacity, library.submit_queue_capacity);
  EXPECT_EQ(daemon.placement, library.placement);
  EXPECT_EQ(daemon.cpu_affinity, library.cpu_affinity);
  EXPECT_EQ(daemon.slow_callback_threshold, library.slow_callback_threshold);
  EXPECT_EQ(daemon.spin_before_park, library.spin_before_park);
  EXPECT_EQ(daemon.blocking_threads, library.blocking_threads);
  EXPECT_EQ(daemon.blocking_max_pending, library.blocking_max_pending);
  EXPECT_EQ(daemon.watchdog.interval, library.watchdog.interval);
  EXPECT_EQ(daemon.watchdog.stall_threshold, library.watchdog.stall_threshold);
  const auto loops =
      service::supervisor_options(load_config(std::nullopt, {}, {{"loops", "3"}}).config.runtime);
  EXPECT_EQ(loops.loops, 3u);
}

TEST(Config, FlagBeatsEnvBeatsFileBeatsDefault) {
  const auto file =
      write_file("precedence.toml", "[runtime]\nloops = 3\n[admin]\nlisten = \"127.0.0.1:1000\"\n");
  const Environment env{{"LOOPVISOR_RUNTIME_LOOPS", "5"}};
  const auto all = load_config(file, env, {{"loops", "7"}});
  EXPECT_EQ(all.config.runtime.loops, 7u);
  EXPECT_EQ(all.origin.at("runtime.loops"), "flag --loops");
  EXPECT_EQ(all.config.admin.listen.port, 1000);
  EXPECT_EQ(all.origin.at("admin.listen"), "file " + file + ":4:10");
  const auto no_flag = load_config(file, env, {});
  EXPECT_EQ(no_flag.config.runtime.loops, 5u);
  EXPECT_EQ(no_flag.origin.at("runtime.loops"), "env LOOPVISOR_RUNTIME_LOOPS");
  EXPECT_EQ(load_config(file, {}, {}).config.runtime.loops, 3u);
  EXPECT_EQ(load_config(std::nullopt, {{"LOOPVISOR_CONFIG", file}}, {}).config.runtime.loops, 3u);
}

TEST(Config, EveryKindOfValueParsesFromEveryKindOfSource) {
  const auto file = write_file(
      "kinds.toml",
      "[runtime]\ncpu_affinity = [0, 2]\nplacement = \"least_loaded\"\n[metrics]\nprocess = false\n");
  const auto loaded =
      load_config(file, {{"LOOPVISOR_ADMIN_LISTEN", "[::1]:0"}, {"LOOPVISOR_WATCHDOG_INTERVAL_MS", "20"}},
                  {{"cpu-affinity", "1,3,5"}, {"log-level", "debug"}, {"admin-enabled", "false"}});
  EXPECT_EQ(loaded.config.runtime.cpu_affinity, (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(loaded.config.runtime.placement, Placement::least_loaded);
  EXPECT_FALSE(loaded.config.metrics.process);
  EXPECT_EQ(loaded.config.admin.listen, (Endpoint{"::1", 0}));
  EXPECT_EQ(loaded.config.admin.listen.to_string(), "[::1]:0");
  EXPECT_EQ(loaded.config.runtime.watchdog.interval, std::chrono::milliseconds(20));
  EXPECT_EQ(loaded.config.log_level, "debug");
  EXPECT_FALSE(loaded.config.admin.enabled);
}

TEST(Config, SpinBeforeParkIsMicrosecondsUpToOneSecondAndReachesTheSupervisor) {
  const auto loaded = load_config(std::nullopt, {{"LOOPVISOR_RUNTIME_SPIN_BEFORE_PARK_US", "50"}}, {});
  EXPECT_EQ(service::supervisor_options(loaded.config.runtime).spin_before_park,
            std::chrono::microseconds(50));
  EXPECT_EQ(error_of([] {
              load_config(std::nullopt, {}, {{"spin-before-park-us", "1000001"}});
            }),
            "runtime.spin_before_park_us = 1000001: out of range; expected a whole number of microseconds "
            "from 0 to 1000000 (from flag --spin-before-park-us)");
}

TEST(Config, BadValuesNameTheSettingTheSourceAndWhatIsAllowed) {
  const auto file = write_file("bad.toml", "[admin]\nlisten = 9470\n");
  EXPECT_EQ(error_of([&] { load_config(file, {}, {}); }),
            "admin.listen = 9470: not a string; expected HOST:PORT with a port from 0 to 65535 (IPv6 in "
            "brackets: [::1]:9470) (from file " +
                file + ":2:10)");
  EXPECT_EQ(error_of([] {
              load_config(std::nullopt, {{"LOOPVISOR_RUNTIME_LOOPS", "-1"}}, {});
            }),
            "runtime.loops = -1: not a non-negative integer; expected an integer from 0 to 1024 (from env "
            "LOOPVISOR_RUNTIME_LOOPS)");
  EXPECT_NE(error_of([] {
              load_config(std::nullopt, {}, {{"admin-listen", "localhost:99999"}});
            }).find("(from flag --admin-listen)"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              load_config(std::nullopt, {}, {{"log-level", "loud"}});
            }).find("log.level = loud"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              load_config(std::nullopt, {}, {{"cpu-affinity", "1,,2"}});
            }).find("runtime.cpu_affinity"),
            std::string::npos);
}

TEST(Config, UnknownKeysSectionsAndVariablesAreErrorsButKubernetesServiceLinksAreNot) {
  const auto typo = write_file("typo.toml", "[admin]\nlisen = \"x\"\n");
  EXPECT_NE(error_of([&] {
              load_config(typo, {}, {});
            }).find("admin.lisen: unknown setting (from file " + typo + ":2:9)"),
            std::string::npos);
  const auto top = write_file("top.toml", "loops = 3\n");
  EXPECT_NE(error_of([&] { load_config(top, {}, {}); }).find("'loops' must be a [section]"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              load_config(std::nullopt, {{"LOOPVISOR_ADMN_LISTEN", "x"}}, {});
            }).find("environment variable LOOPVISOR_ADMN_LISTEN: no setting has that name"),
            std::string::npos);
  // A Kubernetes Service named "loopvisor" injects these into every pod of the namespace.
  EXPECT_NO_THROW(load_config(std::nullopt,
                              {{"LOOPVISOR_PORT", "tcp://10.0.0.1:9470"},
                               {"LOOPVISOR_SERVICE_HOST", "10.0.0.1"},
                               {"LOOPVISOR_PORT_9470_TCP_ADDR", "10.0.0.1"}},
                              {}));
  EXPECT_NE(error_of([] {
              load_config(std::string("/nonexistent/loopvisor.toml"), {}, {});
            }).find("/nonexistent/loopvisor.toml: cannot be opened"),
            std::string::npos);
}

TEST(Config, AuthTokenIsReadFromItsFileAndNeverPrinted) {
  const auto token = write_file("token", "tok-123\n");
  const auto loaded = load_config(std::nullopt, {{"LOOPVISOR_ADMIN_AUTH_TOKEN_FILE", token}}, {});
  EXPECT_EQ(loaded.config.admin.auth_token, "tok-123");
  EXPECT_EQ(print_config(loaded).find("tok-123"), std::string::npos);
  EXPECT_NE(error_of([] {
              load_config(std::nullopt, {}, {{"admin-auth-token-file", "/nonexistent/token"}});
            })
                .find("admin.auth_token_file = /nonexistent/token (from flag --admin-auth-token-file): "
                      "cannot be opened for reading"),
            std::string::npos);
  const auto empty = write_file("empty-token", "\n");
  EXPECT_NE(error_of([&] {
              load_config(std::nullopt, {}, {{"admin-auth-token-file", empty}});
            }).find("empty"),
            std::string::npos);
}

TEST(Config, ErrorsShowValuesOnOneLine) {
  // Regression: an environment value holding a newline split the error message in two.
  const auto message = error_of([] {
    load_config(std::nullopt, {{"LOOPVISOR_RUNTIME_LOOPS", "2\nforged: ok"}}, {});
  });
  EXPECT_NE(message.find("runtime.loops = 2\\nforged: ok: "), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(error_of([] {
              load_config(std::nullopt, {{"LOOPVISOR_X\x1b[2J", "1"}}, {});
            }).find('\x1b'),
            std::string::npos);
}

TEST(Config, AnArrayInAnErrorIsShownElementByElement) {
  // Regression (config fuzzer): showing `[0.1]` in the error went through toml++'s formatter,
  // whose width estimate for a float between -1 and 1 is undefined behaviour (0.0625 is exact).
  const auto file =
      write_file("float-cpus.toml", "[runtime]\ncpu_affinity = [0.0625, 2, [-0.0625], {a = 0.5}]\n");
  const auto message = error_of([&] { load_config(file, {}, {}); });
  EXPECT_NE(message.find("runtime.cpu_affinity = [0.0625, 2, [-0.0625], {...}]: not an integer"),
            std::string::npos)
      << message;
}

TEST(Config, AByteOrderMarkIsNotPartOfTheToken) {
  // Regression: a token file saved with a BOM made the BOM part of the token.
  const auto token = write_file("bom-token", "\xEF\xBB\xBFtok-456\r\n");
  EXPECT_EQ(
      load_config(std::nullopt, {{"LOOPVISOR_ADMIN_AUTH_TOKEN_FILE", token}}, {}).config.admin.auth_token,
      "tok-456");
}

TEST(Config, OnlyRegularFilesOfBoundedSizeAreRead) {
  // Regression: /dev/zero aborted with bad_alloc, a FIFO hung, a directory read as empty.
  EXPECT_NE(error_of([] {
              load_config(std::string("/dev/zero"), {}, {});
            }).find("config file /dev/zero: is a character device; it must be a regular file"),
            std::string::npos);
  EXPECT_NE(error_of([] { load_config(::testing::TempDir(), {}, {}); }).find("is a directory"),
            std::string::npos);
  const std::string fifo = ::testing::TempDir() + "/lv-config-fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(error_of([&] { load_config(fifo, {}, {}); }).find("is a FIFO"), std::string::npos);
  EXPECT_NE(error_of([&] {
              load_config(std::nullopt, {}, {{"admin-auth-token-file", fifo}});
            }).find("is a FIFO"),
            std::string::npos);
  ::unlink(fifo.c_str());
  const auto big = write_file("big.toml", std::string(1024 * 1024 + 1, '#'));
  EXPECT_NE(error_of([&] { load_config(big, {}, {}); }).find("larger than 1048576 bytes"), std::string::npos);
}

TEST(Config, DeeplyNestedKeysAndValuesAreRefusedBeforeTheParser) {
  // Regression: 35,000 components overflowed the stack inside toml++ (SIGSEGV).
  std::string header = "[a";
  for (int i = 0; i < 35000; ++i) header += ".a";
  EXPECT_NE(error_of([&] {
              load_config(write_file("deep1.toml", header + "]\n"), {}, {});
            }).find("too many dotted parts"),
            std::string::npos);
  std::string dotted = "x";
  for (int i = 0; i < 35000; ++i) dotted += ".x";
  EXPECT_NE(error_of([&] {
              load_config(write_file("deep2.toml", dotted + " = 1\n"), {}, {});
            }).find("too many dotted parts"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              load_config(write_file("deep3.toml", "[jobs]\nexec_allow = " + std::string(35000, '[') + "\n"),
                          {}, {});
            }).find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              std::string inline_tables = "a = ";
              for (int i = 0; i < 35000; ++i) inline_tables += "{b = ";
              load_config(write_file("deep4.toml", inline_tables + "\n"), {}, {});
            }).find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              std::string inline_keys = "a = {";
              for (int i = 0; i < 35000; ++i) inline_keys += "b.";
              load_config(write_file("deep5.toml", inline_keys + "c = 1}\n"), {}, {});
            }).find("too many dotted parts"),
            std::string::npos);
  // A named key, appended to: GCC 12 (-O2, TSan) reports a false -Warray-bounds inside
  // std::string's move when a temporary is concatenated here.
  std::string long_key(300, 'k');
  long_key.append(" = 1\n");
  EXPECT_NE(error_of([&] { load_config(write_file("long.toml", long_key), {}, {}); }).find("too long"),
            std::string::npos);
  // What real files hold still passes: dotted keys at the top, floats and arrays in values.
  const auto fine = write_file("fine.toml",
                               "runtime.loops = 2 # a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q\n[jobs]\n"
                               "exec_allow = [\"/bin/a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s\"]\n");
  EXPECT_EQ(load_config(fine, {}, {}).config.runtime.loops, 2u);
}

TEST(Config, MalformedTomlIsAnErrorWithItsPosition) {
  const auto file = write_file("syntax.toml", "[runtime]\nloops = = 3\n");
  EXPECT_NE(error_of([&] { load_config(file, {}, {}); }).find(file + ":2:"), std::string::npos);
}

TEST(Config, InputIsCheckedAsUtf8BeforeTheTomlParserSeesIt) {
  LoadedConfig loaded;
  EXPECT_NE(error_of([&] {
              apply_toml_text(loaded, "[runtime]\n# \xff\xfe\n", "t.toml");
            }).find("t.toml:2: not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(error_of([&] { apply_toml_text(loaded, "\xed\xa0\x80", "t.toml"); }).find("not valid UTF-8"),
            std::string::npos);  // a UTF-16 surrogate
  // toml++ 3.3.0 has undefined behaviour on exactly these three bytes (NOTES.md); the
  // sanitizer builds run this test.
  EXPECT_NE(error_of([&] { apply_toml_text(loaded, "\xEF\xBB\xB7", "t.toml"); }), "");
  EXPECT_NE(error_of([&] { apply_toml_text(loaded, "\xEF\xBB", "t.toml"); }), "");
  // What toml++ 3.3.0 cannot be trusted with never reaches it (found by tests/fuzz).
  EXPECT_NE(error_of([&] { apply_toml_text(loaded, "x = +'le\xc2\xa1o\"\n", "t.toml"); }).find("non-ASCII"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { apply_toml_text(loaded, "[runtime]\n[\x1c]\n", "t.toml"); }).find("t.toml:2: a control"),
      std::string::npos);
  EXPECT_NE(error_of([&] { apply_toml_text(loaded, "[#]\n", "t.toml"); }).find("table header without a key"),
            std::string::npos);
  EXPECT_NE(error_of([&] { apply_toml_text(loaded, "[log]\nlevel = [}\n", "t.toml"); }), "");
  // Non-ASCII text in comments is fine, with '#' and quotes inside strings not taken for comments.
  apply_toml_text(loaded, "# Привет\n[admin] # ¡sí!\nauth_token_file = \"/run/a#b\" # ¿\n", "t.toml");
  EXPECT_EQ(loaded.config.admin.auth_token_file, "/run/a#b");
  EXPECT_NE(error_of([&] {
              apply_toml_text(loaded, "[admin]\nlisten = \"#\xc2\xa1\"\n", "t.toml");
            }).find("non-ASCII"),
            std::string::npos);
  // A byte order mark is fine.
  apply_toml_text(loaded, "\xEF\xBB\xBF[runtime]\nloops = 2\n", "t.toml");
  EXPECT_EQ(loaded.config.runtime.loops, 2u);
}

TEST(Config, WatchdogThresholdMustExceedItsInterval) {
  EXPECT_NE(
      error_of([] {
        load_config(std::nullopt, {}, {{"watchdog-interval-ms", "2000"}});
      }).find("watchdog.stall_threshold_ms = 1000 (from default) must be longer than watchdog.interval_ms"),
      std::string::npos);
  EXPECT_NO_THROW(load_config(std::nullopt, {}, {{"watchdog-interval-ms", "0"}}));  // off: no check
}

TEST(Config, ExecAllowListTakesAbsolutePlainPathsFromEverySource) {
  const auto file = write_file("exec.toml", "[jobs]\nexec_allow = [\"/bin/sh\", \"/usr/bin/env\"]\n");
  EXPECT_EQ(load_config(file, {}, {}).config.jobs.exec_allow,
            (std::vector<std::string>{"/bin/sh", "/usr/bin/env"}));
  EXPECT_EQ(load_config(std::nullopt, {{"LOOPVISOR_JOBS_EXEC_ALLOW", "/bin/true,/bin/false"}}, {})
                .config.jobs.exec_allow,
            (std::vector<std::string>{"/bin/true", "/bin/false"}));
  EXPECT_TRUE(load_config(std::nullopt, {}, {{"jobs-exec-allow", ""}}).config.jobs.exec_allow.empty());
  for (const char* bad : {"sh", "/bin/../bin/sh", "/bin//sh", "/bin/", "/bin/sh,"}) {
    EXPECT_NE(error_of([&] {
                load_config(std::nullopt, {}, {{"jobs-exec-allow", bad}});
              }).find("jobs.exec_allow = "),
              std::string::npos)
        << bad;
  }
  // Printed as TOML that reads back.
  const auto loaded = load_config(file, {}, {});
  const auto again = load_config(write_file("exec_printed.toml", print_config(loaded)), {}, {});
  EXPECT_EQ(again.config.jobs.exec_allow, loaded.config.jobs.exec_allow);
}

TEST(Config, JobDefaultTimeoutMustBeAllowedByTheMaximum) {
  EXPECT_NE(
      error_of([] {
        load_config(std::nullopt, {}, {{"jobs-max-timeout-ms", "1000"}});
      })
          .find("jobs.default_timeout_ms = 60000 (from default) must not exceed jobs.max_timeout_ms = 1000 "
                "(from flag --jobs-max-timeout-ms)"),
      std::string::npos);
}

TEST(Config, PrintConfigShowsEveryValueWithItsSourceAndReadsBack) {
  const auto loaded = load_config(std::nullopt, {{"LOOPVISOR_RUNTIME_LOOPS", "4"}}, {});
  const auto text = print_config(loaded);
  EXPECT_NE(text.find("loops = 4  # env LOOPVISOR_RUNTIME_LOOPS"), std::string::npos) << text;
  EXPECT_NE(text.find("listen = \"127.0.0.1:9470\"  # default"), std::string::npos) << text;
  // The printed configuration is itself a valid config file with the same values.
  const auto again = load_config(write_file("printed.toml", text), {}, {});
  for (const auto& s : settings()) EXPECT_EQ(s.print(again.config), s.print(loaded.config)) << s.name();
}

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "loopvisord");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

TEST(Config, CommandLineActionsAndFlagForms) {
  EXPECT_EQ(parse({"--check-config"}).action, Action::check_config);
  EXPECT_EQ(parse({"--print-config"}).action, Action::print_config);
  EXPECT_EQ(parse({"healthcheck", "--admin-listen", "127.0.0.1:1"}).action, Action::healthcheck);
  const auto run = parse({"--config", "x.toml", "--loops=2", "--admin-listen", "0.0.0.0:9470"});
  EXPECT_EQ(run.action, Action::run);
  EXPECT_EQ(run.config_file, "x.toml");
  ASSERT_EQ(run.values.size(), 2u);
  EXPECT_EQ(run.values[0].flag, "loops");
  EXPECT_EQ(run.values[0].value, "2");
  EXPECT_EQ(run.values[1].value, "0.0.0.0:9470");
  EXPECT_NE(error_of([] { parse({"--nope"}); }).find("--nope"), std::string::npos);
  EXPECT_NE(error_of([] { parse({"--loops"}); }).find("loops"), std::string::npos);
  EXPECT_NE(error_of([] { parse({"serve"}); }).find("unknown command 'serve'"), std::string::npos);
  EXPECT_NE(error_of([] { parse({"--check-config", "--print-config"}); }), "");
  // Every setting is in --help with its env variable.
  const auto help = usage();
  for (const auto& s : settings())
    EXPECT_NE(help.find("--" + s.flag + " VALUE"), std::string::npos) << s.flag;
  EXPECT_NE(help.find("LOOPVISOR_ADMIN_LISTEN"), std::string::npos);
}

TEST(Config, AFlagWhoseValueIsForgottenIsNamedNotFedTheNextFlag) {
  // Seen: `--jobs-allow-block --admin-auth-token-file F` took the second flag as the first's
  // value and then complained about F as an unknown command.
  const auto error = error_of([] { parse({"--jobs-allow-block", "--admin-auth-token-file", "/t"}); });
  EXPECT_NE(error.find("--jobs-allow-block needs a value"), std::string::npos) << error;
  EXPECT_NE(error.find("--admin-auth-token-file"), std::string::npos) << error;
  EXPECT_EQ(error.find("unknown command"), std::string::npos) << error;
  EXPECT_NE(error_of([] {
              parse({"--config", "--loops=2"});
            }).find("--config needs a value"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse({"--loops", "--help"}); }).find("--loops needs a value"), std::string::npos);
  // A value that only looks like a flag is still a value.
  EXPECT_EQ(parse({"--log-level", "-v"}).values.at(0).value, "-v");
  EXPECT_EQ(parse({"--log-level", "--no-such-flag"}).values.at(0).value, "--no-such-flag");
}

}  // namespace
}  // namespace loopvisor::config
