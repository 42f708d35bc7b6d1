#include "harness/test_pki.hpp"

#include <stdexcept>

namespace it {

namespace {

std::string key_options(bool rsa) {
    return rsa ? "-newkey rsa:2048" : "-newkey ec -pkeyopt ec_paramgen_curve:P-256";
}

void openssl(const temp_dir& dir, const std::vector<std::string>& args) {
    static const std::string program = find_in_path("openssl");
    if (program.empty()) throw std::runtime_error("the openssl command is not installed");
    std::vector<std::string> argv{program};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto result = run_to_exit(dir, argv, 30s);
    if (result.status.shell_code() != 0) throw std::runtime_error("openssl failed: " + result.err);
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) words.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return words;
}

std::string joined(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) text += (text.empty() ? "" : ",") + name;
    return text;
}

}  // namespace

test_pki::test_pki(const temp_dir& dir, std::string ca_name) : dir_(dir), prefix_(ca_name + "-") {
    ca_ = {dir.file(ca_name + ".crt").string(), dir.file(ca_name + ".key").string()};
    auto args = split("req -x509 " + key_options(false) + " -nodes -days 30");
    args.insert(args.end(), {"-subj", "/CN=" + ca_name, "-keyout", ca_.key, "-out", ca_.cert});
    openssl(dir_, args);
}

key_pair test_pki::issue(const std::string& name, const std::string& extensions, bool rsa) const {
    const key_pair made{dir_.file(prefix_ + name + ".crt").string(), dir_.file(prefix_ + name + ".key").string()};
    const std::string request = dir_.file(prefix_ + name + ".csr").string();
    const std::string ext_file = dir_.file(prefix_ + name + ".ext").string();
    write_file(ext_file, extensions + "\n");
    auto args = split("req " + key_options(rsa) + " -nodes");
    args.insert(args.end(), {"-subj", "/CN=" + name, "-keyout", made.key, "-out", request});
    openssl(dir_, args);
    openssl(dir_, {"x509", "-req", "-in", request, "-CA", ca_.cert, "-CAkey", ca_.key, "-CAcreateserial", "-days",
                   "30", "-extfile", ext_file, "-out", made.cert});
    return made;
}

key_pair test_pki::server(const std::string& name, const std::vector<std::string>& alt_names, bool rsa) const {
    return issue(name, "subjectAltName=" + joined(alt_names) + "\nextendedKeyUsage=serverAuth", rsa);
}

key_pair test_pki::client(const std::string& name) const {
    return issue(name, "extendedKeyUsage=clientAuth", false);
}

key_pair test_pki::self_signed(const std::string& name, const std::vector<std::string>& alt_names) const {
    const key_pair made{dir_.file("self-" + name + ".crt").string(), dir_.file("self-" + name + ".key").string()};
    auto args = split("req -x509 " + key_options(false) + " -nodes -days 30");
    args.insert(args.end(), {"-subj", "/CN=" + name, "-addext", "subjectAltName=" + joined(alt_names), "-keyout",
                             made.key, "-out", made.cert});
    openssl(dir_, args);
    return made;
}

}  // namespace it
