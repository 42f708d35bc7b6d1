// Security defaults: the admin listener stays on loopback unless configured otherwise, headers
// from an untrusted client cannot change who the gateway thinks the client is, request bytes
// never reach a JSON error or a log line unescaped, and no response advertises our version.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace it {
namespace {

constexpr std::uint16_t default_admin_port = 9901;  // contract: admin.listen "127.0.0.1:9901"

// Strict JSON (RFC 8259) over UTF-8: the whole text must be one value.
class json_checker {
public:
    explicit json_checker(std::string_view text) : text_(text) {}
    bool valid_object() {
        skip_space();
        if (!object(0)) return false;
        skip_space();
        return pos_ == text_.size() && valid_utf8(text_);
    }

    static bool valid_utf8(std::string_view text) {
        for (std::size_t i = 0; i < text.size();) {
            const auto c = static_cast<unsigned char>(text[i]);
            std::size_t extra = 0;
            std::uint32_t code = 0;
            if (c < 0x80) {
                ++i;
                continue;
            } else if (c >= 0xc2 && c <= 0xdf) {
                extra = 1;
                code = c & 0x1f;
            } else if (c >= 0xe0 && c <= 0xef) {
                extra = 2;
                code = c & 0x0f;
            } else if (c >= 0xf0 && c <= 0xf4) {
                extra = 3;
                code = c & 0x07;
            } else {
                return false;
            }
            if (i + extra >= text.size()) return false;
            for (std::size_t k = 1; k <= extra; ++k) {
                const auto next = static_cast<unsigned char>(text[i + k]);
                if ((next & 0xc0) != 0x80) return false;
                code = (code << 6) | (next & 0x3f);
            }
            if ((extra == 2 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) ||
                (extra == 3 && (code < 0x10000 || code > 0x10ffff))) {
                return false;
            }
            i += extra + 1;
        }
        return true;
    }

private:
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) ++pos_;
    }
    bool eat(char c) {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    bool value(int depth) {
        skip_space();
        if (pos_ >= text_.size() || depth > 32) return false;
        const char c = text_[pos_];
        if (c == '{') return object(depth + 1);
        if (c == '[') return array(depth + 1);
        if (c == '"') return string();
        for (const std::string_view word : {"true", "false", "null"}) {
            if (text_.substr(pos_, word.size()) == word) {
                pos_ += word.size();
                return true;
            }
        }
        return number();
    }
    bool object(int depth) {
        if (!eat('{')) return false;
        if (eat('}')) return true;
        do {
            skip_space();
            if (!string() || !eat(':') || !value(depth)) return false;
        } while (eat(','));
        return eat('}');
    }
    bool array(int depth) {
        if (!eat('[')) return false;
        if (eat(']')) return true;
        do {
            if (!value(depth)) return false;
        } while (eat(','));
        return eat(']');
    }
    bool string() {
        if (pos_ >= text_.size() || text_[pos_] != '"') return false;
        for (++pos_; pos_ < text_.size(); ++pos_) {
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20) return false;
            if (c == '\\') {
                if (++pos_ >= text_.size()) return false;
                const char e = text_[pos_];
                if (e == 'u') {
                    for (int k = 0; k < 4; ++k) {
                        if (++pos_ >= text_.size() || !std::isxdigit(static_cast<unsigned char>(text_[pos_]))) return false;
                    }
                } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                    return false;
                }
            }
        }
        return false;
    }
    bool number() {
        static const std::regex number_re(R"(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)");
        std::cmatch match;
        const char* begin = text_.data() + pos_;
        const char* end = begin;
        while (end < text_.data() + text_.size() && std::string_view("+-0123456789.eE").find(*end) != std::string_view::npos) ++end;
        if (end == begin || !std::regex_match(begin, end, match, number_re)) return false;
        pos_ += static_cast<std::size_t>(end - begin);
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

bool is_json_object(std::string_view text) { return json_checker(text).valid_object(); }

std::vector<std::string> log_lines(const gateway_process& gateway) {
    std::vector<std::string> lines;
    std::istringstream in(gateway.log());
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

// Socket inodes of a process's listening TCP sockets with their local "address:port" (hex, as
// /proc/net/tcp writes it: 0100007F:26AD is 127.0.0.1:9901).
std::vector<std::string> listening_addresses(pid_t pid) {
    std::set<std::string> inodes;
    std::error_code ec;
    for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code link_ec;
        const auto target = fs::read_symlink(it->path(), link_ec).string();
        if (!link_ec && target.starts_with("socket:[")) inodes.insert(target.substr(8, target.size() - 9));
    }
    std::vector<std::string> out;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);  // column titles
        for (int i = 0; i < 100000 && std::getline(in, line); ++i) {
            std::istringstream fields(line);
            std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
            fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
            if (state == "0A" && inodes.count(inode) > 0) out.push_back(local);
        }
    }
    return out;
}

