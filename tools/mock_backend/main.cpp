// gatewayd-mock-backend: a configurable HTTP/1.1 origin for tests, demos and benchmarks.
#include "mock_options.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <array>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using gw::mock::mock_options;

constexpr std::size_t chunk_size = 64 * 1024;
constexpr std::uint32_t header_limit = 64 * 1024;
constexpr std::size_t read_buffer_limit = 2 * header_limit;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Generated bodies repeat this, so byte i of /bytes/N is "0123456789abcdef"[i % 16].
constexpr auto pattern = [] {
  std::array<char, chunk_size> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = "0123456789abcdef"[i % 16];
  return bytes;
}();

// Owned by the one thread that runs the io_context; sessions reach it through a pointer.
struct backend_state {
  mock_options options;
  std::unique_ptr<asio::ssl::context> tls;  // set: every connection is HTTPS
  std::uint16_t port = 0;
  std::string port_text;
  std::uint64_t connections = 0;
  std::uint64_t counted_requests = 0;  // every request but /healthz, for --fail-ratio
};

enum class route_kind { plain, healthz, echo, sink, headers, status, delay, bytes, ws, bad };

struct route {
  route_kind kind = route_kind::plain;
  std::uint64_t number = 0;  // the CODE, MS or N of /status/CODE, /delay/MS, /bytes/N
};

