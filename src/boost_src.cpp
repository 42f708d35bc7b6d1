// Asio (with its TLS error categories) and Beast are compiled once here (separate compilation)
// rather than in every file.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
