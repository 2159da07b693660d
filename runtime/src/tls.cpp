// TLS: a Transport over asio::ssl::stream, handshakes on both sides, and the TLS server.
#include "loopvisor/tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "log.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/timeout.hpp"
#include "socket_transport.hpp"
#include "use_tuple.hpp"

namespace loopvisor {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

using detail::use_tuple;

// How long aclose() waits for the close_notify exchange before closing anyway.
constexpr auto close_notify_bound = std::chrono::seconds(5);

// Owns the TLS state over a TCP socket. The context outlives the stream (declared first).
class TlsTransport final : public Transport {
 public:
  TlsTransport(tcp::socket socket, TlsContext context)
      : context_(std::move(context)), stream_(std::move(socket), *context_) {}

  ssl::stream<tcp::socket>& stream() noexcept { return stream_; }

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
    auto [ec, n] = co_await stream_.async_read_some(buffer, use_tuple);
    // close_notify reads as eof; a peer that just closed the socket as stream_truncated,
    // which Python's suppress_ragged_eofs (the default) also reads as end of stream.
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) co_return 0;
    if (ec) detail::throw_io(ec, "TLS read");
    co_return n;
  }

  asio::awaitable<void> write(asio::const_buffer data) override {
    auto [ec, n] = co_await asio::async_write(stream_, data, use_tuple);
    if (ec) detail::throw_io(ec, "TLS write");
  }

  void write_eof() override {
    throw Error("Stream::write_eof: a TLS connection cannot be half-closed; use aclose() to end it");
  }

  void close() noexcept override {
    boost::system::error_code ignored;
    stream_.lowest_layer().close(ignored);
  }

  asio::awaitable<void> aclose() override {
    if (stream_.lowest_layer().is_open()) {
      bool cancelled = false;
      try {
        auto scope = timeout(close_notify_bound);
        co_await scope.run(shutdown());
      } catch (const CancelledError&) {
        cancelled = true;
      } catch (const std::exception&) {
        // The peer went away or did not answer: closing is all that is left to do.
      }
      close();
      if (cancelled) throw CancelledError("Stream::aclose was cancelled (the connection is closed)");
    }
  }

  bool is_open() const noexcept override { return stream_.lowest_layer().is_open(); }

  std::string peer_name() const override {
    boost::system::error_code ec;
    const auto peer = stream_.lowest_layer().remote_endpoint(ec);
    return ec ? std::string("(not connected)") : detail::endpoint_name(peer);
  }

  tcp::socket* tcp_socket() noexcept override { return &stream_.next_layer(); }

 private:
  asio::awaitable<void> shutdown() {
    auto [ec] = co_await stream_.async_shutdown(use_tuple);
    (void)ec;  // eof or truncation: the peer closed without answering close_notify
  }

  TlsContext context_;
  ssl::stream<tcp::socket> stream_;
};

// Why a handshake failed: OpenSSL's reason, and the certificate check's when that was it.
std::string handshake_failure(const boost::system::error_code& ec, TlsTransport& transport) {
  std::string why = ec.message();
  const long verify = SSL_get_verify_result(transport.stream().native_handle());
  if (verify != X509_V_OK) why += fmt::format(" ({})", X509_verify_cert_error_string(verify));
  return why;
}

// The plain TCP socket of a stream about to be upgraded.
std::unique_ptr<TlsTransport> wrap(Stream& stream, TlsContext context, const char* who) {
  if (!context) throw std::invalid_argument(fmt::format("{}: the TLS context is null", who));
  if (dynamic_cast<TlsTransport*>(&stream.transport()) != nullptr) {
    throw InvalidStateError(fmt::format("{}: the stream is already TLS", who));
  }
  if (stream.transport().tcp_socket() == nullptr) {
    throw InvalidStateError(fmt::format("{}: the stream is not a TCP connection", who));
  }
  auto plain = stream.release_transport();
  return std::make_unique<TlsTransport>(std::move(*plain->tcp_socket()), std::move(context));
}

// Timeout::run needs a default-constructible result, which a Stream is not: the handshake
// stores its stream in `out`, which the caller keeps alive while it awaits this.
asio::awaitable<void> handshake_into(std::optional<Stream>& out, Stream plain, TlsContext context) {
  out.emplace(co_await accept_tls(std::move(plain), std::move(context)));
}