std::optional<std::uint64_t> parse_path_number(std::string_view text) {
  std::uint64_t value = 0;
  auto const* end = text.data() + text.size();
  auto const [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

route classify_target(std::string_view target) {
  auto const path = target.substr(0, target.find('?'));
  if (path == "/healthz") return {route_kind::healthz};
  if (path == "/echo") return {route_kind::echo};
  if (path == "/sink") return {route_kind::sink};
  if (path == "/headers") return {route_kind::headers};
  if (path == "/ws") return {route_kind::ws};
  struct numbered {
    std::string_view prefix;
    route_kind kind;
    std::uint64_t low, high;
  };
  static constexpr std::array<numbered, 3> numbered_routes{{
      {"/status/", route_kind::status, 200, 599},
      {"/delay/", route_kind::delay, 0, 3'600'000},
      {"/bytes/", route_kind::bytes, 0, UINT64_MAX},
  }};
  for (auto const& candidate : numbered_routes) {
    if (!path.starts_with(candidate.prefix)) continue;
    auto const number = parse_path_number(path.substr(candidate.prefix.size()));
    if (!number || *number < candidate.low || *number > candidate.high) return {route_kind::bad};
    return {candidate.kind, *number};
  }
  return {route_kind::plain};
}

// Counter mode spreads failures evenly (ratio 0.25 fails requests 4, 8, 12...); seed mode hashes.
bool should_fail(mock_options const& options, std::uint64_t request_number) {
  if (options.fail_ratio <= 0.0) return false;
  if (!options.seed) {
    auto const n = static_cast<double>(request_number);
    return std::floor(n * options.fail_ratio) > std::floor((n - 1) * options.fail_ratio);
  }
  std::uint64_t x = *options.seed + request_number * 0x9e3779b97f4a7c15ULL;  // splitmix64
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<double>(x >> 11) * 0x1.0p-53 < options.fail_ratio;
}

unsigned choose_status(route const& r, mock_options const& options, bool fail) {
  if (r.kind == route_kind::healthz) return options.healthz_status;
  if (r.kind == route_kind::bad) return 400;
  if (fail) return 500;
  if (r.kind == route_kind::status) return static_cast<unsigned>(r.number);
  return options.status.value_or(200);
}

bool status_allows_body(unsigned status) {
  return status >= 200 && status != 204 && status != 304;
}

void append_number(std::string& out, std::uint64_t value, int base = 10) {
  std::array<char, 24> digits{};
  auto const result = std::to_chars(digits.data(), digits.data() + digits.size(), value, base);
  out.append(digits.data(), result.ptr);
}

enum class framing { none, length, chunked };

// The status line and headers of a small answer, written by hand to skip Beast's field nodes.
void append_head(std::string& out, unsigned version, unsigned status, std::string_view content_type,
                 framing frame, std::uint64_t content_length, bool keep_alive,
                 std::string_view port_text) {
  auto const known = http::int_to_status(status);
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, status);
  out.push_back(' ');
  out.append(known == http::status::unknown ? "Status" : http::obsolete_reason(known));
  out.append("\r\nContent-Type: ").append(content_type);
  out.append("\r\nX-Backend-Port: ").append(port_text);
  if (frame == framing::length) {
    out.append("\r\nContent-Length: ");
    append_number(out, content_length);
  } else if (frame == framing::chunked) {
    out.append("\r\nTransfer-Encoding: chunked");
  }
  if (!keep_alive) out.append("\r\nConnection: close");
  else if (version == 10) out.append("\r\nConnection: keep-alive");
  out.append("\r\n\r\n");
}

bool is_malformed_request(beast::error_code const& ec) {
  static auto const& http_category = http::make_error_code(http::error::bad_target).category();
  return ec.category() == http_category && ec != http::error::end_of_stream &&
         ec != http::error::partial_message && ec != http::error::need_buffer;
}

// A connection's stream, plain or HTTPS: Beast's algorithms see one type either way.
class mock_stream {
public:
  using executor_type = beast::tcp_stream::executor_type;
  using tls_stream = beast::ssl_stream<beast::tcp_stream&>;

  explicit mock_stream(beast::tcp_stream s) : tcp_(std::move(s)) {}

  executor_type get_executor() { return tcp_.get_executor(); }
  void expires_after(std::chrono::milliseconds timeout) { tcp_.expires_after(timeout); }
  tcp::socket& socket() { return tcp_.socket(); }
  void start_tls(asio::ssl::context& context) { tls_ = std::make_unique<tls_stream>(tcp_, context); }
  tls_stream* tls() { return tls_.get(); }

  template <class Buffers, class Token>
  auto async_read_some(Buffers const& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return tcp_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(Buffers const& buffers, Token&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
    return tcp_.async_write_some(buffers, std::forward<Token>(token));
  }

private:
  beast::tcp_stream tcp_;
  std::unique_ptr<tls_stream> tls_;  // refers to tcp_: this object never moves once it is set
};

using fields_allocator = std::pmr::polymorphic_allocator<char>;
using request_parser = http::request_parser<http::buffer_body, fields_allocator>;

// Everything one client connection keeps between its requests; lives in the session's frame.
struct connection {
  connection(beast::tcp_stream s, std::uint64_t connection_id, backend_state* shared)
      : stream(std::move(s)), id(connection_id), state(shared), buffer(read_buffer_limit) {}

  char* chunk() {
    if (!chunk_storage) chunk_storage = std::make_unique_for_overwrite<char[]>(chunk_size);
    return chunk_storage.get();
  }

  mock_stream stream;
  std::uint64_t id;
  backend_state* state;
  beast::flat_buffer buffer;
  // Header fields of one request are carved from this arena, released before the next one.
  std::array<std::byte, 4096> fields_arena;
  std::pmr::monotonic_buffer_resource fields_memory{fields_arena.data(), fields_arena.size()};
  std::optional<request_parser> parser;
  std::unique_ptr<char[]> chunk_storage;  // only connections that send bodies pay for it
  std::string body;
  std::string response;
  std::string log_line;
};

void log_request(connection& c, http::request_header<http::basic_fields<fields_allocator>> const& req) {
  if (c.state->options.quiet) return;
  auto& line = c.log_line;
  line.assign("request port=").append(c.state->port_text).append(" conn=");
  append_number(line, c.id);
  line.append(" method=").append(req.method_string());
  line.append(" target=").append(req.target());
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

asio::awaitable<void> pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(use_tuple);
}

asio::awaitable<bool> write_raw(connection& c, std::string_view bytes) {
  c.stream.expires_after(c.state->options.idle_timeout);
  auto [ec, written] = co_await asio::async_write(c.stream, asio::buffer(bytes), use_tuple);
  co_return !ec;
}

// Status line, headers and the whole (small) c.body in one buffer, so one write sends it.
void format_text(connection& c, unsigned version, unsigned status, bool chunked, bool keep_alive,
                 bool head) {
  auto& out = c.response;
  out.clear();
  auto const has_body = status_allows_body(status);
  auto const frame = !has_body ? framing::none
                     : chunked ? framing::chunked
                               : framing::length;
  append_head(out, version, status, "text/plain", frame, c.body.size(), keep_alive,
              c.state->port_text);
  if (has_body && !head) {
    if (frame == framing::chunked && !c.body.empty()) {
      append_number(out, c.body.size(), 16);
      out.append("\r\n").append(c.body).append("\r\n0\r\n\r\n");
    } else if (frame == framing::chunked) {
      out.append("0\r\n\r\n");
    } else {
      out.append(c.body);
    }
  }
}

// N generated bytes in fixed chunks from one static buffer: memory stays flat for any N.
asio::awaitable<bool> write_generated(connection& c, unsigned version, unsigned status,
                                      std::uint64_t size, bool chunked, bool keep_alive) {
  http::response<http::buffer_body> res;
  res.version(version);
  res.result(status);
  res.set(http::field::content_type, "application/octet-stream");
  res.set("X-Backend-Port", c.state->port_text);
  if (chunked) res.chunked(true);
  else res.content_length(size);
  res.keep_alive(keep_alive);
  http::response_serializer<http::buffer_body> serializer(res);
  std::uint64_t remaining = size;
  do {
    auto const piece = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, chunk_size));
    remaining -= piece;
    res.body().data = piece == 0 ? nullptr : const_cast<char*>(pattern.data());
    res.body().size = piece;
    res.body().more = remaining > 0;
    c.stream.expires_after(c.state->options.idle_timeout);
    auto [ec, written] = co_await http::async_write(c.stream, serializer, use_tuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return false;
  } while (remaining > 0);
  co_return true;
}

struct drained {
  beast::error_code ec;
  std::uint64_t bytes = 0;
};

// Reads the rest of the request body chunk by chunk and forgets it.
asio::awaitable<drained> drain_body(connection& c) {
  drained result;
  auto& parser = *c.parser;
  while (!parser.is_done()) {
    parser.get().body().data = c.chunk();
    parser.get().body().size = chunk_size;
    c.stream.expires_after(c.state->options.idle_timeout);
    auto [ec, read] = co_await http::async_read(c.stream, c.buffer, parser, use_tuple);
    if (ec == http::error::need_buffer) ec = {};
    result.bytes += chunk_size - parser.get().body().size;
    if (ec) {
      result.ec = ec;
      break;
    }
  }
  co_return result;
}

// Relays each piece of the request body back as it arrives, as one chunked response.
asio::awaitable<bool> echo_body(connection& c, unsigned status, bool keep_alive) {
  auto& parser = *c.parser;
  auto const& req = parser.get();
  http::response<http::buffer_body> res;
  res.version(req.version());
  res.result(status);
  std::string_view const content_type = req[http::field::content_type];
  res.set(http::field::content_type,
          content_type.empty() ? std::string_view("application/octet-stream") : content_type);
  res.set("X-Backend-Port", c.state->port_text);
  if (req.version() >= 11) res.chunked(true);
  else keep_alive = false;  // HTTP/1.0 has no chunking: the body ends when the connection does
  res.keep_alive(keep_alive);
  http::response_serializer<http::buffer_body> serializer(res);
  c.stream.expires_after(c.state->options.idle_timeout);
  auto [header_ec, header_bytes] = co_await http::async_write_header(c.stream, serializer, use_tuple);
  if (header_ec) co_return false;

  char* const chunk = c.chunk();
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = chunk_size;
    c.stream.expires_after(c.state->options.idle_timeout);
    auto [read_ec, read] = co_await http::async_read_some(c.stream, c.buffer, parser, use_tuple);
    if (read_ec == http::error::need_buffer) read_ec = {};
    if (read_ec) co_return false;
    auto const got = chunk_size - parser.get().body().size;
    if (got == 0) continue;
    res.body().data = chunk;
    res.body().size = got;
    res.body().more = true;
    c.stream.expires_after(c.state->options.idle_timeout);
    auto [write_ec, written] = co_await http::async_write(c.stream, serializer, use_tuple);
    if (write_ec == http::error::need_buffer) write_ec = {};
    if (write_ec) co_return false;
  }
  res.body().data = nullptr;
  res.body().size = 0;
  res.body().more = false;
  c.stream.expires_after(c.state->options.idle_timeout);
  auto [end_ec, end_bytes] = co_await http::async_write(c.stream, serializer, use_tuple);
  co_return !end_ec && keep_alive;
}

