// TLS streams: a TLS server across loops, verified clients, STARTTLS upgrades, refusals that
// say why, handshakes that stall or speak plaintext, cancellation, and misuse.
#include "loopvisor/tls.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/this_coro.hpp>

#include "loopvisor/sleep.hpp"
#include "loopvisor/timeout.hpp"
#include "stream_checks.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

using asio::ip::tcp;
const tcp::endpoint any_local{asio::ip::make_address("127.0.0.1"), 0};
const std::string cert_file = std::string(LOOPVISOR_TLS_TEST_DIR) + "/localhost.crt";
const std::string key_file = std::string(LOOPVISOR_TLS_TEST_DIR) + "/localhost.key";

TlsContext trusting_client() {
  auto context = make_tls_client_context();
  context->load_verify_file(cert_file);
  return context;
}

std::atomic<int> handled{0};

// Echoes lines prefixed with the loop's index, then ends with close_notify.
asio::awaitable<void> tls_echo(Stream stream) {
  handled.fetch_add(1);
  for (;;) {
    std::string line = co_await stream.readline();
    if (line.empty() || line == "bye\n") break;
    co_await stream.write(std::to_string(Loop::current().index()) + ":" + line);
  }
  co_await stream.aclose();
}

asio::awaitable<std::string> ask_tls(std::string host, std::uint16_t port, TlsContext context,
                                     std::string name, std::string line) {
  Stream s = co_await open_tls_connection(std::move(host), port, std::move(context), std::move(name));
  EXPECT_THROW(s.write_eof(), Error) << "TLS cannot half-close";
  co_await s.write(line);
  std::string answer = co_await s.readline();
  co_await s.write("bye\n");
  EXPECT_EQ(co_await s.read_all(), "") << "the server's close_notify is a clean end of stream";
  co_return answer;
}

TEST(Tls, ServerAcrossLoopsAnswersVerifiedClientsByNameAndByAddress) {
  Supervisor server_side(SupervisorOptions{.loops = 2});
  auto server =
      start_tls_server(server_side, any_local, make_tls_server_context(cert_file, key_file), tls_echo);
  LoopThread client;
  std::set<std::string> loops_seen;
  // One acceptor per loop (SO_REUSEPORT): the kernel picks by a hash of the addresses, so 8
  // connections all went to one loop about once in 30 runs; 24 leave a chance of 2^-23.
  for (int i = 0; i < 24; ++i) {
    const std::string line = "secret " + std::to_string(i) + "\n";
    // By address (the certificate's IP SAN), by name with SNI, and by address verified as a name.
    const std::string answer =
        i % 3 == 0 ? client
                         ->run_coroutine_threadsafe(
                             ask_tls("127.0.0.1", server->port(), trusting_client(), "127.0.0.1", line))
                         .get(bound)
        : i % 3 == 1 ? client
                           ->run_coroutine_threadsafe(
                               ask_tls("localhost", server->port(), trusting_client(), "localhost", line))
                           .get(bound)
                     : client
                           ->run_coroutine_threadsafe(
                               ask_tls("127.0.0.1", server->port(), trusting_client(), "localhost", line))
                           .get(bound);
    EXPECT_EQ(answer.substr(answer.find(':') + 1), line);
    loops_seen.insert(answer.substr(0, answer.find(':')));
  }
  EXPECT_EQ(loops_seen.size(), 2u) << "connections are served across the loops";
}

TEST(Tls, AnUntrustedCertificateIsRefusedSayingWhy) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  handled = 0;
  auto server = start_tls_server(sup, any_local, make_tls_server_context(cert_file, key_file), tls_echo);
  LoopThread client;
  try {
    // The system's authorities do not include the test certificate.
    (void)client
        ->run_coroutine_threadsafe(
            open_tls_connection("127.0.0.1", server->port(), make_tls_client_context()))
        .get(bound);
    ADD_FAILURE() << "expected a verification failure";
  } catch (const boost::system::system_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
    EXPECT_NE(what.find("self-signed"), std::string::npos) << what;
  }
  EXPECT_EQ(handled.load(), 0) << "the handler never sees a failed handshake";
}

TEST(Tls, AHostNameTheCertificateDoesNotNameIsRefused) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  auto server = start_tls_server(sup, any_local, make_tls_server_context(cert_file, key_file), tls_echo);
  LoopThread client;
  try {
    (void)client
        ->run_coroutine_threadsafe(
            open_tls_connection("127.0.0.1", server->port(), trusting_client(), "other.example"))
        .get(bound);
    ADD_FAILURE() << "expected a host name mismatch";
  } catch (const boost::system::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("other.example"), std::string::npos) << e.what();
  }
}

// A plain TCP client that connects and then never speaks TLS.
asio::awaitable<std::string> stall(std::uint16_t port, std::string send) {
  Stream s = co_await open_connection("127.0.0.1", port);
  if (!send.empty()) co_await s.write(send);
  co_return co_await s.read_all();  // the server drops us: end of stream
}

TEST(Tls, StalledAndPlaintextHandshakesAreDroppedAndTheServerGoesOn) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  handled = 0;
  auto server =
      start_tls_server(sup, any_local, make_tls_server_context(cert_file, key_file), tls_echo, 50ms);
  LoopThread client;
  auto stalled = client->run_coroutine_threadsafe(stall(server->port(), ""));
  auto plaintext = client->run_coroutine_threadsafe(stall(server->port(), "GET / HTTP/1.0\r\n\r\n"));
  (void)stalled.get(bound);    // returns only because the server closed the connection
  (void)plaintext.get(bound);  // (an alert or nothing, then end of stream)
  EXPECT_EQ(handled.load(), 0);
  EXPECT_EQ(client
                ->run_coroutine_threadsafe(
                    ask_tls("127.0.0.1", server->port(), trusting_client(), "localhost", "still here\n"))
                .get(bound),
            "0:still here\n");
}

