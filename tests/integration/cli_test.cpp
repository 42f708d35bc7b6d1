// The command line, config errors at start-up, start failures and signals.
#include "harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <string>

namespace it {
namespace {

class CliTest : public ::testing::Test {
protected:
    run_result run(std::vector<std::string> args) {
        args.insert(args.begin(), gatewayd_bin());
        return run_to_exit(dir_, std::move(args), 10s);
    }

    std::size_t lines_starting_with(const std::string& text, const std::string& prefix) {
        std::size_t count = 0;
        std::size_t start = 0;
        while (start < text.size()) {
            if (text.compare(start, prefix.size(), prefix) == 0) ++count;
            const auto end = text.find('\n', start);
            if (end == std::string::npos) break;
            start = end + 1;
        }
        return count;
    }

    // A line "FILE:LINE:COLUMN: message" for that file and line.
    static bool has_error_at(const std::string& text, const std::string& file, int line) {
        static const std::regex rest(R"(\d+: .+)");
        const auto prefix = file + ":" + std::to_string(line) + ":";
        std::size_t start = 0;
        while (start < text.size()) {
            auto end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            const auto current = text.substr(start, end - start);
            if (current.starts_with(prefix) && std::regex_match(current.substr(prefix.size()), rest)) return true;
            start = end + 1;
        }
        return false;
    }