// The RFC 6455 answer to a Sec-WebSocket-Key: base64(SHA-1(key + the protocol's GUID)).
std::string websocket_accept(std::string_view key) {
  std::string input(key);
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<unsigned char const*>(input.data()), input.size(), digest);
  std::string out(beast::detail::base64::encoded_size(sizeof digest), '\0');
  out.resize(beast::detail::base64::encode(out.data(), digest, sizeof digest));
  return out;
}

// /ws: a 101 for a request that asks to switch (its first protocol), then every byte the client
// sends comes back, until it closes or stays silent for --idle-timeout. Raw bytes: no WebSocket
// framing, which is all a proxy sees anyway.
asio::awaitable<bool> serve_upgrade(connection& c) {
  auto const& req = c.parser->get();
  std::string_view const connection_header = req[http::field::connection];
  std::string_view protocols = req[http::field::upgrade];
  bool asked = false;
  for (std::size_t at = 0; at + 7 <= connection_header.size(); ++at) {
    if (beast::iequals(connection_header.substr(at, 7), "upgrade")) asked = true;
  }
  if (!asked || protocols.empty() || !c.parser->is_done()) {
    c.body.assign("upgrade required");
    format_text(c, 11, 426, false, false, false);
    co_await write_raw(c, c.response);
    co_return false;
  }
  auto const protocol = protocols.substr(0, protocols.find(','));
  auto& out = c.response;
  out.assign("HTTP/1.1 101 Switching Protocols\r\nUpgrade: ").append(protocol);
  out.append("\r\nConnection: Upgrade\r\nX-Backend-Port: ").append(c.state->port_text);
  if (auto const key = req["Sec-WebSocket-Key"]; !key.empty()) {
    out.append("\r\nSec-WebSocket-Accept: ").append(websocket_accept(key));
  }
  out.append("\r\n\r\n");
  if (!co_await write_raw(c, out)) co_return false;
  std::uint64_t echoed = 0;
  // Bytes that came right behind the request head belong to the new protocol.
  if (c.buffer.size() > 0) {
    std::string early(static_cast<char const*>(c.buffer.data().data()), c.buffer.size());
    c.buffer.consume(c.buffer.size());
    if (!co_await write_raw(c, early)) co_return false;
    echoed += early.size();
  }
  char* const chunk = c.chunk();
  for (;;) {
    c.stream.expires_after(c.state->options.idle_timeout);
    auto [read_ec, got] = co_await c.stream.async_read_some(asio::buffer(chunk, chunk_size), use_tuple);
    if (read_ec) break;
    if (!co_await write_raw(c, std::string_view(chunk, got))) break;
    echoed += got;
  }
  if (!c.state->options.quiet) {
    std::string line = "tunnel port=" + c.state->port_text + " conn=" + std::to_string(c.id) +
                       " echoed=" + std::to_string(echoed) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
  co_return false;
}

asio::awaitable<void> answer_malformed(connection& c, beast::error_code ec) {
  c.body.assign("bad request: ").append(ec.message());
  format_text(c, 11, 400, false, false, false);
  co_await write_raw(c, c.response);
}

// Serves one request; returns whether the connection may carry another.
asio::awaitable<bool> serve_one(connection& c) {
  auto const& options = c.state->options;
  c.parser.reset();
  c.fields_memory.release();
  c.parser.emplace(std::piecewise_construct, std::make_tuple(),
                   std::make_tuple(fields_allocator(&c.fields_memory)));
  auto& parser = *c.parser;
  parser.header_limit(header_limit);
  parser.body_limit(boost::none);

  c.stream.expires_after(options.idle_timeout);
  auto [ec, header_bytes] = co_await http::async_read_header(c.stream, c.buffer, parser, use_tuple);
  if (ec) {
    if (is_malformed_request(ec)) co_await answer_malformed(c, ec);
    co_return false;
  }
  auto const& req = parser.get();
  log_request(c, req);

  auto const r = classify_target(req.target());
  auto const version = req.version() >= 11 ? 11u : 10u;
  auto const head = req.method() == http::verb::head;
  auto const keep_alive = req.keep_alive() && !options.close;
  auto const faults_apply = r.kind != route_kind::healthz && r.kind != route_kind::bad;
  auto const fail = faults_apply && should_fail(options, ++c.state->counted_requests);
  auto const status = choose_status(r, options, fail);

  if (!parser.is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
    if (!co_await write_raw(c, "HTTP/1.1 100 Continue\r\n\r\n")) co_return false;
  }
  if (r.kind == route_kind::ws) co_return co_await serve_upgrade(c);
  if (r.kind == route_kind::echo && !fail && !head && status_allows_body(status)) {
    if (options.delay.count() > 0) co_await pause(options.delay);
    co_return co_await echo_body(c, status, keep_alive);
  }

  // Bodyless requests skip the call: every nested coroutine frame that outlives asio's
  // two-slot frame cache costs a malloc per request.
  auto const received = parser.is_done() ? drained{} : co_await drain_body(c);
  if (received.ec) {
    if (is_malformed_request(received.ec)) co_await answer_malformed(c, received.ec);
    co_return false;
  }
  auto const wait = (faults_apply ? options.delay : std::chrono::milliseconds(0)) +
                    std::chrono::milliseconds(r.kind == route_kind::delay ? r.number : 0);
  if (wait.count() > 0) co_await pause(wait);

  std::optional<std::uint64_t> generated;
  if (r.kind == route_kind::bytes && !fail) generated = r.number;
  auto const default_body = r.kind == route_kind::plain || r.kind == route_kind::status ||
                            r.kind == route_kind::delay;
  if (default_body && !fail && options.body_bytes) generated = options.body_bytes;
  auto const chunked = options.chunked && version == 11 && (default_body || generated) && !fail;

  if (generated && status_allows_body(status)) {
    if (!head) {
      auto const sent = co_await write_generated(c, version, status, *generated, chunked, keep_alive);
      co_return sent && keep_alive;
    }
    // A HEAD answer announces the length the GET would have had, without any byte of it.
    c.response.clear();
    append_head(c.response, version, status, "application/octet-stream",
                chunked ? framing::chunked : framing::length, *generated, keep_alive,
                c.state->port_text);
    auto const sent = co_await write_raw(c, c.response);
    co_return sent && keep_alive;
  }

  auto& body = c.body;
  body.clear();
  if (r.kind == route_kind::healthz) {
    body.assign("ok");
  } else if (r.kind == route_kind::bad) {
    body.assign("bad request: number in path out of range");
  } else if (fail) {
    body.assign("Injected failure from backend on port ").append(c.state->port_text);
    body.append(" | path: ").append(req.target());
  } else if (r.kind == route_kind::sink) {
    body.assign("received ");
    append_number(body, received.bytes);
    body.append(" bytes");
  } else if (r.kind == route_kind::headers) {
    for (auto const& field : req) {
      body.append(field.name_string()).append(": ").append(field.value()).push_back('\n');
    }
  } else if (default_body) {
    body.assign("Response from backend on port ").append(c.state->port_text);
    body.append(" | path: ").append(req.target());
  }
  format_text(c, version, status, chunked, keep_alive, head);
  c.stream.expires_after(options.idle_timeout);
  auto [write_ec, written] = co_await asio::async_write(c.stream, asio::buffer(c.response), use_tuple);
  co_return !write_ec && keep_alive;
}

// HTTPS: the handshake first (logged with the name the client asked for and whether it
// resumed a session), and a close_notify at the end.
asio::awaitable<bool> accept_tls(connection& c) {
  c.stream.start_tls(*c.state->tls);
  auto& tls = *c.stream.tls();
  c.stream.expires_after(c.state->options.idle_timeout);
  auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) {
    std::fprintf(stderr, "conn=%llu TLS handshake failed: %s\n", static_cast<unsigned long long>(c.id),
                 ec.message().c_str());
    co_return false;
  }
  if (!c.state->options.quiet) {
    char const* sni = SSL_get_servername(tls.native_handle(), TLSEXT_NAMETYPE_host_name);
    std::string line = "tls port=" + c.state->port_text + " conn=" + std::to_string(c.id) +
                       " sni=" + (sni != nullptr ? sni : "-") +
                       " resumed=" + (SSL_session_reused(tls.native_handle()) ? "1" : "0") + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
  co_return true;
}

asio::awaitable<void> run_session(beast::tcp_stream stream, std::uint64_t id, backend_state* state) {
  connection c(std::move(stream), id, state);
  try {
    if (!state->tls || co_await accept_tls(c)) {
      while (co_await serve_one(c)) {
      }
      if (auto* tls = c.stream.tls()) {
        c.stream.expires_after(std::chrono::milliseconds(500));
        co_await tls->async_shutdown(use_tuple);
      }
    }
  } catch (std::exception const& e) {
    std::fprintf(stderr, "conn=%llu ended: %s\n", static_cast<unsigned long long>(id), e.what());
  }
  beast::error_code ignored;
  c.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_connections(tcp::acceptor acceptor, backend_state* state) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Usually out of file descriptors: back off briefly instead of spinning.
      std::fprintf(stderr, "accept failed: %s\n", ec.message().c_str());
      co_await pause(std::chrono::milliseconds(50));
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto const id = ++state->connections;
    asio::co_spawn(acceptor.get_executor(),
                   run_session(beast::tcp_stream(std::move(socket)), id, state), asio::detached);
  }
}