TEST(Tls, TheHandshakeTimeoutMustBePositiveAndTheContextSet) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  auto context = make_tls_server_context(cert_file, key_file);
  EXPECT_THROW((void)start_tls_server(sup, any_local, context, tls_echo, 0ms), std::invalid_argument);
  EXPECT_THROW((void)start_tls_server(sup, any_local, nullptr, tls_echo), std::invalid_argument);
}

// STARTTLS: plain text first, then the same connection upgraded on both sides.
asio::awaitable<void> starttls_server(Stream plain) {
  if (co_await plain.readline() != "STARTTLS\n") co_return;
  co_await plain.write("GO\n");
  Stream secured = co_await accept_tls(std::move(plain), make_tls_server_context(cert_file, key_file));
  co_await tls_echo(std::move(secured));
}

TEST(Tls, StartTlsUpgradesAPlainConnection) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  auto server = start_server(sup, any_local, starttls_server);
  LoopThread client;
  auto f = client->run_coroutine_threadsafe([](std::uint16_t port) -> asio::awaitable<std::string> {
    Stream plain = co_await open_connection("127.0.0.1", port);
    co_await plain.write("STARTTLS\n");
    EXPECT_EQ(co_await plain.readline(), "GO\n");
    Stream secured = co_await start_tls(std::move(plain), trusting_client(), "localhost");
    EXPECT_TRUE(secured.is_open());
    EXPECT_EQ(secured.remote_endpoint().port(), port) << "the endpoints are the TCP socket's";
    co_await secured.write("upgraded\n");
    std::string answer = co_await secured.readline();
    EXPECT_THROW((void)co_await start_tls(std::move(secured), trusting_client(), "localhost"),
                 InvalidStateError)
        << "already TLS";
    co_return answer;
  }(server->port()));
  EXPECT_EQ(f.get(bound), "0:upgraded\n");
}

// Sends nothing over TLS until the client goes away.
asio::awaitable<void> tls_silent(Stream stream) { (void)co_await stream.read_all(); }

TEST(Tls, ReadsAreCancellableAndBoundedByATimeout) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  auto server = start_tls_server(sup, any_local, make_tls_server_context(cert_file, key_file), tls_silent);
  LoopThread client;
  auto f = client->run_coroutine_threadsafe([](std::uint16_t port) -> asio::awaitable<void> {
    Stream s = co_await open_tls_connection("127.0.0.1", port, trusting_client());
    co_await expect_reads_bounded_and_cancellable(s);
    co_await s.aclose();
    EXPECT_FALSE(s.is_open());
  }(server->port()));
  f.get(bound);
}

TEST(Tls, MisuseAndBadFilesAreClearErrors) {
  try {
    (void)make_tls_server_context("/nonexistent/cert.pem", key_file);
    ADD_FAILURE() << "expected an error";
  } catch (const boost::system::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
  }
  try {
    (void)make_tls_server_context(cert_file, cert_file);  // a certificate is not a key
    ADD_FAILURE() << "expected an error";
  } catch (const boost::system::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("private key"), std::string::npos) << e.what();
  }
  Supervisor sup(SupervisorOptions{.loops = 1});
  auto server = start_server(sup, any_local, tls_silent);
  LoopThread client;
  auto f = client->run_coroutine_threadsafe([](std::uint16_t port) -> asio::awaitable<void> {
    Stream first = co_await open_connection("127.0.0.1", port);
    EXPECT_THROW((void)co_await start_tls(std::move(first), nullptr, "localhost"), std::invalid_argument);
    Stream second = co_await open_connection("127.0.0.1", port);
    EXPECT_THROW((void)co_await start_tls(std::move(second), trusting_client(), ""), std::invalid_argument);
    auto executor = co_await asio::this_coro::executor;
    asio::local::stream_protocol::socket a(executor), b(executor);
    asio::local::connect_pair(a, b);
    EXPECT_THROW((void)co_await start_tls(Stream(std::move(a)), trusting_client(), "localhost"),
                 InvalidStateError)
        << "only TCP connections are upgraded";
  }(server->port()));
  f.get(bound);
}

// A plain server that accepts and never answers: the client's handshake waits on it.
asio::awaitable<void> plain_silent(Stream stream) { (void)co_await stream.read_all(); }

TEST(Tls, AHandshakeThatGetsNoAnswerIsBoundedByATimeout) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  auto server = start_server(sup, any_local, plain_silent);
  LoopThread client;
  auto f = client->run_coroutine_threadsafe([](std::uint16_t port) -> asio::awaitable<void> {
    std::optional<Stream> connected;
    auto scope = timeout(20ms);
    try {
      co_await scope.run([](std::uint16_t p, std::optional<Stream>& out) -> asio::awaitable<void> {
        out.emplace(co_await open_tls_connection("127.0.0.1", p, trusting_client()));
      }(port, connected));
      ADD_FAILURE() << "expected TimeoutError";
    } catch (const TimeoutError&) {
    }
    EXPECT_FALSE(connected.has_value());
  }(server->port()));
  f.get(bound);
}

}  // namespace
}  // namespace loopvisor::test
