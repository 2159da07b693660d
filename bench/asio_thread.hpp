// AsioThread: a raw io_context run by its own thread, the peer every loopvisor figure in bench/
// is compared with (submit_bench and bench/peers/asio_peer).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <thread>
#include <utility>

class AsioThread {
 public:
  /// `before_run` runs on the new thread before io_context::run (for example to pin it).
  explicit AsioThread(std::function<void()> before_run = {})
      : guard_(io_.get_executor()), thread_([this, hook = std::move(before_run)] {
          if (hook) hook();
          io_.run();
        }) {}
  ~AsioThread() {
    guard_.reset();
    thread_.join();
  }
  AsioThread(const AsioThread&) = delete;
  AsioThread& operator=(const AsioThread&) = delete;

  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};