std::string format_endpoint(tcp::endpoint const& endpoint) {
  auto const address = endpoint.address().to_string();
  auto text = endpoint.address().is_v6() ? "[" + address + "]" : address;
  return text + ":" + std::to_string(endpoint.port());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  auto parsed = gw::mock::parse_mock_options(args);
  if (auto const* error = std::get_if<std::string>(&parsed)) {
    std::fprintf(stderr, "gatewayd-mock-backend: %s (see --help)\n", error->c_str());
    return 2;
  }
  backend_state state;
  state.options = std::get<mock_options>(std::move(parsed));
  if (state.options.help) {
    std::fwrite(gw::mock::mock_usage().data(), 1, gw::mock::mock_usage().size(), stdout);
    return 0;
  }
  // A test harness that stops reading our stdout must not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  if (!state.options.tls_cert.empty()) {
    try {
      auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      context->use_certificate_chain_file(state.options.tls_cert);
      context->use_private_key_file(state.options.tls_key, asio::ssl::context::pem);
      static unsigned char const session_context[] = "mock";
      SSL_CTX_set_session_id_context(context->native_handle(), session_context, sizeof session_context - 1);
      if (!state.options.tls_client_ca.empty()) {
        context->load_verify_file(state.options.tls_client_ca);
        context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      }
      state.tls = std::move(context);
    } catch (boost::system::system_error const& e) {
      std::fprintf(stderr, "gatewayd-mock-backend: TLS: %s\n", e.what());
      return 1;
    }
  }

  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc);
  try {
    tcp::endpoint const endpoint(asio::ip::make_address(state.options.host), state.options.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (boost::system::system_error const& e) {
    std::fprintf(stderr, "gatewayd-mock-backend: cannot listen on %s:%u: %s\n",
                 state.options.host.c_str(), static_cast<unsigned>(state.options.port), e.code().message().c_str());
    return 1;
  }
  auto const local = acceptor.local_endpoint();
  state.port = local.port();
  state.port_text = std::to_string(state.port);
  std::printf("listening on %s\n", format_endpoint(local).c_str());
  std::fflush(stdout);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&ioc](beast::error_code const&, int) { ioc.stop(); });
  asio::co_spawn(ioc, accept_connections(std::move(acceptor), &state), asio::detached);
  ioc.run();
  return 0;
}
