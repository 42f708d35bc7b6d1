#pragma once

#include "gatewayd/io/recycling_allocator.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>

namespace gw {

// Header fields of proxied messages: made and dropped on every request, so recycled per thread.
using header_fields = boost::beast::http::basic_fields<recycling_allocator<char>>;

// Beast parses heads only; bodies are framed by body_decoder, which fails on a malformed chunk
// at once where Beast would wait for more bytes.
using request_message = boost::beast::http::request<boost::beast::http::empty_body, header_fields>;
using response_message = boost::beast::http::response<boost::beast::http::empty_body, header_fields>;
// Just the start line and fields, as head_writer writes them.
using request_head = boost::beast::http::request_header<header_fields>;
using response_head = boost::beast::http::response_header<header_fields>;
using request_parser = boost::beast::http::request_parser<boost::beast::http::empty_body, recycling_allocator<char>>;
using response_parser = boost::beast::http::response_parser<boost::beast::http::empty_body, recycling_allocator<char>>;

}  // namespace gw
