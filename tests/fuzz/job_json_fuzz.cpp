// libFuzzer target: any bytes as the JSON body of POST /v1/jobs (authorized), through the job
// API's parsing and validation; accepted jobs run (sleep jobs end within 20 ms).
#include <cstddef>
#include <cstdint>
#include <string>

#include "admin_fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  loopvisor::service::Request request{http::verb::post, "/v1/jobs", 11};
  request.set(http::field::host, "fuzz");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::authorization, "Bearer fuzz-token");
  request.body().assign(reinterpret_cast<const char*>(data), size);
  request.prepare_payload();
  loopvisor::fuzz::answer(request);
  return 0;
}
