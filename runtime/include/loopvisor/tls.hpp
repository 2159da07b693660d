// TLS streams on Asio's OpenSSL support: connect, upgrade, accept and serve (asyncio's ssl=).
//
// In the loopvisor::tls target (link it for this header; it brings OpenSSL). The umbrella
// header does not include it, so programs without TLS need no OpenSSL.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "loopvisor/streams.hpp"

namespace loopvisor {

using TlsContext = std::shared_ptr<boost::asio::ssl::context>;

/// A client context as asyncio's ssl.create_default_context(): TLS 1.2 or later, the
/// system's certificate authorities, the peer's certificate verified (the host name is
/// checked per connection by open_tls_connection and start_tls). Add a private CA with
/// `context->load_verify_file(path)`.
[[nodiscard]] TlsContext make_tls_client_context();

/// A server context: TLS 1.2 or later, with the certificate chain and private key from PEM
/// files. Throws boost::system::system_error naming the file that could not be loaded.
[[nodiscard]] TlsContext make_tls_server_context(const std::string& certificate_chain_file,
                                                 const std::string& private_key_file);

/// On a loop: connects to `host:port` (as open_connection) and completes a TLS handshake,
/// sending `host` as SNI (not for an IP address) and verifying the certificate against it.
/// The returned Stream's transport keeps `context` alive. A failed handshake or verification
/// raises boost::system::system_error naming the host; cancellation and `timeout` apply to
/// the connect and the handshake alike.
///
/// Stream over TLS: `write_eof` throws (TLS cannot half-close); `aclose()` sends close_notify
/// before closing; a peer that closes without close_notify reads as end of stream (Python's
/// suppress_ragged_eofs); `socket()` and the endpoints are the TCP socket's.
[[nodiscard]] boost::asio::awaitable<Stream> open_tls_connection(std::string host, std::uint16_t port,
                                                                 TlsContext context);
/// The same, verifying the certificate against `server_hostname` instead of `host`
/// (asyncio's server_hostname=).
[[nodiscard]] boost::asio::awaitable<Stream> open_tls_connection(std::string host, std::uint16_t port,
                                                                 TlsContext context,
                                                                 std::string server_hostname);

/// On a loop: upgrades a connected plain TCP stream to TLS as the client (asyncio's
/// StreamWriter.start_tls). It takes the stream: if the upgrade fails, the connection is
/// closed. Bytes already buffered in `stream`, or a stream that is not plain TCP, make it
/// InvalidStateError.
[[nodiscard]] boost::asio::awaitable<Stream> start_tls(Stream stream, TlsContext context,
                                                       std::string server_hostname);

/// On a loop: performs the server side of the handshake on a connected TCP stream.
[[nodiscard]] boost::asio::awaitable<Stream> accept_tls(Stream stream, TlsContext context);

/// asyncio.start_server(..., ssl=context): a TCP Server whose handler receives streams that
/// completed the server handshake within `handshake_timeout` (asyncio's
/// ssl_handshake_timeout, 60 s by default). A client that fails or stalls the handshake is
/// logged at debug level and closed; the handler never sees it.
[[nodiscard]] std::unique_ptr<Server> start_tls_server(
    Supervisor& supervisor, boost::asio::ip::tcp::endpoint endpoint, TlsContext context,
    Server::Handler handler,
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(60));

}  // namespace loopvisor