std::string hex_port(std::uint16_t port) {
    char text[8];
    std::snprintf(text, sizeof text, "%04X", port);
    return text;
}

class SecurityDefaultsTest : public ::testing::Test {
protected:
    temp_dir dir_;
};

TEST_F(SecurityDefaultsTest, ShippedConfigKeepsTheAdminListenerOnLoopback) {
    const auto yaml = read_file(fs::path(GATEWAYD_SOURCE_DIR) / "config" / "gateway.yaml");
    static const std::regex admin_re(R"(\nadmin:\s*\n\s+listen:\s*"([^"]*)\")");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(yaml, match, admin_re)) << "no admin.listen in config/gateway.yaml";
    EXPECT_EQ(match[1].str(), "127.0.0.1:9901");
}

TEST_F(SecurityDefaultsTest, AdminListenerDefaultsToLoopback) {
    if (port_accepts(default_admin_port)) GTEST_SKIP() << "127.0.0.1:9901 is in use by something else";
    mock_backend backend(dir_);
    // `admin: {}`: the admin listener with its default address.
    gateway_process gateway(dir_, {.backends = {backend.url()}, .admin = ""});

    EXPECT_NE(gateway.log().find("admin on 127.0.0.1:9901"), std::string::npos) << gateway.log();
    const auto listening = listening_addresses(gateway.pid());
    const std::vector<std::string> expected{"0100007F:" + hex_port(gateway.port()),
                                            "0100007F:" + hex_port(default_admin_port)};
    EXPECT_EQ(std::set<std::string>(listening.begin(), listening.end()),
              std::set<std::string>(expected.begin(), expected.end()))
        << "the gateway listens on more than its client port and 127.0.0.1:9901";
    http_connection admin(default_admin_port);
    EXPECT_EQ(admin.request("GET", "/healthz").status, 200);
}

TEST_F(SecurityDefaultsTest, UntrustedPeerCannotChangeItsIdentityWithHeaders) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .rate_limit = "enabled: true, store: memory, requests: 3, window: 1m"});

    // Each request claims to be someone else; all count against the one peer, 127.0.0.1.
    const std::vector<std::vector<std::pair<std::string, std::string>>> claims{
        {{"X-Forwarded-For", "203.0.113.1"}, {"X-Request-Id", "spoof-1"}},
        {{"X-Real-IP", "203.0.113.2"}, {"X-Request-Id", "spoof-2"}},
        {{"Forwarded", "for=203.0.113.3;proto=https"}, {"X-Request-Id", "spoof-3"}},
        {{"X-Forwarded-For", "203.0.113.4"}, {"X-Real-IP", "203.0.113.4"}, {"X-Request-Id", "spoof-4"}},
    };
    std::vector<int> statuses;
    for (std::size_t i = 0; i < 3; ++i) {
        const auto response = gateway.request("GET", "/headers", claims[i]);
        statuses.push_back(response.status);
        const auto seen = parse_header_lines(response.body);
        const auto xff = seen.equal_range("x-forwarded-for");
        ASSERT_EQ(std::distance(xff.first, xff.second), 1) << response.body;
        EXPECT_EQ(xff.first->second, "127.0.0.1") << "X-Forwarded-For the backend saw for claim " << i;
    }
    statuses.push_back(gateway.request("GET", "/headers", claims[3]).status);
    EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 429})) << "a spoofing header escaped the rate limit";

    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), "access client=") >= 4; }, 3s));
    for (const auto& line : lines_containing(gateway.log_path(), "access client=")) {
        EXPECT_NE(line.find("access client=127.0.0.1 "), std::string::npos) << line;
        EXPECT_EQ(line.find("203.0.113."), std::string::npos) << line;
    }
}