asio::awaitable<void> serve_tls(Stream plain, TlsContext context, std::shared_ptr<Server::Handler> handler,
                                std::chrono::steady_clock::duration handshake_timeout) {
  const std::string peer = plain.peer_name();
  std::optional<Stream> secured;
  std::string failure;
  try {
    auto scope = timeout(handshake_timeout);
    co_await scope.run(handshake_into(secured, std::move(plain), std::move(context)));
  } catch (const TimeoutError&) {
    failure = "the handshake timed out";
  } catch (const boost::system::system_error& e) {
    failure = e.what();
  }
  if (!secured) {
    detail::log(LogLevel::debug, "TLS server: dropped {}: {}", peer, failure);
    co_return;
  }
  co_await (*handler)(std::move(*secured));
}

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

TlsContext make_tls_client_context() {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_default_verify_paths();
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

TlsContext make_tls_server_context(const std::string& certificate_chain_file,
                                   const std::string& private_key_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  context->use_certificate_chain_file(certificate_chain_file, ec);
  if (ec) {
    throw boost::system::system_error(
        ec, "TLS server context: cannot load the certificate chain '" + certificate_chain_file + "'");
  }
  context->use_private_key_file(private_key_file, ssl::context::pem, ec);
  if (ec) {
    throw boost::system::system_error(
        ec, "TLS server context: cannot load the private key '" + private_key_file + "'");
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    throw Error(fmt::format("TLS server context: the private key '{}' does not match the certificate '{}'",
                            private_key_file, certificate_chain_file));
  }
  return context;
}

asio::awaitable<Stream> start_tls(Stream stream, TlsContext context, std::string server_hostname) {
  if (server_hostname.empty()) {
    throw std::invalid_argument("start_tls: server_hostname is empty; the certificate is checked against it");
  }
  auto tls = wrap(stream, std::move(context), "start_tls");
  if (!is_ip_address(server_hostname)) {
    // SNI carries names only (RFC 6066).
    SSL_set_tlsext_host_name(tls->stream().native_handle(), server_hostname.c_str());
  }
  tls->stream().set_verify_callback(ssl::host_name_verification(server_hostname));
  auto [ec] = co_await tls->stream().async_handshake(ssl::stream_base::client, use_tuple);
  if (ec == asio::error::operation_aborted) detail::throw_io(ec, "TLS handshake with " + server_hostname);
  if (ec) {
    throw boost::system::system_error(
        ec, fmt::format("TLS handshake with {} failed: {}", server_hostname, handshake_failure(ec, *tls)));
  }
  co_return Stream(std::move(tls));
}

asio::awaitable<Stream> accept_tls(Stream stream, TlsContext context) {
  const std::string peer = stream.peer_name();
  auto tls = wrap(stream, std::move(context), "accept_tls");
  auto [ec] = co_await tls->stream().async_handshake(ssl::stream_base::server, use_tuple);
  if (ec == asio::error::operation_aborted) detail::throw_io(ec, "TLS handshake from " + peer);
  if (ec) throw boost::system::system_error(ec, fmt::format("TLS handshake from {} failed", peer));
  co_return Stream(std::move(tls));
}

asio::awaitable<Stream> open_tls_connection(std::string host, std::uint16_t port, TlsContext context,
                                            std::string server_hostname) {
  Stream plain = co_await open_connection(host, port);
  co_return co_await start_tls(std::move(plain), std::move(context), std::move(server_hostname));
}

asio::awaitable<Stream> open_tls_connection(std::string host, std::uint16_t port, TlsContext context) {
  std::string name = host;
  co_return co_await open_tls_connection(std::move(host), port, std::move(context), std::move(name));
}

std::unique_ptr<Server> start_tls_server(Supervisor& supervisor, tcp::endpoint endpoint, TlsContext context,
                                         Server::Handler handler,
                                         std::chrono::steady_clock::duration handshake_timeout) {
  if (!context) throw std::invalid_argument("start_tls_server: the TLS context is null");
  if (handshake_timeout <= std::chrono::steady_clock::duration::zero()) {
    throw std::invalid_argument("start_tls_server: handshake_timeout must be positive");
  }
  auto inner = std::make_shared<Server::Handler>(std::move(handler));
  return start_server(supervisor, endpoint, [context, inner, handshake_timeout](Stream plain) {
    return serve_tls(std::move(plain), context, inner, handshake_timeout);
  });
}

}  // namespace loopvisor
