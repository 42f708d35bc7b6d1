#include "gatewayd/config/config_loader.hpp"

#include "config_reader.hpp"

#include <yaml-cpp/eventhandler.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gw {

std::string config_error::to_string() const {
    // A problem with the file as a whole (cannot be read) has no position.
    if (line <= 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}
namespace {

using config_detail::config_reader;

// Notes where documents start without building them. yaml-cpp 0.7's LoadAll never returns on
// some inputs (a lone ",": found by the config fuzzer), so at most two documents are looked at.
class document_starts : public YAML::EventHandler {
public:
    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}

    std::vector<YAML::Mark> marks;
};

}  // namespace

config_result load_config_text(std::string_view yaml, const std::string& file_name) {
    config_reader reader{file_name};
    config value;
    try {
        const std::string text{yaml};
        std::istringstream stream{text};
        YAML::Parser parser{stream};
        document_starts starts;
        for (int i = 0; i < 2 && parser.HandleNextDocument(starts); ++i) {
        }
        if (starts.marks.size() > 1 && starts.marks[1].pos == starts.marks[0].pos) {
            // A "document" that consumed nothing: text yaml-cpp cannot read as YAML at all.
            reader.fail(starts.marks[0], "invalid YAML: no document can be read here");
        } else if (starts.marks.size() > 1) {
            reader.fail(starts.marks[1], "only one YAML document is allowed");
        } else {
            // An empty file is no document: the defaults, as before.
            if (!starts.marks.empty()) reader.read_document(YAML::Load(text), value);
        }
    } catch (const YAML::Exception& e) {
        reader.fail(e.mark, "invalid YAML: " + e.msg);
    }
    config_result result;
    result.errors = reader.take_errors();
    if (result.errors.empty()) result.value = std::move(value);
    return result;
}

std::vector<std::string> config_key_paths() {
    return config_reader("").list_keys();
}

config_result load_config_file(const std::string& path) {
    std::ifstream in{path, std::ios::binary};
    if (!in) {
        int error = errno;
        return {.value = std::nullopt,
                .errors = {{path, 0, 0, std::string{"cannot read: "} + std::strerror(error)}}};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_config_text(text.str(), path);
}

}  // namespace gw
