// asyncio scenario 8: concurrent HTTP fetches of several URLs with one client session, results
// gathered. A small HTTP/1.1 server on loopback (start_server) answers each page after 50 ms;
// the session keeps connections alive and reuses them, like aiohttp's ClientSession.
#include <iostream>
#include <map>
#include <vector>

#include "loopvisor/loopvisor.hpp"
#include "loopvisor/streams.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

// --- the server: one page per path, after a delay, keep-alive ---------------------------------
asio::awaitable<void> serve(loopvisor::Stream stream) {
  for (;;) {
    std::string head;
    try {
      head = co_await stream.read_until("\r\n\r\n");
    } catch (const loopvisor::IncompleteReadError&) {
      co_return;  // the client closed the connection
    }
    const auto path = head.substr(4, head.find(' ', 4) - 4);  // "GET <path> HTTP/1.1"
    co_await loopvisor::sleep(50ms);                          // a slow backend
    const std::string body = "page " + path;
    co_await stream.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                          body);
  }
}

// --- the client session: a pool of kept-alive connections to one host -------------------------
class Session {
 public:
  Session(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}

  asio::awaitable<std::string> get(std::string path) {
    loopvisor::Stream conn = co_await checkout();
    co_await conn.write("GET " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\n\r\n");
    const std::string head = co_await conn.read_until("\r\n\r\n");
    const auto at = head.find("Content-Length: ");
    const std::size_t length = std::stoul(head.substr(at + 16));
    std::string body = co_await conn.read_exactly(length);
    idle_.push_back(std::move(conn));  // keep-alive: back to the pool
    co_return body;
  }

  std::size_t connections_opened() const { return opened_; }

 private:
  asio::awaitable<loopvisor::Stream> checkout() {
    if (!idle_.empty()) {
      loopvisor::Stream conn = std::move(idle_.back());
      idle_.pop_back();
      co_return conn;
    }
    ++opened_;
    co_return co_await loopvisor::open_connection(host_, port_);
  }

  std::string host_;
  std::uint16_t port_;
  std::vector<loopvisor::Stream> idle_;
  std::size_t opened_ = 0;
};

asio::awaitable<std::string> fetch(Session* session, std::string path) {
  co_return co_await session->get(std::move(path));
}

asio::awaitable<void> fetch_all(std::uint16_t port) {
  Session session("127.0.0.1", port);
  std::vector<std::string> paths{"/a", "/b", "/c", "/d", "/e"};
  const auto start = std::chrono::steady_clock::now();
  std::vector<loopvisor::Task<std::string>> tasks;
  for (const auto& p : paths) tasks.push_back(loopvisor::create_task(fetch(&session, p)));
  auto pages = co_await loopvisor::gather(tasks);
  const auto took = std::chrono::steady_clock::now() - start;
  for (std::size_t i = 0; i < paths.size(); ++i)
    std::cout << "GET " << paths[i] << " -> " << pages[i] << std::endl;
  std::cout << "fetched " << pages.size() << " pages concurrently: " << (took < 200ms ? "yes" : "no")
            << std::endl;
  // A second round reuses the session's kept-alive connections.
  for (const auto& p : paths) tasks.push_back(loopvisor::create_task(fetch(&session, p)));
  (void)co_await loopvisor::gather(tasks);
  std::cout << "connections opened for 10 requests: " << session.connections_opened() << std::endl;
}

int main() {
  loopvisor::Supervisor runtime(loopvisor::SupervisorOptions{.loops = 2});
  auto server = loopvisor::start_server(runtime, {asio::ip::make_address("127.0.0.1"), 0}, serve);
  loopvisor::Loop client;
  std::thread client_thread([&client] { client.run_forever(); });
  client.run_coroutine_threadsafe(fetch_all(server->port())).get(std::chrono::seconds(30));
  client.stop();
  client_thread.join();
  client.close();
}