// A trusted load balancer's X-Forwarded-For names the client: for the limiter, the access log
// (the README's "client") and the chain handed on to the backend.
TEST_F(SecurityDefaultsTest, TrustedPeerForwardedForNamesTheClient) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()},
                                   .client = "trusted_proxies: [127.0.0.1/32]",
                                   .rate_limit = "enabled: true, store: memory, requests: 1, window: 1m"});

    const auto first = gateway.request("GET", "/headers", {{"X-Forwarded-For", "203.0.113.7"}});
    ASSERT_EQ(first.status, 200) << describe(first);
    const auto seen = parse_header_lines(first.body);
    ASSERT_EQ(seen.count("x-forwarded-for"), 1u) << first.body;
    EXPECT_EQ(seen.find("x-forwarded-for")->second, "203.0.113.7, 127.0.0.1");
    // Another client behind the same proxy has its own window; the first one's is used up.
    EXPECT_EQ(gateway.request("GET", "/other", {{"X-Forwarded-For", "203.0.113.8"}}).status, 200);
    EXPECT_EQ(gateway.request("GET", "/again", {{"X-Forwarded-For", "203.0.113.7"}}).status, 429);
    // X-Real-IP is not part of the contract's identity, even from a trusted peer.
    EXPECT_EQ(gateway.request("GET", "/real-ip", {{"X-Real-IP", "203.0.113.9"}}).status, 200);
    EXPECT_EQ(gateway.request("GET", "/real-ip", {{"X-Real-IP", "203.0.113.10"}}).status, 429)
        << "X-Real-IP created a new client";

    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), "access client=") >= 5; }, 3s));
    const auto first_line = lines_containing(gateway.log_path(), "path=/headers");
    ASSERT_EQ(first_line.size(), 1u) << gateway.log();
    // The access log's client is the one the trusted peer vouches for, not the peer itself.
    EXPECT_NE(first_line.front().find("access client=203.0.113.7 "), std::string::npos) << first_line.front();
}

// Bytes that are not UTF-8 must be escaped too: a raw 0xff makes the line invalid JSON.
TEST_F(SecurityDefaultsTest, JsonLogLinesStayOneValidObjectWhateverTheRequestHolds) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}, .log = "level: debug, format: json, access_log: true"});

    // Bytes the parser lets through in a target: quotes, braces, an encoded newline (never
    // decoded), bytes that are not UTF-8, and a backslash (in the query: a path refuses it).
    const std::vector<std::string> targets{
        "/q\"uote{brace}?back\\slash",
        "/enc%0aoded%0d%0Anewline?x=\"1\"",
        "/high\xff\xfe\x80" "bytes",
        "/utf8-\xc3\xa9t\xc3\xa9",
    };
    for (const auto& target : targets) {
        auto connection = gateway.connect();
        connection->send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: id\"with\\quote\r\n"
                         "User-Agent: tab\there\r\n\r\n");
        const auto response = connection->read_response();
        EXPECT_EQ(response.status, 200) << "target " << target << ":\n" << describe(response);
    }
    // Rejected ones are logged too.
    for (const std::string bad : {"GET /bad\"line HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", "\"{}\"\r\n\r\n"}) {
        auto connection = gateway.connect();
        connection->send(bad);
        EXPECT_EQ(connection->read_response().status, 400);
    }

    const std::size_t expected_access = targets.size() + 2;
    ASSERT_TRUE(wait_until(
        [&] { return count_lines_containing(gateway.log_path(), "\"msg\":\"access\"") >= expected_access; }, 3s))
        << gateway.log();
    std::size_t access = 0;
    for (const auto& line : log_lines(gateway)) {
        EXPECT_TRUE(is_json_object(line)) << "log line is not one valid JSON object (UTF-8): " << line;
        if (line.find("\"msg\":\"access\"") != std::string::npos) ++access;
    }
    EXPECT_EQ(access, expected_access) << "a request's log entry spread over several lines or none";
}

