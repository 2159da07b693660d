// libFuzzer target: any bytes as an HTTP request to the admin server, through Beast's parser
// with the server's limits, then the router, auth and every handler (no socket).
#include <boost/beast/http/parser.hpp>
#include <cstddef>
#include <cstdint>

#include "admin_fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;  // the server answers these with 400/413 itself
  loopvisor::fuzz::answer(parser.get());
  return 0;
}