    temp_dir dir_;
};

TEST_F(CliTest, VersionExitsZero) {
    const auto result = run({"--version"});
    EXPECT_EQ(result.status.shell_code(), 0) << result.err;
    EXPECT_TRUE(std::regex_search(result.out, std::regex(R"(gatewayd.*\d+\.\d+)"))) << result.out;
}

TEST_F(CliTest, HelpExitsZeroAndListsTheOptions) {
    const auto result = run({"--help"});
    EXPECT_EQ(result.status.shell_code(), 0) << result.err;
    for (const std::string option : {"--config", "--check-config", "--version", "--help"}) {
        EXPECT_NE(result.out.find(option), std::string::npos) << option << " missing from:\n" << result.out;
    }
}

TEST_F(CliTest, UnknownFlagExitsTwo) {
    const auto result = run({"--no-such-flag"});
    EXPECT_EQ(result.status.shell_code(), 2) << result.out << result.err;
    EXPECT_FALSE(result.err.empty());
}

TEST_F(CliTest, ConfigWithoutFileExitsTwo) {
    const auto result = run({"--config"});
    EXPECT_EQ(result.status.shell_code(), 2) << result.out << result.err;
}

TEST_F(CliTest, CheckConfigAcceptsAGoodFile) {
    const auto path = dir_.file("good.yaml");
    write_file(path, gateway_yaml(free_port(), {.backends = {"http://127.0.0.1:18081"},
                                                .client = "header_timeout: 300ms, max_body_bytes: 1MiB"}));
    const auto result = run({"--config", path.string(), "--check-config"});
    EXPECT_EQ(result.status.shell_code(), 0) << result.err;
    EXPECT_NE(result.out.find("config OK"), std::string::npos) << result.out;
}

TEST_F(CliTest, CheckConfigAcceptsTheShippedDefaultFile) {
    const auto path = fs::path(GATEWAYD_SOURCE_DIR) / "config" / "gateway.yaml";
    const auto result = run({"--config", path.string(), "--check-config"});
    EXPECT_EQ(result.status.shell_code(), 0) << result.err;
    EXPECT_NE(result.out.find("config OK"), std::string::npos) << result.out;
}

TEST_F(CliTest, CheckConfigReportsEveryProblemWithItsPosition) {
    const auto path = dir_.file("bad.yaml");
    write_file(path,
               "listen: \"127.0.0.1:18080\"\n"  // 1
               "admin: {listen: \"\"}\n"        // 2
               "upstream:\n"                    // 3
               "  timout: 3s\n"                 // 4: unknown key, column 3
               "  retries: -1\n"                // 5: not a non-negative integer
               "client:\n"                      // 6
               "  header_timeout: soon\n");     // 7: not a duration
    const auto result = run({"--config", path.string(), "--check-config"});
    EXPECT_EQ(result.status.shell_code(), 1) << result.out << result.err;
    EXPECT_EQ(result.out.find("config OK"), std::string::npos) << result.out;
    const auto prefix = path.string() + ":";
    EXPECT_NE(result.err.find(prefix + "4:3: "), std::string::npos) << result.err;
    EXPECT_TRUE(has_error_at(result.err, path.string(), 5)) << result.err;
    EXPECT_TRUE(has_error_at(result.err, path.string(), 7)) << result.err;
    EXPECT_EQ(lines_starting_with(result.err, prefix), 3u) << result.err;
}

TEST_F(CliTest, CheckConfigReportsYamlSyntaxErrorsWithAPosition) {
    const auto path = dir_.file("broken.yaml");
    write_file(path, "listen: \"127.0.0.1:18080\"\nbackends: [\n  {url: http://127.0.0.1:1\n");
    const auto result = run({"--config", path.string(), "--check-config"});
    EXPECT_EQ(result.status.shell_code(), 1) << result.out << result.err;
    EXPECT_TRUE(std::regex_search(result.err, std::regex(R"(:\d+:\d+: )"))) << result.err;
    EXPECT_EQ(result.err.rfind(path.string() + ":", 0), 0u) << result.err;
}

TEST_F(CliTest, MissingConfigFileExitsOne) {
    const auto result = run({"--config", dir_.file("does-not-exist.yaml").string()});
    EXPECT_EQ(result.status.shell_code(), 1) << result.out << result.err;
    EXPECT_NE(result.err.find("does-not-exist.yaml"), std::string::npos) << result.err;
}

TEST_F(CliTest, BadConfigAtStartExitsOneBeforeListening) {
    const auto port = free_port();
    const auto path = dir_.file("bad-start.yaml");
    write_file(path, "listen: \"127.0.0.1:" + std::to_string(port) + "\"\nadmin: {listen: \"\"}\nlisten_typo: 1\n");
    const auto result = run({"--config", path.string()});
    EXPECT_EQ(result.status.shell_code(), 1) << result.err;
    EXPECT_NE(result.err.find(path.string() + ":3:1: "), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("listening"), std::string::npos) << result.err;
    EXPECT_FALSE(port_accepts(port));
}

TEST_F(CliTest, ListenPortInUseExitsOne) {
    port_blocker blocker;
    const auto path = dir_.file("busy.yaml");
    write_file(path, gateway_yaml(blocker.port(), {.backends = {"http://127.0.0.1:18081"}}));
    const auto result = run({"--config", path.string()});
    EXPECT_EQ(result.status.shell_code(), 1) << result.err;
    EXPECT_FALSE(result.err.empty());
}

TEST_F(CliTest, SecondGatewayOnTheSamePortExitsOne) {
    gateway_process first(dir_, {.backends = {"http://127.0.0.1:18081"}});
    const auto path = dir_.file("second.yaml");
    write_file(path, gateway_yaml(first.port(), {.backends = {"http://127.0.0.1:18081"}}));
    const auto result = run({"--config", path.string()});
    EXPECT_EQ(result.status.shell_code(), 1)
        << "a second gatewayd bound the port the first one listens on:\n" << result.err;
}

TEST_F(CliTest, SigtermExitsZero) {
    gateway_process gateway(dir_, {.backends = {"http://127.0.0.1:18081"}});
    gateway.proc().send_signal(SIGTERM);
    const auto status = gateway.proc().wait_exit(5s);
    ASSERT_TRUE(status.has_value()) << "still running 5 s after SIGTERM";
    EXPECT_EQ(status->shell_code(), 0) << gateway.log();
}

TEST_F(CliTest, SigintExitsZero) {
    gateway_process gateway(dir_, {.backends = {"http://127.0.0.1:18081"}});
    gateway.proc().send_signal(SIGINT);
    const auto status = gateway.proc().wait_exit(5s);
    ASSERT_TRUE(status.has_value()) << "still running 5 s after SIGINT";
    EXPECT_EQ(status->shell_code(), 0) << gateway.log();
}

TEST_F(CliTest, SigtermLetsTheRequestInFlightFinish) {
    mock_backend backend(dir_);
    gateway_process gateway(dir_, {.backends = {backend.url()}});

    auto connection = gateway.connect(5s);
    connection->send_request("GET", "/delay/700");
    ASSERT_TRUE(wait_until([&] { return backend.request_count("/delay/700") == 1; }, 2s));
    gateway.proc().send_signal(SIGTERM);
    EXPECT_TRUE(wait_until([&] { return !port_accepts(gateway.port()); }, 2s)) << "listener still open";
    const auto response = connection->read_response();
    EXPECT_EQ(response.status, 200) << describe(response);
    const auto status = gateway.proc().wait_exit(5s);
    ASSERT_TRUE(status.has_value()) << "still running 5 s after SIGTERM";
    EXPECT_EQ(status->shell_code(), 0) << gateway.log();
}

}  // namespace
}  // namespace it