TEST_F(SecurityDefaultsTest, TextLogLinesStayOneLinePerRequest) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    for (const std::string target : {"/a%0a2024-01-01T00:00:00.000+00:00%20[info]%20access%20client=6.6.6.6",
                                     "/b\"c?\\d", "/e\xff"}) {
        auto connection = gateway.connect();
        connection->send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        EXPECT_EQ(connection->read_response().status, 200);
    }
    ASSERT_TRUE(wait_until([&] { return count_lines_containing(gateway.log_path(), "access client=") >= 3; }, 3s));
    static const std::regex line_start(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:?\d\d \[\w+\] .*)");
    for (const auto& line : log_lines(gateway)) {
        EXPECT_TRUE(std::regex_match(line, line_start)) << "a log line without its own timestamp: " << line;
    }
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "access client="), 3u);
    EXPECT_EQ(count_lines_containing(gateway.log_path(), "[info] access client=6.6.6.6"), 0u) << gateway.log();
}

TEST_F(SecurityDefaultsTest, ErrorBodiesAreFixedJsonWithoutRequestData) {
    raw_tcp_server broken("NOT HTTP\r\n\r\n");
    const std::string routes = "routes:\n  - name: broken\n    match: {path_prefix: /broken}\n    backends:\n"
                               "      - url: " + broken.url() + "\n";
    gateway_process gateway(dir_, {.backends = {}, .upstream = "connect_timeout: 500ms, retries: 0",
                                   .health_check = "enabled: false", .extra = routes});
    const std::string marker = "INJECT\"},\"evil\":{\"x\":\"";

    std::vector<http_response> answers;
    answers.push_back(gateway.request("GET", "/nowhere/" + marker));           // 404 no_route
    answers.push_back(gateway.request("GET", "/broken/" + marker));            // 502 bad_gateway
    {
        auto connection = gateway.connect();
        connection->send("GET /" + marker + " HTTP/1.1\r\nBad Header: " + marker + "\r\n\r\n");
        answers.push_back(connection->read_response());                       // 400 bad_request
    }
    const std::vector<int> statuses{404, 502, 400};
    for (std::size_t i = 0; i < answers.size(); ++i) {
        const auto& response = answers[i];
        EXPECT_EQ(response.status, statuses[i]) << describe(response);
        EXPECT_TRUE(is_json_object(response.body)) << response.body;
        EXPECT_EQ(response.body.find("INJECT"), std::string::npos) << "request data in an error body: " << response.body;
        EXPECT_EQ(response.body.find("evil"), std::string::npos) << response.body;
    }
}

TEST_F(SecurityDefaultsTest, NoResponseAdvertisesTheGatewayOrItsVersion) {
    const auto version = run_to_exit(dir_, {gatewayd_bin(), "--version"});
    ASSERT_EQ(version.status.shell_code(), 0);
    static const std::regex version_re(R"(gatewayd (\S+))");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(version.out, match, version_re)) << version.out;
    const std::string number = match[1];
    ASSERT_GE(number.size(), 3u) << "version \"" << number << "\" too short to search for";

    mock_backend backend(dir_);
    const auto admin_port = free_port();
    gateway_process gateway(dir_, {.backends = {backend.url()}, .admin = admin_listen(admin_port)});
    std::vector<http_response> answers;
    answers.push_back(gateway.request("GET", "/proxied"));
    answers.push_back(gateway.request("GET", "/status/503"));
    {
        auto connection = gateway.connect();
        connection->send("BROKEN\r\n\r\n");
        answers.push_back(connection->read_response());
    }
    for (const std::string path : {"/healthz", "/metrics", "/backends"}) {
        http_connection admin(admin_port);
        answers.push_back(admin.request("GET", path));
    }
    for (const auto& response : answers) {
        EXPECT_FALSE(response.header("Server").has_value()) << "Server header without a server_header setting:\n"
                                                            << describe(response);
        for (const auto& [name, value] : response.headers) {
            EXPECT_EQ(value.find(number), std::string::npos) << name << ": " << value;
            EXPECT_EQ(value.find("Beast"), std::string::npos) << name << ": " << value;
            EXPECT_EQ(value.find("gatewayd"), std::string::npos) << name << ": " << value;
        }
    }
}

}  // namespace
}  // namespace it
